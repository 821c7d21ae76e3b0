//! One test per row of the factor table (its points appear exactly when its evidence is
//! present), the rules around them, and properties of the whole score.

use proptest::prelude::*;

use super::*;
use crate::privacy::factors::FACTORS;
use crate::record::{Address, Authentication, Autocrypt, Transport};

const TRUSTED: &str = "mx.example.org";

fn config() -> Config {
    let mut config = Config::default();
    config.trust.authserv_ids = vec![TRUSTED.into()];
    config.identity.addresses = vec!["bob@example.net".into()];
    config
}

fn address(address: &str) -> Address {
    Address {
        address: address.into(),
        ..Address::default()
    }
}

/// An email in clear from Alice to Bob and Carol, with nothing else known: only the three
/// base factors apply.
fn plain() -> Message {
    Message {
        protocol: "email".into(),
        from: Some(address("alice@example.org")),
        to: vec![address("bob@example.net"), address("carol@example.net")],
        ..Message::default()
    }
}

fn names(message: &Message) -> Vec<String> {
    score(message, &config())
        .factors
        .into_iter()
        .map(|f| f.name)
        .collect()
}

fn authentication(id: &str, result: &str) -> Authentication {
    Authentication {
        authserv_id: id.into(),
        dkim: Some(result.into()),
        spf: Some(result.into()),
        dmarc: Some(result.into()),
        position: None,
        evidence: format!("{id}; dkim={result}; spf={result}; dmarc={result}"),
    }
}

fn transport(external_hops: u32, tls_hops: u32, weakest: Option<&str>) -> Transport {
    Transport {
        external_hops,
        tls_hops,
        weakest_tls: weakest.map(str::to_string),
        hops: Vec::new(),
    }
}

/// The user's border server receiving from outside over TLS 1.3, as Postfix writes it.
const BORDER: &str = "Received: from mail.sender.example (mail.sender.example [192.0.2.10])\n\
    \t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\
    \tby mx.example.net (Postfix) with ESMTPS id 1; Mon, 11 Mar 2024 05:00:02 +0000\n";

/// A Received line the sender wrote below the border, claiming TLS.
const FORGED_TLS: &str = "Received: from laptop.sender.example ([198.51.100.3])\n\
    \tby mail.sender.example with ESMTPSA (TLS1.3); Mon, 11 Mar 2024 05:00:00 +0000\n";

/// The transport of a message whose header block starts with `received`, as `fetch` reads it.
fn delivered(received: &str) -> Transport {
    crate::email::read(format!("{received}From: alice@example.org\n\nhi\n").as_bytes())
        .security
        .transport
}

/// Asserts that `factor` applies to `with` once, with its table points, on the axis the
/// table names and with evidence, and not to `without`.
fn assert_pins(factor: &Factor, with: &Privacy, without: &Privacy) {
    let applied: Vec<_> = with
        .factors
        .iter()
        .filter(|f| f.name == factor.name)
        .collect();
    assert_eq!(applied.len(), 1, "{}: {:?}", factor.name, with.factors);
    assert_eq!(applied[0].points, factor.points, "{}", factor.name);
    assert_eq!(applied[0].axis, factor.axis, "{}", factor.name);
    assert!(!applied[0].evidence.is_empty(), "{}", factor.name);
    assert!(
        !without.factors.iter().any(|f| f.name == factor.name),
        "{} applies without its evidence",
        factor.name
    );
}

/// Pins `factor` to the changed message, against the plain one.
fn pins(factor: &Factor, change: impl FnOnce(&mut Message)) {
    let mut message = plain();
    change(&mut message);
    assert_pins(
        factor,
        &score(&message, &config()),
        &score(&plain(), &config()),
    );
}

/// One test per factor; `every_factor_has_a_test` checks the list is complete.
macro_rules! factor_tests {
    ($($test:ident: $factor:ident, $change:expr;)*) => {
        $(
            #[test]
            fn $test() {
                pins(&factors::$factor, $change);
            }
        )*
        const TESTED: &[&str] = &[$(factors::$factor.name),*];
    };
}

