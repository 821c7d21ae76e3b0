//! `missive sync`: the cron job, fetch | score | index in one process under a lock (issue 6).

use std::path::Path;

use crate::support::{Home, run, sample_maildir};

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
    let line = String::from_utf8(output.stdout).unwrap();
    assert!(
        line.starts_with("missive sync: 0 new messages, 4 of 4 Maildir folders unchanged in"),
        "nothing read again: {line}"
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

/// A home whose one account is the Maildir `mail/`, and a way to drop messages in it.
fn maildir_home() -> Home {
    let home = Home::new();
    let mail = home.path().join("mail");
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"maildir:{}\"\n",
        mail.display()
    ));
    for dir in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(home.path().join("mail").join(dir)).unwrap();
    }
    home
}

fn deliver(home: &Home, name: &str, from: &str, message_id: &str, refs: &str, subject: &str) {
    let refs = if refs.is_empty() {
        String::new()
    } else {
        format!("In-Reply-To: {refs}\nReferences: {refs}\n")
    };
    home.write(
        &format!("mail/new/{name}"),
        format!(
            "From: {from}\nTo: sam@example.com\nSubject: {subject}\nMessage-ID: {message_id}\n\
             {refs}Date: Mon, 01 Jan 2024 10:00:00 +0000\n\nAbout the seed swap.\n"
        )
        .as_bytes(),
    );
}

