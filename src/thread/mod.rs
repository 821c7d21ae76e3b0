//! `missive thread` (DESIGN §4): a filter that adds `conversation` and `thread` ids to
//! message records, keeping its state in the store so that a run over today's messages
//! gives the ids a run over the whole history would.
//!
//! [`jwz`] groups messages into threads by their reference headers; [`conversation`] groups
//! them by the people in them. Contacts are [`crate::contacts`]; the rows kept are
//! [`crate::store::threads`].
//!
//! The filter reads its input twice: once to learn every link (a message late in the input
//! may merge two threads begun early), then again to write each record with its final ids:
//! from the input itself when it is a file, else from a spool file in the store. The first
//! pass reads of a message record only the fields threading needs, and threads and stores
//! them [`THREAD_BATCH`] messages at a time, as `sync` does, so what it holds is two
//! batches: the store keeps one on a thread of its own while the next is read and parsed;
//! the second copies each record as it came and splices its ids in, the merges later
//! batches made applied. Memory grows by sixteen bytes per message (its line in the second
//! pass's plan, the numbers of its conversation and thread among the run's) and by each
//! distinct id, never by rows or message bodies.

pub mod conversation;
pub mod jwz;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Seek, Write};

use crate::config::Config;
use crate::contacts::{self, Directory, User, identity};
use crate::fault::Fault;
use rayon::prelude::*;

use crate::jsonl::{self, ErrorSink, Format, LineError, Partial, Reader, Writer};
use crate::record::{Address, Grade, Message, Record, kept_references};
use crate::store::threads::MessageRow;
use crate::store::{self, Store};

/// The error returned by [`thread_stream`] and [`rebuild`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Contacts(#[from] contacts::Error),
    #[error("cannot write records: {0}")]
    Write(#[source] std::io::Error),
    #[error("cannot read the input again: {0}")]
    Again(String),
    /// Every record went out with its ids; only the store missed what they taught it, so
    /// threading the same input again completes it.
    #[error(
        "every record was printed with its ids, but the store did not keep them; thread the same input again"
    )]
    Unkept(#[source] Box<Error>),
    #[error("cannot spool the input in {path}: {source}")]
    Spool {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Fault for Error {
    fn inner(&self) -> Option<&dyn Fault> {
        match self {
            Error::Store(e) => Some(e),
            Error::Contacts(e) => Some(e),
            Error::Write(e) | Error::Spool { source: e, .. } => Some(e),
            Error::Unkept(e) => Some(e.as_ref()),
            Error::Again(_) => None,
        }
    }
}

/// What `missive thread` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Every record, message records with `conversation` and `thread` added.
    #[default]
    Messages,
    /// One `conversation` record per conversation of the input, summarising every message
    /// the store holds in it.
    Conversations,
}

/// What [`thread_stream`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Message records threaded.
    pub threaded: u64,
    /// Records of other kinds passed on.
    pub passed: u64,
    /// Lines that were not records, each reported.
    pub failed: u64,
}

/// The fields of a message record threading reads; the rest (the text above all) is
/// skipped unread, as the record is copied as it came.
#[derive(Debug, Default, serde::Deserialize)]
struct Head {
    id: String,
    protocol: String,
    native_id: String,
    #[serde(default)]
    in_reply_to: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    list_id: Option<String>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    from: Option<Address>,
    #[serde(default)]
    to: Vec<Address>,
    #[serde(default)]
    cc: Vec<Address>,
    #[serde(default)]
    bcc: Vec<Address>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    privacy: Option<PrivacyHead>,
    #[serde(default)]
    conversation: Option<String>,
    #[serde(default)]
    thread: Option<String>,
}

/// The score and grade of a record's `privacy`.
#[derive(Debug, Default, serde::Deserialize)]
struct PrivacyHead {
    score: u8,
    grade: Grade,
}

/// What the first pass learns of a message record, on any core.
struct Fact {
    row: MessageRow,
    /// Each participant's identity and the display name it came with.
    names: Vec<(String, Option<String>)>,
    /// Whether the record carried ids already.
    had_ids: bool,
    tree: Option<TreeLine>,
}

