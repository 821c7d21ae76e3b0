//! Parses Received headers (RFC 5321 §4.4, RFC 5322 §3.6.7) into hops and whether each used
//! TLS; deciding which hops to believe and what they are worth is the privacy index's job
//! ([`crate::privacy::boundary`]), not this module's.
//!
//! The raw header text is read here rather than mail-parser's structured `Received`, because
//! the structured form drops the comments where most servers name their TLS version
//! (Postfix `(using TLSv1.3 …)`, sendmail `(version=TLSv1.3 …)`, Exim `(TLS1.3)`).
//!
//! TLS is read only from what the receiving server writes of its own connection: the `with`
//! protocol and a TLS comment in one of the servers' known shapes. The `from` clause (the
//! HELO name and the reverse DNS), the envelope (`for`, `envelope-from`) and the
//! authenticated sender are the sender's words, so a version written there says nothing.

use mail_parser::DateTime;

use super::header_text::{comment_end, headers, quote_end};

use crate::record::{Hop, Transport};

/// Every hop, newest first, with the counts over the external ones.
pub(crate) fn transport(message: &mail_parser::Message<'_>) -> Transport {
    let hops: Vec<Hop> = headers(message, "Received")
        .map(|(position, text)| Hop {
            position: Some(position),
            ..hop(text)
        })
        .collect();
    let external = || hops.iter().filter(|hop| hop.external);
    Transport {
        external_hops: count(external()),
        tls_hops: count(external().filter(|hop| hop.tls)),
        weakest_tls: external()
            .filter(|hop| hop.tls)
            .filter_map(|hop| hop.tls_version.as_deref())
            .min_by_key(|version| rank(version))
            .map(str::to_string),
        hops,
    }
}

fn count<'a>(hops: impl Iterator<Item = &'a Hop>) -> u32 {
    u32::try_from(hops.count()).unwrap_or(u32::MAX)
}

/// One Received header, already unfolded.
fn hop(text: String) -> Hop {
    let tokens = tokens(&text);
    let last_semicolon = tokens
        .iter()
        .rposition(|token| matches!(token, Token::Semicolon(_)));
    let (stamp, date) = match last_semicolon {
        Some(index) => {
            let date = match tokens.get(index) {
                Some(Token::Semicolon(at)) => text.get(at + 1..).map(str::trim),
                _ => None,
            };
            (tokens.get(..index).unwrap_or_default(), date)
        }
        None => (tokens.as_slice(), None),
    };
    let clauses = Clauses::read(stamp);
    let with_tls = clauses.with.is_some_and(|with| {
        TLS_PROTOCOLS
            .iter()
            .any(|tls| with.eq_ignore_ascii_case(tls))
    });
    let comments: Vec<Tls> = clauses
        .tls_comments
        .iter()
        .filter_map(|c| tls_comment(c))
        .collect();
    let tls_version = comments.iter().find_map(|tls| tls.version.clone());
    let tls = with_tls || clauses.with_encrypted || !comments.is_empty();
    // A comment left open swallows the top-level `;`; the last `;` anywhere is the next guess.
    let date = date.and_then(rfc822).or_else(|| {
        text.rsplit_once(';')
            .and_then(|(_, date)| rfc822(date.trim()))
    });

    Hop {
        from: clauses.from.map(str::to_string),
        by: clauses.by.map(str::to_string),
        with: clauses.with.map(str::to_string),
        external: clauses.external(),
        tls,
        tls_version,
        peer: clauses.peer().map(str::to_string),
        position: None,
        date,
        evidence: text,
    }
}

/// What one TLS comment says: that TLS was used, and the version when it names one.
struct Tls {
    version: Option<String>,
}

/// The TLS comment of a receiving server, in the shapes they write it; `None` for any other
/// comment. Each shape is anchored at the comment's start, so a version somewhere inside a
/// comment of other words (`(envelope-from <"TLSv1.3"@x>)`) is not one.
///
/// - Postfix, Stalwart, Fastmail: `(using TLSv1.3 with cipher … )`
/// - sendmail, Gmail, Microsoft 365: `(version=TLS1_3 cipher=…)`, `(version=TLS1_2, cipher=…)`
/// - Exim, OpenSMTPD: `(TLS1.3)`, `(TLSv1:DHE-RSA-AES256-SHA:256)`, `(TLSv1.3:…:256:NO)`
/// - older Exchange: `(TLS)`
fn tls_comment(comment: &str) -> Option<Tls> {
    let comment = comment.trim();
    let lower = comment.to_ascii_lowercase();
    if lower == "tls" {
        return Some(Tls { version: None });
    }
    let named = if let Some(rest) = lower.strip_prefix("using ") {
        rest.split_whitespace().next()
    } else if let Some(rest) = lower.strip_prefix("version=") {
        rest.split([' ', ',']).next()
    } else {
        lower.split([' ', ':']).next()
    }?;
    Some(Tls {
        version: Some(version_word(named)?),
    })
}

/// An RFC 5322 date (obsolete forms included) as RFC 3339 UTC.
fn rfc822(text: &str) -> Option<String> {
    DateTime::parse_rfc822(text)
        .filter(|d| d.is_valid())
        .map(|d| super::utc(&d))
}

