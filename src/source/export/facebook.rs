//! `facebook-export:ZIP|DIR`: the Messenger conversations of a Facebook export ("Download
//! your information", JSON format), as records of protocol `facebook`. Reading the export's
//! files is [`crate::source::export`]'s job.
//!
//! Each conversation is a folder `messages/FOLDER/NAME_ID/` holding `message_1.json`,
//! `message_2.json`, … (`message.json` in exports before 2019), where FOLDER is `inbox`,
//! `archived_threads`, `e2ee_cradle`, `message_requests` or `filtered_threads`; `messages/`
//! is at the root, or under `your_activity_across_facebook/` (2022) or
//! `your_facebook_activity/` (2024). A file holds `participants` (`{"name"}` objects, or
//! plain strings before 2019), `title`, `thread_path` and `messages` (`sender_name`,
//! `timestamp_ms`, `content`, `photos`/`videos`/`audio_files`/`files`/`gifs` and `sticker`
//! with a `uri`, `share`, `reactions`). Other JSON files under `messages/` (autofill
//! information, a conversation folder of another name) are named on stderr as skipped.
//!
//! Facebook writes every UTF-8 byte of a string as its own `\u00XX` escape, so "café"
//! arrives as "cafÃ©": [`repair`] turns such strings back. The export has no message ids
//! and names people only by display name, so a message's native id is its thread, time and
//! sender (`#N` added for the Nth same one in a file) and a person's handle is their name
//! (identity `facebook:NAME`); nor does it name its owner, so an export no configured
//! account holds is the account `facebook`. `reactions` (`from`, `reaction`) and `share`
//! (`link`, `share_text`) are kept as fields of the record.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Files, Platform, Unit, attachment, json, set_date_ms, text};
use crate::record::{Address, Message};

/// The protocol of its records: the platform.
pub(crate) const PROTOCOL: &str = "facebook";

/// The source kind.
pub(crate) const KIND: &str = "facebook-export";

/// The folders under `messages/` that hold conversations.
const FOLDERS: &[&str] = &[
    "inbox",
    "archived_threads",
    "e2ee_cradle",
    "message_requests",
    "filtered_threads",
];

/// The fields of a message that list media, each item with a `uri`.
const MEDIA: &[&str] = &["photos", "videos", "audio_files", "files", "gifs"];

pub(crate) struct Facebook;

impl Platform for Facebook {
    const KIND: &'static str = KIND;
    const EXPECTED: &'static str = "messages/inbox/*/message_*.json";

    fn holds_messages(name: &str) -> bool {
        let parts: Vec<&str> = name.split('/').collect();
        let n = parts.len();
        n >= 4
            && is_message_file(parts[n - 1])
            && FOLDERS.contains(&parts[n - 3])
            && parts[n - 4] == "messages"
    }

    fn skipped(name: &str) -> Option<&'static str> {
        let parts: Vec<&str> = name.split('/').collect();
        let n = parts.len();
        let under_messages = parts[..n - 1].contains(&"messages");
        if !under_messages || !name.ends_with(".json") || Facebook::holds_messages(name) {
            return None;
        }
        Some(if is_message_file(parts[n - 1]) {
            "a conversation in a folder missive does not know (it reads messages/ inbox, \
             archived_threads, e2ee_cradle, message_requests and filtered_threads)"
        } else {
            "not a conversation (messages/FOLDER/THREAD/message_N.json)"
        })
    }

    fn split(
        name: &str,
        bytes: &[u8],
        _shared: &Value,
        files: &mut Files,
    ) -> Result<Vec<Unit>, String> {
        let file = json(bytes, "a Facebook Messenger message file (JSON)")?;
        let (Some(participants), Some(messages)) = (
            file.get("participants").and_then(Value::as_array),
            file.get("messages").and_then(Value::as_array),
        ) else {
            return Err(
                "not a Facebook Messenger message file: no participants and messages lists".into(),
            );
        };
        let thread = text(&file, "thread_path")
            .map(str::to_string)
            .unwrap_or_else(|| {
                name.rsplit_once('/')
                    .map_or(name, |(dir, _)| dir)
                    .to_string()
            });
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut units = Vec::with_capacity(messages.len());
        for message in messages {
            let sender = text(message, "sender_name").ok_or("a message has no sender_name")?;
            let time = message
                .get("timestamp_ms")
                .and_then(Value::as_i64)
                .ok_or("a message has no timestamp_ms")?;
            let mut native_id = format!("{thread}/{time}/{}", repair(sender));
            let count = seen.entry(native_id.clone()).or_default();
            if *count > 0 {
                native_id = format!("{native_id}#{count}");
            }
            *count += 1;
            let mut sizes = serde_json::Map::new();
            for uri in uris(message) {
                if let Some(size) = files.size(uri) {
                    sizes.insert(uri.to_string(), size.into());
                }
            }
            units.push(Unit {
                context: json!({
                    "native_id": native_id,
                    "participants": participants,
                    "media_sizes": sizes,
                }),
                message: message.clone(),
                owner: None,
            });
        }
        Ok(units)
    }
}

