//! Where messages come from: the [`Source`] trait, and [`Spec`], which turns a source as the
//! user writes it (`maildir:PATH`, `mbox:PATH`, `eml:PATH|-`, `jsonl:PATH|-`,
//! `imap://user@host[:port]/MAILBOX`, `mastodon://[user@]instance`, `twitter-archive:ZIP|DIR`,
//! `facebook-export:ZIP|DIR`, `signal:PATH|-`, `matrix-export:FILE|DIR|ZIP`) into one.
//!
//! A source only finds raw messages and says where each came from; parsing mail is
//! [`crate::email`]'s job ([`export`]'s for the messages of a platform's export; a source
//! of another protocol reads its own, [`Raw::Read`]), and
//! deciding what is new is [`crate::fetch`]'s.

pub mod access;
pub mod account;
pub mod export;
pub mod imap;
mod maildir;
pub mod mastodon;
mod mbox;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::record::{Message, SourceRef};
use crate::store::db::FileStamp;
use export::{facebook, matrix, signal, twitter};

pub use maildir::{Maildir, file_flags as maildir_flags, unique as maildir_unique};
pub use mbox::Mbox;

/// The error returned when a source cannot be named or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bad source {spec:?}: {reason}")]
    BadSpec { spec: String, reason: String },
    #[error("cannot read {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    #[error(transparent)]
    Imap(#[from] imap::Error),
    /// An export that cannot be opened at all (a truncated zip); one bad file inside a
    /// readable export is reported in [`Scan::failed`] instead.
    #[error("cannot read the export {path}: {reason}")]
    Export { path: PathBuf, reason: String },
    #[error(transparent)]
    Mastodon(#[from] mastodon::Error),
    /// The consumer of the messages stopped the scan; it holds the reason.
    #[error("stopped by the consumer of messages")]
    Stopped,
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

crate::fault::carried_by!(Error: Store, Imap, Mastodon);

/// A source as named on the command line or in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    Maildir(PathBuf),
    Mbox(PathBuf),
    /// One message; `None` is standard input.
    Eml(Option<PathBuf>),
    /// Records passed through; `None` is standard input.
    Jsonl(Option<PathBuf>),
    /// Mailboxes of an IMAP server.
    Imap(Box<imap::Settings>),
    /// A Twitter/X archive, zipped or not.
    TwitterArchive(PathBuf),
    /// A Facebook export in JSON, zipped or not.
    FacebookExport(PathBuf),
    /// `signal-cli -o json receive` output; a `path` of `None` is standard input. `number`
    /// is the user's, when the configured account names it.
    Signal {
        path: Option<PathBuf>,
        number: Option<String>,
    },
    /// Element's JSON export of Matrix rooms: one file, a directory or a zip of them.
    MatrixExport(PathBuf),
    /// The direct messages of a Mastodon account.
    Mastodon(Box<mastodon::Settings>),
}

impl Spec {
    /// Parses `kind:PATH`. Paths are made absolute against `cwd` and resolved when they
    /// exist, so the same directory gives the same source key wherever missive is started.
    pub fn parse(text: &str, cwd: &Path) -> Result<Spec, Error> {
        let bad = |reason: &str| Error::BadSpec {
            spec: text.to_string(),
            reason: reason.to_string(),
        };
        if text.starts_with("imap://") {
            return imap::Settings::parse_uri(text)
                .map(|settings| Spec::Imap(Box::new(settings)))
                .map_err(|reason| bad(&reason));
        }
        if text.starts_with("mastodon://") {
            return mastodon::Settings::parse_uri(text)
                .map(|settings| Spec::Mastodon(Box::new(settings)))
                .map_err(|reason| bad(&reason));
        }
        let (kind, rest) = text
            .split_once(':')
            .ok_or_else(|| bad("expected KIND:PATH, where KIND is maildir, mbox, eml, jsonl, twitter-archive, facebook-export, signal or matrix-export, or imap://USER@HOST/MAILBOX, or mastodon://INSTANCE"))?;
        if rest.is_empty() {
            return Err(bad("no path after the colon"));
        }
        let path = || {
            let joined = cwd.join(rest);
            std::fs::canonicalize(&joined).unwrap_or(joined)
        };
        let stdin_or_path = || (rest != "-").then(path);
        Ok(match kind {
            "maildir" => Spec::Maildir(path()),
            "mbox" => Spec::Mbox(path()),
            "eml" => Spec::Eml(stdin_or_path()),
            "jsonl" => Spec::Jsonl(stdin_or_path()),
            twitter::KIND => Spec::TwitterArchive(path()),
            facebook::KIND => Spec::FacebookExport(path()),
            signal::KIND => Spec::Signal {
                path: stdin_or_path(),
                number: None,
            },
            matrix::KIND => Spec::MatrixExport(path()),
            other => {
                return Err(bad(&format!(
                    "unknown kind {other:?}; known: maildir, mbox, eml, jsonl, twitter-archive, \
                     facebook-export, signal, matrix-export, imap://, mastodon://"
                )));
            }
        })
    }

    /// The source that reads raw messages of this kind; `None` for JSON Lines, which holds
    /// records, not messages. `limits` bound what one input may cost (a zip entry's size, an
    /// IMAP server's line).
    pub fn open(&self, limits: &crate::config::Limits) -> Option<Box<dyn Source>> {
        let unpacked = limits.unpacked_bytes();
        match self {
            Spec::Maildir(path) => Some(Box::new(Maildir(path.clone()))),
            Spec::Mbox(path) => Some(Box::new(Mbox(path.clone()))),
            Spec::Eml(path) => Some(Box::new(Eml(path.clone()))),
            Spec::Jsonl(_) => None,
            Spec::Imap(settings) => Some(Box::new(imap::Imap::new(
                (**settings).clone(),
                limits.imap_line_bytes(),
            ))),
            Spec::TwitterArchive(path) => Some(Box::new(export::Export::<twitter::Twitter>::new(
                path, unpacked,
            ))),
            Spec::FacebookExport(path) => Some(Box::new(
                export::Export::<facebook::Facebook>::new(path, unpacked),
            )),
            Spec::Signal { path, number } => Some(Box::new(signal::Signal {
                path: path.clone(),
                number: number.clone(),
            })),
            Spec::MatrixExport(path) => Some(Box::new(export::Export::<matrix::Matrix>::new(
                path, unpacked,
            ))),
            Spec::Mastodon(settings) => {
                Some(Box::new(mastodon::Mastodon::new((**settings).clone())))
            }
        }
    }

    /// The platform of an export (the protocol of its records, `twitter`, …); `None` for
    /// the other sources.
    pub fn export_platform(&self) -> Option<&'static str> {
        match self {
            Spec::TwitterArchive(_) => Some(twitter::PROTOCOL),
            Spec::FacebookExport(_) => Some(facebook::PROTOCOL),
            Spec::Signal { .. } => Some(signal::PROTOCOL),
            Spec::MatrixExport(_) => Some(matrix::PROTOCOL),
            _ => None,
        }
    }

    /// Whether the source is a server, whose time goes in waiting on the network: such
    /// sources are fetched together, each from a thread of its own.
    pub fn is_remote(&self) -> bool {
        matches!(self, Spec::Imap(_) | Spec::Mastodon(_))
    }

    /// What a source of local files reads: the protocol they hold (`email` for Maildir,
    /// mbox and eml, else the export's kind) and its path; `None` for standard input,
    /// JSON Lines and servers.
    pub fn local(&self) -> Option<(&'static str, &Path)> {
        match self {
            Spec::Maildir(p) | Spec::Mbox(p) | Spec::Eml(Some(p)) => Some(("email", p)),
            Spec::TwitterArchive(p) => Some((twitter::KIND, p)),
            Spec::FacebookExport(p) => Some((facebook::KIND, p)),
            Spec::Signal { path: Some(p), .. } => Some((signal::KIND, p)),
            Spec::MatrixExport(p) => Some((matrix::KIND, p)),
            Spec::Eml(None) | Spec::Signal { path: None, .. } | Spec::Jsonl(_) => None,
            Spec::Imap(_) | Spec::Mastodon(_) => None,
        }
    }

    /// The key under which the store keeps this source's state, and its account when no
    /// configured account holds it ([`account::owner`]).
    pub fn key(&self) -> String {
        let path = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "-".into())
        };
        match self {
            Spec::Maildir(p) => format!("maildir:{}", p.display()),
            Spec::Mbox(p) => format!("mbox:{}", p.display()),
            Spec::Eml(p) => format!("eml:{}", path(p)),
            Spec::Jsonl(p) => format!("jsonl:{}", path(p)),
            Spec::Imap(settings) => settings.key(),
            Spec::TwitterArchive(p) => format!("{}:{}", twitter::KIND, p.display()),
            Spec::FacebookExport(p) => format!("{}:{}", facebook::KIND, p.display()),
            Spec::Signal { path: p, .. } => format!("{}:{}", signal::KIND, path(p)),
            Spec::MatrixExport(p) => format!("{}:{}", matrix::KIND, p.display()),
            Spec::Mastodon(settings) => settings.key(),
        }
    }
}

