//! `matrix-export:FILE|DIR|ZIP`: Matrix rooms as Element exports them ("Export chat", JSON
//! format), as records of protocol `matrix`. Reading the export's files is
//! [`crate::source::export`]'s job.
//!
//! Element's export is the most widely used: every Element user has it, it keeps the events
//! as the client-server API gives them, and other clients have no export of their own. One
//! room is one JSON object: `room_name`, `room_creator`, `topic`, `export_date`,
//! `exported_by` and `messages`, the room's events (`type`, `event_id`, `sender`,
//! `origin_server_ts`, `content` with `body`, `msgtype`, `info` for media, and
//! `m.relates_to`/`m.in_reply_to` for replies). With attachments it is a zip holding
//! `export.json` beside the media, which Element puts in `images/`, `videos/`, `audio/`,
//! `stickers/` and `files/`: a JSON file there is an attachment, not a room. A media
//! message whose `body` differs from its `filename` carries a caption (the Matrix spec's
//! `m.image`, `m.file`, …): the caption is the record's text, the file an attachment.
//! `exported_by` names the exporter by display name only, so an export no configured
//! account holds is the account `matrix`; event ids are the same from any account.
//!
//! Encryption: Element writes an encrypted event *decrypted*, so an event does not show it.
//! A room counts as encrypted when its export holds an `m.room.encryption` state event (shown
//! as "encryption enabled" in the timeline, exported when the range covers it), an
//! `m.room.encrypted` event, or an event Element could not decrypt (`m.bad.encrypted`). An
//! export from the middle of an encrypted room's history may show none of these: its
//! messages are then marked unencrypted, which under-claims rather than over-claims.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Files, Platform, Unit, attachment, json, set_date_ms, text};
use crate::record::{Address, Encryption, Message};

/// The protocol of its records: the platform.
pub(crate) const PROTOCOL: &str = "matrix";

/// The source kind.
pub(crate) const KIND: &str = "matrix-export";

/// Event types that are messages.
const MESSAGES: &[&str] = &["m.room.message", "m.sticker"];

/// Message types whose content is a file.
const MEDIA: &[&str] = &["m.image", "m.file", "m.video", "m.audio"];

/// The folders in which Element's export keeps the files of media messages.
const MEDIA_FOLDERS: &[&str] = &["images", "videos", "audio", "stickers", "files"];

pub(crate) struct Matrix;

impl Platform for Matrix {
    const KIND: &'static str = KIND;
    const EXPECTED: &'static str = "JSON file";

    fn holds_messages(name: &str) -> bool {
        let mut folders = name.split('/').rev().skip(1);
        name.ends_with(".json") && !folders.any(|folder| MEDIA_FOLDERS.contains(&folder))
    }

    fn split(
        _name: &str,
        bytes: &[u8],
        _shared: &Value,
        _files: &mut Files,
    ) -> Result<Vec<Unit>, String> {
        let export = json(bytes, "an Element export of a Matrix room (JSON)")?;
        let events = export
            .get("messages")
            .and_then(Value::as_array)
            .filter(|_| export.get("room_name").is_some())
            .ok_or("not an Element export of a Matrix room: no room_name and messages")?;
        let mut members = BTreeSet::new();
        let mut names = BTreeMap::new();
        let mut encrypted = None;
        for event in events {
            let kind = text(event, "type").unwrap_or_default();
            let content = &event["content"];
            if let Some(sender) = text(event, "sender") {
                members.insert(sender.to_string());
            }
            if kind == "m.room.member"
                && let Some(member) = text(event, "state_key")
            {
                if text(content, "membership") == Some("join") {
                    members.insert(member.to_string());
                }
                if let Some(name) = text(content, "displayname") {
                    names.insert(member.to_string(), name.to_string());
                }
            }
            let evidence = match kind {
                "m.room.encryption" => Some(format!(
                    "m.room.encryption state event ({})",
                    text(content, "algorithm").unwrap_or("no algorithm named")
                )),
                "m.room.encrypted" => Some("an m.room.encrypted event".to_string()),
                _ if text(content, "msgtype") == Some("m.bad.encrypted") => {
                    Some("an event that could not be decrypted".to_string())
                }
                _ => None,
            };
            if encrypted.is_none() {
                encrypted = evidence;
            }
        }
        let room = json!({
            "name": export.get("room_name"),
            "id": events.iter().find_map(|e| text(e, "room_id")),
        });
        Ok(events
            .iter()
            .filter(|e| MESSAGES.contains(&text(e, "type").unwrap_or_default()))
            .map(|event| Unit {
                context: json!({
                    "room": room,
                    "encrypted": encrypted,
                    "members": members,
                    "names": names_for(&names, event, members.len()),
                }),
                message: event.clone(),
                owner: None,
            })
            .collect())
    }
}

/// Rooms up to this many members give every member's display name to each message's blob;
/// in larger ones (public rooms), only the sender's, so that blobs do not grow with the room.
const NAMED_MEMBERS: usize = 50;

/// The display names a message's blob keeps.
fn names_for(names: &BTreeMap<String, String>, event: &Value, members: usize) -> Value {
    if members <= NAMED_MEMBERS {
        return json!(names);
    }
    let sender = text(event, "sender").unwrap_or_default();
    json!(
        names
            .get_key_value(sender)
            .into_iter()
            .collect::<BTreeMap<_, _>>()
    )
}

