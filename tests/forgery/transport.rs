//! The transport tricks a sender can play on the privacy index, each played as an attacker
//! would, beside the honest message, through the real binary (`fetch eml:-` then `score`).
//! A trick must never score above the honest message, and the factors must name what was
//! seen. Then a property: no header a sender puts below the trust boundary (transport,
//! authentication, Autocrypt, MIME, a filter's verdict, anything) ever raises a score.

use proptest::prelude::*;
use serde_json::Value;

use crate::support::{Home, mail, run};

/// The user's server: its authserv-id is trusted.
const CONFIG: &str = "[trust]\nauthserv_ids = [\"mx.example.net\"]\n";

/// The user's server's line for mail from the sender's server, in clear, as Postfix
/// writes it: the boundary.
pub(super) const BORDER: &str = "Received: from mail.example.org (mail.example.org [192.0.2.10])\n\
    \tby mx.example.net (Postfix) with ESMTP id 4AbC\n\
    \tfor <bob@example.net>; Mon, 01 Jan 2024 10:00:05 +0000\n";

/// The user's server's verdict, added on top of its Received line.
pub(super) const VERDICT: &str = "Authentication-Results: mx.example.net; dkim=pass header.d=example.org;\n\
    \tspf=pass smtp.mailfrom=example.org; dmarc=pass header.from=example.org\n";

/// The boundary line of a sender who said `EHLO TLSv1.3`: Postfix writes the name where it
/// writes every HELO name.
pub(super) fn border_with_tls_helo() -> String {
    BORDER.replace("from mail.example.org (", "from TLSv1.3 (")
}

/// A submission hop in TLS 1.3 the sender writes below the user's server's line.
pub(super) const FORGED_TLS_HOP: &str = "Received: from laptop.example.org ([198.51.100.3])\n\
    \tby mail.example.org (Postfix) with ESMTPSA id 9Zz\n\
    \t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits));\n\
    \tMon, 01 Jan 2024 10:00:00 +0000\n";

/// A message whose header block starts with `top` (what the servers and the sender put above
/// the ordinary headers).
fn message(top: &str) -> Vec<u8> {
    let mut raw = top.as_bytes().to_vec();
    raw.extend(mail("Message-ID: <m@example.org>\n", "hello\n"));
    raw
}

/// The record `fetch` makes of `raw`, scored by `score --record-only`.
pub(super) fn scored(home: &Home, raw: &[u8]) -> Value {
    let (code, records, stderr) = run(home
        .missive()
        .args(["fetch", "eml:-"])
        .write_stdin(raw.to_vec()));
    assert_eq!(code, 0, "{stderr}");
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let (code, mut scored, stderr) = run(home
        .missive()
        .args(["score", "--record-only"])
        .write_stdin(input));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(scored.len(), 1);
    scored.remove(0)
}

pub(super) fn score(record: &Value) -> u64 {
    record["privacy"]["score"].as_u64().expect("a score")
}

/// The evidence of factor `name`, when it applied.
pub(super) fn evidence<'r>(record: &'r Value, name: &str) -> Option<&'r str> {
    record["privacy"]["factors"]
        .as_array()
        .expect("factors")
        .iter()
        .find(|f| f["name"] == name)
        .and_then(|f| f["evidence"].as_str())
}

/// A home whose config trusts the user's server (the other forgery tests start from it too).
pub(super) fn home() -> Home {
    let home = Home::new();
    home.write_config(CONFIG);
    home
}

#[test]
fn a_helo_name_that_looks_like_a_tls_version_is_not_tls() {
    let home = home();
    let honest = scored(&home, &message(BORDER));
    let trick = scored(&home, &message(&border_with_tls_helo()));
    assert!(score(&trick) <= score(&honest), "{trick}");
    assert_eq!(evidence(&trick, "tls_all_hops"), None);
    assert_eq!(
        evidence(&trick, "tls_no_hops"),
        Some("0 of 1 external hops used TLS")
    );
    let boundary = evidence(&trick, "trust_boundary").expect("the boundary is named");
    assert!(
        boundary.contains("from TLSv1.3 (mail.example.org [192.0.2.10])"),
        "{boundary}"
    );
    assert!(boundary.contains("mx.example.net"), "{boundary}");
}

