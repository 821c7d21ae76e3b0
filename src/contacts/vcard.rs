//! Reads vCard files as clients write them, 2.1 (phones, Outlook), 3.0 (RFC 2426) and 4.0
//! (RFC 6350), into cards of identities, with every problem found named by its line.
//! Storing them as contacts is [`super::import`]'s job.
//!
//! Read: FN and N (the name), UID, EMAIL, TEL, IMPP (`xmpp:`, `matrix:`, and any other scheme
//! as its own kind), X-JABBER, X-SOCIALPROFILE, and URL when it is a Mastodon, Twitter or
//! Facebook profile. Everything else is skipped.
//!
//! What clients do that the RFCs do not say: lines may end in CR LF, LF, CR CR LF (iPhone
//! exports) or CR alone; a UTF-8 or UTF-16 byte order mark may lead; names and values may
//! carry stray spaces (`begin:vcard `); a 2.1 value may be quoted-printable (`ENCODING=` or
//! the bare `QUOTED-PRINTABLE` parameter), its soft line breaks continuing it, in the
//! charset its `CHARSET` names; bytes that are not UTF-8 without one are taken for
//! Windows-1252, what Outlook writes.
//!
//! A value that is not a phone number, an address or a handle (`TEL:BusinessPhone`, an
//! empty `EMAIL`, `EMAIL:ÑÑÑ`) is a [`Problem`] and not an identity; the rest of its card
//! is read. A card with neither a name nor an identity is a problem and no card.

use super::identity;

/// One card: where it begins, a name, its UID and identities, in the order the card lists
/// them. A card may have a name and no identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Card {
    /// The line of its `BEGIN:VCARD`, from 1.
    pub line: usize,
    pub name: Option<String>,
    pub uid: Option<String>,
    pub identities: Vec<String>,
}

/// Something in the file that was not taken: its line (from 1) and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub problem: String,
}

/// A file read: its cards, and what was left out of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cards {
    pub cards: Vec<Card>,
    pub problems: Vec<Problem>,
}

/// A content line: `[group.]NAME;PARAM=V:VALUE`, its name uppercased, its value the bytes
/// as written (a charset applies to them).
struct Line {
    number: usize,
    name: String,
    params: Vec<(String, String)>,
    value: Vec<u8>,
}

/// A card being read, and the N property's name until the end shows whether FN came.
struct Open {
    card: Card,
    structured: Option<String>,
}

/// Every card in `bytes`, and every problem met. Lines outside BEGIN/END are skipped.
pub fn parse(bytes: &[u8]) -> Cards {
    let text = without_byte_order_mark(bytes);
    let mut read = Cards::default();
    let mut open: Option<Open> = None;
    for logical in unfold(&physical_lines(&text)) {
        let Some(line) = content_line(&logical) else {
            if open.is_some() {
                read.problems.push(Problem {
                    line: logical.number,
                    problem: "not a vCard content line (NAME:VALUE): skipped".into(),
                });
            }
            continue;
        };
        let marks = |name: &str| {
            line.name == name
                && String::from_utf8_lossy(&line.value)
                    .trim()
                    .eq_ignore_ascii_case("VCARD")
        };
        if marks("BEGIN") {
            if let Some(unended) = open.take() {
                read.problems.push(Problem {
                    line: unended.card.line,
                    problem: format!(
                        "the card has no END:VCARD before the next BEGIN (line {}): read up to there",
                        line.number
                    ),
                });
                close(unended, &mut read);
            }
            open = Some(Open {
                card: Card {
                    line: line.number,
                    ..Card::default()
                },
                structured: None,
            });
        } else if marks("END") {
            match open.take() {
                Some(card) => close(card, &mut read),
                None => read.problems.push(Problem {
                    line: line.number,
                    problem: "END:VCARD without BEGIN:VCARD: skipped".into(),
                }),
            }
        } else if let Some(current) = &mut open
            && let Err(problem) = read_property(&line, current)
        {
            read.problems.push(Problem {
                line: line.number,
                problem,
            });
        }
    }
    if let Some(unended) = open {
        read.problems.push(Problem {
            line: unended.card.line,
            problem: "the card has no END:VCARD: read up to the end of the file".into(),
        });
        close(unended, &mut read);
    }
    if read.cards.is_empty() && read.problems.is_empty() {
        read.problems.push(Problem {
            line: 1,
            problem: "no BEGIN:VCARD: not a vCard file".into(),
        });
    }
    read
}

