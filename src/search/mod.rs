//! `missive index`, `missive search` and `missive tag`: message records into the store's
//! search index ([`crate::store::index`]), queries in the language of [`query`] out of it,
//! and tags kept in `state.sqlite`.

pub mod query;

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;

use crate::contacts::{Directory, identity};
use crate::jsonl::{ErrorSink, Reader, Writer};
use crate::record::{DUPLICATE_MESSAGE_ID, ErrorRecord, Message, Record, text_path};
use crate::store::index::{Lookup, MessageIndex, Sort};
use crate::store::query::{KeywordField, Query};
use crate::store::threads::ThreadState;
use crate::store::{self, Store};
use crate::thread::conversation;

/// Records upserted per commit: a crash loses at most the records since the last commit,
/// and running `index` again on the same input repairs them.
const COMMIT_EVERY: usize = 10_000;

/// The error returned when indexing or searching cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Index(#[from] store::index::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Contacts(#[from] crate::contacts::Error),
    #[error("cannot write records")]
    Write(#[from] std::io::Error),
}

crate::fault::carried_by!(Error: Index, Store, Contacts, Write);

/// What indexing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Indexed {
    pub messages: u64,
    /// Lines that were not records (each reported).
    pub failed: u64,
}

/// Opens the index of a store.
pub fn open_index(store: &Store) -> Result<MessageIndex, Error> {
    Ok(MessageIndex::open(&store.root().join("index"))?)
}

/// Upserts every message record read into the index; other kinds are skipped. A record's
/// own `tags` are added to the store's tags.
pub fn index_stream<R: BufRead, E: Write>(
    store: &mut Store,
    reader: &mut Reader<R>,
    errors: &mut ErrorSink<E>,
) -> Result<Indexed, Error> {
    let index = open_index(store)?;
    let mut writer = index.writer()?;
    let mut summary = Indexed::default();
    let mut pending: Vec<(String, Vec<String>)> = Vec::new();
    let mut since_commit = 0;
    for record in reader {
        match record {
            Ok(Record::Message(mut message)) => {
                writer.upsert(&mut message)?;
                if !message.tags.is_empty() {
                    pending.push((message.id.clone(), message.tags.clone()));
                }
                summary.messages += 1;
                since_commit += 1;
                if since_commit >= COMMIT_EVERY {
                    writer.commit()?;
                    add_tags(store, &mut pending)?;
                    since_commit = 0;
                }
            }
            Ok(_) => {}
            Err(error) => {
                errors.report(&error.to_record());
                summary.failed += 1;
            }
        }
    }
    writer.commit()?;
    add_tags(store, &mut pending)?;
    Ok(summary)
}

fn add_tags(store: &mut Store, pending: &mut Vec<(String, Vec<String>)>) -> Result<(), Error> {
    let batch = store.db.batch()?;
    for (id, tags) in pending.drain(..) {
        for tag in tags {
            batch.tag(&id, &tag, true)?;
        }
    }
    batch.commit()?;
    Ok(())
}

/// Rebuilds the index from what it holds and the raw messages: each message is read again
/// from the file that holds it now (a Maildir file renamed since, with the flags of its new
/// name), else the archive's copy, so a change in how mail is read reaches the index. Only
/// files inside `roots` ([`crate::fetch::owned_roots`]) are read: a record naming a file
/// elsewhere (piped into `index` by hand) is refused and reported. A message that cannot be
/// read again keeps its document as indexed, body words and all (reported, as a warning
/// when its raw bytes are simply gone).
pub fn rebuild<E: Write>(
    store: &mut Store,
    roots: &[PathBuf],
    errors: &mut ErrorSink<E>,
) -> Result<Indexed, Error> {
    let index = open_index(store)?;
    let records = index.reader()?.all()?;
    let mut writer = index.writer()?;
    let mut summary = Indexed::default();
    for stored in records {
        summary.messages += 1;
        let location = stored
            .source
            .path
            .clone()
            .unwrap_or_else(|| stored.id.clone());
        match read_again(store, roots, stored)? {
            Again::Read(mut message) => writer.upsert(&mut message)?,
            Again::Kept(None) => {}
            Again::Kept(Some((native_id, why))) => {
                errors.warn(&location, &native_id, &format!("{why}, kept as indexed"))
            }
            Again::Refused(message, path) => {
                let mut report = ErrorRecord::new(
                    path.clone(),
                    format!(
                        "record {} names {path}, outside the archive and every source of the \
                         store: not read, kept as indexed",
                        message.id
                    ),
                );
                report.message_id = Some(message.native_id);
                errors.report(&report);
                summary.failed += 1;
            }
        }
    }
    writer.commit()?;
    Ok(summary)
}

/// What a rebuild does with one stored record.
enum Again {
    /// Read again from its raw bytes: the new document.
    Read(Message),
    /// Its document stays as it is, with why when its raw bytes could not be read.
    Kept(Option<(String, String)>),
    /// It names a file the store does not own (the record and the path).
    Refused(Message, String),
}

