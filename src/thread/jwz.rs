//! Threads by reference headers: Jamie Zawinski's algorithm
//! (<https://www.jwz.org/doc/threading.html>) over Message-ID, In-Reply-To and References
//! (RFC 5322 §3.6.4), with the subject only where a message has no reference headers.
//!
//! The subject fallback is bounded as a reader expects: a message without reference
//! headers joins the thread of another such message only when its subject has a reply
//! prefix ([`PREFIXES`]; a forward starts a thread of its own), both subjects are the same
//! once prefixes and list tags are stripped, both are in the same conversation (the same
//! list, or no list and the same people), and it is dated no earlier than the other and at
//! most [`SUBJECT_WINDOW`] after it. The rule is between two messages, whatever else
//! arrived, so it keeps the order-independence below.
//!
//! The partition into threads is kept as a union–find ([`Forest`]) over message-ids, backed
//! by the store, so that a run over today's messages joins the threads earlier runs made:
//! every message-id a message names is in its thread (as in notmuch), and a message that
//! links two threads merges them. A thread's id is the least, over the thread, of the
//! ids of its root candidates (each message's first reference, or its own id when it has
//! none): it depends only on which messages the thread holds, never on the order they came
//! in, so a subset run with the store of the whole history gives the whole history's ids.
//!
//! [`tree`] builds the parent–child containers for display, with JWZ's guards: a link that
//! would make a cycle is not made, a missing parent is an empty container whose children
//! move up, and a duplicate Message-ID gets a container of its own.

use std::collections::{BTreeMap, HashMap};

use sha2::Digest;

use crate::record::timestamp;
use crate::store;
use crate::store::threads::{MessageRow, ThreadState};

/// Whether a subject prefix answers a message or passes it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Reply,
    Forward,
}

/// Reply and forward prefixes, lowercased, in the languages mail clients write them.
pub const PREFIXES: &[(&str, Prefix)] = &[
    ("re", Prefix::Reply),
    ("aw", Prefix::Reply),
    ("sv", Prefix::Reply),
    ("vs", Prefix::Reply),
    ("réf", Prefix::Reply),
    ("ref", Prefix::Reply),
    ("antw", Prefix::Reply),
    ("rif", Prefix::Reply),
    ("odp", Prefix::Reply),
    ("res", Prefix::Reply),
    ("r", Prefix::Reply),
    ("ynt", Prefix::Reply),
    ("atb", Prefix::Reply),
    ("απ", Prefix::Reply),
    ("σχετ", Prefix::Reply),
    ("答复", Prefix::Reply),
    ("回复", Prefix::Reply),
    ("回覆", Prefix::Reply),
    ("fwd", Prefix::Forward),
    ("fw", Prefix::Forward),
    ("wg", Prefix::Forward),
    ("tr", Prefix::Forward),
    ("doorst", Prefix::Forward),
    ("enc", Prefix::Forward),
    ("vl", Prefix::Forward),
    ("转发", Prefix::Forward),
    ("轉寄", Prefix::Forward),
];

/// How long after a message a reply joins it by subject alone: 30 days, in seconds.
pub const SUBJECT_WINDOW: i64 = 30 * 86_400;

/// The subject without reply prefixes (`Re:`, `AW:`, `回复：`, `Re[2]:`) and `[list]` tags,
/// whitespace collapsed and lowercased, and whether a reply prefix was found.
pub fn subject_key(subject: &str) -> (String, bool) {
    let mut rest = subject.trim();
    let mut reply = false;
    loop {
        let before = rest;
        if let Some(inner) = rest.strip_prefix('[')
            && let Some(end) = inner.find(']')
            && !inner[..end].contains('[')
        {
            rest = inner[end + 1..].trim_start();
        }
        if let Some((after, prefix)) = strip_prefix_word(rest) {
            rest = after;
            reply |= prefix == Prefix::Reply;
        }
        if rest == before {
            break;
        }
    }
    let key = rest
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (key, reply)
}