/// What threading needs of a message, taken from its record.
fn facts(message: Head, user: &User, directory: &Directory, tree: bool) -> Fact {
    let node = jwz::node_key(&message.protocol, &message.native_id);
    let mut refs: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // However many ids a record names, threading takes a bounded number of them.
    let named = kept_references(&message.references).chain(kept_references(&message.in_reply_to));
    for reference in named {
        let key = jwz::node_key(&message.protocol, reference);
        if !reference.trim().is_empty() && key != node && seen.insert(key.clone()) {
            refs.push(key);
        }
    }
    let has_headers = !(message.references.is_empty() && message.in_reply_to.is_empty());
    let (subject_key, reply) = match (&message.subject, has_headers) {
        (Some(subject), false) => {
            let (key, reply) = jwz::subject_key(subject);
            (Some(key).filter(|k| !k.is_empty()), reply)
        }
        _ => (None, false),
    };
    let mut names = Vec::new();
    let people = message
        .from
        .iter()
        .chain(&message.to)
        .chain(&message.cc)
        .chain(&message.bcc);
    for address in people {
        if let Some(identity) = identity::of_address(&message.protocol, &address.address)
            && !user.is_user(&identity)
        {
            names.push((identity, address.name.clone()));
        }
    }
    let participants: BTreeSet<&String> = names.iter().map(|(identity, _)| identity).collect();
    let participants: Vec<String> = participants.into_iter().cloned().collect();
    let conversation = conversation::id(message.list_id.as_deref(), &participants, directory);
    let tree = tree.then(|| TreeLine {
        item: jwz::TreeItem {
            node: node.clone(),
            refs: refs.clone(),
            date: message.date.clone(),
        },
        from: message
            .from
            .as_ref()
            .map(|a| a.name.clone().unwrap_or_else(|| a.address.clone()))
            .unwrap_or_default(),
        subject: message.subject.clone().unwrap_or_default(),
    });
    let grade = message
        .privacy
        .as_ref()
        .and_then(|p| serde_json::to_value(p.grade).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    Fact {
        had_ids: message.conversation.is_some() || message.thread.is_some(),
        row: MessageRow {
            id: message.id,
            node,
            refs,
            subject: message.subject,
            subject_key,
            reply,
            protocol: message.protocol,
            date: message.date,
            list_id: message.list_id,
            participants,
            conversation,
            score: message.privacy.as_ref().map(|p| p.score),
            grade,
        },
        names,
        tree,
    }
}

impl Head {
    /// What threading reads of a record held in memory.
    fn of(message: &Message) -> Head {
        Head {
            id: message.id.clone(),
            protocol: message.protocol.clone(),
            native_id: message.native_id.clone(),
            in_reply_to: message.in_reply_to.clone(),
            references: message.references.clone(),
            list_id: message.list_id.clone(),
            date: message.date.clone(),
            from: message.from.clone(),
            to: message.to.clone(),
            cc: message.cc.clone(),
            bcc: message.bcc.clone(),
            subject: message.subject.clone(),
            privacy: message.privacy.as_ref().map(|p| PrivacyHead {
                score: p.score,
                grade: p.grade,
            }),
            conversation: message.conversation.clone(),
            thread: message.thread.clone(),
        }
    }
}

/// Threads messages held in memory, batch after batch (`missive sync`): sets their ids
/// and keeps what was learnt inside the caller's transaction, so the ids are committed
/// with whatever else records the batch. A thread already stored that a batch merges into
/// another keeps its old id in records printed before; [`crate::store::threads`] records
/// the merge, and search answers with the ids as they are now.
pub struct Threader {
    user: User,
    directory: Directory,
    keeper: Keeper,
}

impl Threader {
    pub fn new(store: &Store, config: &Config) -> Result<Threader, Error> {
        // A little over SQLite's default: a larger cache costs memory and, with batches
        // committed together, wins no time.
        store.db.set_cache_mib(4)?;
        Ok(Threader {
            user: User::from_config(config),
            directory: Directory::load(&store.db)?,
            keeper: Keeper::default(),
        })
    }

    /// Sets the conversation and thread of each message, and stores them in `batch`.
    pub fn thread(
        &mut self,
        batch: &store::db::Batch<'_>,
        messages: &mut [Message],
    ) -> Result<(), Error> {
        let mut rows = Vec::with_capacity(messages.len());
        for message in messages.iter() {
            let fact = facts(Head::of(message), &self.user, &self.directory, false);
            self.saw(&fact);
            rows.push(fact.row);
        }
        let names = names_of(&rows, &self.directory);
        let (settled, nodes) = self.keeper.keep(batch, &rows, &names)?;
        for ((message, row), at) in messages.iter_mut().zip(rows).zip(nodes) {
            message.conversation = Some(row.conversation);
            message.thread = Some(settled.thread(at).to_string());
        }
        Ok(())
    }

    /// Remembers the names a message's participants came with.
    fn saw(&mut self, fact: &Fact) {
        for (identity, name) in &fact.names {
            self.directory.saw(identity, name.as_deref());
        }
    }
}

/// What threading a batch leaves for the run's later batches: the subject groups it met.
#[derive(Default)]
struct Keeper {
    subjects: jwz::SubjectMemory,
}

impl Keeper {
    /// Threads `rows` and keeps them in `batch`, their participants under the `names` they
    /// came with, and remembers what the run's later batches must; returns the threads
    /// settled on and each row's node among them.
    fn keep(
        &mut self,
        batch: &store::db::Batch<'_>,
        rows: &[MessageRow],
        names: &[(String, Option<String>)],
    ) -> Result<(jwz::Settled, Vec<usize>), Error> {
        let forest = jwz::Forest::new(batch)?.remembering(&self.subjects);
        let (settled, nodes) = settle(forest, rows)?;
        settled.store(batch)?;
        save(batch, rows, names)?;
        self.subjects.learn(&settled);
        Ok((settled, nodes))
    }
}

/// Each participant of `rows` once, in order, with the name the directory has seen for them.
fn names_of(rows: &[MessageRow], directory: &Directory) -> Vec<(String, Option<String>)> {
    let seen: BTreeSet<&String> = rows.iter().flat_map(|row| &row.participants).collect();
    seen.into_iter()
        .map(|identity| {
            let name = directory.seen_name(identity).map(str::to_string);
            (identity.clone(), name)
        })
        .collect()
}

/// Adds `rows` to `forest` and settles it: the threads, and the node of each row among them.
fn settle(
    mut forest: jwz::Forest<'_>,
    rows: &[MessageRow],
) -> Result<(jwz::Settled, Vec<usize>), store::Error> {
    let nodes = rows
        .iter()
        .map(|row| forest.add(row))
        .collect::<Result<Vec<_>, _>>()?;
    forest.settle();
    Ok((forest.finish(), nodes))
}

/// Distinct ids met in a run, each numbered once: a message holds two numbers, not two
/// strings.
#[derive(Default)]
struct Numbered {
    numbers: std::collections::HashMap<String, u32>,
}

impl Numbered {
    fn number(&mut self, id: &str) -> u32 {
        if let Some(&number) = self.numbers.get(id) {
            return number;
        }
        let number = self.numbers.len() as u32;
        self.numbers.insert(id.to_string(), number);
        number
    }

    /// The ids, each at its number.
    fn into_ids(self) -> Vec<String> {
        let mut ids = vec![String::new(); self.numbers.len()];
        for (id, number) in self.numbers {
            ids[number as usize] = id;
        }
        ids
    }
}

/// How many lines, or bytes, are read and parsed at a time in the first pass.
const BATCH_LINES: usize = 4096;
const BATCH_BYTES: usize = 16 << 20;
/// How many messages the first pass threads and stores at a time: the rows it holds, about
/// 700 bytes each, two batches at once (one kept, the next filled), and one transaction
/// each. The unit tests thread a dozen messages at a time: a few to a batch, so that their
/// threads cross batches too.
const THREAD_BATCH: usize = if cfg!(test) { 3 } else { 4_096 };

/// A readable line of a message for the tree.
struct TreeLine {
    item: jwz::TreeItem,
    from: String,
    subject: String,
}

/// What the second pass does with one non-blank input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// A message record: the index of its row, and whether it carried ids already (so it
    /// is written again rather than spliced).
    Message(u32, bool),
    /// A record of another kind, written as it came.
    Pass,
    /// A line that was not a record, reported in the first pass.
    Drop,
}