/// `with` protocols that mean TLS by their name (the IANA Mail Transmission Types with an
/// `S`, plus Google's internal `SMTPS` and Microsoft's `HTTPS` submission).
const TLS_PROTOCOLS: &[&str] = &[
    "ESMTPS",
    "ESMTPSA",
    "UTF8SMTPS",
    "UTF8SMTPSA",
    "LMTPS",
    "LMTPSA",
    "UTF8LMTPS",
    "UTF8LMTPSA",
    "SMTPS",
    "HTTPS",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// An atom, a domain, an address literal, a `<path>` or a quoted string, as written.
    Word(&'a str),
    /// The text inside a comment, nested comments included.
    Comment(&'a str),
    /// A `;` outside comments, with its byte offset.
    Semicolon(usize),
}

/// Splits the header into words, comments and semicolons. Never fails: an unclosed comment
/// or quote runs to the end.
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b';' => {
                tokens.push(Token::Semicolon(at));
                at += 1;
            }
            b'(' => {
                let end = comment_end(bytes, at);
                let inner_end = match bytes.get(end.saturating_sub(1)) {
                    Some(b')') if end > at + 1 => end - 1,
                    _ => end,
                };
                tokens.push(Token::Comment(
                    text.get(at + 1..inner_end).unwrap_or_default(),
                ));
                at = end;
            }
            b'"' => {
                let end = quote_end(bytes, at);
                tokens.push(Token::Word(text.get(at..end).unwrap_or_default()));
                at = end;
            }
            // A path is the sender's text: parentheses in it (`<"(TLS1.3)"@x>`) are no comment.
            b'<' => {
                let end = path_end(bytes, at);
                tokens.push(Token::Word(text.get(at..end).unwrap_or_default()));
                at = end;
            }
            _ if byte.is_ascii_whitespace() => at += 1,
            _ => {
                let start = at;
                while bytes
                    .get(at)
                    .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'(' && b != b';')
                {
                    at += 1;
                }
                tokens.push(Token::Word(text.get(start..at).unwrap_or_default()));
            }
        }
    }
    tokens
}

/// The offset just past the `<path>` opening at `start`, quoted strings inside included; a
/// path left open runs to the end.
fn path_end(bytes: &[u8], start: usize) -> usize {
    let mut at = start + 1;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'"' => at = quote_end(bytes, at),
            b'>' => return at + 1,
            _ => at += 1,
        }
    }
    bytes.len()
}

/// The clauses of RFC 5321's `Stamp` we use; the first of each wins (Exim writes a second
/// `from` with the client certificate's subject).
#[derive(Default)]
struct Clauses<'a> {
    from: Option<&'a str>,
    /// The comment after `from`: `(name [address])`, the address the server actually saw.
    from_info: Option<&'a str>,
    by: Option<&'a str>,
    with: Option<&'a str>,
    /// `with <cipher> encrypted SMTP` (MessageLabs) or `with (<cipher> encrypted) SMTP`
    /// (qmail's TLS patch).
    with_encrypted: bool,
    /// Every other top-level comment: where servers write their TLS comment. The `from`
    /// comment is not among them: it holds the HELO name and the reverse DNS.
    tls_comments: Vec<&'a str>,
}

