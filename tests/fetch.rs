//! `missive fetch`: records from every local source, incremental runs, and bad input that is
//! reported without losing anything (issue 2).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::{Home, files_under, mail, run, sample_maildir};

fn message_files(dir: &Path) -> usize {
    let mut count = 0;
    for entry in files_under(dir) {
        let in_maildir = entry
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "cur" || n == "new");
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if in_maildir && !hidden {
            count += 1;
        }
    }
    count
}

/// Copies the sample Maildir so a test can change it.
fn copy_sample(home: &Home) -> std::path::PathBuf {
    let target = home.path().join("Mail");
    for file in files_under(&sample_maildir()) {
        let relative = file.strip_prefix(sample_maildir()).unwrap();
        home.write(
            &format!("Mail/{}", relative.display()),
            &std::fs::read(&file).unwrap(),
        );
    }
    target
}

#[test]
fn a_maildir_gives_one_valid_record_per_message_file_and_nothing_the_second_time() {
    let home = Home::new();
    let source = format!("maildir:{}", sample_maildir().display());
    let (code, records, _) = run(home.missive().args(["fetch", &source]));
    assert_eq!(code, 0);
    assert_eq!(records.len(), message_files(&sample_maildir()));
    let ids: BTreeSet<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), records.len(), "ids are distinct");
    for record in &records {
        assert_eq!(record["kind"], "message");
        assert_eq!(record["v"], 1);
        assert!(record["blob"].as_str().unwrap().starts_with("sha256:"));
        assert_eq!(
            record["account"],
            format!(
                "maildir:{}",
                sample_maildir().canonicalize().unwrap().display()
            )
        );
    }

    let (code, again, stderr) = run(home.missive().args(["fetch", &source]));
    assert_eq!(
        (code, again.len()),
        (0, 0),
        "second run prints nothing: {stderr}"
    );

    let (code, all, _) = run(home.missive().args(["fetch", "--all", &source]));
    assert_eq!(code, 0);
    assert_eq!(all.len(), records.len());
    let same: BTreeSet<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(same, ids, "ids are stable across runs");
}

#[test]
fn header_fields_and_flags_come_through() {
    let home = Home::new();
    let source = format!("maildir:{}", sample_maildir().display());
    let (_, records, _) = run(home.missive().args(["fetch", &source]));
    let by_subject = |s: &str| {
        records
            .iter()
            .find(|r| r["subject"] == s)
            .unwrap_or_else(|| panic!("no message {s:?}"))
    };
    let reply = by_subject("Re: Lunch on Thursday?");
    assert_eq!(
        reply["in_reply_to"],
        serde_json::json!(["<lunch-1@example.org>"])
    );
    assert_eq!(
        reply["references"],
        serde_json::json!(["<lunch-1@example.org>"])
    );
    assert_eq!(reply["source"]["mailbox"], "Sent");
    assert_eq!(reply["flags"], serde_json::json!(["seen"]));

    let list = by_subject("[garden] Seed swap – Saturday");
    assert_eq!(
        list["from"]["name"], "Björn Lindqvist",
        "RFC 2047 Q-encoded name"
    );
    assert_eq!(list["list_id"], "garden.lists.example.net");
    assert_eq!(list["flags"], serde_json::json!(["answered", "seen"]));
    assert!(
        list["text"]
            .as_str()
            .unwrap()
            .contains("Bring your tomato seeds on Saturday.")
    );
    assert!(
        !list["text"].as_str().unwrap().contains("<b>"),
        "HTML became text"
    );

    let photos = by_subject("Photos from the trip");
    assert_eq!(photos["date"], "2023-11-18T02:15:00Z", "dates are UTC");
    assert_eq!(
        photos["text"], "Voilà the photos, as promised.",
        "latin-1 quoted-printable"
    );
    assert_eq!(photos["cc"][0]["group"], "Dev team");
    assert_eq!(photos["cc"][1]["address"], "erin@example.com");
    assert_eq!(
        photos["attachments"],
        serde_json::json!([{"filename":"lake.png","content_type":"image/png","size":70}])
    );

    let lunch = by_subject("Lunch on Thursday?");
    assert_eq!(lunch["native_id"], "<lunch-1@example.org>");
    assert_eq!(lunch["date"], "2023-11-14T08:12:00Z");
}

