//! The thread tables of `state.sqlite`: which thread each message-id is in, which thread ids
//! were merged into which, and what threading needs to know of every message it has seen.
//! How threads are computed is [`crate::thread`]'s job; this file only reads and writes rows.
//!
//! A merge does not move the merged thread's nodes: with a common subject one thread can
//! hold thousands of them, and rewriting their rows (and their index) at every merge made a
//! sync quadratic. A node's row keeps the thread it was written in; `thread_merge` maps every
//! retired id straight to the live one (each merge re-points the ids merged earlier), so a
//! node's thread is one look-up away: `CURRENT_THREAD`. No live id is ever a retired one:
//! an id is the least of its thread's candidates and threads only grow, and `--rebuild`,
//! which may split them, revives its live ids ([`Batch::revive_threads`]).

use rusqlite::{OptionalExtension, params};

use super::Error;
use super::db::{Batch, Db};

/// A stored message as re-deriving its conversation needs it: (id, participants, List-Id,
/// conversation).
pub type Membership = (String, Vec<String>, Option<String>, String);

/// What the store keeps of a threaded message: enough to thread it again (`--rebuild`),
/// re-derive its conversation when contacts change, and summarise its conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageRow {
    /// The record id (`m_…`).
    pub id: String,
    /// Its message-id as a thread node (protocol-qualified outside email).
    pub node: String,
    /// The nodes it refers to: References in order, then In-Reply-To.
    pub refs: Vec<String>,
    pub subject: Option<String>,
    /// The subject without reply prefixes and list tags, when the message has no reference
    /// headers (the subject fallback), else `None`.
    pub subject_key: Option<String>,
    /// Whether the subject had a reply prefix (`Re:`, `AW:`, …; not a forward's).
    pub reply: bool,
    pub protocol: String,
    pub date: Option<String>,
    pub list_id: Option<String>,
    /// Identities of everyone in it but the user, sorted.
    pub participants: Vec<String>,
    pub conversation: String,
    pub score: Option<u8>,
    pub grade: Option<String>,
}

/// The thread a `thread_node` row named `n` is in now.
const CURRENT_THREAD: &str =
    "coalesce((SELECT new FROM thread_merge WHERE old = n.thread), n.thread)";

/// Rows at which storing them into an empty table builds its indexes after them
/// ([`Batch::put_thread_messages`]): below it the rebuild costs more than it saves.
const BULK_ROWS: usize = 1000;

const COLUMNS: &str = "id, node, refs, subject, subject_key, reply, protocol, date, list_id, \
                       participants, conversation, score, grade";

/// A list column: one item per line.
fn split(text: String) -> Vec<String> {
    text.split('\n')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn row_to_message(row: &rusqlite::Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: row.get(0)?,
        node: row.get(1)?,
        refs: split(row.get(2)?),
        subject: row.get(3)?,
        subject_key: row.get(4)?,
        reply: row.get(5)?,
        protocol: row.get(6)?,
        date: row.get(7)?,
        list_id: row.get(8)?,
        participants: split(row.get(9)?),
        conversation: row.get(10)?,
        score: row.get(11)?,
        grade: row.get(12)?,
    })
}

/// What threading reads of the stored threads, from the database or from inside a batch
/// that is writing it (as `sync` threads each batch of new messages in the transaction
/// that records them).
pub trait ThreadState {
    /// Whether threading has stored anything yet.
    fn has_threads(&self) -> Result<bool, Error>;
    /// The thread a node is in, if threading has seen it.
    fn thread_of(&self, node: &str) -> Result<Option<String>, Error>;
    /// The messages without reference headers under one subject key in one conversation:
    /// the thread each is in, its date and whether its subject was a reply.
    fn subject_messages(&self, key: &str, conversation: &str)
    -> Result<Vec<SubjectMessage>, Error>;
}

fn has_threads(connection: &rusqlite::Connection) -> rusqlite::Result<bool> {
    connection.query_row("SELECT EXISTS (SELECT 1 FROM thread_node)", [], |row| {
        row.get(0)
    })
}

fn thread_of(connection: &rusqlite::Connection, node: &str) -> rusqlite::Result<Option<String>> {
    connection
        .prepare_cached(&format!(
            "SELECT {CURRENT_THREAD} FROM thread_node n WHERE n.node = ?1"
        ))?
        .query_row([node], |row| row.get(0))
        .optional()
}

/// A message of the subject fallback as the store holds it: its thread, date and whether
/// its subject was a reply.
pub type SubjectMessage = (String, Option<String>, bool);