/// Whether a file's name is that of a conversation's messages: `message_N.json`, or
/// `message.json` in exports before 2019.
fn is_message_file(base: &str) -> bool {
    base == "message.json"
        || base
            .strip_prefix("message_")
            .and_then(|rest| rest.strip_suffix(".json"))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The `uri` of every medium of a message.
fn uris(message: &Value) -> impl Iterator<Item = &str> {
    MEDIA
        .iter()
        .filter_map(|field| message.get(*field)?.as_array())
        .flatten()
        .chain(message.get("sticker"))
        .filter_map(|medium| text(medium, "uri"))
}

/// A string as Facebook should have written it: when every character is below U+0100 and
/// those characters, taken as bytes, are UTF-8, the string is those bytes decoded.
pub(crate) fn repair(text: &str) -> String {
    if text.is_ascii() || text.chars().any(|c| u32::from(c) > 0xFF) {
        return text.to_string();
    }
    let bytes: Vec<u8> = text.chars().map(|c| c as u8).collect();
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// Every string in `value`, repaired.
fn repaired(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(repair(s)),
        Value::Array(items) => Value::Array(items.iter().map(repaired).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (repair(k), repaired(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A person, by the display name that is all the export gives.
fn person(name: &str) -> Address {
    Address {
        name: Some(name.to_string()),
        address: name.to_string(),
        group: None,
    }
}

/// A record of one message of a conversation.
pub(crate) fn map(context: &Value, message: &Value) -> Result<Message, String> {
    let message = repaired(message);
    let context = repaired(context);
    let sender = text(&message, "sender_name").ok_or("a message has no sender_name")?;
    let time = message
        .get("timestamp_ms")
        .and_then(Value::as_i64)
        .ok_or("a message has no timestamp_ms")?;
    let to = context["participants"]
        .as_array()
        .into_iter()
        .flatten()
        // Exports before 2019 list participants as plain names.
        .filter_map(|p| p.as_str().or_else(|| text(p, "name")))
        .filter(|name| *name != sender)
        .map(person)
        .collect();
    let sizes = &context["media_sizes"];
    let attachments = uris(&message)
        .map(|uri| attachment(uri, None, sizes.get(uri).and_then(Value::as_u64)))
        .collect();
    let mut record = Message {
        protocol: PROTOCOL.into(),
        native_id: text(&context, "native_id")
            .ok_or("no native id in the context")?
            .to_string(),
        from: Some(person(sender)),
        to,
        text: text(&message, "content").unwrap_or_default().to_string(),
        attachments,
        ..Message::default()
    };
    set_date_ms(&mut record, time);
    let reactions: Vec<Value> = message
        .get("reactions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| json!({"from": text(r, "actor"), "reaction": text(r, "reaction")}))
        .collect();
    if !reactions.is_empty() {
        record.extra.insert("reactions".into(), reactions.into());
    }
    if let Some(share) = message.get("share") {
        record.extra.insert(
            "share".into(),
            json!({"link": share.get("link"), "share_text": share.get("share_text")}),
        );
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_bytes_written_as_latin1_escapes_are_repaired() {
        assert_eq!(repair("caf\u{c3}\u{a9}"), "café");
        assert_eq!(repair("\u{e2}\u{9d}\u{a4}"), "❤");
        // Latin-1 text that is not UTF-8 once taken as bytes stays as it is.
        assert_eq!(repair("déjà"), "déjà");
        assert_eq!(repair("naïve ☃"), "naïve ☃");
    }

    #[test]
    fn message_files_are_found_in_old_and_new_layouts() {
        assert!(Facebook::holds_messages(
            "messages/inbox/bob_1/message_1.json"
        ));
        assert!(Facebook::holds_messages(
            "your_activity_across_facebook/messages/inbox/bob_1/message_2.json"
        ));
        assert!(!Facebook::holds_messages(
            "messages/inbox/bob_1/photos/a.jpg"
        ));
        assert!(!Facebook::holds_messages(
            "messages/autofill_information.json"
        ));
        for name in [
            "messages/message_requests/carol_3/message_1.json",
            "messages/filtered_threads/dan_4/message_1.json",
            "your_facebook_activity/messages/inbox/bob_1/message_1.json",
            "messages/inbox/bob_1/message.json",
        ] {
            assert!(Facebook::holds_messages(name), "{name}");
            assert_eq!(Facebook::skipped(name), None, "{name}");
        }
        assert!(!Facebook::holds_messages(
            "messages/inbox/bob_1/message_x.json"
        ));
    }

    #[test]
    fn json_under_messages_that_is_not_read_is_named() {
        let folder = Facebook::skipped("messages/ai_conversations/meta_1/message_1.json");
        assert!(folder.is_some_and(|reason| reason.contains("folder")));
        let other = Facebook::skipped("your_facebook_activity/messages/autofill_information.json");
        assert!(other.is_some_and(|reason| reason.contains("not a conversation")));
        assert_eq!(Facebook::skipped("messages/inbox/bob_1/photos/a.jpg"), None);
        assert_eq!(Facebook::skipped("profile_information/profile.json"), None);
    }
}
