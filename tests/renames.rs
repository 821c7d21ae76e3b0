//! A mail reader renaming Maildir files (issue 16): `sync` follows a file from `new/` to
//! `cur/` and through flag changes by its unique name, marks a deleted one gone, keeps a
//! file name that is not UTF-8 byte for byte; `index --rebuild` keeps every body it had
//! and reads only files the store owns; `fetch` and `sync` each keep their own state.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Home, run};

/// A home whose one account `mail` is the Maildir `mail/`.
fn maildir_home() -> Home {
    let home = Home::new();
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"maildir:{}\"\n",
        home.path().join("mail").display()
    ));
    for dir in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(home.path().join("mail").join(dir)).unwrap();
    }
    home
}

/// Delivers a message saying `word` into `new/` under the file name `name` (bytes).
fn deliver(home: &Home, name: &[u8], word: &str) -> PathBuf {
    let path = home.path().join("mail/new").join(OsStr::from_bytes(name));
    std::fs::write(
        &path,
        format!(
            "From: alice@example.org\nTo: sam@example.com\nSubject: about {word}\n\
             Message-ID: <{word}@example.org>\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n\n\
             The {word} is ready.\n"
        ),
    )
    .unwrap();
    path
}

/// Runs `sync` and returns its summary line.
fn sync(home: &Home) -> String {
    let output = home.missive().arg("sync").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

fn search(home: &Home, query: &str) -> Vec<Value> {
    let (code, records, stderr) = run(home.missive().args(["search", "--", query]));
    assert_eq!(code, 0, "{query}: {stderr}");
    records
}

fn flags(record: &Value) -> Vec<&str> {
    record["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

#[test]
fn sync_follows_a_mail_reader_renaming_and_deleting_files() {
    let home = maildir_home();
    let first = deliver(&home, b"1700000001.M1P1.host", "zucchini");
    deliver(&home, b"1700000002.M2P2.host", "pumpkin");
    assert!(sync(&home).starts_with("missive sync: 2 new messages"));
    assert!(search(&home, "is:seen").is_empty());
    let id = search(&home, "zucchini")[0]["id"].clone();

    // Read in mutt: new/ → cur/ with the seen flag.
    let seen = home.path().join("mail/cur/1700000001.M1P1.host:2,S");
    std::fs::rename(&first, &seen).unwrap();
    let line = sync(&home);
    assert!(line.starts_with("missive sync: 0 new messages"), "{line}");
    assert!(line.contains("1 renamed"), "{line}");
    let found = search(&home, "is:seen");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], id, "the same record");
    assert_eq!(flags(&found[0]), ["seen"]);
    assert_eq!(found[0]["source"]["path"], seen.to_str().unwrap());
    assert_eq!(search(&home, "is:unread").len(), 1, "the other one");

    // Replied to: the flags change, the name with them.
    let answered = home.path().join("mail/cur/1700000001.M1P1.host:2,RS");
    std::fs::rename(&seen, &answered).unwrap();
    sync(&home);
    let found = search(&home, "is:answered");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(flags(&found[0]), ["answered", "seen"]);
    assert_eq!(search(&home, "is:seen").len(), 1, "still one record");

    // Deleted: the record stays, marked gone from its source.
    std::fs::remove_file(&answered).unwrap();
    let line = sync(&home);
    assert!(line.contains("1 gone from the source"), "{line}");
    let found = search(&home, "zucchini");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["source"]["gone"], true, "{:?}", found[0]);
    assert_eq!(search(&home, "pumpkin")[0]["source"].get("gone"), None);

    // A rebuild keeps the words of a message whose file is gone.
    let (code, _, stderr) = run(home.missive().args(["index", "--rebuild"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("raw message gone"), "{stderr}");
    assert_eq!(search(&home, "body:zucchini").len(), 1, "body words kept");
    assert_eq!(search(&home, "body:pumpkin").len(), 1);
    assert_eq!(search(&home, "is:answered").len(), 1);

    // Put back, it is no longer gone.
    std::fs::write(
        home.path().join("mail/cur/1700000001.M1P1.host:2,S"),
        b"From: alice@example.org\nTo: sam@example.com\nSubject: about zucchini\n\
          Message-ID: <zucchini@example.org>\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n\n\
          The zucchini is ready.\n",
    )
    .unwrap();
    sync(&home);
    let found = search(&home, "zucchini");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["source"].get("gone"), None, "{:?}", found[0]);
}

/// The store's indexes, by name and SQL.
fn store_indexes(home: &Home) -> Vec<(String, String)> {
    let connection = rusqlite::Connection::open(home.store().join("state.sqlite")).unwrap();
    let mut statement = connection
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_first_sync_leaves_the_indexes_a_new_store_has() {
    let home = maildir_home();
    let (code, _, stderr) = run(home.missive().args(["search", "--", "anything"]));
    assert_eq!(code, 0, "{stderr}");
    let new_store = store_indexes(&home);
    assert!(
        new_store
            .iter()
            .any(|(name, _)| name == "local_file_by_blob"),
        "{new_store:?}"
    );
    deliver(&home, b"1700000005.M5P5.host", "turnip");
    sync(&home);
    assert_eq!(
        store_indexes(&home),
        new_store,
        "made again after the first load"
    );
}

#[test]
fn a_rebuild_reads_a_renamed_file_where_it_is_now() {
    let home = maildir_home();
    let file = deliver(&home, b"1700000003.M3P3.host", "cabbage");
    sync(&home);
    // The index says new/; the file is in cur/ now, and sync saw it move.
    std::fs::rename(
        &file,
        home.path().join("mail/cur/1700000003.M3P3.host:2,FS"),
    )
    .unwrap();
    sync(&home);
    let (code, _, stderr) = run(home.missive().args(["index", "--rebuild"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "read again, nothing gone: {stderr}");
    let found = search(&home, "body:cabbage");
    assert_eq!(found.len(), 1);
    assert_eq!(flags(&found[0]), ["flagged", "seen"]);
}

/// Pipes into `index` a record named `id` whose source (of `kind`) is the file `path`, as
/// anyone can.
fn index_forged_record(home: &Home, id: &str, kind: &str, path: &str) {
    let record = format!(
        "{{\"kind\":\"message\",\"v\":1,\"id\":\"{id}\",\"protocol\":\"email\",\"account\":\"mail\",\"source\":{{\"kind\":\"{kind}\",\"path\":\"{path}\"}},\"blob\":\"sha256:00\",\"native_id\":\"<{id}@x>\",\"subject\":\"piped\"}}\n"
    );
    home.missive()
        .arg("index")
        .write_stdin(record)
        .assert()
        .success();
}

/// A private mail outside every source of `home`.
fn private_file_outside_the_sources(home: &Home) -> PathBuf {
    home.write(
        "elsewhere/private.eml",
        b"From: someone@example.org\nSubject: private\nMessage-ID: <p@x>\n\nconfidential words\n",
    )
}

/// `index --rebuild` exits 1, naming each forged record (id, path) it would not read.
fn rebuild_refuses(home: &Home, forged: &[(&str, &str)]) {
    let (code, _, stderr) = run(home.missive().args(["index", "--rebuild"]));
    assert_eq!(code, 1, "{stderr}");
    for (id, path) in forged {
        assert!(
            stderr.contains(&format!("record {id} names {path}, outside the archive")),
            "{stderr}"
        );
    }
}

#[test]
fn a_rebuild_refuses_a_file_the_store_does_not_own() {
    let home = maildir_home();
    deliver(&home, b"1700000004.M4P4.host", "turnip");
    sync(&home);
    let outside = private_file_outside_the_sources(&home);
    let forged = [
        ("m_forged1", outside.to_str().unwrap()),
        ("m_forged2", "/etc/passwd"),
    ];
    for (id, path) in forged {
        index_forged_record(&home, id, "eml", path);
    }
    rebuild_refuses(&home, &forged);
    assert!(search(&home, "confidential").is_empty(), "not read");
    assert!(search(&home, "root").is_empty(), "not read");
    assert_eq!(search(&home, "subject:piped").len(), 2, "kept as indexed");
    assert_eq!(
        search(&home, "body:turnip").len(),
        1,
        "its own mail read again"
    );
}

#[test]
fn a_rebuild_reads_the_archive_copy_of_a_deleted_maildir_file() {
    let home = maildir_home();
    let file = deliver(&home, b"1700000007.M7P7.host", "artichoke");
    let raw = std::fs::read(&file).unwrap();
    sync(&home);
    // The same mail also came through a delivery hook (`fetch eml:-`), which archives it: the
    // archive holds a copy of the Maildir file's bytes.
    home.missive()
        .args(["fetch", "eml:-"])
        .write_stdin(raw)
        .assert()
        .success();
    std::fs::remove_file(&file).unwrap();
    assert!(sync(&home).contains("1 gone from the source"));

    let (code, _, stderr) = run(home.missive().args(["index", "--rebuild"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains("raw message gone"),
        "read from the archive: {stderr}"
    );
    assert!(stderr.is_empty(), "{stderr}");
    let found = search(&home, "body:artichoke");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0]["source"]["path"],
        file.to_str().unwrap(),
        "the same record"
    );
}

#[test]
fn a_rebuild_refuses_a_path_inside_a_source_that_leads_out_of_it() {
    let home = maildir_home();
    deliver(&home, b"1700000008.M8P8.host", "fennel");
    sync(&home);
    let outside = private_file_outside_the_sources(&home);
    // A link in the source's cur/ to the file outside, and a path that climbs out by `..`.
    let link = home.path().join("mail/cur/1700000009.M9P9.host:2,S");
    std::os::unix::fs::symlink(&outside, &link).unwrap();
    let climbing = home.path().join("mail/cur/../../elsewhere/private.eml");
    assert!(
        climbing.starts_with(home.path().join("mail")),
        "inside, as written"
    );
    let forged = [
        ("m_linked", link.to_str().unwrap()),
        ("m_climbing", climbing.to_str().unwrap()),
    ];
    for (id, path) in forged {
        index_forged_record(&home, id, "maildir", path);
    }
    rebuild_refuses(&home, &forged);
    assert!(search(&home, "confidential").is_empty(), "not read");
    assert!(search(&home, "body:confidential").is_empty(), "not read");
    assert_eq!(search(&home, "subject:piped").len(), 2, "kept as indexed");
    assert_eq!(
        search(&home, "body:fennel").len(),
        1,
        "its own mail read again"
    );
}

/// The path a record names, `hex:` decoded.
fn record_path(record: &Value) -> PathBuf {
    let text = record["source"]["path"].as_str().unwrap();
    match text.strip_prefix("hex:") {
        Some(hex) => {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap())
                .collect();
            PathBuf::from(OsStr::from_bytes(&bytes))
        }
        None => PathBuf::from(text),
    }
}

#[test]
fn a_file_name_that_is_not_utf8_is_kept_byte_for_byte() {
    let home = maildir_home();
    // Two names that read the same once made UTF-8 lossily.
    let latin = deliver(&home, b"1700000005.caf\xe9", "radish");
    let other = deliver(&home, b"1700000005.caf\xe8", "parsnip");
    let (code, records, stderr) = run(home.missive().args(["fetch", "mail"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 2);
    let mut paths: Vec<PathBuf> = records.iter().map(record_path).collect();
    paths.sort();
    let mut expected = vec![latin.clone(), other];
    expected.sort();
    assert_eq!(paths, expected, "{records:?}");

    sync(&home);
    let renamed = home
        .path()
        .join("mail/cur")
        .join(OsStr::from_bytes(b"1700000005.caf\xe9:2,S"));
    std::fs::rename(&latin, &renamed).unwrap();
    assert!(sync(&home).contains("1 renamed"));
    let found = search(&home, "is:seen");
    assert_eq!(found.len(), 1);
    assert_eq!(record_path(&found[0]), renamed);
    let (code, _, stderr) = run(home.missive().args(["index", "--rebuild"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "both read again: {stderr}");
    assert_eq!(search(&home, "body:radish").len(), 1);
    assert_eq!(search(&home, "body:parsnip").len(), 1);
}

fn fetched(home: &Home) -> Vec<Value> {
    let (code, records, stderr) = run(home.missive().args(["fetch", "mail"]));
    assert_eq!(code, 0, "{stderr}");
    records
}

fn indexed(home: &Home) -> usize {
    search(home, "protocol:email").len()
}

#[test]
fn a_fetch_to_a_file_then_sync_leaves_the_index_complete() {
    let home = maildir_home();
    deliver(&home, b"1", "leek");
    deliver(&home, b"2", "onion");
    assert_eq!(fetched(&home).len(), 2);
    let line = sync(&home);
    assert!(line.starts_with("missive sync: 2 new messages"), "{line}");
    assert_eq!(indexed(&home), 2);
    assert!(fetched(&home).is_empty(), "fetch keeps its own state");
}

#[test]
fn a_sync_then_fetch_prints_everything_once() {
    let home = maildir_home();
    deliver(&home, b"1", "leek");
    deliver(&home, b"2", "onion");
    assert!(sync(&home).starts_with("missive sync: 2 new messages"));
    assert_eq!(
        fetched(&home).len(),
        2,
        "what sync read is not hidden from fetch"
    );
    assert!(fetched(&home).is_empty());
    deliver(&home, b"3", "garlic");
    assert!(sync(&home).starts_with("missive sync: 1 new message "));
    assert_eq!(indexed(&home), 3);
    assert_eq!(fetched(&home).len(), 1);
}

#[test]
fn two_fetches_at_once_print_each_message_once() {
    let home = maildir_home();
    for n in 0..300 {
        deliver(&home, format!("{n}.M{n}.host").as_bytes(), &format!("w{n}"));
    }
    let bin = assert_cmd::cargo::cargo_bin("missive");
    // Into files, not pipes: a run holding the source's lock must never wait on a pipe
    // nobody reads yet.
    let output = |n: usize| home.path().join(format!("fetched-{n}"));
    let start = |n: usize| {
        std::process::Command::new(&bin)
            .args(["fetch", "mail"])
            .env_clear()
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("MISSIVE_STORE", home.store())
            .stdin(std::process::Stdio::null())
            .stdout(std::fs::File::create(output(n)).unwrap())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap()
    };
    // The store exists first, so both start on an even footing.
    assert!(search(&home, "x").is_empty());
    let runs = [start(0), start(1)];
    let mut lines = 0;
    for (n, mut child) in runs.into_iter().enumerate() {
        assert_eq!(child.wait().unwrap().code(), Some(0));
        let printed = std::fs::read(output(n)).unwrap();
        lines += printed
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
    }
    assert_eq!(lines, 300, "each message printed once between the two");
}

#[test]
fn a_path_is_written_as_it_is_when_it_is_utf8() {
    let home = maildir_home();
    let path = deliver(&home, "1700000006.été".as_bytes(), "kale");
    let records = fetched(&home);
    assert_eq!(records[0]["source"]["path"], path.to_str().unwrap());
    assert_eq!(record_path(&records[0]), Path::new(&path));
}
