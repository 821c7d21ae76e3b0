//! Nothing erases another message. A second message that takes a Message-ID another message
//! holds gets an id from its content; both are kept, archived, indexed and flagged. And one
//! message is one record whatever spelling of its source reached it.

use serde_json::Value;

use super::transport::home;
use crate::support::{Home, mail, run};

/// The problem both messages sharing a Message-ID carry.
const DUPLICATE: &str = "duplicate_message_id";

/// The real message, and a forgery that takes its Message-ID to replace it.
fn twins() -> [Vec<u8>; 2] {
    let id = "Message-ID: <meeting@example.org>\n";
    [
        mail(id, "The meeting is on Monday at the harbour.\n"),
        mail(id, "The meeting is cancelled; wire the deposit instead.\n"),
    ]
}

fn flagged(record: &Value) -> bool {
    record["problems"].as_array().is_some_and(|problems| {
        problems
            .iter()
            .any(|p| p.as_str().is_some_and(|p| p.starts_with(DUPLICATE)))
    })
}

fn id(record: &Value) -> &str {
    record["id"].as_str().expect("an id")
}

#[test]
fn a_second_message_with_the_same_message_id_is_kept_archived_found_and_flagged() {
    let home = home();
    let mut fetched = Vec::new();
    for raw in twins() {
        let (code, mut records, stderr) = run(home
            .missive()
            .args(["fetch", "eml:-"])
            .write_stdin(raw.clone()));
        assert_eq!((code, records.len()), (0, 1), "{stderr}");
        let record = records.remove(0);
        // Both came from standard input: the archive holds each, byte for byte.
        let path = record["source"]["path"].as_str().expect("archived");
        assert!(path.starts_with(home.store().to_str().unwrap()), "{path}");
        assert_eq!(std::fs::read(path).expect("in the archive"), raw);
        fetched.push(record);
    }
    let [first, second] = [&fetched[0], &fetched[1]];
    assert_eq!(first["native_id"], second["native_id"]);
    assert_ne!(
        id(first),
        id(second),
        "the second does not take the first's id"
    );
    assert!(flagged(second), "{second:#}");
    assert_ne!(first["source"]["path"], second["source"]["path"]);

    let input: String = fetched.iter().map(|r| format!("{r}\n")).collect();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(input));
    assert_eq!(code, 0, "{stderr}");
    let (code, found, stderr) = run(home.missive().args(["search", "subject:test"]));
    assert_eq!(code, 0, "{stderr}");
    let ids: std::collections::BTreeSet<&str> = found.iter().map(id).collect();
    assert_eq!(
        ids,
        [id(first), id(second)].into_iter().collect(),
        "search finds both"
    );
    assert!(found.iter().all(flagged), "both say it: {found:#?}");
    for (word, expected) in [("harbour", first), ("deposit", second)] {
        let (code, found, stderr) = run(home.missive().args(["search", word]));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(found.len(), 1, "{word}: {found:#?}");
        assert_eq!(id(&found[0]), id(expected), "{word}: each body is indexed");
    }
}

#[test]
fn two_messages_with_one_message_id_in_one_run_are_both_printed_flagged_with_stable_ids() {
    let home = home();
    let [real, forged] = twins();
    home.write("Mail/cur/1700000001.M1P1.host:2,S", &real);
    home.write("Mail/cur/1700000002.M2P1.host:2,S", &forged);
    let (code, first_run, stderr) = run(home.missive().args(["fetch", "maildir:Mail"]));
    assert_eq!((code, first_run.len()), (0, 2), "{stderr}");
    assert_ne!(id(&first_run[0]), id(&first_run[1]));
    assert!(first_run.iter().all(flagged), "{first_run:#?}");
    assert!(stderr.contains(DUPLICATE), "warned: {stderr}");

    let (code, again, stderr) = run(home.missive().args(["fetch", "--all", "maildir:Mail"]));
    assert_eq!(code, 0, "{stderr}");
    let ids = |records: &[Value]| -> std::collections::BTreeSet<String> {
        records.iter().map(|r| id(r).to_string()).collect()
    };
    assert_eq!(ids(&again), ids(&first_run), "the same ids the next time");
    assert!(again.iter().all(flagged), "{again:#?}");
}

#[test]
fn a_maildir_fetched_under_its_account_and_by_any_path_is_one_record_per_message() {
    let home = Home::new();
    let maildir = crate::support::sample_maildir();
    let config = home.write_config(&format!(
        "[identity]\naddresses = [\"sam@example.com\"]\n[accounts.sample]\nsource = \"maildir:{}\"\n",
        maildir.display()
    ));
    std::os::unix::fs::symlink(&maildir, home.path().join("linked")).unwrap();
    let (code, _, stderr) = run(home.missive().args(["sync", "--quiet"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, indexed, stderr) = run(home.missive().args(["search", ""]));
    assert_eq!(code, 0, "{stderr}");
    let synced: std::collections::BTreeSet<&str> = indexed.iter().map(id).collect();
    assert_eq!(synced.len(), indexed.len());

    for spelling in [
        "sample".to_string(),
        format!("maildir:{}", maildir.display()),
        "maildir:linked".to_string(),
        "maildir:./linked/".to_string(),
    ] {
        let fetched = home
            .missive()
            .args(["fetch", "--all", &spelling])
            .output()
            .unwrap();
        assert_eq!(
            fetched.status.code(),
            Some(0),
            "{spelling}: {}",
            String::from_utf8_lossy(&fetched.stderr)
        );
        let (_, records, _) = run(home
            .missive()
            .arg("index")
            .write_stdin(fetched.stdout.clone()));
        assert!(records.is_empty());
        let text = String::from_utf8(fetched.stdout.clone()).unwrap();
        let ids: std::collections::BTreeSet<&str> = text
            .lines()
            .map(|line| {
                let record: Value = serde_json::from_str(line).unwrap();
                assert_eq!(record["account"], "sample", "{spelling}");
                &line[line.find("\"id\":\"").unwrap() + 6..][..34]
            })
            .collect();
        assert_eq!(ids, synced, "{spelling}: the same record ids as sync's");

        let (code, conversations, stderr) = run(home
            .missive()
            .args([
                "--config",
                config.to_str().unwrap(),
                "thread",
                "--output",
                "conversations",
            ])
            .write_stdin(fetched.stdout));
        assert_eq!(code, 0, "{stderr}");
        let counted: u64 = conversations
            .iter()
            .map(|c| c["messages"].as_u64().unwrap())
            .sum();
        assert_eq!(
            counted as usize,
            synced.len(),
            "{spelling}: each message once"
        );
        let (code, found, stderr) = run(home.missive().args(["search", ""]));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(found.len(), synced.len(), "{spelling}: each found once");
    }
}