#[test]
fn a_tls_received_line_below_the_users_server_counts_for_nothing() {
    let home = home();
    let honest = scored(&home, &message(BORDER));
    let trick = scored(&home, &message(&format!("{BORDER}{FORGED_TLS_HOP}")));
    assert!(score(&trick) <= score(&honest), "{trick}");
    assert_eq!(evidence(&trick, "tls_v1_3"), None);
    let unproven = evidence(&trick, "tls_claim_unproven").expect("the claim is named");
    assert!(unproven.contains("by mail.example.org"), "{unproven}");
}

#[test]
fn a_forged_verdict_of_the_users_server_below_its_received_line_counts_for_nothing() {
    let home = home();
    let honest = scored(&home, &message(BORDER));
    // The sender wrote the user's own authserv-id: it lands below the server's Received line.
    let trick = scored(&home, &message(&format!("{BORDER}{VERDICT}")));
    assert!(score(&trick) <= score(&honest), "{trick}");
    assert_eq!(evidence(&trick, "dkim_pass"), None);
    let ignored = evidence(&trick, "authentication_untrusted").expect("the header is named");
    assert!(
        ignored.contains("below the trust boundary") && ignored.contains("mx.example.net"),
        "{ignored}"
    );

    // The same verdict where the server puts it, on top, is believed.
    let real = scored(&home, &message(&format!("{VERDICT}{BORDER}")));
    assert_eq!(
        evidence(&real, "dkim_pass"),
        Some("dkim=pass by mx.example.net")
    );
    assert!(score(&real) > score(&honest));
}

/// The honest message the property starts from: the user's server's verdict on top of its
/// Received line for mail that came over TLS 1.3, and the sender's own submission line.
const HONEST_TOP: &str = "Authentication-Results: mx.example.net; dkim=fail header.d=example.org\n\
    Received: from mail.example.org (mail.example.org [192.0.2.10])\n\
    \t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\
    \tby mx.example.net (Postfix) with ESMTPS id 4AbC; Mon, 01 Jan 2024 10:00:05 +0000\n";

/// The keydata of a real certificate, made once, for Mallory: a key, but not Alice's.
fn mallorys_keydata() -> &'static str {
    static KEYDATA: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    KEYDATA.get_or_init(|| {
        let (_, cert) =
            crate::support::openpgp::sequoia_certificate("Mallory <mallory@evil.example>");
        crate::support::openpgp::keydata(&cert)
    })
}