/// Ends a card: named by FN, else by N; without a name nor an identity it is no card.
fn close(open: Open, read: &mut Cards) {
    let mut card = open.card;
    card.name = card.name.or(open.structured);
    if card.name.is_none() && card.identities.is_empty() {
        read.problems.push(Problem {
            line: card.line,
            problem: "the card has no name and no identity: not imported".into(),
        });
    } else {
        read.cards.push(card);
    }
}

/// Reads one property into the card; `Err` says why its value was not taken.
fn read_property(line: &Line, open: &mut Open) -> Result<(), String> {
    let value = decoded(line);
    let card = &mut open.card;
    let identity = match line.name.as_str() {
        "FN" => {
            let name = unescape(&value);
            if !name.trim().is_empty() {
                card.name = Some(name.trim().to_string());
            }
            None
        }
        "N" => {
            let parts: Vec<String> = split_unescaped(&value, ';');
            let given = parts.get(1).map(String::as_str).unwrap_or_default();
            let family = parts.first().map(String::as_str).unwrap_or_default();
            let name = format!("{} {}", given.trim(), family.trim())
                .trim()
                .to_string();
            if !name.is_empty() {
                open.structured = Some(name);
            }
            None
        }
        "UID" => {
            card.uid = Some(unescape(&value).trim().to_string()).filter(|uid| !uid.is_empty());
            None
        }
        "EMAIL" => Some(email(&unescape(&value))?),
        "TEL" => Some(phone(&unescape(&value))?),
        "IMPP" => impp(&unescape(&value))?,
        "X-JABBER" => Some(jid(&unescape(&value))?),
        "X-SOCIALPROFILE" => {
            let kind = param(line, "TYPE").map(str::to_ascii_lowercase);
            let user = param(line, "X-USER").map(str::to_string);
            social_profile(kind.as_deref(), user, &unescape(&value))?
        }
        "URL" => profile_url(&unescape(&value)),
        _ => None,
    };
    if let Some(identity) = identity
        && !card.identities.contains(&identity)
    {
        card.identities.push(identity);
    }
    Ok(())
}

/// An EMAIL value: `local@domain`, a `mailto:` taken off.
fn email(value: &str) -> Result<String, String> {
    let address = value.trim();
    if address.is_empty() {
        return Err("EMAIL is empty: not imported".into());
    }
    let bare = strip_scheme(address, "mailto");
    let valid = bare.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !local.contains(|c: char| c.is_whitespace() || "<>\"(),;:".contains(c))
            && is_domain(domain)
    });
    if valid {
        Ok(identity::kind_handle("email", bare))
    } else {
        Err(format!(
            "EMAIL {address:?} is not an email address: not imported"
        ))
    }
}

/// A domain: dot-separated labels of letters (any script), digits and hyphens.
fn is_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// A TEL value, text or a `tel:` URI: digits and the punctuation people write between them,
/// an extension (`;ext=12`, `x12`, `ext. 12`) left out.
fn phone(value: &str) -> Result<String, String> {
    let written = value.trim();
    if written.is_empty() {
        return Err("TEL is empty: not imported".into());
    }
    let number = strip_scheme(written, "tel");
    let number = number.split(';').next().unwrap_or_default();
    let number = without_extension(number);
    let digits = number.chars().filter(char::is_ascii_digit).count();
    let punctuation = |c: char| c.is_ascii_digit() || c.is_whitespace() || "+-.()/".contains(c);
    if digits >= 3 && number.chars().all(punctuation) && !number[1..].contains('+') {
        Ok(identity::kind_handle("tel", number))
    } else {
        Err(format!(
            "TEL {written:?} is not a phone number: not imported"
        ))
    }
}

/// The number before an extension written `x12`, `ext 12` or `ext. 12`, else all of it.
fn without_extension(number: &str) -> &str {
    let Some(at) = number.find(|c: char| c.is_ascii_alphabetic()) else {
        return number;
    };
    let (before, rest) = number.split_at(at);
    let lower = rest.to_ascii_lowercase();
    let digits = lower
        .strip_prefix("ext")
        .or_else(|| lower.strip_prefix('x'))
        .map(|after| after.trim_start_matches(['.', ':', ' ']));
    match digits {
        Some(digits) if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => {
            before.trim_end()
        }
        _ => number,
    }
}

