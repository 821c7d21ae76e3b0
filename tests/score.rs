//! `missive score`: the privacy index added to records, the factor table, and `--mail` as a
//! real mail filter (issue 4; under mail delivery agents in `mail_hook.rs`). One test per factor lives beside the scoring code, in
//! `src/privacy/message_tests.rs`.

use serde_json::Value;

use crate::support::{Home, mail, run};

const HEADER: &[u8] = b"X-Missive-Privacy: ";

/// A message record as `fetch` prints it, with `security` and extra fields given.
fn record(id: &str, security: Value) -> String {
    serde_json::json!({
        "kind": "message", "v": 1, "id": id, "protocol": "email", "account": "test",
        "source": {"kind": "eml"}, "blob": "sha256:00", "native_id": format!("<{id}@example.org>"),
        "from": {"name": "Alice", "address": "alice@example.org"},
        "to": [{"name": null, "address": "bob@example.net"}],
        "security": security, "mine": {"kept": true}
    })
    .to_string()
}

/// Runs `missive score --mail [extra]` on `raw` and returns (exit code, stdout bytes).
fn score_mail(home: &Home, raw: &[u8], extra: &[&str]) -> (i32, Vec<u8>) {
    let output = home
        .missive()
        .args(["score", "--mail"])
        .args(extra)
        .write_stdin(raw.to_vec())
        .output()
        .expect("missive runs");
    (output.status.code().expect("an exit code"), output.stdout)
}

/// Splits the added first line off the output: (header line without its end, line end, rest).
fn split_header(out: &[u8]) -> (String, &[u8], &[u8]) {
    assert!(out.starts_with(HEADER), "{}", String::from_utf8_lossy(out));
    let newline = out.iter().position(|&b| b == b'\n').expect("a line end");
    let (line, ending) = if out[newline - 1] == b'\r' {
        (&out[..newline - 1], &b"\r\n"[..])
    } else {
        (&out[..newline], &b"\n"[..])
    };
    (
        String::from_utf8(line.to_vec()).expect("an ASCII header"),
        ending,
        &out[newline + 1..],
    )
}

/// `technic=N` from an X-Missive-Privacy line.
fn technic(header: &str) -> u32 {
    header
        .split("; ")
        .find_map(|part| part.strip_prefix("technic="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no technic in {header}"))
}

#[test]
fn message_records_get_privacy_and_everything_else_passes_unchanged() {
    let home = Home::new();
    let other = r#"{"kind":"contact",  "id":"c_1","z":[1, 2]}"#;
    let input = format!(
        "{}\n{other}\n{}\n",
        record("a", serde_json::json!({"encryption": "pgp-mime"})),
        record("b", serde_json::json!({}))
    );
    let output = home
        .missive()
        .arg("score")
        .write_stdin(input.clone())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1], other, "other kinds pass byte for byte");
    let encrypted: Value = serde_json::from_str(lines[0]).unwrap();
    let clear: Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(encrypted["mine"]["kept"], true, "unknown fields survive");
    for (record, grades) in [(&encrypted, ["A", "B"]), (&clear, ["C", "D"])] {
        let privacy = &record["privacy"];
        assert!(
            grades.contains(&privacy["grade"].as_str().unwrap()),
            "{privacy}"
        );
        let factors = privacy["factors"].as_array().unwrap();
        assert!(factors.iter().all(|f| f["evidence"].is_string()));
    }
    assert_eq!(encrypted["privacy"]["label"], "sealed-letter");
    assert!(encrypted["privacy"]["score"].as_u64() > clear["privacy"]["score"].as_u64());
    assert!(
        clear["privacy"]["suggestions"][0]["action"]
            .as_str()
            .unwrap()
            .starts_with("missive keys discover alice@example.org")
    );

    let again = home
        .missive()
        .arg("score")
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(
        again.stdout, output.stdout,
        "the same input gives the same bytes"
    );
}

