//! `missive send` routing (issue 17): plans made with `--dry-run` over a store whose keys
//! gpg made, each rule shown by the channel it picks or the refusal it makes, and the
//! `draft` and `delivery` records checked against `missive schema` in tests/schema.rs.

use serde_json::Value;

use crate::support::openpgp::{GnuPg, autocrypt_mail};
use crate::support::{Home, run};

/// A home whose user sam has a key of their own (unless `own_key` is false).
fn home(own_key: bool) -> Home {
    let home = Home::new();
    home.write_config(
        "[identity]\nname = \"Sam\"\naddresses = [\"sam@example.com\"]\nprefer_encrypt = \"mutual\"\n",
    );
    if own_key {
        let (code, _, stderr) = run(home.missive().args(["keys", "generate", "--no-passphrase"]));
        assert_eq!(code, 0, "{stderr}");
    }
    home
}

/// Imports a key gpg makes for `user_id`; returns its fingerprint.
fn import(home: &Home, user_id: &str) -> String {
    let gpg = GnuPg::new();
    let fingerprint = gpg.generate(user_id);
    home.missive()
        .args(["keys", "import"])
        .write_stdin(gpg.run(&["--armor", "--export"], None))
        .assert()
        .success();
    fingerprint
}

/// `missive send --dry-run ARGS` with `text` on stdin: (exit code, deliveries, stderr).
fn plan(home: &Home, args: &[&str]) -> (i32, Vec<Value>, String) {
    run(home
        .missive()
        .args(["send", "--dry-run"])
        .args(args)
        .write_stdin("hello\n"))
}

fn channel(delivery: &Value) -> &str {
    delivery["channel"].as_str().unwrap_or_default()
}

fn rejected_why<'a>(delivery: &'a Value, channel: &str) -> &'a str {
    delivery["rejected"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["channel"] == channel))
        .and_then(|c| c["why"].as_str())
        .unwrap_or_else(|| panic!("{channel} not among the rejected: {delivery}"))
}

