//! `state.sqlite`: the schema, its versioned migrations and the queries on it.
//!
//! WAL mode, so readers never wait for the writer; `PRAGMA user_version` holds the schema
//! version and each migration runs in one transaction. Every multi-row change is one
//! transaction, committed only after the data it describes is durable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, ToSql, params};

use super::Error;
use crate::record::BindingState;

/// How long a write waits for another missive's write transaction to end before the store
/// counts as locked (exit 75): the stages of a pipeline on one store take turns.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Each entry takes the schema from the previous version to the next; never edit one that
/// has shipped, add another.
const MIGRATIONS: &[&str] = &[
    // 1: what fetch has seen of each source.
    "CREATE TABLE local_file (
         source TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
         mtime_ns INTEGER NOT NULL, blob TEXT,
         PRIMARY KEY (source, path)) WITHOUT ROWID;
     CREATE TABLE seen (
         source TEXT NOT NULL, blob TEXT NOT NULL,
         PRIMARY KEY (source, blob)) WITHOUT ROWID;
     CREATE TABLE cursor (
         source TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
         PRIMARY KEY (source, name)) WITHOUT ROWID;
     CREATE TABLE archived (
         blob TEXT PRIMARY KEY, account TEXT NOT NULL, path TEXT NOT NULL) WITHOUT ROWID;",
    // 2: tags, outside the search index so that tagging never rewrites it.
    "CREATE TABLE tag (
         message TEXT NOT NULL, tag TEXT NOT NULL,
         PRIMARY KEY (message, tag)) WITHOUT ROWID;
     CREATE INDEX tag_by_name ON tag (tag, message);",
    // 3: OpenPGP certificates and the trust-on-first-use bindings of addresses to them.
    "CREATE TABLE cert (
         fingerprint TEXT PRIMARY KEY, data BLOB NOT NULL, updated INTEGER NOT NULL) WITHOUT ROWID;
     CREATE TABLE binding (
         address TEXT NOT NULL, fingerprint TEXT NOT NULL, source TEXT NOT NULL,
         state TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
         PRIMARY KEY (address, fingerprint)) WITHOUT ROWID;
     CREATE INDEX binding_by_cert ON binding (fingerprint);",
    // 4: Autocrypt Level 1 peer state, one row per address.
    "CREATE TABLE autocrypt_peer (
         address TEXT PRIMARY KEY, last_seen INTEGER NOT NULL, autocrypt_timestamp INTEGER,
         public_key TEXT, prefer_encrypt TEXT, gossip_timestamp INTEGER, gossip_key TEXT)
         WITHOUT ROWID;",
    // 5: the user's own keys, secret parts included (protected by their passphrase).
    "CREATE TABLE own_key (
         fingerprint TEXT PRIMARY KEY, tsk BLOB NOT NULL, protected INTEGER NOT NULL)
         WITHOUT ROWID;",
    // 6: the user's privacy index, one point a day.
    "CREATE TABLE privacy_history (day TEXT PRIMARY KEY, score INTEGER NOT NULL) WITHOUT ROWID;",
    // 7: contacts and their identities; threads and conversations (src/store/contacts.rs,
    // src/store/threads.rs).
    "CREATE TABLE contact (id TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID;
     CREATE TABLE contact_identity (
         identity TEXT PRIMARY KEY, contact TEXT NOT NULL) WITHOUT ROWID;
     CREATE INDEX contact_identity_by_contact ON contact_identity (contact);
     CREATE TABLE seen_identity (identity TEXT PRIMARY KEY, name TEXT) WITHOUT ROWID;
     CREATE TABLE thread_node (node TEXT PRIMARY KEY, thread TEXT NOT NULL) WITHOUT ROWID;
     CREATE INDEX thread_node_by_thread ON thread_node (thread);
     CREATE TABLE thread_merge (old TEXT PRIMARY KEY, new TEXT NOT NULL) WITHOUT ROWID;
     CREATE TABLE thread_message (
         id TEXT NOT NULL UNIQUE, node TEXT NOT NULL, refs TEXT NOT NULL,
         subject TEXT, subject_key TEXT, reply INTEGER NOT NULL,
         protocol TEXT NOT NULL, date TEXT, list_id TEXT,
         participants TEXT NOT NULL, conversation TEXT NOT NULL,
         score INTEGER, grade TEXT);
     CREATE INDEX thread_message_by_conversation ON thread_message (conversation);
     CREATE INDEX thread_message_by_subject ON thread_message (subject_key)
         WHERE subject_key IS NOT NULL;
     CREATE TABLE conversation_merge (old TEXT PRIMARY KEY, new TEXT NOT NULL) WITHOUT ROWID;",
    // 8: a thread's messages found from its nodes, for `thread:` queries.
    "CREATE INDEX thread_message_by_node ON thread_message (node);",
    // 9: a merge no longer rewrites the merged thread's nodes (see src/store/threads.rs);
    // merges into a thread are found by their successor, to follow a later merge.
    "CREATE INDEX thread_merge_by_new ON thread_merge (new);",
    // 10: which message holds each record id, and which share their Message-ID with another
    // message (src/store/record_ids.rs).
    "CREATE TABLE record_id (
         id TEXT PRIMARY KEY, blob TEXT NOT NULL, duplicate INTEGER NOT NULL DEFAULT 0)
         WITHOUT ROWID;",
    // 11: a binding that replaced an ended one names it (src/keys/tofu.rs).
    "ALTER TABLE binding ADD COLUMN replaces TEXT;",
    // 12: the outbox of `send`: each draft journaled before the first byte goes out, and
    // each of its deliveries (src/store/outbox.rs).
    "CREATE TABLE outbox_draft (
         id TEXT PRIMARY KEY, draft TEXT NOT NULL, created INTEGER NOT NULL) WITHOUT ROWID;
     CREATE TABLE outbox_delivery (
         draft TEXT NOT NULL, recipient TEXT NOT NULL, channel TEXT NOT NULL,
         status TEXT NOT NULL, message_id TEXT, code TEXT, reason TEXT,
         updated INTEGER NOT NULL,
         PRIMARY KEY (draft, recipient)) WITHOUT ROWID;
     CREATE INDEX outbox_delivery_by_status ON outbox_delivery (status);",
    // 13: the record each file of a local source holds, so a renamed file updates its record
    // and a deleted one marks it gone from its source (`source_gone`), and a rebuild finds a
    // message where it is now.
    "ALTER TABLE local_file ADD COLUMN record TEXT;
     CREATE INDEX local_file_by_record ON local_file (record) WHERE record IS NOT NULL;
     CREATE TABLE source_gone (id TEXT PRIMARY KEY, path TEXT NOT NULL) WITHOUT ROWID;",
    // 14: the order in which the user's own keys were made or imported: the newest signs.
    "ALTER TABLE own_key ADD COLUMN made INTEGER NOT NULL DEFAULT 0;",
    // 15: the account each local source was fetched as, so the same Maildir given later by its
    // path, without the config, keeps that account's record ids (src/fetch.rs, `Target`).
    "CREATE TABLE source_account (source TEXT PRIMARY KEY, account TEXT NOT NULL) WITHOUT ROWID;",
    // 16: the folders (a Maildir's cur/ and new/) of each local source fetch read, with the
    // mtime that lets the next run skip one unchanged (NULL: read it again), so that a run
    // that finds nothing new reads neither the folders nor their files' rows; and the files
    // holding each message, found without reading every row. The folders of the files
    // recorded before are recorded to be read again.
    "CREATE TABLE local_folder (
         source TEXT NOT NULL, path TEXT NOT NULL, mtime_ns INTEGER,
         PRIMARY KEY (source, path)) WITHOUT ROWID;
     CREATE INDEX local_file_by_blob ON local_file (source, blob) WHERE blob IS NOT NULL;
     INSERT OR IGNORE INTO local_folder (source, path)
         SELECT DISTINCT source, rtrim(rtrim(path, replace(path, '/', '')), '/') FROM local_file
         WHERE (source LIKE 'maildir:%' OR source LIKE 'printed:maildir:%')
             AND path NOT LIKE 'hex:%';",
    // 17: the subject fallback asks for a subject's messages in one conversation: indexed by
    // both, so a common subject ("meeting notes", hundreds of messages) is not read whole for
    // each new message that bears it (src/store/threads.rs).
    "DROP INDEX thread_message_by_subject;
     CREATE INDEX thread_message_by_subject ON thread_message (subject_key, conversation)
         WHERE subject_key IS NOT NULL;",
    // 18: the secondary indexes a first load dropped, as the schema spelt them, until it
    // (or, when it was stopped, the next fetch) makes them again: `Batch::defer_load_indexes`.
    "CREATE TABLE deferred_index (name TEXT PRIMARY KEY, sql TEXT NOT NULL) WITHOUT ROWID;",
];