#[test]
fn scoring_scored_records_again_changes_nothing() {
    let home = Home::new();
    let input = format!(
        "{}\n",
        record("a", serde_json::json!({"signature": "valid"}))
    );
    let once = home
        .missive()
        .arg("score")
        .write_stdin(input)
        .output()
        .unwrap();
    let twice = home
        .missive()
        .arg("score")
        .write_stdin(once.stdout.clone())
        .output()
        .unwrap();
    assert_eq!(twice.status.code(), Some(0));
    assert_eq!(once.stdout, twice.stdout);
}

#[test]
fn a_bad_line_is_reported_with_its_number_and_the_others_are_scored() {
    let home = Home::new();
    let input = format!(
        "{}\nnot json\n{}\n",
        record("a", serde_json::json!({})),
        record("b", serde_json::json!({}))
    );
    let (code, records, stderr) = run(home.missive().arg("score").write_stdin(input));
    assert_eq!(code, 1);
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r["privacy"]["score"].is_u64()));
    assert!(stderr.contains("stdin:2:"), "{stderr}");
}

#[test]
fn a_forged_authentication_results_header_counts_for_nothing() {
    let home = Home::new();
    home.write_config("[trust]\nauthserv_ids = [\"mx.example.net\"]\n");
    // The user's server's Received line: a verdict counts only above it (RFC 8601 §5).
    let received = "Received: from mail.example.org (mail.example.org [192.0.2.10]) by mx.example.net with ESMTP id 1; Mon, 01 Jan 2024 10:00:05 +0000\n";
    let results = |id: &str| {
        mail(
            &format!(
                "Authentication-Results: {id}; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org; dmarc=pass header.from=example.org\n{received}"
            ),
            "hello\n",
        )
    };
    let (_, plain) = score_mail(&home, &mail(received, "hello\n"), &[]);
    let (_, forged) = score_mail(&home, &results("mx.evil.example"), &[]);
    let (_, trusted) = score_mail(&home, &results("mx.example.net"), &[]);
    let plain = technic(&split_header(&plain).0);
    assert_eq!(technic(&split_header(&forged).0), plain);
    assert!(technic(&split_header(&trusted).0) > plain);
}

#[test]
fn factors_prints_the_table_one_record_per_factor_or_as_columns() {
    let home = Home::new();
    let (code, records, _) = run(home.missive().args(["score", "--factors"]));
    assert_eq!(code, 0);
    let names: Vec<&str> = records
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let table: Vec<&str> = missive::privacy::factors::FACTORS
        .iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, table);
    assert!(records.iter().all(|r| r["kind"] == "factor"
        && r["points"].is_i64()
        && r["rationale"].is_string()
        && ["technic", "context", "comportment"].contains(&r["axis"].as_str().unwrap())));

    let output = home
        .missive()
        .args(["score", "--factors", "--format", "text"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), table.len());
    assert!(
        text.lines()
            .any(|l| l.contains("signature_invalid") && l.contains("-20"))
    );
}

#[test]
fn mail_output_is_the_input_with_one_header_in_front() {
    let home = Home::new();
    let lf = mail("Message-ID: <lf@example.org>\n", "line one\nline two\n");
    let crlf = String::from_utf8(lf.clone())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let mut eight_bit = mail(
        "Message-ID: <8bit@example.org>\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n",
        "",
    );
    eight_bit.extend_from_slice(b"caf\xe9 \xff\xfe\x80 cr\r alone\n\nlast line without end");
    let no_body =
        b"From: alice@example.org\r\nTo: bob@example.net\r\nSubject: headers only\r\n".to_vec();
    let no_blank_line = b"From: alice@example.org\nSubject: x".to_vec();
    for (raw, ending) in [
        (&lf, &b"\n"[..]),
        (&crlf, &b"\r\n"[..]),
        (&eight_bit, &b"\n"[..]),
        (&no_body, &b"\r\n"[..]),
        (&no_blank_line, &b"\n"[..]),
    ] {
        let (code, out) = score_mail(&home, raw, &[]);
        assert_eq!(code, 0);
        let (header, found_ending, rest) = split_header(&out);
        assert_eq!(found_ending, ending, "{header}");
        assert_eq!(rest, &raw[..], "the message itself is unchanged");
        let parts: Vec<&str> = header["X-Missive-Privacy: ".len()..].split("; ").collect();
        let keys: Vec<&str> = parts.iter().map(|p| p.split('=').next().unwrap()).collect();
        assert_eq!(
            keys,
            ["score", "grade", "technic", "context", "comportment"]
        );
        assert!(["A", "B", "C", "D", "E"].contains(&&parts[1]["grade=".len()..]));
    }
}

