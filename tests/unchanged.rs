//! A sync that finds nothing new (issue 20): it skips each Maildir folder (`cur/`, `new/`)
//! whose mtime is as the last run saw it, reads again one that changed (a delivery, a
//! rename by a mail reader, a deletion), and never trusts an mtime that is not safely older
//! than the run that saw it.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::support::Home;

/// The four folders of the account `mail`: the Maildir's own and those of `.Lists`.
const FOLDERS: [&str; 4] = ["mail/cur", "mail/new", "mail/.Lists/cur", "mail/.Lists/new"];

/// A home whose account `mail` is a Maildir with a folder `.Lists`.
fn maildir_home() -> Home {
    let home = Home::new();
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"maildir:{}\"\n",
        home.path().join("mail").display()
    ));
    for folder in FOLDERS {
        std::fs::create_dir_all(home.path().join(folder)).unwrap();
    }
    home
}

/// Writes a message saying `word` as the file `path` under the home.
fn deliver(home: &Home, path: &str, word: &str) {
    std::fs::write(
        home.path().join(path),
        format!(
            "From: alice@example.org\nTo: sam@example.com\nSubject: about {word}\n\
             Message-ID: <{word}@example.org>\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n\n\
             The {word} is ready.\n"
        ),
    )
    .unwrap();
}

/// Sets the mtime of the folder `folder` under the home to `at`.
fn set_mtime(home: &Home, folder: &str, at: SystemTime) {
    std::fs::File::open(home.path().join(folder))
        .unwrap()
        .set_modified(at)
        .unwrap();
}

/// A moment long past, `step` seconds apart for each change a test makes.
fn long_ago(step: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + step)
}

/// Runs `sync` and returns its summary line.
fn sync(home: &Home) -> String {
    let output = home.missive().arg("sync").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

fn found(home: &Home, query: &str) -> Vec<serde_json::Value> {
    let (code, records, stderr) = crate::support::run(home.missive().args(["search", "--", query]));
    assert_eq!(code, 0, "{stderr}");
    records
}

/// A home with a message in `mail/new` and one in `mail/.Lists/cur`, synced once, every
/// folder's mtime long past.
fn synced_home() -> Home {
    let home = maildir_home();
    deliver(&home, "mail/new/1700000001.M1P1.host", "zucchini");
    deliver(&home, "mail/.Lists/cur/1700000002.M2P2.host:2,S", "pumpkin");
    for folder in FOLDERS {
        set_mtime(&home, folder, long_ago(0));
    }
    let line = sync(&home);
    assert!(line.starts_with("missive sync: 2 new messages ("), "{line}");
    home
}

#[test]
fn a_sync_after_nothing_changed_reads_no_folder() {
    let home = synced_home();
    let line = sync(&home);
    assert!(line.starts_with("missive sync: 0 new messages"), "{line}");
    assert!(
        line.contains(", 4 of 4 Maildir folders unchanged"),
        "{line}"
    );
    assert_eq!(found(&home, "zucchini").len(), 1);
    assert_eq!(found(&home, "pumpkin").len(), 1);
}

#[test]
fn a_delivery_a_rename_and_a_deletion_are_each_seen_while_the_other_folders_are_skipped() {
    let home = synced_home();

    deliver(&home, "mail/new/1700000003.M3P3.host", "squash");
    set_mtime(&home, "mail/new", long_ago(1));
    let line = sync(&home);
    assert!(line.starts_with("missive sync: 1 new message"), "{line}");
    assert!(
        line.contains(", 3 of 4 Maildir folders unchanged"),
        "{line}"
    );

    // Read in a mail reader: new/ → cur/ with the seen flag changes both folders.
    std::fs::rename(
        home.path().join("mail/new/1700000001.M1P1.host"),
        home.path().join("mail/cur/1700000001.M1P1.host:2,S"),
    )
    .unwrap();
    set_mtime(&home, "mail/new", long_ago(2));
    set_mtime(&home, "mail/cur", long_ago(2));
    let line = sync(&home);
    assert!(
        line.starts_with("missive sync: 0 new messages, 1 renamed"),
        "{line}"
    );
    assert!(
        line.contains(", 2 of 4 Maildir folders unchanged"),
        "{line}"
    );
    let seen = found(&home, "is:seen");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(found(&home, "zucchini").len(), 1, "not doubled");

    std::fs::remove_file(home.path().join("mail/.Lists/cur/1700000002.M2P2.host:2,S")).unwrap();
    set_mtime(&home, "mail/.Lists/cur", long_ago(3));
    let line = sync(&home);
    assert!(line.contains("1 gone from the source"), "{line}");
    assert!(
        line.contains(", 3 of 4 Maildir folders unchanged"),
        "{line}"
    );
    assert_eq!(found(&home, "pumpkin")[0]["source"]["gone"], true);

    // A whole folder removed: its messages are gone too.
    std::fs::remove_dir_all(home.path().join("mail/.Lists")).unwrap();
    deliver(&home, "mail/cur/1700000004.M4P4.host:2,", "marrow");
    set_mtime(&home, "mail/cur", long_ago(4));
    let line = sync(&home);
    assert!(line.starts_with("missive sync: 1 new message"), "{line}");
    assert!(
        line.contains(", 1 of 2 Maildir folders unchanged"),
        "{line}"
    );
    assert_eq!(
        sync(&home).trim_end().split(" in ").next(),
        Some("missive sync: 0 new messages, 2 of 2 Maildir folders unchanged")
    );
}

#[test]
fn a_change_that_leaves_the_mtime_as_the_last_sync_saw_it_is_not_missed() {
    let home = maildir_home();
    deliver(&home, "mail/new/1700000001.M1P1.host", "zucchini");
    // An mtime not safely older than the sync that reads the folder: a change made later
    // within the same tick of the filesystem's clock would leave it as it is.
    let tick = SystemTime::now() + Duration::from_secs(60);
    set_mtime(&home, "mail/new", tick);
    assert!(sync(&home).starts_with("missive sync: 1 new message"));

    deliver(&home, "mail/new/1700000002.M2P2.host", "pumpkin");
    set_mtime(&home, "mail/new", tick);
    assert_eq!(mtime(&home.path().join("mail/new")), tick);
    let line = sync(&home);
    assert!(line.starts_with("missive sync: 1 new message"), "{line}");
    assert_eq!(found(&home, "pumpkin").len(), 1);
}
