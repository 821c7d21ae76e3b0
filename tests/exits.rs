//! Exit statuses (issue 16): one test per row of the table in `missive(1)`, so the same
//! situation gives the same status from every command; a full disk is 75 and nothing is
//! lost once space is freed.

use std::io::Write;
use std::path::PathBuf;

use crate::support::dovecot::Dovecot;
use crate::support::{Home, mail, run, sample_maildir};

/// A home whose config has one account reading `source`.
fn with_account(source: &str) -> Home {
    let home = Home::new();
    home.write_config(&format!(
        "[identity]\naddresses = [\"bob@example.net\"]\n\n[accounts.mail]\nsource = \"{source}\"\n"
    ));
    home
}

/// The sample Maildir's records, fetched into `home`'s store.
fn sample_records(home: &Home) -> Vec<u8> {
    let source = format!("maildir:{}", sample_maildir().display());
    let output = home.missive().args(["fetch", &source]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    output.stdout
}

#[test]
fn done_is_0_an_empty_result_too() {
    let home = Home::new();
    sample_records(&home);
    let (code, records, stderr) = run(home.missive().args(["search", "subject:nothing-like-it"]));
    assert_eq!((code, records.len()), (0, 0), "{stderr}");
}

#[test]
fn some_records_failing_is_1_and_the_rest_go_through() {
    let home = Home::new();
    let mut input = sample_records(&home);
    input.extend_from_slice(b"this is no record\n");
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(input));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("stdin:7"), "{stderr}");
    let (code, records, _) = run(home.missive().args(["search", ""]));
    assert_eq!((code, records.len()), (0, 6));
}

#[test]
fn usage_and_configuration_are_2() {
    let home = Home::new();
    let (code, _, stderr) = run(home.missive().args(["fetch", "--no-such-flag"]));
    assert_eq!(code, 2, "a bad flag: {stderr}");
    assert!(stderr.contains("--no-such-flag"), "{stderr}");
    let broken = home.write_config("[accounts.work\n");
    let (code, _, stderr) = run(home.missive().arg("sync"));
    assert_eq!(code, 2, "a config that cannot be used: {stderr}");
    assert!(stderr.contains(&broken.display().to_string()), "{stderr}");
    std::fs::remove_file(broken).unwrap();
    let (code, _, stderr) = run(home.missive().args(["search", "(from:x"]));
    assert_eq!(code, 2, "a bad query: {stderr}");
    let (code, _, stderr) = run(home.missive().args(["fetch", "mbox:no-such-file"]));
    assert_eq!(code, 2, "a source that does not exist: {stderr}");
    let home = with_account("maildir:no-such-dir");
    let (code, _, stderr) = run(home.missive().arg("sync"));
    assert_eq!(code, 2, "sync, the same source: {stderr}");
}

#[test]
fn a_refused_certificate_is_2_from_fetch_and_sync_alike() {
    let server = Dovecot::start(&[("alice", "pw")]);
    let home = Home::new();
    let secret = home.write("secret", b"pw");
    // No ca_file: the test CA is unknown, the certificate refused.
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"imap://alice@127.0.0.1:{}\"\npassword_command = \"cat '{}'\"\n",
        server.imaps_port,
        secret.display()
    ));
    for command in ["fetch", "sync"] {
        let (code, _, stderr) = run(home.missive().arg(command));
        assert_eq!(code, 2, "{command}: {stderr}");
        assert!(stderr.contains("TLS"), "{command}: {stderr}");
    }
}

/// Holds the store's write lock, as another missive in a write transaction does.
fn hold_store(home: &Home) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(home.store().join("state.sqlite")).unwrap();
    connection.execute_batch("BEGIN IMMEDIATE").unwrap();
    connection
}

#[test]
fn a_store_locked_past_the_wait_is_75() {
    let home = Home::new();
    sample_records(&home);
    let _held = hold_store(&home);
    let raw = mail("Message-ID: <locked@example.org>\n", "held\n");
    let (code, _, stderr) = run(home.missive().args(["fetch", "eml:-"]).write_stdin(raw));
    assert_eq!(code, 75, "{stderr}");
    assert!(stderr.contains("locked by another missive"), "{stderr}");
}

