//! Decrypting with the user's own key (issue 7): mail that `gpg` encrypts (and signs) to the
//! key `keys generate` made is decrypted by `score --decrypt`, `sync` and `keys learn
//! --decrypt`; mail to another key or a wrong passphrase is reported and the message kept;
//! the decrypted text reaches the index only when the config allows; Autocrypt-Gossip
//! inside mail the sender signed binds the other recipients' keys as `gossip`.

use crate::support::openpgp::{GnuPg, autocrypt_mail, keydata, sequoia_certificate};
use crate::support::{Home, run};

pub(crate) const PASSPHRASE: &str = "correct-horse";
const SECRET_WORD: &str = "xylophone";

/// A home with the user's own key (protected by [`PASSPHRASE`]), `config` after the
/// identity, and a GnuPG home that holds Alice's signing key and the user's public key.
pub(crate) fn with_own_key(config: &str) -> (Home, GnuPg) {
    let home = Home::new();
    home.write_config(&format!(
        "[identity]\nname = \"Sam\"\naddresses = [\"sam@example.com\"]\n{config}"
    ));
    let (code, _, stderr) = run(home.missive().args([
        "keys",
        "generate",
        "--passphrase-command",
        &format!("echo {PASSPHRASE}"),
    ]));
    assert_eq!(code, 0, "{stderr}");
    let ours = home
        .missive()
        .args(["keys", "export", "sam@example.com"])
        .output()
        .unwrap();
    let gpg = GnuPg::new();
    gpg.run(&["--import"], Some(&ours.stdout));
    gpg.generate("Alice <alice@example.org>");
    (home, gpg)
}

/// `data` encrypted by gpg to `recipient`, signed by Alice when `sign`, armoured.
pub(crate) fn encrypt(gpg: &GnuPg, recipient: &str, sign: bool, data: &[u8]) -> String {
    let mut args = vec![
        "--trust-model",
        "always",
        "--armor",
        "--encrypt",
        "--recipient",
        recipient,
    ];
    if sign {
        args.extend(["--sign", "--local-user", "alice@example.org"]);
    }
    String::from_utf8(gpg.run(&args, Some(data))).unwrap()
}

/// A PGP/MIME (RFC 3156) message from Alice to `to`, whose payload is `entity` encrypted
/// by gpg to `recipient` and signed in the same OpenPGP message (§6.2).
fn pgp_mime(gpg: &GnuPg, id: &str, to: &str, recipient: &str, entity: &str) -> Vec<u8> {
    encrypted_mail(gpg, id, to, recipient, true, entity)
}

fn encrypted_mail(
    gpg: &GnuPg,
    id: &str,
    to: &str,
    recipient: &str,
    sign: bool,
    entity: &str,
) -> Vec<u8> {
    format!(
        "From: alice@example.org\nTo: {to}\nSubject: ...\nDate: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <{id}@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\n\n--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--enc\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n{}\n--enc--\n",
        encrypt(gpg, recipient, sign, entity.replace('\n', "\r\n").as_bytes())
    )
    .into_bytes()
}

/// The payload of an encrypted message: a text part with the secret word and a PDF,
/// after `headers` (Autocrypt-Gossip).
pub(crate) fn entity(headers: &str) -> String {
    format!(
        "Content-Type: multipart/mixed; boundary=\"inner\"\n{headers}\n--inner\nContent-Type: text/plain; charset=utf-8\n\nThe secret word is {SECRET_WORD}.\n--inner\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"plan.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--inner--\n"
    )
}

pub(crate) fn fetched(home: &Home) -> Vec<u8> {
    let output = home
        .missive()
        .args(["fetch", "--all", "maildir:Mail"])
        .output()
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

fn by_id<'r>(records: &'r [serde_json::Value], id: &str) -> &'r serde_json::Value {
    records
        .iter()
        .find(|r| r["native_id"] == id)
        .unwrap_or_else(|| panic!("{id} in {records:?}"))
}

