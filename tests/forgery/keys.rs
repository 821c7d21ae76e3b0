//! Key trust a sender cannot plant (issue 15, items 5 and 6), over the real binary with
//! `gpg` making the mail and Sequoia the odd certificates. Gossip counts only from mail that
//! decrypts and carries the sender's own bound signature, only about the recipients its
//! protected headers name, and binds as `gossip`, never as a first use; a key after an
//! expired one is `replaced`, naming it; a user id without a self-signature binds nothing.

use std::time::Duration;

use crate::keys_decrypt::{PASSPHRASE, entity, fetched, gossip_header, with_own_key};
use crate::support::openpgp::{
    GnuPg, keydata, sequoia_certificate, sequoia_certificate_expiring,
    sequoia_certificate_with_unsigned_user_id,
};
use crate::support::{Home, run};

/// A home with the user's own key and a gpg home holding Alice's key (and the user's
/// public key), whose Alice key the store has bound to her address.
fn home_knowing_alice() -> (Home, GnuPg) {
    let (home, gpg) = with_own_key(&format!(
        "[keys]\npassphrase_command = \"echo {PASSPHRASE}\"\n"
    ));
    import(
        &home,
        &gpg.run(&["--armor", "--export", "alice@example.org"], None),
    );
    (home, gpg)
}

fn import(home: &Home, key: &[u8]) {
    home.missive()
        .args(["keys", "import"])
        .write_stdin(key.to_vec())
        .assert()
        .success();
}

/// A PGP/MIME message From Alice to `outer_to`, its payload (protected To `inner_to`,
/// then `gossip` headers) encrypted by gpg to the user and signed by `signer` if any.
fn mail_from_alice(
    gpg: &GnuPg,
    outer_to: &str,
    inner_to: &str,
    signer: Option<&str>,
    gossip: &str,
) -> Vec<u8> {
    let payload = entity(&format!("To: {inner_to}\n{gossip}")).replace('\n', "\r\n");
    let mut args = vec![
        "--trust-model",
        "always",
        "--armor",
        "--encrypt",
        "--recipient",
        "sam@example.com",
    ];
    if let Some(signer) = signer {
        args.extend(["--sign", "--local-user", signer]);
    }
    let armoured = String::from_utf8(gpg.run(&args, Some(payload.as_bytes()))).unwrap();
    format!(
        "From: alice@example.org\nTo: {outer_to}\nSubject: ...\nDate: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <gossip@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc\"\n\n--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--enc\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n{armoured}\n--enc--\n"
    )
    .into_bytes()
}

/// Runs `keys learn --decrypt` over the home's maildir, which must succeed.
fn learn(home: &Home) {
    let (code, _, stderr) = run(home
        .missive()
        .args(["keys", "learn", "--decrypt"])
        .write_stdin(fetched(home)));
    assert_eq!(code, 0, "{stderr}");
}

/// `keys show ADDRESS`: the exit code and the key records.
fn show(home: &Home, address: &str) -> (i32, Vec<serde_json::Value>) {
    let (code, shown, _) = run(home.missive().args(["keys", "show", address]));
    (code, shown)
}

#[test]
fn gossip_in_unsigned_encrypted_mail_leaves_a_third_partys_binding_untouched() {
    let (home, gpg) = home_knowing_alice();
    let bob = GnuPg::new();
    let bob_fingerprint = bob.generate("Bob <bob@example.net>");
    import(&home, &bob.run(&["--export", "bob@example.net"], None));
    // Anyone can encrypt to the user's public key and write Alice's address.
    let (planted, planted_key) = sequoia_certificate("Bob <bob@example.net>");
    let (_, dave_key) = sequoia_certificate("Dave <dave@example.net>");
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &mail_from_alice(
            &gpg,
            "sam@example.com, bob@example.net, dave@example.net",
            "sam@example.com, bob@example.net, dave@example.net",
            None,
            &(gossip_header("bob@example.net", &planted_key)
                + &gossip_header("dave@example.net", &dave_key)),
        ),
    );
    learn(&home);

    let (code, shown) = show(&home, "bob@example.net");
    assert_eq!(code, 0);
    assert_eq!(shown.len(), 1, "no second key for Bob: {shown:?}");
    assert_eq!(shown[0]["fingerprint"], bob_fingerprint.as_str());
    assert_eq!(shown[0]["bindings"][0]["state"], "tofu");
    assert_eq!(shown[0]["bindings"][0]["source"], "import");
    let (code, _) = show(&home, &planted);
    assert_eq!(code, 2, "the planted key is not even stored");
    let (code, _) = show(&home, "dave@example.net");
    assert_eq!(code, 2, "nor is any gossip of unsigned mail");
}