/// `rest` after one prefix word, an optional counter (`[2]`, `(2)`, `^2`) and a colon, and
/// which prefix it was.
fn strip_prefix_word(text: &str) -> Option<(&str, Prefix)> {
    let colon = text.find([':', '：'])?;
    let (word, after) = (&text[..colon], &text[colon..]);
    let after = after
        .strip_prefix(':')
        .or_else(|| after.strip_prefix('：'))?;
    let word = word.trim_end();
    let word = word
        .strip_suffix(']')
        .and_then(|w| w.rsplit_once('['))
        .or_else(|| word.strip_suffix(')').and_then(|w| w.rsplit_once('(')))
        .filter(|(_, n)| n.chars().all(|c| c.is_ascii_digit()))
        .map_or(word, |(w, _)| w);
    let word = word.split_once('^').map_or(word, |(w, _)| w).trim();
    let word = word.to_lowercase();
    PREFIXES
        .iter()
        .find(|(prefix, _)| *prefix == word)
        .map(|(_, kind)| (after.trim_start(), *kind))
}

/// A message-id as a node: email's as it is, another protocol's qualified by the protocol.
pub fn node_key(protocol: &str, native_id: &str) -> String {
    if protocol == "email" {
        native_id.trim().to_string()
    } else {
        format!("{protocol}:{}", native_id.trim())
    }
}

/// The thread id a root candidate gives: `t_` and 32 hex digits of SHA-256.
pub fn thread_id(candidate: &str) -> String {
    let digest = sha2::Sha256::digest(candidate.as_bytes());
    format!("t_{}", hex::encode(&digest[..16]))
}

/// The union–find of one run, loading what earlier runs stored as it meets each node.
pub struct Forest<'a> {
    db: &'a dyn ThreadState,
    /// Whether to join what the store holds (not when rebuilding it).
    lookup: bool,
    index: HashMap<String, usize>,
    parent: Vec<usize>,
    best: Vec<Option<String>>,
    /// For each stored thread met: its virtual node.
    stored: BTreeMap<String, usize>,
    /// Nodes the store already has: their rows move with their thread's merges, so they
    /// are never written again.
    known: Vec<bool>,
    subjects: HashMap<SubjectGroup, Vec<SubjectMember>>,
    /// The stored messages of each subject group met, until [`Forest::settle`] joins those
    /// dated near enough to this run's messages to be joined; the others stay here.
    stored_members: HashMap<SubjectGroup, Vec<SettledMember>>,
    /// Subject groups as earlier batches of the same run left them.
    memory: Option<&'a SubjectMemory>,
}

/// Messages the subject fallback may join: the same subject key in the same conversation.
type SubjectGroup = (String, String);

/// A message of a subject group: its node (or its stored thread's), its date in seconds,
/// and whether its subject was a reply.
type SubjectMember = (usize, Option<i64>, bool);

/// A subject group's messages as a batch settled them: thread, date in seconds, reply.
type SettledMember = (String, Option<i64>, bool);

/// What a run that threads batch after batch (`sync`) remembers of subject groups between
/// batches, so that a common subject is not read back from the store for every batch: the
/// messages of each group with their threads, and the threads merged since. It holds at
/// most [`REMEMBERED`] of those, then starts again empty: a first sync of a million
/// messages must not keep them all (what it forgot, the store answers).
#[derive(Debug, Default)]
pub struct SubjectMemory {
    subjects: HashMap<SubjectGroup, Vec<SettledMember>>,
    renamed: HashMap<String, String>,
    members: usize,
}

/// How many group members and merges [`SubjectMemory`] holds at most: a few MB.
const REMEMBERED: usize = 1 << 16;

impl SubjectMemory {
    /// The messages of a subject group, each with the thread it is in now.
    fn members(&self, group: &SubjectGroup) -> Option<Vec<SettledMember>> {
        let members = self.subjects.get(group)?;
        let mut current: Vec<SettledMember> = members
            .iter()
            .map(|(thread, time, reply)| {
                let mut thread = thread;
                while let Some(next) = self.renamed.get(thread) {
                    thread = next;
                }
                (thread.clone(), *time, *reply)
            })
            .collect();
        current.sort();
        current.dedup();
        Some(current)
    }

