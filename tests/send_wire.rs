//! `send` on the wire: messages built by `missive::send::mime` and sealed by
//! `missive::send::pgp`, delivered by `missive::send::smtp` to real SMTP servers on loopback
//! (aiosmtpd with implicit TLS and with STARTTLS, smtp-sink for faults), then read back and
//! opened by GnuPG and Sequoia's `sq`.

use missive::fault::Fault;
use missive::record::Address;
use missive::secret::Auth;
use missive::send::mime::{Outgoing, build_plain};
use missive::send::pgp::{self, Sealed};
use missive::send::smtp::{self, Outcome, Submission, Transport};
use sequoia_openpgp as openpgp;
use sequoia_openpgp::parse::Parse as _;

use crate::support::openpgp::{GnuPg, pgp_mime_ciphertext, sq, sq_decrypt_signed};
use crate::support::smtp::{Mode, PASSWORD, Smtpd, USER};

fn address(address: &str) -> Address {
    Address {
        name: None,
        address: address.into(),
        group: None,
    }
}

fn submission(server: &Smtpd, implicit_tls: bool) -> Transport {
    Transport::Submission(Submission {
        host: "127.0.0.1".into(),
        port: server.port,
        implicit_tls,
        user: USER.into(),
        auth: Auth::PasswordCommand(format!("echo {PASSWORD}")),
        ca_file: Some(server.ca_file()),
    })
}

fn draft() -> Outgoing {
    Outgoing {
        from: Address {
            name: Some("Sam Sender".into()),
            address: "sam@example.com".into(),
            group: None,
        },
        to: vec![address("bob@example.net")],
        cc: vec![address("alice@example.org")],
        bcc: vec![address("carol@example.org")],
        subject: "the secret plan".into(),
        text: format!("Meet at noon.\n{}\n", "long line ".repeat(200)),
        message_id: "<draft-1@example.com>".into(),
        date: 1_704_103_200,
        in_reply_to: Some("<parent@example.net>".into()),
        references: vec!["<parent@example.net>".into()],
        ..Outgoing::default()
    }
}

/// Every header line of a message (continuations included), lowercased.
fn header_lines(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes).to_lowercase();
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string();
    head.split("\r\n").map(str::to_string).collect()
}

fn assert_wire_format(bytes: &[u8]) {
    for line in bytes.split(|&b| b == b'\n') {
        assert!(line.len() <= 999, "a line of {} octets", line.len());
    }
    let lone_lf = bytes
        .windows(2)
        .filter(|w| w[1] == b'\n' && w[0] != b'\r')
        .count();
    assert_eq!(lone_lf, 0, "every line ends in CRLF");
    assert!(!bytes.starts_with(b"\n") && bytes.iter().filter(|&&b| b == b'\n').count() > 5);
}

fn delivered(outcomes: &[(String, Outcome)]) -> Vec<&str> {
    outcomes
        .iter()
        .filter(|(_, o)| *o == Outcome::Accepted)
        .map(|(r, _)| r.as_str())
        .collect()
}

