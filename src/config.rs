//! `config.toml`: who the user is, their accounts, which authentication servers they trust,
//! and policy. Reading it checks every field; an error names the file, line, column and key.
//!
//! ```toml
//! [identity]
//! name = "Alex Example"
//! addresses = ["alex@example.org", "@alex@social.example"]
//!
//! [accounts.archive]
//! source = "maildir:~/Mail"
//!
//! [accounts.work]
//! source = "imap://alex@mail.example.org"    # port 993: implicit TLS; :143: STARTTLS
//! mailboxes = ["INBOX", "Lists/*", '\Sent']  # names, globs, special uses; INBOX if none
//! password_command = "pass show mail/work"   # or token_command for OAUTHBEARER/XOAUTH2
//! # tls = "starttls"                         # implicit | starttls | none
//! # insecure = true                          # needed for tls = "none": plain text
//! # ca_file = "~/certs/home-ca.pem"          # trusted besides the platform's roots
//! submission = "smtp://alex@mail.example.org" # send: port 587 STARTTLS; :465 implicit TLS
//! # submission_tls = "implicit"              # when the port does not say
//! # sendmail = "/usr/sbin/sendmail"          # instead of submission
//! # sent_mailbox = '\Sent'                   # send appends its copy there
//!
//! [accounts.phone]
//! source = "signal:~/signal/receive.jsonl"   # signal-cli -o json receive, captured
//! # number = "+33600000000"                  # yours: the `to` of lines naming no account
//!
//! [accounts.social]
//! source = "mastodon://alex@social.example"  # direct messages, over HTTPS
//! token_command = "pass show social.example" # an access token with read:statuses
//!
//! [trust]
//! authserv_ids = ["mx.example.org"]   # Authentication-Results we believe
//! # servers = ["mx.example.org"]      # your mail servers; else found in each message
//!
//! [policy]
//! min_privacy = 40                    # send refuses to go below this
//!
//! [keys]                              # keys discover; all optional
//! # nameserver = "127.0.0.1:53"       # else the system's resolvers
//! # trust_anchor = "~/dnssec/zone.keys" # DNSKEY lines; else the root's anchors
//! # ca_file = "~/certs/home-ca.pem"   # WKD servers: trusted besides the platform's roots
//! # https_port = 443                  # WKD servers' port (private setups and tests)
//! # passphrase_command = "pass show missive/key" # unlocks your own key to decrypt
//! # decrypt = true                    # sync decrypts encrypted mail with your key
//!
//! [index]
//! # decrypted = true                  # index the text of decrypted mail (off: a leak)
//!
//! [limits]
//! # unpacked_mib = 256                # largest zip entry or decrypted message read, MiB
//! # imap_line_mib = 4                 # longest line an IMAP server may send, bodies apart, MiB
//! ```
//!
//! An account's `source` is a source as on the command line. An IMAP account names its
//! server there (`imap://USER@HOST[:PORT]`, or one mailbox as `imap://USER@HOST/MAILBOX`)
//! and may add `mailboxes`, `tls`, `insecure` and `ca_file`, which other accounts may not
//! have. A Mastodon account names its instance (`mastodon://[USER@]INSTANCE[:PORT]`), takes
//! a `token_command`, and may add `ca_file`, and `tls = "none"` with `insecure = true` for
//! plain HTTP. `missive fetch mastodon://INSTANCE` uses the token of the account on that
//! instance. `missive fetch imap://USER@HOST[:PORT]/MAILBOX` on the command line logs in as the
//! account with the same user, host and port says. A `signal:` account may name the user's
//! `number`, which no other account may have.
//!
//! Beside how it fetches, an account says how it sends: `submission` (an SMTP submission
//! server, logging in with the account's `password_command`, or `token_command` for
//! XOAUTH2, trusting its `ca_file`; TLS always) or `sendmail`, a command; not both.
//!
//! Secrets are never written in this file: an account names a `password_command` or
//! `token_command` whose output is the secret (run with `sh -c`; the output is never shown).
//! A plain `password` is accepted so that `config check` can point at it, is never used,
//! and `config show` never prints it.
//!
//! This module is data: it parses the file, checks each field against its type, and
//! describes it. What a field means to the code that uses it is checked there, at load:
//! an account's source and login settings by [`crate::source::account`], which reads the
//! config with [`Config::parse`] and names its errors with [`Error::invalid`]; `[keys]` by
//! [`crate::keys::lookup::Settings`].

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::tls::Tls;