/// A Jabber id: `user@domain`, an `xmpp:` taken off.
fn jid(value: &str) -> Result<String, String> {
    let written = value.trim();
    let bare = strip_scheme(written, "xmpp");
    let bare = bare.split(['?', '/']).next().unwrap_or_default();
    match bare.rsplit_once('@') {
        Some((user, domain))
            if !user.is_empty() && !user.contains(char::is_whitespace) && is_domain(domain) =>
        {
            Ok(identity::kind_handle("xmpp", bare))
        }
        _ => Err(format!(
            "{written:?} is not a Jabber id (user@domain): not imported"
        )),
    }
}

/// A Matrix id: `@user:server`, from `matrix:u/user:server` or the id itself.
fn matrix_id(value: &str) -> Result<String, String> {
    let identity = identity::kind_handle("matrix", value);
    let valid = identity::handle(&identity)
        .strip_prefix('@')
        .and_then(|id| id.split_once(':'))
        .is_some_and(|(user, server)| {
            !user.is_empty() && !server.is_empty() && !identity.contains(char::is_whitespace)
        });
    if valid {
        Ok(identity)
    } else {
        Err(format!(
            "{:?} is not a Matrix id (@user:server): not imported",
            value.trim()
        ))
    }
}

/// An IMPP value (`xmpp:…`, `matrix:…`, `sip:…`) as an identity; a web link is one when it
/// is a profile.
fn impp(value: &str) -> Result<Option<String>, String> {
    let written = value.trim();
    let not_uri = || format!("IMPP {written:?} is not a URI of a messaging handle: not imported");
    let (scheme, rest) = written.split_once(':').ok_or_else(not_uri)?;
    let rest = rest.trim();
    let scheme = scheme.trim().to_ascii_lowercase();
    let valid_scheme = scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if rest.is_empty() || scheme.is_empty() || !valid_scheme || rest.contains(char::is_whitespace) {
        return Err(not_uri());
    }
    match scheme.as_str() {
        "xmpp" | "jabber" => jid(rest).map(Some),
        "matrix" => matrix_id(written).map(Some),
        "https" | "http" => Ok(profile_url(written)),
        _ => Ok(Some(identity::kind_handle(
            &scheme,
            rest.trim_start_matches("//"),
        ))),
    }
}

/// X-SOCIALPROFILE: the service from TYPE, the handle from X-USER or the value (a profile
/// URL, Apple's `x-apple:HANDLE` or the handle). Services missive does not read are skipped.
fn social_profile(
    kind: Option<&str>,
    user: Option<String>,
    value: &str,
) -> Result<Option<String>, String> {
    if let Some(found) = profile_url(value) {
        return Ok(Some(found));
    }
    let handle = user.unwrap_or_else(|| strip_scheme(value.trim(), "x-apple").to_string());
    let handle = handle.trim();
    let bad = |what: &str| {
        Err(format!(
            "X-SOCIALPROFILE {:?} is not a {what}: not imported",
            value.trim()
        ))
    };
    match kind {
        Some("twitter" | "x") => {
            let bare = handle.trim_start_matches('@');
            let valid = (1..=15).contains(&bare.len())
                && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if valid {
                Ok(Some(identity::kind_handle("twitter", bare)))
            } else {
                bad("Twitter handle")
            }
        }
        Some("facebook") => {
            if handle.is_empty() || handle.contains(char::is_whitespace) || handle.contains('/') {
                bad("Facebook user name")
            } else {
                Ok(Some(identity::kind_handle("facebook", handle)))
            }
        }
        Some("mastodon") => {
            let parts: Vec<&str> = handle.trim_start_matches('@').split('@').collect();
            match parts[..] {
                [user, domain] if !user.is_empty() && is_domain(domain) => {
                    Ok(Some(identity::kind_handle("mastodon", handle)))
                }
                _ => bad("Mastodon handle (@user@instance)"),
            }
        }
        _ => Ok(None),
    }
}

