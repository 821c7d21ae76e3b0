//! The header block as Python's `email` package reads it (its feedparser, RFC 5322 strict
//! where it matters, and what DKIM/DMARC checkers and MTAs written on it take), to find the
//! fields the parsers disagree on. mail-parser is lenient where they are not: it reads
//! `From :`, `From\t:` and `:From:` as From, skips a form feed before a name, reads on past
//! a line that is no header field, and of two From fields takes the last where they take the
//! first. A sender who writes such a header can show the user one sender while the server
//! that checked the message saw another; the record takes Python's reading and names each
//! anomaly, for the privacy index to count against the message.

/// What every anomaly's problem text starts with, so the privacy index can tell them from
/// the record's other security problems.
pub const AMBIGUOUS_HEADER: &str = "ambiguous header: ";

/// The fields RFC 5322 §3.6 allows at most once.
const SINGLE_INSTANCE: &[&str] = &[
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "Bcc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Subject",
];

/// The header block's anomalies and, when there are any, the fields to read instead.
pub(crate) struct HeaderBlock {
    /// Each anomaly in words, starting with [`AMBIGUOUS_HEADER`].
    pub(crate) problems: Vec<String>,
    /// The first field of each single-instance name that Python takes as a header, each line
    /// ending in LF, then a blank line: a message for mail-parser to read those fields from.
    single_fields: Vec<u8>,
}

impl HeaderBlock {
    /// The single-instance fields as Python reads them, when mail-parser may read them
    /// otherwise (there is an anomaly); None when both read the same.
    pub(crate) fn disputed_fields(&self) -> Option<&[u8]> {
        (!self.problems.is_empty()).then_some(self.single_fields.as_slice())
    }
}

/// One physical line without its line end, and whether that end was a bare CR, where Python
/// breaks the line and mail-parser does not.
struct Line<'r> {
    text: &'r [u8],
    bare_cr: bool,
}

/// The lines of `raw` as Python splits them: at CRLF, CR or LF.
fn lines(raw: &[u8]) -> impl Iterator<Item = Line<'_>> {
    let mut rest = raw;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
        let text = &rest[..end];
        let (skip, bare_cr) = match (rest.get(end), rest.get(end + 1)) {
            (Some(b'\r'), Some(b'\n')) => (2, false),
            (Some(b'\r'), _) => (1, true),
            (Some(_), _) => (1, false),
            (None, _) => (0, false),
        };
        rest = &rest[end + skip..];
        Some(Line { text, bare_cr })
    })
}

/// Python's `headerRE`: an mbox `From ` line, a continuation, or a name of printable ASCII
/// but the colon (perhaps empty) followed by a colon.
fn is_header_line(line: &[u8]) -> bool {
    line.starts_with(b"From ")
        || line.starts_with(b" ")
        || line.starts_with(b"\t")
        || line
            .iter()
            .position(|&b| !(b'!'..=b'~').contains(&b) || b == b':')
            .is_some_and(|end| line[end] == b':')
}

/// `name WSP+ :`: an obsolete form (RFC 5322 §4.5) that mail-parser and MTAs read as `name`,
/// and Python does not.
fn blank_before_colon(line: &[u8]) -> bool {
    let Some(colon) = memchr::memchr(b':', line) else {
        return false;
    };
    let name = &line[..colon];
    let trimmed = name.trim_ascii_end();
    trimmed.len() < name.len()
        && !trimmed.is_empty()
        && trimmed.iter().all(|b| (b'!'..=b'~').contains(b))
}

