//! Reads vCard 3.0 (RFC 2426) and 4.0 (RFC 6350) files, and the 2.1 habits of phone
//! exports (bare TYPE parameters, quoted-printable names), into cards of identities.
//! Storing them as contacts is [`super::import`]'s job.
//!
//! Read: FN and N (the name), EMAIL, TEL, IMPP (`xmpp:`, `matrix:`, and any other scheme as
//! its own kind), X-JABBER, X-SOCIALPROFILE, and URL when it is a Mastodon, Twitter or
//! Facebook profile. Everything else is skipped.

use super::identity;

/// One card: a name and identities, in the order the card lists them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Card {
    pub name: Option<String>,
    pub identities: Vec<String>,
}

/// A content line: `[group.]NAME;PARAM=V:VALUE`, its name uppercased.
struct Line {
    name: String,
    params: Vec<(String, String)>,
    value: String,
}

/// Every card in `text`. A card without identities is kept (it may have a name only);
/// lines outside BEGIN/END and lines that do not parse are skipped.
pub fn parse(text: &str) -> Vec<Card> {
    let mut cards = Vec::new();
    let mut current: Option<(Card, Option<String>)> = None;
    for raw in unfold(text) {
        let Some(line) = content_line(&raw) else {
            continue;
        };
        match (line.name.as_str(), &mut current) {
            ("BEGIN", _) if line.value.eq_ignore_ascii_case("VCARD") => {
                current = Some((Card::default(), None));
            }
            ("END", Some(_)) if line.value.eq_ignore_ascii_case("VCARD") => {
                if let Some((mut card, structured)) = current.take() {
                    card.name = card.name.or(structured);
                    cards.push(card);
                }
            }
            (_, Some((card, structured))) => read_property(&line, card, structured),
            _ => {}
        }
    }
    cards
}

fn read_property(line: &Line, card: &mut Card, structured: &mut Option<String>) {
    let value = decoded(line);
    let mut add = |identity: Option<String>| {
        if let Some(identity) = identity
            && !card.identities.contains(&identity)
        {
            card.identities.push(identity);
        }
    };
    match line.name.as_str() {
        "FN" => {
            let name = unescape(&value);
            if !name.trim().is_empty() {
                card.name = Some(name.trim().to_string());
            }
        }
        "N" => {
            let parts: Vec<String> = split_unescaped(&value, ';');
            let given = parts.get(1).map(String::as_str).unwrap_or_default();
            let family = parts.first().map(String::as_str).unwrap_or_default();
            let name = format!("{given} {family}").trim().to_string();
            if !name.is_empty() {
                *structured = Some(name);
            }
        }
        "EMAIL" => add(Some(identity::kind_handle("email", &unescape(&value)))),
        "TEL" => {
            let number = unescape(&value);
            if !number.trim().is_empty() {
                add(Some(identity::kind_handle("tel", &number)));
            }
        }
        "IMPP" => add(impp(&unescape(&value))),
        "X-JABBER" => add(Some(identity::kind_handle("xmpp", &unescape(&value)))),
        "X-SOCIALPROFILE" => {
            let kind = param(line, "TYPE").map(str::to_ascii_lowercase);
            let user = param(line, "X-USER").map(str::to_string);
            add(social_profile(kind.as_deref(), user, &unescape(&value)));
        }
        "URL" => add(profile_url(&unescape(&value))),
        _ => {}
    }
}

/// An IMPP value (`xmpp:…`, `matrix:…`, `sip:…`) as an identity.
fn impp(value: &str) -> Option<String> {
    let (scheme, rest) = value.trim().split_once(':')?;
    let scheme = scheme.to_ascii_lowercase();
    if rest.is_empty() {
        return None;
    }
    Some(match scheme.as_str() {
        "xmpp" | "jabber" => identity::kind_handle("xmpp", rest),
        "matrix" => identity::kind_handle("matrix", rest),
        "https" | "http" => return profile_url(value),
        _ => identity::kind_handle(&scheme, rest.trim_start_matches("//")),
    })
}

