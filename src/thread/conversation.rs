//! Conversations (DESIGN §4): the people of an exchange minus the user, each resolved to a
//! contact; the id is a hash of the sorted contact ids, so linking an identity to a contact
//! merges the conversations it spanned. Mail with a List-Id belongs to the list's
//! conversation. Contacts themselves are [`crate::contacts`]; the summary records are
//! [`crate::record::Conversation`] and, built the same way, [`crate::record::Thread`]
//! (what `thread` and `search` print).

use std::collections::{BTreeMap, BTreeSet};

use sha2::Digest;

use crate::contacts::Directory;
use crate::record::{Contact, Conversation, Grade, PrivacySummary, Thread, VERSION};
use crate::store::threads::MessageRow;
use crate::store::{self, Db};

/// How many subjects a conversation record lists.
const RECENT_SUBJECTS: usize = 5;

/// The conversation of a message: its list's, or its participants' contacts'.
pub fn id(list_id: Option<&str>, participants: &[String], directory: &Directory) -> String {
    let mut hash = sha2::Sha256::new();
    match list_id {
        Some(list) => {
            hash.update(b"list\0");
            hash.update(list.as_bytes());
        }
        None => {
            let contacts: BTreeSet<String> = participants
                .iter()
                .map(|identity| directory.contact_of(identity))
                .collect();
            for contact in contacts {
                hash.update(contact.as_bytes());
                hash.update([0]);
            }
        }
    }
    format!("c_{}", hex::encode(&hash.finalize()[..16]))
}

/// Re-derives the conversation of every stored message one of `identities` took part in,
/// after their contacts changed; returns how many messages moved.
pub fn rederive(
    db: &mut Db,
    directory: &Directory,
    identities: &BTreeSet<String>,
) -> Result<u64, store::Error> {
    let batch = db.batch()?;
    let mut moved = 0;
    if identities.is_empty() {
        return Ok(0);
    }
    for (message, participants, list_id, old) in batch.messages_with(identities)? {
        let new = id(list_id.as_deref(), &participants, directory);
        if new != old {
            batch.set_conversation(&message, &old, &new)?;
            moved += 1;
        }
    }
    batch.commit()?;
    Ok(moved)
}

/// The `conversation` record of a conversation id, from every message the store holds in it.
pub fn summary(db: &Db, directory: &Directory, id: &str) -> Result<Conversation, store::Error> {
    let group = Group::of(&db.conversation_messages(id)?, directory);
    Ok(Conversation {
        id: id.to_string(),
        v: VERSION,
        list_id: group.list_id,
        participants: group.participants,
        protocols: group.protocols,
        messages: group.messages,
        threads: group.threads.len() as u64,
        first_date: group.first_date,
        last_date: group.last_date,
        recent_subjects: group.recent_subjects,
        privacy: group.privacy,
        ..Conversation::default()
    })
}

/// The `thread` record of a thread id, from every message the store holds in it: the same
/// summary as a conversation's.
pub fn thread_summary(db: &Db, directory: &Directory, id: &str) -> Result<Thread, store::Error> {
    let group = Group::of(&db.thread_rows(id)?, directory);
    Ok(Thread {
        id: id.to_string(),
        v: VERSION,
        list_id: group.list_id,
        participants: group.participants,
        protocols: group.protocols,
        messages: group.messages,
        conversations: group.conversations.len() as u64,
        first_date: group.first_date,
        last_date: group.last_date,
        recent_subjects: group.recent_subjects,
        privacy: group.privacy,
        ..Thread::default()
    })
}

/// What the stored messages of a conversation or a thread come to.
struct Group {
    list_id: Option<String>,
    participants: Vec<Contact>,
    protocols: Vec<String>,
    messages: u64,
    threads: BTreeSet<String>,
    conversations: BTreeSet<String>,
    first_date: Option<String>,
    last_date: Option<String>,
    recent_subjects: Vec<String>,
    privacy: Option<PrivacySummary>,
}

impl Group {
    /// The summary of `messages` (by date, each with its thread), the people resolved to
    /// contacts.
    fn of(messages: &[(MessageRow, Option<String>)], directory: &Directory) -> Group {
        let mut contacts = BTreeMap::new();
        let mut protocols = BTreeSet::new();
        let mut threads = BTreeSet::new();
        let mut conversations = BTreeSet::new();
        let mut list_id = None;
        let mut scores = Vec::new();
        for (row, thread) in messages {
            for identity in &row.participants {
                let contact = directory.describe(identity);
                contacts.entry(contact.id.clone()).or_insert(contact);
            }
            protocols.insert(row.protocol.clone());
            threads.extend(thread.clone());
            conversations.insert(row.conversation.clone());
            if list_id.is_none() {
                list_id = row.list_id.clone();
            }
            if let Some(score) = row.score {
                scores.push((score, row.grade.clone().unwrap_or_default()));
            }
        }
        let dates: Vec<&String> = messages
            .iter()
            .filter_map(|(r, _)| r.date.as_ref())
            .collect();
        let mut recent_subjects: Vec<String> = Vec::new();
        for (row, _) in messages.iter().rev() {
            if recent_subjects.len() == RECENT_SUBJECTS {
                break;
            }
            if let Some(subject) = &row.subject
                && !recent_subjects.contains(subject)
            {
                recent_subjects.push(subject.clone());
            }
        }
        Group {
            list_id,
            participants: contacts.into_values().collect(),
            protocols: protocols.into_iter().collect(),
            messages: messages.len() as u64,
            threads,
            conversations,
            first_date: dates.iter().min().map(|d| d.to_string()),
            last_date: dates.iter().max().map(|d| d.to_string()),
            recent_subjects,
            privacy: privacy(&scores),
        }
    }
}

fn privacy(scores: &[(u8, String)]) -> Option<PrivacySummary> {
    let (lowest, lowest_grade) = scores.iter().min_by_key(|(score, _)| *score)?;
    let total: u64 = scores.iter().map(|(score, _)| u64::from(*score)).sum();
    let mut grades = BTreeMap::new();
    for (_, grade) in scores {
        *grades.entry(grade.clone()).or_insert(0) += 1;
    }
    Some(PrivacySummary {
        scored: scores.len() as u64,
        mean: ((total as f64) / (scores.len() as f64)).round() as u8,
        lowest: *lowest,
        lowest_grade: serde_json::from_value(serde_json::Value::from(lowest_grade.as_str()))
            .unwrap_or(Grade::E),
        grades,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_depends_on_the_set_of_contacts_not_their_order() {
        let directory = Directory::default();
        let a = id(
            None,
            &["email:a@example.org".into(), "email:b@example.org".into()],
            &directory,
        );
        let b = id(
            None,
            &["email:b@example.org".into(), "email:a@example.org".into()],
            &directory,
        );
        assert_eq!(a, b);
        assert_ne!(a, id(None, &["email:a@example.org".into()], &directory));
        assert_ne!(
            id(Some("list.example.org"), &[], &directory),
            id(None, &[], &directory)
        );
    }

    #[test]
    fn a_privacy_summary_gives_mean_lowest_and_grades() {
        let summary = privacy(&[(80, "B".into()), (30, "D".into()), (40, "D".into())]).unwrap();
        assert_eq!(summary.mean, 50);
        assert_eq!(summary.lowest, 30);
        assert_eq!(summary.lowest_grade, Grade::D);
        assert_eq!(summary.grades["D"], 2);
        assert!(privacy(&[]).is_none());
    }
}