#[test]
fn an_encrypted_mail_scores_higher_than_one_in_clear() {
    let home = Home::new();
    let encrypted = mail(
        "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\nMIME-Version: 1.0\n",
        "--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--b\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\n\njA0ECQMC2jHluyFqy1H/0kMB/e6m7Veft9eto08MXF//i+22Baigi560BNCgH5xe\njWj2ZJRpAaN5AadbuIAY1vdr8cv7IgsgAIzygij1BK+UpVSF\n=VNLS\n-----END PGP MESSAGE-----\n--b--\n",
    );
    let (_, sealed) = score_mail(&home, &encrypted, &[]);
    let (_, clear) = score_mail(&home, &mail("", "hi\n"), &[]);
    let (sealed, clear) = (split_header(&sealed).0, split_header(&clear).0);
    assert!(technic(&sealed) > technic(&clear), "{sealed} / {clear}");
}

#[test]
fn mail_that_cannot_be_read_is_kept_whole_with_grade_unknown() {
    let home = Home::new();
    for raw in [&b"\xff\xfe binary junk"[..], b"no header here\n\nbody\n"] {
        let (code, out) = score_mail(&home, raw, &[]);
        assert_eq!(code, 0, "a filter never loses mail");
        let (header, _, rest) = split_header(&out);
        assert_eq!(header, "X-Missive-Privacy: grade=unknown");
        assert_eq!(rest, raw);
    }
}

#[test]
fn a_forged_header_is_removed_from_the_header_section_unless_kept() {
    let home = Home::new();
    let forged = mail(
        "X-Missive-Privacy: score=100; grade=A;\n\ttechnic=100\nx-missive-privacy:grade=A\n",
        "X-Missive-Privacy: quoted in the body stays\n",
    );
    let expected = mail("", "X-Missive-Privacy: quoted in the body stays\n");
    // --strip, what removed them before it was the default, still does.
    for flags in [&[][..], &["--strip"]] {
        let (code, out) = score_mail(&home, &forged, flags);
        assert_eq!(code, 0);
        let (header, _, rest) = split_header(&out);
        assert!(!header.contains("score=100"), "{header}");
        assert_eq!(rest, &expected[..]);
    }

    let (_, kept) = score_mail(&home, &forged, &["--keep-foreign"]);
    assert_eq!(
        split_header(&kept).2,
        &forged[..],
        "with --keep-foreign nothing is removed"
    );
}

#[test]
fn mail_flags_and_factors_are_refused_where_they_make_no_sense() {
    let home = Home::new();
    for flags in [
        &["--strip"][..],
        &["--keep-foreign"],
        &["--factors", "--mail"],
    ] {
        let (code, _, stderr) = run(home.missive().arg("score").args(flags));
        assert_eq!(code, 2, "{flags:?}: {stderr}");
    }
}

#[test]
fn the_score_man_page_shows_every_factor_with_its_points() {
    let page = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/missive-score.1"),
    )
    .expect(
        "man/missive-score.1 is generated (MISSIVE_BLESS=1 cargo test --test integration docs)",
    );
    for factor in missive::privacy::factors::FACTORS {
        // roff escapes the minus sign.
        let points = format!("{:+}", factor.points).replace('-', "\\-");
        assert!(
            page.lines()
                .any(|l| l.contains(&factor.name.replace('-', "\\-")) && l.contains(&points)),
            "{} {points} missing from the man page",
            factor.name
        );
    }
}

