//! The command line: every subcommand and flag, defined once. `--help`, the man pages in
//! `man/` and the shell completions in `completions/` are all generated from these types
//! (a test fails when the checked-in copies are stale).
// The doc comments here are the help users read, written for a terminal: `[:PORT]` and a
// bare URL are what a user types, not rustdoc links.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::jsonl::Format;
use crate::store::index::Sort;

/// The records section shared by the pages of commands that print messages.
const MESSAGE_RECORDS: &str = "\
OUTPUT
  One `message` record per line (JSON Lines), schema version 1: \
  {\"kind\":\"message\", \"v\":1, \"id\", \"protocol\", \"account\", \"source\", \"blob\", \"native_id\", \
  \"in_reply_to\", \"references\", \"list_id\", \"date\", \"from\", \"sender\", \"to\", \"cc\", \"bcc\", \
  \"reply_to\", \"subject\", \"text\", \"attachments\", \"flags\", \"tags\", \"security\", \"privacy\", \
  \"problems\", \"conversation\", \"thread\"} (`privacy` once `missive score` has added it, \
  `conversation` and `thread` once `missive thread` has). \
  `missive schema message` prints the full JSON Schema. Errors go to stderr, as `error` \
  records with --errors jsonl.

EXIT STATUS
  0 success (an empty result too), 1 some messages or lines failed (each reported), \
  2 usage or configuration error (a refused login or certificate too), 75 temporary failure \
  (the store is locked, a server cannot be reached): try again later.";

/// missive gathers your correspondence into conversations by people, and shows how
/// private each exchange is.
#[derive(Debug, Parser)]
#[command(
    name = "missive",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(after_long_help = "\
PIPELINES
  Every data command reads and writes JSON Lines, so they compose:
    missive fetch maildir:~/Mail | jq 'select(.security.encryption != \"none\")'

FILES
  $XDG_CONFIG_HOME/missive/config.toml   the configuration (missive config show)
  $XDG_DATA_HOME/missive/                the store: state.sqlite and archive/

EXIT STATUS
  The same situation gives the same status from every command:
    0   done, an empty result too; also when the reader of the output went away (| head)
    1   some messages, lines or records failed, each reported, the rest went through;
        or a failure that running again would meet again
    2   usage or configuration: a bad flag, query or source, a file that does not exist,
        a config that cannot be used, a refused login or TLS certificate (fetch and sync
        alike)
    75  the store is locked by another missive past the wait (5 s), or another sync
        runs (sync without --wait)
    75  the search index is being written by another missive
    75  a server could not be reached or failed
    75  no space left on device (ENOSPC) or quota (EDQUOT): named as such, nothing is
        lost, the next run goes on where this one stopped
    75  missive thread printed every record with its ids, but the store could not keep
        them (locked, full): thread the same input again
  75 is EX_TEMPFAIL: cron jobs and mail servers (fetch eml:-) try again later.")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The store directory [default: $XDG_DATA_HOME/missive].
    #[arg(long, global = true, env = "MISSIVE_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// The config file [default: $XDG_CONFIG_HOME/missive/config.toml].
    #[arg(long, global = true, env = "MISSIVE_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format [default: jsonl, or text when stdout is a terminal].
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// How errors are printed on stderr.
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Text)]
    pub errors: ErrorFormat,
    /// Never show a progress bar (it is only ever shown when stderr is a terminal).
    #[arg(long, global = true)]
    pub no_progress: bool,
}

/// How errors are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ErrorFormat {
    /// `missive: WHERE: WHAT`, one line each.
    Text,
    /// `error` records, one JSON object per line.
    Jsonl,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Fetch(FetchArgs),
    Score(ScoreArgs),
    Index(IndexArgs),
    Search(SearchArgs),
    Tag(TagArgs),
    Sync(SyncArgs),
    #[command(subcommand)]
    Keys(KeysCommand),
    Thread(ThreadArgs),
    #[command(subcommand)]
    Contacts(ContactsCommand),
    #[command(subcommand)]
    Config(ConfigCommand),
    Schema(SchemaArgs),
    // Boxed: its flags make it several times the size of the other commands.
    Send(Box<SendArgs>),
}

