//! `missive fetch` of platform exports (issue 8): Twitter/X archives, Facebook exports,
//! signal-cli output and Element's Matrix exports, zipped and not, mapped to message records,
//! scored for what each platform exposes, fetched once, and bad ones reported by name.

use std::path::Path;

use serde_json::Value;

use crate::support::exports::{self, Export};
use crate::support::{Home, run};

/// `missive fetch SOURCE`: exit code, records, stderr.
fn fetch(home: &Home, source: &str) -> (i32, Vec<Value>, String) {
    run(home.missive().args(["fetch", source]))
}

/// `missive fetch --all SOURCE`: the same export at another path prints nothing new
/// (DESIGN.md §2), so a second layout of it is compared in full this way.
fn fetch_all(home: &Home, source: &str) -> (i32, Vec<Value>, String) {
    run(home.missive().args(["fetch", "--all", source]))
}

fn by_native_id<'a>(records: &'a [Value], native_id: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["native_id"] == native_id)
        .unwrap_or_else(|| panic!("no record {native_id} in {records:#?}"))
}

fn addresses(list: &Value) -> Vec<&str> {
    let mut found: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    found.sort_unstable();
    found
}

/// The export laid out as a directory and as a zip under `home`, as sources of `kind`.
fn both(home: &Home, kind: &str, export: &Export) -> [String; 2] {
    let dir = export.write_dir(&home.path().join(format!("{kind}-dir")));
    let zip = export.write_zip(&home.path().join(format!("{kind}.zip")));
    [
        format!("{kind}:{}", dir.display()),
        format!("{kind}:{}", zip.display()),
    ]
}

/// The records without what depends on where they were read from.
fn portable(records: &[Value]) -> Vec<Value> {
    let mut records: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            for field in ["id", "account", "source"] {
                r.as_object_mut().unwrap().remove(field);
            }
            r
        })
        .collect();
    records.sort_by_key(|r| r["native_id"].to_string());
    records
}

#[test]
fn a_twitter_archive_maps_every_field_zipped_or_not() {
    let home = Home::new();
    let [dir, zip] = both(&home, "twitter-archive", &exports::twitter());
    let (code, records, stderr) = fetch(&home, &dir);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 3, "{records:#?}");

    let first = by_native_id(&records, "5001");
    assert_eq!(first["protocol"], "twitter");
    assert_eq!(first["from"]["address"], "2002");
    assert_eq!(first["to"][0]["address"], "@aliceexample");
    assert_eq!(first["to"][0]["name"], "Alice");
    assert_eq!(first["date"], "2023-03-01T10:00:00Z");
    assert_eq!(first["text"], "look https://example.org/page");
    assert_eq!(first["attachments"][0]["filename"], "photo.jpg");
    assert_eq!(first["attachments"][0]["content_type"], "image/jpeg");
    assert_eq!(first["attachments"][0]["size"], 5);
    assert_eq!(first["reactions"][0]["from"], "@aliceexample");
    assert_eq!(first["reactions"][0]["reaction"], "like");
    assert_eq!(first["security"]["encryption"], "none");
    assert_eq!(first["source"]["kind"], "twitter-archive");
    assert_eq!(first["source"]["entry"], "data/direct-messages.js");
    assert!(first["id"].as_str().unwrap().starts_with("m_"));
    assert!(first["blob"].as_str().unwrap().starts_with("sha256:"));

    let reply = by_native_id(&records, "5002");
    assert_eq!(reply["from"]["address"], "@aliceexample");
    assert_eq!(addresses(&reply["to"]), ["2002"]);

    let group = by_native_id(&records, "6001");
    assert_eq!(
        group["from"]["address"], "@carolsings",
        "named by a tweet's mention"
    );
    assert_eq!(group["from"]["name"], "Carol");
    assert_eq!(addresses(&group["to"]), ["2002", "@aliceexample"]);

    let (code, zipped, stderr) = fetch_all(&home, &zip);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(portable(&zipped), portable(&records));
    assert_eq!(
        zipped[0]["source"]["export"],
        zip.split_once(':').unwrap().1
    );
}