impl<'a> Clauses<'a> {
    fn read(tokens: &[Token<'a>]) -> Self {
        #[derive(PartialEq)]
        enum Expect {
            Keyword,
            From,
            FromInfo,
            By,
            With,
            AfterWith,
            Skip,
        }
        let mut clauses = Clauses::default();
        let mut expect = Expect::Keyword;
        for token in tokens {
            match (token, &expect) {
                (Token::Word(word), Expect::From) => {
                    clauses.from = Some(word);
                    expect = Expect::FromInfo;
                }
                (Token::Word(word), Expect::By) => {
                    clauses.by = Some(word);
                    expect = Expect::Keyword;
                }
                (Token::Word(word), Expect::With) => {
                    clauses.with = Some(word);
                    expect = Expect::AfterWith;
                }
                (Token::Comment(comment), Expect::With)
                    if comment.trim().to_ascii_lowercase().ends_with(" encrypted") =>
                {
                    clauses.with_encrypted = true;
                }
                (Token::Word(word), Expect::AfterWith)
                    if word.eq_ignore_ascii_case("encrypted") =>
                {
                    clauses.with_encrypted = true;
                    expect = Expect::Keyword;
                }
                (Token::Word(_), Expect::Skip) => expect = Expect::Keyword,
                (Token::Comment(info), Expect::FromInfo) => {
                    clauses.from_info = Some(info);
                    expect = Expect::Keyword;
                }
                (Token::Word(word), Expect::Keyword | Expect::FromInfo | Expect::AfterWith) => {
                    let is = |keyword: &str| word.eq_ignore_ascii_case(keyword);
                    expect = if is("from") && clauses.from.is_none() {
                        Expect::From
                    } else if is("by") && clauses.by.is_none() {
                        Expect::By
                    } else if is("with") && clauses.with.is_none() {
                        Expect::With
                    } else if ["from", "by", "with", "via", "id", "for"]
                        .into_iter()
                        .any(is)
                    {
                        Expect::Skip
                    } else {
                        Expect::Keyword
                    };
                }
                (Token::Comment(comment), _) => clauses.tls_comments.push(comment),
                _ => {}
            }
        }
        clauses
    }

    /// Whether the hop crossed between two hosts, as far as the header tells. Only what the
    /// receiving server saw decides: the address it wrote, the name it checked for that
    /// address ([`Self::peer`]); the HELO name is the sender's word.
    fn external(&self) -> bool {
        let Some(from) = self.from else {
            return false;
        };
        let with = self.with.unwrap_or_default().to_ascii_lowercase();
        if with.starts_with("lmtp") || with.starts_with("utf8lmtp") || with.starts_with("local") {
            return false;
        }
        match self.from_info.and_then(seen_loopback) {
            Some(loopback) => {
                !loopback
                    && !self
                        .peer()
                        .zip(self.by)
                        .is_some_and(|(peer, by)| same_host(peer, by))
            }
            // No address written: the name is all there is (old formats, `from localhost`).
            None => !is_loopback(from),
        }
    }

    /// The name the receiving server found for the address it saw, which the sender cannot
    /// choose as it chooses its HELO name: `name` in `(name [address])` (Postfix, sendmail,
    /// OpenSMTPD, Gmail, Stalwart), or Exim's `from name ([address] helo=…)`, where Exim
    /// puts the checked name first. `None` when the server found none (`unknown`, sendmail's
    /// `may be forged`) or the shape does not tell it from the HELO name.
    fn peer(&self) -> Option<&'a str> {
        let info = self.from_info?;
        if info.to_ascii_lowercase().contains("may be forged") {
            return None;
        }
        let (before, after) = info.split_once('[')?;
        let name = match before.trim() {
            "" if after.contains("helo=") => self.from.filter(|from| !from.starts_with('['))?,
            "" => return None,
            name => name,
        };
        let name = name.trim_end_matches('.');
        let plain = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_');
        (plain && !name.eq_ignore_ascii_case("unknown")).then_some(name)
    }
}

fn same_host(a: &str, b: &str) -> bool {
    let host = |h: &str| h.trim_end_matches('.').to_ascii_lowercase();
    host(a) == host(b)
}

/// `localhost`, `127.x.x.x` or `::1`, bare or as an address literal.
fn is_loopback(host: &str) -> bool {
    let host = host
        .trim_matches(|c| c == '[' || c == ']')
        .to_ascii_lowercase();
    let host = host.strip_prefix("ipv6:").unwrap_or(&host);
    let host = host.trim_end_matches('.');
    host == "localhost"
        || host == "localhost.localdomain"
        || host.starts_with("127.")
        || host == "::1"
        || host == "0:0:0:0:0:0:0:1"
}

/// Whether the TCP-info comment, `(name [address])`, Exim's `([address] helo=name)` or
/// Microsoft's bare `(address)`, shows a loopback address; `None` when it shows no address.
fn seen_loopback(info: &str) -> Option<bool> {
    let mut addresses = info
        .split('[')
        .skip(1)
        .filter_map(|rest| rest.split(']').next())
        .peekable();
    if addresses.peek().is_none() {
        // Microsoft writes the address bare: `(2603:10a6:20b::10)`.
        let bare = info.trim().parse::<std::net::IpAddr>().ok()?;
        return Some(bare.is_loopback());
    }
    Some(addresses.any(is_loopback))
}

/// A word that is wholly a protocol version (`TLSv1.3`, `TLS1_2`, `tlsv1`, `SSLv3`),
/// normalised to `TLSv1.2` or `SSLv3`; "TLSv1" alone, as old OpenSSL and Exim wrote it, is
/// TLS 1.0.
fn version_word(word: &str) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    let (family, rest) = lower.split_at_checked(3)?;
    let rest = rest.strip_prefix('v').unwrap_or(rest);
    match (family, rest) {
        ("ssl", "2" | "3") => Some(format!("SSLv{rest}")),
        ("tls", "1") => Some("TLSv1.0".into()),
        ("tls", _) => match rest.strip_prefix("1.").or_else(|| rest.strip_prefix("1_")) {
            Some(minor @ ("0" | "1" | "2" | "3")) => Some(format!("TLSv1.{minor}")),
            _ => None,
        },
        _ => None,
    }
}