/// Pull new messages from sources and print a record for each.
///
/// A source is KIND:PATH (maildir:PATH, mbox:PATH, eml:PATH or eml:-, jsonl:PATH or
/// jsonl:-), imap://USER@HOST[:PORT]/MAILBOX (logging in as the configured account for that
/// user and server says), mastodon://INSTANCE (the direct messages of the configured
/// account on that instance), or the name of an account in the config; with none, every
/// configured account. Only messages not printed before are printed (fetch keeps this apart
/// from sync's, so neither hides mail from the other, and two fetches of one source take
/// turns); a Maildir file a mail reader renamed (read, flags changed) is printed again as
/// the same record with its new path and flags. A message that cannot be parsed is printed
/// all the same, with its problems, and reported on stderr.
///
/// IMAP mailboxes are read from after the last UID fetched, with BODY.PEEK[] (no message
/// becomes \Seen); their raw bytes go to the store's archive, durable before a record is
/// printed. A dropped connection is retried a few times, resuming where it stopped.
///
/// Platforms are sources too. Mastodon direct messages are read through the REST API over
/// HTTPS with the token of token_command, after the last conversation fetched; a 429 waits
/// as the server asks; a status deleted on the server is reported. Exports:
/// twitter-archive:ZIP|DIR (a Twitter/X archive's direct messages), facebook-export:ZIP|DIR
/// (Messenger, JSON format), signal:PATH|- (the output of `signal-cli -o json receive`) and
/// matrix-export:FILE|DIR|ZIP (Element's JSON export of rooms). Each message's JSON goes to
/// the archive; one that was printed before is not printed again. A file of an export that
/// is not in the platform's format is reported by name (and zip entry) and the others are
/// read.
#[derive(Debug, Args)]
#[command(after_long_help = MESSAGE_RECORDS)]
pub struct FetchArgs {
    /// Sources or account names.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Print every message again, not only new ones.
    #[arg(long)]
    pub all: bool,
}

/// Add the privacy index to message records, or to one raw mail for a mail filter.
///
/// Reads message records on stdin and writes each with `privacy` added: the score (0–100),
/// its grade and label, the three axes (technic, context, comportment), every factor that
/// applied with its evidence, and suggestions. Records of other kinds pass through unchanged.
/// With --mail, reads one raw RFC 5322 message instead and writes it back byte for byte
/// with `X-Missive-Privacy: score=63; grade=B; technic=80; context=55; comportment=55` in
/// front (after an mbox From_ line), as a filter for procmail (`:0 fw`), maildrop
/// (`xfilter`) or Sieve (`filter`): the same score as `missive fetch eml:- | missive score`
/// with the same store and flags, the store read only and never waited for. The mail always
/// comes back: one that cannot be read gets `grade=unknown`; a config that cannot be used
/// (the error on stderr) scores from the message alone and adds `config=unusable`; a store
/// that is busy or cannot be read is skipped and adds `store=locked` or `store=unusable`
/// (`store=none` when --verify finds no store). X-Missive-Privacy fields the mail came with
/// are the sender's word and are removed, unless --keep-foreign.
#[derive(Debug, Args)]
#[command(after_long_help = score_help())]
pub struct ScoreArgs {
    /// Print the table of factors instead: one `factor` record per line, or aligned columns
    /// with --format text.
    #[arg(long, conflicts_with_all = ["mail", "strip", "keep_foreign"])]
    pub factors: bool,
    /// Read one raw mail and write it back with an X-Missive-Privacy header in front.
    #[arg(long)]
    pub mail: bool,
    /// With --mail, keep the X-Missive-Privacy headers the mail already has; by default they
    /// are removed, since only the sender can have written them.
    #[arg(long, requires = "mail")]
    pub keep_foreign: bool,
    /// With --mail, remove the X-Missive-Privacy headers the mail already has: what it does
    /// by default now, accepted so that filters written for it keep working.
    #[arg(long, requires = "mail", conflicts_with = "keep_foreign", hide = true)]
    pub strip: bool,
    /// Score this device instead of messages: store and config permissions, where account
    /// secrets come from, your own key and its passphrase; with suggestions ranked by gain.
    #[arg(long, conflicts_with_all = ["mail", "factors", "verify"])]
    pub device: bool,
    /// Score each contact instead: their key and its trust state (none, tofu, verified,
    /// conflict), its strength, the channels you know them on, and the share of your indexed
    /// exchanges with them that were encrypted; with suggestions.
    #[arg(long, conflicts_with_all = ["mail", "factors", "verify", "device"])]
    pub contacts: bool,
    /// Your own index: the last 90 days of indexed messages, how many correspondents have a
    /// key, and this device; one point of history a day, the trend, and what to do next.
    #[arg(long, conflicts_with_all = ["mail", "factors", "verify", "device"])]
    pub user: bool,
    /// Check OpenPGP signatures (PGP/MIME and inline) against the keys in the store before
    /// scoring: `security.signature` becomes valid, invalid or unknown-key.
    #[arg(long, conflicts_with = "factors")]
    pub verify: bool,
    /// Decrypt PGP/MIME and inline PGP messages with your own key (`keys generate`) before
    /// scoring: the signature inside is checked as --verify does and `security.decrypted`
    /// is set; the text, attachments and Subject inside replace the record's only when the
    /// config says `[index] decrypted = true`. The passphrase comes from `[keys]
    /// passphrase_command`, else a prompt on the terminal. A message that cannot be
    /// decrypted (not to your key, wrong passphrase) is reported and kept as it was.
    #[arg(long, conflicts_with_all = ["factors", "mail", "device", "contacts", "user"])]
    pub decrypt: bool,
    /// Score each record from its own fields alone: do not ask the store who the people in
    /// it are (known contacts, usable keys, Autocrypt preference, other channels) or whether
    /// the message it answers was encrypted. Then the same record always scores the same.
    #[arg(long, conflicts_with_all = ["verify", "decrypt", "device", "contacts", "user"])]
    pub record_only: bool,
}

