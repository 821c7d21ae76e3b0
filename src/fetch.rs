//! `missive fetch`: reads sources, prints a record for each message not printed before, and
//! remembers what it printed in the store.
//!
//! What is new is decided per file for sources whose files are messages (a Maildir file
//! renamed by a mail reader is not new, an identical copy is), and by content hash for
//! sources that hold many messages in one file (an mbox) or none (standard input). A file
//! whose stamp (size, mtime) is unchanged is not even read again. A Maildir file is followed
//! by its unique name (before `:2,`): renamed (`new/` to `cur/`, a flag changed), its record
//! is printed again with its new path and flags (same id; the index upserts by id), and
//! deleted, its record is marked gone from the source in the store.
//!
//! `fetch` printing records and `sync` indexing them each keep their own state of what they
//! read ([`Consumer`]), and two fetches of one source take turns, so neither prints what the
//! other did not see, nor the same messages twice.
//!
//! An exported message (a platform's export, a signal-cli capture) is new when its record id
//! was not printed before, wherever its file lies: the same export under another name
//! prints nothing, a new download prints its new messages; an edit of a message is new
//! once, as a record of the message it edits.
//!
//! Messages from a server (IMAP) are new when the source hands them on (it reads after its
//! cursor); after the server renumbered a mailbox (a new UIDVALIDITY), when neither their
//! content nor their Message-ID was printed from that mailbox before. Mastodon statuses are
//! new when neither their JSON nor their URI was printed from that account before: a thread
//! that grows is read again whole.
//!
//! Files are read and parsed in parallel in batches. Raw bytes that exist nowhere else go
//! to the archive first, the whole batch at once, durable before anything else happens;
//! then each batch is printed, flushed, and only then committed with the cursors it
//! advances, so an interrupted fetch never leaves a gap: at worst the last batch is printed
//! again, and the index upserts by id.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc::Receiver;

use rayon::prelude::*;

use crate::config::Config;
use crate::email;
use crate::jsonl::{ErrorSink, Reader, Sink};
use crate::record::{DUPLICATE_MESSAGE_ID, ErrorRecord, Message, Record, message_id};
use crate::source::{self, Item, Raw, Source, Spec};
use crate::store::db::{Batch, Db, FileStamp, RecordedFiles};
use crate::store::{self, Store};

/// Messages per batch by default: large enough that the archive's one sync per batch costs
/// little, small enough that a batch of big messages stays well inside the memory budget.
const BATCH_MESSAGES: usize = 1024;
/// The first batch of a run: small, so the first records come out at once; each batch
/// after it is twice as large, up to the run's size.
const FIRST_BATCH_MESSAGES: usize = 64;
const BATCH_BYTES: u64 = 64 << 20;
/// What prefixes the source keys of the state [`Consumer::Printer`] keeps.
const PRINTED: &str = "printed:";

/// The error returned when fetching cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Source(#[from] source::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("cannot write the output")]
    Output(#[from] std::io::Error),
}

crate::fault::carried_by!(Error: Source, Store, Output);

/// A source to fetch and the account its messages belong to.
#[derive(Debug, Clone)]
pub struct Target {
    pub spec: Spec,
    /// The configured account name, or when given on the command line: the source's key,
    /// or an export's platform (`twitter`, …).
    pub account: String,
    /// True for an export no configured account holds: each of its messages belongs to the
    /// export's owner as its blob names them ([`source::export::read`]), so that its ids
    /// do not depend on where the export lies (DESIGN.md §2).
    pub by_owner: bool,
}

impl Target {
    /// The sources of the named accounts of the config, or of all its accounts when `names`
    /// is empty; `home` expands `~/`. An error names the account, or the setting.
    pub fn for_accounts(
        config: &Config,
        names: &[String],
        home: Option<&Path>,
    ) -> Result<Vec<Target>, String> {
        let chosen: Vec<&String> = if names.is_empty() {
            config.accounts.keys().collect()
        } else {
            names.iter().collect()
        };
        chosen
            .into_iter()
            .map(|name| {
                Ok(Target {
                    spec: source::account::spec(config, name, home)?,
                    account: name.clone(),
                    by_owner: false,
                })
            })
            .collect()
    }

    /// A source given on the command line, with the login of the configured account on
    /// the same server ([`source::account::with_login`]); its account is the configured
    /// account that holds its path ([`source::account::owner`]), else the account a
    /// source holding its path was fetched as (`synced`, [`Db::source_accounts`]: the same
    /// Maildir given by its path without the config is still the same messages), else an
    /// export's owner (see [`Target::by_owner`]), else its key.
    pub fn for_source(
        config: &Config,
        spec: Spec,
        home: Option<&Path>,
        synced: &[(String, String)],
    ) -> Target {
        let spec = source::account::with_login(config, spec, home);
        let owner =
            source::account::owner(config, &spec, home).or_else(|| synced_owner(&spec, synced));
        let (account, by_owner) = match owner {
            Some(account) => (account, false),
            None => match spec.export_platform() {
                Some(platform) => (platform.to_string(), true),
                None => (spec.key(), false),
            },
        };
        Target {
            account,
            by_owner,
            spec,
        }
    }
}

/// The account of the deepest source in `synced` (source key, account) whose path holds
/// `spec`'s, read as the same protocol.
fn synced_owner(spec: &Spec, synced: &[(String, String)]) -> Option<String> {
    let (protocol, path) = spec.local()?;
    synced
        .iter()
        .filter_map(|(key, account)| {
            let known = Spec::parse(key, Path::new("/")).ok()?;
            let (kind, root) = known.local()?;
            (kind == protocol && path.starts_with(root))
                .then(|| (root.components().count(), account))
        })
        .max_by_key(|(depth, _)| *depth)
        .map(|(_, account)| account.clone())
}