#[test]
fn mail_gpg_signed_and_encrypted_to_our_key_decrypts_and_mail_to_another_key_is_reported_and_kept()
{
    let (home, gpg) = with_own_key(&format!(
        "[keys]\npassphrase_command = \"echo {PASSPHRASE}\"\n"
    ));
    home.missive()
        .args(["keys", "import"])
        .write_stdin(gpg.run(&["--armor", "--export", "alice@example.org"], None))
        .assert()
        .success();
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &pgp_mime(
            &gpg,
            "mime",
            "sam@example.com",
            "sam@example.com",
            &entity(""),
        ),
    );
    let inline = format!(
        "From: alice@example.org\nTo: sam@example.com\nSubject: inline\nDate: Mon, 01 Jan 2024 11:00:00 +0000\nMessage-ID: <inline@example.org>\n\n{}",
        encrypt(&gpg, "sam@example.com", true, b"Meet at noon.\n")
    );
    home.write("Mail/cur/2.M2.x:2,S", inline.as_bytes());
    let (_, dave) = sequoia_certificate("Dave <dave@example.org>");
    gpg.run(&["--import"], Some(&dave));
    home.write(
        "Mail/cur/3.M3.x:2,S",
        &pgp_mime(
            &gpg,
            "other",
            "dave@example.org",
            "dave@example.org",
            &entity(""),
        ),
    );

    let (code, scored, stderr) = run(home
        .missive()
        .args(["score", "--decrypt"])
        .write_stdin(fetched(&home)));
    assert_eq!(code, 1, "one message could not be decrypted: {stderr}");
    assert_eq!(scored.len(), 3, "every message is kept");

    let mime = by_id(&scored, "<mime@example.org>");
    assert_eq!(mime["security"]["decrypted"], true);
    assert_eq!(
        mime["security"]["encryption"], "pgp-mime",
        "it was encrypted on its way"
    );
    assert_eq!(mime["security"]["signed"], "pgp-mime");
    assert_eq!(mime["security"]["signature"], "valid");
    let inline = by_id(&scored, "<inline@example.org>");
    assert_eq!(inline["security"]["decrypted"], true);
    assert_eq!(inline["security"]["encryption"], "pgp-inline");
    assert_eq!(inline["security"]["signature"], "valid");
    for record in [mime, inline] {
        assert!(
            !record["text"]
                .as_str()
                .unwrap_or_default()
                .contains(SECRET_WORD)
                && !record.to_string().contains("noon"),
            "no decrypted text without [index] decrypted: {record}"
        );
    }

    let other = by_id(&scored, "<other@example.org>");
    assert!(other["security"].get("decrypted").is_none(), "{other}");
    assert_eq!(other["security"]["encryption"], "pgp-mime");
    assert!(
        stderr.contains("<other@example.org>") && stderr.contains("encrypted to other keys"),
        "{stderr}"
    );
    assert!(!stderr.contains(PASSPHRASE) && !stderr.contains(SECRET_WORD));
}

#[test]
fn a_wrong_passphrase_is_reported_for_each_message_and_never_shown() {
    let (home, gpg) = with_own_key("[keys]\npassphrase_command = \"echo battery-staple\"\n");
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &pgp_mime(
            &gpg,
            "mime",
            "sam@example.com",
            "sam@example.com",
            &entity(""),
        ),
    );
    let (code, scored, stderr) = run(home
        .missive()
        .args(["score", "--decrypt"])
        .write_stdin(fetched(&home)));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(scored.len(), 1, "the message is kept");
    assert!(scored[0]["security"].get("decrypted").is_none());
    assert!(
        stderr.contains("<mime@example.org>") && stderr.contains("passphrase does not unlock"),
        "{stderr}"
    );
    assert!(!stderr.contains("battery-staple") && !stderr.contains(PASSPHRASE));

    // Without a passphrase command and without a terminal, the error says what to set.
    home.write_config("[identity]\naddresses = [\"sam@example.com\"]\n");
    let (code, _, stderr) = run(home
        .missive()
        .args(["score", "--decrypt"])
        .write_stdin(fetched(&home)));
    assert_eq!(code, 1);
    assert!(stderr.contains("passphrase_command"), "{stderr}");
}