/// A profile URL: Twitter/X, Facebook, a Matrix link, or any `https://host/@user` (Mastodon).
fn profile_url(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let first = path.split(['/', '?', '#']).next().unwrap_or_default();
    match host {
        "twitter.com" | "x.com" | "mobile.twitter.com" if !first.is_empty() => {
            Some(identity::kind_handle("twitter", first))
        }
        "facebook.com" | "m.facebook.com" if !first.is_empty() => {
            Some(identity::kind_handle("facebook", first))
        }
        "matrix.to" => path
            .strip_prefix("#/")
            .filter(|id| id.starts_with('@'))
            .map(|id| identity::kind_handle("matrix", id)),
        _ => identity::mastodon_from_url(url).map(|h| identity::kind_handle("mastodon", &h)),
    }
}

/// `value` without a leading `SCHEME:`, in any case.
fn strip_scheme<'a>(value: &'a str, scheme: &str) -> &'a str {
    match value.split_once(':') {
        Some((found, rest)) if found.trim().eq_ignore_ascii_case(scheme) => rest.trim(),
        _ => value,
    }
}

/// The first value of a parameter, also a bare 2.1 `TYPE` (`TEL;CELL:`) under TYPE.
fn param<'a>(line: &'a Line, name: &str) -> Option<&'a str> {
    line.params
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.split(',').next().unwrap_or_default())
}

/// Whether a parameter of the line has this value (`ENCODING=QUOTED-PRINTABLE`).
fn has_param(line: &Line, name: &str, value: &str) -> bool {
    line.params
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case(name) && v.eq_ignore_ascii_case(value))
}

/// The value as text: a 2.1 quoted-printable encoding undone, then read in the line's
/// `CHARSET` (UTF-8 when none is named; Windows-1252 when it is not UTF-8 either).
fn decoded(line: &Line) -> String {
    let bytes = if has_param(line, "ENCODING", "QUOTED-PRINTABLE") {
        quoted_printable(&line.value)
    } else {
        line.value.clone()
    };
    let named = param(line, "CHARSET").and_then(|charset| {
        mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes())
    });
    match named {
        Some(decoder) => decoder(&bytes),
        None => String::from_utf8(bytes).unwrap_or_else(|error| windows_1252(error.as_bytes())),
    }
}

fn windows_1252(bytes: &[u8]) -> String {
    match mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252") {
        Some(decoder) => decoder(bytes),
        None => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// `=XX` escapes undone; anything else as it is.
fn quoted_printable(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'='
            && let Some(hex) = value.get(i + 1..i + 3)
            && let Ok(text) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(text, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(value[i]);
            i += 1;
        }
    }
    out
}

/// The bytes as UTF-8 or 8-bit text, a byte order mark taken off; UTF-16 (with its mark)
/// turned into UTF-8.
fn without_byte_order_mark(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let utf16 = |big: bool| {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|pair| {
                let pair = [pair[0], pair[1]];
                if big {
                    u16::from_be_bytes(pair)
                } else {
                    u16::from_le_bytes(pair)
                }
            })
            .collect();
        String::from_utf16_lossy(&units).into_bytes().into()
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => rest.into(),
        [0xFF, 0xFE, ..] => utf16(false),
        [0xFE, 0xFF, ..] => utf16(true),
        _ => bytes.into(),
    }
}

/// Physical lines with their numbers, empty ones left out: lines end at LF, and a CR
/// anywhere ends one too (CR LF, the CR CR LF of iPhone exports, old Mac files).
fn physical_lines(text: &[u8]) -> Vec<(usize, &[u8])> {
    // Lines are numbered as editors count them: by LF when there is one, else by CR.
    let separator = if text.contains(&b'\n') { b'\n' } else { b'\r' };
    let mut lines = Vec::new();
    for (at, line) in text.split(|&b| b == separator).enumerate() {
        for piece in line.split(|&b| b == b'\r') {
            if !piece.is_empty() {
                lines.push((at + 1, piece));
            }
        }
    }
    lines
}

/// A logical line and the number of its first physical line.
struct Logical {
    number: usize,
    bytes: Vec<u8>,
}

