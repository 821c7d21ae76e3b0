//! `index/`: the tantivy index of message records, which `missive index` upserts into and
//! `missive search` reads. It can always be rebuilt from the archive and the sources.
//!
//! Text is cut into words by [`TextTokenizer`]: runs of letters and digits, and for Chinese,
//! Japanese and Korean, which write no spaces, overlapping pairs of characters (so a word of
//! any length is found as the phrase of its pairs). Words are lowercased and folded to ASCII
//! where a folding exists, so `ecole` finds "École".
//!
//! Each document stores its record as JSON without `text`: the body is indexed, not kept a
//! second time (it is in the raw message), which keeps the index small. Tags are not in the
//! index at all but in `state.sqlite`, so tagging never rewrites the index.

use std::path::{Path, PathBuf};

use tantivy::collector::{Count, TopDocs};
use tantivy::index::{SegmentId, SegmentMeta};
use tantivy::indexer::{LogMergePolicy, MergeCandidate, MergePolicy};
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query as TantivyQuery, RangeQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
    Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};
use tantivy::{DocAddress, Index, IndexReader, IndexWriter, Order, TantivyDocument, Term};

use super::query::{KeywordField, Query, TextField};
use crate::fault::Fault;
use crate::record::{Encryption, Message, SignatureState};

/// The name the text analyzer is registered under.
const TOKENIZER: &str = "missive";
/// Memory for the writer's buffers: flushed to a segment when full.
const WRITER_MEMORY: usize = 32 << 20;
/// The most documents a merge makes one segment of. A merge reads its segments through
/// memory maps, each page it touches counted in the process's memory until the merge
/// ends: at about 2.7 KB a message (1.4 KB of it the stored record), 24,576 messages are
/// some 65 MB. Unbounded, merges at a million messages held 550 MB of maps; bounded, a
/// million messages make some 40 segments, which every search visits.
const MERGED_DOCS: u32 = 3 << 13;

/// The error returned when the index cannot be opened, written or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("search index {path}")]
    Index {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("search index {path} is being written by another missive; try again later")]
    Locked { path: PathBuf },
    #[error("no space left on device: {path}; free some and try again")]
    Full { path: PathBuf },
    #[error("cannot create the search index at {path}")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Fault for Error {
    /// Another writer holds the index, or the disk is full.
    fn is_transient(&self) -> bool {
        match self {
            Error::Locked { .. } | Error::Full { .. } => true,
            Error::Create { source, .. } => crate::fault::is_disk_full(source),
            Error::Index { .. } => false,
        }
    }
}

/// Whether tantivy failed for want of disk space (or quota).
fn is_disk_full(error: &tantivy::TantivyError) -> bool {
    use tantivy::directory::error::OpenWriteError;
    match error {
        tantivy::TantivyError::IoError(io)
        | tantivy::TantivyError::OpenWriteError(OpenWriteError::IoError { io_error: io, .. }) => {
            crate::fault::is_disk_full(io)
        }
        _ => false,
    }
}

/// The fields of a document.
#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    record: Field,
    subject: Field,
    body: Field,
    attachment: Field,
    from: Field,
    to: Field,
    with: Field,
    list: Field,
    protocol: Field,
    account: Field,
    conversation: Field,
    thread: Field,
    grade: Field,
    state: Field,
    date: Field,
    privacy: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        // FAST too, so that printing ids never opens the document store.
        id: builder.add_text_field("id", STRING | STORED | tantivy::schema::FAST),
        record: builder.add_text_field("record", STORED),
        subject: builder.add_text_field("subject", text.clone()),
        body: builder.add_text_field("body", text.clone()),
        attachment: builder.add_text_field("attachment", text.clone()),
        from: builder.add_text_field("from", text.clone()),
        to: builder.add_text_field("to", text.clone()),
        with: builder.add_text_field("with", text.clone()),
        list: builder.add_text_field("list", text),
        protocol: builder.add_text_field("protocol", STRING),
        account: builder.add_text_field("account", STRING),
        conversation: builder.add_text_field("conversation", STRING),
        thread: builder.add_text_field("thread", STRING),
        grade: builder.add_text_field("grade", STRING),
        state: builder.add_text_field("state", STRING),
        date: builder.add_i64_field("date", INDEXED | tantivy::schema::FAST),
        privacy: builder.add_u64_field("privacy", INDEXED | tantivy::schema::FAST),
    };
    (builder.build(), fields)
}