#[test]
fn pgp_mime_over_implicit_tls_opens_with_gpg_and_sq_and_hides_subject_and_bcc() {
    let server = Smtpd::start(Mode::Implicit);
    let dir = tempfile::tempdir().unwrap();
    // Bob's key is GnuPG's: it does not advertise SEIPDv2, so the message is SEIPDv1,
    // which gpg 2.2 and sq read.
    let bob_gpg = GnuPg::new();
    let bob_fingerprint = bob_gpg.generate("Bob <bob@example.net>");
    bob_gpg.run(
        &[
            "--passphrase",
            "",
            "--quick-add-key",
            &bob_fingerprint,
            "cv25519",
            "encr",
            "never",
        ],
        None,
    );
    let bob =
        openpgp::Cert::from_bytes(&bob_gpg.run(&["--export", "bob@example.net"], None)).unwrap();
    let bob_secret = dir.path().join("bob.key");
    std::fs::write(&bob_secret, bob_gpg.secret_key("bob@example.net")).unwrap();
    let alice = missive::keys::crypto::generate("Alice <alice@example.org>", None)
        .unwrap()
        .0;
    let carol = missive::keys::crypto::generate("Carol <carol@example.org>", None)
        .unwrap()
        .0;
    let (sam, sam_tsk) = missive::keys::crypto::generate("Sam <sam@example.com>", None).unwrap();
    let sam_public = dir.path().join("sam.cert");
    std::fs::write(&sam_public, missive::keys::crypto::armored(&sam).unwrap()).unwrap();
    let sam_secret = dir.path().join("sam.key");
    std::fs::write(
        &sam_secret,
        missive::keys::crypto::armored_secret(&sam_tsk).unwrap(),
    )
    .unwrap();
    bob_gpg.run(&["--import"], Some(&std::fs::read(&sam_public).unwrap()));

    let mut message = draft();
    message.autocrypt = Some(missive::keys::crypto::to_stored(&sam).unwrap());
    let certs = [&bob, &alice, &carol];
    let lookup = |address: &str| {
        certs.iter().copied().find(|c| {
            c.userids()
                .any(|u| u.userid().email().ok().flatten() == Some(address))
        })
    };
    let sealed: Vec<Sealed> = pgp::build_per_group(&message, &sam, lookup, true).unwrap();
    assert_eq!(
        sealed.len(),
        2,
        "one for To and Cc, one for the Bcc recipient"
    );
    let transport = submission(&server, true);
    for copy in &sealed {
        let outcomes =
            smtp::deliver(&transport, "sam@example.com", &copy.recipients, &copy.bytes).unwrap();
        assert_eq!(
            delivered(&outcomes).len(),
            copy.recipients.len(),
            "{outcomes:?}"
        );
    }

    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].rcpt_to,
        ["bob@example.net", "alice@example.org"]
    );
    assert_eq!(received[1].rcpt_to, ["carol@example.org"]);
    for mail in &received {
        assert_wire_format(&mail.bytes);
        let headers = header_lines(&mail.bytes);
        assert!(
            headers.contains(&"subject: [...]".to_string()),
            "{headers:?}"
        );
        assert!(
            headers
                .iter()
                .all(|h| !h.contains("carol") && !h.starts_with("bcc")),
            "Bcc in a header: {headers:?}"
        );
        let text = String::from_utf8_lossy(&mail.bytes);
        assert!(!text.contains("secret plan") && !text.contains("Meet at noon"));
    }

    // Bob opens his copy with GnuPG and with sq; both check Sam's signature.
    let encrypted = dir.path().join("bob.asc");
    std::fs::write(&encrypted, pgp_mime_ciphertext(&received[0].bytes)).unwrap();
    let output = bob_gpg
        .command()
        .args(["--status-fd", "1", "--decrypt"])
        .arg(&encrypted)
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
    let signer = sam.fingerprint().to_hex();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.ends_with(&signer)),
        "not signed by {signer}: {status}"
    );
    assert!(status.contains("Subject: the secret plan"), "{status}");
    assert!(status.contains("protected-headers=\"v1\""), "{status}");
    let (ok, inner) = sq_decrypt_signed(&bob_secret, &sam_public, &encrypted);
    assert!(ok, "{inner}");
    assert!(inner.contains("Subject: the secret plan"), "{inner}");
    assert!(inner.contains("Autocrypt: addr=sam@example.com"), "{inner}");
    assert!(
        inner.contains("Autocrypt-Gossip: addr=bob@example.net"),
        "{inner}"
    );
    assert!(
        !inner.contains("carol"),
        "the Bcc recipient is not gossiped: {inner}"
    );

    // The sender's copy: Sam's own key opens it.
    let (ok, inner) = sq_decrypt_signed(&sam_secret, &sam_public, &encrypted);
    assert!(ok && inner.contains("Meet at noon."), "{inner}");
    // Bob's key does not open Carol's copy.
    let carols = dir.path().join("carol.asc");
    std::fs::write(&carols, pgp_mime_ciphertext(&received[1].bytes)).unwrap();
    let (ok, _) = sq(
        &["decrypt", "--recipient-key", &bob_secret.to_string_lossy()],
        &[&carols],
    );
    assert!(!ok, "Carol's copy is hers and Sam's only");
}