/// A header a sender could write: a Received line built from pieces servers and forgers use,
/// an Authentication-Results header (trusted id or not), any other header the privacy index
/// might read (Autocrypt, MIME, a filter's or a server's verdict, missive's own), or any
/// name with any value.
fn sender_header() -> impl Strategy<Value = String> {
    let host = prop_oneof![
        Just("mx.example.net"),
        Just("mail.example.org"),
        Just("TLSv1.3"),
        Just("[127.0.0.1]"),
        Just("localhost"),
        Just("relay.example.net"),
    ];
    let info = prop_oneof![
        Just("(localhost [127.0.0.1])"),
        Just("(mx.example.net [192.0.2.25])"),
        Just("(unknown [203.0.113.5])"),
        Just("([203.0.113.5] helo=mx.example.net)"),
        Just(""),
    ];
    let with = prop_oneof![
        Just("ESMTPS"),
        Just("ESMTP"),
        Just("LMTP"),
        Just("esmtps (TLS1.3)"),
        Just("ESMTP (version=TLS1_3 cipher=X)"),
        Just("local"),
    ];
    let tls = prop_oneof![
        Just(""),
        Just("(using TLSv1.3 with cipher X)"),
        Just("(TLS)")
    ];
    let received = (host.clone(), info, host, with, tls).prop_map(|(from, info, by, with, tls)| {
        format!(
            "Received: from {from} {info} {tls}\n\tby {by} with {with} id 1;\n\tMon, 01 Jan 2024 10:00:00 +0000\n"
        )
    });
    let id = prop_oneof![Just("mx.example.net"), Just("evil.example")];
    let result = prop_oneof![Just("pass"), Just("fail"), Just("none")];
    let verdict = (id, result.clone(), result).prop_map(|(id, dkim, dmarc)| {
        format!("Authentication-Results: {id}; dkim={dkim}; spf=pass; dmarc={dmarc}\n")
    });
    let autocrypt = prop_oneof![
        Just("alice@example.org"),
        Just("mallory@evil.example"),
        Just("bob@example.net"),
    ]
    .prop_flat_map(|addr| {
        let keydata = prop_oneof![
            Just("bm90IGEga2V5LCBqdXN0IHdvcmRzIHRoYXQgbG9vayBsaWtlIG9uZQ==".to_string()),
            Just(mallorys_keydata().to_string()),
            "[A-Za-z0-9+/]{0,40}",
        ];
        let name = prop_oneof![Just("Autocrypt"), Just("Autocrypt-Gossip")];
        (name, keydata).prop_map(move |(name, keydata)| {
            format!("{name}: addr={addr}; prefer-encrypt=mutual; keydata=\n {keydata}\n")
        })
    });
    let other = prop_oneof![
        Just("MIME-Version: 1.0\n"),
        Just("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\n"),
        Just("Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; micalg=pgp-sha256; boundary=\"b\"\n"),
        Just("Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\n"),
        Just("Content-Type: text/plain; charset=utf-8\n"),
        Just("X-Spam-Status: No, score=-9.9 required=5.0\n"),
        Just("X-Spam-Score: 0.0\n"),
        Just("ARC-Authentication-Results: i=1; mx.example.net; dkim=pass header.d=example.org; spf=pass; dmarc=pass\n"),
        Just("ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.net; s=arc; b=AAAA\n"),
        Just("ARC-Message-Signature: i=1; a=rsa-sha256; d=example.net; s=arc; h=from; bh=AAAA; b=AAAA\n"),
        Just("DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel; h=from:to; bh=AAAA; b=AAAA\n"),
        Just("From: Alice <alice@example.org>\n"),
        Just("From: Bob <bob@example.net>\n"),
        Just("Received-SPF: Pass (mx.example.net: domain of example.org designates 192.0.2.10 as permitted sender)\n"),
        Just("X-Missive-Privacy: score=99; grade=A\n"),
        Just("X-Missive-Privacy: 99/A sealed letter\n"),
    ]
    .prop_map(str::to_string);
    let anything = ("[A-Za-z][A-Za-z0-9-]{0,24}", "[ -~]{0,60}")
        .prop_map(|(name, value)| format!("{name}: {value}\n"));
    prop_oneof![
        2 => received,
        2 => verdict,
        2 => autocrypt,
        3 => other,
        1 => anything,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn no_header_below_the_boundary_raises_the_score(
        headers in prop::collection::vec(sender_header(), 1..4),
        at in 0usize..5,
    ) {
        let config = missive::config::Config::parse(CONFIG, std::path::Path::new("config.toml"))
            .expect("the config parses");
        let score = |raw: &[u8]| missive::privacy::score(&missive::email::read(raw), &config).score;
        let honest = message(HONEST_TOP);
        // Below the boundary line: among and between the sender's own headers.
        let rest = mail("Message-ID: <m@example.org>\n", "hello\n");
        let rest = String::from_utf8(rest).expect("ASCII");
        let mut lines: Vec<&str> = rest.split_inclusive('\n').collect();
        let insert = headers.concat();
        lines.insert(at.min(4), &insert);
        let trick = format!("{HONEST_TOP}{}", lines.concat());
        let (before, after) = (score(&honest), score(trick.as_bytes()));
        prop_assert!(after <= before, "{after} > {before}:\n{trick}");
    }
}

#[test]
fn config_check_names_the_servers_taken_as_the_users() {
    let home = home();
    let output = home.missive().args(["config", "check"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("trust: your servers are each message's topmost Received `by` host")
            && stdout.contains("mx.example.net, *.example.net"),
        "{stdout}"
    );

    home.write_config("[trust]\nservers = [\"mx1.example.net\", \"mx2.example.net\"]\n");
    let output = home.missive().args(["config", "check"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("trust: your servers (trust.servers): mx1.example.net, mx2.example.net"),
        "{stdout}"
    );
}