/// The analyzer for text fields: words, CJK pairs, lowercased and folded.
fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(TextTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The search index of a store.
pub struct MessageIndex {
    index: Index,
    fields: Fields,
    path: PathBuf,
}

impl MessageIndex {
    /// Opens the index in `dir`, creating it when absent.
    pub fn open(dir: &Path) -> Result<MessageIndex, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Create {
            path: dir.to_path_buf(),
            source,
        })?;
        let (schema, fields) = schema();
        let err = |source| Error::Index {
            path: dir.to_path_buf(),
            source,
        };
        let directory = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|e| err(tantivy::TantivyError::from(e)))?;
        let index = Index::open_or_create(directory, schema).map_err(err)?;
        index.tokenizers().register(TOKENIZER, analyzer());
        Ok(MessageIndex {
            index,
            fields,
            path: dir.to_path_buf(),
        })
    }

    fn error(&self, source: tantivy::TantivyError) -> Error {
        match source {
            tantivy::TantivyError::LockFailure(..) => Error::Locked {
                path: self.path.clone(),
            },
            source if is_disk_full(&source) => Error::Full {
                path: self.path.clone(),
            },
            source => Error::Index {
                path: self.path.clone(),
                source,
            },
        }
    }

    /// A writer; only one may exist per index at a time, across processes.
    pub fn writer(&self) -> Result<Writer<'_>, Error> {
        let writer = self
            .index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| self.error(e))?;
        writer.set_merge_policy(Box::new(BoundedMerges::default()));
        let empty = self
            .index
            .searchable_segment_metas()
            .map_err(|e| self.error(e))?
            .is_empty();
        Ok(Writer {
            index: self,
            writer,
            added: empty.then(AddedIds::default),
        })
    }

    /// A reader of the last commit.
    pub fn reader(&self) -> Result<Reader<'_>, Error> {
        let reader = self.index.reader().map_err(|e| self.error(e))?;
        Ok(Reader {
            index: self,
            reader,
        })
    }

    /// A reader of the index as it is now, never reloaded; `None` when it holds nothing.
    pub fn snapshot(&self) -> Result<Option<Reader<'_>>, Error> {
        let reader = self
            .index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| self.error(e))?;
        Ok((reader.searcher().num_docs() > 0).then_some(Reader {
            index: self,
            reader,
        }))
    }

    /// Turns a parsed query into a tantivy query; `lookup` answers what the store's
    /// database knows: tags, threads and conversations as they are now, contacts.
    fn compile(&self, query: &Query, lookup: &dyn Lookup) -> Box<dyn TantivyQuery> {
        let f = &self.fields;
        match query {
            Query::All => Box::new(AllQuery),
            Query::And(parts) => {
                boolean(parts.iter().map(|p| (Occur::Must, self.compile(p, lookup))))
            }
            Query::Or(parts) => boolean(
                parts
                    .iter()
                    .map(|p| (Occur::Should, self.compile(p, lookup))),
            ),
            Query::Not(inner) => boolean([
                (Occur::Must, Box::new(AllQuery) as Box<dyn TantivyQuery>),
                (Occur::MustNot, self.compile(inner, lookup)),
            ]),
            Query::Text {
                field,
                words,
                phrase,
            } => {
                let fields: Vec<Field> = match field {
                    None => vec![f.subject, f.body, f.attachment, f.from, f.to],
                    Some(TextField::From) => vec![f.from],
                    Some(TextField::To) => vec![f.to],
                    Some(TextField::With) => vec![f.with],
                    Some(TextField::Subject) => vec![f.subject],
                    Some(TextField::Body) => vec![f.body],
                    Some(TextField::Attachment) => vec![f.attachment],
                    Some(TextField::List) => vec![f.list],
                };
                let text = words;
                let words = analysed_words(text);
                if words.is_empty() {
                    return Box::new(EmptyQuery);
                }
                let in_any_field = |terms: &[String]| {
                    boolean(
                        fields
                            .iter()
                            .map(|&field| (Occur::Should, phrase_query(field, terms))),
                    )
                };
                let textual = if *phrase {
                    in_any_field(&words.concat())
                } else {
                    // Every word, each in any of the fields; a word the analyzer cuts in
                    // pieces (alice@example.org, a CJK word) is its pieces in order.
                    boolean(
                        words
                            .iter()
                            .map(|pieces| (Occur::Must, in_any_field(pieces))),
                    )
                };
                if *field != Some(TextField::With) {
                    return textual;
                }
                // The words as written, or any identity of the contact they name.
                let identities = lookup.handles(text).into_iter().map(|handle| {
                    (
                        Occur::Should,
                        phrase_query(f.with, &analysed_words(&handle).concat()),
                    )
                });
                boolean(std::iter::once((Occur::Should, textual)).chain(identities))
            }
            Query::Keyword { field, value } => {
                let field = match field {
                    KeywordField::Tag | KeywordField::Thread | KeywordField::Conversation
                        if let Some(ids) = lookup.members(*field, value) =>
                    {
                        return Box::new(TermSetQuery::new(
                            ids.iter().map(|id| Term::from_field_text(f.id, id)),
                        ));
                    }
                    KeywordField::Tag => return Box::new(EmptyQuery),
                    KeywordField::Protocol => f.protocol,
                    KeywordField::Account => f.account,
                    KeywordField::Conversation => f.conversation,
                    KeywordField::Thread => f.thread,
                    KeywordField::Id => f.id,
                    KeywordField::Grade => f.grade,
                    KeywordField::State => f.state,
                };
                Box::new(TermQuery::new(
                    Term::from_field_text(field, value),
                    IndexRecordOption::Basic,
                ))
            }
            Query::Date { from, to } => Box::new(RangeQuery::new(
                from.map_or(std::ops::Bound::Unbounded, |t| {
                    std::ops::Bound::Included(Term::from_field_i64(f.date, t))
                }),
                to.map_or(std::ops::Bound::Unbounded, |t| {
                    std::ops::Bound::Included(Term::from_field_i64(f.date, t))
                }),
            )),
            Query::Privacy { from, to } => Box::new(RangeQuery::new(
                std::ops::Bound::Included(Term::from_field_u64(f.privacy, u64::from(*from))),
                std::ops::Bound::Included(Term::from_field_u64(f.privacy, u64::from(*to))),
            )),
        }
    }
}

