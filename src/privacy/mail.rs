//! `missive score --mail`: writes one raw RFC 5322 message back byte for byte with an
//! `X-Missive-Privacy` header added, for mail filters (procmail `:0 fw`, maildrop `xfilter`,
//! Sieve `filter`). Reading the message into a record is [`crate::email::read`]; the score is
//! [`super::message::score_in`], with the store asked as `missive score` asks it
//! ([`super::circle`]), so a mail scores the same here as through `fetch eml:- | score`.
//!
//! A filter must never lose mail, and mail delivery gives it almost no environment: a
//! message that cannot be read still comes back whole with `grade=unknown`; a config that
//! cannot be used scores from the message alone (`config=unusable`); a store that cannot be
//! read at once (a `sync` writing it, a newer schema) is skipped (`store=locked`,
//! `store=unusable`), never waited for. An mbox `From ` envelope line, which procmail passes
//! to its filters, stays the first line and the header goes right after it, at the top of
//! the header section. `X-Missive-Privacy` fields the mail came with are the sender's word
//! and are removed unless the user keeps them.

use std::io::{self, Write};
use std::path::Path;
use std::time::SystemTime;

use super::circle::{self, Circle, Circles};
use crate::config::Config;
use crate::fault::Fault;
use crate::record::{Grade, Message, Privacy, message_id};
use crate::store::Store;

/// The name of the header this module adds (and removes from what the sender wrote).
pub const HEADER: &str = "X-Missive-Privacy";

/// What a mail is scored with besides its own bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// The config; `None` when it could not be used: the mail is then scored with the
    /// default one and the header says `config=unusable`.
    pub config: Option<&'a Config>,
    /// The store to ask about the mail's people, as `missive score` does: its directory,
    /// when it exists and the user did not decline it (`--record-only`).
    pub store: Option<&'a Path>,
    /// Check an OpenPGP signature against the store's keys (`--verify`).
    pub verify: bool,
    /// Keep the `X-Missive-Privacy` fields the mail came with (`--keep-foreign`).
    pub keep_foreign: bool,
    /// The account the record is given, as `fetch eml:-` names it, so that the score and
    /// the store's answers are those of the record path.
    pub account: &'a str,
}

/// What [`filter`] wrote without: the store it could not read, also noted in the header.
#[derive(Debug, Default)]
pub struct Filtered {
    pub store_error: Option<circle::Error>,
}

/// Writes `raw` to `out` with the header added at the top of its header section, ended as
/// the message's first line is (CRLF or LF), and flushes. Only an error writing `out` is an
/// error: then the mail was not handed back.
pub fn filter<W: Write>(raw: &[u8], with: &Filter, out: &mut W) -> io::Result<Filtered> {
    let (envelope, message) = split_envelope(raw);
    let stripped;
    let message = if with.keep_foreign {
        message
    } else {
        stripped = strip_header(message);
        &stripped[..]
    };
    let default = Config::default();
    let mut notes = Vec::new();
    if with.config.is_none() {
        notes.push("config=unusable");
    }
    let config = with.config.unwrap_or(&default);
    let mut filtered = Filtered::default();
    let mut value = match readable(message, with.account) {
        None => "grade=unknown".to_string(),
        Some(mut record) => {
            let circle = match with.store {
                Some(dir) => match ask_store(dir, &mut record, message, with.verify, config) {
                    Ok(circle) => Some(circle),
                    Err(error) => {
                        notes.push(if error.is_transient() {
                            "store=locked"
                        } else {
                            "store=unusable"
                        });
                        filtered.store_error = Some(error);
                        None
                    }
                },
                None => {
                    if with.verify {
                        notes.push("store=none");
                    }
                    None
                }
            };
            scored(&super::message::score_in(&record, config, circle.as_ref()))
        }
    };
    for note in notes {
        value.push_str("; ");
        value.push_str(note);
    }
    let ending: &[u8] = match first_line_ending(message).or_else(|| first_line_ending(envelope)) {
        Some(ending) => ending,
        None => b"\n",
    };
    // A message that starts with white space would make its first line a continuation of
    // the added field: the header goes after those lines, so the rest parses as it did.
    let leading = leading_continuation(message);
    let (before, after) = message.split_at(leading);
    out.write_all(envelope)?;
    out.write_all(before)?;
    if !before.is_empty() && !before.ends_with(b"\n") {
        out.write_all(ending)?;
    }
    out.write_all(HEADER.as_bytes())?;
    out.write_all(b": ")?;
    out.write_all(value.as_bytes())?;
    out.write_all(ending)?;
    out.write_all(after)?;
    out.flush()?;
    Ok(filtered)
}

