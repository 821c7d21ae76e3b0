//! The archive: raw messages from remote sources, one Maildir per account, so mutt, notmuch
//! or mu can read it too.
//!
//! A file's unique name is its content hash, so the archive is content-addressed and a
//! message stored twice is one file. A reader never sees half a message in `new/`: a file
//! is written without a name and linked there when whole (Linux's `O_TMPFILE`), or written
//! in `tmp/` and renamed, as the Maildir protocol has it. A batch is durable when
//! [`Archive::store`] returns: its files and their names are synced together with one
//! `syncfs(2)` on Linux (elsewhere, one fsync per file and one of `new/`). One sync per
//! batch, not two per message as a Maildir writer usually does, is where the speed comes
//! from. A crash before that sync may leave a file in `new/` shorter than its message: a
//! later run finds its length wrong and writes it again.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Error;

/// The archive directory of a store.
pub struct Archive {
    root: PathBuf,
}

impl Archive {
    pub(super) fn new(root: PathBuf) -> Archive {
        Archive { root }
    }

    /// The directory that holds the archive.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The Maildir of `account`; account names are made safe as one path component.
    pub fn maildir(&self, account: &str) -> PathBuf {
        let safe: String = account
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_.@".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.root.join(safe.trim_start_matches('.'))
    }

    /// Stores raw messages for `account` and returns where each now lives, in input order.
    /// Each comes with its blob name ([`crate::record::blob_name`] of its bytes, which the
    /// caller has already computed). Nothing is returned before all of them are on disk.
    pub fn store(&self, account: &str, messages: &[(&str, &[u8])]) -> Result<Vec<PathBuf>, Error> {
        let maildir = self.maildir(account);
        let (tmp, new, cur) = (
            maildir.join("tmp"),
            maildir.join("new"),
            maildir.join("cur"),
        );
        for dir in [&tmp, &new, &cur] {
            fs::create_dir_all(dir).map_err(|source| archive_error(dir, source))?;
        }
        let mut in_cur = None;
        let mut written = Vec::with_capacity(messages.len());
        let mut paths = Vec::with_capacity(messages.len());
        let mut staged = std::collections::HashSet::new();
        let mut unnamed_files = cfg!(target_os = "linux");
        for &(blob, raw) in messages {
            debug_assert_eq!(blob, crate::record::blob_name(raw));
            let name = blob.replace(':', "-");
            let target = new.join(&name);
            if !staged.insert(name.clone()) || holds_all_of(&target, raw) {
                paths.push(target);
                continue;
            }
            // Listed once per batch, not once per message: a mail reader may have moved
            // thousands of messages there.
            let in_cur = in_cur.get_or_insert_with(|| flagged_names(&cur));
            if let Some(existing) = in_cur.get(&name) {
                paths.push(existing.clone());
                continue;
            }
            written.push(put(&tmp, &target, raw, &mut unnamed_files)?);
            paths.push(target);
        }
        sync_batch(&new, &written)?;
        Ok(paths)
    }
}

/// Puts `raw` in `new/` as `target`, which holds no whole copy, and returns the file
/// written, still to be synced. On Linux the file is made without a name in `new/`
/// (`O_TMPFILE`) and linked there when written, which makes it appear whole as a rename
/// from `tmp/` would, with no name in `tmp/` to create and remove; `unnamed_files` turns
/// false where that is not supported, for the rest of the batch. A copy a crash left short
/// is replaced by a rename, which a link cannot do.
fn put(tmp: &Path, target: &Path, raw: &[u8], unnamed_files: &mut bool) -> Result<File, Error> {
    #[cfg(target_os = "linux")]
    if *unnamed_files {
        match put_unnamed(target, raw) {
            Ok(file) => return Ok(file),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(_) => *unnamed_files = false,
        }
    }
    let staging = tmp.join(format!(
        "{}.{}",
        target.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let mut file = File::create(&staging).map_err(|e| archive_error(&staging, e))?;
    file.write_all(raw)
        .map_err(|e| archive_error(&staging, e))?;
    fs::rename(&staging, target).map_err(|e| archive_error(target, e))?;
    Ok(file)
}

#[cfg(target_os = "linux")]
fn put_unnamed(target: &Path, raw: &[u8]) -> std::io::Result<File> {
    use std::ffi::CString;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)?;
    file.write_all(raw)?;
    // linkat(2) with AT_EMPTY_PATH needs a capability; the /proc path does not.
    let from = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    let to = CString::new(target.as_os_str().as_bytes())?;
    // SAFETY: both are NUL-terminated paths that outlive the call.
    let linked = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if linked == 0 {
        Ok(file)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The files a mail reader moved into `cur/` (renamed `NAME:2,FLAGS`), by `NAME`.
fn flagged_names(cur: &Path) -> std::collections::HashMap<String, PathBuf> {
    let Ok(entries) = fs::read_dir(cur) else {
        return std::collections::HashMap::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let file_name = entry.file_name();
            let (name, _flags) = file_name.to_str()?.split_once(':')?;
            Some((name.to_string(), entry.path()))
        })
        .collect()
}

/// Whether `path` already holds a message of `raw`'s length: its name is the hash of its
/// content, so only a write cut short by a crash can make it differ.
fn holds_all_of(path: &Path, raw: &[u8]) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.len() == raw.len() as u64)
}