/// The long help of `score`: the factor table, printed from the one table in
/// `privacy/factors.rs`, then output and exit status.
fn score_help() -> String {
    format!(
        "{}\n\
OUTPUT
  Each `message` record with `privacy` added: {{\"score\", \"grade\", \"label\", \"technic\", \
  \"context\", \"comportment\", \"factors\":[{{\"axis\", \"name\", \"points\", \"evidence\"}}], \
  \"suggestions\":[{{\"action\", \"gain\", \"why\"}}]}}. With --mail, the mail itself.

EXAMPLES
  missive fetch maildir:~/Mail | missive score | jq -c '{{subject, grade: .privacy.grade}}'
  procmailrc:   :0 fw
                | missive score --mail
  maildroprc:   xfilter \"missive score --mail\"
  sieve:        require \"vnd.dovecot.filter\"; filter \"missive-score\";  (a script \
  in sieve_filter_bin_dir running `missive score --mail`)

EXIT STATUS
  0 success, 1 some lines were not records (each reported, the others still scored), \
  2 usage or configuration error. With --mail, 0 whenever the mail was written back, even \
  one that could not be read or scored with a config that could not be used; 75 when it \
  was not: no mail on stdin (empty or closed), stdin unreadable, or stdout not writable \
  (a broken pipe, a full disk), so the mail server keeps the mail and retries.",
        crate::privacy::factors::help_text()
    )
}

/// Upsert message records into the search index.
///
/// Reads records on stdin and puts each message record into the store's search index,
/// replacing the one with the same id; records of other kinds are skipped. The index is
/// committed every 10,000 records and at the end, so an interrupted run loses nothing that
/// was committed and running it again on the same input repairs the rest.
#[derive(Debug, Args)]
#[command(after_long_help = "\
OUTPUT
  Nothing on stdout; a summary line on stderr with --verbose.

EXIT STATUS
  0 success, 1 some lines were not records (each reported), 75 the index is being written \
  by another missive: try again later.")]
pub struct IndexArgs {
    /// Rebuild the index from what it holds, reading every message again from its source
    /// file (where it is now) or the archive, instead of reading stdin. Only files in the
    /// archive or a source of the store are read (another is refused, exit 1); a message
    /// whose file is gone keeps its indexed words.
    #[arg(long)]
    pub rebuild: bool,
    /// Print how many records were indexed on stderr.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Search the index.
///
/// QUERY is in the query language below (as with notmuch and mu): words and "phrases",
/// field:value terms, AND (also implied), OR, NOT or -, and parentheses. `*` alone, as
/// notmuch users type it, is every message, as the empty query '' is.
#[derive(Debug, Args)]
#[command(after_long_help = search_help())]
pub struct SearchArgs {
    /// The query; its words are joined with spaces. A query that starts with `-` goes after
    /// `--`: `missive search -- -tag:spam`.
    #[arg(value_name = "QUERY", required = true)]
    pub query: Vec<String>,
    /// What to print.
    #[arg(long, short, value_enum, default_value_t = crate::search::Output::Messages)]
    pub output: crate::search::Output,
    /// Order of the messages.
    #[arg(long, value_enum, default_value_t = Sort::NewestFirst)]
    pub sort: Sort,
    /// Print at most this many.
    #[arg(long, short)]
    pub limit: Option<usize>,
    /// Skip this many first.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Print how the query was understood instead of running it.
    #[arg(long)]
    pub analyze: bool,
}

/// The words of `--sort`: the store names the orders, the command line spells them, so that
/// the store does not depend on clap.
impl clap::ValueEnum for Sort {
    fn value_variants<'a>() -> &'a [Self] {
        &[Sort::Date, Sort::NewestFirst, Sort::Relevance]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let (name, help) = match self {
            Sort::Date => ("date", "Oldest first"),
            Sort::NewestFirst => ("-date", "Newest first"),
            Sort::Relevance => ("relevance", "Best match first"),
        };
        Some(clap::builder::PossibleValue::new(name).help(help))
    }
}

/// Add or remove tags on the messages a query finds.
///
/// `missive tag +work -inbox -- from:alice date:30d..`: each +TAG is added, each -TAG
/// removed, on every message the query after `--` matches. Tags are searchable (`tag:work`).
#[derive(Debug, Args)]
#[command(after_long_help = "\
OUTPUT
  The number of messages changed, on stdout.

EXIT STATUS
  0 success, 2 a bad query or tag.")]
pub struct TagArgs {
    /// +TAG to add, -TAG to remove, then `--`.
    #[arg(
        value_name = "+TAG|-TAG",
        required = true,
        allow_hyphen_values = true,
        value_terminator = "--"
    )]
    pub changes: Vec<String>,
    /// The query.
    #[arg(value_name = "QUERY", required = true, allow_hyphen_values = true)]
    pub query: Vec<String>,
}

/// The long help of `search`: the grammar, printed from the doc of `search/query.rs`.
fn search_help() -> String {
    let source = include_str!("search/query.rs");
    let grammar: Vec<&str> = source
        .lines()
        .skip_while(|l| !l.contains("```text"))
        .skip(1)
        .take_while(|l| !l.contains("```"))
        .map(|l| l.trim_start_matches("//!").strip_prefix(' ').unwrap_or(""))
        .collect();
    format!(
        "QUERY LANGUAGE\n  {}\n\n\
OUTPUT
  --output messages: `message` records (without `text`, which the index does not keep a \
  second time; `missive fetch --all` prints it); ids: one id per line; count: one number; \
  threads, conversations: one `thread` or `conversation` record per group.

EXAMPLES
  missive search from:alice date:2024-01..2024-06
  missive search '*' --output count
  missive search 'privacy:<40 NOT is:encrypted' --output count
  missive search '\"seed swap\" OR subject:graines' --analyze

EXIT STATUS
  0 success (no match too), 2 a bad query (the error gives its column).",
        grammar.join("\n  ")
    )
}

/// Fetch, score, thread and index every configured account in one process: the cron job.
///
/// Does what `missive fetch ACCOUNT… | missive score | missive thread | missive index` does,
/// under a lock so that one sync runs at a time per store, and prints one summary line at
/// the end.
#[derive(Debug, Args)]
#[command(after_long_help = "\
OUTPUT
  One line on stdout: `missive sync: N new messages (ACCOUNT N, …) in S s`, with what was
  renamed or gone and how many Maildir folders were unchanged (not read); none with --quiet.

EXAMPLES
  crontab:  */10 * * * *  missive sync --quiet

EXIT STATUS
  0 success, 1 some messages failed (each reported on stderr), 2 usage or configuration \
  error, 75 another sync holds the store or a server is unreachable: cron runs it again.")]
pub struct SyncArgs {
    /// Accounts to sync; every configured account when none.
    #[arg(value_name = "ACCOUNT")]
    pub accounts: Vec<String>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Wait for a sync already running instead of exiting with status 75.
    #[arg(long)]
    pub wait: bool,
}

/// Manage OpenPGP keys: generate, import, export, list, show, verify, forget, learn,
/// recommend, discover.
///
/// Every address in a certificate's self-signed user ids is bound to it by trust on first
/// use: the first certificate seen for an address is `tofu`; a different one later is a
/// `conflict`, shown and never used until you decide with `keys verify` or `keys forget`.
/// A key that comes after a revoked, expired or invalid one is `replaced`, naming the key
/// it replaced; a key only gossiped by another sender is `gossip`, never a first use.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Import certificates (armoured or binary, several per file, as sq and gpg export them).
    #[command(
        after_long_help = "OUTPUT\n  One `key` record per certificate imported (missive schema key)."
    )]
    Import {
        /// Files to read; standard input when none.
        files: Vec<PathBuf>,
    },
    /// Export certificates, armoured, as sq and gpg import them.
    #[command(after_long_help = "OUTPUT\n  ASCII-armoured OpenPGP certificates, not records.")]
    Export {
        /// Addresses or fingerprints; every certificate when none.
        keys: Vec<String>,
        /// Export your own keys with their secret parts instead (a backup).
        #[arg(long, conflicts_with = "keys")]
        secret: bool,
    },
    /// Make your own key: Ed25519 for signing, Cv25519 for encryption.
    ///
    /// The passphrase comes from --passphrase-command, else from a prompt on the terminal;
    /// --no-passphrase leaves the secret key unprotected (the device privacy index counts
    /// that against you).
    #[command(after_long_help = "OUTPUT\n  The `key` record of the new key (secret: true).")]
    Generate {
        /// The user id, `Name <address>` [default: from [identity] in the config].
        user_id: Option<String>,
        /// A command whose first line of output is the passphrase.
        #[arg(long, value_name = "COMMAND", conflicts_with = "no_passphrase")]
        passphrase_command: Option<String>,
        /// Keep the secret key without a passphrase.
        #[arg(long)]
        no_passphrase: bool,
        /// Make a key even if you have one for the address: the new key signs from now on,
        /// the old one still decrypts.
        #[arg(long)]
        force: bool,
    },
    /// List every known certificate with its bindings.
    #[command(after_long_help = "OUTPUT\n  One `key` record per certificate.")]
    List,
    /// Show the certificates bound to an address, or one fingerprint.
    #[command(after_long_help = "OUTPUT\n  One `key` record per certificate.")]
    Show {
        /// An address or a fingerprint.
        key: String,
    },
    /// Confirm that a fingerprint is an address's key: the binding becomes `verified` and the
    /// address's other bindings are dropped.
    #[command(after_long_help = "OUTPUT\n  The `key` record of the verified certificate.")]
    Verify {
        address: String,
        fingerprint: String,
    },
    /// Drop the bindings of an address (to one fingerprint, or all).
    #[command(after_long_help = "OUTPUT\n  The number of bindings dropped.")]
    Forget {
        address: String,
        fingerprint: Option<String>,
    },
    /// Learn keys from Autocrypt headers: a filter that passes records through and updates
    /// each sender's Autocrypt state from the raw message (Autocrypt Level 1).
    #[command(
        after_long_help = "OUTPUT\n  The records read, unchanged. Keys announced by senders are imported and bound \
(source autocrypt), keys gossiped inside encrypted mail with --decrypt too (source gossip); \
missive keys recommend shows what they allow."
    )]
    Learn {
        /// Decrypt encrypted mail with your own key and learn the Autocrypt-Gossip headers
        /// inside: the keys of the other recipients, only from mail signed by the sender's
        /// bound key and only for recipients its protected headers name. A gossiped key is
        /// bound as `gossip`, never replaces a key and never takes the first use. The passphrase comes from `[keys] passphrase_command`,
        /// else a prompt on the terminal.
        #[arg(long)]
        decrypt: bool,
    },
    /// What Autocrypt recommends when writing to each address: disable, discourage,
    /// available or encrypt.
    #[command(
        after_long_help = "OUTPUT\n  One `recommendation` record per address: {\"address\", \"recommendation\", \
\"key\", \"prefer_encrypt\", \"warning\"}, the warning set when the key was only gossiped."
    )]
    Recommend {
        addresses: Vec<String>,
        /// The message replies to an encrypted one (Autocrypt then says encrypt).
        #[arg(long)]
        reply_to_encrypted: bool,
    },
    /// Look for the keys of addresses: the Web Key Directory and DNS OPENPGPKEY records
    /// validated with DNSSEC, beside the key each address announced by Autocrypt (from the
    /// store, see `keys learn`). A key found is bound to the address by trust on first use
    /// (source wkd or dane); a key other than the one bound is a conflict, shown and not used
    /// until `keys verify` or `keys forget` decides. --dry-run prints what would be queried,
    /// without any network access.
    ///
    /// WKD asks https://openpgpkey.DOMAIN/ (advanced), and https://DOMAIN/ (direct) only when
    /// openpgpkey.DOMAIN does not exist: a failing server is not a reason to fall back. Only
    /// certificates with a user id of the address are kept. A DNS OPENPGPKEY record is used
    /// only when DNSSEC proves it secure: an unsigned zone (insecure) or a failed validation
    /// (bogus) is reported, not used. The config's `[keys]` section can name the DNS server,
    /// the DNSSEC trust anchor, a CA file and the HTTPS port, for private setups and tests.
    #[command(after_long_help = "\