fn boolean(
    parts: impl IntoIterator<Item = (Occur, Box<dyn TantivyQuery>)>,
) -> Box<dyn TantivyQuery> {
    Box::new(BooleanQuery::new(parts.into_iter().collect()))
}

/// A query for analysed words in this order.
fn phrase_query(field: Field, words: &[String]) -> Box<dyn TantivyQuery> {
    let terms: Vec<Term> = words
        .iter()
        .map(|w| Term::from_field_text(field, w))
        .collect();
    match terms.len() {
        0 => Box::new(EmptyQuery),
        1 => Box::new(TermQuery::new(
            terms[0].clone(),
            IndexRecordOption::WithFreqs,
        )),
        _ => Box::new(PhraseQuery::new(terms)),
    }
}

/// Each word the user typed, as the pieces the analyzer cuts it into.
fn analysed_words(text: &str) -> Vec<Vec<String>> {
    let mut analyzer = analyzer();
    text.split_whitespace()
        .map(|word| {
            let mut stream = analyzer.token_stream(word);
            let mut pieces = Vec::new();
            while stream.advance() {
                pieces.push(stream.token().text.clone());
            }
            pieces
        })
        .filter(|pieces| !pieces.is_empty())
        .collect()
}

/// tantivy's merges by size level, none making a segment of more than [`MERGED_DOCS`]
/// documents: of each merge the log policy proposes, its smallest segments that fit.
#[derive(Debug)]
struct BoundedMerges(LogMergePolicy);