/// X-SOCIALPROFILE: the service from TYPE, the handle from X-USER or the URL.
fn social_profile(kind: Option<&str>, user: Option<String>, value: &str) -> Option<String> {
    if let Some(found) = profile_url(value) {
        return Some(found);
    }
    let handle = user.unwrap_or_else(|| value.trim().to_string());
    match kind? {
        "twitter" | "x" => Some(identity::kind_handle("twitter", &handle)),
        "facebook" => Some(identity::kind_handle("facebook", &handle)),
        "mastodon" if handle.matches('@').count() >= 1 => {
            Some(identity::kind_handle("mastodon", &handle))
        }
        _ => None,
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

/// The first value of a parameter, also a bare 2.1 `TYPE` (`TEL;CELL:`) under TYPE.
fn param<'a>(line: &'a Line, name: &str) -> Option<&'a str> {
    line.params
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.split(',').next().unwrap_or_default())
}

/// The value with a 2.1 `ENCODING=QUOTED-PRINTABLE` undone (UTF-8 assumed).
fn decoded(line: &Line) -> String {
    let quoted = line.params.iter().any(|(key, value)| {
        key.eq_ignore_ascii_case("ENCODING") && value.eq_ignore_ascii_case("QUOTED-PRINTABLE")
    });
    if !quoted {
        return line.value.clone();
    }
    let bytes = line.value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(text) = std::str::from_utf8(hex)
            && let Ok(byte) = u8::from_str_radix(text, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Logical lines: a line starting with a space or tab continues the previous one (RFC 6350
/// §3.2); a 2.1 quoted-printable line ending in `=` continues on the next.
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut soft_break = false;
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match lines.last_mut() {
            Some(last) if raw.starts_with([' ', '\t']) => last.push_str(&raw[1..]),
            Some(last) if soft_break => last.push_str(raw),
            _ => lines.push(raw.to_string()),
        }
        soft_break = false;
        if let Some(last) = lines.last_mut()
            && last.ends_with('=')
            && last.to_ascii_uppercase().contains("QUOTED-PRINTABLE")
        {
            last.pop();
            soft_break = true;
        }
    }
    lines
}

/// Splits a content line into name, parameters and value; quoted parameter values may hold
/// `:` and `;`.
fn content_line(line: &str) -> Option<Line> {
    let mut in_quotes = false;
    let mut colon = None;
    for (at, c) in line.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ':' if !in_quotes => {
                colon = Some(at);
                break;
            }
            _ => {}
        }
    }
    let colon = colon?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim();
    let name = name.rsplit_once('.').map_or(name, |(_, name)| name);
    let params = parts
        .map(|param| match param.split_once('=') {
            Some((key, value)) => (key.trim().to_string(), value.trim_matches('"').to_string()),
            None => ("TYPE".to_string(), param.trim().to_string()),
        })
        .collect();
    Some(Line {
        name: name.to_ascii_uppercase(),
        params,
        value: value.to_string(),
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

    #[test]
    fn folded_lines_are_joined_and_escapes_undone() {
        let cards = parse(
            "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Carol\\, the \r\n Second\r\nEMAIL;TYPE=work:carol\r\n\t@example.org\r\nEND:VCARD\r\n",
        );
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0].name.as_deref(), Some("Carol, the Second"));
        assert_eq!(cards[0].identities, ["email:carol@example.org"]);
    }

    #[test]
    fn the_structured_name_is_used_when_there_is_no_formatted_one() {
        let cards = parse("BEGIN:VCARD\nVERSION:3.0\nN:Example;Dana;;;\nEND:VCARD\n");
        assert_eq!(cards[0].name.as_deref(), Some("Dana Example"));
    }

    #[test]
    fn quoted_printable_names_of_phone_exports_are_decoded() {
        let cards = parse(
            "BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Ren=C3=A9e=20=\nExample\nTEL;CELL:+49 30 1234567\nEND:VCARD\n",
        );
        assert_eq!(cards[0].name.as_deref(), Some("Renée Example"));
        assert_eq!(cards[0].identities, ["tel:+49301234567"]);
    }

    #[test]
    fn messaging_and_social_identities_are_read() {
        let cards = parse(concat!(
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
        let cards = parse(
            "BEGIN:VCARD\nVERSION:4.0\nitem1.EMAIL;TYPE=\"a:b\":frank@example.org\nEND:VCARD\n",
        );
        assert_eq!(cards[0].identities, ["email:frank@example.org"]);
    }
}