/// The secondary indexes a first load builds after its rows ([`Batch::defer_load_indexes`]),
/// by table: none is read by a query the load makes (a rename is looked up only for a
/// file recorded before; threading reads nodes by their key, subject groups and merges by
/// their own indexes), and each would take every row at a random place.
const LOAD_DEFERRED: &[(&str, &[&str])] = &[
    (
        "local_file",
        &["local_file_by_blob", "local_file_by_record"],
    ),
    (
        "thread_message",
        &["thread_message_by_node", "thread_message_by_conversation"],
    ),
    ("thread_node", &["thread_node_by_thread"]),
];

/// How many pages (of 4 KiB) the write-ahead log holds during a load of many transactions
/// before they are copied into the database: 64 MiB ([`Db::checkpoint_seldom`]).
const LOAD_CHECKPOINT_PAGES: u32 = 1 << 14;

/// The Autocrypt state of a peer (Level 1 §2.3), keys named by fingerprint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peer {
    pub address: String,
    /// Seconds since the epoch.
    pub last_seen: i64,
    pub autocrypt_timestamp: Option<i64>,
    pub public_key: Option<String>,
    /// `mutual` or `nopreference`.
    pub prefer_encrypt: Option<String>,
    pub gossip_timestamp: Option<i64>,
    pub gossip_key: Option<String>,
}

/// An address bound to a certificate, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub address: String,
    pub fingerprint: String,
    /// autocrypt, gossip, wkd, dane, import, manual.
    pub source: String,
    pub state: BindingState,
    /// For a `replaced` binding: the fingerprint of the ended key it replaced.
    pub replaces: Option<String>,
    /// Seconds since the epoch.
    pub first_seen: i64,
    pub last_seen: i64,
}

/// Stored by its printed name, so the column reads the same as the key records.
impl ToSql for BindingState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(
            self.as_str().as_bytes(),
        )))
    }
}

impl FromSql for BindingState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let name = value.as_str()?;
        BindingState::parse(name)
            .ok_or_else(|| FromSqlError::Other(format!("unknown binding state {name:?}").into()))
    }
}

fn binding_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Binding> {
    Ok(Binding {
        address: row.get(0)?,
        fingerprint: row.get(1)?,
        source: row.get(2)?,
        state: row.get(3)?,
        first_seen: row.get(4)?,
        last_seen: row.get(5)?,
        replaces: row.get(6)?,
    })
}

const BINDING_COLUMNS: &str =
    "address, fingerprint, source, state, first_seen, last_seen, replaces";