impl Default for BoundedMerges {
    fn default() -> BoundedMerges {
        let mut policy = LogMergePolicy::default();
        // A segment past half the bound joins no merge: two of them would not fit.
        policy.set_max_docs_before_merge(MERGED_DOCS as usize / 2);
        BoundedMerges(policy)
    }
}

impl MergePolicy for BoundedMerges {
    fn compute_merge_candidates(&self, segments: &[SegmentMeta]) -> Vec<MergeCandidate> {
        let docs = |id: &SegmentId| {
            segments
                .iter()
                .find(|segment| segment.id() == *id)
                .map_or(0, SegmentMeta::num_docs)
        };
        self.0
            .compute_merge_candidates(segments)
            .into_iter()
            .filter_map(|MergeCandidate(mut ids)| {
                ids.sort_by_key(|id| docs(id));
                let mut total = 0;
                ids.retain(|id| {
                    total += docs(id);
                    total <= MERGED_DOCS
                });
                (ids.len() > 1).then_some(MergeCandidate(ids))
            })
            .collect()
    }
}

/// Writes documents; nothing is visible to readers until [`Writer::commit`].
pub struct Writer<'a> {
    index: &'a MessageIndex,
    writer: IndexWriter,
    /// The ids this writer added, when the index held nothing before it: no other id can
    /// have a document to replace.
    added: Option<AddedIds>,
}

/// The ids a writer added to an index that held nothing, as a Bloom filter of
/// [`ADDED_ID_BITS`] bits (4 MiB whatever the number). A replaced document is deleted by
/// its id term, and each commit looks every deleted term up in every segment: at a million
/// messages, 44 segments, a first sync spent 3.5% of its time deleting ids no segment
/// held. A wrong "maybe" costs only the look-up every id made before.
struct AddedIds {
    bits: Vec<u64>,
}

const ADDED_ID_BITS: usize = 1 << 25;
/// Bits set per id: at a million ids one in 20,000 is a wrong "maybe".
const ADDED_ID_HASHES: u64 = 5;

impl Default for AddedIds {
    fn default() -> AddedIds {
        AddedIds {
            bits: vec![0; ADDED_ID_BITS / 64],
        }
    }
}

impl AddedIds {
    /// Notes `id`; whether it may have been noted before (`false` is certain).
    fn add(&mut self, id: &str) -> bool {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        id.hash(&mut hasher);
        let first = hasher.finish();
        let step = first.rotate_left(32) | 1;
        let mut seen = true;
        for i in 0..ADDED_ID_HASHES {
            let bit = first.wrapping_add(i.wrapping_mul(step)) as usize % ADDED_ID_BITS;
            let (word, mask) = (bit / 64, 1u64 << (bit % 64));
            seen &= self.bits[word] & mask != 0;
            self.bits[word] |= mask;
        }
        seen
    }
}

