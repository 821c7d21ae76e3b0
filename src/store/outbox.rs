//! The outbox tables of `state.sqlite`: each draft `send` journaled, and each delivery of it
//! with its state. What the states mean and when they change is [`crate::send`]'s job
//! (floor 6); this file only reads and writes rows.

use rusqlite::{OptionalExtension, params};

use super::Error;
use super::db::{Batch, Db};

/// One delivery as journaled: a recipient of a draft by a channel, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxDelivery {
    pub draft: String,
    /// `KIND:HANDLE`.
    pub recipient: String,
    pub channel: String,
    /// `planned`, `queued`, `sent` or `failed`.
    pub status: String,
    pub message_id: Option<String>,
    /// The server's enhanced status code.
    pub code: Option<String>,
    pub reason: Option<String>,
    /// Seconds since the epoch.
    pub updated: i64,
}

impl Db {
    /// The draft journaled under `id`, as its JSON line.
    pub fn outbox_draft(&self, id: &str) -> Result<Option<String>, Error> {
        self.connection
            .query_row(
                "SELECT draft FROM outbox_draft WHERE id = ?1",
                [id],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The deliveries of a draft, by recipient.
    pub fn outbox_deliveries(&self, draft: &str) -> Result<Vec<OutboxDelivery>, Error> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT draft, recipient, channel, status, message_id, code, reason, updated
                 FROM outbox_delivery WHERE draft = ?1 ORDER BY recipient",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([draft], |row| {
                Ok(OutboxDelivery {
                    draft: row.get(0)?,
                    recipient: row.get(1)?,
                    channel: row.get(2)?,
                    status: row.get(3)?,
                    message_id: row.get(4)?,
                    code: row.get(5)?,
                    reason: row.get(6)?,
                    updated: row.get(7)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// The drafts with a delivery in `status`, oldest first.
    pub fn outbox_drafts_with(&self, status: &str) -> Result<Vec<String>, Error> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id FROM outbox_draft WHERE id IN
                     (SELECT draft FROM outbox_delivery WHERE status = ?1)
                 ORDER BY created, id",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([status], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }
}

impl Batch<'_> {
    /// Journals a draft (a second time changes nothing).
    pub fn put_outbox_draft(&self, id: &str, draft: &str, now: i64) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT OR IGNORE INTO outbox_draft (id, draft, created) VALUES (?1, ?2, ?3)",
                params![id, draft, now],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Records a delivery's state.
    pub fn put_outbox_delivery(&self, delivery: &OutboxDelivery) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO outbox_delivery
                     (draft, recipient, channel, status, message_id, code, reason, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    delivery.draft,
                    delivery.recipient,
                    delivery.channel,
                    delivery.status,
                    delivery.message_id,
                    delivery.code,
                    delivery.reason,
                    delivery.updated
                ],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }
}