/// Golden output: `tests/fixtures/score/records.jsonl` scored with a config that trusts
/// mx.example.net must give `records.scored.jsonl` exactly. Re-bless with
/// `MISSIVE_BLESS=1 cargo test --test integration score`, then review the diff.
#[test]
fn scored_records_match_the_golden_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/score");
    let home = Home::new();
    home.write_config(
        "[identity]\naddresses = [\"bob@example.net\", \"@bob@mastodon.example\"]\n[trust]\nauthserv_ids = [\"mx.example.net\"]\n",
    );
    let output = home
        .missive()
        .arg("score")
        .write_stdin(std::fs::read(dir.join("records.jsonl")).unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let golden = dir.join("records.scored.jsonl");
    if std::env::var_os("MISSIVE_BLESS").is_some() {
        std::fs::write(&golden, &output.stdout).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    let found = String::from_utf8(output.stdout).unwrap();
    for (line, (found, expected)) in found.lines().zip(expected.lines()).enumerate() {
        assert_eq!(found, expected, "line {}", line + 1);
    }
    assert_eq!(found.lines().count(), expected.lines().count());
    let grades: Vec<String> = found
        .lines()
        .map(|l| {
            let record: Value = serde_json::from_str(l).unwrap();
            record["privacy"]["grade"]
                .as_str()
                .unwrap_or("-")
                .to_string()
        })
        .collect();
    assert_eq!(grades, ["A", "C", "D", "-", "E", "D"], "{found}");
}

#[test]
fn fetched_mail_can_be_scored_in_a_pipeline() {
    let home = Home::new();
    let source = format!("maildir:{}", crate::support::sample_maildir().display());
    let fetched = home.missive().args(["fetch", &source]).output().unwrap();
    assert_eq!(fetched.status.code(), Some(0));
    let (code, records, stderr) = run(home.missive().arg("score").write_stdin(fetched.stdout));
    assert_eq!(code, 0, "{stderr}");
    assert!(!records.is_empty());
    for record in &records {
        let privacy = &record["privacy"];
        let score = privacy["score"].as_u64().expect("a score");
        let axes: u64 = ["technic", "context", "comportment"]
            .iter()
            .map(|a| privacy[a].as_u64().unwrap())
            .sum();
        assert_eq!(score, (axes + 1) / 3, "{privacy}");
    }
}

#[test]
fn the_device_index_sees_permissions_secrets_and_the_own_key() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    let config =
        home.write_config("[accounts.a]\nsource = \"maildir:/m\"\npassword = \"hunter2\"\n");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, device, stderr) = run(home.missive().args(["score", "--device"]));
    assert_eq!(code, 0, "{stderr}");
    let privacy = &device[0]["privacy"];
    let names: Vec<&str> = privacy["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for expected in [
        "device_store_private",
        "device_config_exposed",
        "device_secret_in_config",
        "device_no_own_key",
    ] {
        assert!(names.contains(&expected), "{expected}: {names:?}");
    }
    assert!(
        !device[0].to_string().contains("hunter2"),
        "the secret itself is never shown"
    );
    let actions: Vec<&str> = privacy["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"missive keys generate"), "{actions:?}");
    let before = privacy["score"].as_u64().unwrap();

    home.missive()
        .args([
            "keys",
            "generate",
            "Me <me@example.org>",
            "--passphrase-command",
            "echo pw",
        ])
        .assert()
        .success();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (_, after, _) = run(home.missive().args(["score", "--device"]));
    let after = &after[0]["privacy"];
    assert!(after["score"].as_u64().unwrap() > before);
    let names: Vec<&str> = after["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"device_own_key_protected") && names.contains(&"device_config_private"),
        "{names:?}"
    );
}