OUTPUT
  One `key` record per certificate found, with \"found\": {\"address\", \"method\" (wkd, \
dane or autocrypt), \"from\" (URL, DNS name or store), \"outcome\" (the binding's state: tofu, conflict, \
verified…)}. One `lookup` record per method that gave no usable key: {\"address\", \
\"method\", \"from\", \"outcome\": not_found | refused | failed, \"reason\"}. With \
--dry-run, one `lookup` record per address: its WKD URLs (advanced, direct) and the DNS \
owner name of its OPENPGPKEY record.

EXIT STATUS
  0 when every method answered (a key or none), 1 when a lookup was refused or failed, 75 \
when every failure was temporary (timeouts, unreachable servers): try again later, 2 for \
bad usage.")]
    Discover {
        /// Addresses to look up.
        #[arg(required_unless_present = "contacts", conflicts_with = "contacts")]
        addresses: Vec<String>,
        /// Look up every email address of the contacts in the store (but your own).
        #[arg(long)]
        contacts: bool,
        /// Print the queries instead of making them.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Add conversation and thread ids to message records.
///
/// Reads message records on stdin and writes each with `conversation` (`c_…`: everyone in
/// it but you, as contacts, so the same person by email, Mastodon and Twitter is one
/// conversation; mail with a List-Id goes to the list's) and `thread` (`t_…`: the reply
/// thread, by Message-ID, In-Reply-To and References as notmuch and JWZ thread). Records of
/// other kinds pass through.
///
/// A message without reference headers joins a thread by its subject only when all of
/// these hold: its subject has a reply prefix (Re, AW, SV, VS, Antw, Réf, Odp, 回复, 答复 and
/// others; a forward, Fwd, WG, TR or 转发, starts its own thread); the subjects are the same
/// once prefixes and [list] tags are stripped; it is in the same conversation (the same
/// mailing list, or no list and the same people); the other message has no reference
/// headers either; and it is dated no earlier than the other and at most 30 days after
/// it. A message without a date joins nothing by subject. What it learns is kept in the store, so threading today's messages gives the
/// ids threading the whole history would: a message that joins two threads merges them,
/// and the merge is recorded. Your own addresses (config identity.addresses) are never a
/// participant.
#[derive(Debug, Args)]
#[command(after_long_help = "\
OUTPUT
  Every record as it came, message records with \"conversation\" and \"thread\" added. With \
  --output conversations, one `conversation` record per conversation of the input: \
  {\"kind\":\"conversation\", \"v\":1, \"id\", \"list_id\", \"participants\":[contact…], \
  \"protocols\", \"messages\", \"threads\", \"first_date\", \"last_date\", \"recent_subjects\", \
  \"privacy\"} over every message the store holds in it. With --format tree, threads as \
  indented trees for a terminal.

EXAMPLES
  missive fetch | missive score | missive thread > threaded.jsonl
  missive fetch maildir:~/Mail --all | missive thread --format tree | less

EXIT STATUS
  0 success, 1 some lines were not records (each reported), 2 usage or configuration \
  error, 75 the store is locked: try again later.")]
pub struct ThreadArgs {
    /// What to print.
    #[arg(long, value_enum, default_value_t = crate::thread::Output::Messages)]
    pub output: crate::thread::Output,
    /// First recompute every thread and conversation id from what the store holds (after
    /// contacts changed, or a new version of missive).
    #[arg(long)]
    pub rebuild: bool,
}

/// People and their identities across protocols.
///
/// A contact has a name and identities: email addresses, Mastodon handles
/// (@user@instance), Twitter and Facebook ids (twitter:@user, facebook:ID), phone numbers
/// (tel:+…, E.164 where the number says its country), XMPP and Matrix ids (xmpp:…,
/// @user:server). An address nobody linked is a contact of its own. Linking identities
/// merges the conversations they spanned; the ids already printed are re-derived in the
/// store.
#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// List contacts made by link, rename or import.
    #[command(after_long_help = CONTACT_RECORDS)]
    List {
        /// Also every address seen in messages that no contact holds.
        #[arg(long)]
        all: bool,
    },
    /// Show the contact of an identity or id.
    #[command(after_long_help = CONTACT_RECORDS)]
    Show {
        /// An identity (alice@example.org, @alice@social.example, twitter:@alice) or a
        /// contact id (p_…).
        contact: String,
    },
    /// Make identities and contacts one contact, the first one's.
    #[command(after_long_help = CONTACT_RECORDS)]
    Link {
        /// Identities or contact ids; the first names the contact kept.
        #[arg(required = true, num_args = 2..)]
        contacts: Vec<String>,
        /// Name the contact.
        #[arg(long)]
        name: Option<String>,
    },
    /// Take identities out of their contact: each is its own again.
    #[command(after_long_help = CONTACT_RECORDS)]
    Unlink {
        #[arg(required = true)]
        identities: Vec<String>,
    },
    /// Name a contact.
    #[command(after_long_help = CONTACT_RECORDS)]
    Rename { contact: String, name: String },
    /// Import vCard 2.1, 3.0 or 4.0 files (Nextcloud, Thunderbird, Android exports): each
    /// card becomes a contact, or joins the one an identity of it already has; a bad card is
    /// reported with its file and line.
    #[command(after_long_help = CONTACT_RECORDS)]
    Import {
        /// vCard files; - for standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Propose merges that are not sure (the same name on two protocols, the same local part
    /// at related domains), with the evidence; applies none.
    #[command(after_long_help = "\
OUTPUT
  One `suggestion` record per line: {\"kind\":\"suggestion\", \"v\":1, \"reason\", \"contacts\", \
  \"evidence\", \"command\"}; `command` applies it.")]
    Suggest,
}