/// The error returned when the config cannot be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read config {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

impl Error {
    /// The error at byte `span` of the config `text` (its start when there is none), named
    /// by the file's `path`, line and column.
    pub fn invalid(text: &str, path: &Path, span: Option<Range<usize>>, message: String) -> Error {
        let offset = span.map_or(0, |s| s.start).min(text.len());
        let before = &text[..offset];
        Error::Invalid {
            path: path.to_path_buf(),
            line: before.matches('\n').count() + 1,
            column: before.chars().rev().take_while(|&c| c != '\n').count() + 1,
            message,
        }
    }
}

pub use crate::secret::{SecretError, secret_from_command};

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub identity: Identity,
    #[serde(default)]
    pub accounts: BTreeMap<String, Account>,
    #[serde(default)]
    pub trust: Trust,
    #[serde(default)]
    pub policy: Policy,
    #[serde(default)]
    pub index: Index,
    #[serde(default)]
    pub keys: Keys,
    #[serde(default)]
    pub limits: Limits,
    /// The directory of the config file: relative sources are relative to it.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// The record `missive config show` prints in JSON: the config as loaded, secrets redacted.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConfigRecord<'a> {
    pub kind: crate::record::ConfigKind,
    pub v: u32,
    #[serde(flatten)]
    pub config: &'a Config,
}

impl<'a> ConfigRecord<'a> {
    pub fn of(config: &'a Config) -> ConfigRecord<'a> {
        ConfigRecord {
            kind: crate::record::ConfigKind,
            v: crate::record::VERSION,
            config,
        }
    }
}

/// The JSON Schema of every record kind missive prints: those of [`crate::record`], and the
/// `config` record, whose type lives here, above the records.
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    let mut schemas = crate::record::schemas();
    schemas.push((
        crate::record::ConfigKind::TEXT,
        schemars::schema_for!(ConfigRecord<'static>),
    ));
    schemas
}

/// The user: their own addresses and handles are never counted as participants.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub addresses: Vec<String>,
    /// The user's Autocrypt preference: `mutual` asks peers who prefer it too to encrypt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer_encrypt: Option<String>,
}

/// One account: where its messages come from and how to log in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// A source as on the command line (`maildir:PATH`, …).
    #[schemars(with = "String")]
    pub source: toml::Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_command: Option<String>,
    /// A secret in clear in the config: accepted, reported, never shown.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "redact"
    )]
    pub password: Option<String>,
    /// IMAP: mailbox names, globs (`Lists/*`) or special uses (`\Sent`, `\Archive`,
    /// `\All`); INBOX when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mailboxes: Vec<String>,
    /// IMAP: `implicit` (the default, and on port 993), `starttls` (the default on port
    /// 143) or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    /// IMAP: allow `tls = "none"`, plain text on the network.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// IMAP, Mastodon and submission: a PEM file of certificates trusted besides the
    /// platform's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Where `send` submits mail: `smtp://USER@HOST[:PORT]`, STARTTLS on 587 (the default
    /// port), implicit TLS on 465.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub submission: Option<toml::Spanned<String>>,
    /// Submission: `implicit` or `starttls`, when the port does not say; never plain text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submission_tls: Option<Tls>,
    /// Or a sendmail-compatible command `send` pipes each message to (`-i -f FROM --
    /// RECIPIENTS` appended), run with `sh -c`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sendmail: Option<String>,
    /// IMAP: the mailbox `send` appends the sent copy to (`\Sent` finds it by special use);
    /// none for providers that file submissions themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_mailbox: Option<String>,
    /// `signal:`: the user's own number (`+` and digits): who received a captured line
    /// that names neither its account nor its destination (older signal-cli).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// `source` with `~` in `KIND:~/PATH` replaced by the home directory: a shell expands `~`
/// only at the start of a word, so `maildir:~/Mail` on a command line reaches missive as
/// it is written in a config file.
pub fn with_home(source: &str, home: Option<&Path>) -> String {
    match (source.split_once(":~/"), home) {
        (Some((kind, rest)), Some(home)) if !kind.contains([':', '/']) => {
            format!("{kind}:{}/{rest}", home.display())
        }
        _ => source.to_string(),
    }
}