/// Orders versions from weakest; anything unknown sorts first, as the least trusted.
pub(crate) fn rank(version: &str) -> u8 {
    match version {
        "SSLv3" => 1,
        "TLSv1.0" => 2,
        "TLSv1.1" => 3,
        "TLSv1.2" => 4,
        "TLSv1.3" => 5,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Transport {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("test message parses");
        transport(&message)
    }

    fn only_hop(raw: &[u8]) -> Hop {
        let mut transport = parse(raw);
        assert_eq!(transport.hops.len(), 1, "{transport:?}");
        transport.hops.remove(0)
    }

    #[test]
    fn postfix_names_its_tls_version_in_a_using_comment() {
        let hop = only_hop(
            b"Received: from mail.example.org (mail.example.org [192.0.2.10])\r\n\
              \t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n\
              \t key-exchange X25519 server-signature RSA-PSS (2048 bits))\r\n\
              \t(No client certificate requested)\r\n\
              \tby mx.example.net (Postfix) with ESMTPS id 4AbCdE123\r\n\
              \tfor <bob@example.net>; Tue, 5 Mar 2024 10:00:00 +0100 (CET)\r\n\
              Subject: x\r\n\r\nbody\r\n",
        );
        assert_eq!(hop.from.as_deref(), Some("mail.example.org"));
        assert_eq!(hop.by.as_deref(), Some("mx.example.net"));
        assert_eq!(hop.with.as_deref(), Some("ESMTPS"));
        assert!(hop.external);
        assert!(hop.tls);
        assert_eq!(hop.tls_version.as_deref(), Some("TLSv1.3"));
        assert_eq!(hop.date.as_deref(), Some("2024-03-05T09:00:00Z"));
        assert!(hop.evidence.starts_with("from mail.example.org"));
        assert!(!hop.evidence.contains('\n'));
    }

    #[test]
    fn sendmail_names_its_tls_version_as_version_equals() {
        let hop = only_hop(
            b"Received: from relay.example.org (relay.example.org [198.51.100.7])\n\
              \tby mail.example.net (8.17.1/8.17.1) with ESMTPS id 41K3xQ7a012345\n\
              \t(version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NOT)\n\
              \tfor <bob@example.net>; Wed, 6 Mar 2024 08:15:30 -0500\n\
              \n",
        );
        assert_eq!(hop.with.as_deref(), Some("ESMTPS"));
        assert_eq!(hop.tls_version.as_deref(), Some("TLSv1.2"));
        assert_eq!(hop.date.as_deref(), Some("2024-03-06T13:15:30Z"));
        assert!(hop.external && hop.tls);
    }

    #[test]
    fn sendmail_tls_without_an_s_in_with_still_counts() {
        let hop = only_hop(
            b"Received: from relay.example.org (relay.example.org [198.51.100.7])\n\
              \tby mail.example.net with ESMTP id 41K3xQ7a012345\n\
              \t(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\n\
              \tWed, 6 Mar 2024 08:15:30 -0500\n\n",
        );
        assert!(hop.tls);
        assert_eq!(hop.tls_version.as_deref(), Some("TLSv1.3"));
    }

    #[test]
    fn exim_names_its_tls_version_after_esmtps() {
        let hop = only_hop(
            b"Received: from [203.0.113.5] (helo=out.example.org)\n\
              \tby mx.example.net with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\
              \t(Exim 4.96)\n\
              \t(envelope-from <alice@example.org>)\n\
              \tid 1rAbCd-000123-Ef\n\
              \tfor bob@example.net; Thu, 07 Mar 2024 12:00:00 +0000\n\n",
        );
        assert_eq!(hop.from.as_deref(), Some("[203.0.113.5]"));
        assert_eq!(hop.with.as_deref(), Some("esmtps"));
        assert_eq!(hop.tls_version.as_deref(), Some("TLSv1.3"));
        assert!(hop.external && hop.tls);
    }

    #[test]
    fn old_exim_writes_tlsv1_alone_for_tls_1_0() {
        let hop = only_hop(
            b"Received: from old.example.org ([192.0.2.44])\n\
              \tby mx.example.net with esmtps (TLSv1:DHE-RSA-AES256-SHA:256)\n\
              \t(Exim 4.69); Fri, 01 Jan 2010 00:00:00 +0000\n\n",
        );
        assert_eq!(hop.tls_version.as_deref(), Some("TLSv1.0"));
    }

    #[test]
    fn exim_second_from_with_the_client_certificate_is_ignored() {
        let hop = only_hop(
            b"Received: from relay.example.org ([2001:db8::25])\n\
              \tfrom C=NA,ST=NA,O=Example,CN=relay.example.org (verified)\n\
              \tby mx.example.net with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)\n\
              \t(Exim 4.89); Fri, 08 Mar 2024 09:00:00 +0000\n\n",
        );
        assert_eq!(hop.from.as_deref(), Some("relay.example.org"));
        assert_eq!(hop.by.as_deref(), Some("mx.example.net"));
        assert_eq!(hop.tls_version.as_deref(), Some("TLSv1.2"));
    }

    #[test]
    fn microsoft_names_its_tls_version_after_smtp_server() {
        let hop = only_hop(
            b"Received: from AB1PR01MB0001.eurprd01.prod.example.net (2603:10a6:20b::10) by\r\n \
              AB1PR01MB0002.eurprd01.prod.example.net with Microsoft SMTP Server\r\n \
              (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id\r\n \
              15.20.7362.21; Sat, 9 Mar 2024 10:11:12 +0000\r\n\r\n",
        );
        assert_eq!(hop.with.as_deref(), Some("Microsoft"));
        assert_eq!(hop.tls_version.as_deref(), Some("TLSv1.2"));
        assert!(hop.external && hop.tls);
        assert_eq!(hop.date.as_deref(), Some("2024-03-09T10:11:12Z"));
    }

    #[test]
    fn google_names_its_tls_version_after_the_id() {
        let hop = only_hop(
            b"Received: from mail-out.example.org (mail-out.example.org. [198.51.100.20])\r\n\
              \x20       by mx.example.net with ESMTPS id a1b2c3d4e5f6.12.2024.03.10.06.00.00\r\n\
              \x20       for <bob@example.net>\r\n\
              \x20       (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256);\r\n\
              \x20       Sun, 10 Mar 2024 06:00:00 -0800 (PST)\r\n\r\n",
        );
        assert_eq!(hop.tls_version.as_deref(), Some("TLSv1.3"));
        assert_eq!(hop.date.as_deref(), Some("2024-03-10T14:00:00Z"));
        assert!(hop.external && hop.tls);
    }

    #[test]
    fn old_exchange_and_messagelabs_name_tls_without_a_version() {
        let transport = parse(
            b"Received: from hub1.example.org (192.0.2.1) by hub2.example.net (192.0.2.2)\n\
              \twith Microsoft SMTP Server (TLS) id 8.2.254.0; Mon, 15 Nov 2010 08:24:25 -0800\n\
              Received: from out.example.org (HELO out.example.org) (192.0.2.3)\n\
              \tby server-1.example.net with DHE-RSA-AES256-SHA encrypted SMTP;\n\
              \t15 Nov 2010 09:52:59 -0000\n\n",
        );
        assert_eq!(transport.tls_hops, 2);
        assert!(transport.hops.iter().all(|hop| hop.tls_version.is_none()));
    }

    #[test]
    fn a_comment_left_open_still_gives_the_date() {
        let hop = only_hop(
            b"Received: from a.example.org (by a.example.org (8.12.10/8.12.11) with ESMTP id 1\n\
              \tfor <bob@example.net>; Mon, 22 Sep 2008 20:20:25 GMT\n\n",
        );
        assert_eq!(hop.date.as_deref(), Some("2008-09-22T20:20:25Z"));
    }

    #[test]
    fn a_clear_hop_is_external_without_tls() {
        let hop = only_hop(
            b"Received: from list.example.org (list.example.org [192.0.2.80])\n\
              \tby mx.example.net (Postfix) with ESMTP id 4XyZ\n\
              \tfor <bob@example.net>; Mon, 11 Mar 2024 05:47:52 +0000 (UTC)\n\
              \t(envelope-from list-bounces@example.org)\n\n",
        );
        assert!(hop.external);
        assert!(!hop.tls);
        assert_eq!(hop.tls_version, None);
        // The trailing comment after the date must not stop the date from being read.
        assert_eq!(hop.date.as_deref(), Some("2024-03-11T05:47:52Z"));
    }

    #[test]
    fn hops_inside_one_host_are_not_external() {
        let transport = parse(
            b"Received: from mx.example.net (localhost [127.0.0.1])\n\
              \tby mx.example.net (Postfix) with ESMTP id 1; Mon, 11 Mar 2024 05:00:04 +0000\n\
              Received: from localhost ([::1] helo=mx.example.net)\n\
              \tby filter.example.net with esmtp (Exim 4.96); Mon, 11 Mar 2024 05:00:03 +0000\n\
              Received: from [127.0.0.1] (unknown [127.0.0.1]) with ESMTPSA id 2;\n\
              \tMon, 11 Mar 2024 05:00:02 +0000\n\
              Received: from mx.example.net by store.example.net with LMTP id 3;\n\
              \tMon, 11 Mar 2024 05:00:01 +0000\n\
              Received: by mx.example.net (Postfix, from userid 1000) id 4;\n\
              \tMon, 11 Mar 2024 05:00:00 +0000\n\
              Received: from alice by mx.example.net with local (Exim 4.96); Mon, 11 Mar 2024 04:59:59 +0000\n\
              \n",
        );
        assert_eq!(transport.hops.len(), 6);
        for hop in &transport.hops {
            assert!(!hop.external, "{hop:?}");
        }
        assert_eq!(transport.external_hops, 0);
        assert_eq!(transport.tls_hops, 0);
        assert_eq!(transport.weakest_tls, None);
    }

    #[test]
    fn a_host_named_like_a_loopback_is_external_when_its_address_is_not() {
        let hop = only_hop(
            b"Received: from localhost (dsl-1.example.org [203.0.113.9])\n\
              \tby mx.example.net with ESMTP; Mon, 11 Mar 2024 05:00:00 +0000\n\n",
        );
        // Clients that say HELO localhost are common; the address the server saw counts.
        assert!(hop.external);
    }

    #[test]
    fn counts_and_weakest_version_cover_external_hops_only() {
        let transport = parse(
            b"Received: from mx.example.net (localhost [127.0.0.1])\n\
              \tby mx.example.net (Postfix) with ESMTPS id 1\n\
              \t(using TLSv1 with cipher AES256-SHA); Mon, 11 Mar 2024 05:00:03 +0000\n\
              Received: from relay.example.org (relay.example.org [192.0.2.1])\n\
              \t(using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits))\n\
              \tby mx.example.net (Postfix) with ESMTPS id 2; Mon, 11 Mar 2024 05:00:02 +0000\n\
              Received: from out.example.org (out.example.org [192.0.2.2])\n\
              \tby relay.example.org with ESMTP id 3; Mon, 11 Mar 2024 05:00:01 +0000\n\
              Received: from laptop.example.org ([198.51.100.3])\n\
              \tby out.example.org with ESMTPSA (TLS1.3); Mon, 11 Mar 2024 05:00:00 +0000\n\
              \n",
        );
        assert_eq!(transport.hops.len(), 4);
        assert_eq!(transport.external_hops, 3);
        assert_eq!(transport.tls_hops, 2);
        assert_eq!(transport.weakest_tls.as_deref(), Some("TLSv1.2"));
    }

    #[test]
    fn a_hop_that_names_no_version_is_tls_without_one() {
        let transport = parse(
            b"Received: from out.example.org (out.example.org [192.0.2.2])\n\
              \tby mx.example.net with UTF8SMTPS id 3; Mon, 11 Mar 2024 05:00:01 +0000\n\n",
        );
        assert_eq!(transport.tls_hops, 1);
        assert_eq!(transport.hops[0].tls_version, None);
        assert_eq!(transport.weakest_tls, None);
    }

    #[test]
    fn folded_headers_are_unfolded_into_one_line_of_evidence() {
        let hop = only_hop(
            b"Received:\r\n from\r\n  a.example.org\r\n\t(a.example.org [192.0.2.1])\r\n by\r\n\tb.example.net\r\n with\r\n ESMTP;\r\n Tue, 12 Mar 2024 00:00:00 +0000\r\n\r\n",
        );
        assert_eq!(hop.from.as_deref(), Some("a.example.org"));
        assert_eq!(hop.by.as_deref(), Some("b.example.net"));
        assert_eq!(hop.with.as_deref(), Some("ESMTP"));
        assert_eq!(
            hop.evidence,
            "from a.example.org (a.example.org [192.0.2.1]) by b.example.net with ESMTP; Tue, 12 Mar 2024 00:00:00 +0000"
        );
        assert_eq!(hop.date.as_deref(), Some("2024-03-12T00:00:00Z"));
    }

    #[test]
    fn semicolons_inside_comments_do_not_end_the_clauses() {
        let hop = only_hop(
            b"Received: from a.example.org (note; with x) by b.example.net with ESMTPS;\n \
              Tue, 12 Mar 2024 00:00:00 +0000\n\n",
        );
        assert_eq!(hop.by.as_deref(), Some("b.example.net"));
        assert_eq!(hop.with.as_deref(), Some("ESMTPS"));
        assert_eq!(hop.date.as_deref(), Some("2024-03-12T00:00:00Z"));
    }

    #[test]
    fn only_a_whole_version_word_is_a_version() {
        assert_eq!(version_word("TLS_AES_128_GCM_SHA256"), None);
        assert_eq!(version_word("STARTTLS1.2"), None);
        assert_eq!(version_word("TLS1.25"), None);
        assert_eq!(version_word("TLSv1.3.example.org"), None);
        assert_eq!(version_word("TLS1.1"), Some("TLSv1.1".into()));
        assert_eq!(version_word("TLSv1.0"), Some("TLSv1.0".into()));
        assert_eq!(version_word("tls1_3"), Some("TLSv1.3".into()));
        assert_eq!(version_word("SSLv3"), Some("SSLv3".into()));
        assert_eq!(version_word("TLSv1"), Some("TLSv1.0".into()));
        assert_eq!(version_word("tls"), None);
        assert_eq!(version_word("TLSv"), None);
    }

    #[test]
    fn only_a_servers_tls_comment_is_one() {
        let version = |comment: &str| tls_comment(comment).map(|tls| tls.version);
        assert_eq!(
            version("using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"),
            Some(Some("TLSv1.3".into()))
        );
        assert_eq!(
            version("version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
            Some(Some("TLSv1.2".into()))
        );
        assert_eq!(
            version("TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO"),
            Some(Some("TLSv1.3".into()))
        );
        assert_eq!(
            version("TLSv1.3 TLS13_AES_256_GCM_SHA384"),
            Some(Some("TLSv1.3".into()))
        );
        assert_eq!(version(" TLS "), Some(None));
        for other in [
            "envelope-from <\"TLSv1.3\"@evil.example>",
            "Authenticated sender: TLSv1.3",
            "Exim 4.96",
            "No client certificate requested",
            "helo=TLSv1.3",
            "using nothing",
            "TLSv1.3.evil.example [203.0.113.5]",
        ] {
            assert_eq!(version(other), None, "{other}");
        }
    }

    #[test]
    fn garbage_received_values_give_a_hop_without_panicking() {
        let inputs: &[&[u8]] = &[
            b"Received: \n\n",
            b"Received: ;\n\n",
            b"Received: ;;;; ((((\n\n",
            b"Received: from\n\n",
            b"Received: from (unclosed by x with y; Mon\n\n",
            b"Received: \"unclosed from a by b\n\n",
            b"Received: from a by b; not a date at all\n\n",
            b"Received: from \xff\xfe by \xc3; Mon, 1 Jan 2024 00:00:00 +0000\n\n",
            b"Received: )))from a by a with TLSv1.\n\n",
            b"Received: with TLSv\n\n",
            b"Received: ssl\n\n",
        ];
        for input in inputs {
            let transport = parse(input);
            assert_eq!(
                transport.hops.len(),
                1,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        let hop = only_hop(b"Received: from a by b; not a date at all\n\n");
        assert_eq!(hop.date, None);
        assert!(hop.external);
    }

    /// One known answer: a Received line as the server writes it, and what must be read.
    struct Known {
        server: &'static str,
        line: &'static str,
        tls: bool,
        version: Option<&'static str>,
        peer: Option<&'static str>,
        external: bool,
    }

    fn check(known: &Known) {
        let hop = only_hop(format!("Received: {}\n\n", known.line).as_bytes());
        let what = format!("{}: {}", known.server, known.line);
        assert_eq!(hop.tls, known.tls, "tls, {what}");
        assert_eq!(hop.tls_version.as_deref(), known.version, "version, {what}");
        assert_eq!(hop.peer.as_deref(), known.peer, "peer, {what}");
        assert_eq!(hop.external, known.external, "external, {what}");
    }

    /// Each server's real shape, then the same server's line for a sender who put TLS words
    /// (or the server's own name) where the sender writes: HELO, reverse DNS, envelope,
    /// login. None of those may read as TLS or as a checked name.
    #[test]
    fn known_answers_of_real_servers_with_their_hostile_twins() {
        let known = [
            Known {
                server: "Postfix",
                line: "from mail.example.org (mail.example.org [192.0.2.10]) (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits)) (No client certificate requested) by mx.example.net (Postfix) with ESMTPS id 4AbCdE123 for <bob@example.net>; Tue, 5 Mar 2024 10:00:00 +0100 (CET)",
                tls: true,
                version: Some("TLSv1.3"),
                peer: Some("mail.example.org"),
                external: true,
            },
            Known {
                server: "Postfix, hostile",
                line: "from TLSv1.3 (unknown [203.0.113.5]) (Authenticated sender: using-TLSv1.3) by mx.example.net (Postfix) with ESMTP id 4AbCdE124 for <\"(using TLSv1.3 with cipher X)\"@example.net>; Tue, 5 Mar 2024 10:00:00 +0100 (CET) (envelope-from version=TLS1_3)",
                tls: false,
                version: None,
                peer: None,
                external: true,
            },
            Known {
                server: "Exim",
                line: "from relay.example.org ([203.0.113.5] helo=out.example.org) by mx.example.net with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <alice@example.org>) id 1rAbCd-000123-Ef for bob@example.net; Thu, 07 Mar 2024 12:00:00 +0000",
                tls: true,
                version: Some("TLSv1.3"),
                peer: Some("relay.example.org"),
                external: true,
            },
            Known {
                server: "Exim, hostile",
                line: "from [203.0.113.5] (helo=TLS1.3) by mx.example.net with esmtp (Exim 4.96) (envelope-from <TLS1.3@evil.example>) id 1rAbCd-000124-Ef for bob@example.net; Thu, 07 Mar 2024 12:00:00 +0000",
                tls: false,
                version: None,
                peer: None,
                external: true,
            },
            Known {
                server: "sendmail",
                line: "from relay.example.org (relay.example.org [198.51.100.7]) by mail.example.net (8.17.1/8.17.1) with ESMTPS id 41K3xQ7a012345 (version=TLSv1.2 cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NOT) for <bob@example.net>; Wed, 6 Mar 2024 08:15:30 -0500",
                tls: true,
                version: Some("TLSv1.2"),
                peer: Some("relay.example.org"),
                external: true,
            },
            Known {
                server: "sendmail, hostile",
                line: "from mail.example.net (mail.example.net [203.0.113.5] (may be forged)) by mail.example.net (8.17.1/8.17.1) with ESMTP id 41K3xQ7a012346 for <bob@example.net>; Wed, 6 Mar 2024 08:15:30 -0500",
                tls: false,
                version: None,
                peer: None,
                external: true,
            },
            Known {
                server: "OpenSMTPD",
                line: "from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.net (OpenSMTPD) with ESMTPS id 1a2b3c4d (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO) for <bob@example.net>; Tue, 5 Mar 2024 10:00:00 +0100 (CET)",
                tls: true,
                version: Some("TLSv1.3"),
                peer: Some("mail.example.org"),
                external: true,
            },
            Known {
                server: "OpenSMTPD, hostile",
                line: "from TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO (<unknown> [203.0.113.5]) by mx.example.net (OpenSMTPD) with ESMTP id 1a2b3c4e for <bob@example.net>; Tue, 5 Mar 2024 10:00:00 +0100 (CET)",
                tls: false,
                version: None,
                peer: None,
                external: true,
            },
            Known {
                server: "qmail with the TLS patch",
                line: "from unknown (HELO mail.example.org) (192.0.2.10) by mx.example.net with (DHE-RSA-AES256-GCM-SHA384 encrypted) SMTP; 5 Mar 2024 09:00:00 -0000",
                tls: true,
                version: None,
                peer: None,
                external: true,
            },
            Known {
                server: "qmail, hostile",
                line: "from unknown (HELO TLSv1.3) (203.0.113.5) by mx.example.net with SMTP; 5 Mar 2024 09:00:00 -0000",
                tls: false,
                version: None,
                peer: None,
                external: true,
            },
            Known {
                server: "Microsoft 365",
                line: "from AB1PR01MB0001.eurprd01.prod.example.net (2603:10a6:20b::10) by AB1PR01MB0002.eurprd01.prod.example.net with Microsoft SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7362.21; Sat, 9 Mar 2024 10:11:12 +0000",
                tls: true,
                version: Some("TLSv1.2"),
                peer: None,
                external: true,
            },
            Known {
                server: "Microsoft 365, hostile",
                line: "from AB1PR01MB0002.eurprd01.prod.example.net (203.0.113.5) by AB1PR01MB0002.eurprd01.prod.example.net with Microsoft SMTP Server id 15.20.7362.21; Sat, 9 Mar 2024 10:11:12 +0000",
                tls: false,
                version: None,
                peer: None,
                external: true,
            },
            Known {
                server: "Exchange 2010",
                line: "from hub1.example.org (192.0.2.1) by hub2.example.net (192.0.2.2) with Microsoft SMTP Server (TLS) id 8.2.254.0; Mon, 15 Nov 2010 08:24:25 -0800",
                tls: true,
                version: None,
                peer: None,
                external: true,
            },
            Known {
                server: "Gmail",
                line: "from mail-out.example.org (mail-out.example.org. [198.51.100.20]) by mx.google.com with ESMTPS id a1b2c3d4e5f6.12.2024.03.10.06.00.00 for <bob@example.net> (version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256); Sun, 10 Mar 2024 06:00:00 -0800 (PST)",
                tls: true,
                version: Some("TLSv1.3"),
                peer: Some("mail-out.example.org"),
                external: true,
            },
            Known {
                server: "Gmail, hostile",
                line: "from version=TLS1_3 (dsl-5.example.org. [203.0.113.5]) by mx.google.com with SMTP id a1b2c3d4e5f7 for <version=TLS1_3@example.net>; Sun, 10 Mar 2024 06:00:00 -0800 (PST)",
                tls: false,
                version: None,
                peer: Some("dsl-5.example.org"),
                external: true,
            },
            Known {
                server: "Stalwart",
                line: "from mail.example.org (mail.example.org [192.0.2.10] (AS64500 Example, NL)) (using TLSv1.3 with cipher TLS13_AES_256_GCM_SHA384) by mx.example.net (Stalwart SMTP) with ESMTPS id 49A5F2B839DB1C2; Sat, 26 Sep 2026 15:59:40 +0000",
                tls: true,
                version: Some("TLSv1.3"),
                peer: Some("mail.example.org"),
                external: true,
            },
            Known {
                server: "Fastmail (Postfix at the border)",
                line: "from mail.example.org (mail.example.org [192.0.2.10]) (using TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)) (No client certificate requested) by mx6.messagingengine.com (Postfix) with ESMTPS for <bob@fastmail.example>; Mon, 11 Mar 2024 05:47:52 -0400 (EDT)",
                tls: true,
                version: Some("TLSv1.2"),
                peer: Some("mail.example.org"),
                external: true,
            },
            Known {
                server: "Fastmail, inside",
                line: "from mx6.messagingengine.com (localhost [127.0.0.1]) by mailstore.messagingengine.com (Cyrus 3.11) with LMTPA; Mon, 11 Mar 2024 05:47:53 -0400",
                tls: false,
                version: None,
                peer: Some("localhost"),
                external: false,
            },
            Known {
                server: "Stalwart, hostile",
                line: "from mx.example.net (TLSv1.3.evil.example [203.0.113.5] (AS64500 Evil, NL)) by mx.example.net (Stalwart SMTP) with ESMTP id 49A5F2B839DB1C3; Sat, 26 Sep 2026 15:59:40 +0000",
                tls: false,
                version: None,
                peer: Some("TLSv1.3.evil.example"),
                external: true,
            },
        ];
        for known in &known {
            check(known);
        }
    }

    proptest::proptest! {
        #[test]
        fn any_header_text_gives_a_hop_without_panicking(
            text in "[a-zA-Z0-9 .:\\[\\]()<>;\"\\\\=_/\t\u{e9}-]{0,120}"
        ) {
            let hop = hop(text.clone());
            proptest::prop_assert_eq!(hop.evidence, text);
        }
    }

    #[test]
    fn a_message_without_received_headers_has_no_hops() {
        assert_eq!(parse(b"Subject: hi\n\nbody\n"), Transport::default());
    }
}