/// The record of `message` as `fetch eml:-` makes it (in `account`), or `None` when it
/// cannot be read as a message.
fn readable(message: &[u8], account: &str) -> Option<Message> {
    if !starts_with_field(message) {
        return None;
    }
    let mut record = crate::email::read(message);
    if crate::email::is_unreadable(&record) {
        return None;
    }
    record.account = account.to_string();
    record.id = message_id(&record.protocol, &record.account, &record.native_id);
    Some(record)
}

/// The store's word on `record`, read only: its signature checked with `verify`, and the
/// circle of its people.
fn ask_store(
    dir: &Path,
    record: &mut Message,
    raw: &[u8],
    verify: bool,
    config: &Config,
) -> Result<Circle, circle::Error> {
    let store = Store::open_read_only(dir)?;
    if verify
        && record.security.signed.is_some()
        && let Some(state) = crate::keys::verify::check(
            &store,
            raw,
            record.from.as_ref().map(|a| a.address.as_str()),
            SystemTime::now(),
        )
    {
        record.security.signature = state;
    }
    let index_dir = dir.join("index");
    let index = index_dir
        .exists()
        .then(|| crate::store::index::MessageIndex::open(&index_dir))
        .transpose()?;
    Circles::new(store, index.as_ref(), config)?.of(record)
}

/// The header's value for a score: `score=63; grade=B; technic=80; context=55;
/// comportment=55`.
fn scored(privacy: &Privacy) -> String {
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

/// The length of the lines at the start of `message` that begin with a space or a tab.
fn leading_continuation(message: &[u8]) -> usize {
    let mut at = 0;
    while message.get(at).is_some_and(|&b| b == b' ' || b == b'\t') {
        at = memchr::memchr(b'\n', &message[at..]).map_or(message.len(), |i| at + i + 1);
    }
    at
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

    fn annotated(raw: &[u8], keep_foreign: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let config = Config::default();
        let with = Filter {
            config: Some(&config),
            keep_foreign,
            ..Filter::default()
        };
        filter(raw, &with, &mut out).unwrap();
        out
    }

    /// The added header's value.
    fn header_value(raw: &[u8], with: &Filter) -> String {
        let mut out = Vec::new();
        filter(raw, with, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let line = out.lines().find(|l| l.starts_with(HEADER)).unwrap();
        line[HEADER.len() + 2..].to_string()
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
        let out = annotated(raw, true);
        let (first, rest) = out.split_at(raw.iter().position(|&b| b == b'\n').unwrap() + 1);
        assert_eq!(first, &raw[..first.len()]);
        assert!(rest.starts_with(b"X-Missive-Privacy: score="), "{rest:?}");
        assert!(out.ends_with(&raw[first.len()..]));
    }

    #[test]
    fn something_that_is_not_a_message_is_graded_unknown_and_kept() {
        for raw in [&b""[..], b"\n", b"just some words\n", b"\x00\xff\xfe"] {
            let out = annotated(raw, false);
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
            let value = header_value(raw, &Filter::default());
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
    fn a_forged_header_is_removed_unless_kept_and_an_unusable_config_is_noted() {
        let raw = b"X-Missive-Privacy: score=100;\n grade=A\nFrom: a@example.org\n\nhi\n";
        let out = annotated(raw, false);
        assert!(out.ends_with(b"\nFrom: a@example.org\n\nhi\n"), "{out:?}");
        assert_eq!(
            out.windows(HEADER.len())
                .filter(|w| w == &HEADER.as_bytes())
                .count(),
            1
        );
        assert!(annotated(raw, true).ends_with(raw));
        let value = header_value(raw, &Filter::default());
        assert!(
            value.starts_with("score=") && value.ends_with("; config=unusable"),
            "{value}"
        );
    }

    #[test]
    fn a_message_starting_with_white_space_keeps_its_first_lines_first() {
        // (input, what comes before the added line, what comes after it)
        for (raw, before, after) in [
            (
                &b" folded\n\tagain\nFrom: a@example.org\n\nhi\n"[..],
                &b" folded\n\tagain\n"[..],
                &b"From: a@example.org\n\nhi\n"[..],
            ),
            (
                b" a\r\nFrom: a@example.org\r\n\r\n",
                b" a\r\n",
                b"From: a@example.org\r\n\r\n",
            ),
            // The one case where a byte is added: a line end before the field.
            (b"\tno line end", b"\tno line end\n", b""),
        ] {
            let out = annotated(raw, false);
            assert!(out.starts_with(before) && out.ends_with(after), "{out:?}");
            let added = &out[before.len()..out.len() - after.len()];
            assert!(added.starts_with(b"X-Missive-Privacy: grade="), "{out:?}");
            assert_eq!(
                memchr::memchr(b'\n', added),
                Some(added.len() - 1),
                "{out:?}"
            );
        }
    }

    #[test]
    fn a_field_name_may_be_followed_by_obsolete_white_space() {
        assert!(starts_with_field(b"Subject : x\n"));
        assert!(!starts_with_field(b"no colon here\n"));
        assert!(!starts_with_field(b": empty name\n"));
    }
}