#[test]
fn gossip_signed_by_a_key_not_bound_to_the_sender_is_ignored() {
    let (home, gpg) = home_knowing_alice();
    // Carol's key is known and good, but it is not Alice's.
    gpg.generate("Carol <carol@example.net>");
    import(&home, &gpg.run(&["--export", "carol@example.net"], None));
    let (_, dave_key) = sequoia_certificate("Dave <dave@example.net>");
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &mail_from_alice(
            &gpg,
            "sam@example.com, dave@example.net",
            "sam@example.com, dave@example.net",
            Some("carol@example.net"),
            &gossip_header("dave@example.net", &dave_key),
        ),
    );
    learn(&home);
    let (code, shown) = show(&home, "dave@example.net");
    assert_eq!(code, 2, "signed by another than the sender: {shown:?}");
}

#[test]
fn gossip_about_an_address_the_protected_headers_do_not_name_is_ignored() {
    let (home, gpg) = home_knowing_alice();
    let (_, dave_key) = sequoia_certificate("Dave <dave@example.net>");
    let (_, erin_key) = sequoia_certificate("Erin <erin@example.net>");
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &mail_from_alice(
            &gpg,
            // The outer header is anyone's to write; the signed payload names only Erin.
            "sam@example.com, dave@example.net, erin@example.net",
            "sam@example.com, erin@example.net",
            Some("alice@example.org"),
            &(gossip_header("dave@example.net", &dave_key)
                + &gossip_header("erin@example.net", &erin_key)),
        ),
    );
    learn(&home);
    let (code, shown) = show(&home, "dave@example.net");
    assert_eq!(code, 2, "Dave is no protected recipient: {shown:?}");
    let (code, shown) = show(&home, "erin@example.net");
    assert_eq!(code, 0, "Erin is: the same mail's gossip about her counts");
    assert_eq!(shown[0]["bindings"][0]["state"], "gossip");
}

#[test]
fn a_gossiped_key_for_an_unknown_address_is_stored_as_gossip_and_recommended_with_a_warning() {
    let (home, gpg) = home_knowing_alice();
    let (bob, bob_key) = sequoia_certificate("Bob <bob@example.net>");
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &mail_from_alice(
            &gpg,
            "sam@example.com, bob@example.net",
            "sam@example.com, bob@example.net",
            Some("alice@example.org"),
            &gossip_header("bob@example.net", &bob_key),
        ),
    );
    learn(&home);

    let (code, shown) = show(&home, "bob@example.net");
    assert_eq!(code, 0);
    assert_eq!(shown[0]["fingerprint"], bob.as_str());
    let binding = &shown[0]["bindings"][0];
    assert_eq!(binding["source"], "gossip");
    assert_eq!(binding["state"], "gossip", "never Bob's first-use key");
    assert!(
        binding["warning"]
            .as_str()
            .is_some_and(|w| w.contains("gossip")),
        "{binding}"
    );
    let (_, recommended, _) = run(home
        .missive()
        .args(["keys", "recommend", "bob@example.net"]));
    assert_eq!(recommended[0]["recommendation"], "discourage");
    assert_eq!(recommended[0]["key"], bob.as_str());
    assert!(recommended[0]["warning"].is_string(), "{}", recommended[0]);

    // Bob's own key, when it comes, is his first use: the gossip was not in its way.
    let own = GnuPg::new();
    let own_fingerprint = own.generate("Bob <bob@example.net>");
    import(&home, &own.run(&["--export", "bob@example.net"], None));
    let (_, shown) = show(&home, "bob@example.net");
    let state_of = |fingerprint: &str| {
        shown
            .iter()
            .find(|k| k["fingerprint"] == fingerprint)
            .map(|k| k["bindings"][0]["state"].clone())
    };
    assert_eq!(state_of(&own_fingerprint), Some("tofu".into()));
    assert_eq!(state_of(&bob), Some("gossip".into()));
}