    /// Takes in what a batch settled.
    pub fn learn(&mut self, settled: &Settled) {
        for (old, new) in &settled.merges {
            self.renamed.insert(old.clone(), new.clone());
        }
        for (group, members) in &settled.subjects {
            self.members += members.len();
            if let Some(before) = self.subjects.insert(group.clone(), members.clone()) {
                self.members -= before.len();
            }
        }
        if self.members + self.renamed.len() > REMEMBERED {
            *self = SubjectMemory::default();
        }
    }
}

impl<'a> Forest<'a> {
    /// A forest that joins the threads the store holds (none to look up in a new store).
    pub fn new(db: &'a dyn ThreadState) -> Result<Forest<'a>, store::Error> {
        Ok(Forest::with_lookup(db, db.has_threads()?))
    }

    /// The same forest, taking subject groups from `memory` when it has them.
    pub fn remembering(self, memory: &'a SubjectMemory) -> Forest<'a> {
        Forest {
            memory: Some(memory),
            ..self
        }
    }

    /// A forest that ignores the stored threads: `--rebuild` recomputes them.
    pub fn fresh(db: &'a dyn ThreadState) -> Forest<'a> {
        Forest::with_lookup(db, false)
    }

    fn with_lookup(db: &'a dyn ThreadState, lookup: bool) -> Forest<'a> {
        Forest {
            db,
            lookup,
            index: HashMap::new(),
            parent: Vec::new(),
            best: Vec::new(),
            stored: BTreeMap::new(),
            known: Vec::new(),
            subjects: HashMap::new(),
            stored_members: HashMap::new(),
            memory: None,
        }
    }

    fn make(&mut self, best: Option<String>) -> usize {
        let at = self.parent.len();
        self.parent.push(at);
        self.best.push(best);
        self.known.push(false);
        at
    }

    /// The virtual node standing for a stored thread.
    fn stored_thread(&mut self, thread: String) -> usize {
        if let Some(&at) = self.stored.get(&thread) {
            return at;
        }
        let at = self.make(Some(thread.clone()));
        self.stored.insert(thread, at);
        at
    }

    /// The node of a message-id, joined to the thread the store has it in.
    pub fn node(&mut self, key: &str) -> Result<usize, store::Error> {
        if let Some(&at) = self.index.get(key) {
            return Ok(at);
        }
        let at = self.make(None);
        self.index.insert(key.to_string(), at);
        let stored = match self.lookup {
            true => self.db.thread_of(key)?,
            false => None,
        };
        if let Some(thread) = stored {
            self.known[at] = true;
            let virtual_node = self.stored_thread(thread);
            self.union(at, virtual_node);
        }
        Ok(at)
    }

    fn find(&mut self, mut at: usize) -> usize {
        while self.parent[at] != at {
            self.parent[at] = self.parent[self.parent[at]];
            at = self.parent[at];
        }
        at
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        let (keep, gone) = if a < b { (a, b) } else { (b, a) };
        self.parent[gone] = keep;
        let best = match (self.best[keep].take(), self.best[gone].take()) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        self.best[keep] = best;
    }

    fn candidate(&mut self, at: usize, id: String) {
        let root = self.find(at);
        let best = match self.best[root].take() {
            Some(old) => old.min(id),
            None => id,
        };
        self.best[root] = Some(best);
    }

    /// Adds one message: its node joins every node it refers to, and the subject fallback
    /// is noted for [`Forest::settle`].
    pub fn add(&mut self, links: &MessageRow) -> Result<usize, store::Error> {
        let at = self.node(&links.node)?;
        for reference in &links.refs {
            let other = self.node(reference)?;
            self.union(at, other);
        }
        let candidate = links.refs.first().unwrap_or(&links.node);
        self.candidate(at, thread_id(candidate));
        if let Some(key) = &links.subject_key
            && !key.is_empty()
        {
            let group = (key.clone(), links.conversation.clone());
            if !self.subjects.contains_key(&group) {
                let remembered = self.memory.and_then(|memory| memory.members(&group));
                let stored = match (self.lookup, remembered) {
                    (true, Some(members)) => members,
                    (true, None) => self
                        .db
                        .subject_messages(key, &links.conversation)?
                        .into_iter()
                        .map(|(thread, date, reply)| {
                            (thread, date.as_deref().and_then(timestamp), reply)
                        })
                        .collect(),
                    (false, _) => Vec::new(),
                };
                self.stored_members.insert(group.clone(), stored);
                self.subjects.insert(group.clone(), Vec::new());
            }
            let time = links.date.as_deref().and_then(timestamp);
            if let Some(members) = self.subjects.get_mut(&group) {
                members.push((at, time, links.reply));
            }
        }
        Ok(at)
    }

    /// Applies the subject fallback (the module doc's rule): each reply joins every
    /// message of its group dated no earlier and at most [`SUBJECT_WINDOW`] before it. A
    /// message without a date joins none.
    pub fn settle(&mut self) {
        self.join_stored_members();
        let mut groups: Vec<Vec<(i64, bool, usize)>> = self
            .subjects
            .values()
            .filter(|members| members.iter().any(|(_, _, reply)| *reply))
            .map(|members| {
                members
                    .iter()
                    .filter_map(|&(at, time, reply)| Some((time?, reply, at)))
                    .collect()
            })
            .collect();
        for members in &mut groups {
            members.sort_unstable();
            for (i, &(time, reply, at)) in members.iter().enumerate() {
                if !reply {
                    continue;
                }
                // Everything dated the same as the reply or up to the window before it.
                let same_time = members[i..].iter().take_while(|(t, _, _)| *t == time);
                let before = members[..i]
                    .iter()
                    .rev()
                    .take_while(|(t, _, _)| time - *t <= SUBJECT_WINDOW);
                let joined: Vec<usize> = same_time.chain(before).map(|m| m.2).collect();
                for other in joined {
                    self.union(at, other);
                }
            }
        }
    }

    /// Joins to each subject group the stored messages the fallback can join to this run's:
    /// those dated within [`SUBJECT_WINDOW`] of one of them, each as its thread's virtual
    /// node. Two stored messages were joined, if at all, when the later was threaded, so
    /// the rest (most of a common subject's years) joins nothing and stays unread.
    fn join_stored_members(&mut self) {
        let mut stored_members = std::mem::take(&mut self.stored_members);
        for (group, stored) in &mut stored_members {
            let mut times: Vec<i64> = self
                .subjects
                .get(group)
                .into_iter()
                .flatten()
                .filter_map(|&(_, time, _)| time)
                .collect();
            times.sort_unstable();
            let near = |time: i64| {
                let first = times.partition_point(|&t| t < time - SUBJECT_WINDOW);
                times
                    .get(first)
                    .is_some_and(|&t| t <= time + SUBJECT_WINDOW)
            };
            let (joined, rest): (Vec<SettledMember>, Vec<SettledMember>) = std::mem::take(stored)
                .into_iter()
                .partition(|(_, time, _)| time.is_some_and(near));
            *stored = rest;
            let joined: Vec<SubjectMember> = joined
                .into_iter()
                .map(|(thread, time, reply)| (self.stored_thread(thread), time, reply))
                .collect();
            if let Some(members) = self.subjects.get_mut(group) {
                members.extend(joined);
            }
        }
        self.stored_members = stored_members;
    }

    fn thread(&mut self, at: usize) -> String {
        let root = self.find(at);
        self.best[root].clone().unwrap_or_default()
    }

    /// The outcome, once every message is added and [`Forest::settle`]d: what to write
    /// back, and the thread of each node index.
    pub fn finish(mut self) -> Settled {
        let count = self.parent.len();
        let by_index: Vec<String> = (0..count).map(|at| self.thread(at)).collect();
        let merges = self
            .stored
            .iter()
            .filter(|(old, at)| by_index[**at] != **old)
            .map(|(old, at)| (old.clone(), by_index[*at].clone()))
            .collect();
        let mut nodes: Vec<(String, String)> = self
            .index
            .iter()
            .filter(|(_, at)| !self.known[**at])
            .map(|(node, at)| (node.clone(), by_index[*at].clone()))
            .collect();
        nodes.sort();
        let subjects = self
            .subjects
            .iter()
            .map(|(group, members)| {
                let unjoined = self
                    .stored_members
                    .get(group)
                    .into_iter()
                    .flatten()
                    .cloned();
                let mut settled: Vec<SettledMember> = members
                    .iter()
                    .map(|&(at, time, reply)| (by_index[at].clone(), time, reply))
                    .chain(unjoined)
                    .collect();
                settled.sort();
                settled.dedup();
                (group.clone(), settled)
            })
            .collect();
        Settled {
            nodes,
            merges,
            subjects,
            by_index,
        }
    }
}

/// The threads a [`Forest`] settled on.
#[derive(Debug, Clone, Default)]
pub struct Settled {
    /// Every node met that the store did not have, with its thread.
    pub nodes: Vec<(String, String)>,
    /// Stored threads merged into another: (old, new).
    pub merges: Vec<(String, String)>,
    /// Each subject group met: its messages' threads, dates and replies.
    subjects: Vec<(SubjectGroup, Vec<SettledMember>)>,
    by_index: Vec<String>,
}

impl Settled {
    /// The thread of a node index [`Forest::add`] returned.
    pub fn thread(&self, at: usize) -> &str {
        self.by_index.get(at).map_or("", String::as_str)
    }

    /// Writes the threads back: each merge recorded (moving the stored nodes of the merged
    /// thread), each new node put in its thread.
    pub fn store(&self, batch: &store::db::Batch<'_>) -> Result<(), store::Error> {
        for (old, new) in &self.merges {
            batch.merge_thread(old, new)?;
        }
        batch.put_thread_nodes(&self.nodes)
    }
}

/// One message as the tree shows it.
#[derive(Debug, Clone, Default)]
pub struct TreeItem {
    pub node: String,
    pub refs: Vec<String>,
    pub date: Option<String>,
}

/// The messages of one thread as a tree: (depth, index into `items`) in display order,
/// parents before children, siblings by date.
pub fn tree(items: &[TreeItem]) -> Vec<(usize, usize)> {
    // Containers: one per node; a duplicate message-id gets its own.
    let mut container: HashMap<String, usize> = HashMap::new();
    let mut message: Vec<Option<usize>> = Vec::new();
    let mut parent: Vec<Option<usize>> = Vec::new();
    let mut get = |key: &str, message: &mut Vec<Option<usize>>, parent: &mut Vec<Option<usize>>| {
        *container.entry(key.to_string()).or_insert_with(|| {
            message.push(None);
            parent.push(None);
            message.len() - 1
        })
    };
    let mut own = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let mut c = get(&item.node, &mut message, &mut parent);
        if message[c].is_some() {
            message.push(None);
            parent.push(None);
            c = message.len() - 1;
        }
        message[c] = Some(i);
        own.push(c);
    }
    let creates_cycle = |parent: &Vec<Option<usize>>, child: usize, new_parent: usize| {
        let mut at = Some(new_parent);
        let mut steps = 0;
        while let Some(p) = at {
            if p == child || steps > parent.len() {
                return true;
            }
            at = parent[p];
            steps += 1;
        }
        false
    };
    for (i, item) in items.iter().enumerate() {
        let refs: Vec<usize> = item
            .refs
            .iter()
            .map(|r| get(r, &mut message, &mut parent))
            .collect();
        for pair in refs.windows(2) {
            if parent[pair[1]].is_none() && !creates_cycle(&parent, pair[1], pair[0]) {
                parent[pair[1]] = Some(pair[0]);
            }
        }
        let c = own[i];
        parent[c] = None;
        if let Some(&last) = refs.last()
            && !creates_cycle(&parent, c, last)
        {
            parent[c] = Some(last);
        }
    }
    let count = message.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); count];
    let mut roots = Vec::new();
    for (c, up) in parent.iter().enumerate() {
        match up {
            Some(p) => children[*p].push(c),
            None => roots.push(c),
        }
    }
    // The earliest date under each container orders siblings: children before parents.
    let mut earliest: Vec<Option<String>> = message
        .iter()
        .map(|m| m.and_then(|m| items[m].date.clone()))
        .collect();
    let mut order = Vec::with_capacity(count);
    let mut stack = roots.clone();
    while let Some(c) = stack.pop() {
        order.push(c);
        stack.extend(children[c].iter().copied());
    }
    for &c in order.iter().rev() {
        for &child in &children[c] {
            if let Some(d) = earliest[child].clone()
                && earliest[c].as_ref().is_none_or(|v| d < *v)
            {
                earliest[c] = Some(d);
            }
        }
    }
    let key = |c: &usize| (earliest[*c].clone(), message[*c], *c);
    roots.sort_by_key(key);
    for list in &mut children {
        list.sort_by_key(key);
    }
    let mut out = Vec::with_capacity(items.len());
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&c| (c, 0)).collect();
    while let Some((c, depth)) = stack.pop() {
        let child_depth = match message[c] {
            Some(m) => {
                out.push((depth, m));
                depth + 1
            }
            None => depth,
        };
        stack.extend(children[c].iter().rev().map(|&child| (child, child_depth)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_prefixes_of_many_languages_and_list_tags_are_stripped() {
        for subject in [
            "Re: Plans",
            "RE: Plans",
            "AW: Plans",
            "SV: Plans",
            "VS: Plans",
            "Antw: Plans",
            "Réf : Plans",
            "Re[2]: Plans",
            "[team] Re: [team] Plans",
            "Fwd: Re: Plans",
            "答复: Plans",
            "回复：Plans",
        ] {
            assert_eq!(subject_key(subject), ("plans".into(), true), "{subject}");
        }
        // A forward is stripped, but no reply: it joins no thread by its subject.
        for subject in ["WG: Plans", "TR: Plans", "Fwd: Fw: Plans", "转发: plans"] {
            assert_eq!(subject_key(subject), ("plans".into(), false), "{subject}");
        }
        assert_eq!(subject_key("[team]  Plans  B"), ("plans b".into(), false));
        assert_eq!(subject_key("Regarding: x"), ("regarding: x".into(), false));
        assert_eq!(subject_key("Re: "), ("".into(), true));
    }

    #[test]
    fn thread_ids_are_prefixed_hashes() {
        assert_eq!(thread_id("<a@b>").len(), 34);
        assert_ne!(thread_id("<a@b>"), thread_id("<a@c>"));
        assert_eq!(node_key("mastodon", "123"), "mastodon:123");
        assert_eq!(node_key("email", "<a@b>"), "<a@b>");
    }

    fn item(node: &str, refs: &[&str], date: &str) -> TreeItem {
        TreeItem {
            node: node.into(),
            refs: refs.iter().map(|r| r.to_string()).collect(),
            date: Some(date.into()),
        }
    }

    #[test]
    fn a_missing_parent_leaves_its_children_together() {
        let items = [
            item("<a>", &[], "1"),
            item("<c>", &["<a>", "<b>"], "3"),
            item("<d>", &["<a>", "<b>"], "4"),
        ];
        assert_eq!(tree(&items), [(0, 0), (1, 1), (1, 2)]);
    }

    #[test]
    fn a_reference_cycle_does_not_loop() {
        let items = [item("<a>", &["<b>"], "1"), item("<b>", &["<a>"], "2")];
        let shown = tree(&items);
        assert_eq!(shown.len(), 2, "each message once");
        assert_eq!(shown.iter().filter(|(depth, _)| *depth == 0).count(), 1);
    }

    #[test]
    fn duplicate_message_ids_are_both_shown() {
        let items = [
            item("<a>", &[], "1"),
            item("<a>", &[], "2"),
            item("<b>", &["<a>"], "3"),
        ];
        let shown = tree(&items);
        assert_eq!(shown.len(), 3);
    }

    #[test]
    fn five_hundred_references_make_a_chain_not_a_stack_overflow() {
        let refs: Vec<String> = (0..500).map(|i| format!("<r{i}>")).collect();
        let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
        let items = [item("<r0>", &[], "0"), item("<x>", &refs[..], "9")];
        assert_eq!(tree(&items), [(0, 0), (1, 1)]);
    }
}