impl Account {
    /// `source` with `~` in `KIND:~/PATH` replaced by the home directory.
    pub fn source_with_home(&self, home: Option<&Path>) -> String {
        with_home(self.source.get_ref(), home)
    }

    /// Whether the account is read in plain text (`tls = "none"`, `insecure = true`).
    pub fn in_clear(&self) -> bool {
        self.insecure && self.tls == Some(Tls::None)
    }
}

/// Whose word is taken on how mail travelled and who sent it: the user's own servers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trust {
    /// Authserv-ids of Authentication-Results headers added by the user's own servers.
    #[serde(default)]
    pub authserv_ids: Vec<String>,
    /// Host names of the user's own mail servers, as they write themselves in the `by` of
    /// their Received lines. Empty: each message's topmost Received `by` host, the hosts of
    /// its registrable domain, and the hosts of `authserv_ids` and theirs
    /// ([`crate::privacy::boundary`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<String>,
}

/// Rules for sending.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The lowest privacy score `send` may deliver at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_privacy: Option<u8>,
}

/// What the search index may hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Index {
    /// Index the decrypted text of encrypted mail; off by default, as a cleartext index of
    /// secret mail is a leak.
    #[serde(default)]
    pub decrypted: bool,
}

/// Where `keys discover` looks. Everything is optional: by default the system's resolvers,
/// the DNS root's trust anchors, the platform's TLS roots and port 443, as WKD and RFC 7929
/// say. The rest is for a private zone, a self-hosted server, and the tests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    /// The DNS server asked, `IP:PORT` (UDP and TCP), instead of the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub nameserver: Option<std::net::SocketAddr>,
    /// A file of DNSKEY records (zone-file syntax, one a line; a zone with a separate ZSK
    /// needs both keys) trusted instead of the root's anchors for DNSSEC validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_anchor: Option<PathBuf>,
    /// A PEM file of certificates trusted besides the platform's roots for WKD servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// The port WKD servers are reached on, instead of 443.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https_port: Option<u16>,
    /// A command whose first line of output is the passphrase of your own key, for
    /// decrypting (`score --decrypt`, `keys learn --decrypt`, `sync`); else a prompt on
    /// the terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passphrase_command: Option<String>,
    /// `sync` decrypts encrypted mail with your own key: signatures inside are checked, and
    /// the text is indexed when `[index] decrypted` allows it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decrypt: bool,
}

/// How much one input may cost: what a reader refuses, naming the input, rather than
/// letting a crafted file (a zip bomb) take all memory.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The most bytes one zip entry of an export, or one decrypted message, unpacks to, in
    /// MiB; a larger one is reported and skipped.
    #[serde(default = "default_unpacked_mib")]
    pub unpacked_mib: u64,
    /// The longest line an IMAP server may send, in MiB, message bodies (literals) not
    /// counted; a longer one ends the connection with an error. The IMAP client re-reads a
    /// line on every packet until it ends, so the time a line costs grows with its square.
    /// Nothing missive asks has a long answer: a FETCH response is a line of flags per
    /// message, its body a literal, so even a mailbox of a million messages stays far below.
    #[serde(default = "default_imap_line_mib")]
    pub imap_line_mib: u64,
}

fn default_unpacked_mib() -> u64 {
    256
}

fn default_imap_line_mib() -> u64 {
    4
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            unpacked_mib: default_unpacked_mib(),
            imap_line_mib: default_imap_line_mib(),
        }
    }
}

impl Limits {
    /// [`Limits::unpacked_mib`] in bytes.
    pub fn unpacked_bytes(&self) -> u64 {
        self.unpacked_mib.saturating_mul(1 << 20)
    }

    /// [`Limits::imap_line_mib`] in bytes.
    pub fn imap_line_bytes(&self) -> u64 {
        self.imap_line_mib.saturating_mul(1 << 20)
    }
}

fn redact<S: serde::Serializer>(value: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => s.serialize_str("********"),
        None => s.serialize_none(),
    }
}

/// The default config file: `$XDG_CONFIG_HOME/missive/config.toml`, else
/// `~/.config/missive/config.toml`.
pub fn default_path(xdg_config_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    xdg_config_home
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".config")))
        .map(|base| base.join("missive/config.toml"))
}

/// The text of the config file at `path`.
pub fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

