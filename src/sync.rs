//! `missive sync`: fetch, score, thread and index in one process, under the store's lock:
//! the cron job. Each command's own module does the work; this one connects them without
//! JSON in between. Each batch is scored and threaded inside the transaction that records
//! it, and the index is committed before that transaction, so an interrupted sync leaves no
//! message fetched but unthreaded or unindexed. With `[keys] decrypt`, encrypted mail is
//! decrypted before it is scored ([`crate::keys::decrypt::decrypt_in_place`]).

use std::io::Write;

use crate::config::Config;
use crate::fault::into_io;
use crate::fetch::{self, Settle, Target};
use crate::jsonl::{ErrorSink, Sink};
use crate::keys::decrypt::{self, OwnKeys};
use crate::privacy::circle::{self, Circles};
use crate::privacy::message::score_in;
use crate::record::{ErrorRecord, Message, Record};
use crate::search;
use crate::store::db::Batch;
use crate::store::{self, Store};
use crate::thread::{self, Threader};

/// Messages per fetch batch. A few batches are in the pipeline at once, parsed records and
/// all, so their size bounds the memory of a sync more than anything else does.
const BATCH_MESSAGES: usize = 256;

/// Batches per transaction and index commit (4,096 messages). Threading writes all over its
/// B-trees, so a commit rewrites most of their pages whatever the number of messages in it,
/// and each index commit writes a segment: fewer, larger commits write far less. A run cut
/// short fetches the uncommitted batches again, and the index, keyed by record id, takes
/// them again unchanged.
const BATCHES_PER_COMMIT: usize = 16;

/// The error returned when a sync cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Fetch(#[from] fetch::Error),
    #[error(transparent)]
    Search(#[from] search::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Thread(#[from] thread::Error),
    #[error(transparent)]
    Circle(#[from] circle::Error),
}

crate::fault::carried_by!(Error: Fetch, Search, Store, Thread, Circle);

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Wait for another sync to finish instead of failing at once.
    pub wait: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// Scores and threads each batch of new messages, inside fetch's transaction.
struct Settling<'a> {
    threader: Threader,
    circles: Circles<'a>,
    config: &'a Config,
    decrypting: Option<Decrypting>,
}

/// Decrypts encrypted messages with the user's own key before they are scored; what
/// cannot be decrypted is remembered, to be reported once fetch is done.
struct Decrypting {
    store: Store,
    keys: OwnKeys,
    failures: Vec<ErrorRecord>,
}

impl Decrypting {
    fn decrypt(&mut self, message: &mut Message, reveal: bool) {
        if !decrypt::is_encrypted(message) {
            return;
        }
        let raw = crate::store::raw_bytes(&message.source);
        let now = std::time::SystemTime::now();
        if let Some(report) = decrypt::decrypt_in_place(
            &self.store,
            &mut self.keys,
            message,
            raw.as_deref(),
            reveal,
            now,
        ) {
            self.failures.push(report);
        }
    }
}

impl Settle for Settling<'_> {
    fn settle(&mut self, batch: &Batch<'_>, messages: &mut [Message]) -> std::io::Result<()> {
        for message in messages.iter_mut() {
            if let Some(decrypting) = self.decrypting.as_mut() {
                decrypting.decrypt(message, self.config.index.decrypted);
            }
            let circle = self.circles.of(message).map_err(into_io)?;
            message.privacy = Some(score_in(message, self.config, Some(&circle)));
        }
        self.threader.thread(batch, messages).map_err(into_io)
    }
}

/// Upserts each message into the index; a flush is an index commit.
struct Indexing<'a> {
    writer: crate::store::index::Writer<'a>,
}

impl Sink for Indexing<'_> {
    fn put(&mut self, record: Record) -> std::io::Result<()> {
        if let Record::Message(mut message) = record {
            self.writer.upsert(&mut message).map_err(into_io)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.commit().map_err(into_io)
    }
}

/// Fetches `targets`, scores and indexes what is new, decrypting encrypted mail first with
/// `own_keys` when given; returns what fetch did, a message that could not be decrypted
/// counted as failed (and reported).
pub fn sync<E: Write + Send>(
    store: &mut Store,
    config: &Config,
    targets: &[Target],
    options: Options,
    own_keys: Option<OwnKeys>,
    errors: &mut ErrorSink<E>,
) -> Result<fetch::Summary, Error> {
    let _lock = store.lock(options.wait)?;
    let index = search::open_index(store)?;
    let mut sink = Indexing {
        writer: index.writer().map_err(search::Error::from)?,
    };
    let mut settling = Settling {
        threader: Threader::new(store, config)?,
        circles: Circles::new(Store::open(store.root())?, Some(&index), config)?,
        config,
        decrypting: own_keys
            .map(|keys| {
                Ok::<_, store::Error>(Decrypting {
                    store: Store::open(store.root())?,
                    keys,
                    failures: Vec::new(),
                })
            })
            .transpose()?,
    };
    let fetch_options = fetch::Options {
        all: false,
        progress: options.progress,
        batch_messages: BATCH_MESSAGES,
        batches_per_commit: BATCHES_PER_COMMIT,
        limits: config.limits,
        consumer: fetch::Consumer::Index,
    };
    let mut summary = fetch::fetch(
        store,
        targets,
        fetch_options,
        &mut sink,
        Some(&mut settling),
        errors,
    )?;
    sink.flush().map_err(fetch::Error::from)?;
    for failure in settling.decrypting.iter().flat_map(|d| &d.failures) {
        errors.report(failure);
        summary.failed += 1;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault::Fault;

    #[test]
    fn a_locked_store_met_while_building_circles_is_transient() {
        let locked = store::Error::Locked {
            path: "/store".into(),
        };
        assert!(Error::Circle(circle::Error::Store(locked)).is_transient());
    }

    #[test]
    fn a_full_disk_carried_through_a_sink_is_transient() {
        let full = store::Error::Full {
            path: "/store".into(),
        };
        let error = Error::Fetch(fetch::Error::Output(into_io(full)));
        assert!(error.is_transient());
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(Error::Fetch(fetch::Error::Output(io)).is_transient());
    }
}
