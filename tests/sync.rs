//! `missive sync`: the cron job, fetch | score | index in one process under a lock (issue 6).

use std::path::Path;

use crate::support::{Home, run};

fn sample_config() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/config.toml")
}

#[test]
fn sync_fetches_scores_and_indexes_then_finds_nothing_new() {
    let home = Home::new();
    let config = sample_config();
    let config = config.to_str().unwrap();
    let output = home
        .missive()
        .args(["--config", config, "sync"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let line = String::from_utf8(output.stdout).unwrap();
    assert!(
        line.starts_with("missive sync: 6 new messages (sample 6) in "),
        "{line}"
    );

    let (code, records, _) = run(home.missive().args(["search", "from:alice"]));
    assert_eq!(code, 0);
    assert_eq!(records.len(), 2);
    assert!(
        records.iter().all(|r| r["privacy"]["grade"].is_string()),
        "scored on the way"
    );

    let output = home
        .missive()
        .args(["--config", config, "sync"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .starts_with("missive sync: 0 new messages in")
    );
}

#[test]
fn quiet_prints_nothing_but_errors() {
    let home = Home::new();
    let config = sample_config();
    let output = home
        .missive()
        .args(["--config", config.to_str().unwrap(), "sync", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_second_sync_exits_75_while_the_first_holds_the_store() {
    let home = Home::new();
    let config = sample_config();
    std::fs::create_dir_all(home.store()).unwrap();
    let lock = home.store().join("sync.lock");
    // flock(1) holds the lock while missive runs inside it: no timing involved.
    let bin = assert_cmd::cargo::cargo_bin("missive");
    let output = std::process::Command::new("flock")
        .arg(&lock)
        .arg(&bin)
        .args(["--config", config.to_str().unwrap(), "--store"])
        .arg(home.store())
        .arg("sync")
        .env("HOME", home.path())
        .output()
        .expect("flock(1) from util-linux");
    assert_eq!(output.status.code(), Some(75));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("locked by another missive"), "{stderr}");
}

#[test]
fn no_accounts_is_a_usage_error() {
    let home = Home::new();
    home.write_config("[identity]\naddresses = [\"me@example.org\"]\n");
    let (code, _, stderr) = run(home.missive().arg("sync"));
    assert_eq!(code, 2);
    assert!(stderr.contains("no accounts to sync"), "{stderr}");
    let (code, _, stderr) = run(home.missive().args([
        "--config",
        sample_config().to_str().unwrap(),
        "sync",
        "nosuch",
    ]));
    assert_eq!(code, 2);
    assert!(stderr.contains("no account \"nosuch\""), "{stderr}");
}
