//! Streams records as JSON Lines in constant memory: one record per line in, one per line out.
//!
//! The record types live in [`crate::record`]. A line that is not a record does not stop a
//! stream: the reader returns it as a [`LineError`] carrying its line number, and the caller
//! reports it and goes on.

use std::io::{self, BufRead, Write};

use serde::Deserialize;

use crate::record::{ErrorKind, ErrorRecord, Message, MessageKind, Record};

/// A line that could not be read as a record.
#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}: {reason}")]
pub struct LineError {
    /// The input's name (a path, or `stdin`).
    pub origin: String,
    /// 1-based line number.
    pub line: u64,
    pub reason: String,
}

impl LineError {
    /// The error as a record for `--errors jsonl`.
    pub fn to_record(&self) -> ErrorRecord {
        ErrorRecord::new(
            format!("{}:{}", self.origin, self.line),
            self.reason.clone(),
        )
    }
}

/// Reads records one line at a time from a buffered input.
pub struct Reader<R> {
    input: R,
    origin: String,
    line: u64,
    buffer: Vec<u8>,
}

#[derive(Deserialize)]
struct KindProbe<'a> {
    #[serde(borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

impl<R: BufRead> Reader<R> {
    /// A reader over `input`, which error messages call `origin`.
    pub fn new(input: R, origin: impl Into<String>) -> Self {
        Reader {
            input,
            origin: origin.into(),
            line: 0,
            buffer: Vec::with_capacity(64 * 1024),
        }
    }

    /// The next record, a bad line as `Some(Err)`, or `None` at the end. Blank lines are skipped.
    pub fn next_record(&mut self) -> Option<Result<Record, LineError>> {
        loop {
            self.buffer.clear();
            match self.input.read_until(b'\n', &mut self.buffer) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(error) => {
                    self.line += 1;
                    return Some(Err(self.error(format!("cannot read: {error}"))));
                }
            }
            let line = trim_line_end(&self.buffer);
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(self.parse(line));
        }
    }

    fn parse(&self, line: &[u8]) -> Result<Record, LineError> {
        let probe: KindProbe = serde_json::from_slice(line)
            .map_err(|e| self.error(format!("not a JSON record: {e}")))?;
        match probe.kind.as_deref() {
            Some(MessageKind::TEXT) => serde_json::from_slice::<Message>(line)
                .map(|m| Record::Message(Box::new(m)))
                .map_err(|e| self.error(format!("bad message record: {e}"))),
            Some(ErrorKind::TEXT) => serde_json::from_slice::<ErrorRecord>(line)
                .map(Record::Error)
                .map_err(|e| self.error(format!("bad error record: {e}"))),
            Some(_) => match std::str::from_utf8(line) {
                Ok(text) => Ok(Record::Other(text.to_string())),
                Err(e) => Err(self.error(format!("not UTF-8: {e}"))),
            },
            None => Err(self.error("not a record: no \"kind\" field".into())),
        }
    }

    fn error(&self, reason: String) -> LineError {
        LineError {
            origin: self.origin.clone(),
            line: self.line,
            reason,
        }
    }
}

/// A record as a filter that needs only some fields of messages reads it ([`partial`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Partial<T> {
    /// A message record, read into `T`: fields `T` does not name are skipped unread.
    Message(T),
    /// A record of another kind, to be copied as it came.
    Other,
}

impl<R: BufRead> Reader<R> {
    /// Reads the next non-blank line into `line` (replacing what it held), without its
    /// line end, and returns its 1-based number: for a caller that keeps many lines at once.
    pub fn next_line_into(&mut self, line: &mut Vec<u8>) -> Option<Result<u64, LineError>> {
        loop {
            line.clear();
            match self.input.read_until(b'\n', line) {
                Ok(0) => return None,
                Ok(_) => self.line += 1,
                Err(error) => {
                    self.line += 1;
                    return Some(Err(self.error(format!("cannot read: {error}"))));
                }
            }
            let length = trim_line_end(line).len();
            line.truncate(length);
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Some(Ok(self.line));
            }
        }
    }

    /// The input's name, as errors give it.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// Reads one line as a record for a filter that needs only some fields of messages: a