/// A stored record read again from where its raw bytes are now.
fn read_again(store: &Store, roots: &[PathBuf], mut stored: Message) -> Result<Again, Error> {
    let maildir = stored.source.kind == "maildir";
    if let Some(now) = store.db.current_file(&stored.id)?
        && stored.source.path.as_ref() != Some(&now)
    {
        if maildir {
            stored.flags = crate::source::maildir_flags(&text_path(&now));
        }
        stored.source.path = Some(now);
    }
    let raw = match stored.source.path.as_deref().map(text_path) {
        Some(path) => match std::fs::canonicalize(&path) {
            Ok(real) if !roots.iter().any(|root| real.starts_with(root)) => {
                let path = stored.source.path.clone().unwrap_or_default();
                return Ok(Again::Refused(stored, path));
            }
            Ok(_) => crate::store::raw_bytes(&stored.source),
            Err(error) => Err(error),
        },
        None => crate::store::raw_bytes(&stored.source),
    };
    let raw = match raw {
        Ok(raw) => Ok(raw),
        Err(gone) => match store.db.archived_path(&stored.blob)? {
            Some(copy) => std::fs::read(copy),
            None => Err(gone),
        },
    };
    Ok(match raw {
        Ok(raw) => match crate::source::read_again(&stored, &raw) {
            Some(message) => Again::Read(message),
            None => Again::Kept(None),
        },
        Err(error) => Again::Kept(Some((
            stored.native_id,
            format!("raw message gone ({error})"),
        ))),
    })
}

/// The store's answers to a query: tags, threads and conversations as they are now (a
/// message indexed before two threads merged still carries the old id in the index), and
/// contacts, loaded only when a query names one. The first database error is kept, and
/// returned once the query has run.
struct StoreLookup<'a> {
    store: &'a Store,
    threaded: bool,
    directory: std::cell::OnceCell<Option<Directory>>,
    failure: std::cell::RefCell<Option<Error>>,
}

impl<'a> StoreLookup<'a> {
    fn new(store: &'a Store) -> Result<StoreLookup<'a>, Error> {
        Ok(StoreLookup {
            store,
            threaded: store.db.has_threads()?,
            directory: Default::default(),
            failure: Default::default(),
        })
    }

    fn keep<T>(&self, result: Result<T, impl Into<Error>>) -> Option<T> {
        result
            .map_err(|e| {
                self.failure.borrow_mut().get_or_insert(e.into());
            })
            .ok()
    }

    fn finish(self) -> Result<(), Error> {
        self.failure.into_inner().map_or(Ok(()), Err)
    }

    /// Puts each message in its conversation and thread as they are now.
    fn current(&self, messages: &mut [Message]) -> Result<(), Error> {
        if !self.threaded {
            return Ok(());
        }
        let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        let mut current = self.store.db.current_ids(&ids)?;
        for message in messages {
            if let Some((conversation, thread)) = current.remove(&message.id) {
                message.conversation = Some(conversation);
                message.thread = thread.or(message.thread.take());
            }
        }
        Ok(())
    }
}

impl Lookup for StoreLookup<'_> {
    fn members(&self, field: KeywordField, value: &str) -> Option<Vec<String>> {
        let db = &self.store.db;
        match field {
            KeywordField::Tag => self.keep(db.tagged(value)),
            KeywordField::Thread if self.threaded => self.keep(db.thread_members(value)),
            KeywordField::Conversation if self.threaded => {
                self.keep(db.conversation_members(value))
            }
            _ => None,
        }
    }