factor_tests! {
    pgp_mime_encryption_counts: E2E_PGP_MIME, |m| m.security.encryption = Encryption::PgpMime;
    inline_pgp_encryption_counts: E2E_PGP_INLINE, |m| m.security.encryption = Encryption::PgpInline;
    smime_encryption_counts: E2E_SMIME, |m| m.security.encryption = Encryption::Smime;
    protocol_encryption_counts: E2E_PROTOCOL, |m| m.security.encryption = Encryption::ProtocolE2e;
    a_valid_signature_counts: SIGNATURE_VALID, |m| m.security.signature = SignatureState::Valid;
    an_encrypted_part_beside_clear_text_counts_a_little: PARTIALLY_ENCRYPTED,
        |m| m.security.partially_encrypted = Some(Encryption::PgpMime);
    a_signed_part_beside_unsigned_ones_is_shown: PARTIALLY_SIGNED,
        |m| m.security.partially_signed = Some(SignatureFormat::PgpMime);
    someone_elses_signature_is_shown: SIGNED_BY_OTHER,
        |m| m.security.signature = SignatureState::ByOther;
    a_signature_by_an_unknown_key_counts_a_little: SIGNATURE_UNKNOWN_KEY,
        |m| m.security.signature = SignatureState::UnknownKey;
    an_unverified_signature_counts_as_structure_only: SIGNATURE_UNVERIFIED,
        |m| m.security.signature = SignatureState::Unverified;
    an_invalid_signature_costs_points: SIGNATURE_INVALID,
        |m| m.security.signature = SignatureState::Invalid;
    tls_on_every_hop_counts: TLS_ALL_HOPS, |m| m.security.transport = transport(2, 2, None);
    tls_on_some_hops_counts_less: TLS_SOME_HOPS, |m| m.security.transport = transport(2, 1, None);
    no_tls_on_external_hops_costs_points: TLS_NO_HOPS,
        |m| m.security.transport = transport(2, 0, None);
    tls_1_3_as_the_weakest_counts: TLS_V1_3,
        |m| m.security.transport = transport(1, 1, Some("TLSv1.3"));
    tls_1_2_as_the_weakest_counts: TLS_V1_2,
        |m| m.security.transport = transport(1, 1, Some("TLSv1.2"));
    tls_older_than_1_2_costs_points: TLS_OLD,
        |m| m.security.transport = transport(1, 1, Some("TLSv1.0"));
    the_trust_boundary_is_named: TRUST_BOUNDARY, |m| m.security.transport = delivered(BORDER);
    a_tls_claim_below_the_boundary_is_named: TLS_CLAIM_UNPROVEN,
        |m| m.security.transport = delivered(&format!("{BORDER}{FORGED_TLS}"));
    a_trusted_dkim_pass_counts: DKIM_PASS,
        |m| m.security.authentication = vec![authentication(TRUSTED, "pass")];
    a_trusted_spf_pass_counts: SPF_PASS,
        |m| m.security.authentication = vec![authentication(TRUSTED, "pass")];
    a_trusted_dmarc_pass_counts: DMARC_PASS,
        |m| m.security.authentication = vec![authentication(TRUSTED, "pass")];
    a_trusted_failure_costs_points: AUTHENTICATION_FAILED,
        |m| m.security.authentication = vec![authentication(TRUSTED, "fail")];
    an_untrusted_header_is_named_and_counts_nothing: AUTHENTICATION_UNTRUSTED,
        |m| m.security.authentication = vec![authentication("mx.evil.example", "pass")];
    an_ambiguous_header_costs_points: AMBIGUOUS_HEADERS, |m| m.security.problems = vec![
        format!("{}2 From fields, where RFC 5322 allows one: the first is kept",
            crate::email::AMBIGUOUS_HEADER),
    ];
    a_platform_message_is_readable_by_the_platform: PLATFORM_READABLE,
        |m| m.protocol = "mastodon".into();
    a_single_recipient_counts: SINGLE_RECIPIENT, |m| m.to.truncate(1);
    many_recipients_cost_points: MANY_RECIPIENTS,
        |m| m.cc = (0..10).map(|i| address(&format!("p{i}@example.com"))).collect();
    a_mailing_list_costs_points: MAILING_LIST, |m| m.list_id = Some("dev.lists.example.org".into());
    a_spam_score_from_the_threshold_costs_points: SPAM,
        |m| { m.security.spam_score = Some(5.0); };
    encrypting_is_the_secure_channel: SECURE_CHANNEL_USED,
        |m| m.security.encryption = Encryption::PgpMime;
    autocrypt_mutual_counts: AUTOCRYPT_MUTUAL, |m| m.security.autocrypt = Some(Autocrypt {
        addr: "alice@example.org".into(),
        prefer_encrypt: "mutual".into(),
        fingerprint: None,
    });
    autocrypt_without_preference_counts_less: AUTOCRYPT_NOPREFERENCE,
        |m| m.security.autocrypt = Some(Autocrypt {
            addr: "alice@example.org".into(),
            prefer_encrypt: "nopreference".into(),
            fingerprint: None,
        });
}