/// message record into `T` (fields `T` does not name are skipped unread), any other kind
/// as [`Partial::Other`]. The error says why the line is not a record.
pub fn partial<T: serde::de::DeserializeOwned>(line: &[u8]) -> Result<Partial<T>, String> {
    // What fetch writes starts with its kind; anything else is probed.
    let kind = if line.starts_with(b"{\"kind\":\"message\",") {
        Some(std::borrow::Cow::Borrowed(MessageKind::TEXT))
    } else {
        serde_json::from_slice::<KindProbe>(line)
            .map_err(|e| e.to_string())?
            .kind
    };
    match kind.as_deref() {
        Some(MessageKind::TEXT) => serde_json::from_slice::<T>(line)
            .map(Partial::Message)
            .map_err(|e| format!("bad message record: {e}")),
        Some(_) if std::str::from_utf8(line).is_err() => Err("not UTF-8".into()),
        Some(_) => Ok(Partial::Other),
        None => Err("not a record: no \"kind\" field".into()),
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Record, LineError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// How records are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line (the default when stdout is not a terminal).
    Jsonl,
    /// One JSON array of all records.
    Json,
    /// One readable line per record.
    Text,
    /// Threads as indented trees (`missive thread`); one readable line per record elsewhere.
    Tree,
}

/// Where a producer of records (fetch) puts them: a [`Writer`] printing them, or a
/// consumer in the same process (sync, which scores and indexes them).
pub trait Sink {
    /// Takes one record.
    fn put(&mut self, record: Record) -> io::Result<()>;
    /// Makes everything put so far durable or visible; the producer commits its own state
    /// only after this returns, so nothing it records as done is lost.
    fn flush(&mut self) -> io::Result<()>;
}

impl<W: Write> Sink for Writer<W> {
    fn put(&mut self, record: Record) -> io::Result<()> {
        self.write(&record)
    }

    fn flush(&mut self) -> io::Result<()> {
        Writer::flush(self)
    }
}

/// Writes records in a [`Format`].
pub struct Writer<W: Write> {
    output: W,
    format: Format,
    written: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(output: W, format: Format) -> Self {
        Writer {
            output,
            format,
            written: 0,
        }
    }

    /// How many records have been written.
    pub fn count(&self) -> u64 {
        self.written
    }

    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        match self.format {
            Format::Jsonl => {
                write_json(&mut self.output, record)?;
                self.output.write_all(b"\n")?;
            }
            Format::Json => {
                self.output
                    .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                write_json(&mut self.output, record)?;
            }
            Format::Text | Format::Tree => {
                self.output.write_all(text_line(record).as_bytes())?;
                self.output.write_all(b"\n")?;
            }
        }
        self.written += 1;
        Ok(())
    }

    /// Writes a record that is already one JSON object (a line copied from the input, with
    /// fields spliced in): as it is in JSON Lines and JSON, as its text line otherwise.
    pub fn write_json(&mut self, json: &[u8]) -> io::Result<()> {
        match self.format {
            Format::Jsonl => {
                self.output.write_all(json)?;
                self.output.write_all(b"\n")?;
                self.written += 1;
                Ok(())
            }
            Format::Json => {
                self.output
                    .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                self.output.write_all(json)?;
                self.written += 1;
                Ok(())
            }
            Format::Text | Format::Tree => {
                let record = match Reader::new(json, "").next_record() {
                    Some(Ok(record)) => record,
                    _ => Record::Other(String::from_utf8_lossy(json).into_owned()),
                };
                self.write(&record)
            }
        }
    }

    /// Closes the JSON array and flushes; call once at the end.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.format == Format::Json {
            self.output
                .write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        self.output.flush()
    }

    /// Flushes what has been written so far.
    pub fn flush(&mut self) -> io::Result<()> {
        self.output.flush()
    }
}

fn write_json<W: Write>(output: &mut W, record: &Record) -> io::Result<()> {
    match record {
        Record::Message(message) => serde_json::to_writer(&mut *output, message)?,
        Record::Error(error) => serde_json::to_writer(&mut *output, error)?,
        Record::Other(line) => output.write_all(line.as_bytes())?,
    }
    Ok(())
}

/// One readable line: date, sender and subject for a message.
fn text_line(record: &Record) -> String {
    match record {
        Record::Message(m) => {
            let date = m.date.as_deref().unwrap_or("(no date)");
            let from = m
                .from
                .as_ref()
                .map(|a| a.name.clone().unwrap_or_else(|| a.address.clone()))
                .unwrap_or_else(|| "(no sender)".into());
            let subject = m.subject.as_deref().unwrap_or("(no subject)");
            let grade = m
                .privacy
                .as_ref()
                .map(|p| format!("{:?} {:>3}  ", p.grade, p.score))
                .unwrap_or_default();
            format!(
                "{}  {grade}{:<24.24}  {}",
                &date[..date.len().min(16)],
                from,
                subject
            )
        }
        Record::Error(e) => format!("error  {}: {}", e.location, e.error),
        Record::Other(line) => other_text_line(line),
    }
}