#[test]
fn importing_the_same_archive_twice_adds_nothing() {
    for (kind, export) in [
        ("twitter-archive", exports::twitter()),
        ("facebook-export", exports::facebook()),
        ("matrix-export", exports::matrix()),
    ] {
        for layout in 0..2 {
            let home = Home::new();
            let source = both(&home, kind, &export)[layout].clone();
            let (code, first, stderr) = fetch(&home, &source);
            assert_eq!(code, 0, "{source}: {stderr}");
            assert!(!first.is_empty(), "{source}");
            let (code, again, stderr) = fetch(&home, &source);
            assert_eq!(code, 0, "{stderr}");
            assert!(again.is_empty(), "{source}: {again:#?}");
            // Even when the files were touched and so are read again.
            let path = source.split_once(':').unwrap().1;
            touch(Path::new(path));
            let (_, again, _) = fetch(&home, &source);
            assert!(again.is_empty(), "{source} touched: {again:#?}");
            // --all prints them again, with the same ids.
            let (_, all, _) = run(home.missive().args(["fetch", "--all", &source]));
            let ids = |records: &[Value]| {
                let mut ids: Vec<String> = records.iter().map(|r| r["id"].to_string()).collect();
                ids.sort();
                ids
            };
            assert_eq!(ids(&all), ids(&first), "{source}");
        }
    }
}

/// Changes the mtime of a file, or of every file under a directory.
fn touch(path: &Path) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            touch(&entry.unwrap().path());
        }
    } else {
        let bytes = std::fs::read(path).unwrap();
        std::fs::write(path, [bytes.as_slice(), b" "].concat()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
}

#[test]
fn a_facebook_export_is_repaired_and_keeps_reactions_and_shares() {
    let home = Home::new();
    let [dir, zip] = both(&home, "facebook-export", &exports::facebook());
    let (code, records, stderr) = fetch(&home, &dir);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 3, "{records:#?}");

    let bob = by_native_id(&records, "inbox/bobmartin_10/1677664800000/Bob Martin");
    assert_eq!(bob["protocol"], "facebook");
    assert_eq!(bob["text"], "café ce soir ?");
    assert_eq!(bob["from"]["address"], "Bob Martin");
    assert_eq!(bob["from"]["name"], "Bob Martin");
    assert_eq!(addresses(&bob["to"]), ["Alice Example"]);
    assert_eq!(bob["date"], "2023-03-01T10:00:00Z");
    assert_eq!(bob["reactions"][0]["reaction"], "❤");
    assert_eq!(bob["reactions"][0]["from"], "Alice Example");
    assert_eq!(bob["attachments"][0]["filename"], "p1.jpg");
    assert_eq!(bob["attachments"][0]["size"], 7);

    let share = by_native_id(&records, "inbox/bobmartin_10/1677664860000/Alice Example");
    assert_eq!(share["share"]["link"], "https://example.org/menu");
    assert_eq!(share["share"]["share_text"], "Le menu");

    let group = by_native_id(&records, "inbox/friends_20/1677751200000/Carol Dürr");
    assert_eq!(group["text"], "Salut à tous");
    assert_eq!(group["from"]["name"], "Carol Dürr");
    assert_eq!(addresses(&group["to"]), ["Alice Example", "Bob Martin"]);

    let (code, zipped, stderr) = fetch_all(&home, &zip);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(portable(&zipped), portable(&records));
}

