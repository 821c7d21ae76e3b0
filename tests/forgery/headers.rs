//! Headers the parsers read differently, each smuggled in as an attacker
//! would, beside the honest message, through the real binary (`fetch eml:-` then `score`).
//! The record must take what Python's `email` package takes (checked against
//! `/usr/bin/python3` when there is one), `security.problems` must name the anomaly, and the
//! trick must not score above the honest message.

use serde_json::Value;

use super::transport::{score, scored};
use crate::support::Home;

/// The honest message: Alice writes to Bob.
const HONEST: &str = "From: Alice <alice@example.org>\n\
    To: bob@example.net\n\
    Subject: lunch\n\
    Date: Mon, 01 Jan 2024 10:00:00 +0000\n\
    Message-ID: <honest@example.org>\n\
    \n\
    hello\n";

/// The honest message with `line` put in before header number `at` (0 for the top).
fn smuggled(at: usize, line: &str) -> Vec<u8> {
    let mut lines: Vec<&str> = HONEST.split_inclusive('\n').collect();
    lines.insert(at, line);
    lines.concat().into_bytes()
}

/// What Python's `email` package (policy `default`, then `compat32`) takes as `field`, or
/// None without Python; the two policies must agree.
fn python(raw: &[u8], field: &str) -> Option<String> {
    let python = std::path::Path::new("/usr/bin/python3");
    if !python.exists() {
        return None;
    }
    let script = format!(
        "import email, email.policy, sys\n\
         raw = sys.stdin.buffer.read()\n\
         for policy in (email.policy.default, email.policy.compat32):\n\
         \x20   m = email.message_from_bytes(raw, policy=policy)\n\
         \x20   print(m[{field:?}])\n"
    );
    let output = assert_cmd::Command::new(python)
        .args(["-c", &script])
        .write_stdin(raw.to_vec())
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let (default, compat32) = text.trim_end().split_once('\n').expect("two lines");
    assert_eq!(default, compat32, "the two policies disagree on {field}");
    Some(default.to_string())
}

/// The record's `field` written as Python prints the header (`Name <address>`).
fn recorded(record: &Value, field: &str) -> String {
    let address = |a: &Value| match a["name"].as_str() {
        Some(name) => format!("{name} <{}>", a["address"].as_str().unwrap_or_default()),
        None => a["address"].as_str().unwrap_or_default().to_string(),
    };
    match field {
        "From" => record["from"]
            .as_object()
            .map_or("None".into(), |_| address(&record["from"])),
        "To" => {
            let to: Vec<String> = record["to"]
                .as_array()
                .expect("to")
                .iter()
                .map(address)
                .collect();
            if to.is_empty() {
                "None".into()
            } else {
                to.join(", ")
            }
        }
        "Subject" => record["subject"].as_str().unwrap_or("None").to_string(),
        "Message-ID" => record["native_id"].as_str().expect("an id").to_string(),
        "Date" => record["date"].as_str().unwrap_or("None").to_string(),
        other => panic!("no field {other}"),
    }
}