#[test]
fn a_usable_key_makes_the_plan_pgp_mime_and_tls_loses_on_its_score() {
    let home = home(true);
    let fingerprint = import(&home, "Alice <alice@example.org>");
    let (code, plan, stderr) = plan(&home, &["--to", "alice@example.org", "--subject", "hi"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(plan.len(), 1, "{plan:?}");
    let delivery = &plan[0];
    assert_eq!(delivery["kind"], "delivery");
    assert_eq!(delivery["status"], "planned");
    assert_eq!(delivery["recipient"], "email:alice@example.org");
    assert_eq!(channel(delivery), "pgp-mime");
    assert_eq!(delivery["key"]["fingerprint"], fingerprint.as_str());
    assert_eq!(delivery["key"]["source"], "import");
    assert_eq!(delivery["key"]["state"], "tofu");
    let tls = delivery["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "tls")
        .expect("tls is listed as a loser");
    assert!(
        tls["score"].as_u64().unwrap() < delivery["score"].as_u64().unwrap(),
        "{delivery}"
    );
    assert!(rejected_why(delivery, "mastodon-dm").contains("no Mastodon identity"));
}

#[test]
fn without_a_key_the_plan_is_tls_and_says_how_to_find_one() {
    let home = home(true);
    let (code, plan, stderr) = plan(&home, &["--to", "bob@example.net"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(channel(&plan[0]), "tls");
    assert!(plan[0]["key"].is_null());
    assert!(
        rejected_why(&plan[0], "pgp-mime").contains("missive keys discover bob@example.net"),
        "{}",
        plan[0]
    );
}

#[test]
fn a_user_without_a_key_of_their_own_is_told_to_generate_one() {
    let home = home(false);
    import(&home, "Alice <alice@example.org>");
    let (code, plan, stderr) = plan(&home, &["--to", "alice@example.org"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(channel(&plan[0]), "tls");
    assert!(rejected_why(&plan[0], "pgp-mime").contains("missive keys generate"));
}

#[test]
fn a_tofu_conflict_blocks_pgp_until_the_user_decides() {
    let home = home(true);
    import(&home, "Alice <alice@example.org>");
    let new = import(&home, "Alice (new laptop) <alice@example.org>");
    let (code, plan, stderr) = plan(&home, &["--to", "alice@example.org"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(channel(&plan[0]), "tls", "{}", plan[0]);
    let why = rejected_why(&plan[0], "pgp-mime");
    assert!(
        why.contains("TOFU conflict") && why.contains("keys verify"),
        "{why}"
    );
    assert!(
        plan[0]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("conflict")
    );

    home.missive()
        .args(["keys", "verify", "alice@example.org", &new])
        .assert()
        .success();
    let (_, plan, _) = self::plan(&home, &["--to", "alice@example.org"]);
    assert_eq!(channel(&plan[0]), "pgp-mime");
    assert_eq!(plan[0]["key"]["fingerprint"], new.as_str());
    assert_eq!(plan[0]["key"]["state"], "verified");
}

#[test]
fn a_key_autocrypt_discourages_is_used_with_a_warning() {
    let home = home(true);
    let gpg = GnuPg::new();
    gpg.generate("Alice <alice@example.org>");
    let key = gpg.run(&["--export", "alice@example.org"], None);
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &autocrypt_mail(
            "alice@example.org",
            "Mon, 01 Jan 2024 10:00:00 +0000",
            "mutual",
            &key,
        ),
    );
    // Seen again two months later without the header: the key is stale (Autocrypt §2.4).
    home.write(
        "Mail/cur/2.M2.x:2,S",
        b"From: alice@example.org\nTo: sam@example.com\nSubject: again\nDate: Fri, 01 Mar 2024 10:00:00 +0000\nMessage-ID: <later@example.org>\n\nhi\n",
    );
    let (code, _, stderr) = home.fetch_and_learn_keys();
    assert_eq!(code, 0, "{stderr}");
    let (code, plan, stderr) = plan(&home, &["--to", "alice@example.org"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(channel(&plan[0]), "pgp-mime");
    assert_eq!(plan[0]["key"]["recommendation"], "discourage");
    assert_eq!(plan[0]["key"]["source"], "autocrypt");
    assert!(
        plan[0]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("discourages"),
        "{}",
        plan[0]
    );
}

#[test]
fn a_mixed_list_is_refused_in_clear_and_split_with_split() {
    let home = home(true);
    import(&home, "Alice <alice@example.org>");
    let args = ["--to", "alice@example.org", "--cc", "bob@example.net"];
    let (code, plan, stderr) = plan(&home, &args);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("--split"), "{stderr}");
    assert!(plan.iter().all(|d| d["status"] == "refused"), "{plan:?}");
    assert!(
        plan[0]["reason"]
            .as_str()
            .unwrap()
            .contains("bob@example.net")
    );

    let (code, plan, stderr) = self::plan(&home, &[&args[..], &["--split"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let by = |who: &str| {
        plan.iter()
            .find(|d| d["recipient"] == format!("email:{who}"))
            .map(|d| channel(d).to_string())
    };
    assert_eq!(by("alice@example.org").as_deref(), Some("pgp-mime"));
    assert_eq!(by("bob@example.net").as_deref(), Some("tls"));
    assert!(plan[1]["warnings"][0].as_str().unwrap().contains("split"));
    assert_ne!(plan[0]["message_id"], plan[1]["message_id"], "two messages");
}

#[test]
fn a_plan_in_text_is_one_readable_line_per_delivery() {
    let home = home(true);
    import(&home, "Alice <alice@example.org>");
    let args = [
        "--to",
        "alice@example.org",
        "--cc",
        "bob@example.net",
        "--split",
    ];
    let output = home
        .missive()
        .args(["send", "--dry-run", "--format", "text"])
        .args(args)
        .write_stdin("hello\n")
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.lines()
            .all(|l| !l.starts_with('{') && !l.starts_with('[')),
        "no JSON: {text}"
    );
    let line = |who: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("email:{who}  ")))
            .unwrap_or_else(|| panic!("no line for {who}: {text}"))
    };
    assert!(
        line("alice@example.org").contains("  pgp-mime    planned  "),
        "{text}"
    );
    assert!(
        line("bob@example.net").contains("  tls         planned  "),
        "{text}"
    );
}

#[test]
fn below_the_minimum_privacy_nothing_goes_and_the_exit_status_is_1() {
    let home = home(true);
    let (code, plan, stderr) = plan(&home, &["--to", "bob@example.net", "--min-privacy", "90"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("below the minimum of 90"), "{stderr}");
    assert_eq!(plan[0]["status"], "refused");
    let (code, _, _) = self::plan(&home, &["--to", "bob@example.net", "--min-privacy", "10"]);
    assert_eq!(code, 0);

    home.write_config(
        "[identity]\naddresses = [\"sam@example.com\"]\n[policy]\nmin_privacy = 90\n",
    );
    let (code, _, stderr) = self::plan(&home, &["--to", "bob@example.net"]);
    assert_eq!(code, 1, "[policy] min_privacy applies: {stderr}");
}

#[test]
fn a_reply_to_encrypted_mail_is_never_planned_in_clear_unless_via_says_so() {
    let home = home(true);
    let parent = serde_json::json!({"kind": "message", "v": 1, "id": "m_parent",
        "protocol": "email", "account": "home", "source": {"kind": "jsonl"},
        "blob": "sha256:00", "native_id": "<parent@example.net>",
        "from": {"name": "Bob", "address": "bob@example.net"},
        "to": [{"address": "sam@example.com"}], "subject": "secret",
        "security": {"encryption": "pgp-mime"}});
    home.missive()
        .arg("index")
        .write_stdin(format!("{parent}\n"))
        .assert()
        .success();
    let (code, plan, stderr) = plan(&home, &["--reply", "m_parent"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("answers an end-to-end encrypted message"),
        "{stderr}"
    );
    assert_eq!(plan[0]["recipient"], "email:bob@example.net");
    assert_eq!(plan[0]["status"], "refused");

    let (code, plan, stderr) = self::plan(&home, &["--reply", "m_parent", "--via", "tls"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(channel(&plan[0]), "tls");
    assert_eq!(plan[0]["status"], "planned");
}

#[test]
fn via_overrides_the_ranking() {
    let home = home(true);
    import(&home, "Alice <alice@example.org>");
    let (code, plan, stderr) = plan(&home, &["--to", "alice@example.org", "--via", "tls"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(channel(&plan[0]), "tls");
    assert!(rejected_why(&plan[0], "pgp-mime").contains("--via tls"));
    let (code, _, stderr) = self::plan(&home, &["--to", "bob@example.net", "--via", "pgp-mime"]);
    assert_eq!(code, 1, "a channel that cannot reach bob: {stderr}");
}

#[test]
fn drafts_name_contacts_and_a_dry_run_journals_nothing() {
    let home = home(true);
    import(&home, "Alice <alice@example.org>");
    home.missive()
        .args([
            "contacts",
            "link",
            "alice@example.org",
            "@alice@social.example",
            "--name",
            "Alice Liddell",
        ])
        .assert()
        .success();
    let draft = serde_json::json!({"kind": "draft", "v": 1, "to": ["alice liddell"],
        "subject": "tea", "text": "at five?"});
    let (code, plan, stderr) = run(home
        .missive()
        .args(["send", "--dry-run"])
        .write_stdin(format!("{draft}\n")));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(plan[0]["recipient"], "email:alice@example.org");
    assert_eq!(plan[0]["name"], "Alice Liddell");
    assert_eq!(channel(&plan[0]), "pgp-mime");
    // Mastodon loses for want of an account, not of an identity.
    assert!(rejected_why(&plan[0], "mastodon-dm").contains("token_command"));
    let id = plan[0]["draft"].as_str().unwrap().to_string();
    assert!(id.starts_with("d_"), "{id}");
    // The same draft is the same id.
    let (_, again, _) = run(home
        .missive()
        .args(["send", "--dry-run"])
        .write_stdin(format!("{draft}\n")));
    assert_eq!(again[0]["draft"], id.as_str());

    let (code, pending, stderr) = run(home.missive().args(["send", "--flush", "--dry-run"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        pending.is_empty(),
        "a dry run journals nothing: {pending:?}"
    );

    let (code, _, stderr) = run(home
        .missive()
        .args(["send"])
        .write_stdin(r#"{"kind":"draft","v":1,"to":["nobody at all"]}"#));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("names no contact"), "{stderr}");
}

/// A copy to oneself (the author `git send-email` Cc's) goes with the others: encrypted when
/// they all have keys, in clear when none has, and it never makes the list mixed, even at an
/// address of Sam's that his key does not name.
#[test]
fn a_copy_to_oneself_goes_the_way_the_others_go() {
    let home = home(true);
    home.write_config(
        "[identity]\nname = \"Sam\"\naddresses = [\"sam@example.com\", \"sam@home.example\"]\nprefer_encrypt = \"mutual\"\n",
    );
    import(&home, "Alice <alice@example.org>");
    for own in ["sam@example.com", "sam@home.example"] {
        let (code, encrypted, stderr) = plan(&home, &["--to", "alice@example.org", "--cc", own]);
        assert_eq!(code, 0, "{own}: {stderr}");
        assert!(
            encrypted.iter().all(|d| channel(d) == "pgp-mime"),
            "{own}: {encrypted:?}"
        );
        let (code, clear, stderr) = plan(&home, &["--to", "bob@example.net", "--cc", own]);
        assert_eq!(code, 0, "{own}: not refused as a mixed list: {stderr}");
        assert!(
            clear.iter().all(|d| channel(d) == "tls"),
            "{own}: {clear:?}"
        );
    }
}