fn search_count(home: &Home, query: &str) -> String {
    let output = home
        .missive()
        .args(["search", "-o", "count", "--", query])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

fn score_and_index(home: &Home) -> Vec<serde_json::Value> {
    let scored = home
        .missive()
        .args(["score", "--decrypt"])
        .write_stdin(fetched(home))
        .output()
        .unwrap();
    assert!(
        scored.status.success(),
        "{}",
        String::from_utf8_lossy(&scored.stderr)
    );
    home.missive()
        .arg("index")
        .write_stdin(scored.stdout.clone())
        .assert()
        .success();
    String::from_utf8(scored.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn decrypted_text_reaches_the_index_only_when_the_config_allows_it() {
    let passphrase = format!("[keys]\npassphrase_command = \"echo {PASSPHRASE}\"\n");
    let (closed, gpg) = with_own_key(&passphrase);
    closed.write(
        "Mail/cur/1.M1.x:2,S",
        &pgp_mime(
            &gpg,
            "mime",
            "sam@example.com",
            "sam@example.com",
            &entity(""),
        ),
    );
    let records = score_and_index(&closed);
    assert_eq!(records[0]["security"]["decrypted"], true);
    assert_eq!(records[0]["subject"], "...");
    assert_eq!(search_count(&closed, "is:encrypted"), "1");
    assert_eq!(search_count(&closed, SECRET_WORD), "0");
    assert_eq!(search_count(&closed, "attachment:plan"), "0");

    let (open, gpg) = with_own_key(&format!("{passphrase}[index]\ndecrypted = true\n"));
    let protected = entity("Subject: Protected plans\n");
    open.write(
        "Mail/cur/1.M1.x:2,S",
        &pgp_mime(
            &gpg,
            "mime",
            "sam@example.com",
            "sam@example.com",
            &protected,
        ),
    );
    let records = score_and_index(&open);
    assert_eq!(
        records[0]["subject"], "Protected plans",
        "the subject inside wins"
    );
    assert!(records[0]["text"].as_str().unwrap().contains(SECRET_WORD));
    assert_eq!(records[0]["attachments"][0]["filename"], "plan.pdf");
    assert_eq!(search_count(&open, SECRET_WORD), "1");
    assert_eq!(search_count(&open, "is:encrypted"), "1");
}

#[test]
fn sync_decrypts_when_the_config_asks_and_indexes_the_text_when_allowed() {
    let (home, gpg) = with_own_key(&format!(
        "[accounts.mail]\nsource = \"maildir:~/Mail\"\n[keys]\npassphrase_command = \"echo {PASSPHRASE}\"\ndecrypt = true\n[index]\ndecrypted = true\n"
    ));
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &pgp_mime(
            &gpg,
            "mime",
            "sam@example.com",
            "sam@example.com",
            &entity(""),
        ),
    );
    let (code, _, stderr) = run(home.missive().args(["sync", "--quiet"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(search_count(&home, SECRET_WORD), "1");
    let (_, found, _) = run(home.missive().args(["search", "is:encrypted"]));
    assert_eq!(found[0]["security"]["decrypted"], true);
    assert_eq!(
        found[0]["security"]["signature"], "unknown-key",
        "Alice is not known"
    );
}

/// An `Autocrypt-Gossip` header for `address` with `key` (binary), folded.
pub(crate) fn gossip_header(address: &str, key: &[u8]) -> String {
    format!(
        "Autocrypt-Gossip: addr={address}; keydata=\n {}\n",
        keydata(key)
    )
}

#[test]
fn gossip_in_encrypted_mail_binds_the_other_recipients_keys_and_never_overrides_a_direct_key() {
    let (home, gpg) = with_own_key(&format!(
        "[keys]\npassphrase_command = \"echo {PASSPHRASE}\"\n"
    ));
    let (bob, bob_key) = sequoia_certificate("Bob <bob@example.net>");
    let (carol_gossiped, carol_gossiped_key) = sequoia_certificate("Carol <carol@example.net>");
    let (eve, eve_key) = sequoia_certificate("Eve <eve@example.net>");
    let carol = GnuPg::new();
    let carol_direct = carol.generate("Carol <carol@example.net>");
    // Carol announced her own key before.
    home.write(
        "Mail/cur/0.M0.x:2,S",
        &autocrypt_mail(
            "carol@example.net",
            "Sun, 31 Dec 2023 10:00:00 +0000",
            "nopreference",
            &carol.run(&["--export", "carol@example.net"], None),
        ),
    );
    // Gossip is believed only from mail signed by the sender's bound key, about the
    // recipients its protected headers name.
    home.missive()
        .args(["keys", "import"])
        .write_stdin(gpg.run(&["--armor", "--export", "alice@example.org"], None))
        .assert()
        .success();
    let headers = "To: sam@example.com, bob@example.net, carol@example.net\n".to_string()
        + &gossip_header("bob@example.net", &bob_key)
        + &gossip_header("carol@example.net", &carol_gossiped_key)
        + &gossip_header("eve@example.net", &eve_key);
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &pgp_mime(
            &gpg,
            "gossip",
            "sam@example.com, bob@example.net, carol@example.net",
            "sam@example.com",
            &entity(&headers),
        ),
    );

    let (code, passed, stderr) = run(home
        .missive()
        .args(["keys", "learn", "--decrypt"])
        .write_stdin(fetched(&home)));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(passed.len(), 2, "records pass through");

    let (_, shown, _) = run(home.missive().args(["keys", "show", "bob@example.net"]));
    assert_eq!(shown[0]["fingerprint"], bob.as_str());
    assert_eq!(shown[0]["bindings"][0]["source"], "gossip");
    assert_eq!(shown[0]["bindings"][0]["state"], "gossip");
    let (_, shown, _) = run(home.missive().args(["keys", "show", "carol@example.net"]));
    assert_eq!(
        shown.len(),
        1,
        "the gossiped key is not bound beside Carol's own"
    );
    assert_eq!(shown[0]["fingerprint"], carol_direct.as_str());
    assert_eq!(shown[0]["bindings"][0]["source"], "autocrypt");
    assert_ne!(carol_direct, carol_gossiped);
    let (code, _, _) = run(home.missive().args(["keys", "show", "eve@example.net"]));
    assert_eq!(
        code, 2,
        "Eve is no recipient: her gossip ({eve}) is ignored"
    );

    let (_, recommended, _) = run(home.missive().args([
        "keys",
        "recommend",
        "bob@example.net",
        "carol@example.net",
        "eve@example.net",
    ]));
    let say = |i: usize| {
        recommended[i]["recommendation"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(say(0), "discourage", "gossip only");
    assert_eq!(recommended[0]["key"], bob.as_str());
    assert_eq!(say(1), "available", "Carol's own header counts");
    assert_eq!(recommended[1]["key"], carol_direct.as_str());
    assert_eq!(say(2), "disable");
}

/// A multipart/signed entity (RFC 3156 §5) whose first part Alice signed with gpg; `tamper`
/// changes the text after signing.
fn signed_entity(gpg: &GnuPg, tamper: bool) -> String {
    let part = "Content-Type: text/plain; charset=utf-8\n\nSigned, then encrypted.\n";
    let signature = gpg.run(
        &[
            "--armor",
            "--detach-sign",
            "--local-user",
            "alice@example.org",
        ],
        Some(part.replace('\n', "\r\n").as_bytes()),
    );
    let part = if tamper {
        part.replace("Signed", "Changed")
    } else {
        part.to_string()
    };
    format!(
        "Content-Type: multipart/signed; micalg=pgp-sha256;\n protocol=\"application/pgp-signature\"; boundary=\"sig\"\n\n--sig\n{part}\n--sig\nContent-Type: application/pgp-signature\n\n{}\n--sig--\n",
        String::from_utf8(signature).unwrap()
    )
}

#[test]
fn a_multipart_signed_payload_inside_the_encryption_is_verified() {
    let (home, gpg) = with_own_key(&format!(
        "[keys]\npassphrase_command = \"echo {PASSPHRASE}\"\n"
    ));
    home.missive()
        .args(["keys", "import"])
        .write_stdin(gpg.run(&["--armor", "--export", "alice@example.org"], None))
        .assert()
        .success();
    for (file, tamper) in [("1.M1.x:2,S", false), ("2.M2.x:2,S", true)] {
        home.write(
            &format!("Mail/cur/{file}"),
            &encrypted_mail(
                &gpg,
                &format!("signed-{tamper}"),
                "sam@example.com",
                "sam@example.com",
                false,
                &signed_entity(&gpg, tamper),
            ),
        );
    }
    let (code, scored, stderr) = run(home
        .missive()
        .args(["score", "--decrypt"])
        .write_stdin(fetched(&home)));
    assert_eq!(code, 0, "{stderr}");
    let intact = by_id(&scored, "<signed-false@example.org>");
    assert_eq!(intact["security"]["signed"], "pgp-mime");
    assert_eq!(intact["security"]["signature"], "valid");
    let tampered = by_id(&scored, "<signed-true@example.org>");
    assert_eq!(tampered["security"]["signature"], "invalid");
}

#[test]
fn keys_learn_reports_mail_it_cannot_decrypt_and_passes_it_on() {
    let (home, gpg) = with_own_key(&format!(
        "[keys]\npassphrase_command = \"echo {PASSPHRASE}\"\n"
    ));
    let (_, dave) = sequoia_certificate("Dave <dave@example.org>");
    gpg.run(&["--import"], Some(&dave));
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &pgp_mime(
            &gpg,
            "other",
            "dave@example.org",
            "dave@example.org",
            &entity(""),
        ),
    );
    let (code, passed, stderr) = run(home
        .missive()
        .args(["keys", "learn", "--decrypt"])
        .write_stdin(fetched(&home)));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(passed.len(), 1, "the record passes through");
    assert!(
        stderr.contains("<other@example.org>") && stderr.contains("encrypted to other keys"),
        "{stderr}"
    );
}