/// Where the second pass reads the input again.
enum Again {
    /// The input itself, a file read from `offset` again.
    Replay(std::fs::File, u64),
    /// A spool file in the store, unlinked, holding every record line.
    Spool(std::io::BufWriter<std::fs::File>, std::path::PathBuf),
}

/// `missive thread`: reads records, writes them with their ids (or the conversations, or
/// a tree with [`Format::Tree`]), and keeps what it learnt in the store. `replay` is the
/// input once more when it is a file that can be read again from the offset given (the
/// offset where `reader` starts); otherwise the input is spooled in the store.
#[allow(clippy::too_many_arguments)]
pub fn thread_stream<R: BufRead, W: Write, E: Write>(
    reader: &mut Reader<R>,
    replay: Option<(std::fs::File, u64)>,
    output: W,
    format: Format,
    errors: &mut ErrorSink<E>,
    store: &mut Store,
    config: &Config,
    what: Output,
) -> Result<Summary, Error> {
    let mut threader = Threader::new(store, config)?;
    store.db.set_cache_mib(16)?;
    store.db.checkpoint_seldom()?;
    let mut summary = Summary::default();
    let again = match (what == Output::Messages && format != Format::Tree, replay) {
        (false, _) => None,
        (true, Some((file, offset))) => Some(Again::Replay(file, offset)),
        (true, None) => {
            let path = store
                .root()
                .join(format!("thread-spool-{}", std::process::id()));
            let spool_error = |source| Error::Spool {
                path: path.clone(),
                source,
            };
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(spool_error)?;
            // Unlinked at once: the spool goes away with the process, whatever happens.
            std::fs::remove_file(&path).map_err(spool_error)?;
            Some(Again::Spool(
                std::io::BufWriter::with_capacity(1 << 16, file),
                path,
            ))
        }
    };
    // A rendezvous: the reader waits with its next batch until the keeper takes it, so no
    // third batch is held.
    let (hand, handed) = std::sync::mpsc::sync_channel::<Handed>(0);
    let keeper = std::mem::take(&mut threader.keeper);
    let db = &mut store.db;
    let mut second = SecondPass {
        again,
        tree_lines: Vec::new(),
        plan: Vec::new(),
    };
    let (read, numbers) = std::thread::scope(|scope| {
        let keeping = scope.spawn(move || keep_handed(db, keeper, handed));
        let read = read_first_pass(
            reader,
            &mut threader,
            &hand,
            errors,
            &mut summary,
            format,
            &mut second,
        );
        drop(hand);
        let numbers = keeping
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (read, numbers)
    });
    // When the keeper stopped, the reading did too, and the keeper's error says why.
    let Numbers {
        ids,
        conversations,
        threads,
        unkept,
    } = numbers?;
    read?;
    let conversations = conversations.into_ids();
    // A thread a later batch merged into another is printed as the one it is part of now;
    // the merges are read whole: far fewer threads are ever merged than a run meets.
    let mut merged = Vec::new();
    store.db.for_each_merge(|old, new| {
        if let Some(&number) = threads.numbers.get(old) {
            merged.push((number, new.to_string()));
        }
    })?;
    let mut threads = threads.into_ids();
    for (number, now) in merged {
        threads[number as usize] = now;
    }
    // The indexes a first load deferred are made once its rows are all in; a store that
    // could not keep them is left for the next run to make them.
    let restore = |db: &mut store::db::Db| -> Result<(), Error> {
        if unkept.is_none() {
            let batch = db.batch()?;
            batch.restore_indexes()?;
            batch.commit()?;
        }
        Ok(())
    };
    if what == Output::Conversations {
        restore(&mut store.db)?;
        let directory = Directory::load(&store.db)?;
        let ids: BTreeSet<&String> = conversations.iter().collect();
        let mut writer = Writer::new(output, jsonl_or(format));
        for id in ids {
            let record = conversation::summary(&store.db, &directory, id)?;
            let line = serde_json::to_string(&record).map_err(|e| Error::Write(e.into()))?;
            writer.write(&Record::Other(line)).map_err(Error::Write)?;
        }
        writer.finish().map_err(Error::Write)?;
        return unkept.map_or(Ok(summary), |error| Err(Error::Unkept(Box::new(error))));
    }
    let ids = Ids {
        of_message: &ids,
        conversations: &conversations,
        threads: &threads,
    };
    // Printing again needs nothing of the store: the indexes are made beside it.
    let db = &mut store.db;
    let (written, restored) = std::thread::scope(|scope| {
        let restoring = scope.spawn(|| restore(db));
        let written = write_all_again(output, format, second, &ids);
        let restored = restoring
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (written, restored)
    });
    written?;
    restored?;
    unkept.map_or(Ok(summary), |error| Err(Error::Unkept(Box::new(error))))
}