/// The line as the problem quotes it: escaped, and cut after 60 characters.
fn quoted(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    let mut cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// Reads the header block of `raw` as Python's feedparser does, naming every line the
/// parsers read differently and every second single-instance field.
pub(crate) fn read(raw: &[u8]) -> HeaderBlock {
    let mut problems = Vec::new();
    let mut problem = |what: String| problems.push(format!("{AMBIGUOUS_HEADER}{what}"));

    // The header lines: up to the blank line, or to the first line that is no header field,
    // which Python makes the first line of the body.
    let mut header_lines: Vec<&[u8]> = Vec::new();
    for line in lines(raw) {
        if line.text.is_empty() {
            break;
        }
        if !is_header_line(line.text) {
            let why = if line.text.contains(&b'\x0c') {
                "holds a form feed"
            } else if blank_before_colon(line.text) {
                "has white space before the colon"
            } else {
                "is no header field"
            };
            problem(format!(
                "{} {why}: the headers end above it",
                quoted(line.text)
            ));
            break;
        }
        if line.bare_cr {
            problem(format!(
                "a bare CR ends {}: Python takes what follows as a new line",
                quoted(line.text)
            ));
        }
        if line.text.contains(&b'\x0c') {
            problem(format!("{} holds a form feed", quoted(line.text)));
        }
        header_lines.push(line.text);
    }

    // The fields, each its first line and continuations, as `_parse_headers` makes them.
    let mut fields: Vec<(&[u8], Vec<&[u8]>)> = Vec::new();
    let mut open = false;
    let last = header_lines.len().saturating_sub(1);
    for (number, line) in header_lines.iter().copied().enumerate() {
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            match fields.last_mut() {
                Some((_, lines)) if open => lines.push(line),
                _ => problem(format!("{} continues no field: ignored", quoted(line))),
            }
            continue;
        }
        open = false;
        if line.starts_with(b"From ") {
            // The mbox envelope line: Python drops it (at the end, into the body).
            if blank_before_colon(line) {
                problem(format!(
                    "{} has white space before the colon: not a From field",
                    quoted(line)
                ));
            } else if number > 0 {
                let place = if number == last { "ends" } else { "is inside" };
                problem(format!(
                    "{} is an mbox From_ line that {place} the headers: ignored",
                    quoted(line)
                ));
            }
            continue;
        }
        match memchr::memchr(b':', line) {
            Some(0) | None => problem(format!("{} has no field name: ignored", quoted(line))),
            Some(colon) => {
                fields.push((&line[..colon], vec![line]));
                open = true;
            }
        }
    }

    let mut single_fields = Vec::new();
    for name in SINGLE_INSTANCE {
        let mut named = fields
            .iter()
            .filter(|(field, _)| field.eq_ignore_ascii_case(name.as_bytes()));
        if let Some((_, lines)) = named.next() {
            for line in lines {
                single_fields.extend_from_slice(line);
                single_fields.push(b'\n');
            }
        }
        let more = named.count();
        if more > 0 {
            problem(format!(
                "{} {name} fields, where RFC 5322 allows one: the first is kept",
                more + 1
            ));
        }
    }
    single_fields.push(b'\n');
    HeaderBlock {
        problems,
        single_fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(raw: &str) -> Vec<String> {
        read(raw.as_bytes())
            .problems
            .into_iter()
            .map(|p| p.trim_start_matches(AMBIGUOUS_HEADER).to_string())
            .collect()
    }

    fn fields(raw: &str) -> Option<String> {
        read(raw.as_bytes())
            .disputed_fields()
            .map(|f| String::from_utf8_lossy(f).into_owned())
    }

    const HONEST: &str = "From: Alice <a@example.org>\nTo: b@example.net\nSubject: hi\n\nbody\n";

    #[test]
    fn an_honest_header_block_has_nothing_disputed() {
        assert_eq!(problems(HONEST), Vec::<String>::new());
        assert_eq!(fields(HONEST), None);
        // The envelope line an mbox leaves on top is Python's unixfrom, no anomaly.
        assert_eq!(
            problems(&format!(
                "From a@example.org Mon Jan  1 00:00:00 2024\n{HONEST}"
            )),
            Vec::<String>::new()
        );
        // A folded field is one field.
        assert_eq!(
            problems("Subject: a\n\tb\nFrom: a@x\n\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_second_single_instance_field_is_named_and_the_first_kept() {
        let raw = "From: Alice <a@example.org>\nTo: b@example.net\nfrom: M <m@evil.example>\n\n";
        assert_eq!(
            problems(raw),
            ["2 From fields, where RFC 5322 allows one: the first is kept"]
        );
        assert_eq!(
            fields(raw).as_deref(),
            Some("From: Alice <a@example.org>\nTo: b@example.net\n\n")
        );
    }

    #[test]
    fn white_space_before_the_colon_ends_the_headers_or_is_an_envelope_line() {
        let raw = "From: Alice <a@example.org>\nSubject : evil\nSubject: hi\n\n";
        assert_eq!(
            problems(raw),
            ["\"Subject : evil\" has white space before the colon: the headers end above it"]
        );
        assert_eq!(
            fields(raw).as_deref(),
            Some("From: Alice <a@example.org>\n\n")
        );
        let raw = "To: b@example.net\nFrom : M <m@evil.example>\n\n";
        assert_eq!(
            problems(raw),
            ["\"From : M <m@evil.example>\" has white space before the colon: not a From field"]
        );
        assert_eq!(fields(raw).as_deref(), Some("To: b@example.net\n\n"));
        assert_eq!(
            problems("From: a@x\nFrom\t: m@evil.example\n\n"),
            [
                "\"From\\t: m@evil.example\" has white space before the colon: the headers end above it"
            ]
        );
    }

    #[test]
    fn a_form_feed_a_missing_name_and_a_bare_cr_are_named() {
        assert_eq!(
            problems("From: a@x\n\u{c}From: m@evil.example\n\n"),
            ["\"\\u{c}From: m@evil.example\" holds a form feed: the headers end above it"]
        );
        assert_eq!(
            problems("From: a@x\n:From: m@evil.example\n\tmore\n\n"),
            [
                "\":From: m@evil.example\" has no field name: ignored",
                "\"\\tmore\" continues no field: ignored"
            ]
        );
        let raw = "From: a@x\r\nTo: b@x\rFrom: m@evil.example\r\n\r\n";
        assert_eq!(
            problems(raw),
            [
                "a bare CR ends \"To: b@x\": Python takes what follows as a new line",
                "2 From fields, where RFC 5322 allows one: the first is kept"
            ]
        );
        assert_eq!(fields(raw).as_deref(), Some("From: a@x\nTo: b@x\n\n"));
    }

    #[test]
    fn an_mbox_from_line_inside_the_headers_is_named() {
        assert_eq!(
            problems("From: a@x\nFrom m@evil.example Mon Jan  1 00:00:00 2024\nTo: b@x\n\n"),
            [
                "\"From m@evil.example Mon Jan  1 00:00:00 2024\" is an mbox From_ line that is inside the headers: ignored"
            ]
        );
    }
}
