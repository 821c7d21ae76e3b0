//! `missive score --mail` as the hook mail delivery agents run (issue 16): under procmail,
//! maildrop and Dovecot's Sieve `filter` the mail is delivered with exactly one
//! X-Missive-Privacy header and every other byte as it came, even when the config cannot be
//! used; the score is the record path's; the mail is never lost quietly (exit 75).

use std::io::Write;
use std::process::Stdio;

use crate::support::mda::{self, Mda};
use crate::support::{Home, mail, run};

const HEADER: &str = "X-Missive-Privacy:";

/// The lines of the header section that start an X-Missive-Privacy field, and the message
/// without the first of them.
fn our_fields(message: &[u8]) -> (Vec<String>, Vec<u8>) {
    let mut fields = Vec::new();
    let mut rest = Vec::with_capacity(message.len());
    let mut in_header = true;
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            in_header = false;
        }
        let ours = in_header
            && line.len() > HEADER.len()
            && line[..HEADER.len()].eq_ignore_ascii_case(HEADER.as_bytes());
        if ours {
            fields.push(String::from_utf8_lossy(line).trim_end().to_string());
        }
        if !ours || fields.len() > 1 {
            rest.extend_from_slice(line);
        }
    }
    (fields, rest)
}

/// Asserts what every delivery through missive must show: one header, whose value passes
/// `check`, and every other byte as the same agent delivers `expected` through `cat`.
fn assert_delivered_with_one_header(
    mda: Mda,
    script: &str,
    input: &[u8],
    expected: &[u8],
    prepare: impl Fn(&std::path::Path),
    check: impl Fn(&str) -> bool,
) {
    let reference = mda.deliver("exec cat", expected, &prepare);
    let delivery = mda.deliver(script, input, &prepare);
    let (fields, rest) = our_fields(delivery.message(mda));
    assert_eq!(
        fields.len(),
        1,
        "{mda:?} {script}: {fields:?}\n{}",
        delivery.log
    );
    assert!(
        check(&fields[0]),
        "{mda:?} {script}: {}\n{}",
        fields[0],
        delivery.log
    );
    assert_eq!(
        String::from_utf8_lossy(&rest),
        String::from_utf8_lossy(reference.message(mda)),
        "{mda:?} {script}: delivered as it came, but for the header"
    );
}

#[test]
fn each_agent_delivers_the_mail_with_one_header_and_a_forged_one_removed() {
    let body = "Bonjour,\n\nune lettre \u{e9}crite \u{e0} la main.\n";
    let plain = mail("Message-ID: <plain@example.org>\n", body);
    let crlf = String::from_utf8(mail("Message-ID: <crlf@example.org>\n", body))
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    // Folded, in another case, with a grade a sorting rule would trust.
    let forged = mail(
        "Message-ID: <forged@example.org>\nx-missive-privacy: score=1;\n grade=E\nX-Missive-Privacy : grade=A\n",
        body,
    );
    let unforged = mail("Message-ID: <forged@example.org>\n", body);
    for mda in mda::ALL {
        for (input, expected) in [(&plain, &plain), (&crlf, &crlf), (&forged, &unforged)] {
            assert_delivered_with_one_header(
                mda,
                "exec missive score --mail",
                input,
                expected,
                |_| {},
                |field| field.contains("; grade=") && !field.contains("config="),
            );
        }
    }
}

#[test]
fn each_agent_still_delivers_the_header_when_the_config_cannot_be_used() {
    let message = mail("Message-ID: <config@example.org>\n", "hello\n");
    let write_config = |text: &'static str| {
        move |home: &std::path::Path| {
            let path = home.join(".config/missive/config.toml");
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    };
    for mda in mda::ALL {
        for (script, prepare) in [
            ("exec missive score --mail", write_config("[identity\n")),
            // A setting from a newer missive.
            (
                "exec missive score --mail",
                write_config("[identity]\nfuture = 1\n"),
            ),
            (
                "exec missive --config \"$HOME/missing.toml\" score --mail",
                write_config(""),
            ),
            (
                "exec env -u HOME -u XDG_CONFIG_HOME missive score --mail",
                write_config(""),
            ),
        ] {
            assert_delivered_with_one_header(mda, script, &message, &message, prepare, |field| {
                field.contains("; grade=") && field.ends_with("; config=unusable")
            });
        }
    }
}