/// What the first pass leaves the second: where to read the input again, and what to do
/// with each of its lines; or the lines of the tree.
struct SecondPass {
    again: Option<Again>,
    plan: Vec<Line>,
    tree_lines: Vec<TreeLine>,
}

/// The second pass: every record with its ids, read again from where the first pass said,
/// or the tree of the threads.
fn write_all_again<W: Write>(
    output: W,
    format: Format,
    second: SecondPass,
    ids: &Ids<'_>,
) -> Result<(), Error> {
    let SecondPass {
        again,
        plan,
        tree_lines,
    } = second;
    match (format, again) {
        (Format::Tree, _) => write_tree(output, &tree_lines, ids).map_err(Error::Write)?,
        (_, Some(Again::Spool(spool, path))) => {
            let spool_error = |source| Error::Spool {
                path: path.clone(),
                source,
            };
            let mut file = spool
                .into_inner()
                .map_err(|e| spool_error(e.into_error()))?;
            file.rewind().map_err(spool_error)?;
            let input = BufReader::with_capacity(1 << 20, file);
            write_again(input, output, format, &plan, ids)?;
        }
        (_, Some(Again::Replay(mut file, offset))) => {
            file.seek(std::io::SeekFrom::Start(offset))
                .map_err(Error::Write)?;
            let input = BufReader::with_capacity(1 << 20, file);
            write_again(input, output, format, &plan, ids)?;
        }
        (_, None) => {}
    }
    Ok(())
}

/// One threading batch handed to the keeper: its rows, their participants with the names
/// they came with, and whether it is the run's last.
struct Handed {
    rows: Vec<MessageRow>,
    names: Vec<(String, Option<String>)>,
    last: bool,
}

/// Each message's conversation and thread numbers, in input order, and the store's error
/// when it could not keep every batch.
#[derive(Default)]
struct Numbers {
    ids: Vec<(u32, u32)>,
    conversations: Numbered,
    threads: Numbered,
    unkept: Option<Error>,
}

impl Numbers {
    fn number(&mut self, rows: &[MessageRow], settled: &jwz::Settled, nodes: &[usize]) {
        for (row, &at) in rows.iter().zip(nodes) {
            let conversation = self.conversations.number(&row.conversation);
            let thread = self.threads.number(settled.thread(at));
            self.ids.push((conversation, thread));
        }
    }
}

/// The first pass's storing half, on a thread of its own while the next lines are read and
/// parsed: threads and keeps each batch handed over, in order. A store that cannot keep a
/// batch (locked, full) stops no record: the rest is threaded in memory, every record
/// printed with its ids, and the run then ends with the store's error, so threading the
/// same input again completes the store.
fn keep_handed(
    db: &mut store::db::Db,
    mut keeper: Keeper,
    handed: std::sync::mpsc::Receiver<Handed>,
) -> Result<Numbers, Error> {
    let mut numbers = Numbers::default();
    let mut unkept_rows = Vec::new();
    // A run of many batches into empty tables builds the indexes it never reads once, after
    // its rows (in [`thread_stream`]), as a first fetch does; a run stopped before left them
    // for this one to make.
    let mut first = true;
    for Handed { rows, names, last } in handed {
        if numbers.unkept.is_some() {
            unkept_rows.extend(rows);
            continue;
        }
        let kept = db.batch().map_err(Error::from).and_then(|batch| {
            if std::mem::take(&mut first) && !last {
                batch.defer_load_indexes()?;
            }
            let kept = keeper.keep(&batch, &rows, &names)?;
            batch.commit()?;
            Ok(kept)
        });
        match kept {
            Ok((settled, nodes)) => numbers.number(&rows, &settled, &nodes),
            Err(error) if error.is_transient() => {
                numbers.unkept = Some(error);
                unkept_rows = rows;
            }
            Err(error) => return Err(error),
        }
    }
    if numbers.unkept.is_some() {
        let forest = jwz::Forest::new(&*db)?.remembering(&keeper.subjects);
        let (settled, nodes) = settle(forest, &unkept_rows)?;
        numbers.number(&unkept_rows, &settled, &nodes);
    }
    Ok(numbers)
}

