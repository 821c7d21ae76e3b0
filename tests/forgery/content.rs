//! Encryption and signatures a sender can only declare earn
//! nothing. Each test builds a trick as an attacker would, with `gpg` where a real packet is
//! needed, beside the honest message, scores both through the real binary and checks that
//! the trick scores no higher and that `security.problems` or the factors name what was
//! seen.

use std::collections::BTreeMap;

use serde_json::Value;

use super::transport::{BORDER, FORGED_TLS_HOP, VERDICT, border_with_tls_helo, evidence};
use crate::support::openpgp::GnuPg;
use crate::support::{Home, run};

/// A message from Alice to Bob with `headers` (each ending in a newline) and `body`.
fn message(id: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\nTo: bob@example.net\nSubject: plans\n\
         Date: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <{id}@example.org>\n\
         MIME-Version: 1.0\n{headers}\n{body}"
    )
    .into_bytes()
}

/// The words every message here carries, in clear unless a test seals them.
const WORDS: &str = "Meet at noon by the old bridge.\n";

fn plain(id: &str) -> Vec<u8> {
    message(id, "Content-Type: text/plain; charset=utf-8\n", WORDS)
}

/// Fetches `messages` from a maildir and scores them (`--verify` when asked); the scored
/// records by Message-ID without brackets.
fn scored(home: &Home, messages: &[(&str, Vec<u8>)], verify: bool) -> BTreeMap<String, Value> {
    for (n, (_, raw)) in messages.iter().enumerate() {
        home.write(&format!("Mail/cur/{n}.M{n}.x:2,S"), raw);
    }
    let fetched = home
        .missive()
        .args(["fetch", "--all", "maildir:Mail"])
        .output()
        .expect("missive runs");
    let mut score = home.missive();
    score.arg("score");
    if verify {
        score.arg("--verify");
    }
    let (code, records, stderr) = run(score.write_stdin(fetched.stdout));
    assert_eq!(code, 0, "{stderr}");
    let by_id: BTreeMap<String, Value> = records
        .into_iter()
        .map(|r| {
            let id = r["native_id"].as_str().unwrap().trim_matches(['<', '>']);
            (id.trim_end_matches("@example.org").to_string(), r)
        })
        .collect();
    for (id, _) in messages {
        assert!(by_id.contains_key(*id), "{id} scored: {:?}", by_id.keys());
    }
    by_id
}

fn score(record: &Value) -> u64 {
    record["privacy"]["score"].as_u64().expect("a score")
}