#[test]
fn signal_cli_output_is_end_to_end_encrypted_with_quotes_as_replies() {
    let home = Home::new();
    let path = home.write("signal.jsonl", exports::signal().as_bytes());
    let (code, records, stderr) = fetch(&home, &format!("signal:{}", path.display()));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 3, "the receipt is no message: {records:#?}");
    for record in &records {
        assert_eq!(record["protocol"], "signal");
        assert_eq!(record["security"]["encryption"], "protocol-e2e");
    }
    let first = by_native_id(&records, "uuid-bob/1677664800000");
    assert_eq!(first["from"]["address"], "+33611111111");
    assert_eq!(first["from"]["name"], "Bob");
    assert_eq!(addresses(&first["to"]), ["+33600000000"]);
    assert_eq!(first["text"], "salut");
    assert_eq!(first["date"], "2023-03-01T10:00:00Z");
    assert_eq!(first["attachments"][0]["filename"], "a.jpg");
    assert_eq!(first["attachments"][0]["content_type"], "image/jpeg");
    assert_eq!(first["attachments"][0]["size"], 1234);

    let reply = by_native_id(&records, "uuid-me/1677664900000");
    assert_eq!(reply["from"]["address"], "+33600000000");
    assert_eq!(addresses(&reply["to"]), ["+33611111111"]);
    assert_eq!(reply["in_reply_to"][0], "uuid-bob/1677664800000");

    let group = by_native_id(&records, "uuid-carol/1677665000000");
    assert_eq!(addresses(&group["to"]), ["group:R3JvdXBJZA=="]);

    // The same lines on standard input are the same messages: all of them with --all,
    // then nothing.
    let (code, piped, stderr) = run(home
        .missive()
        .args(["fetch", "--all", "signal:-"])
        .write_stdin(exports::signal()));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(portable(&piped), portable(&records));
    let (_, again, _) = run(home
        .missive()
        .args(["fetch", "signal:-"])
        .write_stdin(exports::signal()));
    assert!(again.is_empty(), "{again:#?}");
}

#[test]
fn a_matrix_room_is_encrypted_only_when_its_export_shows_encryption() {
    let home = Home::new();
    let [dir, zip] = both(&home, "matrix-export", &exports::matrix());
    let (code, records, stderr) = fetch(&home, &dir);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        records.len(),
        6,
        "state events are no messages: {records:#?}"
    );

    let hello = by_native_id(&records, "$enc-1");
    assert_eq!(hello["protocol"], "matrix");
    assert_eq!(hello["from"]["address"], "@bob:example.org");
    assert_eq!(hello["from"]["name"], "Bob");
    assert_eq!(addresses(&hello["to"]), ["@alice:example.org"]);
    assert_eq!(hello["date"], "2023-03-01T10:00:00Z");
    assert_eq!(hello["text"], "hello");
    assert_eq!(hello["room"]["name"], "Bob (encrypted)");
    assert_eq!(hello["security"]["encryption"], "protocol-e2e");

    let reply = by_native_id(&records, "$enc-2");
    assert_eq!(reply["in_reply_to"][0], "$enc-1");
    assert_eq!(reply["text"], "hi Bob");

    let image = by_native_id(&records, "$enc-3");
    assert_eq!(image["attachments"][0]["filename"], "cat.png");
    assert_eq!(image["attachments"][0]["content_type"], "image/png");
    assert_eq!(image["attachments"][0]["size"], 2048);

    let open = by_native_id(&records, "$open-1");
    assert_eq!(open["security"]["encryption"], "none");

    let single = home.write(
        "room.json",
        exports::matrix_room("Solo", "solo", true).as_bytes(),
    );
    let (code, solo, stderr) = fetch(&home, &format!("matrix-export:{}", single.display()));
    assert_eq!((code, solo.len()), (0, 3), "{stderr}");

    let (code, zipped, stderr) = fetch_all(&home, &zip);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(portable(&zipped), portable(&records));
}