fn person(handle: &str, known: bool, key: bool, mutual: bool) -> Person {
    Person {
        identity: format!("email:{handle}"),
        known,
        key: key.then(|| "F1".into()),
        mutual,
        secure_channel: key.then(|| "openpgp".into()),
    }
}

/// Alice and Carol, as `plain()` names them, with what the store knows of each.
fn circle(alice: Person, carol: Person) -> Circle {
    Circle {
        from_user: false,
        people: vec![alice, carol],
        parent_encrypted: None,
    }
}

fn stranger(handle: &str) -> Person {
    person(handle, false, false, false)
}

fn names_in(message: &Message, circle: &Circle) -> Vec<String> {
    score_in(message, &config(), Some(circle))
        .factors
        .into_iter()
        .map(|f| f.name)
        .collect()
}

/// Pins `factor` to the message and circle `with`, against `without`, which differs by the
/// evidence alone.
fn pins_in(factor: &Factor, without: (Message, Circle), with: (Message, Circle)) {
    assert_pins(
        factor,
        &score_in(&with.0, &config(), Some(&with.1)),
        &score_in(&without.0, &config(), Some(&without.1)),
    );
}

fn encrypted(mut message: Message) -> Message {
    message.security.encryption = Encryption::PgpMime;
    message
}

/// A circle of the user writing to Alice and Carol.
fn written(mut circle: Circle) -> Circle {
    circle.from_user = true;
    circle
}

fn answering(parent_encrypted: Option<bool>, circle: Circle) -> Circle {
    Circle {
        parent_encrypted,
        ..circle
    }
}

const CIRCLE_TESTED: &[&str] = &[
    factors::PEOPLE_KNOWN.name,
    factors::PEOPLE_PARTLY_KNOWN.name,
    factors::PEOPLE_UNKNOWN.name,
    factors::KEYS_FOR_EVERYONE.name,
    factors::KEYS_FOR_SOME.name,
    factors::ENCRYPTION_KEPT.name,
    factors::ENCRYPTION_DROPPED.name,
    factors::MUTUAL_HONOURED.name,
    factors::MUTUAL_IGNORED.name,
    factors::SECURE_CHANNEL_SKIPPED.name,
];

#[test]
fn everyone_a_known_contact_counts() {
    let known = |h| person(h, true, false, false);
    pins_in(
        &factors::PEOPLE_KNOWN,
        (
            plain(),
            circle(known("alice@example.org"), stranger("carol@example.net")),
        ),
        (
            plain(),
            circle(known("alice@example.org"), known("carol@example.net")),
        ),
    );
}

