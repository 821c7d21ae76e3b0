//! `missive send` end to end: the binary, a config account with `submission`, `ca_file` and
//! `password_command`, and a real SMTP server on loopback (aiosmtpd with STARTTLS and with
//! implicit TLS, smtp-sink for faults). What arrives is read back from the server's Maildir
//! and opened with GnuPG; the outbox is seen through `send --flush` and re-runs.

use serde_json::Value;

use crate::support::openpgp::{GnuPg, pgp_mime_ciphertext, sq_decrypt_signed};
use crate::support::smtp::{Mode, PASSWORD, Received, Smtpd, USER};
use crate::support::{Home, run};

/// A home whose user sam has a key of their own and an account sending through `server`.
fn home(server: &Smtpd) -> Home {
    let home = Home::new();
    point_at(&home, server, "");
    let (code, _, stderr) = run(home.missive().args(["keys", "generate", "--no-passphrase"]));
    assert_eq!(code, 0, "{stderr}");
    home
}

/// Rewrites the config so the account sends through `server`, with `extra` settings.
fn point_at(home: &Home, server: &Smtpd, extra: &str) {
    std::fs::create_dir_all(home.path().join("Mail")).unwrap();
    home.write_config(&format!(
        "[identity]\nname = \"Sam\"\naddresses = [\"sam@example.com\"]\nprefer_encrypt = \"mutual\"\n\
         [accounts.work]\nsource = \"maildir:Mail\"\nsubmission = \"smtp://{USER}@127.0.0.1:{}\"\n\
         ca_file = \"{}\"\npassword_command = \"echo {PASSWORD}\"\n{extra}",
        server.port,
        server.ca_file().display()
    ));
}

/// Bob's GnuPG, with a key that encrypts, imported into the home; returns it.
fn bob(home: &Home) -> GnuPg {
    keyholder(home, "Bob <bob@example.net>")
}

/// A GnuPG with a key for `user_id` that encrypts, imported into the home.
fn keyholder(home: &Home, user_id: &str) -> GnuPg {
    let gpg = GnuPg::new();
    let fingerprint = gpg.generate(user_id);
    gpg.run(
        &[
            "--passphrase",
            "",
            "--quick-add-key",
            &fingerprint,
            "cv25519",
            "encr",
            "never",
        ],
        None,
    );
    home.missive()
        .args(["keys", "import"])
        .write_stdin(gpg.run(&["--armor", "--export"], None))
        .assert()
        .success();
    gpg
}

/// `missive send ARGS` with `stdin`: (exit code, deliveries, stderr).
fn send(home: &Home, args: &[&str], stdin: &str) -> (i32, Vec<Value>, String) {
    run(home
        .missive()
        .arg("send")
        .args(args)
        .write_stdin(stdin.to_string()))
}

fn by<'a>(deliveries: &'a [Value], recipient: &str) -> &'a Value {
    deliveries
        .iter()
        .find(|d| d["recipient"] == format!("email:{recipient}"))
        .unwrap_or_else(|| panic!("no delivery to {recipient}: {deliveries:?}"))
}

fn header_block(mail: &Received) -> String {
    let text = String::from_utf8_lossy(&mail.bytes);
    text.split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string()
}

const DRAFT: &str = r#"{"kind":"draft","v":1,"to":["bob@example.net"],"subject":"the secret plan","text":"Meet at noon.\n"}"#;