impl Writer<'_> {
    /// Replaces the document of `message.id` with this one. The record is stored without
    /// `text` (indexed, not kept a second time) and `tags` (kept in the store's database);
    /// both are put back before this returns.
    pub fn upsert(&mut self, message: &mut Message) -> Result<(), Error> {
        let text = std::mem::take(&mut message.text);
        let tags = std::mem::take(&mut message.tags);
        let stored = serde_json::to_string(&*message).unwrap_or_default();
        message.tags = tags;
        let result = self.add(message, stored, &text);
        message.text = text;
        result
    }

    fn add(&mut self, message: &Message, stored: String, text: &str) -> Result<(), Error> {
        let f = &self.index.fields;
        if self
            .added
            .as_mut()
            .is_none_or(|added| added.add(&message.id))
        {
            self.writer
                .delete_term(Term::from_field_text(f.id, &message.id));
        }
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &message.id);
        doc.add_text(f.record, stored);
        if let Some(subject) = &message.subject {
            doc.add_text(f.subject, subject);
        }
        doc.add_text(f.body, text);
        for attachment in &message.attachments {
            if let Some(name) = &attachment.filename {
                doc.add_text(f.attachment, name);
            }
        }
        let people = |list: &mut dyn Iterator<Item = &crate::record::Address>| -> String {
            list.map(|a| {
                let group = a.group.as_deref().unwrap_or("");
                format!("{} {} {group}", a.name.as_deref().unwrap_or(""), a.address)
            })
            .collect::<Vec<_>>()
            .join(" \n ")
        };
        let from = people(&mut message.from.iter().chain(message.sender.iter()));
        let to = people(&mut message.to.iter().chain(&message.cc).chain(&message.bcc));
        doc.add_text(f.from, &from);
        doc.add_text(f.to, &to);
        doc.add_text(f.with, format!("{from} \n {to}"));
        if let Some(list) = &message.list_id {
            doc.add_text(f.list, list);
        }
        doc.add_text(f.protocol, &message.protocol);
        doc.add_text(f.account, &message.account);
        for (field, value) in [
            (f.conversation, &message.conversation),
            (f.thread, &message.thread),
        ] {
            if let Some(value) = value {
                doc.add_text(field, value);
            }
        }
        if let Some(privacy) = &message.privacy {
            doc.add_u64(f.privacy, u64::from(privacy.score));
            doc.add_text(f.grade, format!("{:?}", privacy.grade));
        }
        for state in states(message) {
            doc.add_text(f.state, state);
        }
        if let Some(date) = message.date.as_deref().and_then(crate::record::timestamp) {
            doc.add_i64(f.date, date);
        }
        match self.writer.add_document(doc) {
            Ok(_) => Ok(()),
            Err(error) => Err(self.index.error(self.cause(error))),
        }
    }

    /// What stopped a writer that reports only that its indexing thread died: joining the
    /// thread, as a commit does, returns the thread's own error (a full disk, say).
    fn cause(&mut self, error: tantivy::TantivyError) -> tantivy::TantivyError {
        if !matches!(error, tantivy::TantivyError::ErrorInThread(_)) {
            return error;
        }
        match self.writer.prepare_commit() {
            Err(cause) => cause,
            Ok(_) => error,
        }
    }

    /// Makes everything written so far durable and visible, atomically.
    pub fn commit(&mut self) -> Result<(), Error> {
        match self.writer.commit() {
            Ok(_) => Ok(()),
            Err(error) => Err(self.index.error(self.cause(error))),
        }
    }

    /// Removes every document (before a rebuild).
    pub fn clear(&mut self) -> Result<(), Error> {
        self.writer
            .delete_all_documents()
            .map_err(|e| self.index.error(e))?;
        Ok(())
    }
}

/// The `is:` and `has:` words that hold for a message.
fn states(message: &Message) -> Vec<&'static str> {
    let mut states = Vec::new();
    if message.security.encryption != Encryption::None {
        states.push("encrypted");
    }
    if message.security.signed.is_some() || message.security.signature != SignatureState::None {
        states.push("signed");
    }
    let flag = |name: &str| message.flags.iter().any(|f| f == name);
    states.push(if flag("seen") { "seen" } else { "unread" });
    if flag("flagged") {
        states.push("flagged");
    }
    if flag("answered") {
        states.push("answered");
    }
    if !message.attachments.is_empty() {
        states.push("attachment");
    }
    states
}

/// How hits are ordered (spelt `date`, `-date` and `relevance` on the command line,
/// [`crate::cli::SearchArgs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Oldest first.
    Date,
    /// Newest first.
    NewestFirst,
    /// Best match first.
    Relevance,
}

/// What a query can name that lives in the store's database rather than in the index.
pub trait Lookup {
    /// The ids of the messages with a tag, or in a thread or conversation as it is now;
    /// `None` when the database does not know (then the id the index holds decides).
    fn members(&self, field: KeywordField, value: &str) -> Option<Vec<String>>;
    /// The handles of every identity of the contact `text` names (a contact id, a name, an
    /// address or handle), empty when it names none.
    fn handles(&self, text: &str) -> Vec<String>;
}

