//! `signal:PATH|-`: Signal messages as `signal-cli -o json receive` prints them, one JSON
//! object a line (`{"envelope": {…}, "account": "+…"}`; the JSON-RPC `receive` notification,
//! whose `params` hold the same, is read too), as records of protocol `signal`. Each message
//! is archived as a blob of [`crate::source::export`].
//!
//! An envelope names its sender (`sourceNumber`, `sourceUuid`, `sourceName`) and carries a
//! `dataMessage` (`timestamp`, `message`, `groupInfo`, `attachments`, `quote`) or, for what
//! the user sent from another device, `syncMessage.sentMessage` (with `destination…`).
//! Receipts, typing notices and reactions alone are not messages and are skipped. Signal
//! names a message by its author and its timestamp, and a quote names the message it
//! replies to the same way, so the native id is `AUTHOR/TIMESTAMP` (the author's UUID where
//! given, else the number) and a quote gives `in_reply_to`.
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

/// The source kind.
pub(crate) const KIND: &str = "signal";

/// signal-cli's output in a file, or on standard input (`None`).
pub struct Signal(pub Option<PathBuf>);

impl Source for Signal {
    fn scan(
        &self,
        known: &Known,
        emit: &mut dyn FnMut(Item) -> Result<(), Error>,
    ) -> Result<Scan, Error> {
        let mut scan = Scan::default();
        let (input, origin): (Box<dyn BufRead>, &Path) = match &self.0 {
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
        let location = |line: usize| match &self.0 {
            None => format!("stdin:{line}"),
            Some(path) => format!("{}:{line}", path.display()),
        };
        for (index, line) in input.lines().enumerate() {
            let line = line.map_err(|e| Error::io(origin, e))?;
            if line.trim().is_empty() {
                continue;
            }
            match envelope_of(&line) {
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

/// The message of one line, `None` when the envelope carries none (a receipt).
fn envelope_of(line: &str) -> Result<Option<Unit>, String> {
    let value = json(line.as_bytes(), "a JSON object")?;
    let value = match value.get("params") {
        Some(params) if value.get("envelope").is_none() => params.clone(),
        _ => value,
    };
    let envelope = value
        .get("envelope")
        .ok_or("not signal-cli JSON output: no envelope")?;
    let Some(data) = content(envelope) else {
        return Ok(None);
    };
    let has_text = text(data, "message").is_some_and(|m| !m.is_empty());
    let has_attachments = data
        .get("attachments")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if !has_text && !has_attachments {
        return Ok(None);
    }
    Ok(Some(Unit {
        context: json!({"account": value.get("account")}),
        message: value,
    }))
}

/// The message an envelope carries: received, or sent by the user from another device.
fn content(envelope: &Value) -> Option<&Value> {
    envelope
        .get("dataMessage")
        .filter(|d| d.is_object())
        .or_else(|| envelope.get("syncMessage")?.get("sentMessage"))
        .filter(|d| d.is_object())
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
    let data = content(envelope).ok_or("the envelope carries no message")?;
    let number = text(envelope, "sourceNumber")
        .or_else(|| text(envelope, "source").filter(|s| s.starts_with('+')));
    let uuid = text(envelope, "sourceUuid");
    let author = uuid.or(number).ok_or("the envelope names no sender")?;
    let timestamp = data
        .get("timestamp")
        .or_else(|| envelope.get("timestamp"))
        .and_then(Value::as_i64)
        .ok_or("the message has no timestamp")?;
    let group = data.get("groupInfo").filter(|g| g.is_object());
    let to = if let Some(group) = group {
        let id = text(group, "groupId").ok_or("groupInfo has no groupId")?;
        vec![Address {
            name: text(group, "groupName").map(str::to_string),
            address: format!("group:{id}"),
            group: None,
        }]
    } else if envelope.get("dataMessage").is_some_and(Value::is_object) {
        person(None, text(context, "account"), None)
            .into_iter()
            .collect()
    } else {
        person(
            None,
            text(data, "destinationNumber").or_else(|| text(data, "destination")),
            text(data, "destinationUuid"),
        )
        .into_iter()
        .collect()
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
        protocol: "signal".into(),
        native_id: format!("{author}/{timestamp}"),
        in_reply_to,
        from: person(text(envelope, "sourceName"), number, uuid),
        to,
        text: text(data, "message").unwrap_or_default().to_string(),
        attachments,
        ..Message::default()
    };
    record.security.encryption = Encryption::ProtocolE2e;
    set_date_ms(&mut record, timestamp);
    Ok(record)
}