/// The first pass's reading half: reads and parses the input's lines, hands each
/// [`THREAD_BATCH`] of message rows to the keeper, and notes what the second pass does
/// with each line (spooling it when the input cannot be read again). Stops early, with
/// nothing to report, when the keeper stopped: its error says why.
fn read_first_pass<R: BufRead, E: Write>(
    reader: &mut Reader<R>,
    threader: &mut Threader,
    hand: &std::sync::mpsc::SyncSender<Handed>,
    errors: &mut ErrorSink<E>,
    summary: &mut Summary,
    format: Format,
    second: &mut SecondPass,
) -> Result<(), Error> {
    let hand_over = |rows: &mut Vec<MessageRow>, threader: &Threader, last: bool| {
        let rows = std::mem::take(rows);
        let names = names_of(&rows, &threader.directory);
        hand.send(Handed { rows, names, last }).is_ok()
    };
    let mut rows: Vec<MessageRow> = Vec::new();
    // Lines are read in batches and parsed on every core; what follows is in input order.
    // A batch's lines share one buffer: one per line would each keep the capacity of the
    // longest line it ever held, which grows with the input.
    let (mut text, mut lines, mut line) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        text.clear();
        lines.clear();
        while lines.len() < BATCH_LINES && text.len() < BATCH_BYTES {
            match reader.next_line_into(&mut line) {
                None => break,
                Some(Err(error)) => {
                    errors.report(&error.to_record());
                    summary.failed += 1;
                }
                Some(Ok(number)) => {
                    let start = text.len();
                    text.extend_from_slice(&line);
                    lines.push((number, start..text.len()));
                }
            }
        }
        if lines.is_empty() {
            break;
        }
        let tree = format == Format::Tree;
        let parsed: Vec<Result<Option<Fact>, String>> = lines
            .par_iter()
            .map(|(_, at): &(u64, std::ops::Range<usize>)| {
                jsonl::partial::<Head>(&text[at.clone()]).map(|partial| match partial {
                    Partial::Message(head) => {
                        Some(facts(head, &threader.user, &threader.directory, tree))
                    }
                    Partial::Other => None,
                })
            })
            .collect();
        for ((number, at), parsed) in lines.iter().zip(parsed) {
            let raw = &text[at.clone()];
            let line = match parsed {
                Ok(Some(fact)) => {
                    threader.saw(&fact);
                    second.tree_lines.extend(fact.tree);
                    rows.push(fact.row);
                    if rows.len() == THREAD_BATCH && !hand_over(&mut rows, threader, false) {
                        return Ok(());
                    }
                    summary.threaded += 1;
                    Line::Message(summary.threaded as u32 - 1, fact.had_ids)
                }
                Ok(None) => {
                    summary.passed += 1;
                    Line::Pass
                }
                Err(reason) => {
                    let error = LineError {
                        origin: reader.origin().to_string(),
                        line: *number,
                        reason,
                    };
                    errors.report(&error.to_record());
                    summary.failed += 1;
                    Line::Drop
                }
            };
            match &mut second.again {
                Some(Again::Spool(spool, path)) if line != Line::Drop => {
                    let spool_error = |source| Error::Spool {
                        path: path.clone(),
                        source,
                    };
                    spool.write_all(raw).map_err(spool_error)?;
                    spool.write_all(b"\n").map_err(spool_error)?;
                    second.plan.push(line);
                }
                Some(Again::Replay(..)) => second.plan.push(line),
                _ => {}
            }
        }
    }
    hand_over(&mut rows, threader, true);
    Ok(())
}

/// The ids of the run's messages, each as a conversation and a thread number.
struct Ids<'a> {
    of_message: &'a [(u32, u32)],
    conversations: &'a [String],
    threads: &'a [String],
}

impl Ids<'_> {
    /// The conversation and thread of the message at `at` in input order.
    fn of(&self, at: usize) -> (&str, &str) {
        let (conversation, thread) = self.of_message[at];
        (
            &self.conversations[conversation as usize],
            &self.threads[thread as usize],
        )
    }
}

/// Conversation records as JSON, or a line of text each (for the tree too).
fn jsonl_or(format: Format) -> Format {
    match format {
        Format::Tree => Format::Text,
        other => other,
    }
}

fn save(
    batch: &store::db::Batch<'_>,
    rows: &[MessageRow],
    names: &[(String, Option<String>)],
) -> Result<(), Error> {
    // In key order: B-tree pages fill one after another instead of splitting all over.
    let mut order: Vec<&MessageRow> = rows.iter().collect();
    order.sort_by(|a, b| a.id.cmp(&b.id));
    order.dedup_by(|a, b| a.id == b.id);
    batch.put_thread_messages(order.iter().copied())?;
    for (identity, name) in names {
        batch.see_identity(identity, name.as_deref())?;
    }
    Ok(())
}