#[test]
fn some_known_contacts_count_less() {
    let known = |h| person(h, true, false, false);
    pins_in(
        &factors::PEOPLE_PARTLY_KNOWN,
        (
            plain(),
            circle(stranger("alice@example.org"), stranger("carol@example.net")),
        ),
        (
            plain(),
            circle(known("alice@example.org"), stranger("carol@example.net")),
        ),
    );
}

#[test]
fn nobody_known_costs_points() {
    let known = |h| person(h, true, false, false);
    pins_in(
        &factors::PEOPLE_UNKNOWN,
        (
            plain(),
            circle(known("alice@example.org"), stranger("carol@example.net")),
        ),
        (
            plain(),
            circle(stranger("alice@example.org"), stranger("carol@example.net")),
        ),
    );
}

#[test]
fn a_key_for_everyone_counts() {
    let keyed = |h| person(h, false, true, false);
    pins_in(
        &factors::KEYS_FOR_EVERYONE,
        (
            plain(),
            circle(keyed("alice@example.org"), stranger("carol@example.net")),
        ),
        (
            plain(),
            circle(keyed("alice@example.org"), keyed("carol@example.net")),
        ),
    );
}

#[test]
fn a_key_for_some_counts_less() {
    let keyed = |h| person(h, false, true, false);
    pins_in(
        &factors::KEYS_FOR_SOME,
        (
            plain(),
            circle(stranger("alice@example.org"), stranger("carol@example.net")),
        ),
        (
            plain(),
            circle(keyed("alice@example.org"), stranger("carol@example.net")),
        ),
    );
}

fn strangers() -> Circle {
    circle(stranger("alice@example.org"), stranger("carol@example.net"))
}

#[test]
fn answering_encrypted_mail_encrypted_counts() {
    pins_in(
        &factors::ENCRYPTION_KEPT,
        (encrypted(plain()), answering(Some(false), strangers())),
        (encrypted(plain()), answering(Some(true), strangers())),
    );
}

#[test]
fn answering_encrypted_mail_in_clear_costs_points() {
    pins_in(
        &factors::ENCRYPTION_DROPPED,
        (plain(), answering(None, strangers())),
        (plain(), answering(Some(true), strangers())),
    );
}

#[test]
fn encrypting_to_a_mutual_peer_honours_autocrypt() {
    let mutual = person("alice@example.org", false, true, true);
    pins_in(
        &factors::MUTUAL_HONOURED,
        (
            encrypted(plain()),
            circle(mutual.clone(), stranger("carol@example.net")),
        ),
        (
            encrypted(plain()),
            written(circle(mutual, stranger("carol@example.net"))),
        ),
    );
}

#[test]
fn writing_in_clear_to_a_mutual_peer_costs_points() {
    let keyed = person("alice@example.org", false, true, false);
    let mutual = person("alice@example.org", false, true, true);
    pins_in(
        &factors::MUTUAL_IGNORED,
        (
            plain(),
            written(circle(keyed, stranger("carol@example.net"))),
        ),
        (
            plain(),
            written(circle(mutual, stranger("carol@example.net"))),
        ),
    );
}

#[test]
fn writing_in_clear_when_everyone_has_a_secure_channel_costs_points() {
    let keyed = |h| person(h, false, true, false);
    let on_signal = Person {
        secure_channel: Some("signal".into()),
        ..stranger("carol@example.net")
    };
    pins_in(
        &factors::SECURE_CHANNEL_SKIPPED,
        (
            plain(),
            written(circle(
                keyed("alice@example.org"),
                stranger("carol@example.net"),
            )),
        ),
        (
            plain(),
            written(circle(keyed("alice@example.org"), on_signal)),
        ),
    );
}