#[test]
fn a_plain_message_over_starttls_is_crlf_with_short_lines_and_no_bcc_header() {
    let server = Smtpd::start(Mode::Starttls);
    let (sam, _) = missive::keys::crypto::generate("Sam <sam@example.com>", None).unwrap();
    let mut message = draft();
    message.autocrypt = Some(missive::keys::crypto::to_stored(&sam).unwrap());
    let bytes = build_plain(&message).unwrap();
    let recipients =
        ["bob@example.net", "alice@example.org", "carol@example.org"].map(String::from);
    let outcomes = smtp::deliver(
        &submission(&server, false),
        "sam@example.com",
        &recipients,
        &bytes,
    )
    .unwrap();
    assert_eq!(delivered(&outcomes), recipients);
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].rcpt_to, recipients,
        "the Bcc recipient is in the envelope"
    );
    assert_eq!(received[0].mail_from, "sam@example.com");
    assert_wire_format(&received[0].bytes);
    let headers = header_lines(&received[0].bytes);
    assert!(headers.iter().all(|h| !h.contains("carol")), "{headers:?}");
    assert!(
        headers.contains(&"subject: the secret plan".to_string()),
        "{headers:?}"
    );
    assert!(
        headers
            .iter()
            .any(|h| h.starts_with("autocrypt: addr=sam@example.com"))
    );
    assert!(
        headers
            .iter()
            .any(|h| h.starts_with("in-reply-to: <parent@example.net>"))
    );
}

#[test]
fn plain_text_smtp_and_an_untrusted_certificate_are_refused() {
    let server = Smtpd::start(Mode::Plain);
    let recipients = ["bob@example.net".to_string()];
    let bytes = build_plain(&draft()).unwrap();
    let error = smtp::deliver(
        &submission(&server, false),
        "sam@example.com",
        &recipients,
        &bytes,
    )
    .unwrap_err();
    assert!(matches!(error, smtp::Error::PlainText { .. }), "{error}");
    assert!(
        !error.is_transient(),
        "a setting to fix, not a server to wait for"
    );
    assert!(error.to_string().contains("plain text"), "{error}");
    assert!(server.received().is_empty(), "nothing went out in clear");

    let server = Smtpd::start(Mode::Implicit);
    let Transport::Submission(mut untrusted) = submission(&server, true) else {
        unreachable!()
    };
    untrusted.ca_file = None;
    let error = smtp::deliver(
        &Transport::Submission(untrusted),
        "sam@example.com",
        &recipients,
        &bytes,
    )
    .unwrap_err();
    assert!(!error.is_transient(), "a refused certificate: {error:?}");
    assert!(server.received().is_empty());
}

#[test]
fn one_refused_recipient_does_not_stop_the_others() {
    let server = Smtpd::start(Mode::Implicit);
    let recipients = [
        "bob@example.net",
        "refused@example.net",
        "alice@example.org",
    ]
    .map(String::from);
    let bytes = build_plain(&draft()).unwrap();
    let outcomes = smtp::deliver(
        &submission(&server, true),
        "sam@example.com",
        &recipients,
        &bytes,
    )
    .unwrap();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].1, Outcome::Accepted);
    assert!(
        matches!(&outcomes[1].1, Outcome::Refused { code, text } if code == "5.1.1" && text.starts_with("550")),
        "{outcomes:?}"
    );
    assert_eq!(outcomes[2].1, Outcome::Accepted);
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].rcpt_to,
        ["bob@example.net", "alice@example.org"]
    );
}

fn deliver_to_sink(faults: &[&str]) -> Vec<(String, Outcome)> {
    let server = Smtpd::sink(faults);
    let recipients = ["bob@example.net", "alice@example.org"].map(String::from);
    let bytes = build_plain(&draft()).unwrap();
    smtp::deliver(
        &submission(&server, true),
        "sam@example.com",
        &recipients,
        &bytes,
    )
    .expect("the server was reached and logged in to")
}

#[test]
fn a_connection_dropped_after_the_data_is_temporary() {
    let outcomes = deliver_to_sink(&["-q", "."]);
    assert!(
        outcomes
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Temporary { .. })),
        "{outcomes:?}"
    );
    // The same server without the fault takes it: the fault is what made it temporary.
    let outcomes = deliver_to_sink(&[]);
    assert!(
        outcomes.iter().all(|(_, o)| *o == Outcome::Accepted),
        "{outcomes:?}"
    );
}

#[test]
fn a_4xx_is_temporary_and_a_5xx_refused() {
    let outcomes = deliver_to_sink(&["-r", "rcpt"]);
    assert!(
        outcomes
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Temporary { text, .. } if text.starts_with('4'))),
        "{outcomes:?}"
    );
    let outcomes = deliver_to_sink(&["-f", "."]);
    assert!(
        outcomes
            .iter()
            .all(|(_, o)| matches!(o, Outcome::Refused { text, .. } if text.starts_with('5'))),
        "{outcomes:?}"
    );
}