/// No database beside the index: only what the index holds answers.
pub struct Unaided;

impl Lookup for Unaided {
    fn members(&self, _: KeywordField, _: &str) -> Option<Vec<String>> {
        None
    }

    fn handles(&self, _: &str) -> Vec<String> {
        Vec::new()
    }
}

/// A reader of one commit of the index.
pub struct Reader<'a> {
    index: &'a MessageIndex,
    reader: IndexReader,
}

impl Reader<'_> {
    /// How many messages match.
    pub fn count(&self, query: &Query, lookup: &dyn Lookup) -> Result<usize, Error> {
        let compiled = self.index.compile(query, lookup);
        self.reader
            .searcher()
            .search(&compiled, &Count)
            .map_err(|e| self.index.error(e))
    }

    /// Whether the index holds message `id` as end-to-end encrypted (`is:encrypted`): what
    /// a reply's score learns of the message it answers. `false` when it is not indexed.
    pub fn indexed_as_encrypted(&self, id: &str) -> Result<bool, Error> {
        let query = Query::And(vec![
            Query::Keyword {
                field: KeywordField::Id,
                value: id.to_string(),
            },
            Query::Keyword {
                field: KeywordField::State,
                value: "encrypted".into(),
            },
        ]);
        Ok(self.count(&query, &Unaided)? > 0)
    }

    /// The messages dated since `since` (seconds since the epoch), oldest first: the mail a
    /// user's recent index is the mean of.
    pub fn messages_since(&self, since: i64) -> Result<Vec<Message>, Error> {
        let window = Query::Date {
            from: Some(since),
            to: None,
        };
        let count = self.count(&window, &Unaided)?;
        Ok(self.search(&window, &Unaided, Sort::Date, count, 0)?.0)
    }

    /// How many messages were exchanged with any of `handles` (as `with:` matches them), and
    /// how many of those were end-to-end encrypted: what a contact's index counts.
    pub fn exchanges_with(&self, handles: &[&str]) -> Result<(u64, u64), Error> {
        let with = Query::Or(
            handles
                .iter()
                .map(|handle| Query::Text {
                    field: Some(TextField::With),
                    words: handle.to_string(),
                    phrase: true,
                })
                .collect(),
        );
        let exchanges = self.count(&with, &Unaided)? as u64;
        let encrypted = self.count(
            &Query::And(vec![
                with,
                Query::Keyword {
                    field: KeywordField::State,
                    value: "encrypted".into(),
                },
            ]),
            &Unaided,
        )? as u64;
        Ok((exchanges, encrypted))
    }

    /// The documents that match, in order, and how many match in all (counted in the
    /// same pass).
    fn addresses(
        &self,
        query: &Query,
        lookup: &dyn Lookup,
        sort: Sort,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<DocAddress>, usize), Error> {
        let compiled = self.index.compile(query, lookup);
        let searcher = self.reader.searcher();
        let top = TopDocs::with_limit(limit.max(1)).and_offset(offset);
        fn addresses<Key>(found: Vec<(Key, DocAddress)>) -> Vec<DocAddress> {
            found.into_iter().map(|(_, address)| address).collect()
        }
        let found = match sort {
            Sort::Relevance => searcher
                .search(&compiled, &(Count, top.order_by_score()))
                .map(|(total, found)| (addresses(found), total)),
            Sort::Date | Sort::NewestFirst => {
                let order = if sort == Sort::Date {
                    Order::Asc
                } else {
                    Order::Desc
                };
                let by_date = top.order_by_fast_field::<i64>("date", order);
                searcher
                    .search(&compiled, &(Count, by_date))
                    .map(|(total, found)| (addresses(found), total))
            }
        };
        found.map_err(|e| self.index.error(e))
    }

    /// The stored records (without `text`) of the matching messages, in order, and how many
    /// match in all.
    pub fn search(
        &self,
        query: &Query,
        lookup: &dyn Lookup,
        sort: Sort,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<Message>, usize), Error> {
        let searcher = self.reader.searcher();
        let mut messages = Vec::new();
        let (addresses, total) = self.addresses(query, lookup, sort, limit, offset)?;
        for address in addresses {
            let doc: TantivyDocument = searcher.doc(address).map_err(|e| self.index.error(e))?;
            let record = doc
                .get_first(self.index.fields.record)
                .and_then(|v| v.as_str())
                .and_then(|json| serde_json::from_str::<Message>(json).ok());
            if let Some(record) = record {
                messages.push(record);
            }
        }
        Ok((messages, total))
    }

    /// The ids of the matching messages, in order, read from the id column alone, and how
    /// many match in all.
    pub fn ids(
        &self,
        query: &Query,
        lookup: &dyn Lookup,
        sort: Sort,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<String>, usize), Error> {
        let searcher = self.reader.searcher();
        let mut columns = std::collections::HashMap::new();
        let mut ids = Vec::new();
        let (addresses, total) = self.addresses(query, lookup, sort, limit, offset)?;
        for address in addresses {
            let column = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => entry.insert(
                    searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields()
                        .str("id")
                        .map_err(|e| self.index.error(e))?,
                ),
            };
            let Some(column) = column else { continue };
            let mut id = String::new();
            if let Some(ord) = column.term_ords(address.doc_id).next()
                && column.ord_to_str(ord, &mut id).unwrap_or(false)
            {
                ids.push(id);
            }
        }
        Ok((ids, total))
    }

    /// Every stored record, for a rebuild.
    pub fn all(&self) -> Result<Vec<Message>, Error> {
        let count = self.count(&Query::All, &Unaided)?;
        Ok(self.search(&Query::All, &Unaided, Sort::Date, count, 0)?.0)
    }
}