#[test]
fn a_received_message_is_not_blamed_for_the_senders_choice_of_channel() {
    let keyed = |h| person(h, false, true, true);
    let names = names_in(
        &plain(),
        &circle(keyed("alice@example.org"), keyed("carol@example.net")),
    );
    assert!(
        !names
            .iter()
            .any(|n| n == "secure_channel_skipped" || n == "mutual_ignored")
    );
}

#[test]
fn discovering_keys_is_suggested_only_for_the_people_without_one() {
    let keyed = person("alice@example.org", false, true, false);
    let privacy = score_in(
        &plain(),
        &config(),
        Some(&circle(keyed.clone(), stranger("carol@example.net"))),
    );
    assert_eq!(
        privacy.suggestions[0].action,
        "missive keys discover carol@example.net"
    );
    let everyone = circle(keyed, person("carol@example.net", false, true, false));
    assert!(
        score_in(&plain(), &config(), Some(&everyone))
            .suggestions
            .is_empty()
    );
}

#[test]
fn every_factor_has_a_test() {
    let bases = [
        factors::BASE_TECHNIC.name,
        factors::BASE_CONTEXT.name,
        factors::BASE_COMPORTMENT.name,
    ];
    // Device and contact factors are pinned by privacy/device.rs's and privacy/contact.rs's
    // own tests of the same name.
    for factor in FACTORS
        .iter()
        .filter(|f| !f.name.starts_with("device_") && !f.name.starts_with("contact_"))
    {
        assert!(
            TESTED.contains(&factor.name)
                || CIRCLE_TESTED.contains(&factor.name)
                || bases.contains(&factor.name),
            "no test pins {}",
            factor.name
        );
    }
}

#[test]
fn a_plain_message_has_only_the_bases_and_its_axes_are_their_points() {
    let privacy = score(&plain(), &config());
    assert_eq!(
        names(&plain()),
        ["base_technic", "base_context", "base_comportment"]
    );
    assert_eq!(i32::from(privacy.technic), factors::BASE_TECHNIC.points);
    assert_eq!(i32::from(privacy.context), factors::BASE_CONTEXT.points);
    assert_eq!(
        i32::from(privacy.comportment),
        factors::BASE_COMPORTMENT.points
    );
    assert_eq!(
        privacy.score,
        mean(privacy.technic, privacy.context, privacy.comportment)
    );
}

#[test]
fn a_forged_authentication_results_header_counts_for_nothing() {
    let mut forged = plain();
    forged.security.authentication = vec![authentication("mx.example.org.evil.example", "pass")];
    let privacy = score(&forged, &config());
    assert_eq!(privacy.technic, score(&plain(), &config()).technic);
    assert!(
        !names(&forged)
            .iter()
            .any(|n| n == "dkim_pass" || n == "spf_pass" || n == "dmarc_pass")
    );
    let untrusted = privacy
        .factors
        .iter()
        .find(|f| f.name == "authentication_untrusted")
        .expect("the ignored header is named");
    assert!(untrusted.evidence.contains("mx.example.org.evil.example"));
}

#[test]
fn only_the_topmost_trusted_header_is_believed() {
    let mut message = plain();
    // A forged pass above (from an untrusted server), the user's server's verdict below it,
    // and an older trusted header further down.
    message.security.authentication = vec![
        authentication("evil.example", "pass"),
        authentication("MX.Example.Org", "fail"),
        authentication(TRUSTED, "pass"),
    ];
    let names = names(&message);
    assert!(names.contains(&"authentication_failed".to_string()));
    assert!(!names.contains(&"dkim_pass".to_string()), "{names:?}");
}

#[test]
fn without_a_trusted_id_in_the_config_no_result_counts() {
    let mut message = plain();
    message.security.authentication = vec![authentication(TRUSTED, "pass")];
    let privacy = score(&message, &Config::default());
    assert!(!privacy.factors.iter().any(|f| f.name == "dkim_pass"));
}

