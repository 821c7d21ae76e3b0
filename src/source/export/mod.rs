//! Platform exports (Twitter/X, Facebook, Matrix; Signal's JSON lines too): the files of an
//! export, zipped or not (`Files`), the blob every message of one is archived as, and
//! [`read`], which turns a blob into a record again by handing it to its platform's mapping.
//! Each platform is a file of its own here (`twitter.rs`, `facebook.rs`, `signal.rs`,
//! `matrix.rs`): it splits its export into messages and maps one to a record, with the
//! helpers of this module; this module dispatches to them and none of them imports another.
//!
//! A blob is one JSON object, `{"format", "entry", "context", "message"}`: `message` is the
//! message's own object as the export holds it, `context` what the platform's mapping needs
//! beside it (the conversation's participants, the owner's screen name, whether the room is
//! encrypted). A blob alone is enough to make the record again, so `missive index --rebuild`
//! re-reads these messages as it re-reads mail.
//!
//! A blob also names the export's `owner` where the platform does (a Twitter archive's
//! account id, signal-cli's `account`), and [`read`] makes the record's `account` of it:
//! `PLATFORM:OWNER`, or the platform alone. That is the account of an export no configured
//! account holds (DESIGN.md §2), so that its ids do not depend on where its file lies.

pub(super) mod facebook;
pub(super) mod matrix;
pub(super) mod signal;
pub(super) mod twitter;

use std::fs::File;
use std::io::Read;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Error, Item, Known, Raw, Scan, Source, stamp};
use crate::record::{Attachment, ErrorRecord, Message, SourceRef, blob_name};

/// The source kinds whose messages are blobs of this module.
const KINDS: &[&str] = &[twitter::KIND, facebook::KIND, signal::KIND, matrix::KIND];

/// Whether records of source `kind` are read by [`read`].
pub fn is_export(kind: &str) -> bool {
    KINDS.contains(&kind)
}

/// One message of an export as it is archived.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Blob {
    /// The source kind that read it (`twitter-archive`, …): which mapping applies.
    pub format: String,
    /// The file of the export it came from, relative to the export's root.
    pub entry: String,
    /// What the mapping needs beside the message.
    pub context: Value,
    /// The message as the export holds it.
    pub message: Value,
    /// The export's owner as the platform names them, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A record from an archived blob; its `account` is the blob's owner's (`PLATFORM:OWNER`,
/// or the platform alone when the export names no owner). Reading never fails: a blob that
/// cannot be mapped still becomes a record with its blob name as native id and a
/// `problems` entry, and no account.
pub fn read(raw: &[u8]) -> Message {
    let blob = blob_name(raw);
    let mapped = serde_json::from_slice::<Blob>(raw)
        .map_err(|e| format!("not an export blob: {e}"))
        .and_then(|b| {
            let mut message = match b.format.as_str() {
                twitter::KIND => twitter::map(&b.context, &b.message),
                facebook::KIND => facebook::map(&b.context, &b.message),
                signal::KIND => signal::map(&b.context, &b.message),
                matrix::KIND => matrix::map(&b.context, &b.message),
                other => Err(format!("unknown export format {other:?}")),
            }?;
            message.account = match &b.owner {
                Some(owner) => format!("{}:{owner}", message.protocol),
                None => message.protocol.clone(),
            };
            Ok(message)
        });
    let mut message = match mapped {
        Ok(message) => message,
        Err(problem) => Message {
            protocol: UNREADABLE.into(),
            native_id: blob.clone(),
            problems: vec![problem],
            ..Message::default()
        },
    };
    message.v = crate::record::VERSION;
    message.blob = blob;
    message
}