/// A member of the room, with the display name the export gives.
fn member(id: &str, names: &Value) -> Address {
    Address {
        name: text(names, id).map(str::to_string),
        address: id.to_lowercase(),
        group: None,
    }
}

/// The body without the quote of the message it replies to (the reply fallback: `> ` lines
/// and an empty line, before the reply itself).
fn without_reply_fallback(body: &str) -> &str {
    if !body.starts_with("> ") {
        return body;
    }
    match body.split_once("\n\n") {
        Some((quote, reply)) if quote.lines().all(|l| l.starts_with('>')) => reply,
        _ => body,
    }
}

/// A record of one message event of a room.
pub(crate) fn map(context: &Value, event: &Value) -> Result<Message, String> {
    let id = text(event, "event_id").ok_or("an event has no event_id")?;
    let sender = text(event, "sender").ok_or("an event has no sender")?;
    let names = &context["names"];
    let content = &event["content"];
    let relation = &content["m.relates_to"];
    let in_reply_to: Vec<String> = relation["m.in_reply_to"]
        .get("event_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .into_iter()
        .collect();
    let references = match text(relation, "rel_type") {
        Some("m.thread") => text(relation, "event_id")
            .map(str::to_string)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    };
    let body = text(content, "body").unwrap_or_default();
    let body = if in_reply_to.is_empty() {
        body
    } else {
        without_reply_fallback(body)
    };
    let mut attachments = Vec::new();
    let mut caption = None;
    if MEDIA.contains(&text(content, "msgtype").unwrap_or_default())
        || text(event, "type") == Some("m.sticker")
    {
        let filename = text(content, "filename");
        caption = filename.filter(|f| *f != body).map(|_| body);
        let info = &content["info"];
        attachments.push(attachment(
            filename.unwrap_or(body),
            text(info, "mimetype"),
            info.get("size").and_then(Value::as_u64),
        ));
    }
    let mut record = Message {
        protocol: PROTOCOL.into(),
        native_id: id.to_string(),
        in_reply_to,
        references,
        from: Some(member(sender, names)),
        to: context["members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|m| *m != sender)
            .map(|m| member(m, names))
            .collect(),
        text: if attachments.is_empty() {
            body.to_string()
        } else {
            caption.unwrap_or_default().to_string()
        },
        attachments,
        ..Message::default()
    };
    if let Some(ms) = event.get("origin_server_ts").and_then(Value::as_i64) {
        set_date_ms(&mut record, ms);
    }
    if let Some(evidence) = text(context, "encrypted") {
        record.security.encryption = Encryption::ProtocolE2e;
        record
            .security
            .extra
            .insert("encryption_evidence".into(), evidence.into());
    }
    if text(content, "msgtype") == Some("m.bad.encrypted") {
        record
            .problems
            .push("Element could not decrypt it when exporting: its text is lost".into());
    }
    record.extra.insert("room".into(), context["room"].clone());
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_room_names_only_the_sender_in_each_blob() {
        let names: BTreeMap<String, String> = (0..=NAMED_MEMBERS)
            .map(|i| (format!("@u{i}:example.org"), format!("U{i}")))
            .collect();
        let event = json!({"sender": "@u3:example.org"});
        assert_eq!(
            names_for(&names, &event, NAMED_MEMBERS)
                .as_object()
                .unwrap()
                .len(),
            NAMED_MEMBERS + 1
        );
        assert_eq!(
            names_for(&names, &event, NAMED_MEMBERS + 1),
            json!({"@u3:example.org": "U3"})
        );
    }

    #[test]
    fn an_event_element_could_not_decrypt_is_kept_with_a_problem() {
        let event = json!({"type": "m.room.message", "event_id": "$x", "sender": "@a:example.org",
            "origin_server_ts": 1, "content": {"msgtype": "m.bad.encrypted", "body": "** Unable to decrypt **"}});
        let unit = &Matrix::split(
            "r.json",
            &serde_json::to_vec(&json!({"room_name": "R", "messages": [event]})).unwrap(),
            &Value::Null,
            &mut Files::Single("r.json".into()),
        )
        .unwrap()[0];
        let record = map(&unit.context, &unit.message).unwrap();
        assert_eq!(record.security.encryption, Encryption::ProtocolE2e);
        assert!(
            record.problems[0].contains("could not decrypt"),
            "{:?}",
            record.problems
        );
    }

    #[test]
    fn json_files_among_the_media_are_attachments_not_rooms() {
        assert!(Matrix::holds_messages("export.json"));
        assert!(Matrix::holds_messages(
            "matrix - Room - Chat Export/export.json"
        ));
        assert!(!Matrix::holds_messages("files/notes-2023.json"));
        assert!(!Matrix::holds_messages("matrix - Room/images/x.json"));
        assert!(!Matrix::holds_messages("export.txt"));
    }

    #[test]
    fn the_quote_of_a_reply_is_left_out() {
        assert_eq!(
            without_reply_fallback("> <@a:x> hello\n> there\n\nhi back"),
            "hi back"
        );
        assert_eq!(
            without_reply_fallback("> not a quote\nat all"),
            "> not a quote\nat all"
        );
    }
}