fn subject_messages(
    connection: &rusqlite::Connection,
    key: &str,
    conversation: &str,
) -> rusqlite::Result<Vec<SubjectMessage>> {
    connection
        .prepare_cached(&format!(
            "SELECT DISTINCT {CURRENT_THREAD} AS thread, m.date, m.reply FROM thread_message m
             JOIN thread_node n ON n.node = m.node
             WHERE m.subject_key = ?1 AND m.conversation = ?2"
        ))?
        .query_map([key, conversation], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect()
}

impl ThreadState for Db {
    fn has_threads(&self) -> Result<bool, Error> {
        has_threads(&self.connection).map_err(|e| self.error(e))
    }

    fn thread_of(&self, node: &str) -> Result<Option<String>, Error> {
        thread_of(&self.connection, node).map_err(|e| self.error(e))
    }

    fn subject_messages(
        &self,
        key: &str,
        conversation: &str,
    ) -> Result<Vec<SubjectMessage>, Error> {
        subject_messages(&self.connection, key, conversation).map_err(|e| self.error(e))
    }
}

impl ThreadState for Batch<'_> {
    fn has_threads(&self) -> Result<bool, Error> {
        has_threads(&self.tx).map_err(|e| self.error(e))
    }

    fn thread_of(&self, node: &str) -> Result<Option<String>, Error> {
        thread_of(&self.tx, node).map_err(|e| self.error(e))
    }

    fn subject_messages(
        &self,
        key: &str,
        conversation: &str,
    ) -> Result<Vec<SubjectMessage>, Error> {
        subject_messages(&self.tx, key, conversation).map_err(|e| self.error(e))
    }
}

impl Db {
    /// Lets SQLite keep up to `mib` MiB of pages in memory on this connection, for a run
    /// that touches many rows.
    pub fn set_cache_mib(&self, mib: u32) -> Result<(), Error> {
        self.connection
            .pragma_update(None, "cache_size", -(i64::from(mib) * 1024))
            .map_err(|e| self.error(e))
    }