/// What, beside its record id, makes a record of an export one fetch has not printed yet:
/// nothing for a message, when it was edited for an edit of it (a record of the same id
/// with the new text and `edited`).
pub fn revision(message: &Message) -> &str {
    message
        .extra
        .get(EDITED)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The field of a record made from an edit of a message: when it was edited (RFC 3339).
pub(crate) const EDITED: &str = "edited";

/// Whether [`read`] could make nothing of a blob: the record is kept, and counted as failed.
pub fn is_unreadable(message: &Message) -> bool {
    message.protocol == UNREADABLE
}

/// The protocol of a record whose blob could not be read.
const UNREADABLE: &str = "unknown";

/// The files of an export: a directory, a zip, or one plain file.
pub(crate) enum Files {
    /// A directory, walked once when opened: the files found, by name, and what was refused
    /// (symlinks out of it), to report.
    Dir {
        root: PathBuf,
        found: Vec<String>,
        refused: Vec<ErrorRecord>,
    },
    /// A zip; no entry unpacks to more than `limit` bytes.
    Zip {
        path: PathBuf,
        archive: zip::ZipArchive<File>,
        limit: u64,
    },
    Single(PathBuf),
}

impl Files {
    /// Opens `path`: a directory, a zip (by its signature), or any other file as itself.
    /// A zip entry that unpacks to more than `limit` bytes is refused when read.
    pub fn open(path: &Path, limit: u64) -> Result<Files, Error> {
        let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if metadata.is_dir() {
            let root = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
            let mut walk = Walk {
                root: root.clone(),
                visited: std::collections::HashSet::new(),
                found: Vec::new(),
                refused: Vec::new(),
            };
            walk.dir(&root);
            return Ok(Files::Dir {
                root,
                found: walk.found,
                refused: walk.refused,
            });
        }
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut signature = [0u8; 2];
        let is_zip = file.read_exact(&mut signature).is_ok() && &signature == b"PK";
        if !is_zip {
            return Ok(Files::Single(path.to_path_buf()));
        }
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let archive = zip::ZipArchive::new(file).map_err(|e| Error::Export {
            path: path.to_path_buf(),
            reason: format!("not a readable zip: {e}"),
        })?;
        Ok(Files::Zip {
            path: path.to_path_buf(),
            archive,
            limit,
        })
    }

    /// Every file, by its path relative to the export's root with `/` between components,
    /// sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names = match self {
            Files::Dir { found, .. } => found.clone(),
            Files::Zip { archive, .. } => archive
                .file_names()
                .filter_map(Result::ok)
                .filter(|name| !name.ends_with('/'))
                .map(|name| name.into_owned())
                .collect(),
            Files::Single(path) => vec![
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ],
        };
        names.sort();
        names
    }

    /// What was found in a directory and not read: symlinks out of it.
    pub fn refused(&self) -> &[ErrorRecord] {
        match self {
            Files::Dir { refused, .. } => refused,
            _ => &[],
        }
    }

    /// The bytes of the file `name`, or why they cannot be read.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, String> {
        match self {
            Files::Dir { root, .. } => {
                std::fs::read(inside(root, name)?).map_err(|e| e.to_string())
            }
            Files::Single(path) => std::fs::read(path).map_err(|e| e.to_string()),
            Files::Zip { archive, limit, .. } => {
                let entry = archive.by_name(name).map_err(|e| e.to_string())?;
                let too_large = || {
                    format!(
                        "unpacks to more than {} MiB, the limit ([limits] unpacked_mib in the config)",
                        *limit >> 20
                    )
                };
                // The size the zip declares can lie: the bytes are counted as they unpack (and
                // the zip crate fails a read past the declared size, a corrupt entry).
                if entry.size() > *limit {
                    return Err(too_large());
                }
                let mut bytes = Vec::new();
                entry
                    .take(*limit + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("corrupt entry: {e}"))?;
                if bytes.len() as u64 > *limit {
                    return Err(too_large());
                }
                Ok(bytes)
            }
        }
    }

    /// The size of the file `name`, if there is one.
    pub fn size(&mut self, name: &str) -> Option<u64> {
        match self {
            Files::Dir { root, .. } => std::fs::metadata(inside(root, name).ok()?)
                .ok()
                .map(|m| m.len()),
            Files::Single(_) => None,
            Files::Zip { archive, .. } => archive.by_name(name).ok().map(|e| e.size()),
        }
    }

    /// Where `name` is, for an error: its path, or the zip and the entry in it.
    pub fn location(&self, name: &str) -> String {
        match self {
            Files::Dir { root, .. } => root.join(name).display().to_string(),
            Files::Single(path) => path.display().to_string(),
            Files::Zip { path, .. } => format!("{} (entry {name})", path.display()),
        }
    }

    /// The path read when `name` is read, when it is a file of its own (in a directory), to
    /// skip it next time it is unchanged.
    fn own_file(&self, name: &str) -> Option<PathBuf> {
        match self {
            Files::Dir { root, .. } => Some(root.join(name)),
            _ => None,
        }
    }
}

/// The path of `name` in the directory `root` once symlinks are resolved, when it is inside
/// `root`: a name from an export's own data (a media URI) must not read beside it.
fn inside(root: &Path, name: &str) -> Result<PathBuf, String> {
    let path = std::fs::canonicalize(root.join(name)).map_err(|e| e.to_string())?;
    if path.starts_with(root) {
        Ok(path)
    } else {
        Err(format!("leads out of the export, to {}", path.display()))
    }
}

/// A walk of an export's directory: symlinks are followed only while they stay inside
/// `root`, and each directory is entered once, so two links to `.` cannot make it loop.
struct Walk {
    /// The root, canonical.
    root: PathBuf,
    /// Directories entered, by device and inode.
    visited: std::collections::HashSet<(u64, u64)>,
    /// Files found, relative to the root.
    found: Vec<String>,
    refused: Vec<ErrorRecord>,
}