#[test]
fn a_draft_to_a_contact_with_a_key_arrives_as_pgp_mime_that_gpg_and_sq_open_and_is_sent_once() {
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    let bob = bob(&home);
    let sam_cert = home.write(
        "sam.cert",
        &home
            .missive()
            .args(["keys", "export", "sam@example.com"])
            .output()
            .unwrap()
            .stdout,
    );
    bob.run(&["--import"], Some(&std::fs::read(&sam_cert).unwrap()));

    let (code, deliveries, stderr) = send(&home, &[], DRAFT);
    assert_eq!(code, 0, "{stderr}");
    let delivery = by(&deliveries, "bob@example.net");
    assert_eq!(delivery["status"], "sent", "{delivery}");
    assert_eq!(delivery["channel"], "pgp-mime");

    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].mail_from, "sam@example.com");
    assert_eq!(received[0].rcpt_to, ["bob@example.net"]);
    let headers = header_block(&received[0]);
    assert!(headers.contains("Subject: [...]"), "{headers}");
    assert!(headers.contains("multipart/encrypted"), "{headers}");
    let text = String::from_utf8_lossy(&received[0].bytes);
    assert!(!text.contains("secret plan") && !text.contains("Meet at noon"));

    // Bob's GnuPG opens the whole message (the armour inside the MIME) and checks Sam's
    // signature.
    let output = bob
        .command()
        .args(["--status-fd", "1", "--decrypt"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(&received[0].bytes)?;
            child.wait_with_output()
        })
        .unwrap();
    let status = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
    assert!(status.contains("[GNUPG:] VALIDSIG "), "{status}");
    assert!(status.contains("Subject: the secret plan"), "{status}");
    assert!(status.contains("Meet at noon."), "{status}");

    // Sequoia's sq opens it with Bob's key too, and fails unless Sam's signature verifies.
    let bob_key = home.write("bob.key", &bob.secret_key("bob@example.net"));
    let encrypted = home.write("bob.asc", &pgp_mime_ciphertext(&received[0].bytes));
    let (ok, inner) = sq_decrypt_signed(&bob_key, &sam_cert, &encrypted);
    assert!(ok, "{inner}");
    assert!(inner.contains("Subject: the secret plan"), "{inner}");
    assert!(inner.contains("Meet at noon."), "{inner}");

    // The same draft again: the outbox knows it was sent.

    let (code, again, stderr) = send(&home, &[], DRAFT);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(by(&again, "bob@example.net")["status"], "sent");
    assert_eq!(server.received().len(), 1, "sent once");

    // The copy sent is in the archive and the index.
    let (code, found, stderr) = run(home.missive().args(["search", "account:sent"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["native_id"], delivery["message_id"]);
    assert_eq!(found[0]["security"]["encryption"], "pgp-mime");
}

#[test]
fn a_dry_run_over_implicit_tls_sends_nothing_and_the_send_goes_in_clear_over_tls() {
    let server = Smtpd::start(Mode::Implicit);
    let home = home(&server);
    point_at(&home, &server, "submission_tls = \"implicit\"\n");
    let args = ["--to", "carol@example.org", "--subject", "hello"];
    let (code, plan, stderr) = send(&home, &[&args[..], &["--dry-run"]].concat(), "hi\n");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(plan[0]["status"], "planned");
    assert_eq!(plan[0]["channel"], "tls");
    assert!(server.received().is_empty(), "a dry run sends nothing");
    let (code, pending, _) = send(&home, &["--flush", "--dry-run"], "");
    assert_eq!((code, pending.len()), (0, 0), "and journals nothing");

    let (code, deliveries, stderr) = send(&home, &args, "hi\n");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(deliveries[0]["status"], "sent");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert!(header_block(&received[0]).contains("Subject: hello"));
    assert!(header_block(&received[0]).contains("Autocrypt: addr=sam@example.com"));
}

#[test]
fn a_dry_run_never_connects_to_the_server() {
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    bob(&home);
    let (code, plan, stderr) = send(&home, &["--dry-run"], DRAFT);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(by(&plan, "bob@example.net")["channel"], "pgp-mime");
    let in_clear = ["--to", "carol@example.org", "--dry-run"];
    let (code, plan, stderr) = send(&home, &in_clear, "hi\n");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(by(&plan, "carol@example.org")["channel"], "tls");
    assert_eq!(server.connections(), 0, "not even to look");

    // The count sees a send's connection: a dry run that connected would have shown.
    let (code, _, stderr) = send(&home, &[], DRAFT);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_recipient_without_a_key_beside_one_with_a_key_gets_tls_only_with_split_or_via() {
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    let bob = bob(&home);
    let mixed = ["--to", "bob@example.net", "--cc", "carol@example.org"];

    let refused = [&mixed[..], &["--subject", "the plan"]].concat();
    let (code, deliveries, stderr) = send(&home, &refused, "Meet at noon.\n");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("carol@example.org") && stderr.contains("--split"),
        "names the recipient without a key and the way out: {stderr}"
    );
    assert!(
        deliveries.iter().all(|d| d["status"] == "refused"),
        "{deliveries:?}"
    );
    assert!(server.received().is_empty());
    assert_eq!(server.connections(), 0, "refused before connecting");

    let (code, deliveries, stderr) = send(
        &home,
        &[&refused[..], &["--split"]].concat(),
        "Meet at noon.\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(by(&deliveries, "bob@example.net")["channel"], "pgp-mime");
    assert_eq!(by(&deliveries, "carol@example.org")["channel"], "tls");
    assert!(
        deliveries.iter().all(|d| d["status"] == "sent"),
        "{deliveries:?}"
    );
    let received = server.received();
    assert_eq!(received.len(), 2, "one message per channel");
    let to = |who: &str| {
        received
            .iter()
            .find(|m| m.rcpt_to == [who])
            .unwrap_or_else(|| panic!("nothing to {who} alone: {received:?}"))
    };
    let (to_bob, to_carol) = (to("bob@example.net"), to("carol@example.org"));
    assert!(header_block(to_bob).contains("multipart/encrypted"));
    assert!(header_block(to_bob).contains("Subject: [...]"));
    assert!(opens(&bob, to_bob));
    assert!(!header_block(to_carol).contains("multipart/encrypted"));
    assert!(header_block(to_carol).contains("Subject: the plan"));
    assert!(String::from_utf8_lossy(&to_carol.bytes).contains("Meet at noon."));

    // --via tls sends one message in clear to both.
    let via = [&mixed[..], &["--subject", "lunch", "--via", "tls"]].concat();
    let (code, deliveries, stderr) = send(&home, &via, "At one?\n");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        deliveries
            .iter()
            .all(|d| d["channel"] == "tls" && d["status"] == "sent"),
        "{deliveries:?}"
    );
    let received = server.received();
    assert_eq!(received.len(), 3);
    assert_eq!(
        received[2].rcpt_to,
        ["bob@example.net", "carol@example.org"]
    );
    assert!(header_block(&received[2]).contains("Subject: lunch"));
}

#[test]
fn plain_text_smtp_is_refused_and_the_draft_goes_once_the_config_is_fixed() {
    let plain = Smtpd::start(Mode::Plain);
    let home = home(&plain);
    let args = ["--to", "carol@example.org", "--subject", "hello"];
    let (code, deliveries, stderr) = send(&home, &args, "hi\n");
    assert_eq!(code, 2, "a setting to fix: {stderr}{deliveries:?}");
    assert!(stderr.contains("plain text"), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");
    assert!(plain.received().is_empty(), "nothing went out in clear");

    // Nothing was marked failed: the outbox still holds the draft for --flush.
    let server = Smtpd::start(Mode::Starttls);
    point_at(&home, &server, "");
    let (code, deliveries, stderr) = send(&home, &["--flush"], "");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(by(&deliveries, "carol@example.org")["status"], "sent");
    assert_eq!(server.received().len(), 1);
    assert!(plain.received().is_empty());
}

/// Sends `DRAFT` to smtp-sink making `faults`, which drop the connection before the
/// message is accepted: the delivery is queued (exit 75); `--flush` to a working server
/// then sends it, and neither flushing nor the same draft again sends it twice.
fn queued_by_a_drop_then_flushed_once(faults: &[&str]) {
    let faulty = Smtpd::sink(faults);
    let home = home(&faulty);
    // The sink's TLS relay speaks TLS from the first byte.
    point_at(&home, &faulty, "submission_tls = \"implicit\"\n");
    let bob = bob(&home);
    drop(bob);
    let (code, deliveries, stderr) = send(&home, &[], DRAFT);
    assert_eq!(code, 75, "{stderr}");
    let queued = by(&deliveries, "bob@example.net");
    assert_eq!(queued["status"], "queued");
    assert!(
        queued["reason"]
            .as_str()
            .is_some_and(|r| r.contains("connection lost")),
        "dropped, not timed out: {queued}"
    );

    let server = Smtpd::start(Mode::Starttls);
    point_at(&home, &server, "");
    let (code, deliveries, stderr) = send(&home, &["--flush"], "");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(by(&deliveries, "bob@example.net")["status"], "sent");
    assert_eq!(server.received().len(), 1);

    let (code, deliveries, stderr) = send(&home, &["--flush"], "");
    assert_eq!(code, 0, "{stderr}");
    assert!(deliveries.is_empty(), "nothing left: {deliveries:?}");
    let (code, _, stderr) = send(&home, &[], DRAFT);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.received().len(), 1, "sent exactly once");
}

#[test]
fn a_drop_once_the_message_is_in_queues_the_delivery_and_flush_sends_it_once() {
    // smtp-sink hangs up once the message is in, before it answers.
    queued_by_a_drop_then_flushed_once(&["-q", "."]);
}

#[test]
fn a_drop_after_the_data_command_queues_the_delivery_and_flush_sends_it_once() {
    // smtp-sink hangs up on DATA, before the body.
    queued_by_a_drop_then_flushed_once(&["-q", "data"]);
}

#[test]
fn one_refused_recipient_does_not_stop_the_others() {
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    let args = [
        "--to",
        "carol@example.org",
        "--cc",
        "refused@example.net",
        "--cc",
        "dave@example.org",
        "--subject",
        "hello all",
    ];
    let (code, deliveries, stderr) = send(&home, &args, "hi\n");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(by(&deliveries, "carol@example.org")["status"], "sent");
    assert_eq!(by(&deliveries, "dave@example.org")["status"], "sent");
    let refused = by(&deliveries, "refused@example.net");
    assert_eq!(refused["status"], "failed", "{refused}");
    assert_eq!(refused["code"], "5.1.1", "{refused}");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].rcpt_to,
        ["carol@example.org", "dave@example.org"]
    );

    // Again: neither the accepted nor the refused are tried twice.
    let (code, _, stderr) = send(&home, &args, "hi\n");
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(server.received().len(), 1);
}

