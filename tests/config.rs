//! `missive config check|show` and `missive schema` (issue 2).

use crate::support::{Home, run};

#[test]
fn a_valid_config_checks_ok() {
    let home = Home::new();
    let path = home.write_config(
        "[identity]\naddresses = [\"me@example.org\"]\n[accounts.a]\nsource = \"maildir:~/Mail\"\n",
    );
    // The account's Maildir exists: config check reports one that does not (issue 19.13).
    std::fs::create_dir_all(home.path().join("Mail")).unwrap();
    let output = home.missive().args(["config", "check"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains(&path.display().to_string()) && stdout.contains("1 account"),
        "{stdout}"
    );
}

#[test]
fn a_mistyped_key_is_an_error_naming_file_line_and_key() {
    let home = Home::new();
    let path =
        home.write_config("[identity]\nname = \"Me\"\n\n[accounts.a]\nsorce = \"maildir:/m\"\n");
    let (code, _, stderr) = run(home.missive().args(["config", "check"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&format!("{}:5:1:", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("sorce"), "{stderr}");
}

#[test]
fn a_missing_config_is_an_error_for_check() {
    let home = Home::new();
    let (code, _, stderr) = run(home.missive().args(["config", "check"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("config.toml"), "{stderr}");
}

#[test]
fn show_never_prints_a_secret() {
    let home = Home::new();
    home.write_config("[accounts.a]\nsource = \"maildir:/m\"\npassword = \"hunter2-secret\"\npassword_command = \"pass show mail\"\n");
    for format in ["text", "jsonl"] {
        let output = home
            .missive()
            .args(["config", "show", "--format", format])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(!stdout.contains("hunter2"), "{stdout}");
        assert!(stdout.contains("pass show mail"), "{stdout}");
    }
    let output = home.missive().args(["config", "check"]).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("password_command") && !stderr.contains("hunter2"),
        "{stderr}"
    );
}

#[test]
fn schema_prints_a_json_schema_per_kind() {
    let home = Home::new();
    let (code, schemas, _) = run(home.missive().args(["schema"]));
    assert_eq!(code, 0);
    assert_eq!(schemas.len(), missive::config::schemas().len());
    assert!(schemas.len() >= 3, "message, error and key at least");
    let (code, message, _) = run(home.missive().args(["schema", "message"]));
    assert_eq!(code, 0);
    assert_eq!(message[0]["$defs"]["kind_message"]["const"], "message");
    assert!(
        message[0]["required"]
            .as_array()
            .unwrap()
            .contains(&"blob".into())
    );
    let (code, _, stderr) = run(home.missive().args(["schema", "nope"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("message, error, key, lookup, conversation, contact, suggestion"),
        "{stderr}"
    );
}

#[test]
fn a_usage_error_exits_2() {
    let home = Home::new();
    let (code, _, _) = run(home.missive().args(["fetch", "--no-such-flag"]));
    assert_eq!(code, 2);
}
