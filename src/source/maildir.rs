//! Reads a Maildir (cur/ and new/), and every Maildir++ or nested folder below it, with the
//! flags from each file name's `:2,` info. A file is named by its path exactly, bytes and
//! all ([`path_text`]), and known across renames by its unique name ([`unique`]).
//!
//! Nothing outside the Maildir is read: folders are found without following symlinks (so
//! a link to `.` cannot make the walk loop), and a `cur/`, `new/` or message file that is a
//! symlink out of the Maildir is reported in [`Scan::failed`], not read.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Error, Item, Known, Raw, Scan, Source, stamp};
use crate::record::{ErrorRecord, SourceRef, path_text, text_path};

/// A Maildir tree.
pub struct Maildir(pub PathBuf);

impl Source for Maildir {
    fn scan(
        &self,
        known: &Known,
        emit: &mut dyn FnMut(Item) -> Result<(), Error>,
    ) -> Result<Scan, Error> {
        let meta = fs::metadata(&self.0).map_err(|e| Error::io(&self.0, e))?;
        if !meta.is_dir() {
            return Err(Error::io(
                &self.0,
                std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a Maildir directory"),
            ));
        }
        let root = fs::canonicalize(&self.0).map_err(|e| Error::io(&self.0, e))?;
        let mut present = std::collections::HashSet::new();
        let mut failed = Vec::new();
        let refusal = |path: &Path, target: &Path| {
            ErrorRecord::new(
                path.display().to_string(),
                format!(
                    "a symlink out of the Maildir, to {}: not read",
                    target.display()
                ),
            )
        };
        let recorded_folders = known.folders.as_ref().map(|f| f.recorded());
        // The recorded files of the folders read, when the store gives them folder by folder.
        let mut folder_files = std::collections::HashMap::new();
        let mut visited = std::collections::HashSet::new();
        let mut read = Vec::new();
        let mut skipped = 0;
        for (folder, dir) in folders(&root)? {
            for sub in ["cur", "new"] {
                let sub_dir = dir.join(sub);
                if let Ok(real) = fs::canonicalize(&sub_dir)
                    && !real.starts_with(&root)
                {
                    failed.push(refusal(&sub_dir, &real));
                    continue;
                }
                let started = nanos(std::time::SystemTime::now());
                let mtime = match fs::metadata(&sub_dir) {
                    Ok(metadata) => stamp(&metadata).mtime_ns,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io(&sub_dir, e)),
                };
                let sub_key = path_text(&sub_dir);
                visited.insert(sub_key.clone());
                if recorded_folders.and_then(|r| r.get(&sub_key)) == Some(&Some(mtime)) {
                    skipped += 1;
                    continue;
                }
                // Names, not paths: a folder may hold a million files.
                let mut names = match fs::read_dir(&sub_dir) {
                    Ok(entries) => entries
                        .filter_map(Result::ok)
                        .map(|e| e.file_name())
                        .collect::<Vec<_>>(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io(&sub_dir, e)),
                };
                if let Some(store) = &known.folders {
                    folder_files.extend(store.files(&prefixes(&sub_dir))?);
                }
                let refused_before = failed.len();
                names.sort();
                for name in names {
                    // Maildir readers ignore dot files (`.keep`, editor droppings).
                    if name.as_encoded_bytes().starts_with(b".") {
                        continue;
                    }
                    let path = sub_dir.join(name);
                    let key = path_text(&path);
                    // A Maildir file is never rewritten (new flags rename it): one recorded
                    // under this name is as it was, and is not even stat'ed. Only a recorded
                    // file can be gone, so only those are remembered.
                    if folder_files.contains_key(&key) || known.files.contains_key(&key) {
                        present.insert(key);
                        continue;
                    }
                    let Ok(mut metadata) = fs::symlink_metadata(&path) else {
                        continue;
                    };
                    if metadata.is_symlink() {
                        let Ok(target) = fs::canonicalize(&path) else {
                            continue;
                        };
                        if !target.starts_with(&root) {
                            failed.push(refusal(&path, &target));
                            continue;
                        }
                        let Ok(followed) = fs::metadata(&target) else {
                            continue;
                        };
                        metadata = followed;
                    }
                    if !metadata.is_file() {
                        continue;
                    }
                    let stamp = stamp(&metadata);
                    emit(Item {
                        flags: file_flags(&path),
                        source: SourceRef {
                            kind: "maildir".into(),
                            path: Some(key.clone()),
                            mailbox: Some(folder.clone()),
                            ..SourceRef::default()
                        },
                        raw: Raw::File(path),
                        stamp: Some((key, stamp)),
                        ephemeral: false,
                        remote: None,
                    })?;
                }
                // Skipped next time only if no change can hide behind its mtime: one made
                // within the same tick as this read would leave the mtime as it is, so an
                // mtime too near the start of the read is not kept. A folder with a
                // refused file is read again, to refuse it again.
                let settled = mtime < started - MTIME_TICK_NS && failed.len() == refused_before;
                read.push((sub_key, settled.then_some(mtime)));
            }
        }
        let mut folders_gone = Vec::new();
        for path in recorded_folders.into_iter().flat_map(|r| r.keys()) {
            if !visited.contains(path) {
                folders_gone.push(path.clone());
                if let Some(store) = &known.folders {
                    folder_files.extend(store.files(&prefixes(&text_path(path)))?);
                }
            }
        }
        folders_gone.sort();
        let mut gone: Vec<String> = known
            .files
            .keys()
            .chain(folder_files.keys())
            .filter(|k| !present.contains(*k))
            .cloned()
            .collect();
        gone.sort();
        gone.dedup();
        Ok(Scan {
            gone,
            failed,
            folders: read,
            folders_gone,
            folders_skipped: skipped,
            ..Scan::default()
        })
    }
}