/// A message as mutt hands it to sendmail.
const MESSAGE: &str = "From: Sam <sam@example.com>\nTo: Carol <carol@example.org>\n\
    Bcc: dave@example.org\nSubject: lunch\nMessage-ID: <lunch.1@example.com>\n\n\
    At one?\n.\nSee you.\n";

#[test]
fn sendmail_t_reads_the_recipients_from_the_headers_and_routes_the_message() {
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    let args = ["--sendmail", "-t", "-i", "-oi", "-f", "sam@example.com"];
    let (code, deliveries, stderr) = send(&home, &args, MESSAGE);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(by(&deliveries, "carol@example.org")["field"], "to");
    assert_eq!(by(&deliveries, "dave@example.org")["field"], "bcc");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].rcpt_to,
        ["carol@example.org", "dave@example.org"]
    );
    let headers = header_block(&received[0]);
    assert!(
        !headers.to_lowercase().contains("dave"),
        "no Bcc header: {headers}"
    );
    assert!(
        headers.contains("Message-ID: <lunch.1@example.com>"),
        "{headers}"
    );
    let text = String::from_utf8_lossy(&received[0].bytes);
    assert!(
        text.contains("\r\n.\r\nSee you."),
        "a lone dot ends nothing: {text}"
    );
    // The MUA tries again: the message is the draft already sent.
    let (code, _, stderr) = send(&home, &args, MESSAGE);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(server.received().len(), 1);

    // A recipient with a key gets it encrypted.
    bob(&home);
    let to_bob = "From: sam@example.com\nTo: bob@example.net\nSubject: secret\n\nhush\n";
    let (code, deliveries, stderr) = send(&home, &["--sendmail", "-t", "-i"], to_bob);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(by(&deliveries, "bob@example.net")["channel"], "pgp-mime");
    assert!(header_block(&server.received()[1]).contains("Subject: [...]"));

    let (code, _, stderr) = send(
        &home,
        &["--sendmail", "-t", "-f", "eve@example.org"],
        to_bob,
    );
    assert_eq!(code, 2, "not the user's address: {stderr}");
}