/// Whose record of what was read a run reads and advances. `fetch` to standard output and
/// `sync` into the index each keep their own (DESIGN.md §8): a `fetch ACCOUNT > file`
/// does not hide the account's mail from the next `sync`, nor a sync from the next fetch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Consumer {
    /// Records printed for whatever reads them (`missive fetch`); two runs of one source
    /// take turns ([`Store::lock_source`]).
    #[default]
    Printer,
    /// Records put in the store's index (`missive sync`, under the store's lock). Its state
    /// is kept under the source's own key, where every store before schema 13 kept it.
    Index,
}

impl Consumer {
    /// The key under which the store keeps this consumer's state of the source key `key`.
    fn key(self, key: &str) -> String {
        match self {
            Consumer::Index => key.to_string(),
            Consumer::Printer => format!("{PRINTED}{key}"),
        }
    }

    /// The source key of a key [`Consumer::key`] made.
    fn source_key(self, key: &str) -> &str {
        match self {
            Consumer::Index => key,
            Consumer::Printer => key.strip_prefix(PRINTED).unwrap_or(key),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Print every message again, not only new ones.
    pub all: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Messages per batch.
    pub batch_messages: usize,
    /// Batches per transaction: the sink is flushed, then the state committed, once per
    /// this many batches (1 when records are printed, so that a run cut short prints again
    /// at most one batch).
    pub batches_per_commit: usize,
    /// What one input may cost ([`Config::limits`]).
    pub limits: crate::config::Limits,
    /// Whose state of the sources the run keeps.
    pub consumer: Consumer,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            all: false,
            progress: false,
            batch_messages: BATCH_MESSAGES,
            batches_per_commit: 1,
            limits: crate::config::Limits::default(),
            consumer: Consumer::default(),
        }
    }
}

/// Work done on each batch of new messages inside the transaction that records the batch,
/// before the messages reach the sink: `sync` threads them there, so their thread state is
/// committed with the cursors and a run cut short leaves none fetched but unthreaded.
pub trait Settle {
    fn settle(&mut self, batch: &Batch<'_>, messages: &mut [Message]) -> std::io::Result<()>;
}

/// What a fetch did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Records printed of new messages.
    pub printed: u64,
    /// Records printed again because their file was renamed (a flag changed).
    pub updated: u64,
    /// Records whose file is gone from its source.
    pub gone: u64,
    /// Messages or lines that could not be read (each reported).
    pub failed: u64,
    /// Maildir folders (`cur/`, `new/`) read, and skipped as unchanged since the last run.
    pub folders_read: u64,
    pub folders_skipped: u64,
    /// Records printed per account.
    pub per_account: std::collections::BTreeMap<String, u64>,
    /// Of the records printed, the emails whose Message-ID another message already held:
    /// each carries the problem `duplicate_message_id` and its blob's id (`claim_id`).
    pub duplicates: u64,
}

/// Fetches every target in turn; consecutive remote targets (IMAP accounts) together, each
/// from its own connection, since their time goes in waiting on the network.
pub fn fetch<S: Sink + Send, E: Write + Send>(
    store: &mut Store,
    targets: &[Target],
    options: Options,
    out: &mut S,
    mut settle: Option<&mut (dyn Settle + Send + '_)>,
    errors: &mut ErrorSink<E>,
) -> Result<Summary, Error> {
    let bars = indicatif::MultiProgress::with_draw_target(if options.progress {
        indicatif::ProgressDrawTarget::stderr()
    } else {
        indicatif::ProgressDrawTarget::hidden()
    });
    errors.over_progress(options.progress.then(|| bars.clone()));
    let mut summary = Summary::default();
    let mut at = 0;
    while at < targets.len() {
        let target = &targets[at];
        let Some(source) = target.spec.open(&options.limits) else {
            if let Spec::Jsonl(path) = &target.spec {
                pass_through(path.as_deref(), out, errors, &mut summary)?;
            }
            at += 1;
            continue;
        };
        let mut jobs = vec![(target, source)];
        at += 1;
        if target.spec.is_remote() {
            while let Some(next) = targets.get(at).filter(|t| t.spec.is_remote()) {
                if let Some(source) = next.spec.open(&options.limits) {
                    jobs.push((next, source));
                }
                at += 1;
            }
        }
        fetch_sources(
            store,
            jobs,
            options,
            out,
            settle.as_deref_mut(),
            errors,
            &bars,
            &mut summary,
        )?;
    }
    let _ = bars.clear();
    errors.over_progress(None);
    out.flush()?;
    Ok(summary)
}

/// A spinner for one source on stderr (hidden unless asked for).
fn progress_bar(bars: &indicatif::MultiProgress, account: &str) -> indicatif::ProgressBar {
    let bar = bars.add(indicatif::ProgressBar::new_spinner());
    bar.set_style(progress_style());
    bar.set_prefix(account.to_string());
    bar
}

/// `⠋ work 3,008 messages, 29,717/s`: the rate in whole messages (indicatif's `{per_sec}`
/// shows four decimals).
fn progress_style() -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template("{spinner} {prefix} {human_pos} messages, {rate} {msg}")
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{}/s", indicatif::HumanCount(state.per_sec() as u64));
            },
        )
}