fn problems(record: &Value) -> Vec<&str> {
    record["security"]["problems"]
        .as_array()
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Plays `trick` beside the honest message: the record holds `expected` for each field,
/// which Python takes too, one problem names `anomaly`, the `ambiguous_headers` factor
/// applies, and the trick scores no higher.
fn assert_trick(trick: &[u8], expected: &[(&str, &str)], anomaly: &str) {
    let home = Home::new();
    let honest = scored(&home, HONEST.as_bytes());
    assert_eq!(problems(&honest), Vec::<&str>::new(), "{honest}");
    let record = scored(&home, trick);
    let text = String::from_utf8_lossy(trick);
    for (field, value) in expected {
        assert_eq!(
            recorded(&record, field),
            *value,
            "{field} of\n{text}\n{record}"
        );
        if let Some(python) = python(trick, field) {
            assert_eq!(python, *value, "Python's {field} of\n{text}");
        }
    }
    assert!(
        problems(&record)
            .iter()
            .any(|p| p.starts_with("ambiguous header: ") && p.contains(anomaly)),
        "no problem names {anomaly:?}: {record}"
    );
    let factor = record["privacy"]["factors"]
        .as_array()
        .expect("factors")
        .iter()
        .find(|f| f["name"] == "ambiguous_headers")
        .unwrap_or_else(|| panic!("no ambiguous_headers factor: {record}"));
    assert!(factor["points"].as_i64() < Some(0));
    assert!(
        factor["evidence"]
            .as_str()
            .is_some_and(|e| e.contains(anomaly))
    );
    assert!(score(&record) < score(&honest), "{record}\n{honest}");
}

const ALICE: (&str, &str) = ("From", "Alice <alice@example.org>");
const MALLORY: &str = "Mallory <mallory@evil.example>";

#[test]
fn a_second_from_below_the_first_is_not_the_sender() {
    // mail-parser alone takes the last From: Mallory's.
    let trick = smuggled(2, &format!("From: {MALLORY}\n"));
    assert_trick(&trick, &[ALICE], "2 From fields");
}

#[test]
fn a_second_from_above_the_first_is_the_sender_and_named() {
    // Python and the MTAs take the first; the anomaly costs what the sender gained.
    let trick = smuggled(0, &format!("From: {MALLORY}\n"));
    assert_trick(&trick, &[("From", MALLORY)], "2 From fields");
}

#[test]
fn a_from_with_white_space_before_the_colon_is_not_the_sender() {
    // mail-parser reads `From :` as From (and takes it, being the last); Python reads an
    // mbox envelope line and drops it.
    let trick = smuggled(2, &format!("From : {MALLORY}\n"));
    assert_trick(&trick, &[ALICE], "white space before the colon");
}

#[test]
fn a_tab_or_form_feed_before_the_colon_ends_the_headers() {
    // Python ends the header block there: the Subject below is body to it.
    let trick = smuggled(2, &format!("From\t: {MALLORY}\n"));
    assert_trick(
        &trick,
        &[ALICE, ("Subject", "None")],
        "white space before the colon: the headers end above it",
    );
    let trick = smuggled(2, &format!("From\u{c}: {MALLORY}\n"));
    assert_trick(&trick, &[ALICE, ("Subject", "None")], "holds a form feed");
}

#[test]
fn a_form_feed_before_the_name_ends_the_headers() {
    // mail-parser skips the form feed and reads From.
    let trick = smuggled(2, &format!("\u{c}From: {MALLORY}\n"));
    assert_trick(&trick, &[ALICE], "holds a form feed");
}

#[test]
fn a_leading_colon_is_no_from_field() {
    // mail-parser drops the colon and reads From.
    let trick = smuggled(2, &format!(":From: {MALLORY}\n"));
    assert_trick(&trick, &[ALICE], "has no field name");
}

#[test]
fn a_second_to_subject_date_or_message_id_keeps_the_first() {
    let trick = smuggled(3, "To: everyone@evil.example\n");
    assert_trick(&trick, &[("To", "bob@example.net")], "2 To fields");
    let trick = smuggled(3, "Subject: Your invoice\n");
    assert_trick(&trick, &[("Subject", "lunch")], "2 Subject fields");
    let trick = smuggled(5, "Message-ID: <forged@example.org>\n");
    assert_trick(
        &trick,
        &[("Message-ID", "<honest@example.org>")],
        "2 Message-ID fields",
    );
    let home = Home::new();
    let record = scored(
        &home,
        &smuggled(5, "Date: Tue, 01 Jan 2030 10:00:00 +0000\n"),
    );
    assert_eq!(record["date"], "2024-01-01T10:00:00Z", "{record}");
    assert!(problems(&record).contains(
        &"ambiguous header: 2 Date fields, where RFC 5322 allows one: the first is kept"
    ));
}