/// The bindings of an address, or of a certificate, or all, sorted: read on the connection
/// or inside a transaction ([`Batch::bindings`]).
fn select_bindings(
    connection: &Connection,
    address: Option<&str>,
    fingerprint: Option<&str>,
) -> rusqlite::Result<Vec<Binding>> {
    let mut statement = connection.prepare_cached(&format!(
        "SELECT {BINDING_COLUMNS} FROM binding
         WHERE (?1 IS NULL OR address = ?1) AND (?2 IS NULL OR fingerprint = ?2)
         ORDER BY address, first_seen, fingerprint"
    ))?;
    let rows = statement.query_map(params![address, fingerprint], binding_row)?;
    rows.collect()
}

/// A stored certificate, binary, read on the connection or inside a transaction.
fn select_cert(connection: &Connection, fingerprint: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    connection
        .query_row(
            "SELECT data FROM cert WHERE fingerprint = ?1",
            [fingerprint],
            |row| row.get(0),
        )
        .optional()
}

/// A file as last seen: enough to know it is unchanged without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i64,
}

/// A file of a local source as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownFile {
    pub path: String,
    pub stamp: FileStamp,
    /// The message it held, for a file that is one message.
    pub blob: Option<String>,
    /// The id of that message's record (recorded since schema 13).
    pub record: Option<String>,
}

/// The open database.
pub struct Db {
    pub(super) connection: Connection,
    path: PathBuf,
}

