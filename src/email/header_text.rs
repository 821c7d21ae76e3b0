//! Raw header text as received: the fields of a name, unfolded (RFC 5322 §2.2.3), and the
//! lexical pieces (comments, quoted strings, §3.2) that Received, Authentication-Results
//! and Autocrypt parsing share. mail-parser's structured forms drop the comments, where
//! servers put the facts we need.

use mail_parser::HeaderName;

/// The top-level header fields called `name`, each with its place in the header block (0
/// for the topmost field, of any name) and its value unfolded. The place tells which of two
/// fields a server added after the other (RFC 5321 §4.4: trace fields go on top).
///
/// Bytes that are not UTF-8 become U+FFFD rather than losing the header, which
/// `headers_raw` would.
pub(crate) fn headers<'m>(
    message: &'m mail_parser::Message<'_>,
    name: &'m str,
) -> impl Iterator<Item = (u32, String)> + 'm {
    let raw: &[u8] = &message.raw_message;
    message
        .parts
        .first()
        .map(|part| part.headers.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .filter(move |(_, header)| is_named(&header.name, name))
        .map(move |(position, header)| {
            let bytes = raw
                .get(header.offset_start as usize..header.offset_end as usize)
                .unwrap_or_default();
            (
                u32::try_from(position).unwrap_or(u32::MAX),
                unfold(&String::from_utf8_lossy(bytes)),
            )
        })
}

fn is_named(header: &HeaderName<'_>, name: &str) -> bool {
    header.as_str().eq_ignore_ascii_case(name)
}

/// Joins folded lines: each line break and the white space after it become one space, so
/// the evidence reads as one line.
pub(crate) fn unfold(raw: &str) -> String {
    let raw = raw.trim();
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find(['\r', '\n']) {
        out.push_str(rest[..at].trim_end_matches([' ', '\t']));
        out.push(' ');
        rest = rest[at..].trim_start_matches(|c: char| c.is_ascii_whitespace());
    }
    out.push_str(rest);
    out
}

/// The offset just past the comment opening at `start`, honouring nesting and `\` escapes.
pub(crate) fn comment_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut at = start;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        match byte {
            b'\\' => at += 1,
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return at;
                }
            }
            _ => {}
        }
    }
    bytes.len()
}

/// The offset just past the quoted string opening at `start`.
pub(crate) fn quote_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        match byte {
            b'\\' => at += 1,
            b'"' => return at.min(bytes.len()),
            _ => {}
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_on_both_sides_of_a_fold_becomes_one_space() {
        assert_eq!(unfold("a \r\n\t b\n c\r\n"), "a b c");
    }

    #[test]
    fn comments_nest_and_escape() {
        let text = br"(a (b) \) c) rest";
        assert_eq!(comment_end(text, 0), 12);
        assert_eq!(
            comment_end(b"(open", 0),
            5,
            "an unclosed comment ends the text"
        );
        assert_eq!(quote_end(br#""a \" b" c"#, 0), 8);
    }
}