    fn handles(&self, text: &str) -> Vec<String> {
        let directory = self
            .directory
            .get_or_init(|| self.keep(Directory::load(&self.store.db)));
        let Some(directory) = directory else {
            return Vec::new();
        };
        let named = |contact: &&crate::record::Contact| {
            contact
                .name
                .as_deref()
                .is_some_and(|name| name.eq_ignore_ascii_case(text))
        };
        let contact = directory
            .find(text)
            .ok()
            .or_else(|| directory.list(false).iter().find(named).cloned());
        contact
            .map(|contact| {
                contact
                    .identities
                    .iter()
                    .map(|id| identity::handle(id).to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// What `search` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// The message records (their `text` is not stored in the index).
    Messages,
    /// One `conversation` record (as `thread --output conversations` prints) per
    /// conversation the messages belong to; messages `thread` has not seen belong to none.
    Conversations,
    /// One `thread` record, the same summary, per thread the messages belong to.
    Threads,
    /// The number of messages, alone.
    Count,
    /// The message ids, one per line.
    Ids,
}

/// How to search.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub output: Output,
    pub sort: Sort,
    pub limit: Option<usize>,
    pub offset: usize,
}

/// Runs `query` and prints what `options.output` asks for; returns how many messages matched.
pub fn search<W: Write>(
    store: &Store,
    query: &Query,
    options: Options,
    out: &mut Writer<W>,
    raw: &mut dyn Write,
) -> Result<usize, Error> {
    let index = open_index(store)?;
    let reader = index.reader()?;
    let lookup = StoreLookup::new(store)?;
    // A list of at most so many counts its matches in the pass that finds them; the others
    // need the count first, to know how many to take.
    let counted = match options.output {
        Output::Messages | Output::Ids if options.limit.is_some() => None,
        _ => Some(reader.count(query, &lookup)?),
    };
    if options.output == Output::Count {
        lookup.finish()?;
        let total = counted.unwrap_or_default();
        writeln!(raw, "{total}")?;
        return Ok(total);
    }
    let grouped = matches!(options.output, Output::Conversations | Output::Threads);
    let (limit, offset) = match (grouped, options.limit) {
        (true, _) => (counted.unwrap_or_default(), 0),
        (false, Some(limit)) => (limit, options.offset),
        (false, None) => (counted.unwrap_or_default(), options.offset),
    };
    if options.output == Output::Ids {
        let (ids, total) = reader.ids(query, &lookup, options.sort, limit, offset)?;
        for id in ids {
            writeln!(raw, "{id}")?;
        }
        lookup.finish()?;
        return Ok(total);
    }
    let (mut messages, total) = reader.search(query, &lookup, options.sort, limit, offset)?;
    lookup.current(&mut messages)?;
    lookup.finish()?;
    let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    let mut tags = store.db.tags_of(&ids)?;
    // A message indexed before another took its Message-ID learns it from the store.
    let duplicates = store.db.duplicate_ids(&ids)?;
    let gone = store.db.gone_ids(&ids)?;
    for message in &mut messages {
        message.source.gone = gone.contains(&message.id);
        message.tags = tags.remove(&message.id).unwrap_or_default();
        if duplicates.contains(&message.id)
            && !message.problems.iter().any(|p| p == DUPLICATE_MESSAGE_ID)
        {
            message.problems.push(DUPLICATE_MESSAGE_ID.into());
        }
    }
    match options.output {
        Output::Messages => {
            for message in messages {
                out.write(&Record::Message(Box::new(message)))?;
            }
        }
        Output::Conversations | Output::Threads => {
            let directory = Directory::load(&store.db)?;
            let take = options.limit.unwrap_or(usize::MAX);
            for id in groups(&messages, options.output)
                .into_iter()
                .skip(options.offset)
                .take(take)
            {
                let line = if options.output == Output::Threads {
                    serde_json::to_string(&conversation::thread_summary(&store.db, &directory, id)?)
                } else {
                    serde_json::to_string(&conversation::summary(&store.db, &directory, id)?)
                };
                out.write(&Record::Other(line.map_err(std::io::Error::from)?))?;
            }
        }
        Output::Count | Output::Ids => {}
    }
    out.finish()?;
    Ok(total)
}

/// The conversations or threads (as `output` asks) the messages are in, in the order of
/// each one's first message; a message `thread` has not seen is in none.
fn groups(messages: &[Message], output: Output) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    messages
        .iter()
        .filter_map(|m| match output {
            Output::Threads => m.thread.as_deref(),
            _ => m.conversation.as_deref(),
        })
        .filter(|id| seen.insert(*id))
        .collect()
}

/// How many messages without a date `query`'s date filters left out: those it would find
/// with its date ranges lifted, less those it finds anyway; `None` when it has no date filter.
pub fn undated_left_out(store: &Store, query: &Query) -> Result<Option<usize>, Error> {
    let Some(lifted) = query.without_date_filters() else {
        return Ok(None);
    };
    let index = open_index(store)?;
    let reader = index.reader()?;
    let lookup = StoreLookup::new(store)?;
    // A range from the earliest time matches every message that has a date (tantivy
    // wants one end at least).
    let undated = |query: &Query| {
        Query::And(vec![
            query.clone(),
            Query::Not(Box::new(Query::Date {
                from: Some(i64::MIN),
                to: None,
            })),
        ])
    };
    let would = reader.count(&undated(&lifted), &lookup)?;
    let found = reader.count(&undated(query), &lookup)?;
    lookup.finish()?;
    Ok(Some(would.saturating_sub(found)))
}

/// Adds and removes tags on every message `query` finds; returns how many it touched.
pub fn tag(
    store: &mut Store,
    query: &Query,
    add: &[String],
    remove: &[String],
) -> Result<usize, Error> {
    let index = open_index(store)?;
    let reader = index.reader()?;
    let lookup = StoreLookup::new(store)?;
    let total = reader.count(query, &lookup)?;
    let (ids, _) = reader.ids(query, &lookup, Sort::Date, total, 0)?;
    lookup.finish()?;
    let batch = store.db.batch()?;
    for id in &ids {
        for tag in add {
            batch.tag(id, tag, true)?;
        }
        for tag in remove {
            batch.tag(id, tag, false)?;
        }
    }
    batch.commit()?;
    Ok(ids.len())
}