fn factors(record: &Value) -> Vec<String> {
    record["privacy"]["factors"]
        .as_array()
        .expect("factors")
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

fn problems(record: &Value) -> Vec<String> {
    record["security"]["problems"]
        .as_array()
        .map(|p| p.iter().map(|p| p.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The trick scores no higher than the honest message, and earns none of `unearned`.
fn assert_no_gain(trick: &Value, honest: &Value, unearned: &[&str]) {
    assert!(
        score(trick) <= score(honest),
        "trick {} > honest {}: {:?}",
        score(trick),
        score(honest),
        factors(trick)
    );
    let found = factors(trick);
    for name in unearned {
        assert!(!found.iter().any(|f| f == name), "{name} in {found:?}");
    }
}

fn has_problem(record: &Value, words: &str) -> bool {
    problems(record).iter().any(|p| p.contains(words))
}

/// `data` encrypted by gpg with a passphrase: a real OpenPGP message (SKESK, SEIPD).
fn symmetric(gpg: &GnuPg, data: &str) -> String {
    let armour = gpg.run(
        &[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "x",
            "--symmetric",
            "--armor",
        ],
        Some(data.as_bytes()),
    );
    String::from_utf8(armour).unwrap()
}

/// Clear text with `block` pasted into it, as a bare PGP MESSAGE block.
fn clear_text_around(block: &str) -> String {
    format!("{WORDS}\n{block}\nSee you there.\n")
}

/// A PGP/MIME message (RFC 3156 §4) whose encrypted part carries `payload`.
fn pgp_mime(id: &str, payload: &str) -> Vec<u8> {
    message(
        id,
        "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\n",
        &pgp_mime_body(payload),
    )
}

fn pgp_mime_body(payload: &str) -> String {
    format!(
        "--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n\
         --enc\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n{payload}\n--enc--\n"
    )
}

const E2E: &[&str] = &[
    "e2e_pgp_mime",
    "e2e_pgp_inline",
    "e2e_smime",
    "secure_channel_used",
];

#[test]
fn a_bare_pgp_message_block_inside_clear_text_is_not_encryption() {
    let home = Home::new();
    let gpg = GnuPg::new();
    let block = symmetric(&gpg, WORDS);
    let trick = message(
        "trick",
        "Content-Type: text/plain; charset=utf-8\n",
        &clear_text_around(&block),
    );
    let sealed = message("sealed", "Content-Type: text/plain\n", &block);
    let records = scored(
        &home,
        &[
            ("honest", plain("honest")),
            ("trick", trick),
            ("sealed", sealed),
        ],
        false,
    );
    let trick = &records["trick"];
    assert_no_gain(trick, &records["honest"], E2E);
    assert_eq!(trick["security"]["encryption"], "none");
    assert!(
        has_problem(trick, "PGP MESSAGE block inside clear text"),
        "{:?}",
        problems(trick)
    );
    // The same block as the whole text part is inline PGP.
    assert!(factors(&records["sealed"]).contains(&"e2e_pgp_inline".to_string()));
}

#[test]
fn a_multipart_encrypted_whose_payload_is_not_openpgp_is_not_encryption() {
    let home = Home::new();
    let gpg = GnuPg::new();
    // Clear text dressed in armour: base64 of the words, which no reader needs a key for.
    use base64::Engine as _;
    let dressed = format!(
        "-----BEGIN PGP MESSAGE-----\n\n{}\n-----END PGP MESSAGE-----\n",
        base64::engine::general_purpose::STANDARD.encode(WORDS)
    );
    let records = scored(
        &home,
        &[
            ("honest", plain("honest")),
            ("trick", pgp_mime("trick", &dressed)),
            ("sealed", pgp_mime("sealed", &symmetric(&gpg, WORDS))),
        ],
        false,
    );
    let trick = &records["trick"];
    assert_no_gain(trick, &records["honest"], E2E);
    assert!(
        has_problem(
            trick,
            "multipart/encrypted whose payload is not an encrypted OpenPGP"
        ),
        "{:?}",
        problems(trick)
    );
    assert!(factors(&records["sealed"]).contains(&"e2e_pgp_mime".to_string()));
}

#[test]
fn a_real_encrypted_part_beside_clear_text_is_only_partially_encrypted() {
    let home = Home::new();
    let gpg = GnuPg::new();
    let trick = message(
        "trick",
        "Content-Type: multipart/mixed; boundary=\"mix\"\n",
        &format!(
            "--mix\nContent-Type: text/plain\n\n{WORDS}\n--mix\n\
             Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\n\n\
             {}\n--mix--\n",
            pgp_mime_body(&symmetric(&gpg, "nothing to see"))
        ),
    );
    let records = scored(
        &home,
        &[
            ("honest", pgp_mime("honest", &symmetric(&gpg, WORDS))),
            ("trick", trick),
        ],
        false,
    );
    let trick = &records["trick"];
    assert_no_gain(trick, &records["honest"], E2E);
    assert!(score(trick) < score(&records["honest"]));
    assert!(factors(trick).contains(&"partially_encrypted".to_string()));
    assert_eq!(trick["security"]["partially_encrypted"], "pgp-mime");
    assert!(has_problem(trick, "encrypted part beside parts in clear"));
}

/// A part that calls itself S/MIME encrypted (`smime.p7m`) but carries the words in plain
/// base64: its header lines and its body.
fn fake_p7m() -> (&'static str, String) {
    use base64::Engine as _;
    (
        "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"\n\
         Content-Disposition: attachment; filename=\"smime.p7m\"\n\
         Content-Transfer-Encoding: base64\n",
        format!(
            "{}\n",
            base64::engine::general_purpose::STANDARD.encode(WORDS)
        ),
    )
}

#[test]
fn a_fake_smime_p7m_part_is_not_encryption() {
    let home = Home::new();
    let (headers, body) = fake_p7m();
    let fake = message("trick", headers, &body);
    let records = scored(
        &home,
        &[("honest", plain("honest")), ("trick", fake)],
        false,
    );
    let trick = &records["trick"];
    assert_no_gain(trick, &records["honest"], E2E);
    assert_eq!(trick["security"]["encryption"], "none");
    assert!(
        has_problem(trick, "not CMS EnvelopedData"),
        "{:?}",
        problems(trick)
    );
}

/// Alice's Autocrypt header (mutual) carrying `keydata`.
fn autocrypt(keydata: &str) -> String {
    format!("Autocrypt: addr=alice@example.org; prefer-encrypt=mutual; keydata=\n {keydata}\n")
}

/// Base64 that is no certificate: words that look like one.
const GARBAGE_KEYDATA: &str = "bm90IGEga2V5LCBqdXN0IHdvcmRzIHRoYXQgbG9vayBsaWtlIG9uZQ==";

#[test]
fn an_autocrypt_header_with_garbage_keydata_earns_nothing() {
    let home = Home::new();
    let gpg = GnuPg::new();
    let alice = gpg.generate("Alice <alice@example.org>");
    // Autocrypt keys must encrypt: `generate` makes a signing key only.
    gpg.run(
        &[
            "--passphrase",
            "",
            "--quick-add-key",
            &alice,
            "cv25519",
            "encr",
            "never",
        ],
        None,
    );
    let key = gpg.run(&["--export", "alice@example.org"], None);
    let header = |keydata: &str| format!("{}Content-Type: text/plain\n", autocrypt(keydata));
    let garbage = header(GARBAGE_KEYDATA);
    let real = header(&crate::support::openpgp::keydata(&key));
    let records = scored(
        &home,
        &[
            ("honest", plain("honest")),
            ("trick", message("trick", &garbage, WORDS)),
            ("real", message("real", &real, WORDS)),
        ],
        false,
    );
    let trick = &records["trick"];
    assert_no_gain(
        trick,
        &records["honest"],
        &["autocrypt_mutual", "autocrypt_nopreference"],
    );
    assert_eq!(trick["security"]["autocrypt"], Value::Null);
    assert!(
        has_problem(trick, "Autocrypt header for alice@example.org"),
        "{:?}",
        problems(trick)
    );
    assert!(factors(&records["real"]).contains(&"autocrypt_mutual".to_string()));
}

/// A multipart/signed message (RFC 3156 §5) from Alice whose text `signer` signed with gpg.
fn pgp_mime_signed(gpg: &GnuPg, id: &str, signer: &str) -> Vec<u8> {
    let entity = format!("Content-Type: text/plain; charset=utf-8\n\n{WORDS}");
    let signature = gpg.run(
        &["--armor", "--detach-sign", "--local-user", signer],
        Some(entity.replace('\n', "\r\n").as_bytes()),
    );
    message(
        id,
        "Content-Type: multipart/signed; micalg=pgp-sha256;\n protocol=\"application/pgp-signature\"; boundary=\"sig\"\n",
        &format!(
            "--sig\n{entity}\n--sig\nContent-Type: application/pgp-signature\n\n{}\n--sig--\n",
            String::from_utf8(signature).unwrap()
        ),
    )
}

fn import(home: &Home, key: Vec<u8>) {
    home.missive()
        .args(["keys", "import"])
        .write_stdin(key)
        .assert()
        .success();
}

/// The binding states of `address`, as `keys list` prints them, by fingerprint.
fn binding_states(home: &Home, address: &str) -> BTreeMap<String, String> {
    let (code, records, stderr) = run(home.missive().args(["keys", "list"]));
    assert_eq!(code, 0, "{stderr}");
    let mut states = BTreeMap::new();
    for key in records {
        for binding in key["bindings"].as_array().into_iter().flatten() {
            if binding["address"] == address {
                states.insert(
                    key["fingerprint"].as_str().unwrap().to_string(),
                    binding["state"].as_str().unwrap().to_string(),
                );
            }
        }
    }
    states
}

#[test]
fn a_signature_proves_the_sender_only_by_the_from_addresss_bound_key() {
    let home = Home::new();
    let gpg = GnuPg::new();
    let alice = gpg.generate("Alice <alice@example.org>");
    let carol = gpg.generate("Carol <carol@example.net>");
    import(&home, gpg.run(&["--export", &alice, &carol], None));

    // Alice's second key, made by someone who wants to speak as her: in conflict.
    let forger = GnuPg::new();
    let second = forger.generate("Alice <alice@example.org>");
    import(&home, forger.run(&["--export", &second], None));
    let states = binding_states(&home, "alice@example.org");
    assert_eq!(
        states.get(&alice).map(String::as_str),
        Some("tofu"),
        "{states:?}"
    );
    assert_eq!(
        states.get(&second).map(String::as_str),
        Some("conflict"),
        "{states:?}"
    );

    let records = scored(
        &home,
        &[
            ("own", pgp_mime_signed(&gpg, "own", &alice)),
            ("carol", pgp_mime_signed(&gpg, "carol", &carol)),
            ("conflict", pgp_mime_signed(&forger, "conflict", &second)),
        ],
        true,
    );
    let own = &records["own"];
    assert_eq!(own["security"]["signature"], "valid");
    assert!(factors(own).contains(&"signature_valid".to_string()));
    for trick in ["carol", "conflict"] {
        let record = &records[trick];
        assert_eq!(record["security"]["signature"], "by-other", "{trick}");
        assert!(
            factors(record).contains(&"signed_by_other".to_string()),
            "{trick}"
        );
        assert_no_gain(record, own, &["signature_valid"]);
        assert!(score(record) < score(own), "{trick}");
    }
}

/// A text `signer` clearsigned with gpg, as anyone can copy it from a mail or a web page.
fn clearsigned_by(gpg: &GnuPg, signer: &str) -> String {
    String::from_utf8(gpg.run(
        &["--clearsign", "--local-user", signer],
        Some(b"I agree with every word.\n"),
    ))
    .unwrap()
}

#[test]
fn another_persons_clearsigned_text_pasted_into_the_body_is_not_a_signature() {
    let home = Home::new();
    let gpg = GnuPg::new();
    let carol = gpg.generate("Carol <carol@example.net>");
    import(&home, gpg.run(&["--export", &carol], None));
    let clearsigned = clearsigned_by(&gpg, &carol);
    let pasted = message(
        "pasted",
        "Content-Type: text/plain; charset=utf-8\n",
        &format!("{WORDS}\nAs Carol said:\n\n{clearsigned}"),
    );
    let whole = message(
        "whole",
        "Content-Type: text/plain; charset=utf-8\n",
        &clearsigned,
    );
    let records = scored(
        &home,
        &[
            ("honest", plain("honest")),
            ("pasted", pasted),
            ("whole", whole),
        ],
        true,
    );
    let honest = &records["honest"];
    let pasted = &records["pasted"];
    assert_no_gain(
        pasted,
        honest,
        &[
            "signature_valid",
            "signature_unverified",
            "signature_unknown_key",
        ],
    );
    assert_eq!(pasted["security"]["signature"], "none");
    assert!(
        has_problem(pasted, "clearsigned block inside unsigned text"),
        "{:?}",
        problems(pasted)
    );
    // Sent as the whole body, from Alice, it is Carol's signature: shown, no points.
    let whole = &records["whole"];
    assert_eq!(whole["security"]["signature"], "by-other");
    assert_no_gain(whole, honest, &["signature_valid"]);
}

#[test]
fn a_signed_part_among_unsigned_ones_is_only_partially_signed() {
    let home = Home::new();
    let gpg = GnuPg::new();
    let alice = gpg.generate("Alice <alice@example.org>");
    import(&home, gpg.run(&["--export", &alice], None));
    let signed = pgp_mime_signed(&gpg, "signed", &alice);
    // The attacker keeps Alice's signed part and adds words of their own beside it.
    let raw = String::from_utf8(signed.clone()).unwrap();
    let (headers, body) = raw.split_once("\n\n").unwrap();
    let signed_type = headers
        .split_once("Content-Type: ")
        .map(|(_, t)| format!("Content-Type: {t}"))
        .unwrap();
    let wrapped = message(
        "wrapped",
        "Content-Type: multipart/mixed; boundary=\"mix\"\n",
        &format!(
            "--mix\n{signed_type}\n\n{body}\n--mix\nContent-Type: text/plain\n\n\
             P.S. Send the money to the new account.\n--mix--\n"
        ),
    );
    let records = scored(&home, &[("signed", signed), ("wrapped", wrapped)], true);
    let wrapped = &records["wrapped"];
    assert_eq!(records["signed"]["security"]["signature"], "valid");
    assert_no_gain(wrapped, &records["signed"], &["signature_valid"]);
    assert!(factors(wrapped).contains(&"partially_signed".to_string()));
    assert_eq!(wrapped["security"]["signature"], "none");
    assert!(has_problem(wrapped, "signed part beside unsigned ones"));
}

#[test]
fn all_the_tricks_together_score_no_higher_than_the_honest_message() {
    let home = super::transport::home();
    let gpg = GnuPg::new();
    let carol = gpg.generate("Carol <carol@example.net>");
    import(&home, gpg.run(&["--export", &carol], None));

    // Above the sender's own headers: the user's server's line for a sender that said
    // `EHLO TLSv1.3`, then, written by the sender, a TLS submission hop and the user's
    // server's verdict.
    let top = format!("{}{FORGED_TLS_HOP}{VERDICT}", border_with_tls_helo());
    let (p7m_headers, p7m_body) = fake_p7m();
    let text = format!(
        "{}\nAs Carol said:\n\n{}",
        clear_text_around(&symmetric(&gpg, WORDS)),
        clearsigned_by(&gpg, &carol)
    );
    let mut trick = top.into_bytes();
    trick.extend(message(
        "trick",
        &format!(
            "{}Content-Type: multipart/mixed; boundary=\"mix\"\n",
            autocrypt(GARBAGE_KEYDATA)
        ),
        &format!(
            "--mix\nContent-Type: text/plain; charset=utf-8\n\n{text}\n\
             --mix\n{p7m_headers}\n{p7m_body}--mix--\n"
        ),
    ));
    let mut honest = BORDER.as_bytes().to_vec();
    honest.extend(plain("honest"));

    let records = scored(&home, &[("honest", honest), ("trick", trick)], true);
    let trick = &records["trick"];
    let unearned: Vec<&str> = E2E
        .iter()
        .copied()
        .chain([
            "signature_valid",
            "signature_unverified",
            "signature_unknown_key",
            "autocrypt_mutual",
            "autocrypt_nopreference",
            "dkim_pass",
            "spf_pass",
            "dmarc_pass",
            "tls_all_hops",
            "tls_some_hops",
            "tls_v1_3",
            "tls_v1_2",
        ])
        .collect();
    assert_no_gain(trick, &records["honest"], &unearned);
    assert_eq!(trick["security"]["encryption"], "none");
    assert_eq!(trick["security"]["signature"], "none");
    for seen in [
        "PGP MESSAGE block inside clear text",
        "clearsigned block inside unsigned text",
        "not CMS EnvelopedData",
        "Autocrypt header for alice@example.org",
    ] {
        assert!(has_problem(trick, seen), "{seen}: {:?}", problems(trick));
    }
    let unproven = evidence(trick, "tls_claim_unproven").expect("the TLS hop is named");
    assert!(unproven.contains("by mail.example.org"), "{unproven}");
    let ignored = evidence(trick, "authentication_untrusted").expect("the verdict is named");
    assert!(ignored.contains("below the trust boundary"), "{ignored}");
    let boundary = evidence(trick, "trust_boundary").expect("the boundary is named");
    assert!(boundary.contains("from TLSv1.3"), "{boundary}");
}