fn sync(home: &Home) {
    let output = home.missive().args(["sync", "--quiet"]).output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn search(home: &Home, args: &[&str]) -> Vec<serde_json::Value> {
    let (code, records, stderr) = run(home.missive().arg("search").args(args));
    assert_eq!(code, 0, "{stderr}");
    records
}

#[test]
fn sync_threads_what_it_fetches_and_search_finds_a_thread_by_its_id() {
    let home = maildir_home();
    deliver(&home, "1", "alice@example.org", "<a@x>", "", "Seeds");
    deliver(&home, "2", "bob@example.net", "<b@x>", "<a@x>", "Re: Seeds");
    deliver(&home, "3", "carol@example.net", "<c@x>", "", "Other");
    sync(&home);

    let found = search(&home, &["seed"]);
    assert_eq!(found.len(), 3);
    let thread_of = |id: &str| {
        found
            .iter()
            .find(|r| r["native_id"] == id)
            .and_then(|r| r["thread"].as_str())
            .unwrap()
            .to_string()
    };
    assert_eq!(thread_of("<a@x>"), thread_of("<b@x>"));
    assert_ne!(thread_of("<a@x>"), thread_of("<c@x>"));
    assert!(found.iter().all(|r| r["conversation"].is_string()));

    let thread = format!("thread:{}", thread_of("<a@x>"));
    assert_eq!(search(&home, &[&thread]).len(), 2);
    assert_eq!(search(&home, &["--output", "threads", "seed"]).len(), 2);
}

#[test]
fn a_message_synced_later_that_joins_two_threads_gives_every_message_the_merged_id() {
    let home = maildir_home();
    deliver(&home, "1", "alice@example.org", "<a@x>", "", "Seeds");
    deliver(
        &home,
        "3",
        "carol@example.net",
        "<c@x>",
        "<b@x>",
        "Re: Seeds",
    );
    sync(&home);
    let before = search(&home, &["seed"]);
    assert_ne!(before[0]["thread"], before[1]["thread"], "not linked yet");

    // <b@x> answers <a@x>, and <c@x> answered <b@x>: one thread now.
    deliver(&home, "2", "bob@example.net", "<b@x>", "<a@x>", "Re: Seeds");
    sync(&home);
    let after = search(&home, &["seed"]);
    assert_eq!(after.len(), 3);
    let thread = after[0]["thread"].as_str().unwrap();
    assert!(after.iter().all(|r| r["thread"] == thread), "{after:?}");
    assert_eq!(search(&home, &[&format!("thread:{thread}")]).len(), 3);
    assert_eq!(search(&home, &["--output", "threads", "seed"]).len(), 1);
    let retired: Vec<&str> = before
        .iter()
        .filter_map(|r| r["thread"].as_str())
        .filter(|old| *old != thread)
        .collect();
    assert_eq!(retired.len(), 1);
    assert!(search(&home, &[&format!("thread:{}", retired[0])]).is_empty());
}

#[test]
fn with_finds_every_identity_of_a_linked_contact() {
    let home = maildir_home();
    deliver(
        &home,
        "1",
        "Alice <alice@example.org>",
        "<a@x>",
        "",
        "Seeds",
    );
    deliver(&home, "2", "alice.w@work.example", "<b@x>", "", "Meeting");
    deliver(&home, "3", "bob@example.net", "<c@x>", "", "Other");
    sync(&home);
    assert_eq!(search(&home, &["with:alice@example.org"]).len(), 1);

    let (code, _, stderr) = run(home.missive().args([
        "contacts",
        "link",
        "alice@example.org",
        "alice.w@work.example",
        "--name",
        "Alice Liddell",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let ids = |found: Vec<serde_json::Value>| {
        let mut ids: Vec<String> = found
            .iter()
            .map(|r| r["native_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(
        ids(search(&home, &["with:alice@example.org"])),
        ["<a@x>", "<b@x>"]
    );
    assert_eq!(
        ids(search(&home, &["with:\"alice liddell\""])),
        ["<a@x>", "<b@x>"]
    );
    assert_eq!(ids(search(&home, &["with:bob@example.net"])), ["<c@x>"]);
}

/// Counts what the issue 19 reproduction prints: the messages `thread --output
/// conversations` sums, what `thread --rebuild` reports, and the records `search` finds,
/// after `sync` of the sample account and a `fetch --all` of its Maildir; `config` is given
/// to every command after `sync` when `Some`.
fn sample_counts(config: Option<&Path>) -> (u64, String, usize) {
    let home = Home::new();
    let sample_config = sample_config();
    let missive = |with_config: Option<&Path>| {
        let mut command = home.missive();
        if let Some(config) = with_config {
            command.arg("--config").arg(config);
        }
        command
    };
    let synced = missive(Some(&sample_config)).arg("sync").output().unwrap();
    let said = String::from_utf8_lossy(&synced.stdout) + String::from_utf8_lossy(&synced.stderr);
    assert!(said.contains("6 new messages"), "{said}");
    let source = format!("maildir:{}", sample_maildir().display());
    let fetched = missive(config)
        .args(["fetch", "--all", &source])
        .output()
        .unwrap()
        .stdout;
    let (_, conversations, _) = run(missive(config)
        .args(["thread", "--output", "conversations"])
        .write_stdin(fetched.clone()));
    let messages = conversations
        .iter()
        .map(|c| c["messages"].as_u64().unwrap())
        .sum();
    let rebuilt = missive(config)
        .args(["thread", "--rebuild"])
        .output()
        .unwrap();
    let rebuilt = String::from_utf8(rebuilt.stderr).unwrap();
    run(missive(config).arg("index").write_stdin(fetched));
    let (_, found, _) = run(missive(config).args(["search", ""]));
    (messages, rebuilt, found.len())
}

/// Issue 19: after `sync`, the same Maildir fetched again is the same six records.
#[test]
fn the_sample_synced_then_fetched_again_is_one_record_per_message() {
    let (messages, rebuilt, found) = sample_counts(Some(&sample_config()));
    assert_eq!(messages, 6, "each conversation counts each message once");
    assert!(rebuilt.contains("rebuilt 6 messages"), "{rebuilt}");
    assert_eq!(found, 6);
}

/// Issue 19: without the config, `fetch` of the Maildir that `sync` read as the `sample`
/// account still gives the `sample` account's records: the store remembers which account
/// a local source was fetched as.
#[test]
fn the_sample_fetched_again_without_the_config_is_one_record_per_message() {
    let (messages, rebuilt, found) = sample_counts(None);
    assert_eq!(messages, 6);
    assert!(rebuilt.contains("rebuilt 6 messages"), "{rebuilt}");
    assert_eq!(found, 6);
}