/// The records section of the contacts pages.
const CONTACT_RECORDS: &str = "\
OUTPUT
  One `contact` record per line: {\"kind\":\"contact\", \"v\":1, \"id\", \"name\", \"known\", \
  \"identities\"}. After link, unlink and import, how many stored messages changed \
  conversation is said on stderr.

EXIT STATUS
  0 success, 1 failure, 2 usage error (not an identity, an unknown contact, your own \
  address), 75 the store is locked: try again later.";

/// The `[trust]` and `[limits]` sections, for the config pages: which headers are believed
/// and why, and what one input may cost.
const CONFIG_HELP: &str = "\
TRUST
  A message's headers are believed only where the user's own servers wrote them. Going \
  down from the top, the Received lines whose `by` is one of your servers are theirs, down \
  to the first that received from a host outside them: the trust boundary. Everything \
  below it was in the message when it arrived, so the sender wrote it.

  [trust] servers = [\"mx.example.org\", …] names your servers, as they name themselves in \
  `by`. Without it, your servers are each message's topmost Received `by` host (the server \
  that delivered into your mailbox, which no sender can write), the hosts of its \
  registrable domain (by the Public Suffix List: *.example.co.uk, never *.co.uk), and the \
  hosts of authserv_ids with theirs. Whether the sending host was outside is read from \
  what your server saw (a loopback address, LMTP, the name it checked for the address), \
  never from the HELO name the sender chose.

  TLS counts only on hops at or above the boundary, read from the `with` protocol \
  (ESMTPS, ESMTPSA, UTF8SMTPS, LMTPS…) and the server's TLS comment (Postfix `(using \
  TLSv1.3 …)`, sendmail `(version=TLSv1.3 …)`, Exim `(TLS1.3)`), never from the HELO \
  name, the reverse DNS or the envelope. A hop below may admit clear text and lower the \
  score; one below that claims TLS counts for nothing (tls_claim_unproven).

  [trust] authserv_ids = [\"mx.example.org\"] names the Authentication-Results headers \
  to believe: one counts only when its authserv-id is listed and it stands above the \
  boundary's Received line, as RFC 8601 §5 has the border server add it; one below was \
  written by the sender (authentication_untrusted). `config check` prints the servers \
  taken as yours; each scored message names them in its trust_boundary factor.

LIMITS
  [limits] unpacked_mib = 256: the most one zip entry of an export, or one decrypted \
  message, may unpack to, in MiB; a larger one is reported by name and skipped, and the \
  rest is read.

  [limits] imap_line_mib = 4: the longest line an IMAP server may send, in MiB, message \
  bodies not counted; a longer one ends the fetch of that account with an error naming it \
  (exit 1), as the time a line costs grows with its square. Nothing missive asks has a \
  long answer, even from a mailbox of a million messages.";

/// Check or show the configuration.
///
/// An account says how it fetches (`source`) and how it sends: `submission =
/// "smtp://USER@HOST[:PORT]"`, STARTTLS on port 587 and implicit TLS on 465 or with
/// `submission_tls = "implicit"` (not `tls`, which is the IMAP server's setting), with the
/// account's `ca_file` and `password_command` or `token_command`; or `sendmail =
/// "COMMAND"`. Mail is never submitted in plain text.
///
/// A `signal:` account may name the user's own number (`number = "+33600000000"`): the
/// recipient of a captured line that names neither its account nor its destination.
#[derive(Debug, Subcommand)]
#[command(after_long_help = CONFIG_HELP)]
pub enum ConfigCommand {
    /// Check the config file; errors name the file, line and key, or the account whose
    /// source path does not exist.
    #[command(
        after_long_help = "OUTPUT\n  One line for the file, then one `trust:` line: the servers taken as yours \
        (trust.servers, or the rule that finds them in each message, with the authserv_ids hosts); \
        with --connect, one line per account and server: for IMAP its TLS version, the capabilities \
        the server announces after login, and the mailboxes it would fetch; for Mastodon the login; \
        for a `submission` server, `implicit TLS` (port 465, or submission_tls = \"implicit\"; `tls` \
        is the IMAP setting) or `STARTTLS`, and the extensions it offers once logged in \
        (8BITMIME, SMTPUTF8, AUTH). Nothing is sent.\n\n\
        EXIT STATUS\n  0 the config is valid (and every account logged in), 2 it is not (or is missing, \
        or an account's source path does not exist, or a login, certificate or setting was refused), 75 a server could not be reached: try again later."
    )]
    Check(CheckArgs),
    /// Print the effective configuration, secrets masked.
    #[command(
        after_long_help = "OUTPUT\n  TOML with --format text (the default on a terminal), else one JSON object."
    )]
    Show,
}

