//! Real exports as people have them (issue 18): an exported message is what its platform
//! says it is, whatever the file is called; signal-cli as it runs today; Element's
//! captions and zips; every layout of Facebook's export.

use std::path::Path;

use serde_json::Value;

use crate::support::exports::{self, Export};
use crate::support::{Home, run};

/// `missive fetch [FLAGS] SOURCE`: exit code, records, stderr.
fn fetch(home: &Home, flags: &[&str], source: &str) -> (i32, Vec<Value>, String) {
    run(home.missive().arg("fetch").args(flags).arg(source))
}

fn by_native_id<'a>(records: &'a [Value], native_id: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["native_id"] == native_id)
        .unwrap_or_else(|| panic!("no record {native_id} in {records:#?}"))
}

fn native_ids(records: &[Value]) -> Vec<&str> {
    let mut ids: Vec<&str> = records
        .iter()
        .map(|r| r["native_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

fn copy(from: &Path, to: &Path) -> String {
    std::fs::copy(from, to).unwrap();
    to.display().to_string()
}

#[test]
fn a_new_download_of_an_export_prints_only_its_new_messages() {
    let home = Home::new();
    let first = exports::twitter_dms(5).write_zip(&home.path().join("twitter.zip"));
    let source = |path: &str| format!("twitter-archive:{path}");
    let (code, records, stderr) = fetch(&home, &[], &source(&first.display().to_string()));
    assert_eq!((code, records.len()), (0, 5), "{stderr}");
    assert!(
        records.iter().all(|r| r["account"] == "twitter:1001"),
        "the archive's owner, not its path: {records:#?}"
    );

    // The same archive under the name of a later download: nothing new.
    let renamed = copy(&first, &home.path().join("twitter-2023-08-20.zip"));
    let (code, again, stderr) = fetch(&home, &[], &source(&renamed));
    assert_eq!(code, 0, "{stderr}");
    assert!(again.is_empty(), "{again:#?}");

    // A later download holds three more messages: exactly those are printed.
    let later = exports::twitter_dms(8)
        .write_dir(&home.path().join("twitter-2023-09-01"))
        .display()
        .to_string();
    let (code, new, stderr) = fetch(&home, &[], &source(&later));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(native_ids(&new), ["9005", "9006", "9007"]);

    // Printed again (--all), every message keeps the id it had.
    let (_, all, _) = fetch(&home, &["--all"], &source(&later));
    for record in &records {
        assert_eq!(
            by_native_id(&all, record["native_id"].as_str().unwrap())["id"],
            record["id"]
        );
    }
}

#[test]
fn a_copy_of_a_signal_capture_prints_nothing_and_a_longer_one_only_its_new_lines() {
    let home = Home::new();
    let first = home.write("signal.jsonl", exports::signal_lines(4).as_bytes());
    let (code, records, stderr) = fetch(&home, &[], &format!("signal:{}", first.display()));
    assert_eq!((code, records.len()), (0, 4), "{stderr}");
    assert!(
        records
            .iter()
            .all(|r| r["account"] == "signal:+33600000000")
    );

    let copied = copy(&first, &home.path().join("signal-copy.jsonl"));
    let (code, again, stderr) = fetch(&home, &[], &format!("signal:{copied}"));
    assert_eq!(code, 0, "{stderr}");
    assert!(again.is_empty(), "{again:#?}");
    let (code, piped, stderr) = run(home
        .missive()
        .args(["fetch", "signal:-"])
        .write_stdin(exports::signal_lines(4)));
    assert_eq!(code, 0, "{stderr}");
    assert!(piped.is_empty(), "{piped:#?}");

    let longer = home.write("signal-later.jsonl", exports::signal_lines(7).as_bytes());
    let (code, new, stderr) = fetch(&home, &[], &format!("signal:{}", longer.display()));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        native_ids(&new),
        [
            "uuid-bob/1692000004000",
            "uuid-bob/1692000005000",
            "uuid-bob/1692000006000"
        ]
    );
}

#[test]
fn every_platform_s_export_copied_to_a_new_name_prints_nothing() {
    for (kind, export) in [
        ("twitter-archive", exports::twitter()),
        ("facebook-export", exports::facebook()),
        ("matrix-export", exports::matrix()),
    ] {
        let home = Home::new();
        let zip = export.write_zip(&home.path().join(format!("{kind}.zip")));
        let (code, first, stderr) = fetch(&home, &[], &format!("{kind}:{}", zip.display()));
        assert_eq!(code, 0, "{kind}: {stderr}");
        assert!(!first.is_empty(), "{kind}");
        let renamed = copy(&zip, &home.path().join(format!("{kind}-2023-08-20.zip")));
        let (code, again, stderr) = fetch(&home, &[], &format!("{kind}:{renamed}"));
        assert_eq!(code, 0, "{kind}: {stderr}");
        assert!(again.is_empty(), "{kind}: {again:#?}");
        // Unzipped elsewhere, too.
        let dir = export.write_dir(&home.path().join(format!("{kind}-unzipped")));
        let (code, again, stderr) = fetch(&home, &[], &format!("{kind}:{}", dir.display()));
        assert_eq!(code, 0, "{kind}: {stderr}");
        assert!(again.is_empty(), "{kind} unzipped: {again:#?}");
    }
}

#[test]
fn signal_cli_json_rpc_subscriptions_are_read_and_edits_update_their_message() {
    let home = Home::new();
    let path = home.write("rpc.jsonl", exports::signal_json_rpc().as_bytes());
    let source = format!("signal:{}", path.display());
    let (code, records, stderr) = fetch(&home, &[], &source);
    assert_eq!(code, 0, "{stderr}");
    // Two messages, each printed as sent and as edited; the typing notice is none.
    assert_eq!(records.len(), 4, "{records:#?}");
    let bob: Vec<&Value> = records
        .iter()
        .filter(|r| r["native_id"] == "uuid-bob/1692000000000")
        .collect();
    assert_eq!(bob.len(), 2, "{records:#?}");
    let (sent, edited) = (bob[0], bob[1]);
    assert_eq!(sent["text"], "see you at 8");
    assert_eq!(sent.get("edited"), None);
    assert_eq!(edited["text"], "see you at 9");
    assert_eq!(
        edited["id"], sent["id"],
        "an edit updates the record it edits"
    );
    assert_eq!(edited["date"], sent["date"]);
    assert_eq!(edited["edited"], "2023-08-14T08:02:00Z");
    assert_eq!(edited["to"][0]["address"], "+33600000000");
    assert_ne!(edited["blob"], sent["blob"]);
    // The first text stays in the archive, in the blob the first record names.
    let first_blob = std::fs::read_to_string(sent["source"]["path"].as_str().unwrap()).unwrap();
    assert!(first_blob.contains("see you at 8"), "{first_blob}");

    let mine: Vec<&Value> = records
        .iter()
        .filter(|r| r["native_id"] == "uuid-me/1692000180000")
        .collect();
    assert_eq!(mine.len(), 2, "{records:#?}");
    assert_eq!(mine[1]["text"], "ok, 9 it is");
    assert_eq!(mine[1]["id"], mine[0]["id"]);
    assert_eq!(mine[1]["to"][0]["address"], "+33611111111");

    // Read again (a copy, or the capture touched): nothing new, the edits included.
    let copied = copy(&path, &home.path().join("rpc-copy.jsonl"));
    let (code, again, stderr) = fetch(&home, &[], &format!("signal:{copied}"));
    assert_eq!(code, 0, "{stderr}");
    assert!(again.is_empty(), "{again:#?}");

    // The index holds the message as edited.
    let output = home
        .missive()
        .args(["fetch", "--all", &source])
        .output()
        .unwrap();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(output.stdout));
    assert_eq!(code, 0, "{stderr}");
    let (code, found, stderr) = run(home.missive().args(["search", "--", "9"]));
    assert_eq!(code, 0, "{stderr}");
    let texts: Vec<&str> = found.iter().filter_map(|r| r["edited"].as_str()).collect();
    assert_eq!(texts.len(), 2, "{found:#?}");
}

#[test]
fn a_signal_line_without_account_is_addressed_to_its_destination_or_the_capture_s_account() {
    let home = Home::new();
    let path = home.write("old.jsonl", exports::signal_without_account().as_bytes());
    let (code, records, stderr) = fetch(&home, &[], &format!("signal:{}", path.display()));
    assert_eq!((code, records.len()), (0, 2), "{stderr}");
    let first = by_native_id(&records, "uuid-bob/1692000300000");
    assert_eq!(
        first["to"][0]["address"], "+33600000000",
        "the envelope's destination"
    );
    let second = by_native_id(&records, "+33611111111/1692000360000");
    assert_eq!(
        second["to"][0]["address"], "+33600000000",
        "the capture's account"
    );
    assert!(
        records
            .iter()
            .all(|r| r["account"] == "signal:+33600000000")
    );

    // A line that names no account in a capture that names none is told, not left blank.
    let lone = home.write(
        "lone.jsonl",
        exports::signal_without_account()
            .lines()
            .nth(1)
            .unwrap()
            .as_bytes(),
    );
    let (code, records, stderr) = fetch(&home, &["--all"], &format!("signal:{}", lone.display()));
    assert_eq!((code, records.len()), (0, 1), "{stderr}");
    assert_eq!(records[0]["to"], serde_json::json!([]));
    assert_eq!(records[0]["account"], "signal");
    assert!(stderr.contains("names the account"), "{stderr}");
}

#[test]
fn a_signal_line_naming_no_account_in_a_configured_capture_is_to_the_account_s_number() {
    let home = Home::new();
    let lone = exports::signal_without_account()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let path = home.write("phone.jsonl", lone.as_bytes());
    home.write_config(&format!(
        "[accounts.phone]\nsource = \"signal:{}\"\nnumber = \"+33622222222\"\n",
        path.display()
    ));
    for source in ["phone".to_string(), format!("signal:{}", path.display())] {
        let (code, records, stderr) = fetch(&home, &["--all"], &source);
        assert_eq!((code, records.len()), (0, 1), "{source}: {stderr}");
        assert_eq!(records[0]["to"][0]["address"], "+33622222222", "{source}");
        assert_eq!(records[0]["account"], "phone", "{source}");
        assert!(
            records[0]["problems"].as_array().is_none_or(Vec::is_empty),
            "{records:#?}"
        );
        assert!(!stderr.contains("names the account"), "{source}: {stderr}");
    }

    // Only a signal: account has a number, and it is one.
    home.write_config("[accounts.mail]\nsource = \"maildir:/m\"\nnumber = \"+1\"\n");
    let (code, _, stderr) = run(home.missive().args(["config", "check"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("number is for signal: accounts"),
        "{stderr}"
    );
    home.write_config(&format!(
        "[accounts.phone]\nsource = \"signal:{}\"\nnumber = \"0622222222\"\n",
        path.display()
    ));
    let (code, _, stderr) = run(home.missive().args(["config", "check"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a phone number"), "{stderr}");
}

#[test]
fn an_element_caption_is_the_text_and_a_json_file_among_the_media_is_no_room() {
    let home = Home::new();
    let zip = exports::matrix_zip_with_media().write_zip(&home.path().join("element.zip"));
    let source = format!("matrix-export:{}", zip.display());
    let (code, records, stderr) = fetch(&home, &[], &source);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 3, "{records:#?}");
    let cat = by_native_id(&records, "$media-1");
    assert_eq!(cat["text"], "our cat, asleep");
    assert_eq!(cat["attachments"][0]["filename"], "cat.png");
    let notes = by_native_id(&records, "$media-2");
    assert_eq!(
        notes["text"], "",
        "a body that is the file name is no caption"
    );
    assert_eq!(notes["attachments"][0]["filename"], "notes.json");
    let dog = by_native_id(&records, "$media-3");
    assert_eq!(dog["text"], "", "no filename: the body is the file name");
    assert_eq!(dog["attachments"][0]["filename"], "dog.png");

    // The fetch completed: the zip is done with, and nothing comes again.
    let (code, again, stderr) = fetch(&home, &[], &source);
    assert_eq!(code, 0, "{stderr}");
    assert!(again.is_empty(), "{again:#?}");
}

#[test]
fn every_facebook_layout_is_read_and_what_is_skipped_is_named() {
    let home = Home::new();
    let dir = exports::facebook_layouts().write_dir(&home.path().join("fb"));
    let (code, records, stderr) = fetch(&home, &[], &format!("facebook-export:{}", dir.display()));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        native_ids(&records),
        [
            "filtered_threads/dan_40/1692000000000/Bob Martin",
            "inbox/bob_50/1692000000000/Bob Martin",
            "inbox/bob_60/1500000000000/Bob Martin",
            "message_requests/carol_30/1692000000000/Bob Martin",
        ]
    );
    for record in &records {
        assert_eq!(record["to"][0]["address"], "Alice Example", "{record:#?}");
        assert_eq!(record["account"], "facebook");
    }
    assert_eq!(
        by_native_id(&records, "inbox/bob_60/1500000000000/Bob Martin")["text"],
        "in 2017"
    );
    assert!(
        stderr.contains("autofill_information.json skipped")
            && stderr.contains("ai_conversations/meta_70/message_1.json skipped"),
        "{stderr}"
    );

    // An export holding only message requests is a Facebook export all the same.
    let requests = Export::default().with(
        "messages/message_requests/erin_80/message_1.json",
        exports::facebook_thread("message_requests/erin_80", "hello?"),
    );
    let zip = requests.write_zip(&home.path().join("requests.zip"));
    let (code, records, stderr) = fetch(&home, &[], &format!("facebook-export:{}", zip.display()));
    assert_eq!((code, records.len()), (0, 1), "{stderr}");
    assert_eq!(records[0]["text"], "hello?");
}