#[test]
fn a_search_index_being_written_is_75() {
    let home = Home::new();
    let records = sample_records(&home);
    let index = missive::store::index::MessageIndex::open(&home.store().join("index")).unwrap();
    let _writer = index.writer().unwrap();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(records));
    assert_eq!(code, 75, "{stderr}");
    assert!(
        stderr.contains("being written by another missive"),
        "{stderr}"
    );
}

#[test]
fn an_unreachable_server_is_75_from_fetch_and_sync_alike() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = with_account(&format!("imap://alice@127.0.0.1:{port}"));
    let config = std::fs::read_to_string(home.path().join("config/missive/config.toml")).unwrap();
    home.write_config(&format!("{config}password_command = \"echo pw\"\n"));
    for command in ["fetch", "sync"] {
        let (code, _, stderr) = run(home.missive().arg(command));
        assert_eq!(code, 75, "{command}: {stderr}");
        assert!(stderr.contains("cannot connect"), "{command}: {stderr}");
    }
}

#[test]
fn thread_prints_every_record_and_exits_75_when_the_store_cannot_keep_them() {
    let home = Home::new();
    let records = sample_records(&home);
    let held = hold_store(&home);
    let (code, printed, stderr) = run(home.missive().arg("thread").write_stdin(records));
    assert_eq!(code, 75, "{stderr}");
    assert_eq!(printed.len(), 6, "{stderr}");
    assert!(printed.iter().all(|r| r["thread"].is_string()));
    assert!(
        stderr.contains("every record was printed") && stderr.contains("locked"),
        "{stderr}"
    );
    drop(held);
}

/// A small tmpfs, mounted for one test and unmounted when dropped.
struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    /// None (with the reason printed) when mounting is refused and not under CI.
    fn mount(dir: PathBuf) -> Option<SmallDisk> {
        std::fs::create_dir_all(&dir).unwrap();
        let output = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
            .arg(&dir)
            .output();
        let refused = match output {
            Ok(output) if output.status.success() => None,
            Ok(output) => Some(String::from_utf8_lossy(&output.stderr).into_owned()),
            Err(error) => Some(error.to_string()),
        };
        if let Some(reason) = refused {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "cannot mount a tmpfs for the full-disk test: {reason}"
            );
            eprintln!("SKIPPED: cannot mount a tmpfs for the full-disk test: {reason}");
            return None;
        }
        Some(SmallDisk { dir })
    }

    /// Fills what is left of the disk with one file.
    fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 4096];
        while file.write_all(&chunk).is_ok() {}
        while file.write_all(&[0]).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.dir).status();
    }
}

/// A home whose store is on a small disk.
fn home_on_small_disk() -> Option<(Home, SmallDisk)> {
    let home = Home::new();
    let disk = SmallDisk::mount(home.store())?;
    Some((home, disk))
}

fn assert_disk_full(command: &str, code: i32, stderr: &str) {
    assert_eq!(code, 75, "{command}: {stderr}");
    assert!(
        stderr.to_lowercase().contains("no space left on device"),
        "{command}: {stderr}"
    );
}

#[test]
fn a_full_disk_is_75_for_fetch_from_standard_input_and_nothing_is_lost_or_doubled() {
    let Some((home, disk)) = home_on_small_disk() else {
        return;
    };
    let first = mail("Message-ID: <first@example.org>\n", "first\n");
    let (code, records, stderr) = run(home.missive().args(["fetch", "eml:-"]).write_stdin(first));
    assert_eq!((code, records.len()), (0, 1), "{stderr}");
    let filler = disk.fill();
    // A mail server pipes a message in: it must retry, not bounce.
    let raw = mail(
        "Message-ID: <delivered@example.org>\n",
        &"a body that needs room\n".repeat(400),
    );
    let (code, _, stderr) = run(home
        .missive()
        .args(["fetch", "eml:-"])
        .write_stdin(raw.clone()));
    assert_disk_full("fetch eml:-", code, &stderr);
    std::fs::remove_file(filler).unwrap();
    let (code, records, stderr) = run(home
        .missive()
        .args(["fetch", "eml:-"])
        .write_stdin(raw.clone()));
    assert_eq!(
        (code, records.len()),
        (0, 1),
        "the retry delivers: {stderr}"
    );
    let (code, records, stderr) = run(home.missive().args(["fetch", "eml:-"]).write_stdin(raw));
    assert_eq!((code, records.len()), (0, 0), "and only once: {stderr}");
}

