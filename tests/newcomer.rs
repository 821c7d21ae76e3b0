//! What a newcomer trips on (issue 19.11–16): a second own key only on purpose, an empty
//! contact list that says where contacts come from, a missing source path found by `config
//! check`, errors that say what the input is and where they happened, and a sync that says
//! where it looked for its config and how many messages were duplicates.

use crate::support::{Home, mail, run, sample_maildir};

fn generate(home: &Home, force: bool) -> (i32, Vec<serde_json::Value>, String) {
    let mut command = home.missive();
    command.args(["keys", "generate", "--passphrase-command", "echo secret"]);
    if force {
        command.arg("--force");
    }
    run(&mut command)
}

#[test]
fn a_second_key_for_the_same_address_needs_force_and_then_signs() {
    let home = Home::new();
    home.write_config("[identity]\nname = \"Sam\"\naddresses = [\"sam@example.com\"]\n");
    let (code, first, stderr) = generate(&home, false);
    assert_eq!(code, 0, "{stderr}");
    let first = first[0]["fingerprint"].as_str().unwrap().to_string();

    let (code, records, stderr) = generate(&home, false);
    assert_eq!((code, records.len()), (2, 0), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(
        stderr.contains(&first),
        "names the key already there: {stderr}"
    );

    let (code, second, stderr) = generate(&home, true);
    assert_eq!(code, 0, "{stderr}");
    let second = second[0]["fingerprint"].as_str().unwrap();
    assert_ne!(second, first);
    assert!(
        stderr.contains(&format!("{second} is now your signing key")),
        "{stderr}"
    );
    let (_, keys, _) = run(home.missive().args(["keys", "show", "sam@example.com"]));
    assert_eq!(
        keys.len(),
        2,
        "both keys stay, the old one to decrypt: {keys:?}"
    );
}

#[test]
fn an_empty_contact_list_says_where_contacts_come_from() {
    let home = Home::new();
    let (code, records, stderr) = run(home
        .missive()
        .args(["contacts", "list", "--format", "text"]));
    assert_eq!((code, records.len()), (0, 0), "{stderr}");
    assert!(stderr.contains("missive thread"), "{stderr}");

    home.write_config(&format!(
        "[identity]\naddresses = [\"sam@example.com\"]\n[accounts.sample]\nsource = \"maildir:{}\"\n",
        sample_maildir().display()
    ));
    let synced = home.missive().arg("sync").output().unwrap();
    assert_eq!(synced.status.code(), Some(0));
    let output = home
        .missive()
        .args(["contacts", "list", "--format", "text"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("--all lists the"), "{stderr}");
    let (_, all, _) = run(home.missive().args(["contacts", "list", "--all"]));
    assert!(
        stderr.contains(&format!("the {} addresses", all.len())),
        "{stderr} {all:?}"
    );
    // JSON Lines for a program stays quiet.
    let (_, _, stderr) = run(home
        .missive()
        .args(["contacts", "list", "--format", "jsonl"]));
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn config_check_fetch_and_sync_agree_that_a_missing_source_path_is_a_config_error() {
    let home = Home::new();
    home.write_config("[accounts.gone]\nsource = \"maildir:/nonexistent\"\n");
    let output = home.missive().args(["config", "check"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("account gone: /nonexistent does not exist"),
        "{stderr}"
    );
    assert!(!String::from_utf8(output.stdout).unwrap().contains("ok"));
    for command in ["fetch", "sync"] {
        let (code, _, stderr) = run(home.missive().arg(command));
        assert_eq!(code, 2, "{command}: {stderr}");
        assert!(stderr.contains("/nonexistent"), "{command}: {stderr}");
    }
}

#[test]
fn input_that_is_no_json_says_so_first() {
    let home = Home::new();
    let (code, _, stderr) = run(home
        .missive()
        .arg("score")
        .write_stdin(b"From: alice@example.org\n".to_vec()));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("stdin:1: not a JSON record: "), "{stderr}");
}

#[test]
fn an_error_record_names_the_source_that_cannot_be_read() {
    let home = Home::new();
    let (code, _, stderr) =
        run(home
            .missive()
            .args(["--errors", "jsonl", "fetch", "maildir:/nonexistent"]));
    assert_eq!(code, 2, "{stderr}");
    let record: serde_json::Value = serde_json::from_str(stderr.trim()).unwrap();
    assert_eq!(record["where"], "/nonexistent", "{record}");
}

#[test]
fn sync_without_a_config_says_where_it_looked() {
    let home = Home::new();
    let (code, _, stderr) = run(home.missive().arg("sync"));
    assert_eq!(code, 2, "{stderr}");
    let expected = home.path().join("config/missive/config.toml");
    assert!(
        stderr.contains(&format!("{} does not exist", expected.display())),
        "{stderr}"
    );
}

#[test]
fn sync_counts_duplicates_of_a_message_id_apart_from_new_messages() {
    let home = Home::new();
    for (file, id, body) in [
        ("1", "same", "first"),
        ("2", "same", "a second message, same id"),
        ("3", "other", "another"),
    ] {
        home.write(
            &format!("Mail/cur/{file}.M1.x:2,S"),
            &mail(&format!("Message-ID: <{id}@example.org>"), body),
        );
    }
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"maildir:{}\"\n",
        home.path().join("Mail").display()
    ));
    let output = home.missive().arg("sync").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let line = String::from_utf8(output.stdout).unwrap();
    assert!(
        line.starts_with(
            "missive sync: 2 new messages, 1 duplicate of a Message-ID already seen (mail 3) in "
        ),
        "{line}"
    );
}