/// The raw bytes of a message, or the file that holds them (read later, in parallel).
#[derive(Debug)]
pub enum Raw {
    File(PathBuf),
    Bytes(Vec<u8>),
    /// A message the source read itself (not email), with the raw bytes it was read from.
    Read(Box<Message>, Vec<u8>),
}

/// One raw message a source found.
#[derive(Debug)]
pub struct Item {
    pub raw: Raw,
    pub source: SourceRef,
    pub flags: Vec<String>,
    /// The file's stamp, when the file is this one message, to skip it next time.
    pub stamp: Option<(String, FileStamp)>,
    /// True when the bytes exist nowhere else (standard input, a server), so they go to the
    /// archive.
    pub ephemeral: bool,
    /// For a message from a server: what to remember once it is durable.
    pub remote: Option<Remote>,
}

/// What a message from a server adds to an [`Item`]: the key of its mailbox, under which
/// the store remembers the content printed and the cursor, and the cursor to set once the
/// message is in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// The mailbox's key (`imap://user@host:port/INBOX`).
    pub key: String,
    /// Cursor names and values to set, in the same transaction as the message is recorded.
    pub cursor: Vec<(&'static str, String)>,
    /// True when the mailbox is being read again from the start (its UIDVALIDITY changed),
    /// or when the source may hand a message on again (Mastodon reads a thread again when
    /// it grows): a message whose native id was printed from this key before is not printed
    /// again, even if the server changed its bytes.
    pub resync: bool,
    /// When the server received the message (IMAP INTERNALDATE), RFC 3339 in UTC: the
    /// record's date when the message has no readable Date nor a dated Received header.
    pub received: Option<String>,
}