impl Walk {
    fn dir(&mut self, dir: &Path) {
        use std::os::unix::fs::MetadataExt;
        let Ok(metadata) = std::fs::metadata(dir) else {
            return;
        };
        if !self.visited.insert((metadata.dev(), metadata.ino())) {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let is_dir = if kind.is_symlink() {
                match std::fs::canonicalize(&path) {
                    Ok(target) if target.starts_with(&self.root) => target.is_dir(),
                    Ok(target) => {
                        self.refused.push(ErrorRecord::new(
                            path.display().to_string(),
                            format!(
                                "a symlink out of the export, to {}: not read",
                                target.display()
                            ),
                        ));
                        continue;
                    }
                    Err(e) => {
                        self.refused.push(ErrorRecord::new(
                            path.display().to_string(),
                            format!("a symlink that cannot be followed: {e}"),
                        ));
                        continue;
                    }
                }
            } else {
                kind.is_dir()
            };
            if is_dir {
                self.dir(&path);
            } else if let Ok(relative) = path.strip_prefix(&self.root) {
                let parts: Vec<String> = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                self.found.push(parts.join("/"));
            }
        }
    }
}

/// One message of an export, with what its mapping needs.
pub(crate) struct Unit {
    pub context: Value,
    pub message: Value,
    /// The export's owner as the platform names them (its account id), when it does.
    pub owner: Option<String>,
}

/// How one platform's export holds its messages.
pub(crate) trait Platform: Send {
    /// The source kind (`twitter-archive`): the `format` of its blobs.
    const KIND: &'static str;
    /// What files hold messages, for the error when an export has none.
    const EXPECTED: &'static str;
    /// Whether the file `name` (relative to the root) holds messages.
    fn holds_messages(name: &str) -> bool;
    /// Why a file that does not hold messages but looks like one of the platform's (a
    /// conversation folder not read) is left out, to name it on stderr.
    fn skipped(_name: &str) -> Option<&'static str> {
        None
    }
    /// What every message shares, read from other files (the owner's account).
    fn shared(_files: &mut Files) -> Value {
        Value::Null
    }
    /// The messages of the file `name`, or why it is not what the platform writes.
    fn split(
        name: &str,
        bytes: &[u8],
        shared: &Value,
        files: &mut Files,
    ) -> Result<Vec<Unit>, String>;
}

/// The export of a [`Platform`] at a path, as a source.
pub(crate) struct Export<P> {
    path: PathBuf,
    /// The most bytes one zip entry may unpack to.
    limit: u64,
    platform: PhantomData<fn() -> P>,
}

impl<P: Platform> Export<P> {
    pub fn new(path: &Path, limit: u64) -> Export<P> {
        Export {
            path: path.to_path_buf(),
            limit,
            platform: PhantomData,
        }
    }
}

impl<P: Platform> Source for Export<P> {
    /// Reads every file that holds messages; a file that is not what the platform writes is
    /// reported in [`Scan::failed`] and the others are read. A zip (or single file) is
    /// stamped as a whole once all of it was read; in a directory, each file is.
    fn scan(
        &self,
        known: &Known,
        emit: &mut dyn FnMut(Item) -> Result<(), Error>,
    ) -> Result<Scan, Error> {
        let mut scan = Scan::default();
        let whole = std::fs::metadata(&self.path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| (self.path.display().to_string(), stamp(&m)));
        if let Some((key, stamp)) = &whole
            && known.files.get(key) == Some(stamp)
        {
            return Ok(scan);
        }
        let mut files = Files::open(&self.path, self.limit)?;
        scan.failed.extend_from_slice(files.refused());
        let shared = P::shared(&mut files);
        let single = matches!(files, Files::Single(_));
        let mut found = false;
        for name in files.names() {
            // One file given by name is read whatever its name.
            if !single && !P::holds_messages(&name) {
                if let Some(reason) = P::skipped(&name) {
                    scan.notices.push((
                        files.location(&name),
                        "skipped".into(),
                        reason.to_string(),
                    ));
                }
                continue;
            }
            found = true;
            let own = files.own_file(&name).and_then(|path| {
                let metadata = std::fs::metadata(&path).ok()?;
                Some((path.display().to_string(), stamp(&metadata)))
            });
            if let Some((key, stamp)) = &own
                && known.files.get(key) == Some(stamp)
            {
                continue;
            }
            let units = files
                .read(&name)
                .and_then(|bytes| P::split(&name, &bytes, &shared, &mut files));
            match units {
                Ok(units) => {
                    for unit in units {
                        emit(item(P::KIND, &self.path, &name, unit))?;
                    }
                    scan.containers.extend(own);
                }
                Err(reason) => scan
                    .failed
                    .push(ErrorRecord::new(files.location(&name), reason)),
            }
        }
        if !found {
            scan.failed.push(ErrorRecord::new(
                self.path.display().to_string(),
                format!("not a {}: no {} in it", P::KIND, P::EXPECTED),
            ));
        }
        if scan.failed.is_empty() {
            scan.containers.extend(whole);
        }
        Ok(scan)
    }
}