#[test]
fn a_protocol_that_encrypts_end_to_end_is_not_readable_by_its_platform() {
    let mut message = plain();
    message.protocol = "facebook".into();
    message.security.encryption = Encryption::ProtocolE2e;
    assert!(!names(&message).contains(&"platform_readable".to_string()));
}

#[test]
fn each_platform_of_the_exports_is_scored_for_what_it_exposes() {
    // Twitter DMs and Facebook messages are readable by the platform; a Matrix room without
    // encryption by its homeservers; Signal and an encrypted Matrix room by nobody between.
    for (protocol, encryption, readable) in [
        ("twitter", Encryption::None, true),
        ("facebook", Encryption::None, true),
        ("matrix", Encryption::None, true),
        ("matrix", Encryption::ProtocolE2e, false),
        ("signal", Encryption::ProtocolE2e, false),
    ] {
        let mut message = plain();
        message.protocol = protocol.into();
        message.security.encryption = encryption;
        let names = names(&message);
        assert_eq!(
            names.contains(&"platform_readable".to_string()),
            readable,
            "{protocol} {encryption:?}: {names:?}"
        );
        assert_eq!(
            names.contains(&"e2e_protocol".to_string()),
            !readable,
            "{protocol}: {names:?}"
        );
    }
}

#[test]
fn a_signed_structure_without_a_state_counts_as_unverified() {
    let mut message = plain();
    message.security.signed = Some(SignatureFormat::PgpMime);
    let privacy = score(&message, &config());
    let factor = privacy
        .factors
        .iter()
        .find(|f| f.name == "signature_unverified")
        .expect("signed structure counts");
    assert!(factor.evidence.contains("PGP/MIME"), "{}", factor.evidence);
}

#[test]
fn the_tls_version_counts_only_once_every_hop_used_tls() {
    let mut message = plain();
    message.security.transport = transport(3, 2, Some("TLSv1.0"));
    let names = names(&message);
    assert!(names.contains(&"tls_some_hops".to_string()));
    assert!(!names.contains(&"tls_old".to_string()), "{names:?}");
}

#[test]
fn exactly_the_limit_of_recipients_is_not_many() {
    let mut message = plain();
    message.to = (0..factors::RECIPIENTS_LIMIT)
        .map(|i| address(&format!("p{i}@example.com")))
        .collect();
    assert!(!names(&message).contains(&"many_recipients".to_string()));
}

#[test]
fn a_spam_score_below_the_threshold_costs_nothing() {
    for value in [4.9, -1.2] {
        let mut message = plain();
        message.security.spam_score = Some(value);
        assert!(!names(&message).contains(&"spam".to_string()), "{value}");
    }
    let mut message = plain();
    message.security.spam_score = Some(12.0);
    assert!(names(&message).contains(&"spam".to_string()));
}

