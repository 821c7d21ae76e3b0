//! Conversations (DESIGN §4): the people of an exchange minus the user, each resolved to a
//! contact; the id is a hash of the sorted contact ids, so linking an identity to a contact
//! merges the conversations it spanned. Mail with a List-Id belongs to the list's
//! conversation. Contacts themselves are [`crate::contacts`]; the summary record is
//! [`crate::record::Conversation`].

use std::collections::{BTreeMap, BTreeSet};

use sha2::Digest;

use crate::contacts::Directory;
use crate::record::{Conversation, Grade, PrivacySummary, VERSION};
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
    let messages = db.conversation_messages(id)?;
    let mut record = Conversation {
        id: id.to_string(),
        v: VERSION,
        messages: messages.len() as u64,
        ..Conversation::default()
    };
    let mut contacts = BTreeMap::new();
    let mut protocols = BTreeSet::new();
    let mut threads = BTreeSet::new();
    let mut scores = Vec::new();
    for (row, thread) in &messages {
        for identity in &row.participants {
            let contact = directory.describe(identity);
            contacts.entry(contact.id.clone()).or_insert(contact);
        }
        protocols.insert(row.protocol.clone());
        threads.extend(thread.clone());
        if record.list_id.is_none() {
            record.list_id = row.list_id.clone();
        }
        if let Some(score) = row.score {
            scores.push((score, row.grade.clone().unwrap_or_default()));
        }
    }
    record.participants = contacts.into_values().collect();
    record.protocols = protocols.into_iter().collect();
    record.threads = threads.len() as u64;
    let dates: Vec<&String> = messages
        .iter()
        .filter_map(|(r, _)| r.date.as_ref())
        .collect();
    record.first_date = dates.iter().min().map(|d| d.to_string());
    record.last_date = dates.iter().max().map(|d| d.to_string());
    for (row, _) in messages.iter().rev() {
        if record.recent_subjects.len() == RECENT_SUBJECTS {
            break;
        }
        if let Some(subject) = &row.subject
            && !record.recent_subjects.contains(subject)
        {
            record.recent_subjects.push(subject.clone());
        }
    }
    record.privacy = privacy(&scores);
    Ok(record)
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
