//! The privacy index (DESIGN §3): how exposed a message is, on three axes, with every point
//! explained by a named factor.
//!
//! [`factors`] is the one table of factors and points; [`message`] scores a message record
//! against it, believing transport facts only above its [`boundary`]; [`mail`] writes the score into a raw message for mail filters (procmail,
//! maildrop, Sieve). [`score_stream`] is `missive score`: records in, records with `privacy`
//! out. Parsing mail lives in [`crate::email`]; streaming records in [`crate::jsonl`].

pub mod boundary;
pub mod circle;
pub mod contact;
pub mod device;
pub mod factors;
pub mod mail;
pub mod message;
pub mod user;

use std::io::{BufRead, Write};

use crate::config::Config;
use crate::jsonl::{ErrorSink, Reader, Writer};
use crate::record::Record;

pub use message::score;

/// The error returned by [`score_stream`] when its output cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot write records")]
    Write(#[from] std::io::Error),
    #[error(transparent)]
    Circle(#[from] circle::Error),
}

/// Suggestions from changed facts, each scored again: the gain is the new score minus
/// `base`, only gains are kept, best first (ties by action, for stable output).
pub(crate) fn ranked<F, W: Into<String>>(
    base: u8,
    changes: Vec<(F, String, W)>,
    evaluate: impl Fn(&F) -> crate::record::Privacy,
) -> Vec<crate::record::Suggestion> {
    let mut suggestions: Vec<crate::record::Suggestion> = changes
        .into_iter()
        .map(|(changed, action, why)| crate::record::Suggestion {
            gain: i32::from(evaluate(&changed).score) - i32::from(base),
            action,
            why: why.into(),
        })
        .filter(|s| s.gain > 0)
        .collect();
    suggestions.sort_by(|a, b| b.gain.cmp(&a.gain).then_with(|| a.action.cmp(&b.action)));
    suggestions
}

/// What [`score_stream`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Message records scored.
    pub scored: u64,
    /// Records of other kinds written unchanged.
    pub passed: u64,
    /// Lines that were not records, each reported to the error sink.
    pub failed: u64,
}

/// `missive score`: reads records, adds `privacy` to each message record (replacing one it
/// had), writes every other record as it came, and reports each bad line with its number
/// without stopping. One record is held at a time. `prepare` sees each message first (the
/// binary checks signatures there with `--verify`) and gives the message's [`circle`] when
/// the store is asked.
pub fn score_stream<R: BufRead, W: Write, E: Write>(
    reader: &mut Reader<R>,
    writer: &mut Writer<W>,
    errors: &mut ErrorSink<E>,
    config: &Config,
    prepare: &mut dyn FnMut(
        &mut crate::record::Message,
    ) -> Result<Option<circle::Circle>, circle::Error>,
) -> Result<Summary, Error> {
    let mut summary = Summary::default();
    for record in reader {
        match record {
            Ok(Record::Message(mut message)) => {
                let circle = prepare(&mut message)?;
                message.privacy = Some(message::score_in(&message, config, circle.as_ref()));
                writer.write(&Record::Message(message))?;
                summary.scored += 1;
            }
            Ok(other) => {
                writer.write(&other)?;
                summary.passed += 1;
            }
            Err(error) => {
                errors.report(&error.to_record());
                summary.failed += 1;
            }
        }
    }
    writer.finish()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonl::Format;

    #[test]
    fn messages_get_privacy_other_kinds_pass_and_bad_lines_are_reported_by_number() {
        let input = concat!(
            r#"{"kind":"message","v":1,"id":"m_1","protocol":"email","account":"a","source":{"kind":"eml"},"blob":"sha256:00","native_id":"<a@b>","mine":true}"#,
            "\n",
            "{oops\n",
            r#"{"kind":"contact",  "id":"c_1"}"#,
            "\n",
        );
        let mut reader = Reader::new(input.as_bytes(), "stdin");
        let mut out = Vec::new();
        let mut writer = Writer::new(&mut out, Format::Jsonl);
        let mut err = Vec::new();
        let mut errors = ErrorSink::new(&mut err, false);
        let summary = score_stream(
            &mut reader,
            &mut writer,
            &mut errors,
            &Config::default(),
            &mut |_| Ok(None),
        )
        .unwrap();
        assert_eq!(
            summary,
            Summary {
                scored: 1,
                passed: 1,
                failed: 1
            }
        );
        assert_eq!(errors.count(), 1);
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        let message: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert!(message["privacy"]["score"].is_u64());
        assert_eq!(message["mine"], true);
        assert_eq!(lines[1], r#"{"kind":"contact",  "id":"c_1"}"#);
        assert!(
            String::from_utf8(err)
                .unwrap()
                .starts_with("missive: stdin:2: ")
        );
    }
}