impl Config {
    /// Parses config text and checks every field against its type; `path` names it in
    /// errors, and relative paths in it are relative to its directory.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let mut config: Config = toml::from_str(text).map_err(|error| {
            let key = error
                .span()
                .and_then(|s| text.get(s))
                .filter(|k| !k.is_empty() && k.len() < 64 && !k.contains('\n'))
                .map(|k| format!("at `{}`: ", k.trim()))
                .unwrap_or_default();
            let message = format!("{key}{}", error.message().trim_end());
            Error::invalid(text, path, error.span(), message)
        })?;
        config.dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        Ok(config)
    }

    /// A path from the config: `~/` is the home directory, a relative path is relative to
    /// the config's directory.
    pub fn resolve_path(&self, path: &Path, home: Option<&Path>) -> PathBuf {
        match (path.to_string_lossy().strip_prefix("~/"), home) {
            (Some(rest), Some(home)) => home.join(rest),
            _ => self.dir.join(path),
        }
    }

    /// What `config check` reports besides errors: settings that work but weaken privacy.
    pub fn warnings(&self) -> Vec<String> {
        self.accounts
            .iter()
            .filter(|(_, a)| a.password.is_some())
            .map(|(name, _)| {
                format!("accounts.{name}.password: a secret in clear in the config, never used; use password_command")
            })
            .chain(
                self.accounts
                    .iter()
                    .filter(|(_, a)| a.in_clear())
                    .map(|(name, _)| {
                        format!("accounts.{name}: tls = \"none\": the password or token and the messages cross the network in clear")
                    }),
            )
            .chain(
                (self.keys.decrypt && self.keys.passphrase_command.is_none()).then(|| {
                    "keys.decrypt: without passphrase_command, sync asks for a protected key's passphrase on the terminal, which a cron job has not".to_string()
                }),
            )
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, Path::new("/etc/m/config.toml"))
    }

    #[test]
    fn a_full_config_parses() {
        let config = parse(
            "[identity]\naddresses = [\"me@example.org\"]\n[accounts.home]\nsource = \"maildir:/m\"\npassword_command = \"pass mail\"\n[trust]\nauthserv_ids = [\"mx.example.org\"]\n[policy]\nmin_privacy = 40\n",
        )
        .unwrap();
        assert_eq!(config.identity.addresses, ["me@example.org"]);
        assert_eq!(config.accounts["home"].source.get_ref(), "maildir:/m");
        assert_eq!(config.policy.min_privacy, Some(40));
        assert!(
            !config.index.decrypted,
            "decrypted text is not indexed by default"
        );
    }

    #[test]
    fn an_unknown_key_is_named_with_file_and_line() {
        let error = parse("[identity]\nname = \"x\"\n\n[accounts.home]\nsorce = \"maildir:/m\"\n")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("/etc/m/config.toml:5:1: "), "{error}");
        assert!(error.contains("sorce"), "{error}");
    }

    #[test]
    fn a_password_is_never_shown_and_is_warned_about() {
        let config =
            parse("[accounts.a]\nsource = \"maildir:/m\"\npassword = \"hunter2\"\n").unwrap();
        let shown = toml::to_string(&config).unwrap();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("********"));
        assert!(config.warnings()[0].contains("accounts.a.password"));
        let json = serde_json::to_string(&config).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
    }

    #[test]
    fn decrypting_in_sync_without_a_passphrase_command_is_warned_about() {
        let config = parse("[keys]\ndecrypt = true\n").unwrap();
        assert!(config.warnings()[0].contains("passphrase_command"));
        let config =
            parse("[keys]\ndecrypt = true\npassphrase_command = \"pass show key\"\n").unwrap();
        assert!(config.warnings().is_empty());
    }

    #[test]
    fn the_unpacked_limit_defaults_to_256_mib_and_can_be_set() {
        assert_eq!(parse("").unwrap().limits.unpacked_bytes(), 256 << 20);
        let config = parse("[limits]\nunpacked_mib = 1\n").unwrap();
        assert_eq!(config.limits.unpacked_bytes(), 1 << 20);
        assert!(parse("[limits]\nunpacked = 1\n").is_err());
    }

    #[test]
    fn the_imap_line_limit_defaults_to_4_mib_and_can_be_set() {
        assert_eq!(parse("").unwrap().limits.imap_line_bytes(), 4 << 20);
        let config = parse("[limits]\nimap_line_mib = 1\n").unwrap();
        assert_eq!(config.limits.imap_line_bytes(), 1 << 20);
    }
}