#[test]
fn the_user_index_counts_recent_mail_key_coverage_and_the_device_with_a_daily_history() {
    let home = Home::new();
    home.write_config("[identity]\naddresses = [\"sam@example.com\"]\n");
    let yesterday = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
        - 86_400;
    let date = missive::record::rfc3339(yesterday);
    let record = |id: &str, from: &str| {
        format!(
            "{{\"kind\":\"message\",\"v\":1,\"id\":\"{id}\",\"protocol\":\"email\",\"account\":\"a\",\"source\":{{\"kind\":\"eml\"}},\"blob\":\"sha256:{id}\",\"native_id\":\"<{id}@x>\",\"date\":\"{date}\",\"from\":{{\"address\":\"{from}\"}},\"to\":[{{\"address\":\"sam@example.com\"}}]}}\n"
        )
    };
    let input = [
        record("m1", "bob@example.net"),
        record("m2", "bob@example.net"),
        record("m3", "carol@example.org"),
    ]
    .concat();
    let scored = home
        .missive()
        .arg("score")
        .write_stdin(input)
        .output()
        .unwrap();
    home.missive()
        .arg("index")
        .write_stdin(scored.stdout)
        .assert()
        .success();
    let gpg = crate::support::openpgp::GnuPg::new();
    gpg.generate("Carol <carol@example.org>");
    home.missive()
        .args(["keys", "import"])
        .write_stdin(gpg.run(&["--armor", "--export"], None))
        .assert()
        .success();

    let (code, report, stderr) = run(home.missive().args(["score", "--user"]));
    assert_eq!(code, 0, "{stderr}");
    let index = &report[0]["index"];
    assert!(
        index["messages"]["evidence"]
            .as_str()
            .unwrap()
            .starts_with("mean of 3 scored message(s)")
    );
    assert_eq!(
        index["key_coverage"]["evidence"],
        "1 of 2 correspondent(s) with a trusted key"
    );
    assert_eq!(index["key_coverage"]["score"], 50);
    let first = &index["suggestions"][0];
    assert_eq!(
        first["action"], "missive keys discover bob@example.net",
        "{index}"
    );
    assert!(first["gain"].as_i64().unwrap() > 0);
    assert!(
        first["why"]
            .as_str()
            .unwrap()
            .contains("`missive send --to bob@example.net` carries your Autocrypt header"),
        "{first}"
    );
    assert_eq!(report[0]["history"].as_array().unwrap().len(), 1);

    let (_, again, _) = run(home.missive().args(["score", "--user"]));
    assert_eq!(
        again[0]["history"].as_array().unwrap().len(),
        1,
        "one point a day"
    );
    let output = home
        .missive()
        .args(["score", "--user", "--format", "text"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("Your privacy index: "), "{text}");
    assert!(
        text.contains("What would raise it most:")
            && text.contains("missive keys discover bob@example.net"),
        "{text}"
    );
}

#[test]
fn each_contact_is_scored_by_key_trust_channels_and_encrypted_exchanges() {
    let home = Home::new();
    home.write_config("[identity]\naddresses = [\"sam@example.com\"]\n");
    let source = format!("maildir:{}", crate::support::sample_maildir().display());
    let fetched = home.missive().args(["fetch", &source]).output().unwrap();
    home.missive()
        .arg("index")
        .write_stdin(fetched.stdout.clone())
        .assert()
        .success();
    home.missive()
        .arg("thread")
        .write_stdin(fetched.stdout)
        .assert()
        .success();
    let gpg = crate::support::openpgp::GnuPg::new();
    gpg.generate("Alice <alice@example.org>");
    home.missive()
        .args(["keys", "import"])
        .write_stdin(gpg.run(&["--armor", "--export"], None))
        .assert()
        .success();

    let (code, contacts, stderr) = run(home.missive().args(["score", "--contacts"]));
    assert_eq!(code, 0, "{stderr}");
    let find = |address: &str| {
        contacts
            .iter()
            .find(|c| c["identities"].to_string().contains(address))
            .unwrap_or_else(|| panic!("no contact {address}: {contacts:?}"))
    };
    let names = |c: &Value| -> Vec<String> {
        c["privacy"]["factors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    };
    let alice = find("alice@example.org");
    assert!(
        names(alice).contains(&"contact_key_tofu".to_string()),
        "{alice}"
    );
    assert_eq!(alice["key"]["state"], "tofu");
    assert_eq!(
        (alice["exchanges"].as_u64(), alice["encrypted"].as_u64()),
        (Some(4), Some(1))
    );
    assert!(names(alice).contains(&"contact_sometimes_encrypted".to_string()));
    // 3 of 4 messages went in clear though she has a key: encrypting them gains the most.
    let actions: Vec<&str> = alice["privacy"]["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["action"].as_str())
        .collect();
    assert_eq!(
        actions[0], "missive send --to alice@example.org",
        "{actions:?}"
    );
    assert!(
        actions[1].starts_with("missive keys verify alice@example.org "),
        "{actions:?}"
    );
    let why = alice["privacy"]["suggestions"][0]["why"].as_str().unwrap();
    assert!(
        why.starts_with("3 of your 4 messages with ")
            && why.ends_with(
                "went in clear though they have a key: `missive send --to alice@example.org` encrypts by default"
            ),
        "{why}"
    );

    let carol = find("carol@example.com");
    assert!(names(carol).contains(&"contact_no_key".to_string()));
    assert_eq!(
        carol["privacy"]["suggestions"][0]["action"],
        "missive keys discover carol@example.com"
    );
    let why = carol["privacy"]["suggestions"][0]["why"].as_str().unwrap();
    assert!(
        why.contains("`missive send --to carol@example.com` carries your Autocrypt header"),
        "{why}"
    );
    assert!(alice["privacy"]["score"].as_u64() > carol["privacy"]["score"].as_u64());
    assert!(
        contacts
            .iter()
            .all(|c| !c["identities"].to_string().contains("sam@example.com")),
        "the user is not a contact"
    );
}

/// The factors a record got, by name.
fn factor_names(record: &Value) -> Vec<String> {
    record["privacy"]["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn with_a_store_the_score_knows_the_people_their_keys_and_what_a_message_answers() {
    // Alice's key and her wish for encryption, learnt from her mail; a name makes her known.
    let (home, _gpg) = crate::support::openpgp::home_with_alices_autocrypt_mail();
    let (code, _, stderr) = home.fetch_and_learn_keys();
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) =
        run(home
            .missive()
            .args(["contacts", "rename", "alice@example.org", "Alice"]));
    assert_eq!(code, 0, "{stderr}");

    let message = |id: &str, from: &str, to: &str, encrypted: bool, answers: Option<&str>| {
        serde_json::json!({
            "kind": "message", "v": 1, "id": id, "protocol": "email", "account": "test",
            "source": {"kind": "eml"}, "blob": "sha256:00", "native_id": format!("<{id}@x>"),
            "in_reply_to": answers.map(|a| vec![format!("<{a}@x>")]).unwrap_or_default(),
            "from": {"address": from}, "to": [{"address": to}],
            "security": {"encryption": if encrypted { "pgp-mime" } else { "none" }},
        })
        .to_string()
    };
    let input = [
        message("sealed", "alice@example.org", "sam@example.com", true, None),
        message(
            "reply",
            "sam@example.com",
            "alice@example.org",
            false,
            Some("sealed"),
        ),
        message(
            "cold",
            "stranger@example.net",
            "sam@example.com",
            false,
            None,
        ),
    ]
    .join("\n");
    let (code, scored, stderr) = run(home.missive().arg("score").write_stdin(input.clone()));
    assert_eq!(code, 0, "{stderr}");
    let sealed = factor_names(&scored[0]);
    let reply = factor_names(&scored[1]);
    let cold = factor_names(&scored[2]);
    for name in ["people_known", "keys_for_everyone"] {
        assert!(sealed.iter().any(|n| n == name), "{name}: {sealed:?}");
    }
    for name in [
        "people_known",
        "keys_for_everyone",
        "encryption_dropped",
        "mutual_ignored",
        "secure_channel_skipped",
    ] {
        assert!(reply.iter().any(|n| n == name), "{name}: {reply:?}");
    }
    assert!(cold.iter().any(|n| n == "people_unknown"), "{cold:?}");
    assert_eq!(
        scored[2]["privacy"]["suggestions"][0]["action"],
        "missive keys discover stranger@example.net"
    );
    assert!(
        scored[1]["privacy"]["score"].as_u64() < scored[0]["privacy"]["score"].as_u64(),
        "dropping encryption in a reply to sealed mail costs"
    );

    let (_, alone, _) = run(home
        .missive()
        .args(["score", "--record-only"])
        .write_stdin(input));
    let circle_factors = [
        "people_known",
        "people_unknown",
        "keys_for_everyone",
        "encryption_dropped",
        "mutual_ignored",
        "secure_channel_skipped",
    ];
    for record in &alone {
        let names = factor_names(record);
        assert!(
            !names.iter().any(|n| circle_factors.contains(&n.as_str())),
            "{names:?}"
        );
    }
}