#[test]
fn a_key_after_an_expired_bound_one_shows_replaced_with_the_old_fingerprint() {
    let home = Home::new();
    let life = Duration::from_secs(8);
    let expiry = std::time::Instant::now() + life;
    let (old, old_key) = sequoia_certificate_expiring("Alice <alice@example.org>", life);
    import(&home, &old_key);
    let (_, shown) = show(&home, "alice@example.org");
    assert_eq!(shown[0]["bindings"][0]["state"], "tofu");
    std::thread::sleep(
        expiry.saturating_duration_since(std::time::Instant::now()) + Duration::from_secs(1),
    );

    let (new, new_key) = sequoia_certificate("Alice <alice@example.org>");
    import(&home, &new_key);
    let (_, shown) = show(&home, "alice@example.org");
    let key = |fingerprint: &str| {
        shown
            .iter()
            .find(|k| k["fingerprint"] == fingerprint)
            .unwrap_or_else(|| panic!("{fingerprint} in {shown:?}"))
            .clone()
    };
    let binding = key(&new)["bindings"][0].clone();
    assert_eq!(
        binding["state"], "replaced",
        "never a silent first use: {binding}"
    );
    assert_eq!(binding["replaces"], old.as_str());
    assert!(binding["warning"].is_string(), "{binding}");
    assert_eq!(key(&old)["bindings"][0]["state"], "expired");
}

#[test]
fn a_user_id_without_a_self_signature_binds_nothing() {
    let home = Home::new();
    let (mallory, cert) = sequoia_certificate_with_unsigned_user_id(
        "Mallory <mallory@example.org>",
        "Bob <bob@example.net>",
    );
    import(&home, &cert);
    let (code, shown) = show(&home, "mallory@example.org");
    assert_eq!(
        (code, shown[0]["fingerprint"].as_str()),
        (0, Some(mallory.as_str()))
    );
    let (code, shown) = show(&home, "bob@example.net");
    assert_eq!(code, 2, "an unsigned user id is anyone's word: {shown:?}");
}

/// `score --decrypt` of a PGP/MIME message from Alice whose payload carries her Autocrypt
/// header (mutual), signed by `signer` if any: the record's Autocrypt header and the names of
/// its factors.
fn scored_with_inner_autocrypt(signer: Option<&str>) -> (serde_json::Value, Vec<String>) {
    let (home, gpg) = home_knowing_alice();
    // Carol's key is known and good, but it is not Alice's.
    gpg.generate("Carol <carol@example.net>");
    import(&home, &gpg.run(&["--export", "carol@example.net"], None));
    let (_, alice_key) = sequoia_certificate("Alice <alice@example.org>");
    let header = format!(
        "Autocrypt: addr=alice@example.org; prefer-encrypt=mutual; keydata=\n {}\n",
        keydata(&alice_key)
    );
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &mail_from_alice(&gpg, "sam@example.com", "sam@example.com", signer, &header),
    );
    let (code, scored, stderr) = run(home
        .missive()
        .args(["score", "--decrypt"])
        .write_stdin(crate::keys_decrypt::fetched(&home)));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(scored[0]["security"]["decrypted"], true, "{}", scored[0]);
    let factors = scored[0]["privacy"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    (scored[0]["security"]["autocrypt"].clone(), factors)
}

#[test]
fn an_autocrypt_header_inside_mail_signed_by_the_senders_bound_key_counts() {
    let (autocrypt, factors) = scored_with_inner_autocrypt(Some("alice@example.org"));
    assert_eq!(autocrypt["addr"], "alice@example.org");
    assert_eq!(autocrypt["prefer_encrypt"], "mutual");
    assert!(
        factors.contains(&"autocrypt_mutual".to_string()),
        "{factors:?}"
    );
}

#[test]
fn an_autocrypt_header_inside_unsigned_or_otherwise_signed_mail_counts_for_nothing() {
    // Anyone can encrypt to the user and write an Autocrypt header in Alice's name inside.
    for signer in [None, Some("carol@example.net")] {
        let (autocrypt, factors) = scored_with_inner_autocrypt(signer);
        assert!(autocrypt.is_null(), "{signer:?}: {autocrypt}");
        assert!(
            !factors.iter().any(|f| f.starts_with("autocrypt_")),
            "{signer:?}: {factors:?}"
        );
    }
}
