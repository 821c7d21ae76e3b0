//! The `record_id` table of `state.sqlite`: which message (by blob) holds each record id, so
//! that a message claiming an id another message holds is told apart, and which records share
//! their Message-ID with another message. The id rule itself is [`crate::record::message_id`]'s
//! and [`crate::fetch`]'s; this file only reads and writes rows.

use std::collections::HashSet;

use rusqlite::{Connection, OptionalExtension};

use super::Error;
use super::db::{Batch, Db};

/// The message holding record `id` (its blob) and whether the record is known to share its
/// Message-ID with another message; `None` when no message holds it yet.
fn holder(connection: &Connection, id: &str) -> rusqlite::Result<Option<(String, bool)>> {
    connection
        .prepare_cached("SELECT blob, duplicate FROM record_id WHERE id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
}

impl Db {
    /// [`holder`] of record `id`: read before a batch is printed, written after.
    pub fn record_id_holder(&self, id: &str) -> Result<Option<(String, bool)>, Error> {
        holder(&self.connection, id).map_err(|e| self.error(e))
    }

    /// Which of these record ids the store knows to share their Message-ID with another
    /// message: a record indexed before its twin arrived learns it here.
    pub fn duplicate_ids(&self, ids: &[&str]) -> Result<HashSet<String>, Error> {
        let mut statement = self
            .connection
            .prepare_cached("SELECT 1 FROM record_id WHERE id = ?1 AND duplicate = 1")
            .map_err(|e| self.error(e))?;
        let mut found = HashSet::new();
        for id in ids {
            if statement.exists([id]).map_err(|e| self.error(e))? {
                found.insert(id.to_string());
            }
        }
        Ok(found)
    }
}

impl Batch<'_> {
    /// [`Db::record_id_holder`], counting what this transaction recorded.
    pub fn record_id_holder(&self, id: &str) -> Result<Option<(String, bool)>, Error> {
        holder(&self.tx, id).map_err(|e| self.error(e))
    }

    /// Claims record `id` for the message whose raw bytes are `blob`: `None` when another
    /// message holds it, else whether the record is known to share its Message-ID with
    /// another message (false for an id claimed now).
    pub fn claim_record_id(&self, id: &str, blob: &str) -> Result<Option<bool>, Error> {
        let mut insert = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO record_id (id, blob) VALUES (?1, ?2)")
            .map_err(|e| self.error(e))?;
        if insert.execute([id, blob]).map_err(|e| self.error(e))? == 1 {
            return Ok(Some(false));
        }
        let mut holder = self
            .tx
            .prepare_cached("SELECT duplicate FROM record_id WHERE id = ?1 AND blob = ?2")
            .map_err(|e| self.error(e))?;
        holder
            .query_row([id, blob], |row| row.get(0))
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Marks record `id` as sharing its Message-ID with another message.
    pub fn mark_duplicate_id(&self, id: &str) -> Result<(), Error> {
        let mut statement = self
            .tx
            .prepare_cached("UPDATE record_id SET duplicate = 1 WHERE id = ?1")
            .map_err(|e| self.error(e))?;
        statement.execute([id]).map_err(|e| self.error(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_held_by_the_first_message_that_claims_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("state.sqlite")).unwrap();
        let batch = db.batch().unwrap();
        assert_eq!(
            batch.claim_record_id("m_1", "sha256:a").unwrap(),
            Some(false)
        );
        assert_eq!(
            batch.claim_record_id("m_1", "sha256:a").unwrap(),
            Some(false),
            "its own again"
        );
        assert_eq!(batch.claim_record_id("m_1", "sha256:b").unwrap(), None);
        assert_eq!(
            batch.claim_record_id("m_2", "sha256:b").unwrap(),
            Some(false)
        );
        batch.mark_duplicate_id("m_1").unwrap();
        assert_eq!(
            batch.claim_record_id("m_1", "sha256:a").unwrap(),
            Some(true)
        );
        batch.commit().unwrap();
        let duplicates = db.duplicate_ids(&["m_1", "m_2", "m_3"]).unwrap();
        assert_eq!(duplicates, HashSet::from(["m_1".to_string()]));
    }
}