/// The second pass: every record again, message records with their ids. In JSON Lines
/// and JSON the ids of a record that had none are spliced in before its closing brace, so
/// every other byte is the input's.
fn write_again<R: BufRead, W: Write>(
    mut input: R,
    output: W,
    format: Format,
    plan: &[Line],
    ids: &Ids<'_>,
) -> Result<(), Error> {
    let mut writer = Writer::new(output, format);
    let mut plan = plan.iter();
    let mut buffer = Vec::with_capacity(1 << 16);
    loop {
        buffer.clear();
        if input.read_until(b'\n', &mut buffer).map_err(Error::Write)? == 0 {
            break;
        }
        let end = buffer.trim_ascii_end().len();
        buffer.truncate(end);
        if buffer.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Some(line) = plan.next() else {
            break;
        };
        match *line {
            Line::Drop => continue,
            Line::Pass => writer.write_json(&buffer).map_err(Error::Write)?,
            Line::Message(at, had_ids) => {
                let (conversation, thread) = ids.of(at as usize);
                if !had_ids && buffer.ends_with(b"}") {
                    buffer.pop();
                    let empty = buffer.trim_ascii_end().ends_with(b"{");
                    if !empty {
                        buffer.push(b',');
                    }
                    for part in [
                        "\"conversation\":\"",
                        conversation,
                        "\",\"thread\":\"",
                        thread,
                        "\"}",
                    ] {
                        buffer.extend_from_slice(part.as_bytes());
                    }
                    writer.write_json(&buffer).map_err(Error::Write)?;
                } else {
                    let mut message: Message =
                        serde_json::from_slice(&buffer).map_err(|e| Error::Again(e.to_string()))?;
                    message.conversation = Some(conversation.to_string());
                    message.thread = Some(thread.to_string());
                    writer
                        .write(&Record::Message(Box::new(message)))
                        .map_err(Error::Write)?;
                }
            }
        }
    }
    writer.finish().map_err(Error::Write)
}

/// Threads as indented trees, oldest thread first: a header line per thread, then one
/// line per message (date, sender, subject), replies indented under what they answer.
fn write_tree<W: Write>(mut output: W, lines: &[TreeLine], ids: &Ids<'_>) -> std::io::Result<()> {
    let mut by_thread: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for at in 0..lines.len() {
        by_thread.entry(ids.of(at).1).or_default().push(at);
    }
    let mut groups: Vec<(Option<&String>, &str, Vec<usize>)> = by_thread
        .into_iter()
        .map(|(thread, members)| {
            let first = members
                .iter()
                .filter_map(|&m| lines[m].item.date.as_ref())
                .min();
            (first, thread, members)
        })
        .collect();
    groups.sort();
    for (_, thread, members) in groups {
        let items: Vec<jwz::TreeItem> = members.iter().map(|&m| lines[m].item.clone()).collect();
        let conversations: BTreeSet<&str> = members.iter().map(|&m| ids.of(m).0).collect();
        writeln!(
            output,
            "{thread}  {} message{}, {} conversation{}",
            members.len(),
            if members.len() == 1 { "" } else { "s" },
            conversations.len(),
            if conversations.len() == 1 { "" } else { "s" },
        )?;
        for (depth, at) in jwz::tree(&items) {
            let line = &lines[members[at]];
            let date = line.item.date.as_deref().unwrap_or("(no date)");
            writeln!(
                output,
                "  {}  {:indent$}{:<24.24}  {}",
                &date[..date.len().min(16)],
                "",
                line.from,
                line.subject,
                indent = depth * 2
            )?;
        }
    }
    output.flush()
}

/// What [`rebuild`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub messages: u64,
    /// Messages whose thread id changed.
    pub threads_changed: u64,
    /// Messages whose conversation id changed.
    pub conversations_changed: u64,
}