/// Cuts text into words: runs of letters and digits, and overlapping pairs of characters in
/// scripts written without spaces (Han, Hiragana, Katakana, Hangul). A lone CJK character
/// between other text is a word of its own.
#[derive(Clone, Default)]
pub struct TextTokenizer {
    token: Token,
}

/// The words of one text, found one at a time into one reused [`Token`].
pub struct TextTokens<'a> {
    text: &'a str,
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    token: &'a mut Token,
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0x20000..=0x2FA1F | 0x1100..=0x11FF | 0x3130..=0x318F)
}

impl Tokenizer for TextTokenizer {
    type TokenStream<'a> = TextTokens<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TextTokens<'a> {
        self.token.reset();
        TextTokens {
            text,
            chars: text.char_indices().peekable(),
            token: &mut self.token,
        }
    }
}

impl TextTokens<'_> {
    fn emit(&mut self, from: usize, to: usize) -> bool {
        self.token.text.clear();
        self.token.text.push_str(&self.text[from..to]);
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = self.token.position.wrapping_add(1);
        true
    }
}

impl TokenStream for TextTokens<'_> {
    fn advance(&mut self) -> bool {
        while let Some((from, c)) = self.chars.next() {
            if is_cjk(c) {
                // This character and the next, if the next is CJK too: the pair starting here.
                let to = match self.chars.peek() {
                    Some(&(next, d)) if is_cjk(d) => next + d.len_utf8(),
                    _ => from + c.len_utf8(),
                };
                // A run's last character was already covered by the pair before it.
                let covered = to == from + c.len_utf8()
                    && self.token.offset_to == to
                    && self.token.offset_from < from;
                if !covered {
                    return self.emit(from, to);
                }
            } else if c.is_alphanumeric() {
                let mut to = from + c.len_utf8();
                while let Some(&(next, d)) = self.chars.peek() {
                    if !d.is_alphanumeric() || is_cjk(d) {
                        break;
                    }
                    to = next + d.len_utf8();
                    self.chars.next();
                }
                return self.emit(from, to);
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    /// What the merge policy proposes for segments of these sizes: the sizes of each merge.
    fn merges_of(sizes: &[u32]) -> Vec<Vec<u32>> {
        let index = Index::create_in_ram(schema().0);
        let segments: Vec<SegmentMeta> = sizes
            .iter()
            .map(|&docs| index.new_segment_meta(SegmentId::generate_random(), docs))
            .collect();
        let mut merges: Vec<Vec<u32>> = BoundedMerges::default()
            .compute_merge_candidates(&segments)
            .into_iter()
            .map(|MergeCandidate(ids)| {
                let mut docs: Vec<u32> = ids
                    .iter()
                    .map(|id| segments.iter().find(|s| s.id() == *id).unwrap().num_docs())
                    .collect();
                docs.sort_unstable();
                docs
            })
            .collect();
        merges.sort();
        merges
    }

    fn message(id: &str, subject: &str) -> Message {
        Message {
            id: id.into(),
            protocol: "email".into(),
            subject: Some(subject.into()),
            ..Message::default()
        }
    }

    /// The subjects the index holds for `id`, as searched in a fresh reader.
    fn subjects_of(index: &MessageIndex, id: &str) -> Vec<String> {
        let query = Query::Keyword {
            field: KeywordField::Id,
            value: id.into(),
        };
        let (found, total) = index
            .reader()
            .unwrap()
            .search(&query, &Unaided, Sort::Date, 10, 0)
            .unwrap();
        assert_eq!(found.len(), total);
        found.into_iter().filter_map(|m| m.subject).collect()
    }

    #[test]
    fn an_id_upserted_again_has_one_document_in_a_new_index_and_in_one_that_held_it() {
        let dir = tempfile::tempdir().unwrap();
        let index = MessageIndex::open(dir.path()).unwrap();
        // A new index: the writer skips the deletes of ids it never added.
        let mut writer = index.writer().unwrap();
        writer.upsert(&mut message("m_a", "first")).unwrap();
        writer.upsert(&mut message("m_b", "other")).unwrap();
        writer.upsert(&mut message("m_a", "second")).unwrap();
        writer.commit().unwrap();
        writer.upsert(&mut message("m_a", "third")).unwrap();
        writer.commit().unwrap();
        drop(writer);
        assert_eq!(subjects_of(&index, "m_a"), ["third"]);
        assert_eq!(subjects_of(&index, "m_b"), ["other"]);
        // An index that held it: a new writer replaces it.
        let mut writer = index.writer().unwrap();
        writer.upsert(&mut message("m_b", "again")).unwrap();
        writer.commit().unwrap();
        assert_eq!(subjects_of(&index, "m_b"), ["again"]);
    }

    #[test]
    fn merges_never_make_a_segment_larger_than_the_bound() {
        // A sync's commits, of 4,096 documents each: six make one segment of the bound.
        assert_eq!(merges_of(&[4096; 8]), [vec![4096; 6]]);
        // Nine: the ninth waits for the next level.
        let nine = merges_of(&[4096; 9]);
        assert!(
            nine.iter().all(|m| m.iter().sum::<u32>() <= MERGED_DOCS),
            "{nine:?}"
        );
        // Full segments are left alone, however many there are.
        assert!(merges_of(&[MERGED_DOCS; 12]).is_empty());
        // Past the bound, a merge keeps its smallest segments that fit.
        let mixed = merges_of(&[10_000, 10_000, 10_000, 10_000, 1_000, 1_000, 1_000, 1_000]);
        assert!(!mixed.is_empty());
        assert!(
            mixed.iter().all(|m| m.iter().sum::<u32>() <= MERGED_DOCS),
            "{mixed:?}"
        );
    }

    #[test]
    fn words_are_lowercased_and_folded() {
        assert_eq!(
            words("L'École, café & Straße"),
            ["l", "ecole", "cafe", "strasse"]
        );
        assert_eq!(words("alice@example.org"), ["alice", "example", "org"]);
    }

    #[test]
    fn cjk_text_is_cut_into_overlapping_pairs() {
        assert_eq!(words("東京都"), ["東京", "京都"]);
        assert_eq!(words("会議は明日"), ["会議", "議は", "は明", "明日"]);
        assert_eq!(words("한국어 text"), ["한국", "국어", "text"]);
        assert_eq!(words("猫"), ["猫"]);
    }
}