/// Flags of `config check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Also log in to each IMAP account and report what the server offers; nothing is
    /// fetched.
    #[arg(long)]
    pub connect: bool,
}

/// Write to people by the most private channel that reaches them all.
///
/// Reads `draft` records on stdin (JSON Lines: to, cc and bcc as contact names, addresses or
/// @user@instance handles; subject; text; attachments as paths; in_reply_to a record id or a
/// Message-ID; via; an id of your own), or, with --to or --reply, one message whose text is
/// stdin. Prints one `delivery` record per recipient and channel.
///
/// Every channel that reaches all the recipients is ranked by the privacy index the
/// delivered message would get, with the factor table of `missive score`: PGP/MIME email
/// (every recipient, Bcc included, has a usable key trusted on first use or verified, and you
/// have a key of your own), TLS email, a Mastodon direct message (every recipient has a
/// Mastodon identity and an account has a token). The best wins; a tie goes to end-to-end
/// encryption. A key Autocrypt discourages (only gossiped, or stale) is used with a warning;
/// a TOFU conflict blocks PGP to that recipient until `missive keys verify` or `keys
/// forget`. Some recipients with a key and some without: refused (exit 1) unless --split
/// (encrypted to those with a key, TLS to the others) or --via. A reply to an encrypted
/// message is never sent in clear unless --via says so. Nothing goes below --min-privacy
/// or [policy] min_privacy in the config.
///
/// Each draft is journaled in the store before the first byte goes out; a delivery is
/// `sent` only once the server accepted it, `queued` after a temporary failure (exit 75;
/// --flush tries again) and `failed` after a refusal, with the server's enhanced status
/// code. Sending the same draft again never sends twice what was accepted. The copy sent
/// goes into the archive and the index, in its conversation.
#[derive(Debug, Args)]
#[command(after_long_help = "\
OUTPUT
  One `delivery` record per recipient and channel: {\"kind\":\"delivery\", \"v\":1, \"draft\", \
  \"recipient\", \"name\", \"field\", \"channel\", \"status\", \"score\", \"grade\", \"factors\", \
  \"key\", \"warnings\", \"rejected\", \"reason\", \"message_id\", \"code\"}. `status` is \
  planned (--dry-run), sent, queued, failed or refused; `score` and `grade` are the privacy \
  index the delivered message would get, `factors` what it adds up (as `score` prints \
  them); `key` names the fingerprint, where the key \
  came from (autocrypt, gossip, wkd, dane, import, manual), its TOFU state and Autocrypt's \
  recommendation; `rejected` says why each other channel lost. `missive schema draft` and \
  `missive schema delivery` print the JSON Schemas.

EXIT STATUS
  0 sent (or planned), 1 refused by the rules (the reason on stderr and in the records) or \
  refused by the server, 2 usage or configuration (an unknown recipient or channel; a \
  submission server refused for a setting: plain text, its certificate, the login; the \
  draft stays in the outbox), 75 temporary \
  failure: queued, try again later (missive send --flush).")]
pub struct SendArgs {
    /// A recipient: a contact's name or id, an address, @user@instance.
    #[arg(long, value_name = "WHO")]
    pub to: Vec<String>,
    #[arg(long, value_name = "WHO")]
    pub cc: Vec<String>,
    /// A recipient named in no header.
    #[arg(long, value_name = "WHO")]
    pub bcc: Vec<String>,
    #[arg(long)]
    pub subject: Option<String>,
    /// Send from this one of your addresses in [identity] (default: the first email one).
    #[arg(long, value_name = "ADDR")]
    pub from: Option<String>,
    /// Answer the message with this record id: to its sender, `Re:` its subject, in its
    /// thread and conversation.
    #[arg(long, value_name = "ID")]
    pub reply: Option<String>,
    /// A file to attach.
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// Use this channel whatever the ranking says: pgp-mime, tls or mastodon-dm.
    #[arg(long, value_name = "CHANNEL")]
    pub via: Option<String>,
    /// Refuse to send below this privacy score (0–100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub min_privacy: Option<u8>,
    /// To recipients of whom some have a key: encrypted to those, TLS to the others.
    #[arg(long)]
    pub split: bool,
    /// Print the plan as `delivery` records with status planned; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send what the outbox still holds (queued or interrupted), for cron.
    #[arg(long, conflicts_with_all = ["to", "cc", "bcc", "reply", "subject", "from", "sendmail"])]
    pub flush: bool,
    /// Read one RFC 5322 message on stdin, as sendmail does, for mail user agents and
    /// scripts (mutt's `sendmail`, `git send-email --sendmail-cmd`): its Subject, text,
    /// In-Reply-To and Message-ID are routed as a draft. Exit 0 sent, 75 queued, 1 refused
    /// or failed.
    #[arg(long, conflicts_with_all = ["to", "cc", "bcc", "reply", "subject", "from", "attach"])]
    pub sendmail: bool,
    /// With --sendmail: the recipients are also those of the To, Cc and Bcc headers (Bcc is
    /// written into no header of what is sent).
    #[arg(short = 't', requires = "sendmail")]
    pub recipients_from_headers: bool,
    /// With --sendmail: the sender, one of your addresses in [identity] (default: the
    /// message's From when it is one of them).
    #[arg(short = 'f', value_name = "ADDR", requires = "sendmail")]
    pub envelope_from: Option<String>,
    /// With --sendmail: accepted, as the message always ends at the end of stdin (a line
    /// with a lone dot does not end it).
    #[arg(short = 'i', requires = "sendmail")]
    pub ignore_dots: bool,
    /// With --sendmail: sendmail's -oX options (-oi, -oem), accepted and ignored.
    #[arg(short = 'o', value_name = "OPTION", requires = "sendmail")]
    pub sendmail_option: Vec<String>,
    /// With --sendmail: recipients, beside those -t reads from the headers.
    #[arg(value_name = "RECIPIENT", requires = "sendmail")]
    pub recipients: Vec<String>,
}

/// Print the JSON Schema of record kinds.
#[derive(Debug, Args)]
#[command(
    after_long_help = "OUTPUT\n  One JSON Schema (draft 2020-12) per line, for each record kind or the one named."
)]
pub struct SchemaArgs {
    /// A record kind (message, error, key, conversation, contact, delivery, config…, as
    /// `missive schema` prints them all); all kinds when omitted.
    pub kind: Option<String>,
}