/// `count` messages of some size in a Maildir under `home`.
fn maildir_of(home: &Home, count: usize) -> PathBuf {
    for n in 0..count {
        home.write(
            &format!("Mail/cur/{n}.M{n}P1.test:2,S"),
            &mail(
                &format!("Message-ID: <m{n}@example.org>\n"),
                &format!("word{n} {}\n", "filler text ".repeat(300)),
            ),
        );
    }
    std::fs::create_dir_all(home.path().join("Mail/new")).unwrap();
    std::fs::create_dir_all(home.path().join("Mail/tmp")).unwrap();
    home.path().join("Mail")
}

fn indexed(home: &Home) -> usize {
    let (code, records, stderr) = run(home.missive().args(["search", ""]));
    assert_eq!(code, 0, "{stderr}");
    let ids: std::collections::BTreeSet<&str> =
        records.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), records.len(), "nothing doubled");
    records.len()
}

#[test]
fn a_full_disk_is_75_for_index_and_sync_and_a_run_after_freeing_space_completes() {
    let Some((home, disk)) = home_on_small_disk() else {
        return;
    };
    let maildir = maildir_of(&home, 200);
    let source = format!("maildir:{}", maildir.display());
    let records = home.missive().args(["fetch", &source]).output().unwrap();
    assert_eq!(records.status.code(), Some(0));
    let filler = disk.fill();
    let (code, _, stderr) = run(home
        .missive()
        .arg("index")
        .write_stdin(records.stdout.clone()));
    assert_disk_full("index", code, &stderr);
    std::fs::remove_file(&filler).unwrap();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(records.stdout));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(indexed(&home), 200);

    let home = with_account(&format!("maildir:{}", maildir.display()));
    drop(disk);
    let Some(disk) = SmallDisk::mount(home.store()) else {
        return;
    };
    let filler = disk.fill();
    let (code, _, stderr) = run(home.missive().arg("sync"));
    assert_disk_full("sync", code, &stderr);
    std::fs::remove_file(&filler).unwrap();
    let output = home.missive().arg("sync").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(indexed(&home), 200);
}

/// Runs `command` with its standard output a pipe whose reader is already gone, as after
/// `missive … | head` once `head` has read enough; returns (exit code, stderr).
fn into_closed_pipe(mut command: std::process::Command, stdin: Vec<u8>) -> (i32, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("missive starts");
    let mut input = child.stdin.take().expect("stdin");
    // A command that stops reading once it cannot write is fine: the input may be refused.
    let _ = input.write_all(&stdin);
    drop(input);
    let output = child.wait_with_output().expect("missive ends");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (
        output.status.code().expect("an exit code, not a signal"),
        stderr,
    )
}

#[test]
fn a_closed_pipe_ends_every_command_quietly_with_0() {
    let home = Home::new();
    let records = sample_records(&home);
    let source = format!("maildir:{}", sample_maildir().display());
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(records.clone()));
    assert_eq!(code, 0, "{stderr}");
    let commands: &[&[&str]] = &[
        &["schema"],
        &["score", "--factors"],
        &["score", "--factors", "--format", "json"],
        &["score"],
        &["fetch", "--all", &source],
        &["search", ""],
        &["search", "--format", "json", ""],
        &["search", "--output", "conversations", ""],
        &["search", "--output", "count", ""],
        &["search", "--output", "ids", ""],
        &["search", "--analyze", "from:alice"],
        &["thread", "--format", "tree"],
        &["contacts", "list"],
        &["keys", "list"],
        &["keys", "learn"],
        &["keys", "recommend", "alice@example.org"],
        &["keys", "discover", "--dry-run", "alice@example.org"],
        &["config", "show"],
    ];
    for args in commands {
        let mut command = home.missive_std();
        command.args(*args);
        let (code, stderr) = into_closed_pipe(command, records.clone());
        // Warnings about the messages read may come; nothing about the pipe.
        assert_eq!(code, 0, "missive {}: {stderr}", args.join(" "));
        assert!(
            !stderr.contains("Broken pipe") && !stderr.contains("panicked"),
            "missive {}: {stderr}",
            args.join(" ")
        );
    }
}