/// Sources fetched together, as a pipeline of four stages so both cores stay busy: one
/// thread per source scans and batches, a second parses each batch in parallel (rayon), a
/// third puts what exists nowhere else in the archive, durably, and a fourth prints and
/// commits in order. Bounded channels keep at most a few batches in memory. With several
/// sources, their batches interleave; each source's stay in order.
#[allow(clippy::too_many_arguments)]
fn fetch_sources<S: Sink + Send, E: Write + Send>(
    store: &mut Store,
    jobs: Vec<(&Target, Box<dyn Source>)>,
    options: Options,
    out: &mut S,
    settle: Option<&mut (dyn Settle + Send + '_)>,
    errors: &mut ErrorSink<E>,
    bars: &indicatif::MultiProgress,
    summary: &mut Summary,
) -> Result<(), Error> {
    let consumer = options.consumer;
    let mut keys: Vec<String> = jobs
        .iter()
        .map(|(t, _)| consumer.key(&t.spec.key()))
        .collect();
    // Taken in one order, so two runs fetching overlapping sources never wait on each other.
    keys.sort();
    let _locks = match consumer {
        Consumer::Printer => keys
            .iter()
            .map(|key| store.lock_source(key))
            .collect::<Result<Vec<_>, _>>()?,
        Consumer::Index => Vec::new(),
    };
    let mut states = Vec::with_capacity(jobs.len());
    for (target, _) in &jobs {
        let key = consumer.key(&target.spec.key());
        let mut known = source::Known::default();
        if !options.all {
            for (k, name, value) in store.db.cursors(&key)? {
                let k = consumer.source_key(&k).to_string();
                known.cursors.insert((k, name), value);
            }
            // A Maildir is read folder by folder: only the records of a folder that changed
            // are read.
            if matches!(target.spec, Spec::Maildir(_)) {
                let db = store.db.open_again()?;
                known.folders = Some(source::Folders::new(db, key.clone())?);
            } else {
                known.files = store.db.file_stamps(&key, None)?;
            }
        }
        let fresh = known.files.is_empty()
            && known
                .folders
                .as_ref()
                .is_none_or(|f| f.recorded().is_empty());
        states.push(SourceState {
            target,
            key,
            known,
            fresh,
        });
    }
    // A fetch stopped during a first load left indexes to make; a first load (no file
    // recorded yet, nothing threaded) builds them once, after its rows.
    let batch = store.db.batch()?;
    batch.defer_load_indexes()?;
    batch.commit()?;
    // At a million messages, copying the log into the database after every transaction
    // took a tenth of a first sync.
    store.db.checkpoint_seldom()?;
    let archive = store.archive();
    let accounts: Vec<&str> = states.iter().map(|s| s.target.account.as_str()).collect();
    let mut unread = std::collections::HashSet::new();
    let mut run = BatchRun {
        sources: &states,
        options,
        out,
        settle,
        errors: &mut *errors,
        summary: &mut *summary,
        unread: &mut unread,
    };
    let (items_to_parse, items) = std::sync::mpsc::sync_channel::<(usize, Vec<Item>)>(2);
    let (parsed_to_archive, parsed) = std::sync::mpsc::sync_channel::<(usize, Vec<Parsed>)>(0);
    let (archived_to_write, archived) = std::sync::mpsc::sync_channel::<Archived>(0);
    let (scans, written) = std::thread::scope(|scope| {
        scope.spawn(move || {
            for (index, batch) in items {
                if parsed_to_archive.send((index, parse(batch))).is_err() {
                    break;
                }
            }
        });
        scope.spawn(move || {
            for (index, batch) in parsed {
                let paths = store_ephemeral(&archive, accounts[index], &batch);
                if archived_to_write.send((index, batch, paths)).is_err() {
                    break;
                }
            }
        });
        let db = &mut store.db;
        let writer = scope.spawn(move || {
            if run.settle.is_some() {
                run.write_settled(db, archived)
            } else {
                run.write_printed(db, archived)
            }
        });
        let scanners: Vec<_> = jobs
            .into_iter()
            .enumerate()
            .map(|(index, (target, source))| {
                let items_to_parse = items_to_parse.clone();
                let known = &states[index].known;
                let progress = progress_bar(bars, &target.account);
                scope.spawn(move || {
                    let scanned = scan_batches(source.as_ref(), known, options, &|batch| {
                        progress.inc(batch.len() as u64);
                        // A closed channel means the writer stopped; its error says why.
                        items_to_parse
                            .send((index, batch))
                            .map_err(|_| source::Error::Stopped)
                    });
                    progress.finish_and_clear();
                    scanned
                })
            })
            .collect();
        drop(items_to_parse);
        let scans: Vec<_> = scanners
            .into_iter()
            .map(|scanner| {
                scanner
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect();
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (scans, written)
    });
    if let Err(error) = written {
        // The rows loaded before the failure stay, so do their indexes; should making them
        // fail too, the next fetch makes them (the first error is the one to report).
        let _ = store.db.batch().and_then(|batch| {
            batch.restore_indexes()?;
            batch.commit()
        });
        return Err(error);
    }
    // Every source that was read to its end is stamped, even when another failed; then the
    // first failure is reported.
    let mut failure = None;
    let batch = store.db.batch()?;
    for (state, scanned) in states.iter().zip(scans) {
        match scanned {
            Ok(scan) => {
                for failure in &scan.failed {
                    errors.report(failure);
                    summary.failed += 1;
                }
                let target = state.target;
                if !target.by_owner
                    && target.spec.local().is_some()
                    && target.account != target.spec.key()
                {
                    batch.set_source_account(&target.spec.key(), &target.account)?;
                }
                for (path, stamp) in &scan.containers {
                    batch.stamp_file(&state.key, path, *stamp, None, None)?;
                }
                summary.gone += batch.forget_files(&state.key, &scan.gone)?.len() as u64;
                for path in &scan.folders_gone {
                    batch.forget_folder(&state.key, path)?;
                }
                for (path, mtime) in &scan.folders {
                    // A file that could not be read is tried again, so its folder is read.
                    let whole = !unread.contains(path);
                    batch.stamp_folder(&state.key, path, mtime.filter(|_| whole))?;
                }
                summary.folders_read += scan.folders.len() as u64;
                summary.folders_skipped += scan.folders_skipped;
                for (key, name, value) in &scan.cursors {
                    batch.set_cursor(&consumer.key(key), name, value)?;
                }
                for (location, what, problem) in &scan.notices {
                    errors.warn(location, what, problem);
                }
            }
            Err(error) => {
                failure.get_or_insert(error);
            }
        }
    }
    batch.restore_indexes()?;
    batch.commit()?;
    match failure {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// Where the store may read messages again (`index --rebuild`): the archive, the sources of
/// the configured accounts and the local sources fetch has read, each resolved (symlinks
/// followed); a root that does not exist is left out.
pub fn owned_roots(
    store: &Store,
    config: &Config,
    home: Option<&Path>,
) -> Result<Vec<std::path::PathBuf>, Error> {
    let configured = config
        .accounts
        .keys()
        .filter_map(|name| source::account::spec(config, name, home).ok());
    let recorded = store.db.recorded_sources()?.into_iter().filter_map(|key| {
        let key = Consumer::Printer.source_key(&key).to_string();
        Spec::parse(&key, Path::new("/")).ok()
    });
    let mut roots: Vec<std::path::PathBuf> = configured
        .chain(recorded)
        .filter_map(|spec| spec.local().map(|(_, path)| path.to_path_buf()))
        .chain([store.archive().root().to_path_buf()])
        .filter_map(|root| std::fs::canonicalize(root).ok())
        .collect();
    roots.sort();
    roots.dedup();
    Ok(roots)
}

/// Scans one source and hands its items on in batches.
fn scan_batches(
    source: &dyn Source,
    known: &source::Known,
    options: Options,
    send: &dyn Fn(Vec<Item>) -> Result<(), source::Error>,
) -> Result<source::Scan, source::Error> {
    let batch_messages = options.batch_messages.max(1);
    let mut limit = batch_messages.min(FIRST_BATCH_MESSAGES);
    let mut pending: Vec<Item> = Vec::with_capacity(limit);
    let mut pending_bytes = 0;
    let scanned = source.scan(known, &mut |item| {
        pending_bytes += match &item.raw {
            Raw::File(_) => item.stamp.as_ref().map_or(0, |(_, s)| s.size),
            Raw::Bytes(b) | Raw::Read(_, b) => b.len() as u64,
        };
        pending.push(item);
        if pending.len() >= limit || pending_bytes >= BATCH_BYTES {
            pending_bytes = 0;
            limit = (limit * 2).min(batch_messages);
            send(std::mem::replace(&mut pending, Vec::with_capacity(limit)))?;
        }
        Ok(())
    });
    // What was read before a failure is recorded all the same: the next run resumes after it.
    send(pending)?;
    scanned
}

/// A message read and parsed, or why its file could not be read; raw bytes kept only for
/// messages that exist nowhere else.
type Parsed = (Item, std::io::Result<(Message, Option<Vec<u8>>)>);

/// A parsed batch and where the archive keeps its messages that exist nowhere else, in order.
type Archived = (
    usize,
    Vec<Parsed>,
    Result<Vec<std::path::PathBuf>, store::Error>,
);

/// Puts the messages of a batch that exist nowhere else (from a server, standard input) in
/// the archive, durable when this returns.
fn store_ephemeral(
    archive: &store::archive::Archive,
    account: &str,
    parsed: &[Parsed],
) -> Result<Vec<std::path::PathBuf>, store::Error> {
    let ephemeral: Vec<(&str, &[u8])> = parsed
        .iter()
        .filter_map(|(_, result)| {
            let (message, raw) = result.as_ref().ok()?;
            Some((message.blob.as_str(), raw.as_deref()?))
        })
        .collect();
    if ephemeral.is_empty() {
        return Ok(Vec::new());
    }
    archive.store(account, &ephemeral)
}

/// Reads and parses a batch in parallel, keeping its order.
fn parse(items: Vec<Item>) -> Vec<Parsed> {
    items
        .into_par_iter()
        .map(|mut item| {
            let raw = match std::mem::replace(&mut item.raw, Raw::Bytes(Vec::new())) {
                Raw::File(path) => {
                    let read = std::fs::read(&path);
                    item.raw = Raw::File(path);
                    read
                }
                Raw::Bytes(bytes) => Ok(bytes),
                Raw::Read(message, bytes) => {
                    return (item, Ok((*message, Some(bytes))));
                }
            };
            let result = raw.map(|raw| {
                let message = source::read(&item.source.kind, &raw);
                (message, item.ephemeral.then_some(raw))
            });
            (item, result)
        })
        .collect()
}

/// What a file that is one message holds, against what the store recorded of the source.
#[derive(Debug, PartialEq, Eq)]
enum FileNews {
    New,
    /// The same message as a recorded file whose name is gone (a mail reader renamed it),
    /// with that file's record id when it was recorded.
    Renamed(Option<String>),
    Unchanged,
}

/// What the file at `path` of the source `key`, holding `blob`, is. Each file is a message,
/// so two identical copies are two records; but a file renamed by a mail reader (a flag
/// change, new/ → cur/), whose old name is gone, is the same message: found by its Maildir
/// unique name in its folder's `cur/` or `new/` (`maildir`), else by its content. Asked of
/// the store file by file, so that a run reads the records of the files it finds changed
/// and no others.
fn file_news(
    store: &dyn Recorded,
    key: &str,
    path: &str,
    blob: &str,
    maildir: bool,
) -> Result<FileNews, store::Error> {
    if let Some(recorded) = store.file_at(key, path)? {
        return Ok(if recorded.blob.as_deref() == Some(blob) {
            FileNews::Unchanged
        } else {
            FileNews::New
        });
    }
    let gone = |old: &store::db::KnownFile| !crate::record::text_path(&old.path).exists();
    let mut named = Vec::new();
    if maildir
        && let Some(unique) = source::maildir_unique(path)
        && let Some(folder) = crate::record::text_path(path)
            .parent()
            .and_then(Path::parent)
    {
        for sub in ["cur", "new"] {
            let name = crate::record::path_text(
                &folder
                    .join(sub)
                    .join(crate::record::text_path(&unique).as_os_str()),
            );
            // As `path_text` writes `:2,` after a name that is not UTF-8: in hex.
            let info = if name.starts_with("hex:") {
                "3a322c"
            } else {
                ":2,"
            };
            named.extend(store.files_named(key, &name, info)?);
        }
    }
    let mut renamed = named.into_iter().find(gone);
    if renamed.is_none() {
        renamed = store.files_holding(key, blob)?.into_iter().find(gone);
    }
    Ok(match renamed {
        Some(old) => FileNews::Renamed(old.record),
        None => FileNews::New,
    })
}

/// What one source's batches share.
struct SourceState<'a> {
    target: &'a Target,
    key: String,
    known: source::Known,
    /// True when no file of the source was recorded before this run: each is new, and
    /// the store need not be asked.
    fresh: bool,
}

/// What recording batches in the store takes, noted while they are sorted so that the
/// write transaction holds nothing but the writes.
#[derive(Default)]
struct Ledger {
    /// (source, blob) pairs seen for the first time, in order, and as a set.
    seen: Vec<(String, String)>,
    seen_set: std::collections::HashSet<(String, String)>,
    /// (blob, account, path) of messages put in the archive.
    archived: Vec<(String, String, String)>,
    /// (source, path, stamp, blob, record id) of files that are one message each.
    stamps: Vec<(String, String, FileStamp, String, Option<String>)>,
    /// (source, name, value) of cursors advanced.
    cursors: Vec<(String, String, String)>,
    /// Record ids claimed, by id: the blob holding each, and whether it is a duplicate.
    claims: HashMap<String, (String, bool)>,
}

/// What sorting a batch asks the store. It only reads, so that a batch is printed before
/// anything of it is written (a write lock is never held while the output waits on a pipe).
trait Recorded: RecordedFiles {
    fn has_seen(&self, source: &str, blob: &str) -> Result<bool, store::Error>;
    fn record_id_holder(&self, id: &str) -> Result<Option<(String, bool)>, store::Error>;
}

impl Recorded for Db {
    fn has_seen(&self, source: &str, blob: &str) -> Result<bool, store::Error> {
        Db::has_seen(self, source, blob)
    }
    fn record_id_holder(&self, id: &str) -> Result<Option<(String, bool)>, store::Error> {
        Db::record_id_holder(self, id)
    }
}

impl Recorded for Batch<'_> {
    fn has_seen(&self, source: &str, blob: &str) -> Result<bool, store::Error> {
        Batch::has_seen(self, source, blob)
    }
    fn record_id_holder(&self, id: &str) -> Result<Option<(String, bool)>, store::Error> {
        Batch::record_id_holder(self, id)
    }
}

impl Ledger {
    /// Whether `source` holds `blob` for the first time, neither in the store nor
    /// earlier in this ledger; noted to be recorded when it is.
    fn see(
        &mut self,
        store: &dyn Recorded,
        source: &str,
        blob: &str,
    ) -> Result<bool, store::Error> {
        let pair = (source.to_string(), blob.to_string());
        if self.seen_set.contains(&pair) || store.has_seen(source, blob)? {
            return Ok(false);
        }
        self.seen_set.insert(pair.clone());
        self.seen.push(pair);
        Ok(true)
    }

    /// Writes what was noted in `batch`, and forgets it.
    fn apply(&mut self, batch: &Batch<'_>) -> Result<(), store::Error> {
        for (source, blob) in self.seen.drain(..) {
            batch.see(&source, &blob)?;
        }
        self.seen_set.clear();
        for (blob, account, path) in self.archived.drain(..) {
            batch.archived(&blob, &account, &path)?;
        }
        for (source, path, stamp, blob, record) in self.stamps.drain(..) {
            batch.stamp_file(&source, &path, stamp, Some(&blob), record.as_deref())?;
        }
        for (source, name, value) in self.cursors.drain(..) {
            batch.set_cursor(&source, &name, &value)?;
        }
        for (id, (blob, duplicate)) in self.claims.drain() {
            batch.claim_record_id(&id, &blob)?;
            if duplicate {
                batch.mark_duplicate_id(&id)?;
            }
        }
        Ok(())
    }

    /// Writes what was noted in a transaction of its own.
    fn commit(&mut self, db: &mut Db) -> Result<(), store::Error> {
        let batch = db.batch()?;
        self.apply(&batch)?;
        batch.commit()
    }
}

/// The state the writer keeps across batches.
struct BatchRun<'a, 's, S: Sink, E: Write> {
    sources: &'a [SourceState<'a>],
    options: Options,
    out: &'a mut S,
    settle: Option<&'a mut (dyn Settle + Send + 's)>,
    errors: &'a mut ErrorSink<E>,
    summary: &'a mut Summary,
    /// The folders of the files that could not be read, as [`crate::record::path_text`]
    /// writes them.
    unread: &'a mut std::collections::HashSet<String>,
}

impl<S: Sink, E: Write> BatchRun<'_, '_, S, E> {
    /// `fetch`'s writer: each batch is printed and flushed before the short transaction
    /// that records it begins, so the store's write lock is never held while the output
    /// waits on the next command of a pipeline, which may be waiting for that lock.
    fn write_printed(&mut self, db: &mut Db, archived: Receiver<Archived>) -> Result<(), Error> {
        let mut ledger = Ledger::default();
        let mut uncommitted = 0;
        for (index, parsed, paths) in archived {
            let (messages, updated) = self.sort(&*db, &mut ledger, index, parsed, paths?)?;
            self.print(index, messages, updated)?;
            uncommitted += 1;
            if uncommitted >= self.options.batches_per_commit.max(1) {
                self.out.flush()?;
                ledger.commit(db)?;
                uncommitted = 0;
            }
        }
        if uncommitted > 0 {
            self.out.flush()?;
            ledger.commit(db)?;
        }
        Ok(())
    }

    /// `sync`'s writer: each batch is recorded and settled (threaded) in the transaction
    /// before it reaches the sink, several batches a transaction; the sink (the index, not
    /// a pipe) is flushed before each commit, so what it keeps is never behind what the
    /// store records.
    fn write_settled(&mut self, db: &mut Db, archived: Receiver<Archived>) -> Result<(), Error> {
        let mut batches = archived.into_iter();
        // Begun when a batch is there, not while the sources are read.
        while let Some(first) = batches.next() {
            let transaction = db.batch()?;
            let mut next = Some(first);
            let mut uncommitted = 0;
            while let Some((index, parsed, paths)) = next.take() {
                let mut ledger = Ledger::default();
                let (mut messages, updated) =
                    self.sort(&transaction, &mut ledger, index, parsed, paths?)?;
                ledger.apply(&transaction)?;
                if let Some(settle) = self.settle.as_deref_mut() {
                    settle.settle(&transaction, &mut messages)?;
                }
                self.print(index, messages, updated)?;
                uncommitted += 1;
                if uncommitted < self.options.batches_per_commit.max(1) {
                    next = batches.next();
                }
            }
            self.out.flush()?;
            transaction.commit()?;
        }
        Ok(())
    }

    /// The new messages of a parsed batch, in order, with what recording the batch takes
    /// (the cursors it advances among them) noted in `ledger`; `store` answers what was
    /// recorded before. Its messages that exist nowhere else are already archived at
    /// `archived`.
    fn sort(
        &mut self,
        store: &dyn Recorded,
        ledger: &mut Ledger,
        index: usize,
        parsed: Vec<Parsed>,
        archived: Vec<std::path::PathBuf>,
    ) -> Result<(Vec<Message>, u64), Error> {
        let SourceState {
            target, key, fresh, ..
        } = &self.sources[index];
        let key = key.as_str();
        let mut archived = archived.into_iter();
        let mut new_messages = Vec::with_capacity(parsed.len());
        // Where each email of the batch is in `new_messages`, by record id.
        let mut email_at: HashMap<String, usize> = HashMap::new();
        // Each message's cursor supersedes the one before: set once, when the batch is done.
        let mut cursors: HashMap<(String, &str), String> = HashMap::new();
        // Records printed again because their file was renamed.
        let mut updated = 0;
        for (item, result) in parsed {
            let location = match (&item.source.path, &item.remote, item.source.uid) {
                (Some(path), _, _) => path.clone(),
                // An IMAP URL (RFC 5092) of the message.
                (None, Some(remote), Some(uid)) => format!(
                    "{};UIDVALIDITY={}/;UID={uid}",
                    remote.key,
                    item.source.uidvalidity.unwrap_or_default()
                ),
                _ => self.options.consumer.source_key(key).to_string(),
            };
            let (mut message, ephemeral_raw) = match result {
                Ok(read) => read,
                Err(error) => {
                    // Not stamped, so the next run tries this file again.
                    if let Some((path, _)) = &item.stamp
                        && let Some(folder) = crate::record::text_path(path).parent()
                    {
                        self.unread.insert(crate::record::path_text(folder));
                    }
                    self.errors
                        .report(&ErrorRecord::new(location, format!("cannot read: {error}")));
                    self.summary.failed += 1;
                    continue;
                }
            };
            let mut source_ref = item.source;
            if ephemeral_raw.is_some()
                && let Some(path) = archived.next()
            {
                let path = path.display().to_string();
                ledger
                    .archived
                    .push((message.blob.clone(), target.account.clone(), path.clone()));
                source_ref.path = Some(path);
            }
            // An export no account holds is its owner's, as read from the blob (none when
            // the blob could not be read).
            if !target.by_owner || message.account.is_empty() {
                message.account = target.account.clone();
            }
            let consumer = self.options.consumer;
            let new_or = |new: bool| {
                if new {
                    FileNews::New
                } else {
                    FileNews::Unchanged
                }
            };
            let news = match (&item.stamp, &item.remote) {
                (Some(_), _) if *fresh => FileNews::New,
                (Some((path, _)), _) => file_news(
                    store,
                    key,
                    path,
                    &message.blob,
                    source_ref.kind == "maildir",
                )?,
                // What the platform says a message is decides, not the file it came in.
                (None, None) if source::export::is_export(&source_ref.kind) => new_or(ledger.see(
                    store,
                    &consumer.key(&message_id(
                        &message.protocol,
                        &message.account,
                        &message.native_id,
                    )),
                    source::export::revision(&message),
                )?),
                (None, None) => new_or(ledger.see(store, key, &message.blob)?),
                (None, Some(remote)) => {
                    let remote_key = consumer.key(&remote.key);
                    for (name, value) in &remote.cursor {
                        cursors.insert((remote_key.clone(), name), value.clone());
                    }
                    // Remembered for a resync; until then each UID is a message of its own,
                    // as each file of a Maildir is.
                    let new_content = ledger.see(store, &remote_key, &message.blob)?;
                    let new_id = message.native_id == message.blob
                        || ledger.see(
                            store,
                            &remote_key,
                            &format!("message-id:{}", message.native_id),
                        )?;
                    new_or(!remote.resync || (new_content && new_id))
                }
            };
            if news == FileNews::Unchanged && !self.options.all {
                if let Some((path, stamp)) = &item.stamp {
                    let record = store.file_at(key, path)?.and_then(|file| file.record);
                    ledger.stamps.push((
                        key.to_string(),
                        path.clone(),
                        *stamp,
                        message.blob.clone(),
                        record,
                    ));
                }
                continue;
            }
            if message.date.is_none() {
                message.date = item.remote.as_ref().and_then(|r| r.received.clone());
            }
            let first = match &news {
                FileNews::Renamed(Some(record)) => {
                    message.id = record.clone();
                    None
                }
                _ => claim_id(store, ledger, &mut message)?,
            };
            if let Some((path, stamp)) = &item.stamp {
                ledger.stamps.push((
                    key.to_string(),
                    path.clone(),
                    *stamp,
                    message.blob.clone(),
                    Some(message.id.clone()),
                ));
            }
            if matches!(news, FileNews::Renamed(_)) {
                updated += 1;
            }
            if let Some(first) = first {
                self.summary.duplicates += 1;
                if let Some(&at) = email_at.get(&first) {
                    // Its twin is in this batch, not printed yet: it is told too.
                    let twin: &mut Message = &mut new_messages[at];
                    if !twin.problems.iter().any(|p| p == DUPLICATE_MESSAGE_ID) {
                        twin.problems.push(DUPLICATE_MESSAGE_ID.into());
                    }
                }
            }
            if message.protocol == "email" {
                email_at.insert(message.id.clone(), new_messages.len());
            }
            message.source = source_ref;
            message.flags = item.flags;
            for problem in &message.problems {
                self.errors.warn(&location, &message.native_id, problem);
            }
            if email::is_unreadable(&message)
                || source::export::is_unreadable(&message)
                || source::mastodon::is_unreadable(&message)
            {
                self.summary.failed += 1;
            }
            new_messages.push(message);
        }
        for ((key, name), value) in cursors {
            ledger.cursors.push((key, name.to_string(), value));
        }
        Ok((new_messages, updated))
    }

    /// Puts a batch's messages in the sink and counts them: `updated` of them were printed
    /// again because their file was renamed, the others are new.
    fn print(&mut self, index: usize, messages: Vec<Message>, updated: u64) -> Result<(), Error> {
        let target = self.sources[index].target;
        let new = messages.len() as u64 - updated;
        for message in messages {
            self.out.put(Record::Message(Box::new(message)))?;
        }
        self.summary.printed += new;
        self.summary.updated += updated;
        if new > 0 {
            *self
                .summary
                .per_account
                .entry(target.account.clone())
                .or_default() += new;
        }
        Ok(())
    }
}

/// Gives `message` its record id (DESIGN.md §2): its native id's, unless it is an email
/// whose Message-ID another message of the account holds; then its blob's, both are marked
/// as duplicates (in `ledger`, written once the batch is printed), and the id of the other
/// is returned.
fn claim_id(
    store: &dyn Recorded,
    ledger: &mut Ledger,
    message: &mut Message,
) -> Result<Option<String>, store::Error> {
    message.id = message_id(&message.protocol, &message.account, &message.native_id);
    // Only a Message-ID is the sender's to choose: other protocols' native ids are given by
    // the platform, and an email without one is already named by its blob.
    if message.protocol != "email" || message.native_id == message.blob {
        return Ok(None);
    }
    let holder = match ledger.claims.get(&message.id) {
        Some(claim) => Some(claim.clone()),
        None => store.record_id_holder(&message.id)?,
    };
    match holder {
        None => {
            ledger
                .claims
                .insert(message.id.clone(), (message.blob.clone(), false));
            return Ok(None);
        }
        Some((blob, duplicate)) if blob == message.blob => {
            if duplicate {
                message.problems.push(DUPLICATE_MESSAGE_ID.into());
            }
            return Ok(None);
        }
        Some(_) => {}
    }
    let first = std::mem::replace(
        &mut message.id,
        message_id(&message.protocol, &message.account, &message.blob),
    );
    ledger
        .claims
        .insert(message.id.clone(), (message.blob.clone(), true));
    if let Some((blob, _)) = ledger.claims.get(&first).cloned() {
        ledger.claims.insert(first.clone(), (blob, true));
    } else if let Some((blob, _)) = store.record_id_holder(&first)? {
        ledger.claims.insert(first.clone(), (blob, true));
    }
    message.problems.push(DUPLICATE_MESSAGE_ID.into());
    Ok(Some(first))
}

/// `jsonl:` sources: records are passed through, bad lines reported.
fn pass_through<S: Sink, E: Write>(
    path: Option<&std::path::Path>,
    out: &mut S,
    errors: &mut ErrorSink<E>,
    summary: &mut Summary,
) -> Result<(), Error> {
    let input: Box<dyn std::io::BufRead> = match path {
        None => Box::new(std::io::stdin().lock()),
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(|e| source::Error::io(path, e))?,
        )),
    };
    let origin = path.map_or_else(|| "stdin".to_string(), |p| p.display().to_string());
    for record in Reader::new(input, origin) {
        match record {
            Ok(record) => {
                out.put(record)?;
                summary.printed += 1;
            }
            Err(error) => {
                errors.report(&error.to_record());
                summary.failed += 1;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Auth;
    use crate::tls::Tls;

    /// A terminal that logs what is drawn on it, and what is written to stderr beside it.
    #[derive(Debug, Clone, Default)]
    struct Terminal(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl Terminal {
        fn log(&self, entry: String) -> std::io::Result<()> {
            self.0.lock().unwrap().push(entry);
            Ok(())
        }
        fn entries(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }

    impl indicatif::TermLike for Terminal {
        fn width(&self) -> u16 {
            100
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, line: &str) -> std::io::Result<()> {
            self.log(format!("draw {line}"))
        }
        fn write_str(&self, text: &str) -> std::io::Result<()> {
            self.log(format!("draw {text}"))
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.log("clear".into())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Write for Terminal {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.log(format!("stderr {}", String::from_utf8_lossy(bytes)))?;
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_warning_lifts_the_spinner_and_the_rate_is_whole() {
        let terminal = Terminal::default();
        let bars = indicatif::MultiProgress::with_draw_target(
            indicatif::ProgressDrawTarget::term_like(Box::new(terminal.clone())),
        );
        let bar = progress_bar(&bars, "work");
        bar.inc(3008);
        bar.tick();
        let mut errors = ErrorSink::new(terminal.clone(), false);
        errors.over_progress(Some(bars.clone()));
        errors.warn("work/cur/1", "m_1", "no Message-ID");
        bar.tick();
        let entries = terminal.entries();
        let drawn: Vec<&String> = entries.iter().filter(|e| e.starts_with("draw")).collect();
        assert!(
            drawn
                .iter()
                .any(|line| line.contains("work 3,008 messages, ")
                    && line.trim_end().ends_with("/s")
                    && !line.contains('.')),
            "{entries:?}"
        );
        let warning = entries
            .iter()
            .position(|e| e.starts_with("stderr"))
            .expect("the warning is written");
        let written: String = entries
            .iter()
            .filter_map(|e| e.strip_prefix("stderr "))
            .collect();
        assert_eq!(written, "missive: work/cur/1 m_1: no Message-ID\n");
        assert_eq!(
            entries[warning - 1],
            "clear",
            "the spinner is lifted first: {entries:?}"
        );
        assert!(
            entries[warning + 1..].iter().any(|e| e.starts_with("draw")),
            "and drawn again after: {entries:?}"
        );
    }

    fn parse(text: &str) -> Result<Config, crate::config::Error> {
        source::account::parse_config(
            text,
            Path::new("/etc/m/config.toml"),
            Some(Path::new("/home/u")),
        )
    }

    #[test]
    fn a_source_under_home_is_expanded() {
        let config = parse("[accounts.a]\nsource = \"maildir:~/Mail\"\n").unwrap();
        let targets = Target::for_accounts(&config, &[], Some(Path::new("/home/u"))).unwrap();
        assert_eq!(targets[0].spec, Spec::Maildir("/home/u/Mail".into()));
        assert_eq!(targets[0].account, "a");
        assert!(Target::for_accounts(&config, &["b".into()], None).is_err());
        let relative = parse("[accounts.a]\nsource = \"maildir:Mail\"\n").unwrap();
        let targets = Target::for_accounts(&relative, &[], None).unwrap();
        assert_eq!(
            targets[0].spec,
            Spec::Maildir("/etc/m/Mail".into()),
            "beside the config"
        );
    }

    #[test]
    fn an_imap_account_takes_its_login_settings() {
        let config = parse(
            "[accounts.work]\nsource = \"imap://me@mail.example.org:143\"\nmailboxes = [\"INBOX\", '\\Sent']\npassword_command = \"pass mail\"\nca_file = \"~/ca.pem\"\n",
        )
        .unwrap();
        let targets = Target::for_accounts(&config, &[], Some(Path::new("/home/u"))).unwrap();
        let Spec::Imap(settings) = &targets[0].spec else {
            panic!("not imap: {:?}", targets[0].spec)
        };
        assert_eq!(settings.access.tls, Tls::Starttls);
        assert_eq!(settings.mailboxes, ["INBOX", "\\Sent"]);
        assert_eq!(
            settings.access.ca_file.as_deref(),
            Some(Path::new("/home/u/ca.pem"))
        );
        assert_eq!(
            settings.access.auth,
            Some(Auth::PasswordCommand("pass mail".into()))
        );
        assert_eq!(targets[0].account, "work");
    }

    #[test]
    fn an_imap_uri_borrows_the_login_of_the_account_on_the_same_server() {
        let config = parse(
            "[accounts.w]\nsource = \"imap://me@h:1143\"\ntls = \"starttls\"\npassword_command = \"pw\"\n",
        )
        .unwrap();
        let spec = Spec::parse("imap://me@h:1143/Archive", Path::new("/")).unwrap();
        let target = Target::for_source(&config, spec, None, &[]);
        assert_eq!(target.account, "imap://me@h:1143/Archive");
        let Spec::Imap(settings) = target.spec else {
            panic!("not imap")
        };
        assert_eq!(
            settings.access.auth,
            Some(Auth::PasswordCommand("pw".into()))
        );
        assert_eq!(settings.access.tls, Tls::Starttls);
        assert_eq!(settings.mailboxes, ["Archive"]);
    }

    #[test]
    fn a_mastodon_account_takes_its_token_command_and_tls_settings() {
        let config = parse(
            "[accounts.s]\nsource = \"mastodon://alex@Social.Example:8443\"\ntoken_command = \"pass tok\"\nca_file = \"ca.pem\"\n",
        )
        .unwrap();
        let targets = Target::for_accounts(&config, &[], None).unwrap();
        let Spec::Mastodon(settings) = &targets[0].spec else {
            panic!("not mastodon: {:?}", targets[0].spec)
        };
        assert_eq!(
            settings.access.auth,
            Some(Auth::TokenCommand("pass tok".into()))
        );
        assert_eq!(
            settings.access.ca_file.as_deref(),
            Some(Path::new("/etc/m/ca.pem"))
        );
        assert_eq!(settings.origin(), "https://social.example:8443");
        let spec = Spec::parse("mastodon://social.example:8443", Path::new("/")).unwrap();
        let Spec::Mastodon(borrowed) = Target::for_source(&config, spec, None, &[]).spec else {
            panic!("not mastodon")
        };
        assert_eq!(
            borrowed.access.auth,
            Some(Auth::TokenCommand("pass tok".into()))
        );
        for (extra, expected) in [
            ("", "token_command"),
            ("token_command = \"t\"\ntls = \"none\"\n", "insecure = true"),
            ("token_command = \"t\"\ntls = \"starttls\"\n", "for IMAP"),
            ("password_command = \"p\"\n", "not password_command"),
            (
                "token_command = \"t\"\nmailboxes = [\"INBOX\"]\n",
                "mailboxes",
            ),
        ] {
            let error = parse(&format!(
                "[accounts.s]\nsource = \"mastodon://social.example\"\n{extra}"
            ))
            .unwrap_err()
            .to_string();
            assert!(
                error.contains(expected) && error.contains("s"),
                "{extra}: {error}"
            );
        }
    }
}
