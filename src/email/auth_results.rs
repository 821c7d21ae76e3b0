//! Parses Authentication-Results headers (RFC 8601) into the dkim, spf and dmarc results of
//! each, with where each stands; which to believe (a trusted authserv-id, above the trust
//! boundary) is the privacy index's decision, not this module's.
//!
//! ARC-Authentication-Results (RFC 8617) is a different header and is not read here: it
//! reports what an earlier hop claims to have seen.

use super::header_text::{comment_end, headers, quote_end};
use crate::record::Authentication;

/// Every Authentication-Results header that says anything, in header order, each with its
/// place in the header block.
pub(crate) fn all(message: &mail_parser::Message<'_>) -> Vec<Authentication> {
    headers(message, "Authentication-Results")
        .filter_map(|(position, text)| {
            parse(&text).map(|auth| Authentication {
                position: Some(position),
                ..auth
            })
        })
        .collect()
}

/// One header value, unfolded; `None` when it is empty.
///
/// A header without an authserv-id (Microsoft 365 writes `spf=pass …; dkim=…` straight
/// away) keeps its results with an empty `authserv_id`, so the record shows what was
/// claimed while no configured authserv-id can match it.
fn parse(text: &str) -> Option<Authentication> {
    let statements = statements(text);
    let (head, results) = statements.split_first()?;
    // authserv-id [CFWS authres-version]; the version says nothing we use.
    let (authserv_id, results) = if is_resinfo(head) {
        (String::new(), statements.as_slice())
    } else {
        match words(head).into_iter().next() {
            Some(word) => (word, results),
            None if results.is_empty() => return None,
            None => (String::new(), results),
        }
    };
    let mut auth = Authentication {
        authserv_id,
        evidence: text.to_string(),
        ..Authentication::default()
    };
    for statement in results {
        // `none` (or anything else without `=`) carries no result.
        let Some((method, rest)) = statement.split_once('=') else {
            continue;
        };
        // method [ "/" method-version ]
        let method = method.split('/').next().unwrap_or_default().trim();
        let Some(result) = words(rest).into_iter().next() else {
            continue;
        };
        if result.is_empty()
            || !result
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            continue;
        }
        let slot = match method.to_ascii_lowercase().as_str() {
            "dkim" => &mut auth.dkim,
            "spf" => &mut auth.spf,
            "dmarc" => &mut auth.dmarc,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(result.to_ascii_lowercase());
        }
    }
    Some(auth)
}

/// Whether the first statement is already `method=result` rather than an authserv-id: an
/// authserv-id is a token or quoted string, and a token cannot hold `=`.
fn is_resinfo(head: &str) -> bool {
    let head = head.trim_start();
    !head.starts_with('"')
        && head
            .split_whitespace()
            .next()
            .is_some_and(|w| w.contains('='))
}

/// The header split at each `;` outside comments and quoted strings, with comments taken
/// out (they may hold `;`, `=` and parentheses of their own).
fn statements(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut at = 0;
    let mut copied = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'(' => {
                current.push_str(text.get(copied..at).unwrap_or_default());
                current.push(' ');
                at = comment_end(bytes, at);
                copied = at;
            }
            b'"' => at = quote_end(bytes, at),
            b';' => {
                current.push_str(text.get(copied..at).unwrap_or_default());
                statements.push(std::mem::take(&mut current));
                at += 1;
                copied = at;
            }
            _ => at += 1,
        }
    }
    current.push_str(text.get(copied..).unwrap_or_default());
    statements.push(current);
    statements
}

/// White-space separated words, a quoted string counting as one word without its quotes.
fn words(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if byte.is_ascii_whitespace() {
            at += 1;
        } else if byte == b'"' {
            let end = quote_end(bytes, at);
            let inner = text.get(at + 1..end).unwrap_or_default();
            let inner = inner.strip_suffix('"').unwrap_or(inner);
            words.push(unescape(inner));
            at = end;
        } else {
            let start = at;
            while bytes
                .get(at)
                .is_some_and(|&b| !b.is_ascii_whitespace() && b != b'"')
            {
                at += 1;
            }
            words.push(text.get(start..at).unwrap_or_default().to_string());
        }
    }
    words
}