/// Logical lines: a line starting with a space or tab continues the previous one (RFC 6350
/// §3.2); a 2.1 quoted-printable line ending in `=` continues on the next.
fn unfold(physical: &[(usize, &[u8])]) -> Vec<Logical> {
    let mut lines: Vec<Logical> = Vec::new();
    let mut soft_break = false;
    for &(number, raw) in physical {
        match lines.last_mut() {
            Some(last) if raw.starts_with(b" ") || raw.starts_with(b"\t") => {
                last.bytes.extend_from_slice(&raw[1..]);
            }
            Some(last) if soft_break => last.bytes.extend_from_slice(raw),
            _ => lines.push(Logical {
                number,
                bytes: raw.to_vec(),
            }),
        }
        soft_break = false;
        if let Some(last) = lines.last_mut()
            && last.bytes.ends_with(b"=")
            && head(&last.bytes).is_some_and(|head| {
                String::from_utf8_lossy(head)
                    .to_ascii_uppercase()
                    .contains("QUOTED-PRINTABLE")
            })
        {
            last.bytes.pop();
            soft_break = true;
        }
    }
    lines
}

/// The part of a content line before its value: up to the first colon outside quotes
/// (quoted parameter values may hold `:` and `;`).
fn head(line: &[u8]) -> Option<&[u8]> {
    let mut in_quotes = false;
    for (at, &b) in line.iter().enumerate() {
        match b {
            b'"' => in_quotes = !in_quotes,
            b':' if !in_quotes => return Some(&line[..at]),
            _ => {}
        }
    }
    None
}

/// Splits a content line into name, parameters and value; `None` when it has no colon or
/// no name.
fn content_line(line: &Logical) -> Option<Line> {
    let head_bytes = head(&line.bytes)?;
    let value = line.bytes[head_bytes.len() + 1..].to_vec();
    let head = String::from_utf8_lossy(head_bytes);
    let mut parts = head.split(';');
    let name = parts.next()?.trim();
    let name = name.rsplit_once('.').map_or(name, |(_, name)| name);
    if name.is_empty() {
        return None;
    }
    let params = parts
        .map(|param| match param.split_once('=') {
            Some((key, value)) => (
                key.trim().to_string(),
                value.trim().trim_matches('"').to_string(),
            ),
            // A bare 2.1 parameter: an encoding or a type.
            None if param.trim().eq_ignore_ascii_case("QUOTED-PRINTABLE") => {
                ("ENCODING".to_string(), param.trim().to_string())
            }
            None => ("TYPE".to_string(), param.trim().to_string()),
        })
        .collect();
    Some(Line {
        number: line.number,
        name: name.to_ascii_uppercase(),
        params,
        value,
    })
}

