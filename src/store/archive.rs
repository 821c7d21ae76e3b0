//! The archive: raw messages from remote sources, one Maildir per account, so mutt, notmuch
//! or mu can read it too.
//!
//! A file's unique name is its content hash, so the archive is content-addressed and a
//! message stored twice is one file. Writing follows the Maildir protocol (write in `tmp/`,
//! rename into `new/`): a crash never leaves half a message where a reader looks. A batch is
//! durable when [`Archive::store`] returns: its files are synced together, with one
//! `syncfs(2)` on Linux (one fsync each elsewhere), then renamed, and `new/` is fsynced once
//! per batch, not once per message, which is where the speed comes from.

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
    /// Nothing is returned before all of them are on disk.
    pub fn store(&self, account: &str, messages: &[&[u8]]) -> Result<Vec<PathBuf>, Error> {
        let maildir = self.maildir(account);
        let (tmp, new) = (maildir.join("tmp"), maildir.join("new"));
        for dir in [&tmp, &new, &maildir.join("cur")] {
            fs::create_dir_all(dir).map_err(|source| archive_error(dir, source))?;
        }
        let mut pending = Vec::with_capacity(messages.len());
        let mut paths = Vec::with_capacity(messages.len());
        let mut staged = std::collections::HashSet::new();
        for raw in messages {
            let name = crate::record::blob_name(raw).replace(':', "-");
            let target = new.join(&name);
            if staged.contains(&name) {
                paths.push(target);
                continue;
            }
            if let Some(existing) = self.find_in(&maildir, &name) {
                paths.push(existing);
                continue;
            }
            staged.insert(name.clone());
            let staging = tmp.join(format!("{name}.{}", std::process::id()));
            let mut file = File::create(&staging).map_err(|e| archive_error(&staging, e))?;
            file.write_all(raw)
                .map_err(|e| archive_error(&staging, e))?;
            pending.push((file, staging, target.clone()));
            paths.push(target);
        }
        sync_files(&tmp, &pending)?;
        for (_, staging, target) in &pending {
            fs::rename(staging, target).map_err(|e| archive_error(target, e))?;
        }
        if !pending.is_empty() {
            File::open(&new)
                .and_then(|dir| dir.sync_all())
                .map_err(|e| archive_error(&new, e))?;
        }
        Ok(paths)
    }

    /// The file holding `name` in `new/` or, renamed by a mail reader with flags, in `cur/`.
    fn find_in(&self, maildir: &Path, name: &str) -> Option<PathBuf> {
        let in_new = maildir.join("new").join(name);
        if in_new.exists() {
            return Some(in_new);
        }
        let prefix = format!("{name}:");
        fs::read_dir(maildir.join("cur"))
            .ok()?
            .filter_map(Result::ok)
            .find(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
            .map(|entry| entry.path())
    }
}

/// Makes the data of freshly written files durable: on Linux with one `syncfs(2)` of the
/// filesystem holding `dir`, which costs one journal commit for the whole batch where an
/// fsync per file costs one each; elsewhere with an fsync per file.
fn sync_files(dir: &Path, files: &[(File, PathBuf, PathBuf)]) -> Result<(), Error> {
    if files.is_empty() {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let handle = File::open(dir).map_err(|e| archive_error(dir, e))?;
        // SAFETY: syncfs only reads the descriptor, which `handle` keeps open for the call.
        if unsafe { libc::syncfs(handle.as_raw_fd()) } == 0 {
            return Ok(());
        }
        // Not supported here (or it failed): fall back to syncing each file.
    }
    for (file, staging, _) in files {
        file.sync_data().map_err(|e| archive_error(staging, e))?;
    }
    Ok(())
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

    #[test]
    fn stored_messages_land_in_new_named_by_content_and_tmp_is_left_empty() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::new(dir.path().to_path_buf());
        let paths = archive
            .store("me@example.org", &[b"A: 1\n\na", b"B: 2\n\nb"])
            .unwrap();
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
        let first = archive.store("a", &[b"X: 1\n\nx"]).unwrap();
        let second = archive.store("a", &[b"X: 1\n\nx", b"X: 1\n\nx"]).unwrap();
        assert_eq!(first[0], second[0]);
        assert_eq!(fs::read_dir(dir.path().join("a/new")).unwrap().count(), 1);
    }

    #[test]
    fn the_same_new_message_twice_in_one_batch_is_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::new(dir.path().to_path_buf());
        let paths = archive.store("a", &[b"Y: 1\n\ny", b"Y: 1\n\ny"]).unwrap();
        assert_eq!(paths[0], paths[1]);
        assert_eq!(fs::read(&paths[1]).unwrap(), b"Y: 1\n\ny");
        assert_eq!(fs::read_dir(dir.path().join("a/tmp")).unwrap().count(), 0);
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