/// The X-Missive-Privacy value `score --mail` adds to `raw`, and its stderr.
fn mail_header(home: &Home, raw: &[u8], flags: &[&str]) -> (String, String) {
    let output = home
        .missive()
        .args(["score", "--mail"])
        .args(flags)
        .write_stdin(raw.to_vec())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let (fields, rest) = our_fields(&output.stdout);
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(rest, raw);
    (
        fields[0][HEADER.len()..].trim().to_string(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The same value from the record path: `fetch eml:- | score`.
fn record_header(home: &Home, raw: &[u8], flags: &[&str]) -> String {
    let fetched = home
        .missive()
        .args(["fetch", "--all", "eml:-"])
        .write_stdin(raw.to_vec())
        .output()
        .unwrap();
    let (code, scored, stderr) = run(home
        .missive()
        .arg("score")
        .args(flags)
        .write_stdin(fetched.stdout));
    assert_eq!(code, 0, "{stderr}");
    let privacy = &scored[0]["privacy"];
    format!(
        "score={}; grade={}; technic={}; context={}; comportment={}",
        privacy["score"],
        privacy["grade"].as_str().unwrap(),
        privacy["technic"],
        privacy["context"],
        privacy["comportment"]
    )
}

#[test]
fn the_score_is_the_record_paths_with_the_same_store_and_flags() {
    let (home, gpg) = crate::support::openpgp::home_with_alices_autocrypt_mail();
    let (code, _, stderr) = home.fetch_and_learn_keys();
    assert_eq!(code, 0, "{stderr}");
    let signed = crate::keys::pgp_mime_signed(&gpg, false);
    let mut seen = Vec::new();
    for flags in [&[][..], &["--verify"], &["--record-only"]] {
        let (header, stderr) = mail_header(&home, &signed, flags);
        assert_eq!(
            header,
            record_header(&home, &signed, flags),
            "{flags:?}: {stderr}"
        );
        seen.push(header);
    }
    assert_ne!(seen[0], seen[1], "a checked signature counts");
    assert_ne!(seen[0], seen[2], "the store knows Alice and her key");
}

#[test]
fn a_store_being_written_is_read_without_waiting_and_a_locked_one_is_skipped() {
    let home = Home::new();
    let raw = mail("Message-ID: <busy@example.org>\n", "hi\n");
    let (code, _, stderr) = run(home
        .missive()
        .args(["fetch", "--all", "eml:-"])
        .write_stdin(raw.clone()));
    assert_eq!(code, 0, "{stderr}");
    let (free, _) = mail_header(&home, &raw, &[]);

    // A sync's write transaction: readers of a WAL database go on.
    let writer = rusqlite::Connection::open(home.store().join("state.sqlite")).unwrap();
    writer
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM seen;")
        .unwrap();
    let (busy, stderr) = mail_header(&home, &raw, &[]);
    assert_eq!(busy, free, "{stderr}");
    writer.execute_batch("ROLLBACK").unwrap();

    // A writer that shuts readers out too: skipped at once, and said.
    writer
        .pragma_update(None, "locking_mode", "EXCLUSIVE")
        .unwrap();
    writer
        .execute_batch("BEGIN IMMEDIATE; DELETE FROM seen; COMMIT;")
        .unwrap();
    let (locked, stderr) = mail_header(&home, &raw, &[]);
    assert!(locked.ends_with("; store=locked"), "{locked}");
    assert!(stderr.contains("locked"), "{stderr}");
}

#[test]
fn a_mail_not_handed_back_exits_75() {
    let home = Home::new();
    let raw = mail("Message-ID: <lost@example.org>\n", "hi\n");
    let missive = assert_cmd::cargo::cargo_bin("missive");

    // The reader of stdout went away before the mail was written.
    let mut child = std::process::Command::new(&missive)
        .args(["score", "--mail"])
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.stdin.take().unwrap().write_all(&raw).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(75),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // A full disk.
    let output = std::process::Command::new(&missive)
        .args(["score", "--mail"])
        .env("HOME", home.path())
        .stdin(std::fs::File::open(home.write("message", &raw)).unwrap())
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(75));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not handed back"));

    // No mail at all: an empty or a closed stdin.
    for redirect in ["</dev/null", "<&-"] {
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" score --mail {redirect}"))
            .arg(&missive)
            .env("HOME", home.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(75), "{redirect}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn a_mail_starting_with_white_space_parses_as_it_did() {
    let home = Home::new();
    let raw = b" stray continuation\nFrom: alice@example.org\nSubject: still here\nMessage-ID: <ws@example.org>\n\nbody\n";
    let output = home
        .missive()
        .args(["score", "--mail"])
        .write_stdin(raw.to_vec())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let (fields, rest) = our_fields(&output.stdout);
    assert_eq!(fields.len(), 1);
    assert_eq!(rest, raw);
    let (before, after) = (
        missive::email::read(raw),
        missive::email::read(&output.stdout),
    );
    assert_eq!(after.subject, before.subject);
    assert_eq!(after.from, before.from);
    assert_eq!(after.native_id, before.native_id);
}