    /// Every message of a conversation, with its thread, by date.
    pub fn conversation_messages(
        &self,
        conversation: &str,
    ) -> Result<Vec<(MessageRow, Option<String>)>, Error> {
        let sql = format!(
            "SELECT {COLUMNS}, (SELECT {CURRENT_THREAD} FROM thread_node n WHERE n.node = m.node)
             FROM thread_message m WHERE conversation = ?1 ORDER BY date, id"
        );
        let mut statement = self
            .connection
            .prepare_cached(&sql)
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([conversation], |row| {
                Ok((row_to_message(row)?, row.get(13)?))
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The messages of a thread as it is now (merged threads included), by date.
    pub fn thread_rows(&self, thread: &str) -> Result<Vec<(MessageRow, Option<String>)>, Error> {
        let sql = format!(
            "SELECT {COLUMNS}, ?1 FROM thread_message WHERE node IN (SELECT n.node FROM thread_node n
             WHERE (n.thread = ?1 AND NOT EXISTS (SELECT 1 FROM thread_merge WHERE old = ?1))
                OR n.thread IN (SELECT old FROM thread_merge WHERE new = ?1))
             ORDER BY date, id"
        );
        let mut statement = self
            .connection
            .prepare_cached(&sql)
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([thread], |row| Ok((row_to_message(row)?, row.get(13)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Every message threading has seen, by id.
    pub fn thread_messages(&self) -> Result<Vec<MessageRow>, Error> {
        let sql = format!("SELECT {COLUMNS} FROM thread_message ORDER BY id");
        let mut statement = self.connection.prepare(&sql).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], row_to_message)
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Every node and its thread.
    pub fn thread_nodes(&self) -> Result<Vec<(String, String)>, Error> {
        self.pairs(&format!(
            "SELECT n.node, {CURRENT_THREAD} FROM thread_node n"
        ))
    }

    /// Calls `visit` with each thread merged into another and the thread it is part of now.
    pub fn for_each_merge(&self, mut visit: impl FnMut(&str, &str)) -> Result<(), Error> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT old, new FROM thread_merge")
            .map_err(|e| self.error(e))?;
        let mut rows = statement.query([]).map_err(|e| self.error(e))?;
        while let Some(row) = rows.next().map_err(|e| self.error(e))? {
            let text = |at| row.get_ref(at).and_then(|value| Ok(value.as_str()?));
            let (old, new) = (text(0), text(1));
            visit(
                old.map_err(|e| self.error(e))?,
                new.map_err(|e| self.error(e))?,
            );
        }
        Ok(())
    }

    /// The ids of the messages in a thread as it is now (merged threads included).
    pub fn thread_members(&self, thread: &str) -> Result<Vec<String>, Error> {
        // The nodes written in the thread itself, unless it was retired, and those written
        // in the threads merged into it.
        self.ids(
            "SELECT m.id FROM thread_node n JOIN thread_message m ON m.node = n.node
             WHERE (n.thread = ?1 AND NOT EXISTS (SELECT 1 FROM thread_merge WHERE old = ?1))
                OR n.thread IN (SELECT old FROM thread_merge WHERE new = ?1)",
            thread,
        )
    }

    /// The ids of the messages in a conversation as it is now.
    pub fn conversation_members(&self, conversation: &str) -> Result<Vec<String>, Error> {
        self.ids(
            "SELECT id FROM thread_message WHERE conversation = ?1",
            conversation,
        )
    }

    fn ids(&self, sql: &str, key: &str) -> Result<Vec<String>, Error> {
        let mut statement = self
            .connection
            .prepare_cached(sql)
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([key], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The conversation and thread each of these messages is in now, for those threading
    /// has seen: ids printed earlier may since have been merged or split.
    pub fn current_ids(
        &self,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, (String, Option<String>)>, Error> {
        let mut statement = self
            .connection
            .prepare_cached(&format!(
                "SELECT m.conversation, {CURRENT_THREAD} FROM thread_message m
                 LEFT JOIN thread_node n ON n.node = m.node WHERE m.id = ?1"
            ))
            .map_err(|e| self.error(e))?;
        let mut found = std::collections::HashMap::new();
        for id in ids {
            let row = statement
                .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
                .map_err(|e| self.error(e))?;
            if let Some(row) = row {
                found.insert(id.to_string(), row);
            }
        }
        Ok(found)
    }
}

impl Batch<'_> {
    /// Puts a node in a thread.
    pub fn put_thread_node(&self, node: &str, thread: &str) -> Result<(), Error> {
        let mut statement = self
            .tx
            .prepare_cached("INSERT OR REPLACE INTO thread_node (node, thread) VALUES (?1, ?2)")
            .map_err(|e| self.error(e))?;
        statement
            .execute([node, thread])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Merges thread `old` into `new`: the merge is recorded, and earlier merges into `old`
    /// now point at `new` (its nodes' rows stay as they are).
    pub fn merge_thread(&self, old: &str, new: &str) -> Result<(), Error> {
        for sql in [
            "UPDATE thread_merge SET new = ?2 WHERE new = ?1",
            "INSERT OR REPLACE INTO thread_merge (old, new) VALUES (?1, ?2)",
        ] {
            self.tx
                .prepare_cached(sql)
                .and_then(|mut s| s.execute([old, new]))
                .map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Forgets every node's thread, for a rebuild (merges are kept).
    pub fn clear_thread_nodes(&self) -> Result<(), Error> {
        self.tx
            .execute("DELETE FROM thread_node", [])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Makes thread ids live again that an earlier merge had retired: a rebuild can split
    /// a thread and give a part an id it once lost.
    pub fn revive_threads<'t>(&self, live: impl IntoIterator<Item = &'t str>) -> Result<(), Error> {
        let mut statement = self
            .tx
            .prepare_cached("DELETE FROM thread_merge WHERE old = ?1")
            .map_err(|e| self.error(e))?;
        for thread in live {
            statement.execute([thread]).map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Stores (or replaces) what threading knows of many messages, given in id order.
    pub fn put_thread_messages<'r>(
        &self,
        rows: impl ExactSizeIterator<Item = &'r MessageRow>,
    ) -> Result<(), Error> {
        self.indexed_after("thread_message", rows.len(), || {
            rows.into_iter()
                .try_for_each(|row| self.put_thread_message(row))
        })
    }

    /// Stores (or replaces) the thread of many nodes, given in node order.
    pub fn put_thread_nodes(&self, nodes: &[(String, String)]) -> Result<(), Error> {
        self.indexed_after("thread_node", nodes.len(), || {
            nodes
                .iter()
                .try_for_each(|(node, thread)| self.put_thread_node(node, thread))
        })
    }

    /// Runs `insert`, `rows` rows into `table`. Into an empty table (a first run) its
    /// secondary indexes are built once after the rows rather than row by row: each row
    /// lands at a random place of each index, and one sort per index costs less than as
    /// many scattered page splits. The key's index stays: rows come in its order.
    fn indexed_after(
        &self,
        table: &str,
        rows: usize,
        insert: impl FnOnce() -> Result<(), Error>,
    ) -> Result<(), Error> {
        let rebuilt = if rows >= BULK_ROWS && self.is_empty(table)? {
            self.drop_indexes(table)?
        } else {
            Vec::new()
        };
        insert()?;
        for sql in rebuilt {
            self.tx.execute_batch(&sql).map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    /// Stores (or replaces) what threading knows of a message.
    pub fn put_thread_message(&self, row: &MessageRow) -> Result<(), Error> {
        // Spelt once: a run stores a row per message.
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "INSERT OR REPLACE INTO thread_message ({COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            )
        });
        let mut statement = self.tx.prepare_cached(&SQL).map_err(|e| self.error(e))?;
        statement
            .execute(params![
                row.id,
                row.node,
                row.refs.join("\n"),
                row.subject,
                row.subject_key,
                row.reply,
                row.protocol,
                row.date,
                row.list_id,
                row.participants.join("\n"),
                row.conversation,
                row.score,
                row.grade
            ])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The messages any of `identities` took part in, with their participants and
    /// conversation. A scan: contacts change seldom, messages are many.
    pub fn messages_with(
        &self,
        identities: &std::collections::BTreeSet<String>,
    ) -> Result<Vec<Membership>, Error> {
        let mut statement = self
            .tx
            .prepare_cached(
                "SELECT id, participants, list_id, conversation FROM thread_message
                 WHERE participants != ''",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok((row.get(0)?, split(row.get(1)?), row.get(2)?, row.get(3)?))
            })
            .map_err(|e| self.error(e))?;
        let mut found = Vec::new();
        for row in rows {
            let row: Membership = row.map_err(|e| self.error(e))?;
            if row.1.iter().any(|identity| identities.contains(identity)) {
                found.push(row);
            }
        }
        Ok(found)
    }

    /// Moves a message to another conversation, recording the old id's successor.
    pub fn set_conversation(&self, message: &str, old: &str, new: &str) -> Result<(), Error> {
        self.tx
            .execute(
                "UPDATE thread_message SET conversation = ?2 WHERE id = ?1",
                [message, new],
            )
            .map_err(|e| self.error(e))?;
        self.tx
            .execute(
                "INSERT OR REPLACE INTO conversation_merge (old, new) VALUES (?1, ?2)",
                [old, new],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, node: &str) -> MessageRow {
        MessageRow {
            id: id.into(),
            node: node.into(),
            protocol: "email".into(),
            conversation: "c_1".into(),
            ..MessageRow::default()
        }
    }

    /// Nodes `a` in thread `t_3`, `b` in `t_2`, `c` in `t_1`, one message each.
    fn three_threads() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("s.sqlite")).unwrap();
        let batch = db.batch().unwrap();
        for (node, thread) in [("a", "t_3"), ("b", "t_2"), ("c", "t_1")] {
            batch.put_thread_node(node, thread).unwrap();
            batch
                .put_thread_message(&message(&format!("m_{node}"), node))
                .unwrap();
        }
        batch.commit().unwrap();
        (dir, db)
    }

    #[test]
    fn a_node_follows_every_merge_of_the_thread_it_was_written_in() {
        let (_dir, mut db) = three_threads();
        let batch = db.batch().unwrap();
        batch.merge_thread("t_3", "t_2").unwrap();
        batch.merge_thread("t_2", "t_1").unwrap();
        assert_eq!(batch.thread_of("a").unwrap().as_deref(), Some("t_1"));
        batch.commit().unwrap();
        assert_eq!(db.thread_of("a").unwrap().as_deref(), Some("t_1"));
        let mut members = db.thread_members("t_1").unwrap();
        members.sort();
        assert_eq!(members, ["m_a", "m_b", "m_c"]);
        assert!(db.thread_members("t_3").unwrap().is_empty(), "retired");
        assert!(db.thread_members("t_2").unwrap().is_empty(), "retired");
        let current = db.current_ids(&["m_a"]).unwrap();
        assert_eq!(current["m_a"].1.as_deref(), Some("t_1"));
        let nodes: std::collections::HashMap<_, _> =
            db.thread_nodes().unwrap().into_iter().collect();
        assert_eq!(nodes["a"], "t_1");
    }

    #[test]
    fn a_revived_thread_id_is_live_again() {
        let (_dir, mut db) = three_threads();
        let batch = db.batch().unwrap();
        batch.merge_thread("t_3", "t_1").unwrap();
        batch.revive_threads(["t_3"]).unwrap();
        batch.commit().unwrap();
        assert_eq!(db.thread_of("a").unwrap().as_deref(), Some("t_3"));
        assert_eq!(db.thread_members("t_3").unwrap(), ["m_a"]);
        assert_eq!(db.thread_members("t_1").unwrap(), ["m_c"]);
    }
}