#[test]
fn git_send_email_uses_missive_as_its_sendmail() {
    let git_email = std::process::Command::new("git")
        .args(["send-email", "-h"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--sendmail-cmd"));
    if !git_email {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have git send-email (scripts/deps test installs git-email)"
        );
        eprintln!(
            "skipped: git send-email with --sendmail-cmd is not installed (apt-get install git-email)"
        );
        return;
    }
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    let repo = home.path().join("repo");
    let git = |args: &[&str]| {
        let output = std::process::Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("MISSIVE_STORE", home.store())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Sam")
            .env("GIT_AUTHOR_EMAIL", "sam@example.com")
            .env("GIT_COMMITTER_NAME", "Sam")
            .env("GIT_COMMITTER_EMAIL", "sam@example.com")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "git {args:?}: {}{}",
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(home.path().join("sendmail.log")).unwrap_or_default()
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    std::fs::create_dir_all(&repo).unwrap();
    git(&["init", "-q"]);
    std::fs::write(repo.join("README"), "hello\n").unwrap();
    git(&["add", "README"]);
    git(&["commit", "-q", "-m", "Say hello"]);
    let patch = git(&["format-patch", "--root", "-o", "patches"]);
    let missive = assert_cmd::cargo::cargo_bin("missive");
    git(&[
        "send-email",
        "--confirm=never",
        "--quiet",
        "--no-chain-reply-to",
        // git Cc's the patch's author, Sam: a copy to oneself must not make the list mixed.
        "--from=Sam <sam@example.com>",
        "--to=carol@example.org",
        &format!(
            "--sendmail-cmd={} send --sendmail 2>>{}",
            missive.display(),
            home.path().join("sendmail.log").display()
        ),
        patch.trim(),
    ]);
    let received = server.received();
    let log = std::fs::read_to_string(home.path().join("sendmail.log")).unwrap_or_default();
    assert_eq!(received.len(), 1, "{log}");
    let mut rcpt_to = received[0].rcpt_to.clone();
    rcpt_to.sort();
    assert_eq!(rcpt_to, ["carol@example.org", "sam@example.com"], "{log}");
    let headers = header_block(&received[0]);
    assert!(headers.contains("Subject: [PATCH] Say hello"), "{headers}");
    let text = String::from_utf8_lossy(&received[0].bytes);
    assert!(text.contains("+hello"), "{text}");
}

/// Whether `gpg` can decrypt the PGP/MIME message `mail` (whether it knows the signer or
/// not).
fn opens(gpg: &GnuPg, mail: &Received) -> bool {
    use std::io::Write;
    let mut child = gpg
        .command()
        .args(["--status-fd", "1", "--decrypt"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&mail.bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout).contains("[GNUPG:] DECRYPTION_OKAY")
}

#[test]
fn an_encrypted_bcc_recipient_gets_a_copy_of_their_own() {
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    let bob = bob(&home);
    let carol = keyholder(&home, "Carol <carol@example.org>");
    let args = ["--to", "bob@example.net", "--bcc", "carol@example.org"];
    let (code, deliveries, stderr) = send(&home, &args, "hush\n");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        deliveries
            .iter()
            .all(|d| d["channel"] == "pgp-mime" && d["status"] == "sent")
    );
    let received = server.received();
    assert_eq!(received.len(), 2, "one for To, one for the Bcc recipient");
    let (to_bob, to_carol) = if received[0].rcpt_to == ["bob@example.net"] {
        (&received[0], &received[1])
    } else {
        (&received[1], &received[0])
    };
    assert_eq!(to_carol.rcpt_to, ["carol@example.org"]);
    for mail in &received {
        assert!(!header_block(mail).to_lowercase().contains("carol"));
    }
    assert!(opens(&bob, to_bob) && opens(&carol, to_carol));
    assert!(!opens(&carol, to_bob), "Bob's copy is not sealed for Carol");
    assert!(!opens(&bob, to_carol));
}

/// With `sent_mailbox = '\Sent'`, the copy sent is filed, seen, in the mailbox of that
/// special use on the user's IMAP server (Dovecot), where their other mail programs show
/// it; a mailbox the server does not have leaves the delivery sent, with a warning saying
/// why the copy was not filed.
#[test]
fn the_copy_sent_is_filed_in_the_imap_sent_mailbox() {
    let server = Smtpd::start(Mode::Starttls);
    let dovecot = crate::support::dovecot::Dovecot::start(&[(USER, PASSWORD)]);
    let home = Home::new();
    let both_cas = [server.ca_file(), dovecot.ca_file()]
        .iter()
        .map(|ca| std::fs::read(ca).unwrap())
        .collect::<Vec<_>>()
        .concat();
    let ca = home.write("cas.pem", &both_cas);
    let configure = |sent_mailbox: &str| {
        home.write_config(&format!(
            "[identity]\nname = \"Sam\"\naddresses = [\"sam@example.com\"]\n\
             [accounts.work]\nsource = \"imap://{USER}@127.0.0.1:{imaps}\"\npassword_command = \"echo {PASSWORD}\"\n\
             ca_file = \"{ca}\"\nsubmission = \"smtp://{USER}@127.0.0.1:{smtp}\"\nsent_mailbox = '{sent_mailbox}'\n",
            imaps = dovecot.imaps_port,
            smtp = server.port,
            ca = ca.display(),
        ));
    };
    configure("\\Sent");
    let (code, deliveries, stderr) = send(
        &home,
        &["--to", "carol@example.org", "--subject", "filed"],
        "kept where mutt looks\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(deliveries[0]["status"], "sent", "{deliveries:?}");
    assert!(deliveries[0]["warnings"].is_null(), "{deliveries:?}");
    let filed = dovecot.flags(USER, "Sent");
    assert_eq!(filed.len(), 1, "one copy in Sent: {filed:?}");
    assert!(filed[0].1.contains("\\Seen"), "{filed:?}");
    let text = dovecot.doveadm(&["fetch", "-u", USER, "text", "mailbox", "Sent"]);
    assert!(text.contains("kept where mutt looks"), "{text}");
    assert_eq!(server.received().len(), 1);

    configure("Nowhere");
    let (code, deliveries, stderr) = send(
        &home,
        &["--to", "carol@example.org", "--subject", "not filed"],
        "still sent\n",
    );
    assert_eq!(code, 0, "the mail went; only filing failed: {stderr}");
    assert_eq!(deliveries[0]["status"], "sent", "{deliveries:?}");
    let warning = deliveries[0]["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("not filed in Nowhere"), "{deliveries:?}");
    assert!(!warning.contains(PASSWORD), "{warning}");
    assert_eq!(dovecot.flags(USER, "Sent").len(), 1);
    assert_eq!(server.received().len(), 2);
}

/// A user with two addresses picks the one to send from (`--from`, a draft's `from`, or
/// sendmail's `-f` and From header); an address not theirs is a usage error naming it.
#[test]
fn the_user_chooses_which_of_their_addresses_a_message_goes_from() {
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    home.write_config(
        &std::fs::read_to_string(home.path().join("config/missive/config.toml"))
            .unwrap()
            .replace(
                "addresses = [\"sam@example.com\"]",
                "addresses = [\"sam@example.com\", \"sam@home.example\"]",
            ),
    );
    let (code, _, stderr) = send(
        &home,
        &["--to", "carol@example.org", "--from", "SAM@home.example"],
        "from home\n",
    );
    assert_eq!(code, 0, "{stderr}");
    let draft = r#"{"kind":"draft","v":1,"from":"sam@home.example","to":["carol@example.org"],"text":"a draft from home\n"}"#;
    let (code, _, stderr) = send(&home, &[], draft);
    assert_eq!(code, 0, "{stderr}");
    let message = "From: Sam <sam@home.example>\r\nTo: carol@example.org\r\nSubject: by mutt\r\n\
        Message-ID: <mutt.1@home.example>\r\n\r\nby mutt\r\n";
    let (code, _, stderr) = send(&home, &["--sendmail", "-t"], message);
    assert_eq!(code, 0, "{stderr}");
    let received = server.received();
    assert_eq!(received.len(), 3);
    for mail in &received {
        assert_eq!(mail.mail_from, "sam@home.example");
        assert!(
            header_block(mail).contains("From: Sam <sam@home.example>"),
            "{}",
            header_block(mail)
        );
    }

    let (code, _, stderr) = send(
        &home,
        &["--to", "carol@example.org", "--from", "eve@example.org"],
        "not mine\n",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("eve@example.org: not one of your addresses"),
        "{stderr}"
    );
    assert_eq!(server.received().len(), 3);
}

/// Plans, sends and finds the copy sent of `--to recipient`: the planned delivery and the
/// archived copy's record.
fn planned_and_archived(home: &Home, recipient: &str) -> (Value, Value) {
    let args = ["--to", recipient, "--subject", "tea"];
    let (code, plan, stderr) = send(home, &[&args[..], &["--dry-run"]].concat(), "At five?\n");
    assert_eq!(code, 0, "{stderr}");
    let (code, deliveries, stderr) = send(home, &args, "At five?\n");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(deliveries[0]["status"], "sent", "{deliveries:?}");
    let (code, found, stderr) = run(home.missive().args(["search", "account:sent"]));
    assert_eq!(code, 0, "{stderr}");
    let copy = found
        .into_iter()
        .find(|m| m["native_id"] == deliveries[0]["message_id"])
        .unwrap_or_else(|| panic!("no copy of {deliveries:?}"));
    (plan[0].clone(), copy)
}

#[test]
fn the_copy_sent_encrypted_scores_what_the_plan_predicted() {
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    bob(&home);
    let (planned, copy) = planned_and_archived(&home, "bob@example.net");
    assert_eq!(planned["channel"], "pgp-mime");
    let privacy = &copy["privacy"];
    assert_eq!(
        (&privacy["score"], &privacy["grade"]),
        (&planned["score"], &planned["grade"]),
        "{privacy}"
    );
    // The plan says why: the same factors the copy shows.
    let names = |factors: &Value| -> Vec<String> {
        factors
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&planned["factors"]), names(&privacy["factors"]));
    assert!(names(&planned["factors"]).contains(&"signature_valid".to_string()));
    // Read back with the sender's key: the signature inside verifies, and the Autocrypt
    // header inside is the sender's, signed.
    assert_eq!(copy["security"]["signature"], "valid", "{copy}");
    assert_eq!(copy["security"]["autocrypt"]["prefer_encrypt"], "mutual");
}

#[test]
fn the_copy_sent_over_tls_scores_what_the_plan_predicted() {
    let server = Smtpd::start(Mode::Starttls);
    let home = home(&server);
    let (planned, copy) = planned_and_archived(&home, "carol@example.org");
    assert_eq!(planned["channel"], "tls");
    let privacy = &copy["privacy"];
    assert_eq!(
        (&privacy["score"], &privacy["grade"]),
        (&planned["score"], &planned["grade"]),
        "{privacy}"
    );
}