#[test]
fn each_platform_is_scored_for_what_it_exposes() {
    let home = Home::new();
    let twitter = exports::twitter().write_dir(&home.path().join("tw"));
    let facebook = exports::facebook().write_dir(&home.path().join("fb"));
    let matrix = exports::matrix().write_dir(&home.path().join("mx"));
    let signal = home.write("signal.jsonl", exports::signal().as_bytes());
    let output = home
        .missive()
        .args([
            "fetch",
            &format!("twitter-archive:{}", twitter.display()),
            &format!("facebook-export:{}", facebook.display()),
            &format!("matrix-export:{}", matrix.display()),
            &format!("signal:{}", signal.display()),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let (code, scored, stderr) = run(home.missive().arg("score").write_stdin(output.stdout));
    assert_eq!(code, 0, "{stderr}");
    let factors = |r: &Value| -> Vec<String> {
        r["privacy"]["factors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect()
    };
    let mut seen = std::collections::BTreeSet::new();
    for record in &scored {
        let factors = factors(record);
        let encrypted = record["security"]["encryption"] == "protocol-e2e";
        let protocol = record["protocol"].as_str().unwrap();
        seen.insert((protocol.to_string(), encrypted));
        assert_eq!(
            factors.contains(&"platform_readable".to_string()),
            !encrypted,
            "{protocol}: {factors:?}"
        );
        assert_eq!(
            factors.contains(&"e2e_protocol".to_string()),
            encrypted,
            "{protocol}: {factors:?}"
        );
        if encrypted {
            assert!(
                record["privacy"]["score"].as_u64().unwrap()
                    > by_native_id(&scored, "5001")["privacy"]["score"]
                        .as_u64()
                        .unwrap()
            );
        }
    }
    let expected: std::collections::BTreeSet<(String, bool)> = [
        ("facebook", false),
        ("matrix", false),
        ("matrix", true),
        ("signal", true),
        ("twitter", false),
    ]
    .into_iter()
    .map(|(p, e)| (p.to_string(), e))
    .collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_rebuilt_index_reads_the_exported_messages_again() {
    let home = Home::new();
    let matrix = exports::matrix().write_dir(&home.path().join("mx"));
    let output = home
        .missive()
        .args(["fetch", &format!("matrix-export:{}", matrix.display())])
        .output()
        .unwrap();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(output.stdout));
    assert_eq!(code, 0, "{stderr}");
    let count = |home: &Home| -> String {
        let output = home
            .missive()
            .args(["search", "-o", "count", "--", "hello"])
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap().trim().to_string()
    };
    let before = count(&home);
    assert_ne!(before, "0");
    let (code, _, stderr) = run(home.missive().args(["index", "--rebuild"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("raw message gone"), "{stderr}");
    assert_eq!(count(&home), before);
}

#[test]
fn a_truncated_zip_is_an_error_naming_it_and_loses_nothing_imported() {
    let home = Home::new();
    let [_, zip] = both(&home, "twitter-archive", &exports::twitter());
    let (code, first, _) = fetch(&home, &zip);
    assert_eq!((code, first.len()), (0, 3));
    let path = zip.split_once(':').unwrap().1.to_string();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let (code, records, stderr) = fetch(&home, &zip);
    assert_eq!(code, 1, "{stderr}");
    assert!(records.is_empty());
    assert!(stderr.contains(&path) && stderr.contains("zip"), "{stderr}");
    // The messages imported before are still known: the whole archive again adds nothing.
    std::fs::write(&path, &bytes).unwrap();
    let (code, again, stderr) = fetch(&home, &zip);
    assert_eq!(code, 0, "{stderr}");
    assert!(again.is_empty(), "{again:#?}");
}

#[test]
fn a_file_not_in_the_platform_format_is_named_and_the_others_are_read() {
    let home = Home::new();
    let broken = exports::twitter().with(
        "data/direct-messages-group.js",
        r#"{"dmConversation": "not behind window.YTD"}"#,
    );
    for layout in 0..2 {
        let home = Home::new();
        let source = both(&home, "twitter-archive", &broken)[layout].clone();
        let (code, records, stderr) = fetch(&home, &source);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(records.len(), 2, "the good file is read: {records:#?}");
        assert!(stderr.contains("direct-messages-group.js"), "{stderr}");
        assert!(stderr.contains("window.YTD"), "{stderr}");
        if source.ends_with(".zip") {
            assert!(
                stderr.contains(".zip (entry data/direct-messages-group.js)"),
                "{stderr}"
            );
        }
    }

    let facebook = exports::facebook().with(
        "messages/inbox/bobmartin_10/message_1.json",
        r#"{"threads": []}"#,
    );
    let [dir, _] = both(&home, "facebook-export", &facebook);
    let (code, records, stderr) = fetch(&home, &dir);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), 1, "{records:#?}");
    assert!(
        stderr.contains("bobmartin_10/message_1.json")
            && stderr.contains("not a Facebook Messenger message file"),
        "{stderr}"
    );
    // Mended, the file is read; what was printed before is not printed again.
    exports::facebook().write_dir(&home.path().join("facebook-export-dir"));
    let (code, mended, stderr) = fetch(&home, &dir);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(mended.len(), 2, "{mended:#?}");

    let matrix = exports::matrix().with("open.json", "{\"room_name\": \"x\"");
    let [dir, _] = both(&home, "matrix-export", &matrix);
    let (code, records, stderr) = fetch(&home, &dir);
    assert_eq!((code, records.len()), (1, 3), "{stderr}");
    assert!(stderr.contains("open.json"), "{stderr}");

    let lines = format!("not json\n{}", exports::signal());
    let path = home.write("bad-signal.jsonl", lines.as_bytes());
    let (code, records, stderr) = fetch(&home, &format!("signal:{}", path.display()));
    assert_eq!((code, records.len()), (1, 3), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:1", path.display())),
        "{stderr}"
    );
}

#[test]
fn one_person_on_email_twitter_signal_and_matrix_is_one_conversation_once_linked() {
    let home = Home::new();
    home.write_config(
        "[identity]\naddresses = [\"alice@example.org\", \"twitter:@AliceExample\", \
         \"+33600000000\", \"@alice:example.org\"]\n",
    );
    let mail = home.write(
        "bob.eml",
        b"From: Bob <bob@example.org>\nTo: alice@example.org\nSubject: Hi\n\
          Date: Tue, 28 Feb 2023 09:00:00 +0000\nMessage-ID: <bob-1@example.org>\n\nhello\n",
    );
    let twitter = exports::twitter()
        .with(
            "data/direct-messages-group.js",
            "window.YTD.direct_messages_group.part0 = []",
        )
        .write_dir(&home.path().join("tw"));
    let signal = home.write(
        "signal.jsonl",
        exports::signal()
            .lines()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
            .as_bytes(),
    );
    let matrix = home.write(
        "open.json",
        exports::matrix_room("Bob", "open", false).as_bytes(),
    );
    let (code, _, stderr) = run(home.missive().args([
        "contacts",
        "link",
        "bob@example.org",
        "twitter:2002",
        "tel:+33611111111",
        "@bob:example.org",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let fetched = home
        .missive()
        .args([
            "fetch",
            &format!("eml:{}", mail.display()),
            &format!("twitter-archive:{}", twitter.display()),
            &format!("signal:{}", signal.display()),
            &format!("matrix-export:{}", matrix.display()),
        ])
        .output()
        .unwrap();
    assert_eq!(fetched.status.code(), Some(0));
    let (code, threaded, stderr) = run(home
        .missive()
        .arg("thread")
        .write_stdin(fetched.stdout.clone()));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(threaded.len(), 1 + 2 + 2 + 3, "{threaded:#?}");
    let conversations: std::collections::BTreeSet<&str> = threaded
        .iter()
        .map(|r| r["conversation"].as_str().unwrap())
        .collect();
    assert_eq!(conversations.len(), 1, "{threaded:#?}");

    let (code, out, stderr) = run(home
        .missive()
        .args(["thread", "--output", "conversations"])
        .write_stdin(fetched.stdout));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(out.len(), 1, "{out:#?}");
    assert_eq!(
        out[0]["protocols"],
        serde_json::json!(["email", "matrix", "signal", "twitter"])
    );
    assert_eq!(out[0]["first_date"], "2023-02-28T09:00:00Z");
    assert_eq!(out[0]["messages"], 8);
}

#[test]
fn an_export_of_another_platform_is_named_for_what_it_lacks() {
    let home = Home::new();
    let [dir, zip] = both(&home, "facebook-export", &exports::twitter());
    for source in [dir, zip] {
        let (code, records, stderr) = fetch(&home, &source);
        assert_eq!(code, 1, "{stderr}");
        assert!(records.is_empty());
        assert!(
            stderr.contains("not a facebook-export: no messages/inbox/*/message_*.json"),
            "{stderr}"
        );
    }
}

#[test]
fn a_configured_account_keeps_its_ids_wherever_its_archive_lies() {
    let home = Home::new();
    let [dir, zip] = both(&home, "twitter-archive", &exports::twitter());
    let ids = |source: &str| {
        home.write_config(&format!("[accounts.tw]\nsource = \"{source}\"\n"));
        let (code, records, stderr) = run(home.missive().args(["fetch", "tw"]));
        assert_eq!(code, 0, "{stderr}");
        let mut ids: Vec<String> = records
            .iter()
            .map(|r| {
                assert_eq!(r["account"], "tw");
                r["id"].as_str().unwrap().to_string()
            })
            .collect();
        ids.sort();
        ids
    };
    let from_dir = ids(&dir);
    assert_eq!(from_dir.len(), 3);
    assert_eq!(
        ids(&zip),
        Vec::<String>::new(),
        "the same messages: nothing new"
    );
    home.write_config(&format!("[accounts.tw]\nsource = \"{zip}\"\n"));
    let (code, records, stderr) = run(home.missive().args(["fetch", "--all", "tw"]));
    assert_eq!(code, 0, "{stderr}");
    let mut from_zip: Vec<String> = records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    from_zip.sort();
    assert_eq!(from_zip, from_dir);
}

#[test]
fn facebook_messages_alike_in_time_and_sender_keep_distinct_ids() {
    let home = Home::new();
    let export = Export::default().with(
        "messages/inbox/bob_1/message_1.json",
        r#"{"participants": [{"name": "Bob"}, {"name": "Alice"}], "thread_path": "inbox/bob_1",
            "messages": [
              {"sender_name": "Bob", "timestamp_ms": 1677664800000, "content": "one"},
              {"sender_name": "Bob", "timestamp_ms": 1677664800000, "content": "two"}]}"#,
    );
    let [dir, _] = both(&home, "facebook-export", &export);
    let (code, records, stderr) = fetch(&home, &dir);
    assert_eq!(code, 0, "{stderr}");
    let mut natives: Vec<&str> = records
        .iter()
        .map(|r| r["native_id"].as_str().unwrap())
        .collect();
    natives.sort_unstable();
    assert_eq!(
        natives,
        [
            "inbox/bob_1/1677664800000/Bob",
            "inbox/bob_1/1677664800000/Bob#1"
        ]
    );
    assert_ne!(records[0]["id"], records[1]["id"]);
}

#[test]
fn a_corrupt_entry_of_a_zip_is_named_and_the_other_entries_are_read() {
    let home = Home::new();
    let path = exports::twitter().write_zip_with(
        &home.path().join("stored.zip"),
        zip::CompressionMethod::Stored,
    );
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes
        .windows(9)
        .position(|w| w == b"hello all")
        .expect("the group message is stored as is");
    bytes[at] = b'j';
    std::fs::write(&path, &bytes).unwrap();
    let (code, records, stderr) = fetch(&home, &format!("twitter-archive:{}", path.display()));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), 2, "{records:#?}");
    assert!(
        stderr.contains("stored.zip (entry data/direct-messages-group.js)"),
        "{stderr}"
    );
}
