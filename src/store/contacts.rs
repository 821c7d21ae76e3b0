//! The contact tables of `state.sqlite`: contacts, the identities linked to them, and the
//! identities seen in messages with the name they came with. What a link or an import
//! means is [`crate::contacts`]'s job; this file only reads and writes rows.

use rusqlite::OptionalExtension;

use super::Error;
use super::db::{Batch, Db};

impl Db {
    /// Every contact made by hand or import: (id, name).
    pub fn contacts(&self) -> Result<Vec<(String, Option<String>)>, Error> {
        self.pairs("SELECT id, name FROM contact ORDER BY id")
    }

    /// Every linked identity: (identity, contact id).
    pub fn contact_identities(&self) -> Result<Vec<(String, String)>, Error> {
        self.pairs("SELECT identity, contact FROM contact_identity ORDER BY identity")
    }

    /// Every identity seen in a message, with the last display name it came with.
    pub fn seen_identities(&self) -> Result<Vec<(String, Option<String>)>, Error> {
        self.pairs("SELECT identity, name FROM seen_identity ORDER BY identity")
    }

    /// The rows of a query of two columns.
    pub(super) fn pairs<A, B>(&self, sql: &str) -> Result<Vec<(A, B)>, Error>
    where
        A: rusqlite::types::FromSql,
        B: rusqlite::types::FromSql,
    {
        let mut statement = self.connection.prepare(sql).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }
}

impl Batch<'_> {
    /// The contact an identity is linked to.
    pub fn contact_of(&self, identity: &str) -> Result<Option<String>, Error> {
        self.tx
            .query_row(
                "SELECT contact FROM contact_identity WHERE identity = ?1",
                [identity],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Whether a contact exists, and its name.
    pub fn contact(&self, id: &str) -> Result<Option<Option<String>>, Error> {
        self.tx
            .query_row("SELECT name FROM contact WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The identities linked to a contact, sorted.
    pub fn identities_of(&self, contact: &str) -> Result<Vec<String>, Error> {
        let mut statement = self
            .tx
            .prepare_cached(
                "SELECT identity FROM contact_identity WHERE contact = ?1 ORDER BY identity",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([contact], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Creates a contact or renames it (`None` keeps the name it has).
    pub fn put_contact(&self, id: &str, name: Option<&str>) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT INTO contact (id, name) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET name = coalesce(?2, name)",
                [Some(id), name],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Deletes a contact (its identities must have been moved first).
    pub fn delete_contact(&self, id: &str) -> Result<(), Error> {
        self.tx
            .execute("DELETE FROM contact WHERE id = ?1", [id])
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Links an identity to a contact, moving it from any other.
    pub fn link_identity(&self, identity: &str, contact: &str) -> Result<(), Error> {
        self.tx
            .execute(
                "INSERT OR REPLACE INTO contact_identity (identity, contact) VALUES (?1, ?2)",
                [identity, contact],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Moves every identity of one contact to another.
    pub fn move_identities(&self, from: &str, to: &str) -> Result<(), Error> {
        self.tx
            .execute(
                "UPDATE contact_identity SET contact = ?2 WHERE contact = ?1",
                [from, to],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Unlinks an identity: it is its own contact again.
    pub fn unlink_identity(&self, identity: &str) -> Result<(), Error> {
        self.tx
            .execute(
                "DELETE FROM contact_identity WHERE identity = ?1",
                [identity],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// Records that an identity was seen in a message, with the name it came with.
    pub fn see_identity(&self, identity: &str, name: Option<&str>) -> Result<(), Error> {
        let mut statement = self
            .tx
            .prepare_cached(
                "INSERT INTO seen_identity (identity, name) VALUES (?1, ?2)
                 ON CONFLICT (identity) DO UPDATE SET name = coalesce(?2, name)",
            )
            .map_err(|e| self.error(e))?;
        statement
            .execute([Some(identity), name])
            .map_err(|e| self.error(e))?;
        Ok(())
    }
}