/// A quoted string's content with its quoted-pairs (`\"`, `\\`) resolved.
fn unescape(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &[u8]) -> Vec<Authentication> {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("test message parses");
        all(&message)
    }

    fn one(value: &str) -> Authentication {
        parse(value).expect("header has an authserv-id")
    }

    #[test]
    fn a_gmail_style_header_gives_all_three_results() {
        let results = read(
            b"Authentication-Results: mx.example.net;\r\n\
              \x20      dkim=pass header.i=@example.org header.s=s1 header.b=AbCdEf12;\r\n\
              \x20      spf=pass (example.net: domain of alice@example.org designates 192.0.2.1 as permitted sender) smtp.mailfrom=alice@example.org;\r\n\
              \x20      dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.org\r\n\
              Subject: hi\r\n\r\nbody\r\n",
        );
        assert_eq!(results.len(), 1);
        let auth = &results[0];
        assert_eq!(auth.authserv_id, "mx.example.net");
        assert_eq!(auth.dkim.as_deref(), Some("pass"));
        assert_eq!(auth.spf.as_deref(), Some("pass"));
        assert_eq!(auth.dmarc.as_deref(), Some("pass"));
        assert!(auth.evidence.starts_with("mx.example.net; dkim=pass"));
        assert!(!auth.evidence.contains('\n'));
    }

    #[test]
    fn a_microsoft_style_header_with_action_and_compauth_is_read() {
        let auth = one(
            "spf=softfail (sender IP is 192.0.2.9) smtp.mailfrom=example.org; \
             dkim=none (message not signed) header.d=none;dmarc=fail action=none \
             header.from=example.org;compauth=fail reason=001",
        );
        // Microsoft leaves the authserv-id out: the results stay, vouched for by nobody.
        assert_eq!(auth.authserv_id, "");
        assert_eq!(auth.spf.as_deref(), Some("softfail"));
        assert_eq!(auth.dkim.as_deref(), Some("none"));
        assert_eq!(auth.dmarc.as_deref(), Some("fail"));
    }

    #[test]
    fn a_fastmail_style_header_with_a_version_and_many_dkim_results_keeps_the_first() {
        let auth = one(
            "mx1.example.net 1; dkim=pass (2048-bit rsa key sha256) header.d=example.org \
             header.i=@example.org header.b=abc header.a=rsa-sha256 header.s=fm1 x-bits=2048; \
             dkim=fail (body hash did not verify) header.d=lists.example.org; \
             dmarc=pass policy.published-domain-policy=none; spf=neutral smtp.mailfrom=x@example.org; \
             x-aligned-from=pass (Address match); x-me-sender=none",
        );
        assert_eq!(auth.authserv_id, "mx1.example.net");
        assert_eq!(auth.dkim.as_deref(), Some("pass"));
        assert_eq!(auth.dmarc.as_deref(), Some("pass"));
        assert_eq!(auth.spf.as_deref(), Some("neutral"));
    }

    #[test]
    fn comments_may_hold_semicolons_equals_and_nested_parentheses() {
        let auth = one(
            "mx.example.net; (dkim=fail; (spf=fail) \\) dmarc=fail) dkim = Pass (good; sig=ok) \
             header.d=example.org; spf=PASS (a \"quoted ; (string\") smtp.mailfrom=example.org",
        );
        assert_eq!(auth.dkim.as_deref(), Some("pass"));
        assert_eq!(auth.spf.as_deref(), Some("pass"));
        assert_eq!(auth.dmarc, None);
    }

    #[test]
    fn quoted_strings_may_hold_semicolons() {
        let auth = one("\"mx example;net\"; dkim=pass reason=\"signature ok; key=2048\"; spf=fail");
        assert_eq!(auth.authserv_id, "mx example;net");
        assert_eq!(auth.dkim.as_deref(), Some("pass"));
        assert_eq!(auth.spf.as_deref(), Some("fail"));
    }

    #[test]
    fn method_versions_are_set_aside() {
        let auth = one("mx.example.net; dkim/1=pass header.d=example.org");
        assert_eq!(auth.dkim.as_deref(), Some("pass"));
    }

    #[test]
    fn none_means_no_results() {
        let auth = one("mx.example.net 1; none");
        assert_eq!(auth.authserv_id, "mx.example.net");
        assert_eq!((auth.dkim, auth.spf, auth.dmarc), (None, None, None));
        assert_eq!(auth.evidence, "mx.example.net 1; none");
    }

    #[test]
    fn several_headers_stay_separate_in_header_order() {
        let results = read(
            b"Authentication-Results: inbound.example.net; dkim=pass header.d=example.org\n\
              ARC-Authentication-Results: i=1; relay.example.com; dkim=fail; spf=fail\n\
              Authentication-Results: relay.example.com;\n\
              \tspf=fail smtp.mailfrom=example.org\n\
              authentication-results: filter.example.net; none\n\
              Subject: x\n\nbody\n",
        );
        let ids: Vec<_> = results.iter().map(|a| a.authserv_id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "inbound.example.net",
                "relay.example.com",
                "filter.example.net"
            ]
        );
        assert_eq!(results[0].dkim.as_deref(), Some("pass"));
        assert_eq!(results[0].spf, None);
        assert_eq!(results[1].spf.as_deref(), Some("fail"));
        assert_eq!(results[1].dkim, None);
    }

    #[test]
    fn arc_authentication_results_alone_give_nothing() {
        let results = read(
            b"ARC-Authentication-Results: i=1; mx.example.net; dkim=pass\n\
              X-Original-Authentication-Results: mx.example.net; spf=pass\n\
              Subject: x\n\nbody\n",
        );
        assert!(results.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_header_text_parses_without_panicking(
            text in "[a-z0-9 .@()\";=/\\\\\u{e9}-]{0,120}"
        ) {
            let _ = parse(&text);
        }
    }

    #[test]
    fn malformed_headers_do_not_panic() {
        for value in [
            "",
            ";",
            ";;;",
            "   ; dkim=pass",
            "mx.example.net",
            "mx.example.net;",
            "mx.example.net; dkim=",
            "mx.example.net; =pass",
            "mx.example.net; dkim=(unclosed comment",
            "mx.example.net; dkim=\"unclosed quote",
            "mx.example.net; dkim=pass (((",
            "mx.example.net; dkim=pass )))",
            "mx.example.net; dkim=p\u{e4}ss; spf=\u{fffd}",
            "\"\"; dkim=pass",
            "mx.example.net; dkim=pass\\",
            "(only a comment)",
        ] {
            let _ = parse(value);
        }
        assert_eq!(parse(""), None);
        assert_eq!(parse("(only a comment)"), None);
        let nameless = one("   ; dkim=pass");
        assert_eq!(nameless.authserv_id, "");
        assert_eq!(nameless.dkim.as_deref(), Some("pass"));
        assert_eq!(one("\"\"; dkim=pass").authserv_id, "");
        assert_eq!(one("mx.example.net; dkim=").dkim, None);
        assert_eq!(one("mx.example.net; dkim=p\u{e4}ss").dkim, None);
        assert_eq!(one("mx.example.net").dkim, None);
        let results = read(b"Authentication-Results: \xff\xfe; dkim=pass\n\nbody\n");
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].dkim.as_deref(), Some("pass"));
    }
}