/// Undoes `\,`, `\;`, `\\` and `\n` escapes.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits on `separator` where it is not escaped, then unescapes each part.
fn split_unescaped(value: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            if let Some(last) = parts.last_mut() {
                last.push('\\');
                last.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == separator {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts.iter().map(|p| unescape(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cards(text: &str) -> Vec<Card> {
        parse(text.as_bytes()).cards
    }

    #[test]
    fn folded_lines_are_joined_and_escapes_undone() {
        let cards = cards(
            "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Carol\\, the \r\n Second\r\nEMAIL;TYPE=work:carol\r\n\t@example.org\r\nEND:VCARD\r\n",
        );
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0].name.as_deref(), Some("Carol, the Second"));
        assert_eq!(cards[0].identities, ["email:carol@example.org"]);
    }

    #[test]
    fn the_structured_name_is_used_when_there_is_no_formatted_one() {
        let cards = cards("BEGIN:VCARD\nVERSION:3.0\nN:Example;Dana;;;\nEND:VCARD\n");
        assert_eq!(cards[0].name.as_deref(), Some("Dana Example"));
    }

    #[test]
    fn quoted_printable_names_of_phone_exports_are_decoded() {
        let cards = cards(
            "BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Ren=C3=A9e=20=\nExample\nTEL;CELL:+49 30 1234567\nEND:VCARD\n",
        );
        assert_eq!(cards[0].name.as_deref(), Some("Renée Example"));
        assert_eq!(cards[0].identities, ["tel:+49301234567"]);
    }

    #[test]
    fn a_latin_1_charset_and_a_bare_quoted_printable_are_decoded() {
        let read = parse(
            b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1;QUOTED-PRINTABLE:Schneider=E4;J=FCrgen\r\nEMAIL:j@example.org\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:M\xfcller\r\nEMAIL:m@example.org\r\nEND:VCARD\r\n",
        );
        assert_eq!(read.problems, []);
        assert_eq!(read.cards[0].name.as_deref(), Some("Jürgen Schneiderä"));
        assert_eq!(
            read.cards[1].name.as_deref(),
            Some("Müller"),
            "8-bit without a charset"
        );
    }

    #[test]
    fn messaging_and_social_identities_are_read() {
        let cards = cards(concat!(
            "BEGIN:VCARD\nVERSION:4.0\nFN:Eve\n",
            "IMPP;PREF=1:xmpp:eve@jabber.example\n",
            "IMPP:matrix:u/eve:matrix.example\n",
            "IMPP:sip:eve@voip.example\n",
            "X-SOCIALPROFILE;TYPE=twitter:https://twitter.com/EveTweets\n",
            "X-SOCIALPROFILE;TYPE=facebook;X-USER=eve.example:https://facebook.com/eve.example\n",
            "URL:https://social.example/@eve\n",
            "URL:https://eve.example.org/blog\n",
            "END:VCARD\n",
        ));
        assert_eq!(
            cards[0].identities,
            [
                "xmpp:eve@jabber.example",
                "matrix:@eve:matrix.example",
                "sip:eve@voip.example",
                "twitter:@evetweets",
                "facebook:eve.example",
                "mastodon:@eve@social.example",
            ]
        );
    }

    #[test]
    fn a_quoted_parameter_may_hold_a_colon() {
        let cards = cards(
            "BEGIN:VCARD\nVERSION:4.0\nitem1.EMAIL;TYPE=\"a:b\":frank@example.org\nEND:VCARD\n",
        );
        assert_eq!(cards[0].identities, ["email:frank@example.org"]);
    }

    #[test]
    fn values_that_are_no_handle_are_problems_and_the_card_is_kept() {
        let read = parse(
            "BEGIN:VCARD\nFN:Ian\nEMAIL;INTERNET:\nTEL;WORK:tel:BusinessPhone\nEMAIL:ÑÑÑ\nTEL:555-0100 ext. 12\nX-SOCIALPROFILE;type=twitter:x-apple:ian_t\nEND:VCARD\n"
                .as_bytes(),
        );
        assert_eq!(read.cards[0].identities, ["tel:5550100", "twitter:@ian_t"]);
        let lines: Vec<usize> = read.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4, 5], "{:?}", read.problems);
        assert!(read.problems[1].problem.contains("BusinessPhone"));
    }

    #[test]
    fn line_ends_byte_order_marks_and_stray_spaces_of_clients_are_read() {
        for text in [
            "BEGIN:VCARD\r\r\nFN:Jo\r\r\nEMAIL:jo@example.org\r\r\nEND:VCARD\r\r\n",
            "\u{feff}begin:vcard \nfn:Jo\nemail :jo@example.org\nend:vcard \n",
            "BEGIN:VCARD\rFN:Jo\rEMAIL:jo@example.org\rEND:VCARD\r",
        ] {
            let read = parse(text.as_bytes());
            assert_eq!(read.problems, [], "{text:?}");
            assert_eq!(
                read.cards[0].identities,
                ["email:jo@example.org"],
                "{text:?}"
            );
        }
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "BEGIN:VCARD\nFN:Jö\nEND:VCARD\n"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        assert_eq!(parse(&utf16).cards[0].name.as_deref(), Some("Jö"));
    }

    #[test]
    fn cards_without_end_or_without_anything_are_problems_with_their_line() {
        let read = parse(
            b"BEGIN:VCARD\nFN:Kim\nBEGIN:VCARD\nNOTE:nothing\nEND:VCARD\nBEGIN:VCARD\nFN:Lee\n",
        );
        let names: Vec<_> = read.cards.iter().map(|c| c.name.as_deref()).collect();
        assert_eq!(names, [Some("Kim"), Some("Lee")]);
        let lines: Vec<usize> = read.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [1, 3, 6], "{:?}", read.problems);
        assert_eq!(parse(b"hello\n").problems[0].line, 1);
    }
}
