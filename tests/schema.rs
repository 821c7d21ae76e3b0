//! `missive schema` (issue 14): every record kind a command prints, on stdout or as a
//! `--errors jsonl` line on stderr, validates against what `missive schema KIND` prints for
//! it, and every kind with a schema is printed by one of the commands run here.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use assert_cmd::Command;

use serde_json::Value;

use crate::support::openpgp::home_with_alices_autocrypt_mail;
use crate::support::{Home, sample_maildir};

/// Validates printed lines against `missive schema KIND`, asked once a kind.
struct Checker<'a> {
    home: &'a Home,
    validators: BTreeMap<String, jsonschema::Validator>,
}

impl Checker<'_> {
    /// Runs `command` (`missive ARGS`), which must succeed, and checks what it printed;
    /// returns its stdout.
    fn run(&mut self, command: &mut Command, errors_jsonl: bool) -> Vec<u8> {
        let output = command.output().expect("missive runs");
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let origin = format!("missive {}", args.join(" "));
        assert!(
            output.status.success(),
            "{origin}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.check_output(&output, &origin, errors_jsonl);
        output.stdout
    }

    /// Checks every line of `output`'s stdout, and of its stderr with `errors_jsonl`.
    fn check_output(&mut self, output: &Output, origin: &str, errors_jsonl: bool) {
        let stdout = String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8");
        for line in stdout.lines() {
            self.check(line, origin);
        }
        if errors_jsonl {
            let stderr = String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8");
            for line in stderr.lines() {
                self.check(line, &format!("{origin} (stderr)"));
            }
        }
    }

    fn check(&mut self, line: &str, origin: &str) {
        let record: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{origin}: {e}: {line}"));
        let kind = record["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{origin}: no kind: {line}"))
            .to_string();
        let home = self.home;
        let validator = self.validators.entry(kind.clone()).or_insert_with(|| {
            let output = home
                .missive()
                .args(["schema", &kind])
                .output()
                .expect("missive runs");
            assert!(
                output.status.success(),
                "{origin}: no schema for kind {kind:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let schema: Value = serde_json::from_slice(&output.stdout).expect("a JSON schema");
            jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("the schema of {kind:?} is not valid: {e}"))
        });
        let errors: Vec<String> = validator
            .iter_errors(&record)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{origin}: a {kind:?} record does not match its schema: {errors:#?}\n{line}"
        );
    }
}

#[test]
fn every_printed_record_matches_its_schema() {
    let (home, _gpg) = home_with_alices_autocrypt_mail();
    let mut checker = Checker {
        home: &home,
        validators: BTreeMap::new(),
    };
    let sample = format!("maildir:{}", sample_maildir().display());

    // message, and error (the sample's warnings; below, a line that is not a record).
    let mut fetched = checker.run(
        home.missive().args(["--errors", "jsonl", "fetch", &sample]),
        true,
    );
    // Alice's Autocrypt key, so that a key is bound and recommended.
    let autocrypt = checker.run(home.missive().args(["fetch", "maildir:Mail"]), false);
    checker.run(
        home.missive()
            .args(["keys", "learn"])
            .write_stdin(autocrypt.clone()),
        false,
    );
    fetched.extend(autocrypt);
    // Two people a contact suggestion would merge.
    for (id, protocol, address) in [
        ("m_g1", "email", "grace@example.org"),
        ("m_g2", "mastodon", "@gx@social.example.net"),
    ] {
        let record = serde_json::json!({"kind": "message", "v": 1, "id": id,
            "protocol": protocol, "account": "a", "source": {"kind": "jsonl"},
            "blob": format!("sha256:{id}"), "native_id": id,
            "from": {"name": "Grace Example", "address": address}});
        fetched.extend(format!("{record}\n").bytes());
    }
    let scored = checker.run(home.missive().arg("score").write_stdin(fetched), false);
    let refused = home
        .missive()
        .args(["--errors", "jsonl", "score"])
        .write_stdin("not a record\n")
        .output()
        .expect("missive runs");
    assert_eq!(refused.status.code(), Some(1));
    checker.check_output(&refused, "score of a line that is not a record", true);
    checker.run(
        home.missive().arg("index").write_stdin(scored.clone()),
        false,
    );
    checker.run(
        home.missive().arg("thread").write_stdin(scored.clone()),
        false,
    );
    // conversation
    checker.run(
        home.missive()
            .args(["thread", "--output", "conversations"])
            .write_stdin(scored),
        false,
    );
    checker.run(home.missive().args(["search", "from:alice"]), false);
    // contact, suggestion
    checker.run(home.missive().args(["contacts", "list", "--all"]), false);
    checker.run(home.missive().args(["contacts", "suggest"]), false);
    // key, lookup, recommendation
    checker.run(home.missive().args(["keys", "list"]), false);
    checker.run(
        home.missive()
            .args(["keys", "discover", "--dry-run", "alice@example.org"]),
        false,
    );
    checker.run(
        home.missive()
            .args(["keys", "recommend", "alice@example.org", "bob@example.net"]),
        false,
    );
    // factor, device, user, contact_privacy
    for flag in ["--factors", "--device", "--user", "--contacts"] {
        checker.run(home.missive().args(["score", flag]), false);
    }

    // draft (as `send` reads it) and delivery
    let draft =
        r#"{"kind":"draft","v":1,"to":["alice@example.org"],"subject":"hi","text":"hello"}"#;
    checker.check(draft, "a draft for send");
    checker.run(
        home.missive()
            .args(["send", "--dry-run"])
            .write_stdin(draft),
        false,
    );

    // conversation (as `thread` prints it) and thread, from search
    for output in ["conversations", "threads"] {
        let printed = checker.run(
            home.missive()
                .args(["search", "--output", output, "from:alice"]),
            false,
        );
        assert!(
            !printed.is_empty(),
            "search --output {output} printed nothing"
        );
    }
    // config, with an IMAP account
    let config =
        std::fs::read_to_string(home.path().join("config/missive/config.toml")).unwrap_or_default();
    home.write_config(&format!(
        "{config}\n[accounts.schema_check]\nsource = \"imap://me@mail.example.org\"\npassword_command = \"pass mail\"\ntls = \"starttls\"\n"
    ));
    let shown = checker.run(
        home.missive().args(["config", "show", "--format", "jsonl"]),
        false,
    );
    assert!(!shown.is_empty(), "config show printed nothing");

    // The check is not vacuous: a record without a required field is refused.
    assert!(
        !checker.validators["device"]
            .is_valid(&serde_json::json!({"kind": "device", "v": 1, "store": "/s"}))
    );
    let checked: BTreeSet<&str> = checker.validators.keys().map(String::as_str).collect();
    let known: BTreeSet<&str> = missive::config::schemas()
        .iter()
        .map(|(kind, _)| *kind)
        .collect();
    assert_eq!(
        checked, known,
        "every kind with a schema is printed and checked"
    );
}