#[test]
fn a_renamed_file_is_printed_again_as_its_record_and_a_new_file_is_new() {
    let home = Home::new();
    let maildir = copy_sample(&home);
    let source = format!("maildir:{}", maildir.display());
    let (_, first, _) = run(home.missive().args(["fetch", &source]));
    assert_eq!(first.len(), 6);

    // A mail reader marks a message read: new/ → cur/ with an info suffix.
    let unread = maildir.join("new/1700000006.M6P1.sample");
    std::fs::rename(&unread, maildir.join("cur/1700000006.M6P1.sample:2,S")).unwrap();
    home.write(
        "Mail/new/1800000000.M9P9.sample",
        &mail("Message-ID: <fresh@example.org>\n", "new one\n"),
    );

    let (code, second, _) = run(home.missive().args(["fetch", &source]));
    assert_eq!(code, 0);
    assert_eq!(second.len(), 2, "{second:?}");
    let renamed = second
        .iter()
        .find(|r| r["native_id"] != "<fresh@example.org>")
        .unwrap();
    let before = first.iter().find(|r| r["id"] == renamed["id"]);
    assert!(before.is_some(), "the same record again: {renamed}");
    assert_eq!(renamed["flags"], serde_json::json!(["seen"]));
    assert!(
        second
            .iter()
            .any(|r| r["native_id"] == "<fresh@example.org>")
    );
}

#[test]
fn an_mbox_is_split_unquoted_and_read_incrementally() {
    let home = Home::new();
    let mbox = home.write(
        "mail.mbox",
        b"From alice@example.org Mon Jan  1 10:00:00 2024\nFrom: alice@example.org\nMessage-ID: <m1@example.org>\nSubject: one\n\nHello\n>From the mbox quoting\n\nFrom here on, a body line that is not a separator.\n\nFrom bob@example.net Tue Jan  2 11:00:00 2024\nFrom: bob@example.net\nMessage-ID: <m2@example.net>\nSubject: two\n\nBye\n",
    );
    let source = format!("mbox:{}", mbox.display());
    let (code, records, _) = run(home.missive().args(["fetch", &source]));
    assert_eq!(code, 0);
    assert_eq!(records.len(), 2);
    let text = records[0]["text"].as_str().unwrap();
    assert!(text.contains("\nFrom the mbox quoting\n"), "{text:?}");
    assert!(text.contains("From here on, a body line"), "{text:?}");
    assert_eq!(records[1]["source"]["offset"], 197);

    let (_, again, _) = run(home.missive().args(["fetch", &source]));
    assert!(again.is_empty());

    let mut appended = std::fs::read(&mbox).unwrap();
    appended.extend_from_slice(b"\nFrom carol@example.com Wed Jan  3 12:00:00 2024\nFrom: carol@example.com\nMessage-ID: <m3@example.com>\n\nthree\n");
    std::fs::write(&mbox, appended).unwrap();
    let (_, third, _) = run(home.missive().args(["fetch", &source]));
    assert_eq!(third.len(), 1);
    assert_eq!(third[0]["native_id"], "<m3@example.com>");
}

#[test]
fn a_message_on_stdin_is_kept_in_the_archive() {
    let home = Home::new();
    let raw = mail("Message-ID: <stdin@example.org>\n", "only copy\n");
    let (code, records, _) = run(home
        .missive()
        .args(["fetch", "eml:-"])
        .write_stdin(raw.clone()));
    assert_eq!(code, 0);
    let path = records[0]["source"]["path"].as_str().unwrap();
    assert!(
        Path::new(path).starts_with(home.store().join("archive")),
        "{path}"
    );
    assert!(path.contains("/new/"), "{path}");
    assert_eq!(std::fs::read(path).unwrap(), raw);
}

/// Each broken message still gives a record, with its problem, reported on stderr by file.
#[test]
fn broken_messages_are_kept_and_reported_by_file() {
    let home = Home::new();
    let long_line = "x".repeat(2 << 20);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "bad-charset.eml",
            mail(
                "Message-ID: <c@x>\nContent-Type: text/plain; charset=x-no-such-charset\n",
                "caf\u{e9}\n",
            ),
            "unknown charset",
        ),
        ("no-message-id.eml", mail("", "hi\n"), "no Message-ID"),
        (
            "truncated-mime.eml",
            mail(
                "Message-ID: <t@x>\nContent-Type: multipart/mixed; boundary=b\n",
                "--b\nContent-Type: text/plain\n\ncut",
            ),
            "truncated MIME",
        ),
        (
            "nul-bytes.eml",
            mail("Message-ID: <n@x>\n", "a\0b\n"),
            "NUL",
        ),
        (
            "two-megabyte-line.eml",
            mail("Message-ID: <l@x>\n", &format!("{long_line}\n")),
            "",
        ),
    ];
    for (name, raw, problem) in &cases {
        let path = home.write(name, raw);
        let (code, records, stderr) = run(home
            .missive()
            .args(["fetch", &format!("eml:{}", path.display())]));
        assert_eq!(code, 0, "{name}: {stderr}");
        assert_eq!(records.len(), 1, "{name}");
        assert_eq!(records[0]["subject"], "test", "{name}: headers still read");
        if problem.is_empty() {
            assert_eq!(
                records[0]["text"].as_str().unwrap().len(),
                long_line.len() + 1
            );
        } else {
            let problems = records[0]["problems"].to_string();
            assert!(problems.contains(problem), "{name}: {problems}");
            assert!(
                stderr.contains(name) && stderr.contains(problem),
                "{name}: {stderr}"
            );
        }
    }
}