impl Db {
    /// Opens (creating) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db, Error> {
        let err = |source| Error::Database {
            path: path.to_path_buf(),
            source,
        };
        let mut connection = Connection::open(path).map_err(err)?;
        connection.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        use_wal(&connection, path)?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        migrate(&mut connection, path)?;
        Ok(Db {
            connection,
            path: path.to_path_buf(),
        })
    }

    /// Another connection to the same database, for another thread.
    pub fn open_again(&self) -> Result<Db, Error> {
        Db::open(&self.path)
    }

    /// Opens the database at `path` to read only, for a reader that must not wait for a
    /// writer (a mail filter while `sync` runs): no migration, no busy timeout, so a store
    /// it cannot read at once is [`Error::Locked`] instead of a wait. WAL readers never wait
    /// for the writer's transaction.
    pub fn open_read_only(path: &Path) -> Result<Db, Error> {
        let connection = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| Error::Database {
            path: path.to_path_buf(),
            source,
        })?;
        // rusqlite waits 5 s by default.
        connection
            .busy_timeout(Duration::ZERO)
            .map_err(|e| locked_or(Handle::of(&connection), path, e))?;
        let db = Db {
            connection,
            path: path.to_path_buf(),
        };
        let (found, known) = (db.schema_version()?, MIGRATIONS.len() as i64);
        if found > known {
            return Err(Error::TooNew {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
        Ok(db)
    }

    pub(super) fn error(&self, source: rusqlite::Error) -> Error {
        locked_or(Handle::of(&self.connection), &self.path, source)
    }

    /// The schema version in use.
    pub fn schema_version(&self) -> Result<i64, Error> {
        self.connection
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| self.error(e))
    }

    /// The stamp of every file recorded for `source`, or of those whose path starts with
    /// one of `prefixes` when given (the files of one folder).
    pub fn file_stamps(
        &self,
        source: &str,
        prefixes: Option<&[String]>,
    ) -> Result<HashMap<String, FileStamp>, Error> {
        let files = match prefixes {
            None => select_files(&self.connection, "WHERE source = ?1", [source]),
            Some(prefixes) => prefixes.iter().try_fold(Vec::new(), |mut files, prefix| {
                files.extend(files_below(&self.connection, source, prefix)?);
                Ok(files)
            }),
        };
        let files = files.map_err(|e| self.error(e))?;
        Ok(files.into_iter().map(|f| (f.path, f.stamp)).collect())
    }

    /// The folders of `source` fetch read, each with the mtime it had then if a later run
    /// may skip it while its mtime is the same.
    pub fn folders(&self, source: &str) -> Result<HashMap<String, Option<i64>>, Error> {
        let mut statement = self
            .connection
            .prepare("SELECT path, mtime_ns FROM local_folder WHERE source = ?1")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([source], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Where the file holding record `id` is now, as fetch last saw it, if any source holds it.
    pub fn current_file(&self, id: &str) -> Result<Option<String>, Error> {
        self.connection
            .query_row(
                "SELECT path FROM local_file WHERE record = ?1 ORDER BY path LIMIT 1",
                [id],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The key of every source fetch recorded files of.
    pub fn recorded_sources(&self) -> Result<Vec<String>, Error> {
        let mut statement = self
            .connection
            .prepare("SELECT DISTINCT source FROM local_file ORDER BY source")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The account each local source was last fetched as: (source key, account).
    pub fn source_accounts(&self) -> Result<Vec<(String, String)>, Error> {
        let mut statement = self
            .connection
            .prepare("SELECT source, account FROM source_account ORDER BY source")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Where the archive keeps `blob`, if it does.
    pub fn archived_path(&self, blob: &str) -> Result<Option<String>, Error> {
        self.connection
            .query_row("SELECT path FROM archived WHERE blob = ?1", [blob], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Which of these record ids are gone from their source (their file was deleted).
    pub fn gone_ids(&self, ids: &[&str]) -> Result<std::collections::HashSet<String>, Error> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT 1 FROM source_gone WHERE id = ?1")
            .map_err(|e| self.error(e))?;
        let mut gone = std::collections::HashSet::new();
        for id in ids {
            if statement.exists([id]).map_err(|e| self.error(e))? {
                gone.insert(id.to_string());
            }
        }
        Ok(gone)
    }

    /// A cursor value of `source`, such as an IMAP UIDVALIDITY.
    pub fn cursor(&self, source: &str, name: &str) -> Result<Option<String>, Error> {
        self.connection
            .query_row(
                "SELECT value FROM cursor WHERE source = ?1 AND name = ?2",
                [source, name],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The ids of the messages that carry `tag`.
    pub fn tagged(&self, tag: &str) -> Result<Vec<String>, Error> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT message FROM tag WHERE tag = ?1")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([tag], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The tags of each of these messages, sorted.
    pub fn tags_of(&self, ids: &[&str]) -> Result<HashMap<String, Vec<String>>, Error> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT tag FROM tag WHERE message = ?1 ORDER BY tag")
            .map_err(|e| self.error(e))?;
        let mut tags = HashMap::new();
        for id in ids {
            let rows = statement
                .query_map([id], |row| row.get(0))
                .map_err(|e| self.error(e))?;
            let list: Vec<String> = rows.collect::<Result<_, _>>().map_err(|e| self.error(e))?;
            if !list.is_empty() {
                tags.insert(id.to_string(), list);
            }
        }
        Ok(tags)
    }

    /// A stored certificate, binary.
    pub fn cert(&self, fingerprint: &str) -> Result<Option<Vec<u8>>, Error> {
        select_cert(&self.connection, fingerprint).map_err(|e| self.error(e))
    }

    /// Every stored certificate's fingerprint, sorted.
    pub fn cert_fingerprints(&self) -> Result<Vec<String>, Error> {
        let mut statement = self
            .connection
            .prepare("SELECT fingerprint FROM cert ORDER BY fingerprint")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Every cursor of `source` and of the keys below it (`source/…`, its mailboxes), as
    /// (key, name, value).
    pub fn cursors(&self, source: &str) -> Result<Vec<(String, String, String)>, Error> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT source, name, value FROM cursor
                 WHERE source = ?1 OR substr(source, 1, length(?1) + 1) = ?1 || '/'",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([source], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The bindings of an address, or of a certificate, or all; sorted.
    pub fn bindings(
        &self,
        address: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<Vec<Binding>, Error> {
        select_bindings(&self.connection, address, fingerprint).map_err(|e| self.error(e))
    }

    /// The user's own keys: (fingerprint, secret key material, protected by a passphrase),
    /// the newest first: it is the one that signs.
    pub fn own_keys(&self) -> Result<Vec<(String, Vec<u8>, bool)>, Error> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT fingerprint, tsk, protected FROM own_key ORDER BY made DESC, fingerprint",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The user index's history, oldest first: (YYYY-MM-DD, score).
    pub fn privacy_history(&self) -> Result<Vec<(String, u8)>, Error> {
        let mut statement = self
            .connection
            .prepare("SELECT day, score FROM privacy_history ORDER BY day")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The Autocrypt state of a peer.
    pub fn peer(&self, address: &str) -> Result<Option<Peer>, Error> {
        self.connection
            .query_row(
                "SELECT address, last_seen, autocrypt_timestamp, public_key, prefer_encrypt,
                        gossip_timestamp, gossip_key FROM autocrypt_peer WHERE address = ?1",
                [address],
                |row| {
                    Ok(Peer {
                        address: row.get(0)?,
                        last_seen: row.get(1)?,
                        autocrypt_timestamp: row.get(2)?,
                        public_key: row.get(3)?,
                        prefer_encrypt: row.get(4)?,
                        gossip_timestamp: row.get(5)?,
                        gossip_key: row.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Whether `source` was recorded holding `blob` ([`Batch::see`]).
    pub fn has_seen(&self, source: &str, blob: &str) -> Result<bool, Error> {
        has_seen(&self.connection, source, blob).map_err(|e| self.error(e))
    }

    /// Lets the write-ahead log grow to [`LOAD_CHECKPOINT_PAGES`] before SQLite copies it
    /// into the database (1,000 pages by default), for a run of many transactions on this
    /// connection (a fetch, thread's batches): a page each of them changes is copied once,
    /// not once a transaction.
    pub fn checkpoint_seldom(&self) -> Result<(), Error> {
        self.connection
            .pragma_update(None, "wal_autocheckpoint", LOAD_CHECKPOINT_PAGES)
            .map_err(|e| self.error(e))
    }

    /// Starts a write transaction; nothing it records is kept until [`Batch::commit`].
    ///
    /// It begins IMMEDIATE, taking the write lock at once (waiting for it under the busy
    /// timeout): a transaction that read first and wrote later would fail at once, not
    /// wait, when another missive wrote in between. So a batch is short and never waits
    /// on a pipe: its reads and its output come before it.
    pub fn batch(&mut self) -> Result<Batch<'_>, Error> {
        let path = self.path.clone();
        let handle = Handle::of(&self.connection);
        let tx = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| locked_or(handle, &path, e))?;
        Ok(Batch { tx, path })
    }
}

fn has_seen(connection: &Connection, source: &str, blob: &str) -> rusqlite::Result<bool> {
    connection
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM seen WHERE source = ?1 AND blob = ?2)")?
        .query_row([source, blob], |row| row.get(0))
}

fn known_file(row: &rusqlite::Row<'_>) -> rusqlite::Result<KnownFile> {
    Ok(KnownFile {
        path: row.get(0)?,
        stamp: FileStamp {
            size: row.get::<_, i64>(1)? as u64,
            mtime_ns: row.get(2)?,
        },
        blob: row.get(3)?,
        record: row.get(4)?,
    })
}

/// The files of `local_file` that `clause` (an index to use, the WHERE clause) selects
/// on `params`.
fn select_files(
    connection: &Connection,
    clause: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<KnownFile>> {
    connection
        .prepare_cached(&format!(
            "SELECT path, size, mtime_ns, blob, record FROM local_file {clause}"
        ))?
        .query_map(params, known_file)?
        .collect()
}

/// The files of `source` whose path starts with `prefix`, found by a range of the key: the
/// prefix ends in an ASCII character (`/`, `,`, a hex digit), whose successor bounds it.
fn files_below(
    connection: &Connection,
    source: &str,
    prefix: &str,
) -> rusqlite::Result<Vec<KnownFile>> {
    let mut end = prefix.to_string();
    let bound = end.pop().map_or('\u{1}', |last| char::from(last as u8 + 1));
    end.push(bound);
    select_files(
        connection,
        "WHERE source = ?1 AND path >= ?2 AND path < ?3",
        [source, prefix, end.as_str()],
    )
}

/// What sorting a fetched file asks of the files recorded before, in the database or a
/// transaction on it.
pub trait RecordedFiles {
    /// The file of `source` at `path`, if recorded.
    fn file_at(&self, source: &str, path: &str) -> Result<Option<KnownFile>, Error>;
    /// The files of `source` that held `blob`.
    fn files_holding(&self, source: &str, blob: &str) -> Result<Vec<KnownFile>, Error>;
    /// The files of `source` whose path is `name` or starts with `name` and a `suffix`.
    fn files_named(&self, source: &str, name: &str, suffix: &str) -> Result<Vec<KnownFile>, Error>;
}

/// The files of a source (`?1`) that held a blob (`?2`), by the index on both: left to
/// itself, SQLite's planner walks every file of the source by the primary key instead (each
/// new message cost 17 ms at 100,000 files: 2 s for 100 new).
const HOLDING: &str = "INDEXED BY local_file_by_blob WHERE source = ?1 AND blob = ?2";

fn file_at(
    connection: &Connection,
    source: &str,
    path: &str,
) -> rusqlite::Result<Option<KnownFile>> {
    Ok(select_files(
        connection,
        "WHERE source = ?1 AND path = ?2",
        [source, path],
    )?
    .pop())
}

fn files_named(
    connection: &Connection,
    source: &str,
    name: &str,
    suffix: &str,
) -> rusqlite::Result<Vec<KnownFile>> {
    let mut files = files_below(connection, source, &format!("{name}{suffix}"))?;
    files.extend(file_at(connection, source, name)?);
    Ok(files)
}

impl RecordedFiles for Db {
    fn file_at(&self, source: &str, path: &str) -> Result<Option<KnownFile>, Error> {
        file_at(&self.connection, source, path).map_err(|e| self.error(e))
    }
    fn files_holding(&self, source: &str, blob: &str) -> Result<Vec<KnownFile>, Error> {
        select_files(&self.connection, HOLDING, [source, blob]).map_err(|e| self.error(e))
    }
    fn files_named(&self, source: &str, name: &str, suffix: &str) -> Result<Vec<KnownFile>, Error> {
        files_named(&self.connection, source, name, suffix).map_err(|e| self.error(e))
    }
}

impl RecordedFiles for Batch<'_> {
    fn file_at(&self, source: &str, path: &str) -> Result<Option<KnownFile>, Error> {
        file_at(&self.tx, source, path).map_err(|e| self.error(e))
    }
    fn files_holding(&self, source: &str, blob: &str) -> Result<Vec<KnownFile>, Error> {
        select_files(&self.tx, HOLDING, [source, blob]).map_err(|e| self.error(e))
    }
    fn files_named(&self, source: &str, name: &str, suffix: &str) -> Result<Vec<KnownFile>, Error> {
        files_named(&self.tx, source, name, suffix).map_err(|e| self.error(e))
    }
}

/// One transaction of state changes.
pub struct Batch<'a> {
    pub(super) tx: rusqlite::Transaction<'a>,
    path: PathBuf,
}

impl Batch<'_> {
    pub(super) fn error(&self, source: rusqlite::Error) -> Error {
        locked_or(Handle::of(&self.tx), &self.path, source)
    }

    /// True when `table` has no row.
    pub(super) fn is_empty(&self, table: &str) -> Result<bool, Error> {
        self.tx
            .query_row(
                &format!("SELECT NOT EXISTS (SELECT 1 FROM \"{table}\")"),
                [],
                |row| row.get(0),
            )
            .map_err(|e| self.error(e))
    }

    /// Drops the secondary indexes of `table` (not its key's), returning the SQL that makes
    /// each again, as the schema spells it.
    pub(super) fn drop_indexes(&self, table: &str) -> Result<Vec<String>, Error> {
        let names: Vec<String> = self
            .tx
            .prepare(
                "SELECT name FROM sqlite_schema
                 WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
            )
            .and_then(|mut statement| statement.query_map([table], |row| row.get(0))?.collect())
            .map_err(|e| self.error(e))?;
        let mut rebuilt = Vec::with_capacity(names.len());
        for name in names {
            rebuilt.extend(self.drop_index(&name)?);
        }
        Ok(rebuilt)
    }

    /// Drops index `name`, returning the SQL that makes it again as the schema spells it;
    /// `None` when there is no such index.
    fn drop_index(&self, name: &str) -> Result<Option<String>, Error> {
        let sql: Option<String> = self
            .tx
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        if sql.is_some() {
            self.tx
                .execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
                .map_err(|e| self.error(e))?;
        }
        Ok(sql)
    }

    /// At the start of a load of many rows over several transactions (a first fetch or
    /// sync, thread's batches): makes again the indexes a stopped load left dropped, then
    /// drops those of [`LOAD_DEFERRED`] whose table is empty, keeping their SQL in
    /// `deferred_index` until [`Batch::restore_indexes`]. Each row of the load would land at
    /// a random place of each index, and one sort per index at the end costs far less than
    /// as many scattered page writes. True when it dropped any. Until they are back, a
    /// reader that would have used one scans instead.
    pub fn defer_load_indexes(&self) -> Result<bool, Error> {
        self.restore_indexes()?;
        let mut deferred = false;
        for (table, names) in LOAD_DEFERRED {
            if !self.is_empty(table)? {
                continue;
            }
            for name in *names {
                // None: already deferred by a load still running, or stopped.
                let Some(sql) = self.drop_index(name)? else {
                    continue;
                };
                self.tx
                    .execute(
                        "INSERT OR REPLACE INTO deferred_index (name, sql) VALUES (?1, ?2)",
                        [name, &sql.as_str()],
                    )
                    .map_err(|e| self.error(e))?;
                deferred = true;
            }
        }
        Ok(deferred)
    }

    /// Makes again every index [`Batch::defer_load_indexes`] dropped, a stopped load's too.
    pub fn restore_indexes(&self) -> Result<(), Error> {
        let deferred: Vec<(String, String)> = self
            .tx
            .prepare("SELECT name, sql FROM deferred_index ORDER BY name")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .map_err(|e| self.error(e))?;
        for (name, sql) in deferred {
            let present: bool = self
                .tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'index' AND name = ?1)",
                    [&name],
                    |row| row.get(0),
                )
                .map_err(|e| self.error(e))?;
            // Another fetch may have made it again first.
            if !present {
                self.tx.execute_batch(&sql).map_err(|e| self.error(e))?;
            }
            self.tx
                .execute("DELETE FROM deferred_index WHERE name = ?1", [&name])
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// [`Db::has_seen`], counting what this transaction recorded.
    pub fn has_seen(&self, source: &str, blob: &str) -> Result<bool, Error> {
        has_seen(&self.tx, source, blob).map_err(|e| self.error(e))
    }

    /// Records that `source` holds `blob` (a blob name, qualified by folder where a source
    /// has folders); true when it had not been seen before.
    pub fn see(&self, source: &str, blob: &str) -> Result<bool, Error> {
        let mut statement = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO seen (source, blob) VALUES (?1, ?2)")
            .map_err(|e| self.error(e))?;
        Ok(statement
            .execute([source, blob])
            .map_err(|e| self.error(e))?
            == 1)
    }

    /// Records a file's stamp (and, when it is one message, the blob it held and its
    /// record's id); a record whose file is back is no longer gone from its source.
    pub fn stamp_file(
        &self,
        source: &str,
        path: &str,
        stamp: FileStamp,
        blob: Option<&str>,
        record: Option<&str>,
    ) -> Result<(), Error> {
        let mut statement = self
            .tx
            .prepare_cached(
                "INSERT OR REPLACE INTO local_file (source, path, size, mtime_ns, blob, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(|e| self.error(e))?;
        statement
            .execute(params![
                source,
                path,
                stamp.size as i64,
                stamp.mtime_ns,
                blob,
                record
            ])
            .map_err(|e| self.error(e))?;
        if let Some(record) = record {
            self.tx
                .prepare_cached("DELETE FROM source_gone WHERE id = ?1")
                .and_then(|mut statement| statement.execute([record]))
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Forgets files of `source` that are gone, so a file put back later is read again. A
    /// record whose message no other file of the source holds (a file renamed holds it
    /// still) is marked gone from the source; returns those records' ids.
    pub fn forget_files(&self, source: &str, paths: &[String]) -> Result<Vec<String>, Error> {
        let mut forget = self
            .tx
            .prepare_cached(
                "DELETE FROM local_file WHERE source = ?1 AND path = ?2 RETURNING blob, record",
            )
            .map_err(|e| self.error(e))?;
        let mut left = Vec::new();
        for path in paths {
            let row: Option<(Option<String>, Option<String>)> = forget
                .query_row([source, path], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .map_err(|e| self.error(e))?;
            if let Some((Some(blob), Some(record))) = row {
                left.push((path, blob, record));
            }
        }
        let mut held = self
            .tx
            .prepare_cached("SELECT 1 FROM local_file WHERE source = ?1 AND blob = ?2")
            .map_err(|e| self.error(e))?;
        let mut mark = self
            .tx
            .prepare_cached("INSERT OR REPLACE INTO source_gone (id, path) VALUES (?1, ?2)")
            .map_err(|e| self.error(e))?;
        let mut gone = Vec::new();
        for (path, blob, record) in left {
            if !held.exists([source, &blob]).map_err(|e| self.error(e))? {
                mark.execute([&record, path]).map_err(|e| self.error(e))?;
                gone.push(record);
            }
        }
        Ok(gone)
    }

    /// Records that every file of the folder `path` of `source` is recorded, as of its
    /// `mtime_ns` when the next run may skip it while unchanged.
    pub fn stamp_folder(
        &self,
        source: &str,
        path: &str,
        mtime_ns: Option<i64>,
    ) -> Result<(), Error> {
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO local_folder (source, path, mtime_ns) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut statement| statement.execute(params![source, path, mtime_ns]))
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Forgets a folder of `source` that is gone (its files are forgotten on their own).
    pub fn forget_folder(&self, source: &str, path: &str) -> Result<(), Error> {
        self.tx
            .prepare_cached("DELETE FROM local_folder WHERE source = ?1 AND path = ?2")
            .and_then(|mut statement| statement.execute([source, path]))
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Sets a cursor value of `source`.
    pub fn set_cursor(&self, source: &str, name: &str, value: &str) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO cursor (source, name, value) VALUES (?1, ?2, ?3)",
                [source, name, value],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Records that the local source `source` was fetched as `account`.
    pub fn set_source_account(&self, source: &str, account: &str) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO source_account (source, account) VALUES (?1, ?2)",
                [source, account],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Records where the archive keeps a blob.
    pub fn archived(&self, blob: &str, account: &str, path: &str) -> Result<(), Error> {
        let mut statement = self
            .tx
            .prepare_cached(
                "INSERT OR REPLACE INTO archived (blob, account, path) VALUES (?1, ?2, ?3)",
            )
            .map_err(|e| self.error(e))?;
        statement
            .execute([blob, account, path])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Stores a certificate (binary), replacing the one with its fingerprint.
    pub fn put_cert(&self, fingerprint: &str, data: &[u8], now: i64) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO cert (fingerprint, data, updated) VALUES (?1, ?2, ?3)",
                params![fingerprint, data, now],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The bindings of an address, or of a certificate, or all, as this transaction sees
    /// them.
    pub fn bindings(
        &self,
        address: Option<&str>,
        fingerprint: Option<&str>,
    ) -> Result<Vec<Binding>, Error> {
        select_bindings(&self.tx, address, fingerprint).map_err(|e| self.error(e))
    }

    /// A stored certificate (binary), as this transaction sees it.
    pub fn cert(&self, fingerprint: &str) -> Result<Option<Vec<u8>>, Error> {
        select_cert(&self.tx, fingerprint).map_err(|e| self.error(e))
    }

    /// Stores a binding, replacing the one of its address and certificate.
    pub fn put_binding(&self, binding: &Binding) -> Result<(), Error> {
        self.tx
            .execute(
                &format!("INSERT OR REPLACE INTO binding ({BINDING_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    binding.address,
                    binding.fingerprint,
                    binding.source,
                    binding.state,
                    binding.first_seen,
                    binding.last_seen,
                    binding.replaces
                ],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Deletes the bindings of an address (to one certificate, or to all); returns how many.
    pub fn delete_bindings(
        &self,
        address: &str,
        fingerprint: Option<&str>,
    ) -> Result<usize, Error> {
        self.tx
            .execute(
                "DELETE FROM binding WHERE address = ?1 AND (?2 IS NULL OR fingerprint = ?2)",
                params![address, fingerprint],
            )
            .map_err(|e| self.error(e))
    }

    /// Stores one of the user's own keys with its secret parts, as the newest.
    pub fn put_own_key(&self, fingerprint: &str, tsk: &[u8], protected: bool) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO own_key (fingerprint, tsk, protected, made)
                 VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(made), 0) + 1 FROM own_key))",
                params![fingerprint, tsk, protected],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Records the user index of a day (the last computation of the day wins).
    pub fn put_privacy_point(&self, day: &str, score: u8) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO privacy_history (day, score) VALUES (?1, ?2)",
                params![day, score],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Stores the Autocrypt state of a peer.
    pub fn put_peer(&self, peer: &Peer) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO autocrypt_peer (address, last_seen, autocrypt_timestamp,
                     public_key, prefer_encrypt, gossip_timestamp, gossip_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    peer.address,
                    peer.last_seen,
                    peer.autocrypt_timestamp,
                    peer.public_key,
                    peer.prefer_encrypt,
                    peer.gossip_timestamp,
                    peer.gossip_key
                ],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Adds (`on`) or removes a tag of a message.
    pub fn tag(&self, message: &str, tag: &str, on: bool) -> Result<(), Error> {
        let sql = if on {
            "INSERT OR IGNORE INTO tag (message, tag) VALUES (?1, ?2)"
        } else {
            "DELETE FROM tag WHERE message = ?1 AND tag = ?2"
        };
        let mut statement = self.tx.prepare_cached(sql).map_err(|e| self.error(e))?;
        statement
            .execute([message, tag])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    pub fn commit(self) -> Result<(), Error> {
        let path = self.path;
        let handle = Handle::of(&self.tx);
        self.tx.commit().map_err(|e| locked_or(handle, &path, e))
    }
}

/// Switches the database to WAL. Missives opening a new store together race to switch it,
/// and the switch fails at once for the losers, without SQLite's busy handler: they wait and
/// try again, as long as the busy timeout.
fn use_wal(connection: &Connection, path: &Path) -> Result<(), Error> {
    let started = std::time::Instant::now();
    loop {
        match connection.pragma_update(None, "journal_mode", "WAL") {
            Ok(()) => return Ok(()),
            Err(error)
                if error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < BUSY_TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => return Err(locked_or(Handle::of(connection), path, error)),
        }
    }
}

/// An open connection's handle, to ask SQLite for the errno behind an I/O error after the
/// statement or transaction that met it is gone.
#[derive(Clone, Copy)]
struct Handle(*mut rusqlite::ffi::sqlite3);

impl Handle {
    fn of(connection: &Connection) -> Handle {
        // SAFETY: the pointer is only passed back to SQLite while the connection is open.
        Handle(unsafe { connection.handle() })
    }

    /// Whether the last I/O error was a full disk: SQLite says SQLITE_FULL for some writes
    /// but only "disk I/O error" for others (growing the WAL index, syncing).
    fn disk_was_full(self) -> bool {
        // SAFETY: reads the connection's last errno; the connection is open (see `of`).
        let errno = unsafe { rusqlite::ffi::sqlite3_system_errno(self.0) };
        errno == libc::ENOSPC || errno == libc::EDQUOT
    }
}

fn locked_or(handle: Handle, path: &Path, source: rusqlite::Error) -> Error {
    match source.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            Error::Locked {
                path: path.to_path_buf(),
            }
        }
        Some(rusqlite::ErrorCode::DiskFull) => Error::Full {
            path: path.to_path_buf(),
        },
        Some(rusqlite::ErrorCode::SystemIoFailure) if handle.disk_was_full() => Error::Full {
            path: path.to_path_buf(),
        },
        _ => Error::Database {
            path: path.to_path_buf(),
            source,
        },
    }
}

/// Brings the schema up to date. Each step runs in an IMMEDIATE transaction that reads the
/// version again, so two missives started together (`fetch | index`) take turns instead of
/// both creating the same tables. A schema already up to date is only read: opening the
/// store never waits for another missive's write.
fn migrate(connection: &mut Connection, path: &Path) -> Result<(), Error> {
    let handle = Handle::of(connection);
    let err = |source| locked_or(handle, path, source);
    let known = MIGRATIONS.len() as i64;
    let found: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(err)?;
    if found == known {
        return Ok(());
    }
    loop {
        let tx = connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let found: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(err)?;
        if found > known {
            return Err(Error::TooNew {
                path: path.to_path_buf(),
                found,
                known,
            });
        }
        let Some(migration) = MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        tx.execute_batch(migration).map_err(err)?;
        tx.pragma_update(None, "user_version", found + 1)
            .map_err(err)?;
        tx.commit().map_err(err)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_bring_a_new_database_to_the_latest_version_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let db = Db::open(&path).unwrap();
        assert_eq!(db.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(db);
        // Opening again must not rerun a migration (CREATE TABLE would fail).
        assert_eq!(
            Db::open(&path).unwrap().schema_version().unwrap(),
            MIGRATIONS.len() as i64
        );
    }

    #[test]
    fn a_stopped_first_load_has_its_indexes_made_again_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let mut db = Db::open(&path).unwrap();
        let batch = db.batch().unwrap();
        assert!(batch.defer_load_indexes().unwrap());
        batch.commit().unwrap();
        let batch = db.batch().unwrap();
        let stamp = FileStamp {
            size: 1,
            mtime_ns: 1,
        };
        batch
            .stamp_file("src", "/m/new/1", stamp, Some("b1"), Some("m_1"))
            .unwrap();
        batch.commit().unwrap();
        // Without its index, the rename lookup cannot run at all.
        assert!(db.files_holding("src", "b1").is_err());
        // The load is stopped here; the next one, in another process, finds the table
        // no longer empty and makes the indexes first.
        drop(db);
        let mut db = Db::open(&path).unwrap();
        let batch = db.batch().unwrap();
        batch.defer_load_indexes().unwrap();
        batch.commit().unwrap();
        assert_eq!(db.files_holding("src", "b1").unwrap().len(), 1);
        assert_eq!(db.current_file("m_1").unwrap().as_deref(), Some("/m/new/1"));
    }

    #[test]
    fn indexes_are_deferred_only_for_an_empty_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("state.sqlite")).unwrap();
        let batch = db.batch().unwrap();
        let stamp = FileStamp {
            size: 1,
            mtime_ns: 1,
        };
        batch
            .stamp_file("src", "/m/new/1", stamp, Some("b1"), None)
            .unwrap();
        // The thread tables are empty: theirs are deferred, local_file's stay.
        assert!(batch.defer_load_indexes().unwrap());
        batch.commit().unwrap();
        assert_eq!(db.files_holding("src", "b1").unwrap().len(), 1);
    }

    #[test]
    fn the_newest_own_key_comes_first_whatever_its_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("state.sqlite")).unwrap();
        for fingerprint in ["BB", "AA", "CC", "AA"] {
            let batch = db.batch().unwrap();
            batch.put_own_key(fingerprint, b"tsk", false).unwrap();
            batch.commit().unwrap();
        }
        let order: Vec<String> = db.own_keys().unwrap().into_iter().map(|k| k.0).collect();
        assert_eq!(order, ["AA", "CC", "BB"]);
    }

    #[test]
    fn two_processes_opening_a_new_store_together_both_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || Db::open(&path).map(|db| db.schema_version().unwrap()))
            })
            .collect();
        for opener in openers {
            assert_eq!(opener.join().unwrap().unwrap(), MIGRATIONS.len() as i64);
        }
    }

    #[test]
    fn a_database_from_a_newer_missive_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let error = Db::open(&path).err().unwrap();
        assert!(matches!(error, Error::TooNew { found: 99, .. }), "{error}");
    }

    #[test]
    fn nothing_seen_in_an_uncommitted_batch_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("s.sqlite")).unwrap();
        let batch = db.batch().unwrap();
        assert!(batch.see("src", "sha256:1").unwrap());
        assert!(!batch.see("src", "sha256:1").unwrap());
        drop(batch);
        let batch = db.batch().unwrap();
        assert!(
            batch.see("src", "sha256:1").unwrap(),
            "rolled back, so new again"
        );
        batch.commit().unwrap();
        assert!(!db.batch().unwrap().see("src", "sha256:1").unwrap());
    }

    #[test]
    fn the_files_of_a_folder_and_of_a_unique_name_are_found_without_their_neighbours() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("s.sqlite")).unwrap();
        let batch = db.batch().unwrap();
        let stamp = FileStamp {
            size: 1,
            mtime_ns: 2,
        };
        for path in [
            "/m/cur/1:2,S",
            "/m/cur/10:2,S",
            "/m/cur/1",
            "/m/cur0/1",
            "/m/new/1",
        ] {
            batch
                .stamp_file("src", path, stamp, Some(path), None)
                .unwrap();
        }
        batch
            .stamp_file("other", "/m/cur/2", stamp, None, None)
            .unwrap();
        batch.commit().unwrap();
        let mut folder: Vec<String> = db
            .file_stamps("src", Some(&["/m/cur/".to_string()]))
            .unwrap()
            .into_keys()
            .collect();
        folder.sort();
        assert_eq!(folder, ["/m/cur/1", "/m/cur/10:2,S", "/m/cur/1:2,S"]);
        let mut named: Vec<String> = db
            .files_named("src", "/m/cur/1", ":2,")
            .unwrap()
            .into_iter()
            .map(|f| f.path)
            .collect();
        named.sort();
        assert_eq!(named, ["/m/cur/1", "/m/cur/1:2,S"]);
        assert_eq!(db.files_holding("src", "/m/new/1").unwrap().len(), 1);
    }
}
