//! `signal:PATH|-`: Signal messages as `signal-cli -o json receive` prints them, one JSON
//! object a line (`{"envelope": {…}, "account": "+…"}`), as records of protocol `signal`;
//! the JSON-RPC forms of `signal-cli daemon`/`jsonRpc` are read too: the `receive`
//! notification, whose `params` hold the same, and the subscription's, whose
//! `params.result` do. Each message is archived as a blob of [`crate::source::export`].
//!
//! An envelope names its sender (`sourceNumber`, `sourceUuid`, `sourceName`) and carries a
//! `dataMessage` (`timestamp`, `message`, `groupInfo`, `attachments`, `quote`), an
//! `editMessage` (`targetSentTimestamp` and the new `dataMessage`) or, for what the user
//! sent from another device, `syncMessage.sentMessage` (with `destination…`, and an
//! `editMessage` of its own for an edit). Receipts, typing notices and reactions alone are
//! not messages and are skipped. Signal names a message by its author and its timestamp,
//! and a quote names the message it replies to the same way, so the native id is
//! `AUTHOR/TIMESTAMP` (the author's UUID where given, else the number) and a quote gives
//! `in_reply_to`. An edit is a record of the message it edits (its id and date) with the
//! new text and `edited`, when it was edited; its own blob is archived beside the first.
//!
//! The line's `account` is the capture's owner (the account of an export no configured
//! account holds, DESIGN.md §2) and the `to` of what it received; a line without one (older
//! signal-cli) takes the envelope's destination where given, else the account the lines
//! before it named, else the configured account's `number`.
//!
//! People are their phone numbers (identity `tel:+…`, so a Signal contact is the same person
//! as that number elsewhere), or their UUID when the number is hidden. A group message is
//! addressed to the group, `group:ID`: the output does not list the members. Signal encrypts
//! every message end to end, so every record has `security.encryption = "protocol-e2e"`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Unit, attachment, item, json, set_date_ms, text};
use crate::record::{Address, Encryption, ErrorRecord, Message};
use crate::source::{Error, Item, Known, Scan, Source, stamp};

/// The protocol of its records: the platform.
pub(crate) const PROTOCOL: &str = "signal";

/// The source kind.
pub(crate) const KIND: &str = "signal";

/// signal-cli's output in a file, or on standard input (`path` `None`).
pub struct Signal {
    pub path: Option<PathBuf>,
    /// The user's own number, when a configured account names it: who received a line
    /// that says neither its account nor its destination.
    pub number: Option<String>,
}

impl Source for Signal {
    fn scan(
        &self,
        known: &Known,
        emit: &mut dyn FnMut(Item) -> Result<(), Error>,
    ) -> Result<Scan, Error> {
        let mut scan = Scan::default();
        let (input, origin): (Box<dyn BufRead>, &Path) = match &self.path {
            None => (Box::new(std::io::stdin().lock()), Path::new("-")),
            Some(path) => {
                let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
                let key = path.display().to_string();
                let stamp = stamp(&metadata);
                if known.files.get(&key) == Some(&stamp) {
                    return Ok(scan);
                }
                scan.containers.push((key, stamp));
                let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
                (Box::new(std::io::BufReader::new(file)), path.as_path())
            }
        };
        let location = |line: usize| match &self.path {
            None => format!("stdin:{line}"),
            Some(path) => format!("{}:{line}", path.display()),
        };
        let mut capture = self.number.clone();
        for (index, line) in input.lines().enumerate() {
            let line = line.map_err(|e| Error::io(origin, e))?;
            if line.trim().is_empty() {
                continue;
            }
            match envelope_of(&line, &mut capture) {
                Ok(Some(unit)) => emit(item(KIND, origin, "", unit))?,
                Ok(None) => {}
                Err(reason) => scan
                    .failed
                    .push(ErrorRecord::new(location(index + 1), reason)),
            }
        }
        if !scan.failed.is_empty() {
            // Read again next time, once the bad lines are mended.
            scan.containers.clear();
        }
        Ok(scan)
    }
}