#[test]
fn factors_come_in_table_order() {
    let mut message = plain();
    message.security.encryption = Encryption::PgpMime;
    message.security.signature = SignatureState::Valid;
    message.security.transport = transport(2, 2, Some("TLSv1.3"));
    message.security.authentication = vec![authentication(TRUSTED, "pass")];
    message.list_id = Some("l.example".into());
    let positions: Vec<usize> = names(&message)
        .iter()
        .map(|n| FACTORS.iter().position(|f| f.name == n).expect("in table"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[test]
fn grades_and_labels_follow_the_design_bounds() {
    let cases = [
        (100, Grade::A),
        (81, Grade::A),
        (80, Grade::B),
        (61, Grade::B),
        (60, Grade::C),
        (41, Grade::C),
        (40, Grade::D),
        (21, Grade::D),
        (20, Grade::E),
        (0, Grade::E),
    ];
    for (score, expected) in cases {
        assert_eq!(grade(score), expected, "{score}");
    }
    assert_eq!(label(Grade::A), Label::SealedLetter);
    assert_eq!(label(Grade::C), Label::Envelope);
    assert_eq!(label(Grade::D), Label::Postcard);
    assert_eq!(mean(100, 100, 99), 100);
    assert_eq!(mean(0, 0, 1), 0);
    assert_eq!(mean(0, 1, 1), 1);
}

#[test]
fn encrypting_a_message_in_clear_is_suggested_with_its_rescored_gain() {
    let message = plain();
    let privacy = score(&message, &config());
    let mut encrypted = message.clone();
    encrypted.security.encryption = Encryption::PgpMime;
    let expected = i32::from(score(&encrypted, &config()).score) - i32::from(privacy.score);
    assert_eq!(privacy.suggestions.len(), 1);
    let suggestion = &privacy.suggestions[0];
    assert_eq!(suggestion.gain, expected);
    assert!(expected > 0);
    // Bob is the user (config identity): only the others need a key.
    assert_eq!(
        suggestion.action,
        "missive keys discover alice@example.org carol@example.net"
    );
    assert!(score(&encrypted, &config()).suggestions.is_empty());
}

#[test]
fn encrypting_mailing_list_mail_is_not_suggested() {
    let mut message = plain();
    message.list_id = Some("dev.lists.example.org".into());
    assert!(score(&message, &config()).suggestions.is_empty());
}

#[test]
fn nothing_is_suggested_when_the_user_is_the_only_participant() {
    let mut message = plain();
    message.from = Some(address("Bob@Example.net"));
    message.to = vec![address("bob@example.net")];
    assert!(score(&message, &config()).suggestions.is_empty());
}

fn arbitrary_message() -> impl Strategy<Value = Message> {
    let encryption = prop_oneof![
        Just(Encryption::None),
        Just(Encryption::PgpMime),
        Just(Encryption::PgpInline),
        Just(Encryption::Smime),
        Just(Encryption::ProtocolE2e),
    ];
    let signature = prop_oneof![
        Just(SignatureState::None),
        Just(SignatureState::Unverified),
        Just(SignatureState::Valid),
        Just(SignatureState::Invalid),
        Just(SignatureState::UnknownKey),
        Just(SignatureState::ByOther),
    ];
    let version = prop::option::of(prop_oneof![
        Just("TLSv1.3"),
        Just("TLSv1.2"),
        Just("TLSv1.0"),
        Just("SSLv3"),
    ]);
    let protocol = prop_oneof![Just("email"), Just("mastodon"), Just("twitter")];
    let result = prop::option::of(prop_oneof![Just("pass"), Just("fail"), Just("none")]);
    let auth = prop::collection::vec(
        (prop_oneof![Just(TRUSTED), Just("evil.example")], result),
        0..3,
    );
    let autocrypt = prop::option::of(prop_oneof![Just("mutual"), Just("nopreference")]);
    (
        (encryption, signature, 0u32..5, 0u32..6, version),
        (protocol, auth, autocrypt, 0usize..15, any::<bool>()),
        prop::option::of(-5.0f64..20.0),
    )
        .prop_map(
            |(
                (encryption, signature, external, tls, version),
                (protocol, auth, autocrypt, recipients, list),
                spam,
            )| {
                let mut m = plain();
                m.protocol = protocol.into();
                m.security.encryption = encryption;
                m.security.signature = signature;
                m.security.transport = transport(external, tls.min(external), version);
                m.security.authentication = auth
                    .into_iter()
                    .map(|(id, r)| authentication(id, r.unwrap_or("none")))
                    .collect();
                m.security.autocrypt = autocrypt.map(|p| Autocrypt {
                    addr: "alice@example.org".into(),
                    prefer_encrypt: p.into(),
                    fingerprint: None,
                });
                m.to = (0..recipients)
                    .map(|i| address(&format!("p{i}@example.com")))
                    .collect();
                m.list_id = list.then(|| "l.example".into());
                m.security.spam_score = spam;
                m
            },
        )
}

fn arbitrary_circle() -> impl Strategy<Value = Circle> {
    let person = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(known, key, mutual, signal)| Person {
            identity: "email:p@example.org".into(),
            known,
            key: key.then(|| "F1".into()),
            mutual: mutual && key,
            secure_channel: match (key, signal) {
                (true, _) => Some("openpgp".into()),
                (false, true) => Some("signal".into()),
                (false, false) => None,
            },
        },
    );
    (
        any::<bool>(),
        prop::collection::vec(person, 0..4),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(from_user, people, parent_encrypted)| Circle {
            from_user,
            people,
            parent_encrypted,
        })
}

proptest! {
    #[test]
    fn with_a_circle_encrypting_never_lowers_a_score_and_scores_stay_in_range(
        message in arbitrary_message(),
        circle in arbitrary_circle(),
    ) {
        let mut message = message;
        message.security.encryption = Encryption::None;
        let before = score_in(&message, &config(), Some(&circle));
        prop_assert!(before.score <= 100);
        for s in &before.suggestions {
            prop_assert!(s.gain > 0 && i32::from(before.score) + s.gain <= 100);
        }
        message.security.encryption = Encryption::PgpMime;
        prop_assert!(score_in(&message, &config(), Some(&circle)).score >= before.score);
    }

    #[test]
    fn scores_and_axes_stay_within_0_to_100(message in arbitrary_message()) {
        let privacy = score(&message, &config());
        for value in [privacy.score, privacy.technic, privacy.context, privacy.comportment] {
            prop_assert!(value <= 100);
        }
        prop_assert_eq!(privacy.grade, grade(privacy.score));
        for s in &privacy.suggestions {
            prop_assert!(s.gain > 0 && i32::from(privacy.score) + s.gain <= 100);
        }
    }

    #[test]
    fn the_same_record_scores_the_same_every_time(message in arbitrary_message()) {
        let first = score(&message, &config());
        prop_assert_eq!(&first, &score(&message.clone(), &config()));
        prop_assert_eq!(
            serde_json::to_string(&first).unwrap(),
            serde_json::to_string(&score(&message, &config())).unwrap()
        );
    }

    #[test]
    fn encrypting_never_lowers_a_score(
        message in arbitrary_message(),
        encryption in prop_oneof![
            Just(Encryption::PgpMime),
            Just(Encryption::PgpInline),
            Just(Encryption::Smime),
            Just(Encryption::ProtocolE2e),
        ],
    ) {
        let mut message = message;
        message.security.encryption = Encryption::None;
        let before = score(&message, &config()).score;
        message.security.encryption = encryption;
        prop_assert!(score(&message, &config()).score >= before);
    }

    #[test]
    fn a_valid_signature_never_lowers_a_score(message in arbitrary_message()) {
        let before = score(&message, &config()).score;
        let mut signed = message;
        signed.security.signature = SignatureState::Valid;
        prop_assert!(score(&signed, &config()).score >= before);
    }

    #[test]
    fn tls_on_one_more_hop_never_lowers_a_score(
        message in arbitrary_message(),
        version in prop::option::of(prop_oneof![Just("TLSv1.3"), Just("TLSv1.2"), Just("TLSv1.0")]),
    ) {
        let transport = &message.security.transport;
        prop_assume!(transport.tls_hops < transport.external_hops);
        let before = score(&message, &config()).score;
        let mut more = message.clone();
        more.security.transport.tls_hops += 1;
        // The new hop's version becomes the weakest when it is weaker (or the first known).
        if let Some(version) = version {
            let weakest = &mut more.security.transport.weakest_tls;
            let rank = |v: &str| ["SSLv3", "TLSv1.0", "TLSv1.2", "TLSv1.3"].iter().position(|k| *k == v);
            if weakest.as_deref().is_none_or(|w| rank(version) < rank(w)) {
                *weakest = Some(version.to_string());
            }
        }
        prop_assert!(score(&more, &config()).score >= before);
    }
}