#[test]
fn an_unreadable_message_is_still_recorded_and_the_exit_code_is_1() {
    let home = Home::new();
    let path = home.write("Mail/cur/1.M1.x:2,S", b"");
    let (code, records, stderr) = run(home.missive().args(["fetch", "maildir:Mail"]));
    assert_eq!(code, 1);
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["blob"],
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(records[0]["flags"], serde_json::json!(["seen"]));
    assert!(stderr.contains(&path.display().to_string()), "{stderr}");
}

#[test]
fn jsonl_records_pass_through_and_a_bad_line_is_reported_by_number() {
    let home = Home::new();
    let input = "{\"kind\":\"contact\",\"id\":\"k1\"}\n{oops\n{\"kind\":\"message\",\"v\":1,\"id\":\"m_1\",\"protocol\":\"email\",\"account\":\"a\",\"source\":{\"kind\":\"eml\"},\"blob\":\"sha256:00\",\"native_id\":\"<a@b>\",\"mine\":{\"x\":1}}\n";
    let (code, records, stderr) = run(home
        .missive()
        .args(["fetch", "--errors", "jsonl", "jsonl:-"])
        .write_stdin(input));
    assert_eq!(code, 1);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0], serde_json::json!({"kind":"contact","id":"k1"}));
    assert_eq!(
        records[1]["mine"],
        serde_json::json!({"x":1}),
        "unknown fields survive"
    );
    let error: Value = serde_json::from_str(stderr.lines().next().unwrap()).unwrap();
    assert_eq!(error["kind"], "error");
    assert_eq!(error["where"], "stdin:2");
}