/// The message of one line, `None` when the envelope carries none (a receipt). `capture`
/// is the account the lines before named (at first the configured number), for a line
/// that names none.
fn envelope_of(line: &str, capture: &mut Option<String>) -> Result<Option<Unit>, String> {
    let value = json(line.as_bytes(), "a JSON object")?;
    // JSON-RPC: a notification holds the line in `params`, a subscription's in
    // `params.result`.
    let value = match value.get("params") {
        Some(params) if value.get("envelope").is_none() => {
            params.get("result").unwrap_or(params).clone()
        }
        _ => value,
    };
    let envelope = value
        .get("envelope")
        .ok_or("not signal-cli JSON output: no envelope")?;
    let account = text(&value, "account")
        .or_else(|| destination(envelope))
        .map(str::to_string)
        .or_else(|| capture.clone());
    if account.is_some() {
        capture.clone_from(&account);
    }
    let Some(carried) = carried(envelope) else {
        return Ok(None);
    };
    let data = carried.data;
    let has_text = text(data, "message").is_some_and(|m| !m.is_empty());
    let has_attachments = data
        .get("attachments")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !has_text && !has_attachments {
        return Ok(None);
    }
    Ok(Some(Unit {
        context: json!({"account": account}),
        message: value,
        owner: account,
    }))
}

/// Who an envelope was delivered to, when signal-cli says.
fn destination(envelope: &Value) -> Option<&str> {
    text(envelope, "destinationNumber")
        .or_else(|| text(envelope, "destination"))
        .or_else(|| text(envelope, "destinationUuid"))
}

/// The message an envelope carries.
struct Carried<'a> {
    /// Its `dataMessage`: text, attachments, quote, group.
    data: &'a Value,
    /// The transcript of what the user sent from another device (`syncMessage.sentMessage`,
    /// naming the recipient), when it is one.
    sent: Option<&'a Value>,
    /// For an edit (`editMessage`), the timestamp of the message it edits.
    edits: Option<i64>,
}

/// A field that is an object.
fn object(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| v.is_object())
}

/// The new message of an `editMessage` and the timestamp of the one it edits.
fn edit(edit: &Value) -> Option<(&Value, i64)> {
    Some((
        object(edit.get("dataMessage"))?,
        edit.get("targetSentTimestamp")?.as_i64()?,
    ))
}

/// The message an envelope carries: received, edited, or sent by the user from another
/// device (which may be an edit too).
fn carried(envelope: &Value) -> Option<Carried<'_>> {
    if let Some(data) = object(envelope.get("dataMessage")) {
        return Some(Carried {
            data,
            sent: None,
            edits: None,
        });
    }
    if let Some((data, target)) = object(envelope.get("editMessage")).and_then(edit) {
        return Some(Carried {
            data,
            sent: None,
            edits: Some(target),
        });
    }
    let sent = object(envelope.get("syncMessage")?.get("sentMessage"))?;
    Some(match object(sent.get("editMessage")).and_then(edit) {
        Some((data, target)) => Carried {
            data,
            sent: Some(sent),
            edits: Some(target),
        },
        None => Carried {
            data: sent,
            sent: Some(sent),
            edits: None,
        },
    })
}

/// A person by number, else by UUID.
fn person(name: Option<&str>, number: Option<&str>, uuid: Option<&str>) -> Option<Address> {
    Some(Address {
        name: name.filter(|n| !n.is_empty()).map(str::to_string),
        address: number.or(uuid)?.to_string(),
        group: None,
    })
}