/// The item for one message of an export: its blob, to be archived.
pub(crate) fn item(kind: &str, export: &Path, entry: &str, unit: Unit) -> Item {
    let blob = Blob {
        format: kind.to_string(),
        entry: entry.to_string(),
        context: unit.context,
        message: unit.message,
        owner: unit.owner,
    };
    let mut source = SourceRef {
        kind: kind.to_string(),
        ..SourceRef::default()
    };
    source
        .extra
        .insert("export".into(), export.display().to_string().into());
    if !entry.is_empty() {
        source.extra.insert("entry".into(), entry.into());
    }
    Item {
        // A Value always serialises.
        raw: Raw::Bytes(serde_json::to_vec(&blob).unwrap_or_default()),
        source,
        flags: Vec::new(),
        stamp: None,
        ephemeral: true,
        remote: None,
    }
}

/// Parses a JSON file of an export, naming what it expected when it is not JSON.
pub(crate) fn json(bytes: &[u8], expected: &str) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not {expected}: {e}"))
}

/// A string field of a JSON object, if it is one.
pub(crate) fn text<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value.get(field)?.as_str()
}

/// Sets the record's date from milliseconds since the epoch; a date RFC 3339 cannot write
/// (before year 0000 or after 9999) is dropped with a problem noted.
pub(crate) fn set_date_ms(record: &mut Message, ms: i64) {
    let seconds = ms.div_euclid(1000);
    if crate::record::DATES.contains(&seconds) {
        record.date = Some(crate::record::rfc3339(seconds));
    } else {
        record.problems.push(format!(
            "date {ms} ms since 1970 is outside the years 0000 to 9999: dropped"
        ));
    }
}

/// An attachment named by a path or URL, its type guessed from the extension.
pub(crate) fn attachment(uri: &str, content_type: Option<&str>, size: Option<u64>) -> Attachment {
    let filename = uri
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let content_type = content_type.map(str::to_string).unwrap_or_else(|| {
        let extension = filename
            .as_deref()
            .and_then(|n| n.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        CONTENT_TYPES
            .iter()
            .find(|(e, _)| *e == extension)
            .map_or("application/octet-stream", |(_, t)| t)
            .to_string()
    });
    Attachment {
        filename,
        content_type,
        size: size.unwrap_or(0),
    }
}

/// The media types of the extensions platforms give their media.
const CONTENT_TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("mp4", "video/mp4"),
    ("mov", "video/quicktime"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("aac", "audio/aac"),
    ("ogg", "audio/ogg"),
    ("opus", "audio/ogg"),
    ("wav", "audio/wav"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_take_their_name_and_type_from_the_uri() {
        let a = attachment("https://ton.example/dm/1/abc.JPG?x=1", None, Some(4));
        assert_eq!(a.filename.as_deref(), Some("abc.JPG"));
        assert_eq!(a.content_type, "image/jpeg");
        assert_eq!(a.size, 4);
        assert_eq!(
            attachment("photos/x", None, None).content_type,
            "application/octet-stream"
        );
    }

    #[test]
    fn a_date_out_of_range_is_dropped_with_a_problem() {
        let mut record = Message::default();
        set_date_ms(&mut record, 1_709_287_200_000);
        assert_eq!(record.date.as_deref(), Some("2024-03-01T10:00:00Z"));
        assert!(record.problems.is_empty());
        for ms in [
            i64::MAX,
            i64::MIN,
            -1_000_000_000_000_000_000,
            253_402_300_800_000,
        ] {
            let mut record = Message::default();
            set_date_ms(&mut record, ms);
            assert_eq!(record.date, None, "{ms}");
            assert!(record.problems[0].contains(&ms.to_string()), "{ms}");
        }
        set_date_ms(&mut record, 253_402_300_799_999);
        assert_eq!(record.date.as_deref(), Some("9999-12-31T23:59:59Z"));
    }

    #[test]
    fn a_blob_that_is_not_one_is_kept_with_a_problem() {
        let message = read(b"{\"nope\":1}");
        assert_eq!(message.native_id, message.blob);
        assert!(message.problems[0].contains("not an export blob"));
    }
}
