//! `missive sync`: fetch, score and index in one process, under the store's lock: the cron
//! job. Each command's own module does the work; this one connects them without JSON in
//! between, and commits the index before fetch records a batch as done, so an interrupted
//! sync leaves no message fetched but unindexed.

use std::io::Write;

use crate::config::Config;
use crate::fetch::{self, Target};
use crate::jsonl::{ErrorSink, Sink};
use crate::record::Record;
use crate::search;
use crate::store::{self, Store};

/// Messages per fetch batch, each ending in an index commit: fewer, larger commits than a
/// printing fetch makes, as each one writes an index segment.
const BATCH_MESSAGES: usize = 1024;

/// The error returned when a sync cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Fetch(#[from] fetch::Error),
    #[error(transparent)]
    Search(#[from] search::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl Error {
    /// Whether a later run may succeed (the store is locked, a server unreachable).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Fetch(e) => e.is_transient(),
            Error::Search(e) => e.is_transient(),
            Error::Store(e) => e.is_transient(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Wait for another sync to finish instead of failing at once.
    pub wait: bool,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// Scores each message and upserts it into the index; a flush is an index commit.
struct Indexing<'a> {
    writer: crate::store::index::Writer<'a>,
    config: &'a Config,
}

impl Sink for Indexing<'_> {
    fn put(&mut self, record: Record) -> std::io::Result<()> {
        if let Record::Message(mut message) = record {
            message.privacy = Some(crate::privacy::score(&message, self.config));
            self.writer
                .upsert(&mut message)
                .map_err(std::io::Error::other)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.commit().map_err(std::io::Error::other)
    }
}

/// Fetches `targets`, scores and indexes what is new; returns what fetch did.
pub fn sync<E: Write + Send>(
    store: &mut Store,
    config: &Config,
    targets: &[Target],
    options: Options,
    errors: &mut ErrorSink<E>,
) -> Result<fetch::Summary, Error> {
    let _lock = store.lock(options.wait)?;
    let index = search::open_index(store)?;
    let mut sink = Indexing {
        writer: index.writer().map_err(search::Error::from)?,
        config,
    };
    let fetch_options = fetch::Options {
        all: false,
        progress: options.progress,
        batch_messages: BATCH_MESSAGES,
    };
    let summary = fetch::fetch(store, targets, fetch_options, &mut sink, errors)?;
    sink.flush().map_err(fetch::Error::from)?;
    Ok(summary)
}