/// A record of one line's message.
pub(crate) fn map(context: &Value, line: &Value) -> Result<Message, String> {
    let envelope = line.get("envelope").ok_or("no envelope")?;
    let carried = carried(envelope).ok_or("the envelope carries no message")?;
    let data = carried.data;
    let number = text(envelope, "sourceNumber")
        .or_else(|| text(envelope, "source").filter(|s| s.starts_with('+')));
    let uuid = text(envelope, "sourceUuid");
    let author = uuid.or(number).ok_or("the envelope names no sender")?;
    let sent_at = data
        .get("timestamp")
        .or_else(|| envelope.get("timestamp"))
        .and_then(Value::as_i64)
        .ok_or("the message has no timestamp")?;
    // An edit is the message it edits, as it reads now: that message's id and date.
    let timestamp = carried.edits.unwrap_or(sent_at);
    let mut problems = Vec::new();
    let group = data.get("groupInfo").filter(|g| g.is_object());
    let to = if let Some(group) = group {
        let id = text(group, "groupId").ok_or("groupInfo has no groupId")?;
        vec![Address {
            name: text(group, "groupName").map(str::to_string),
            address: format!("group:{id}"),
            group: None,
        }]
    } else if let Some(sent) = carried.sent {
        person(
            None,
            text(sent, "destinationNumber").or_else(|| text(sent, "destination")),
            text(sent, "destinationUuid"),
        )
        .into_iter()
        .collect()
    } else {
        let to: Vec<Address> = person(None, text(context, "account"), None)
            .into_iter()
            .collect();
        if to.is_empty() {
            problems.push(
                "neither the line nor the capture names the account that received it: no `to`"
                    .to_string(),
            );
        }
        to
    };
    let in_reply_to = data
        .get("quote")
        .and_then(|quote| {
            let author = text(quote, "authorUuid")
                .or_else(|| text(quote, "authorNumber"))
                .or_else(|| text(quote, "author"))?;
            Some(format!("{author}/{}", quote.get("id")?.as_i64()?))
        })
        .into_iter()
        .collect();
    let attachments = data
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| {
            let name = text(a, "filename")
                .or_else(|| text(a, "id"))
                .unwrap_or_default();
            attachment(
                name,
                text(a, "contentType"),
                a.get("size").and_then(Value::as_u64),
            )
        })
        .collect();
    let mut record = Message {
        protocol: PROTOCOL.into(),
        native_id: format!("{author}/{timestamp}"),
        in_reply_to,
        from: person(text(envelope, "sourceName"), number, uuid),
        to,
        text: text(data, "message").unwrap_or_default().to_string(),
        attachments,
        problems,
        ..Message::default()
    };
    record.security.encryption = Encryption::ProtocolE2e;
    set_date_ms(&mut record, timestamp);
    if carried.edits.is_some() {
        let mut edited = Message::default();
        set_date_ms(&mut edited, sent_at);
        record.extra.insert(
            super::EDITED.into(),
            edited.date.unwrap_or_else(|| sent_at.to_string()).into(),
        );
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(line: &str) -> Unit {
        envelope_of(line, &mut None).unwrap().expect("a message")
    }

    #[test]
    fn the_json_rpc_forms_hold_the_same_line() {
        let line = r#"{"envelope":{"sourceNumber":"+1","timestamp":5,"dataMessage":{"timestamp":5,"message":"hi"}},"account":"+2"}"#;
        for wrapped in [
            line.to_string(),
            format!(r#"{{"jsonrpc":"2.0","method":"receive","params":{line}}}"#),
            format!(
                r#"{{"jsonrpc":"2.0","method":"receive","params":{{"subscription":0,"result":{line}}}}}"#
            ),
        ] {
            let unit = unit(&wrapped);
            assert_eq!(unit.owner.as_deref(), Some("+2"), "{wrapped}");
            let record = map(&unit.context, &unit.message).unwrap();
            assert_eq!(record.native_id, "+1/5");
            assert_eq!(record.text, "hi");
        }
    }

    #[test]
    fn an_edit_is_the_message_it_edits_with_the_new_text() {
        let unit = unit(
            r#"{"envelope":{"sourceUuid":"u","timestamp":9000,"editMessage":{"targetSentTimestamp":5000,"dataMessage":{"timestamp":9000,"message":"fixed"}}},"account":"+2"}"#,
        );
        let record = map(&unit.context, &unit.message).unwrap();
        assert_eq!(record.native_id, "u/5000");
        assert_eq!(record.text, "fixed");
        assert_eq!(record.date.as_deref(), Some("1970-01-01T00:00:05Z"));
        assert_eq!(record.extra[super::super::EDITED], "1970-01-01T00:00:09Z");
        assert_eq!(record.to[0].address, "+2");
    }

    #[test]
    fn a_line_without_account_takes_the_destination_then_the_capture_s() {
        let mut capture = None;
        let first = envelope_of(
            r#"{"envelope":{"sourceNumber":"+1","destinationNumber":"+2","timestamp":5,"dataMessage":{"timestamp":5,"message":"a"}}}"#,
            &mut capture,
        )
        .unwrap()
        .unwrap();
        assert_eq!(first.owner.as_deref(), Some("+2"));
        let second = envelope_of(
            r#"{"envelope":{"sourceNumber":"+1","timestamp":6,"dataMessage":{"timestamp":6,"message":"b"}}}"#,
            &mut capture,
        )
        .unwrap()
        .unwrap();
        assert_eq!(second.owner.as_deref(), Some("+2"));
        let record = map(&second.context, &second.message).unwrap();
        assert_eq!(record.to[0].address, "+2");
    }
}
