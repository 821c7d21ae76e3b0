//! `missive score --mail`: writes one raw RFC 5322 message back byte for byte with an
//! `X-Missive-Privacy` header in front, for mail filters (procmail `:0 fw`, maildrop
//! `xfilter`, Sieve `filter`). Reading the message into a record is [`crate::email::read`];
//! the score is [`super::message::score`].
//!
//! A filter must never lose mail: a message that cannot be read still comes back whole, with
//! `grade=unknown`. An mbox `From ` envelope line, which procmail passes to its filters, stays
//! the first line and the header goes right after it, at the top of the header section.

use std::io::{self, Write};

use crate::config::Config;
use crate::record::Grade;

/// The name of the header this module adds (and `strip` removes).
pub const HEADER: &str = "X-Missive-Privacy";

/// The header's value for a message: `score=63; grade=B; technic=80; context=55;
/// comportment=55`, or `grade=unknown` when it cannot be read as a message.
pub fn header_value(message: &[u8], config: &Config) -> String {
    if !starts_with_field(message) {
        return "grade=unknown".into();
    }
    let record = crate::email::read(message);
    if crate::email::is_unreadable(&record) {
        return "grade=unknown".into();
    }
    let privacy = super::score(&record, config);
    let grade = match privacy.grade {
        Grade::A => 'A',
        Grade::B => 'B',
        Grade::C => 'C',
        Grade::D => 'D',
        Grade::E => 'E',
    };
    format!(
        "score={}; grade={grade}; technic={}; context={}; comportment={}",
        privacy.score, privacy.technic, privacy.context, privacy.comportment
    )
}

/// Writes `raw` to `out` with the header added in front of its header section, ended as the
/// message's first line is (CRLF or LF). With `strip`, every `X-Missive-Privacy` field already
/// in the header section, continuation lines included, is left out first: a sender can forge
/// one.
pub fn annotate<W: Write>(raw: &[u8], strip: bool, config: &Config, out: &mut W) -> io::Result<()> {
    let (envelope, message) = split_envelope(raw);
    let stripped;
    let message = if strip {
        stripped = strip_header(message);
        &stripped[..]
    } else {
        message
    };
    let ending: &[u8] = match first_line_ending(message).or_else(|| first_line_ending(envelope)) {
        Some(ending) => ending,
        None => b"\n",
    };
    out.write_all(envelope)?;
    out.write_all(HEADER.as_bytes())?;
    out.write_all(b": ")?;
    out.write_all(header_value(message, config).as_bytes())?;
    out.write_all(ending)?;
    out.write_all(message)?;
    out.flush()
}

/// The mbox `From ` line (with its line end) and the message after it.
fn split_envelope(raw: &[u8]) -> (&[u8], &[u8]) {
    if raw.starts_with(b"From ") {
        let end = memchr::memchr(b'\n', raw).map_or(raw.len(), |i| i + 1);
        raw.split_at(end)
    } else {
        (&[], raw)
    }
}

/// `\r\n` or `\n`, as the first line ends; `None` when there is no line end.
fn first_line_ending(bytes: &[u8]) -> Option<&'static [u8]> {
    let newline = memchr::memchr(b'\n', bytes)?;
    Some(if newline > 0 && bytes[newline - 1] == b'\r' {
        b"\r\n"
    } else {
        b"\n"
    })
}

/// Whether the first line is a header field: a name of printable characters other than
/// `:`, then optional white space and `:` (RFC 5322 §2.2, with the obsolete space).
fn starts_with_field(message: &[u8]) -> bool {
    let name_len = message
        .iter()
        .take_while(|&&b| (33..=126).contains(&b) && b != b':')
        .count();
    name_len > 0
        && message[name_len..]
            .iter()
            .find(|&&b| b != b' ' && b != b'\t')
            == Some(&b':')
}

/// Whether `line` starts an `X-Missive-Privacy` field.
fn is_our_field(line: &[u8]) -> bool {
    let name = HEADER.as_bytes();
    line.len() > name.len()
        && line[..name.len()].eq_ignore_ascii_case(name)
        && line[name.len()..]
            .iter()
            .find(|&&b| b != b' ' && b != b'\t')
            == Some(&b':')
}

/// The message without the `X-Missive-Privacy` fields of its header section; the body and
/// every other byte are kept.
fn strip_header(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len());
    let mut rest = message;
    let mut dropping = false;
    while !rest.is_empty() {
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let (line, after) = rest.split_at(end);
        if line == b"\n" || line == b"\r\n" {
            // The blank line ends the header section: the rest is the body, as it is.
            out.extend_from_slice(rest);
            return out;
        }
        let continuation = line.first().is_some_and(|&b| b == b' ' || b == b'\t');
        if !continuation {
            dropping = is_our_field(line);
        }
        if !dropping {
            out.extend_from_slice(line);
        }
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotated(raw: &[u8], strip: bool) -> Vec<u8> {
        let mut out = Vec::new();
        annotate(raw, strip, &Config::default(), &mut out).unwrap();
        out
    }

    #[test]
    fn strip_removes_every_copy_with_its_continuation_lines_from_the_header_only() {
        let raw = b"x-missive-privacy : score=100; grade=A\r\n\tforged=yes\r\nFrom: a@example.org\r\nX-Missive-Privacy: grade=A\r\nX-Missive-Privacy-Other: kept\r\n\r\nX-Missive-Privacy: in the body\r\n";
        assert_eq!(
            strip_header(raw),
            b"From: a@example.org\r\nX-Missive-Privacy-Other: kept\r\n\r\nX-Missive-Privacy: in the body\r\n"
        );
    }

    #[test]
    fn the_header_goes_after_an_mbox_envelope_line() {
        let raw = b"From alice@example.org Mon Jan  1 10:00:00 2024\nFrom: alice@example.org\nTo: bob@example.net\n\nhi\n";
        let out = annotated(raw, false);
        let (first, rest) = out.split_at(raw.iter().position(|&b| b == b'\n').unwrap() + 1);
        assert_eq!(first, &raw[..first.len()]);
        assert!(rest.starts_with(b"X-Missive-Privacy: score="), "{rest:?}");
        assert!(out.ends_with(&raw[first.len()..]));
    }

    #[test]
    fn something_that_is_not_a_message_is_graded_unknown_and_kept() {
        for raw in [&b""[..], b"\n", b"just some words\n", b"\x00\xff\xfe"] {
            let out = annotated(raw, true);
            let header = b"X-Missive-Privacy: grade=unknown\n";
            assert!(out.starts_with(header), "{out:?}");
            assert_eq!(&out[header.len()..], raw);
        }
    }

    #[test]
    fn a_spam_header_lowers_the_context_of_the_added_header() {
        let clean = b"From: a@example.org\nTo: b@example.net\n\nhi\n";
        let spam = b"X-Spam-Status: Yes, score=9.0 required=5.0\nFrom: a@example.org\nTo: b@example.net\n\nhi\n";
        let context = |raw: &[u8]| {
            let value = header_value(raw, &Config::default());
            value
                .split("; ")
                .find_map(|p| p.strip_prefix("context=").map(str::to_string))
                .and_then(|n| n.parse::<i32>().ok())
                .expect("a context")
        };
        assert_eq!(
            context(spam),
            context(clean) + crate::privacy::factors::SPAM.points
        );
    }

    #[test]
    fn a_field_name_may_be_followed_by_obsolete_white_space() {
        assert!(starts_with_field(b"Subject : x\n"));
        assert!(!starts_with_field(b"no colon here\n"));
        assert!(!starts_with_field(b": empty name\n"));
    }
}