/// `missive thread --rebuild`: recomputes every thread and conversation id from what the
/// store holds, with the contacts as they are now. Ids that change are recorded as merged.
pub fn rebuild(store: &mut Store) -> Result<Rebuilt, Error> {
    let directory = Directory::load(&store.db)?;
    let mut rows = store.db.thread_messages()?;
    let old: std::collections::HashMap<String, String> =
        store.db.thread_nodes()?.into_iter().collect();
    let mut rebuilt = Rebuilt {
        messages: rows.len() as u64,
        ..Rebuilt::default()
    };
    store.db.set_cache_mib(64)?;
    let (settled, nodes) = settle(jwz::Forest::fresh(&store.db), &rows)?;
    let live: BTreeSet<&str> = nodes.iter().map(|&at| settled.thread(at)).collect();
    let mut merges = BTreeSet::new();
    for (row, &at) in rows.iter_mut().zip(&nodes) {
        let thread = settled.thread(at).to_string();
        if let Some(before) = old.get(&row.node)
            && *before != thread
        {
            rebuilt.threads_changed += 1;
            if !live.contains(before.as_str()) {
                merges.insert((before.clone(), thread));
            }
        }
        let conversation = conversation::id(row.list_id.as_deref(), &row.participants, &directory);
        if conversation != row.conversation {
            rebuilt.conversations_changed += 1;
            row.conversation = conversation;
        }
    }
    let batch = store.db.batch()?;
    batch.clear_thread_nodes()?;
    batch.revive_threads(live.iter().copied())?;
    settled.store(&batch)?;
    for (before, after) in merges {
        batch.merge_thread(&before, &after)?;
    }
    for row in &rows {
        batch.put_thread_message(row)?;
    }
    batch.commit()?;
    Ok(rebuilt)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// A message of a random history: its id, its references among a small pool of
    /// message-ids (some never sent: ghosts), and a subject.
    fn record(i: usize, refs: &[usize], subject: &str) -> String {
        let refs: Vec<String> = refs.iter().map(|r| format!("<{r}@x>")).collect();
        serde_json::json!({
            "kind": "message", "v": 1, "id": format!("m_{i}"), "protocol": "email",
            "account": "a", "source": {"kind": "jsonl"}, "blob": "sha256:00",
            "native_id": format!("<{i}@x>"), "references": refs,
            "from": {"name": null, "address": format!("p{}@example.org", i % 3)},
            "subject": subject, "date": format!("2024-01-{:02}T00:00:00Z", 1 + i % 28),
        })
        .to_string()
    }

    /// A message without reference headers from `from`, `day` days into 2024, maybe on a
    /// list.
    fn dated(i: usize, subject: &str, from: &str, day: u32, list: Option<&str>) -> String {
        let mut value: serde_json::Value = serde_json::from_str(&record(i, &[], subject)).unwrap();
        let date = mail_parser::DateTime::from_timestamp(1_704_067_200 + i64::from(day) * 86_400);
        value["date"] = date.to_rfc3339().into();
        value["from"]["address"] = from.into();
        if let Some(list) = list {
            value["list_id"] = list.into();
        }
        value.to_string()
    }

    #[test]
    fn the_subject_joins_only_a_reply_of_the_same_people_or_list_within_thirty_days() {
        let lines = [
            dated(1, "Meeting notes", "ann@x.org", 0, None),
            dated(2, "Re: Meeting notes", "ann@x.org", 10, None),
            dated(3, "AW: Meeting notes", "ann@x.org", 39, None),
            dated(4, "Re: Meeting notes", "ann@x.org", 80, None),
            dated(5, "Meeting notes", "ann@x.org", 81, None),
            dated(6, "Fwd: Meeting notes", "ann@x.org", 82, None),
            dated(7, "Re: Meeting notes", "bob@x.org", 11, None),
            dated(8, "Meeting notes", "ann@x.org", 1, Some("a.lists.x.org")),
            dated(
                9,
                "Re: Meeting notes",
                "bob@x.org",
                2,
                Some("a.lists.x.org"),
            ),
            dated(
                10,
                "回复: Meeting notes",
                "ann@x.org",
                3,
                Some("b.lists.x.org"),
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let ids = run(dir.path(), &lines);
        let thread = |i: usize| ids[&format!("m_{i}")].1.clone();
        assert_eq!(thread(1), thread(2), "a reply ten days on");
        assert_eq!(thread(2), thread(3), "29 days after the previous message");
        assert_ne!(thread(3), thread(4), "41 days after the previous message");
        assert_ne!(thread(4), thread(5), "no reply prefix");
        assert_ne!(thread(5), thread(6), "a forward is no reply");
        assert_ne!(thread(1), thread(7), "other people");
        assert_eq!(thread(8), thread(9), "the same list, whoever writes");
        assert_ne!(thread(8), thread(10), "another list");
        assert_ne!(thread(1), thread(8), "a list and no list");
        let whole: BTreeMap<_, _> = ids.clone();
        let mut reversed = lines.to_vec();
        reversed.reverse();
        let split_dir = tempfile::tempdir().unwrap();
        run(split_dir.path(), &reversed[..5]);
        run(split_dir.path(), &reversed[5..]);
        assert_eq!(
            run(split_dir.path(), &lines),
            whole,
            "in any order, in parts"
        );
    }

    /// Threads `lines` with the store at `root`; returns id → (conversation, thread).
    fn run(root: &std::path::Path, lines: &[String]) -> BTreeMap<String, (String, String)> {
        let mut store = Store::open(root).unwrap();
        let input = lines.join("\n");
        let mut reader = Reader::new(input.as_bytes(), "test");
        let mut out = Vec::new();
        let mut errors = ErrorSink::new(Vec::new(), false);
        thread_stream(
            &mut reader,
            None,
            &mut out,
            Format::Jsonl,
            &mut errors,
            &mut store,
            &Config::default(),
            Output::Messages,
        )
        .unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                let text = |key: &str| value[key].as_str().unwrap().to_string();
                (text("id"), (text("conversation"), text("thread")))
            })
            .collect()
    }

    const SUBJECTS: &[&str] = &["plans", "Re: plans", "AW: plans", "other", "Re: other"];

    /// Threads `days` as sync does, one batch each with one Threader; returns id →
    /// (conversation, thread) as the store holds them after the last batch.
    fn run_batches(
        root: &std::path::Path,
        days: &[Vec<String>],
    ) -> BTreeMap<String, (String, String)> {
        let mut store = Store::open(root).unwrap();
        let mut threader = Threader::new(&store, &Config::default()).unwrap();
        let mut ids = Vec::new();
        for day in days {
            let mut messages: Vec<Message> = day
                .iter()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect();
            ids.extend(messages.iter().map(|m| m.id.clone()));
            let batch = store.db.batch().unwrap();
            threader.thread(&batch, &mut messages).unwrap();
            batch.commit().unwrap();
        }
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        store
            .db
            .current_ids(&ids)
            .unwrap()
            .into_iter()
            .map(|(id, (conversation, thread))| (id, (conversation, thread.unwrap_or_default())))
            .collect()
    }

    #[test]
    fn a_reply_in_a_later_batch_joins_the_earlier_messages_of_its_subject_and_people() {
        let days = vec![
            vec![record(1, &[], "plans"), record(2, &[], "plans")],
            vec![record(3, &[], "other")],
            vec![record(4, &[], "Re: plans")],
            vec![record(7, &[], "Re: plans")],
        ];
        let dir = tempfile::tempdir().unwrap();
        let ids = run_batches(dir.path(), &days);
        assert_eq!(ids["m_1"].1, ids["m_4"].1, "the same sender");
        assert_eq!(ids["m_1"].1, ids["m_7"].1, "the same sender, a later batch");
        assert_ne!(ids["m_1"].1, ids["m_2"].1, "another sender");
        assert_ne!(ids["m_1"].1, ids["m_3"].1);
        let whole_dir = tempfile::tempdir().unwrap();
        assert_eq!(ids, run(whole_dir.path(), &days.concat()));
    }

    #[test]
    fn a_message_joining_two_threads_of_an_earlier_batch_gives_them_one_id_in_the_output() {
        // Three to a batch: the first three are three threads when the fourth joins two.
        let lines = [
            record(0, &[], "a"),
            record(1, &[], "b"),
            record(2, &[], "c"),
            record(3, &[0, 1], "Re: a"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let ids = run(dir.path(), &lines);
        assert_eq!(ids["m_0"].1, ids["m_3"].1);
        assert_eq!(ids["m_1"].1, ids["m_3"].1);
        assert_ne!(ids["m_2"].1, ids["m_3"].1);
    }

    #[test]
    fn a_first_run_of_many_batches_into_a_new_store_leaves_every_index_made() {
        let indexes = |root: &std::path::Path| -> (Vec<String>, i64) {
            let db = rusqlite::Connection::open(root.join("state.sqlite")).unwrap();
            let mut names = db
                .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name")
                .unwrap();
            let names = names
                .query_map([], |row| row.get(0))
                .unwrap()
                .collect::<Result<Vec<String>, _>>()
                .unwrap();
            let deferred = db
                .query_row("SELECT count(*) FROM deferred_index", [], |row| row.get(0))
                .unwrap();
            (names, deferred)
        };
        let new = tempfile::tempdir().unwrap();
        drop(Store::open(new.path()).unwrap());
        let (made, _) = indexes(new.path());
        assert!(
            made.iter()
                .any(|name| name == "thread_message_by_conversation")
        );
        // Three to a batch: four batches, the first of which defers the indexes.
        let lines: Vec<String> = (0..12).map(|n| record(n, &[], "a")).collect();
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), &lines);
        assert_eq!(indexes(dir.path()), (made, 0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Issue 5: running on today's messages gives the ids the whole history gives,
        /// whatever the days and their order.
        #[test]
        fn ids_of_a_subset_after_any_split_of_the_history_equal_the_whole_historys(
            messages in prop::collection::vec(
                (prop::collection::vec(0usize..16, 0..4), 0..SUBJECTS.len()),
                1..12,
            ),
            days in prop::collection::vec(0usize..3, 12),
            order in Just(()).prop_perturb(|_, mut rng| rng.random::<u64>()),
        ) {
            let lines: Vec<String> = messages
                .iter()
                .enumerate()
                .map(|(i, (refs, subject))| record(i, refs, SUBJECTS[*subject]))
                .collect();
            let whole_dir = tempfile::tempdir().unwrap();
            let whole = run(whole_dir.path(), &lines);

            let mut by_day: Vec<Vec<String>> = vec![Vec::new(); 3];
            for (i, line) in lines.iter().enumerate() {
                by_day[days[i]].push(line.clone());
            }
            if order % 2 == 1 {
                by_day.reverse();
            }
            let split_dir = tempfile::tempdir().unwrap();
            for day in &by_day {
                run(split_dir.path(), day);
            }
            for day in &by_day {
                for (id, ids) in run(split_dir.path(), day) {
                    prop_assert_eq!(&ids, &whole[&id], "{}", id);
                }
            }

            // sync's way: one Threader, batch after batch, each in its own transaction.
            let batches_dir = tempfile::tempdir().unwrap();
            prop_assert_eq!(run_batches(batches_dir.path(), &by_day), whole);
        }
    }

    #[test]
    fn a_message_naming_400_000_references_contributes_its_root_and_nearest_ancestors() {
        use crate::record::MAX_REFERENCES;
        use crate::store::threads::ThreadState;
        let ancestors: Vec<usize> = (0..400_000).collect();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let directory = Directory::load(&store.db).unwrap();
        let head: Head = serde_json::from_str(&record(400_000, &ancestors, "big")).unwrap();
        let fact = facts(
            head,
            &User::from_config(&Config::default()),
            &directory,
            true,
        );
        // The work threading does for a message is a node and a union per reference kept.
        assert_eq!(fact.row.refs.len(), MAX_REFERENCES);
        assert_eq!(fact.row.refs[0], "<0@x>");
        assert_eq!(fact.row.refs[MAX_REFERENCES - 1], "<399999@x>");
        assert_eq!(fact.tree.unwrap().item.refs.len(), MAX_REFERENCES);
        drop(store);

        let lines = [
            record(400_000, &ancestors, "big"),
            record(400_001, &[0], "Re: big"),
            record(400_002, &[399_999], "Re: big"),
        ];
        let ids = run(dir.path(), &lines);
        assert_eq!(ids["m_400000"].1, ids["m_400001"].1, "a reply to the root");
        assert_eq!(ids["m_400000"].1, ids["m_400002"].1, "a reply to the last");
        let store = Store::open(dir.path()).unwrap();
        assert!(store.db.thread_of("<399999@x>").unwrap().is_some());
        assert!(
            store.db.thread_of("<1000@x>").unwrap().is_none(),
            "a reference between root and nearest ancestors makes no node"
        );
    }
}