/// One readable line for the kinds that have one (contact, conversation, thread, suggestion,
/// key, lookup, delivery and recommendation); any other record as it came.
fn other_text_line(line: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
        return line.to_string();
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let list = |v: &serde_json::Value, sep: &str| -> String {
        v.as_array()
            .map(|items| items.iter().map(text).collect::<Vec<_>>().join(sep))
            .unwrap_or_default()
    };
    match value["kind"].as_str() {
        Some("contact") => format!(
            "{}  {:<24.24}  {}",
            text(&value["id"]),
            value["name"].as_str().unwrap_or("-"),
            list(&value["identities"], " ")
        ),
        Some("conversation" | "thread") => {
            let last = text(&value["last_date"]);
            // A participant is a contact, or (in a search's thread) a bare address.
            let people: Vec<String> = value["participants"]
                .as_array()
                .map(|people| {
                    people
                        .iter()
                        .map(|p| {
                            p.as_str()
                                .or_else(|| p["name"].as_str())
                                .map_or_else(|| text(&p["identities"][0]), str::to_string)
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{}  {:>5} msg  {:<16}  {:<20}  {}",
                text(&value["id"]),
                value["messages"].as_u64().unwrap_or(0),
                &last[..last.len().min(16)],
                list(&value["protocols"], ","),
                value["list_id"]
                    .as_str()
                    .map_or_else(|| people.join(", "), |list| format!("list {list}"))
            )
        }
        Some("suggestion") => format!(
            "{}: {}  ({})",
            text(&value["reason"]),
            text(&value["command"]),
            list(&value["evidence"], "; ")
        ),
        Some("key") if value["found"].is_object() => format!(
            "{}  {:<10} {:<9}  {}  {}",
            text(&value["found"]["address"]),
            text(&value["found"]["method"]),
            text(&value["found"]["outcome"]),
            text(&value["fingerprint"]),
            text(&value["found"]["from"])
        ),
        Some("key") => {
            let state = if value["revoked"].as_bool() == Some(true) {
                "revoked"
            } else if value["usable"].as_bool() == Some(true) {
                "usable"
            } else {
                "unusable"
            };
            let bindings: Vec<String> = value["bindings"]
                .as_array()
                .map(|bindings| {
                    bindings
                        .iter()
                        .map(|b| format!("{} ({})", text(&b["address"]), text(&b["state"])))
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "{}  {:<7} {:<8}{}  {}",
                text(&value["fingerprint"]),
                text(&value["algorithm"]),
                state,
                if value["secret"].as_bool() == Some(true) {
                    "  own"
                } else {
                    ""
                },
                if bindings.is_empty() {
                    list(&value["user_ids"], ", ")
                } else {
                    bindings.join(", ")
                }
            )
        }
        Some("lookup") if value["outcome"].is_string() => format!(
            "{}  {:<10} {:<9}  {}",
            text(&value["address"]),
            text(&value["method"]),
            text(&value["outcome"]),
            text(&value["reason"])
        ),
        // `keys discover --dry-run`: where each method would look.
        Some("lookup") => format!(
            "{}  wkd {}  wkd {}  dns {}",
            text(&value["address"]),
            text(&value["wkd_advanced"]),
            text(&value["wkd_direct"]),
            text(&value["dns_openpgpkey"])
        ),
        // `send`: who, by which channel, how it went, the privacy index the message gets
        // and, when it did not go, why.
        Some("delivery") => format!(
            "{}  {:<11} {:<7}  {:<5}{}",
            text(&value["recipient"]),
            value["channel"].as_str().unwrap_or("-"),
            text(&value["status"]),
            value["grade"].as_str().map_or_else(
                || "-".to_string(),
                |grade| format!("{grade} {:>3}", value["score"].as_u64().unwrap_or(0))
            ),
            value["reason"]
                .as_str()
                .map(|r| format!("  ({r})"))
                .unwrap_or_default()
        ),
        Some("recommendation") => format!(
            "{}  {:<11}{}{}",
            text(&value["address"]),
            text(&value["recommendation"]),
            value["prefer_encrypt"]
                .as_str()
                .map(|p| format!("  prefer-encrypt {p}"))
                .unwrap_or_default(),
            value["warning"]
                .as_str()
                .map(|w| format!("  ({w})"))
                .unwrap_or_default()
        ),
        _ => line.to_string(),
    }
}

/// `record` as one JSON line (without its end), keys sorted at every depth: how the records
/// made of the privacy indexes and `keys recommend` are written, unlike the stream records'
/// field order ([`crate::record`]).
pub fn sorted_line<T: serde::Serialize>(record: &T) -> serde_json::Result<String> {
    // A `Value`'s objects are sorted maps, so going through one sorts every level.
    serde_json::to_value(record).map(|value| value.to_string())
}

/// Where error records go: stderr as readable lines, or as JSON Lines with `--errors jsonl`.
pub struct ErrorSink<W: Write> {
    output: W,
    json: bool,
    count: u64,
    warnings: bool,
    /// The progress bars on the terminal while a fetch runs: each report is written with
    /// them lifted, never over a spinner.
    progress: Option<indicatif::MultiProgress>,
}

impl<W: Write> ErrorSink<W> {
    pub fn new(output: W, json: bool) -> Self {
        ErrorSink {
            output,
            json,
            count: 0,
            warnings: true,
            progress: None,
        }
    }

    /// Writes each report with `bars` lifted off the terminal (while they show), or as it
    /// comes with `None`.
    pub fn over_progress(&mut self, bars: Option<indicatif::MultiProgress>) {
        self.progress = bars;
    }

    /// Leaves warnings out (`--quiet`): only errors are printed.
    pub fn without_warnings(mut self) -> Self {
        self.warnings = false;
        self
    }

    /// Reports one error.
    pub fn report(&mut self, error: &ErrorRecord) {
        self.count += 1;
        self.write(error);
    }

    /// Reports a problem with a record that was still written: a warning, not counted.
    pub fn warn(&mut self, location: &str, message_id: &str, problem: &str) {
        if !self.warnings {
            return;
        }
        let mut record = ErrorRecord::new(location, problem);
        record.message_id = Some(message_id.to_string());
        record
            .extra
            .insert("severity".into(), serde_json::Value::from("warning"));
        self.write(&record);
    }

    /// A failure to write the report itself is ignored: stderr is the last place left to
    /// say anything.
    fn write(&mut self, error: &ErrorRecord) {
        match self.progress.clone() {
            Some(bars) => bars.suspend(|| self.write_now(error)),
            None => self.write_now(error),
        }
    }

    fn write_now(&mut self, error: &ErrorRecord) {
        let _ = if self.json {
            serde_json::to_writer(&mut self.output, error)
                .map_err(io::Error::from)
                .and_then(|()| self.output.write_all(b"\n"))
        } else {
            let id = error
                .message_id
                .as_deref()
                .map(|id| format!(" {id}"))
                .unwrap_or_default();
            writeln!(
                self.output,
                "missive: {}{id}: {}",
                error.location, error.error
            )
        };
    }

    /// How many errors were reported (warnings not counted).
    pub fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &str) -> Vec<Result<Record, LineError>> {
        Reader::new(input.as_bytes(), "test").collect()
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number_and_the_rest_is_read() {
        let input = "{\"kind\":\"x\",\"a\":1}\n\nnot json\n{\"kind\":\"y\"}\n";
        let records = read_all(input);
        assert_eq!(records.len(), 3);
        let error = records[1].as_ref().unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.to_string().starts_with("test:3: "), "{error}");
        assert!(matches!(&records[2], Ok(Record::Other(line)) if line == "{\"kind\":\"y\"}"));
    }

    #[test]
    fn records_of_unknown_kinds_pass_through_byte_for_byte() {
        let line = "{\"kind\":\"contact\",  \"z\":[1,  2],\"a\":\"é\"}";
        let mut out = Vec::new();
        let mut writer = Writer::new(&mut out, Format::Jsonl);
        for record in read_all(&format!("{line}\r\n")) {
            writer.write(&record.unwrap()).unwrap();
        }
        writer.finish().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{line}\n"));
    }

    #[test]
    fn a_line_without_kind_is_an_error() {
        let records = read_all("{\"v\":1}\n");
        assert!(
            records[0]
                .as_ref()
                .unwrap_err()
                .reason
                .contains("no \"kind\"")
        );
    }

    #[test]
    fn a_message_record_with_a_wrong_field_type_names_the_field() {
        let records = read_all("{\"kind\":\"message\",\"id\":5}\n");
        let error = records[0].as_ref().unwrap_err();
        assert!(
            error.reason.starts_with("bad message record"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn warnings_are_printed_but_only_errors_are_counted() {
        let mut out = Vec::new();
        let mut sink = ErrorSink::new(&mut out, true);
        sink.warn("a.eml", "<id@x>", "no Date");
        sink.report(&ErrorRecord::new("b.eml", "cannot read"));
        assert_eq!(sink.count(), 1);
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["severity"], "warning");
        assert_eq!(lines[0]["message_id"], "<id@x>");
        assert_eq!(lines[1]["where"], "b.eml");
    }

    #[test]
    fn a_partial_read_skips_what_it_does_not_name_and_passes_other_kinds() {
        #[derive(serde::Deserialize)]
        struct Id {
            id: String,
        }
        let Ok(Partial::Message(head)) =
            partial::<Id>(br#"{"kind":"message","id":"m_1","text":"long","x":[1]}"#)
        else {
            panic!("a message");
        };
        assert_eq!(head.id, "m_1");
        assert!(matches!(
            partial::<Id>(br#"{"id":"m_2","kind":"message"}"#),
            Ok(Partial::Message(_))
        ));
        assert!(matches!(
            partial::<Id>(br#"{"kind":"contact"}"#),
            Ok(Partial::Other)
        ));
        assert!(partial::<Id>(br#"{"kind":"message"}"#).is_err());
        assert!(partial::<Id>(b"{oops").is_err());
    }

    #[test]
    fn a_line_written_as_json_is_copied_in_json_lines_and_read_in_text() {
        let line = br#"{"kind":"message","v":1,"id":"m_1","protocol":"email","account":"a","source":{"kind":"eml"},"blob":"sha256:00","native_id":"<a@b>","subject":"Hi"}"#;
        let mut out = Vec::new();
        let mut writer = Writer::new(&mut out, Format::Jsonl);
        writer.write_json(line).unwrap();
        writer.finish().unwrap();
        assert_eq!(out, [&line[..], b"\n"].concat());
        let mut text = Vec::new();
        let mut writer = Writer::new(&mut text, Format::Text);
        writer.write_json(line).unwrap();
        assert!(String::from_utf8(text).unwrap().ends_with("Hi\n"));
    }

    /// A record of another kind as `--format text` prints it.
    fn line(json: &str) -> String {
        let mut out = Vec::new();
        let mut writer = Writer::new(&mut out, Format::Text);
        writer.write(&Record::Other(json.into())).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn contacts_conversations_and_suggestions_have_readable_lines() {
        assert_eq!(
            line(
                r#"{"kind":"contact","id":"p_1","name":"Ann","identities":["email:a@x","twitter:@a"]}"#
            ),
            format!("p_1  {:<24}  email:a@x twitter:@a\n", "Ann")
        );
        let conversation = line(
            r#"{"kind":"conversation","id":"c_1","messages":3,"last_date":"2024-03-01T10:00:00Z","protocols":["email","mastodon"],"participants":[{"name":null,"identities":["email:a@x"]}]}"#,
        );
        assert!(
            conversation.starts_with("c_1      3 msg  2024-03-01T10:00  email,mastodon"),
            "{conversation}"
        );
        assert!(conversation.ends_with("email:a@x\n"), "{conversation}");
        assert_eq!(line(r#"{"kind":"x","a":1}"#), "{\"kind\":\"x\",\"a\":1}\n");
    }

    #[test]
    fn discovered_keys_and_failed_lookups_have_readable_lines() {
        assert_eq!(
            line(
                r#"{"kind":"key","fingerprint":"AB12","found":{"address":"a@x.org","method":"wkd","from":"https://x","outcome":"conflict"}}"#
            ),
            "a@x.org  wkd        conflict   AB12  https://x\n"
        );
        assert_eq!(
            line(
                r#"{"kind":"lookup","address":"a@x.org","method":"dane","outcome":"refused","reason":"bogus"}"#
            ),
            "a@x.org  dane       refused    bogus\n"
        );
    }

    #[test]
    fn deliveries_have_readable_lines() {
        assert_eq!(
            line(
                r#"{"kind":"delivery","v":1,"draft":"d_1","recipient":"email:bob@x.net","field":"to","channel":"pgp-mime","status":"sent","score":92,"grade":"A"}"#
            ),
            "email:bob@x.net  pgp-mime    sent     A  92\n"
        );
        assert_eq!(
            line(
                r#"{"kind":"delivery","v":1,"draft":"d_1","recipient":"email:c@x.org","field":"cc","channel":null,"status":"refused","reason":"not in clear"}"#
            ),
            "email:c@x.org  -           refused  -      (not in clear)\n"
        );
    }

    #[test]
    fn json_format_writes_one_array() {
        let mut out = Vec::new();
        let mut writer = Writer::new(&mut out, Format::Json);
        writer
            .write(&Record::Other("{\"kind\":\"a\"}".into()))
            .unwrap();
        writer
            .write(&Record::Other("{\"kind\":\"b\"}".into()))
            .unwrap();
        writer.finish().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value.as_array().unwrap().len(), 2);

        let mut empty = Vec::new();
        Writer::new(&mut empty, Format::Json).finish().unwrap();
        assert_eq!(empty, b"[]\n");
    }
}