#[test]
fn a_missing_source_is_a_usage_error_naming_it() {
    let home = Home::new();
    let (code, records, stderr) = run(home.missive().args(["fetch", "maildir:nowhere"]));
    assert_eq!(code, 2);
    assert!(records.is_empty());
    assert!(stderr.contains("nowhere"), "{stderr}");

    let (code, _, stderr) = run(home.missive().args(["fetch", "pop3:x"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("pop3:x") && stderr.contains("unknown kind"),
        "{stderr}"
    );

    let (code, _, stderr) = run(home.missive().args(["fetch"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("nothing to fetch"), "{stderr}");
}

#[test]
fn a_configured_account_is_fetched_under_its_name() {
    let home = Home::new();
    home.write_config(&format!(
        "[accounts.sample]\nsource = \"maildir:{}\"\n",
        sample_maildir().display()
    ));
    let (code, records, _) = run(home.missive().arg("fetch"));
    assert_eq!(code, 0);
    assert_eq!(records.len(), 6);
    assert!(records.iter().all(|r| r["account"] == "sample"));
}

#[test]
fn text_and_json_formats() {
    let home = Home::new();
    let source = format!("maildir:{}", sample_maildir().display());
    let output = home
        .missive()
        .args(["fetch", "--format", "json", &source])
        .output()
        .unwrap();
    let array: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(array.as_array().unwrap().len(), 6);

    let output = home
        .missive()
        .args(["fetch", "--all", "--format", "text", &source])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), 6);
    assert!(
        text.contains("Alice Martin") && text.contains("Lunch on Thursday?"),
        "{text}"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let home = Home::new();
    // More output than a pipe buffers, so missive is still writing when `head` leaves.
    let body = "words ".repeat(200);
    for n in 0..400 {
        home.write(
            &format!("Mail/cur/{n}.M1.x:2,S"),
            &mail(&format!("Message-ID: <{n}@example.org>\n"), &body),
        );
    }
    let bin = assert_cmd::cargo::cargo_bin("missive");
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg("\"$MISSIVE\" fetch maildir:Mail | head -c 1 >/dev/null; echo \"status=${PIPESTATUS[0]}\"")
        .env("MISSIVE", bin)
        .env("MISSIVE_STORE", home.store())
        .env("HOME", home.path())
        .current_dir(home.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("status=0"), "{stdout}");
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn security_facts_come_through() {
    let home = Home::new();
    let source = format!("maildir:{}", sample_maildir().display());
    let (_, records, _) = run(home.missive().args(["fetch", &source]));
    let by_id = |id: &str| {
        records
            .iter()
            .find(|r| r["native_id"] == id)
            .unwrap_or_else(|| panic!("no message {id}"))
    };
    let lunch = &by_id("<lunch-1@example.org>")["security"];
    assert_eq!(lunch["transport"]["external_hops"], 2);
    assert_eq!(lunch["transport"]["tls_hops"], 2);
    assert_eq!(lunch["transport"]["weakest_tls"], "TLSv1.2");
    assert_eq!(lunch["transport"]["hops"][0]["tls_version"], "TLSv1.3");
    assert!(
        lunch["transport"]["hops"][0]["evidence"]
            .as_str()
            .unwrap()
            .contains("with ESMTPS")
    );
    assert_eq!(
        lunch["authentication"][0]["authserv_id"],
        "mail.example.com"
    );
    assert_eq!(lunch["authentication"][0]["dkim"], "pass");
    assert_eq!(lunch["authentication"][0]["dmarc"], "pass");
    assert_eq!(lunch["encryption"], "none");

    let contract = &by_id("<contract@example.org>")["security"];
    assert_eq!(contract["encryption"], "pgp-mime");
    assert_eq!(contract["autocrypt"]["addr"], "alice@example.org");
    assert_eq!(contract["autocrypt"]["prefer_encrypt"], "mutual");

    let list = &by_id("<seeds@example.net>")["security"];
    assert_eq!(list["transport"]["external_hops"], 1);
    assert_eq!(list["transport"]["tls_hops"], 0, "with ESMTP is clear text");
    assert_eq!(list["spam_score"], 0.4);
}

/// Issue 19: attachments as Python's `email` package finds them (each message below was
/// checked with `Message.walk()` and `get_filename()`).
#[test]
fn forwarded_mails_folded_names_and_same_named_files_are_each_an_attachment() {
    let home = Home::new();
    let head = |subject: &str, boundary: &str, kind: &str| {
        format!(
            "From: alice@example.org\nTo: sam@example.com\nSubject: {subject}\n\
             Message-ID: <{subject}@example.org>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\
             MIME-Version: 1.0\nContent-Type: multipart/{kind}; boundary=\"{boundary}\"\n\n\
             --{boundary}\nContent-Type: text/plain\n\nsee below\n"
        )
    };
    let forwarded = |n: u8| {
        format!(
            "--b1\nContent-Type: message/rfc822\n\nFrom: f{n}@example.org\nSubject: forwarded {n}\n\
             Message-ID: <f{n}@example.org>\nMIME-Version: 1.0\n\
             Content-Type: multipart/alternative; boundary=\"in{n}\"\n\n\
             --in{n}\nContent-Type: text/plain\n\nbody {n}\n\
             --in{n}\nContent-Type: text/html\n\n<p>body {n}</p>\n--in{n}--\n"
        )
    };
    let three = format!(
        "{}{}{}{}--b1--\n",
        head("three", "b1", "alternative"),
        forwarded(1),
        forwarded(2),
        forwarded(3)
    );
    let folded = format!(
        "{}--b2\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\n \
         \"report.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b2--\n",
        head("folded", "b2", "mixed")
    );
    let same = format!(
        "{}--b3\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"notes.txt\"\n\n\
         first notes\n--b3\nContent-Type: text/plain\n\
         Content-Disposition: attachment; filename=\"notes.txt\"\n\nsecond notes, longer\n--b3--\n",
        head("same", "b3", "mixed")
    );
    for (name, raw) in [("1", &three), ("2", &folded), ("3", &same)] {
        home.write(&format!("Mail/cur/{name}.x:2,S"), raw.as_bytes());
    }
    let (code, records, stderr) = run(home.missive().args(["fetch", "maildir:Mail"]));
    assert_eq!(code, 0, "{stderr}");
    let attachments = |subject: &str| -> Vec<(String, Option<String>)> {
        let record = records.iter().find(|r| r["subject"] == subject).unwrap();
        record["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let name = a["filename"].as_str().map(str::to_string);
                (a["content_type"].as_str().unwrap().to_string(), name)
            })
            .collect()
    };
    let forwarded_mail = ("message/rfc822".to_string(), None);
    assert_eq!(attachments("three"), vec![forwarded_mail; 3]);
    assert_eq!(
        attachments("folded"),
        [(
            "application/pdf".to_string(),
            Some("report.pdf".to_string())
        )]
    );
    let notes = ("text/plain".to_string(), Some("notes.txt".to_string()));
    assert_eq!(attachments("same"), [notes.clone(), notes]);
}

/// `maildir:~/Mail`, as `--help` shows it: the shell leaves a `~` after `KIND:` alone, so
/// missive expands it.
#[test]
fn a_tilde_after_the_kind_is_the_home_directory() {
    let home = Home::new();
    let maildir = copy_sample(&home);
    let (code, records, stderr) = run(home.missive().args(["fetch", "maildir:~/Mail"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), message_files(&maildir), "{stderr}");
}