/// What the store remembers of a source from earlier runs.
#[derive(Default)]
pub struct Known {
    /// The stamp of every file read, by path (for a source read folder by folder, in
    /// [`Known::folders`] instead).
    pub files: HashMap<String, FileStamp>,
    /// Cursors, by (key, name): the source's own and those of its mailboxes.
    pub cursors: HashMap<(String, String), String>,
    /// For a source read folder by folder (a Maildir): what the store recorded of each.
    pub folders: Option<Folders>,
}

/// What the store recorded of the folders of a source read folder by folder (a Maildir's
/// `cur/` and `new/`): the folders read before, and the files of one folder, asked for
/// only when it is read again; so a run that finds nothing new reads no file's record.
pub struct Folders {
    /// A connection of its own, since the source is scanned in a thread of its own.
    db: std::sync::Mutex<crate::store::db::Db>,
    key: String,
    recorded: HashMap<String, Option<i64>>,
}

impl Folders {
    /// The folders `db` recorded for the source key `key`.
    pub fn new(db: crate::store::db::Db, key: String) -> Result<Folders, Error> {
        let recorded = db.folders(&key)?;
        Ok(Folders {
            db: std::sync::Mutex::new(db),
            key,
            recorded,
        })
    }

    /// Each folder read before, by path, with its mtime then when it may be skipped while
    /// that is unchanged.
    pub fn recorded(&self) -> &HashMap<String, Option<i64>> {
        &self.recorded
    }