/// Makes the batch's files and their names in `new/` durable: on Linux with one `syncfs(2)`
/// of the filesystem holding `new`, which costs one journal commit for the whole batch where
/// an fsync per file costs one each; elsewhere with an fsync per file and one of `new/`.
fn sync_batch(new: &Path, files: &[File]) -> Result<(), Error> {
    if files.is_empty() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let handle = File::open(new).map_err(|e| archive_error(new, e))?;
        // SAFETY: syncfs only reads the descriptor, which `handle` keeps open for the call.
        if unsafe { libc::syncfs(handle.as_raw_fd()) } == 0 {
            return Ok(());
        }
        // Not supported here (or it failed): fall back to syncing each file.
    }
    for file in files {
        file.sync_data().map_err(|e| archive_error(new, e))?;
    }
    File::open(new)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| archive_error(new, e))
}

fn archive_error(path: &Path, source: std::io::Error) -> Error {
    Error::Archive {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stores `raws`, named as the parser names them.
    fn store(archive: &Archive, account: &str, raws: &[&[u8]]) -> Vec<PathBuf> {
        let blobs: Vec<String> = raws
            .iter()
            .map(|raw| crate::record::blob_name(raw))
            .collect();
        let messages: Vec<(&str, &[u8])> = blobs
            .iter()
            .map(String::as_str)
            .zip(raws.iter().copied())
            .collect();
        archive.store(account, &messages).unwrap()
    }

    #[test]
    fn stored_messages_land_in_new_named_by_content_and_tmp_is_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::new(dir.path().to_path_buf());
        let paths = store(&archive, "me@example.org", &[b"A: 1\n\na", b"B: 2\n\nb"]);
        assert_eq!(fs::read(&paths[0]).unwrap(), b"A: 1\n\na");
        assert!(paths[1].starts_with(dir.path().join("me@example.org/new")));
        assert_eq!(
            fs::read_dir(dir.path().join("me@example.org/tmp"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn the_same_message_stored_twice_is_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::new(dir.path().to_path_buf());
        let first = store(&archive, "a", &[b"X: 1\n\nx"]);
        let second = store(&archive, "a", &[b"X: 1\n\nx", b"X: 1\n\nx"]);
        assert_eq!(first[0], second[0]);
        assert_eq!(fs::read_dir(dir.path().join("a/new")).unwrap().count(), 1);
    }

    #[test]
    fn without_unnamed_files_a_message_is_written_in_tmp_and_renamed_over_a_short_copy() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, new) = (dir.path().join("tmp"), dir.path().join("new"));
        fs::create_dir_all(&tmp).unwrap();
        fs::create_dir_all(&new).unwrap();
        let target = new.join("m");
        fs::write(&target, b"W: 1").unwrap();
        let mut unnamed_files = false;
        put(&tmp, &target, b"W: 1\n\nw", &mut unnamed_files).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"W: 1\n\nw");
        assert_eq!(fs::read_dir(&tmp).unwrap().count(), 0);
    }

    #[test]
    fn a_file_a_crash_left_short_is_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::new(dir.path().to_path_buf());
        let first = store(&archive, "a", &[b"Z: 1\n\nwhole"]);
        fs::write(&first[0], b"").unwrap();
        let second = store(&archive, "a", &[b"Z: 1\n\nwhole"]);
        assert_eq!(first, second);
        assert_eq!(fs::read(&second[0]).unwrap(), b"Z: 1\n\nwhole");
    }

    #[test]
    fn the_same_new_message_twice_in_one_batch_is_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::new(dir.path().to_path_buf());
        let paths = store(&archive, "a", &[b"Y: 1\n\ny", b"Y: 1\n\ny"]);
        assert_eq!(paths[0], paths[1]);
        assert_eq!(fs::read(&paths[1]).unwrap(), b"Y: 1\n\ny");
        assert_eq!(fs::read_dir(dir.path().join("a/tmp")).unwrap().count(), 0);
    }

    #[test]
    fn a_message_a_mail_reader_moved_to_cur_is_found_there_and_not_stored_again() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::new(dir.path().to_path_buf());
        let first = store(&archive, "a", &[b"Z: 1\n\nz"]);
        let name = first[0].file_name().unwrap().to_str().unwrap();
        let read = dir.path().join("a/cur").join(format!("{name}:2,S"));
        fs::rename(&first[0], &read).unwrap();
        let again = store(&archive, "a", &[b"W: 1\n\nw", b"Z: 1\n\nz"]);
        assert_eq!(again[1], read);
        assert_eq!(fs::read_dir(dir.path().join("a/new")).unwrap().count(), 1);
    }

    #[test]
    fn account_names_cannot_escape_the_archive() {
        let archive = Archive::new(PathBuf::from("/a"));
        assert_eq!(archive.maildir("../../etc"), PathBuf::from("/a/_.._etc"));
        assert_eq!(
            archive.maildir("imap://u@h/INBOX"),
            PathBuf::from("/a/imap___u@h_INBOX")
        );
    }
}