/// How long after a folder's mtime a change to it may still leave that mtime unchanged:
/// the filesystem's timestamps may count whole seconds, and the kernel stamps them from a
/// clock that lags the one read here by a few milliseconds.
const MTIME_TICK_NS: i64 = 2_000_000_000;

/// Nanoseconds since the epoch, as a file's mtime is kept.
fn nanos(time: std::time::SystemTime) -> i64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// How the paths of the files in `dir` begin, as [`path_text`] writes them: as text, and as
/// the hex it writes a name that is not UTF-8 in.
fn prefixes(dir: &Path) -> Vec<String> {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = dir.as_os_str().as_bytes().to_vec();
    bytes.push(b'/');
    let mut prefixes = vec![format!("hex:{}", hex::encode(&bytes))];
    if let Ok(text) = String::from_utf8(bytes) {
        prefixes.push(text);
    }
    prefixes
}

/// Every folder below `root` that is a Maildir (has cur/ or new/), with its name: `""` for
/// the top, `Sent` for `.Sent` (Maildir++), `Lists.dev` for `.Lists.dev`, `a/b` for nesting.
fn folders(root: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let mut found = Vec::new();
    let mut pending = vec![(String::new(), root.to_path_buf())];
    while let Some((name, dir)) = pending.pop() {
        if dir.join("cur").is_dir() || dir.join("new").is_dir() {
            found.push((name.clone(), dir.clone()));
        }
        let entries = fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in entries.filter_map(Result::ok) {
            let child = entry.file_name().to_string_lossy().into_owned();
            if ["cur", "new", "tmp"].contains(&child.as_str()) || child == ".notmuch" {
                continue;
            }
            if !entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            let child_name = match (name.is_empty(), child.strip_prefix('.')) {
                (true, Some(plus)) => plus.to_string(),
                (true, None) => child.clone(),
                (false, _) => format!("{name}/{child}"),
            };
            pending.push((child_name, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// The unique part of a Maildir file's name (before `:2,`), from its path as [`path_text`]
/// wrote it (and so written the same way); `None` outside a `cur/` or `new/` folder.
pub fn unique(key: &str) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let path = text_path(key);
    let folder = path.parent()?.file_name()?;
    if folder != "cur" && folder != "new" {
        return None;
    }
    let name = path.file_name()?.as_bytes();
    let end = memchr::memmem::find(name, b":2,").unwrap_or(name.len());
    Some(path_text(Path::new(std::ffi::OsStr::from_bytes(
        &name[..end],
    ))))
}

/// The flags of a Maildir file: those of its name's `:2,` info in `cur/`, none in `new/`.
pub fn file_flags(path: &Path) -> Vec<String> {
    if path.parent().and_then(Path::file_name) != Some("cur".as_ref()) {
        return Vec::new();
    }
    path.file_name()
        .map(|name| flags(&name.to_string_lossy()))
        .unwrap_or_default()
}

/// The flags in a Maildir file name's `:2,` info, in the spec's alphabetical order.
fn flags(name: &str) -> Vec<String> {
    let Some((_, info)) = name.rsplit_once(":2,") else {
        return Vec::new();
    };
    let mut flags: Vec<String> = info
        .chars()
        .filter_map(|c| match c {
            'D' => Some("draft"),
            'F' => Some("flagged"),
            'P' => Some("passed"),
            'R' => Some("answered"),
            'S' => Some("seen"),
            'T' => Some("deleted"),
            _ => None,
        })
        .map(String::from)
        .collect();
    flags.dedup();
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_come_from_the_info_part_of_the_name() {
        assert_eq!(flags("123.M1.host:2,FRS"), ["flagged", "answered", "seen"]);
        assert_eq!(flags("123.M1.host:2,"), Vec::<String>::new());
        assert_eq!(flags("123.M1.host"), Vec::<String>::new());
        assert_eq!(
            flags("123:2,Ta"),
            ["deleted"],
            "lowercase keywords are not flags"
        );
    }

    #[test]
    fn a_file_is_known_by_its_unique_name_whatever_its_folder_and_flags() {
        assert_eq!(unique("/m/new/123.M1.host").as_deref(), Some("123.M1.host"));
        assert_eq!(
            unique("/m/cur/123.M1.host:2,RS").as_deref(),
            Some("123.M1.host")
        );
        assert_eq!(unique("/m/inbox.mbox"), None, "not in cur/ or new/");
        use std::os::unix::ffi::OsStrExt;
        let odd = Path::new(std::ffi::OsStr::from_bytes(b"/m/cur/caf\xe9:2,S"));
        let expected = path_text(Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9")));
        assert!(expected.starts_with("hex:"), "{expected}");
        assert_eq!(unique(&path_text(odd)), Some(expected));
        assert_eq!(file_flags(Path::new("/m/cur/1:2,S")), ["seen"]);
        assert_eq!(file_flags(Path::new("/m/new/1:2,S")), Vec::<String>::new());
    }

    #[test]
    fn maildir_plus_plus_and_nested_folders_are_found_and_named() {
        let dir = tempfile::tempdir().unwrap();
        for sub in [
            "cur",
            ".Sent/cur",
            ".Lists.dev/new",
            "archive/2023/cur",
            "notes",
        ] {
            fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let names: Vec<String> = folders(dir.path())
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["", "Lists.dev", "Sent", "archive/2023"]);
    }
}