    /// The stamp of each recorded file whose path starts with one of `prefixes`.
    pub fn files(&self, prefixes: &[String]) -> Result<HashMap<String, FileStamp>, Error> {
        let db = self
            .db
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(db.file_stamps(&self.key, Some(prefixes))?)
    }
}

/// What a scan learnt beside the messages.
#[derive(Debug, Default)]
pub struct Scan {
    /// Files read whole (an mbox) to stamp once all their messages are processed.
    pub containers: Vec<(String, FileStamp)>,
    /// Known files that are gone.
    pub gone: Vec<String>,
    /// The folders read (of a source read folder by folder), each with its mtime when a
    /// later run may skip it while that is unchanged; to record once every file handed on
    /// is.
    pub folders: Vec<(String, Option<i64>)>,
    /// Recorded folders that are gone.
    pub folders_gone: Vec<String>,
    /// Folders not read, unchanged since they were.
    pub folders_skipped: u64,
    /// Files that could not be read, each reported; the rest of the source was.
    pub failed: Vec<crate::record::ErrorRecord>,
    /// Cursors to set once every message handed on is recorded: (key, name, value).
    pub cursors: Vec<(String, &'static str, String)>,
    /// What the source noticed that is not a message and did not stop it (a status deleted
    /// on the server): (where, native id or what, what happened), reported as warnings.
    pub notices: Vec<(String, String, String)>,
}

/// A place that holds raw messages; sources are scanned from threads of their own.
pub trait Source: Send {
    /// Passes every message to `emit`, skipping files whose stamp in `known` is unchanged
    /// and messages before the cursors in `known`.
    fn scan(
        &self,
        known: &Known,
        emit: &mut dyn FnMut(Item) -> Result<(), Error>,
    ) -> Result<Scan, Error>;
}

/// Reads raw bytes into a record, by the kind of source they came from: a message of a
/// platform's export ([`export::read`]) or an email ([`crate::email::read`]).
pub fn read(kind: &str, raw: &[u8]) -> crate::record::Message {
    if export::is_export(kind) {
        export::read(raw)
    } else {
        crate::email::read(raw)
    }
}

/// A stored message read again from its raw bytes, for the protocols and exports whose
/// reading can change (`index --rebuild`); `None` for the others, whose stored record stands. What the
/// raw bytes cannot say (id, account, source, flags, privacy, unknown fields, and a Mastodon
/// status's place in its thread) is kept from `stored`.
pub fn read_again(stored: &Message, raw: &[u8]) -> Option<Message> {
    let mut fresh = match stored.protocol.as_str() {
        "email" => crate::email::read(raw),
        "mastodon" => {
            let instance = stored.source.instance.as_deref()?;
            let mut fresh = mastodon::read(raw, instance).ok()?;
            fresh.in_reply_to = stored.in_reply_to.clone();
            fresh.references = stored.references.clone();
            fresh
        }
        _ if export::is_export(&stored.source.kind) => export::read(raw),
        _ => return None,
    };
    fresh.id = stored.id.clone();
    fresh.account = stored.account.clone();
    fresh.source = stored.source.clone();
    fresh.flags = stored.flags.clone();
    fresh.privacy = stored.privacy.clone();
    fresh.extra = stored.extra.clone();
    Some(fresh)
}

/// The stamp of a file from its metadata.
pub(crate) fn stamp(metadata: &std::fs::Metadata) -> FileStamp {
    use std::os::unix::fs::MetadataExt;
    FileStamp {
        size: metadata.len(),
        mtime_ns: metadata.mtime() * 1_000_000_000 + metadata.mtime_nsec(),
    }
}

/// One message file (`eml:PATH`), or standard input (`eml:-`).
pub struct Eml(pub Option<PathBuf>);

impl Source for Eml {
    fn scan(
        &self,
        known: &Known,
        emit: &mut dyn FnMut(Item) -> Result<(), Error>,
    ) -> Result<Scan, Error> {
        let source = SourceRef {
            kind: "eml".into(),
            path: self.0.as_ref().map(|p| p.display().to_string()),
            ..SourceRef::default()
        };
        match &self.0 {
            None => {
                let mut raw = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut raw)
                    .map_err(|e| Error::io(Path::new("-"), e))?;
                emit(Item {
                    raw: Raw::Bytes(raw),
                    source,
                    flags: Vec::new(),
                    stamp: None,
                    ephemeral: true,
                    remote: None,
                })?;
            }
            Some(path) => {
                let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
                let key = path.display().to_string();
                let stamp = stamp(&metadata);
                if known.files.get(&key) != Some(&stamp) {
                    emit(Item {
                        raw: Raw::File(path.clone()),
                        source,
                        flags: Vec::new(),
                        stamp: Some((key, stamp)),
                        ephemeral: false,
                        remote: None,
                    })?;
                }
            }
        }
        Ok(Scan::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_paths_made_absolute() {
        let cwd = Path::new("/home/u");
        assert_eq!(
            Spec::parse("maildir:Mail", cwd).unwrap(),
            Spec::Maildir("/home/u/Mail".into())
        );
        assert_eq!(
            Spec::parse("mbox:/var/m", cwd).unwrap(),
            Spec::Mbox("/var/m".into())
        );
        assert_eq!(Spec::parse("eml:-", cwd).unwrap(), Spec::Eml(None));
        assert_eq!(Spec::parse("jsonl:-", cwd).unwrap().key(), "jsonl:-");
        assert_eq!(
            Spec::parse("mastodon://Social.Example", cwd).unwrap().key(),
            "mastodon://social.example"
        );
        assert_eq!(
            Spec::parse("maildir:Mail", cwd).unwrap().key(),
            "maildir:/home/u/Mail"
        );
        assert_eq!(
            Spec::parse("twitter-archive:t.zip", cwd).unwrap(),
            Spec::TwitterArchive("/home/u/t.zip".into())
        );
        assert_eq!(
            Spec::parse("facebook-export:fb", cwd).unwrap().key(),
            "facebook-export:/home/u/fb"
        );
        assert_eq!(
            Spec::parse("signal:-", cwd).unwrap(),
            Spec::Signal {
                path: None,
                number: None
            }
        );
        assert_eq!(
            Spec::parse("matrix-export:room.json", cwd).unwrap().key(),
            "matrix-export:/home/u/room.json"
        );
    }

    #[test]
    fn a_mastodon_status_is_read_again_keeping_what_only_its_thread_said() {
        let raw = br#"{"id":"7","uri":"https://social.example/users/ann/statuses/7","created_at":"2024-03-01T10:00:00Z","visibility":"direct","content":"<p>hi</p>","account":{"acct":"ann","display_name":"Ann"},"mentions":[{"acct":"bo@other.example"}]}"#;
        let stored = Message {
            id: "m_stored".into(),
            protocol: "mastodon".into(),
            account: "social".into(),
            source: SourceRef {
                kind: "mastodon".into(),
                instance: Some("social.example".into()),
                ..SourceRef::default()
            },
            in_reply_to: vec!["https://other.example/users/bo/statuses/6".into()],
            ..Message::default()
        };
        let fresh = read_again(&stored, raw).expect("read again");
        assert_eq!(fresh.id, "m_stored");
        assert_eq!(
            fresh.from.as_ref().map(|a| a.address.as_str()),
            Some("@ann@social.example")
        );
        assert_eq!(fresh.to[0].address, "@bo@other.example");
        assert_eq!(fresh.text, "hi");
        assert_eq!(
            fresh.in_reply_to, stored.in_reply_to,
            "the parent came from the thread"
        );
        let elsewhere = Message {
            protocol: "twitter".into(),
            ..stored
        };
        assert!(
            read_again(&elsewhere, raw).is_none(),
            "its stored record stands"
        );
    }

    #[test]
    fn a_bad_spec_names_itself_and_what_is_expected() {
        let cwd = Path::new("/");
        let error = Spec::parse("pop3:x", cwd).unwrap_err().to_string();
        assert!(
            error.contains("\"pop3:x\"") && error.contains("unknown kind"),
            "{error}"
        );
        let error = Spec::parse("Mail", cwd).unwrap_err().to_string();
        assert!(error.contains("expected KIND:PATH"), "{error}");
        assert!(Spec::parse("mbox:", cwd).is_err());
    }
}
