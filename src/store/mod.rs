//! The store: `state.sqlite` ([`db`]) for cursors and state, and `archive/` ([`archive`]) for
//! the raw bytes of messages from remote sources, under one directory.
//!
//! Local sources (Maildir, mbox, eml files) are not copied: their records point at the file
//! and name its content by hash. Only bytes that would otherwise be gone (a remote server,
//! standard input) go to the archive. [`raw_bytes`] reads a message back from either.

pub mod archive;
pub mod contacts;
pub mod db;
pub mod index;
pub mod outbox;
pub mod query;
pub mod record_ids;
pub mod threads;

use std::path::{Path, PathBuf};

use crate::fault::Fault;
use crate::record::SourceRef;

pub use db::Db;

/// The error returned when the store cannot be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot create the store at {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store database {path}")]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the store at {path} is locked by another missive; try again later")]
    Locked { path: PathBuf },
    #[error("no space left on device: {path}; free some and try again")]
    Full { path: PathBuf },
    #[error(
        "store database {path} has schema version {found}, newer than this missive knows ({known}); upgrade missive"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot write {path} in the archive")]
    Archive {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Fault for Error {
    /// A locked store: the other missive will be done by the next run; a full disk: space
    /// may be freed by then.
    fn is_transient(&self) -> bool {
        match self {
            Error::Locked { .. } | Error::Full { .. } => true,
            Error::Create { source, .. } | Error::Archive { source, .. } => {
                crate::fault::is_disk_full(source)
            }
            Error::Database { .. } | Error::TooNew { .. } => false,
        }
    }
}

/// An open store.
pub struct Store {
    root: PathBuf,
    pub db: Db,
}

impl Store {
    /// Opens the store at `root`, creating it (mode 0700) and migrating its database as needed.
    pub fn open(root: &Path) -> Result<Store, Error> {
        create_private_dir(root)?;
        let db = Db::open(&root.join("state.sqlite"))?;
        Ok(Store {
            root: root.to_path_buf(),
            db,
        })
    }

    /// Opens the existing store at `root` to read only, never waiting for a writer
    /// ([`Db::open_read_only`]).
    pub fn open_read_only(root: &Path) -> Result<Store, Error> {
        let db = Db::open_read_only(&root.join("state.sqlite"))?;
        Ok(Store {
            root: root.to_path_buf(),
            db,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Takes the store's writer lock (`sync.lock`), so one sync runs at a time: waits for it
    /// when `wait`, else fails at once with [`Error::Locked`]. Released when dropped.
    pub fn lock(&self, wait: bool) -> Result<Lock, Error> {
        self.lock_file(self.root.join("sync.lock"), wait)
    }

    /// Takes the lock of one source's state as `fetch` keeps it, waiting for it: two fetches
    /// of a source take turns, so the second prints only what the first did not.
    pub fn lock_source(&self, key: &str) -> Result<Lock, Error> {
        use sha2::Digest;
        let dir = self.root.join("locks");
        create_private_dir(&dir)?;
        let name = hex::encode(&sha2::Sha256::digest(key.as_bytes())[..16]);
        self.lock_file(dir.join(format!("{name}.lock")), true)
    }

    fn lock_file(&self, path: PathBuf, wait: bool) -> Result<Lock, Error> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::Create {
                path: path.clone(),
                source,
            })?;
        if wait {
            file.lock().map_err(|source| Error::Create {
                path: path.clone(),
                source,
            })?;
        } else if let Err(error) = file.try_lock() {
            return Err(match error {
                std::fs::TryLockError::WouldBlock => Error::Locked {
                    path: self.root.clone(),
                },
                std::fs::TryLockError::Error(source) => Error::Create { path, source },
            });
        }
        Ok(Lock { _file: file })
    }

    /// The archive of raw messages.
    pub fn archive(&self) -> archive::Archive {
        archive::Archive::new(self.root.join("archive"))
    }
}

/// The raw bytes of a message again, from where its record says it was read: its own file
/// (Maildir, eml, the archive) or its offset in an mbox.
pub fn raw_bytes(source: &SourceRef) -> std::io::Result<Vec<u8>> {
    let path = source.path.as_deref().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "the record names no file")
    })?;
    let path = crate::record::text_path(path);
    match (source.kind.as_str(), source.offset) {
        ("mbox", Some(offset)) => crate::email::mbox::message_at(&path, offset),
        _ => std::fs::read(path),
    }
}

/// The store's writer lock, held until dropped.
pub struct Lock {
    _file: std::fs::File,
}

/// The default store directory: `$XDG_DATA_HOME/missive`, else `~/.local/share/missive`.
pub fn default_dir(xdg_data_home: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    xdg_data_home
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".local/share")))
        .map(|base| base.join("missive"))
}

/// Creates `dir` and its parents; the last component readable only by its owner, as it
/// holds private mail.
fn create_private_dir(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| Error::Create {
            path: dir.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_store_follows_xdg_and_falls_back_to_home() {
        assert_eq!(
            default_dir(Some("/x/data".into()), Some("/home/u".into())),
            Some(PathBuf::from("/x/data/missive"))
        );
        // A relative XDG_DATA_HOME is invalid per the XDG spec and ignored.
        assert_eq!(
            default_dir(Some("rel".into()), Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.local/share/missive"))
        );
        assert_eq!(default_dir(None, None), None);
    }

    #[test]
    fn a_second_lock_fails_at_once_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let other = Store::open(dir.path()).unwrap();
        let held = store.lock(false).unwrap();
        let error = other.lock(false).err().unwrap();
        assert!(error.is_transient(), "{error}");
        assert!(
            error.to_string().contains("locked by another missive"),
            "{error}"
        );
        drop(held);
        assert!(other.lock(false).is_ok());
    }

    #[test]
    fn a_new_store_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("a/store");
        Store::open(&root).unwrap();
        let mode = std::fs::metadata(&root).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(root.join("state.sqlite").exists());
    }
}
