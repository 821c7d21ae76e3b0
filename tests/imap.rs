//! `missive fetch` from a real Dovecot over IMAP (issue 3): first and incremental syncs, a
//! renumbered mailbox, \Seen left alone, TLS both ways, refused logins and plain text, a
//! connection cut mid-fetch and a process killed mid-fetch.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

use serde_json::Value;

use crate::support::dovecot::Dovecot;
use crate::support::proxy::CutProxy;
use crate::support::{Home, run};

const USER: &str = "alice";
const PASSWORD: &str = "pw-Zq7-never-printed";

fn start() -> Dovecot {
    Dovecot::start(&[(USER, PASSWORD), ("bob", "other-pw")])
}

fn message(n: usize, body: &str) -> Vec<u8> {
    format!(
        "From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: message {n}\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\nMessage-ID: <m{n}@example.net>\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Writes a config with one IMAP account `mail`; `extra` adds lines to the account. The
/// password is read from a file, so it is in no command line either.
fn configure(home: &Home, server: &Dovecot, port: u16, password: &str, extra: &str) {
    let secret = home.write("secret", password.as_bytes());
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"imap://{USER}@127.0.0.1:{port}\"\npassword_command = \"cat '{}'\"\nca_file = \"{}\"\n{extra}",
        secret.display(),
        server.ca_file().display()
    ));
}

/// A server holding these messages (raw, already seen) in INBOX, and a home configured for
/// it (implicit TLS).
fn server_holding(messages: &[(Vec<u8>, bool)]) -> (Dovecot, Home) {
    let server = start();
    for (raw, seen) in messages {
        server.deliver(USER, "INBOX", raw, *seen);
    }
    let home = Home::new();
    configure(&home, &server, server.imaps_port, PASSWORD, "");
    (server, home)
}

/// A server holding `count` messages with this body, unseen.
fn server_with(count: usize, body: &str) -> (Dovecot, Home) {
    let messages: Vec<_> = (1..=count).map(|n| (message(n, body), false)).collect();
    server_holding(&messages)
}

fn fetch(home: &Home) -> (i32, Vec<Value>, String) {
    run(home.missive().args(["fetch", "mail"]))
}

fn subjects(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn archived_files(home: &Home, account: &str) -> usize {
    let dir = home.store().join("archive").join(account).join("new");
    std::fs::read_dir(dir).map_or(0, |entries| entries.count())
}

#[test]
fn a_first_sync_prints_and_archives_every_message_and_a_second_prints_nothing() {
    let (_server, home) = server_with(3, "hello");
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 3, "{stderr}");
    let uids: BTreeSet<u64> = records
        .iter()
        .map(|r| r["source"]["uid"].as_u64().unwrap())
        .collect();
    assert_eq!(uids, BTreeSet::from([1, 2, 3]));
    for record in &records {
        assert_eq!(record["account"], "mail");
        assert_eq!(record["source"]["kind"], "imap");
        assert_eq!(record["source"]["mailbox"], "INBOX");
        assert!(record["source"]["uidvalidity"].as_u64().unwrap() > 0);
        let path = record["source"]["path"].as_str().unwrap();
        let raw = std::fs::read(path).expect("the archived file");
        assert_eq!(missive::record::blob_name(&raw), record["blob"]);
    }
    assert_eq!(archived_files(&home, "mail"), 3);

    let (code, again, stderr) = fetch(&home);
    assert_eq!((code, again.len()), (0, 0), "{stderr}");
}

#[test]
fn messages_with_lines_longer_than_the_line_limit_are_fetched_whole() {
    // Bodies come as literals, which the line limit does not count: one line of 3 MiB, and
    // 3 MiB of 100 kB lines, pass a limit of 1 MiB byte for byte.
    let one_line = message(1, &"x".repeat(3 << 20));
    let long_lines = message(2, &format!("{}\r\n", "y".repeat(100_000)).repeat(30));
    let small = message(3, "hello");
    let raws = [one_line, long_lines, small];
    let (server, home) = server_holding(
        &raws
            .iter()
            .map(|raw| (raw.clone(), false))
            .collect::<Vec<_>>(),
    );
    configure(
        &home,
        &server,
        server.imaps_port,
        PASSWORD,
        "[limits]\nimap_line_mib = 1\n",
    );
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (0, 3), "{stderr}");
    let blobs: BTreeSet<&str> = records.iter().filter_map(|r| r["blob"].as_str()).collect();
    let delivered: Vec<String> = raws
        .iter()
        .map(|raw| missive::record::blob_name(raw))
        .collect();
    assert_eq!(blobs, delivered.iter().map(String::as_str).collect());
}

#[test]
fn a_message_the_archive_cannot_take_is_neither_printed_nor_passed_by_the_cursor() {
    let (_server, home) = server_with(3, "kept");
    let blocked = home.store().join("archive").join("mail");
    std::fs::create_dir_all(blocked.parent().unwrap()).unwrap();
    std::fs::write(&blocked, "a file where the account's Maildir goes").unwrap();
    let (code, records, stderr) = fetch(&home);
    assert_ne!(code, 0, "{stderr}");
    assert!(records.is_empty(), "{records:?}");
    assert!(stderr.contains("archive"), "{stderr}");

    std::fs::remove_file(&blocked).unwrap();
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (0, 3), "{stderr}");
}

#[test]
fn identical_copies_under_two_uids_are_two_records_and_one_archived_file() {
    let same = (message(1, "same"), false);
    let (_server, home) = server_holding(&[same.clone(), same]);
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (0, 2), "{stderr}");
    assert_ne!(records[0]["source"]["uid"], records[1]["source"]["uid"]);
    assert_eq!(records[0]["source"]["path"], records[1]["source"]["path"]);
    assert_eq!(archived_files(&home, "mail"), 1);
}

#[test]
fn a_message_without_a_date_is_dated_when_the_server_received_it() {
    let undated = b"From: a@example.org\r\nSubject: undated\r\n\r\nx\r\n".to_vec();
    let (_server, home) = server_holding(&[(undated, false)]);
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (0, 1), "{stderr}");
    let date = records[0]["date"].as_str().expect("a date");
    assert!(date.len() == 20 && date.ends_with('Z'), "{date}");
    assert!(stderr.contains("no Date"), "still reported: {stderr}");
}

#[test]
fn new_mail_between_runs_is_all_the_next_run_prints() {
    let (server, home) = server_with(1, "one");
    let (code, first, stderr) = fetch(&home);
    assert_eq!((code, first.len()), (0, 1), "{stderr}");
    server.deliver(USER, "INBOX", &message(2, "two"), false);
    server.deliver(USER, "INBOX", &message(3, "three"), false);
    let (code, second, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        subjects(&second),
        BTreeSet::from(["message 2".to_string(), "message 3".to_string()])
    );
}

#[test]
fn a_changed_uidvalidity_resyncs_without_printing_anything_twice() {
    let (server, home) = server_with(3, "before");
    let (code, first, stderr) = fetch(&home);
    assert_eq!((code, first.len()), (0, 3), "{stderr}");
    let old = first[0]["source"]["uidvalidity"].as_u64().unwrap();
    server.doveadm(&[
        "mailbox",
        "update",
        "-u",
        USER,
        "--uid-validity",
        &(old + 1000).to_string(),
        "INBOX",
    ]);
    server.deliver(USER, "INBOX", &message(4, "after"), false);
    let (code, second, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(subjects(&second), BTreeSet::from(["message 4".to_string()]));
    assert_eq!(second[0]["source"]["uidvalidity"], old + 1000);
    let (code, third, _) = fetch(&home);
    assert_eq!((code, third.len()), (0, 0));
}

#[test]
fn a_message_rewritten_during_a_renumbering_is_recognised_by_its_message_id() {
    let (server, home) = server_with(1, "original");
    let (code, first, stderr) = fetch(&home);
    assert_eq!((code, first.len()), (0, 1), "{stderr}");
    // The server lost its mailbox and got it back from a backup with other bytes (a header
    // added on the way), under new UIDs.
    let inbox = server.dir.path().join("mail").join(USER);
    for sub in ["cur", "new"] {
        for entry in std::fs::read_dir(inbox.join(sub)).unwrap() {
            std::fs::remove_file(entry.unwrap().path()).unwrap();
        }
    }
    let old = first[0]["source"]["uidvalidity"].as_u64().unwrap();
    server.doveadm(&[
        "mailbox",
        "update",
        "-u",
        USER,
        "--uid-validity",
        &(old + 7).to_string(),
        "INBOX",
    ]);
    let mut restored = b"X-Restored: yes\r\n".to_vec();
    restored.extend(message(1, "original"));
    server.deliver(USER, "INBOX", &restored, false);
    server.deliver(USER, "INBOX", &message(2, "new"), false);
    let (code, second, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(subjects(&second), BTreeSet::from(["message 2".to_string()]));
}

#[test]
fn config_check_connect_logs_in_and_reports_tls_and_capabilities() {
    let server = start();
    let home = Home::new();
    configure(
        &home,
        &server,
        server.imaps_port,
        PASSWORD,
        "mailboxes = ['\\Sent']\n",
    );
    let output = home
        .missive()
        .args(["config", "check", "--connect"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("mail: ok") && stdout.contains("TLSv1.3"),
        "{stdout}"
    );
    assert!(
        stdout.contains("IMAP4rev1") && stdout.contains("mailboxes: Sent"),
        "{stdout}"
    );
    // Dovecot logs the session's end a moment after the client has gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !server.log().contains("Logged out") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let log = server.log();
    assert!(
        log.contains("body_count=0") && !log.contains("body_count=1"),
        "nothing fetched: {log}"
    );

    configure(&home, &server, server.imaps_port, "not-it-3Qw", "");
    let output = home
        .missive()
        .args(["config", "check", "--connect"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        all.contains("account mail") && !all.contains("not-it-3Qw"),
        "{all}"
    );
}

#[test]
fn fetching_never_sets_seen_and_reports_the_flags_there_are() {
    let (server, home) =
        server_holding(&[(message(1, "unread"), false), (message(2, "read"), true)]);
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (0, 2), "{stderr}");
    let flags: BTreeMap<String, Value> = records
        .iter()
        .map(|r| {
            (
                r["subject"].as_str().unwrap().to_string(),
                r["flags"].clone(),
            )
        })
        .collect();
    assert_eq!(flags["message 1"], serde_json::json!([]));
    assert_eq!(flags["message 2"], serde_json::json!(["seen"]));
    let on_server = server.flags(USER, "INBOX");
    assert_eq!(on_server.len(), 2, "{on_server:?}");
    let unread: Vec<_> = on_server
        .iter()
        .filter(|(_, flags)| !flags.contains("\\Seen"))
        .collect();
    assert_eq!(
        unread.len(),
        1,
        "the unread message stays unread: {on_server:?}"
    );
}

#[test]
fn a_bad_password_exits_2_naming_account_and_host_and_never_prints_the_secret() {
    let server = start();
    server.deliver(USER, "INBOX", &message(1, "x"), false);
    let home = Home::new();
    let wrong = "wrong-pw-Kx9-secret";
    configure(&home, &server, server.imaps_port, wrong, "");
    let output = home.missive().args(["fetch", "mail"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("account mail") && stderr.contains("127.0.0.1") && stderr.contains("login"),
        "{stderr}"
    );
    let mut everything = String::from_utf8_lossy(&output.stdout).into_owned() + &stderr;
    for format in ["text", "jsonl"] {
        let shown = home
            .missive()
            .args(["config", "show", "--format", format])
            .output()
            .unwrap();
        assert_eq!(shown.status.code(), Some(0));
        everything += &String::from_utf8_lossy(&shown.stdout);
        everything += &String::from_utf8_lossy(&shown.stderr);
    }
    let errors_json = home
        .missive()
        .args(["--errors", "jsonl", "fetch", "mail"])
        .output()
        .unwrap();
    assert_eq!(errors_json.status.code(), Some(2));
    everything += &String::from_utf8_lossy(&errors_json.stderr);
    assert!(
        !everything.contains(wrong),
        "the secret leaked: {everything}"
    );
    assert!(!everything.contains(PASSWORD));
    assert!(
        !server.log().contains(wrong),
        "not even in the server's log"
    );
}

#[test]
fn starttls_and_implicit_tls_both_fetch_with_the_test_ca() {
    let server = start();
    server.deliver(USER, "INBOX", &message(1, "x"), false);
    for (port, tls) in [
        (server.imap_port, "tls = \"starttls\"\n"),
        (server.imaps_port, "tls = \"implicit\"\n"),
    ] {
        let home = Home::new();
        configure(&home, &server, port, PASSWORD, tls);
        let (code, records, stderr) = fetch(&home);
        assert_eq!((code, records.len()), (0, 1), "{tls}: {stderr}");
    }
    assert!(server.log().contains("TLS"), "{}", server.log());
}

#[test]
fn after_starttls_the_login_follows_the_capabilities_named_under_tls() {
    // Under TLS, Dovecot offers OAUTHBEARER (it checks the token as the password); in clear,
    // a man in the middle hides it. A client that chose from the list sent in clear, or
    // that chose without a list, would use XOAUTH2.
    let server = Dovecot::offering(&[(USER, PASSWORD)], "plain login oauthbearer xoauth2");
    server.deliver(USER, "INBOX", &message(1, "x"), false);
    let proxy = CutProxy::rewriting(server.imap_port, "AUTH=OAUTHBEARER", "AUTH=X-HIDDEN");
    let home = Home::new();
    let secret = home.write("token", PASSWORD.as_bytes());
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"imap://{USER}@127.0.0.1:{}\"\ntoken_command = \"cat '{}'\"\nca_file = \"{}\"\ntls = \"starttls\"\n",
        proxy.port,
        secret.display(),
        server.ca_file().display()
    ));
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (0, 1), "{stderr}\n{}", server.log());
    let log = server.log();
    assert!(
        log.contains("Login: user=<alice>, method=OAUTHBEARER"),
        "{log}"
    );

    // The rewrite did happen: what the proxy passes in clear hides OAUTHBEARER.
    let mut clear = std::net::TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    let mut greeting = String::new();
    std::io::BufReader::new(&mut clear)
        .read_line(&mut greeting)
        .unwrap();
    assert!(
        greeting.contains("AUTH=X-HIDDEN") && !greeting.contains("OAUTHBEARER"),
        "{greeting}"
    );
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_with_exit_2() {
    let server = start();
    let home = Home::new();
    let secret = home.write("secret", PASSWORD.as_bytes());
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"imap://{USER}@127.0.0.1:{}\"\npassword_command = \"cat '{}'\"\n",
        server.imaps_port,
        secret.display()
    ));
    let (code, _, stderr) = fetch(&home);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("TLS") && stderr.contains("account mail"),
        "{stderr}"
    );
}

#[test]
fn plain_text_is_refused_unless_the_account_says_insecure() {
    let server = start();
    server.deliver(USER, "INBOX", &message(1, "x"), false);
    let home = Home::new();
    configure(
        &home,
        &server,
        server.imap_port,
        PASSWORD,
        "tls = \"none\"\n",
    );
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (2, 0));
    assert!(
        stderr.contains("account mail") && stderr.contains("insecure = true"),
        "{stderr}"
    );
    configure(
        &home,
        &server,
        server.imap_port,
        PASSWORD,
        "tls = \"none\"\ninsecure = true\n",
    );
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (0, 1), "{stderr}");
}

#[test]
fn an_unreachable_server_exits_75() {
    let home = Home::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secret = home.write("secret", PASSWORD.as_bytes());
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"imap://{USER}@127.0.0.1:{port}\"\npassword_command = \"cat '{}'\"\n",
        secret.display()
    ));
    let (code, _, stderr) = fetch(&home);
    assert_eq!(code, 75, "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

#[test]
fn a_uri_source_logs_in_as_the_account_for_that_server() {
    let server = start();
    server.deliver(USER, "INBOX", &message(1, "x"), false);
    server.deliver(USER, "Sent", &message(2, "y"), false);
    let home = Home::new();
    configure(&home, &server, server.imaps_port, PASSWORD, "");
    let uri = format!("imap://{USER}@127.0.0.1:{}/Sent", server.imaps_port);
    let (code, records, stderr) = run(home.missive().args(["fetch", &uri]));
    assert_eq!((code, records.len()), (0, 1), "{stderr}");
    assert_eq!(records[0]["account"], uri.as_str());
    assert_eq!(records[0]["subject"], "message 2");
}

#[test]
fn two_accounts_are_fetched_in_one_run_each_from_its_own_connection() {
    let server = start();
    server.deliver(USER, "INBOX", &message(1, "for alice"), false);
    server.deliver("bob", "INBOX", &message(2, "for bob"), false);
    let home = Home::new();
    let alice = home.write("alice-pw", PASSWORD.as_bytes());
    let bob = home.write("bob-pw", b"other-pw");
    let mut config = String::new();
    for (name, user, secret) in [("a", USER, &alice), ("b", "bob", &bob)] {
        config += &format!(
            "[accounts.{name}]\nsource = \"imap://{user}@127.0.0.1:{}\"\npassword_command = \"cat '{}'\"\nca_file = \"{}\"\n",
            server.imaps_port,
            secret.display(),
            server.ca_file().display()
        );
    }
    home.write_config(&config);
    let (code, records, stderr) = run(home.missive().args(["fetch"]));
    assert_eq!(code, 0, "{stderr}");
    let by_account: BTreeMap<&str, &str> = records
        .iter()
        .map(|r| {
            (
                r["account"].as_str().unwrap(),
                r["subject"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_account,
        BTreeMap::from([("a", "message 1"), ("b", "message 2")])
    );
}

#[test]
fn mailboxes_are_chosen_by_name_glob_and_special_use() {
    let server = start();
    server.deliver(USER, "INBOX", &message(1, "x"), false);
    server.deliver(USER, "Sent", &message(2, "y"), false);
    server.deliver(USER, "Archive", &message(3, "z"), false);
    let home = Home::new();
    configure(
        &home,
        &server,
        server.imaps_port,
        PASSWORD,
        "mailboxes = [\"IN*\", '\\Sent']\n",
    );
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    let boxes: BTreeSet<&str> = records
        .iter()
        .map(|r| r["source"]["mailbox"].as_str().unwrap())
        .collect();
    assert_eq!(boxes, BTreeSet::from(["INBOX", "Sent"]));
}

#[test]
fn mailboxes_named_in_unicode_are_fetched_by_name_uri_and_glob_and_recorded_in_unicode() {
    let server = start();
    for (n, mailbox) in ["Entwürfe", "日本語/台北", "R&D"].into_iter().enumerate() {
        server.save(USER, mailbox, &message(n + 1, mailbox));
    }
    server.deliver(USER, "INBOX", &message(9, "inbox"), false);
    let home = Home::new();
    let mailboxes_of = |records: &[Value]| -> BTreeMap<String, String> {
        records
            .iter()
            .map(|r| {
                (
                    r["source"]["mailbox"].as_str().unwrap().to_string(),
                    r["subject"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    configure(
        &home,
        &server,
        server.imaps_port,
        PASSWORD,
        "mailboxes = [\"Entwürfe\", \"R&D\", \"日本語/%\"]\n",
    );
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        mailboxes_of(&records),
        BTreeMap::from([
            ("Entwürfe".to_string(), "message 1".to_string()),
            ("日本語/台北".to_string(), "message 2".to_string()),
            ("R&D".to_string(), "message 3".to_string()),
        ])
    );
    let (code, again, stderr) = fetch(&home);
    assert_eq!((code, again.len()), (0, 0), "the cursors hold: {stderr}");

    // The same mailbox's cursor is shared with the account: read it from a new store.
    let fresh = Home::new();
    configure(&fresh, &server, server.imaps_port, PASSWORD, "");
    let uri = format!(
        "imap://{USER}@127.0.0.1:{}/Entw%C3%BCrfe",
        server.imaps_port
    );
    let (code, records, stderr) = run(fresh.missive().args(["fetch", &uri]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        mailboxes_of(&records),
        BTreeMap::from([("Entwürfe".to_string(), "message 1".to_string())])
    );

    configure(
        &home,
        &server,
        server.imaps_port,
        PASSWORD,
        "mailboxes = [\"*台*\"]\n",
    );
    let output = home
        .missive()
        .args(["config", "check", "--connect"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("mailboxes: 日本語/台北"), "{stdout}");
}

fn many(server: &Dovecot, count: usize) -> BTreeSet<String> {
    let body = "All work and no play makes a long message body. ".repeat(40);
    (1..=count)
        .map(|n| {
            server.deliver(USER, "INBOX", &message(n, &body), false);
            format!("<m{n}@example.net>")
        })
        .collect()
}

#[test]
fn a_connection_cut_mid_fetch_is_retried_and_ends_with_exactly_the_servers_messages() {
    let server = start();
    let expected = many(&server, 60);
    let proxy = CutProxy::start(server.imaps_port, 40_000);
    let home = Home::new();
    configure(&home, &server, proxy.port, PASSWORD, "");
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        proxy.connections.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the cut connection was made again"
    );
    let ids: Vec<String> = records
        .iter()
        .map(|r| r["native_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), expected.len(), "nothing twice: {stderr}");
    assert_eq!(ids.into_iter().collect::<BTreeSet<_>>(), expected);
    assert_eq!(archived_files(&home, "mail"), expected.len());
}

#[test]
fn a_fetch_killed_mid_way_then_run_again_gives_exactly_the_servers_messages() {
    let server = start();
    let expected = many(&server, 800);
    let home = Home::new();
    configure(&home, &server, server.imaps_port, PASSWORD, "");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("missive"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("MISSIVE_STORE", home.store())
        .args(["fetch", "mail"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = Vec::new();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // Once the first batch is out, the next one is on its way: kill it there.
    for line in lines.by_ref() {
        first.push(line.unwrap());
        if first.len() == 10 {
            break;
        }
    }
    let _ = std::process::Command::new("kill")
        .args(["-9", &child.id().to_string()])
        .status();
    first.extend(lines.map_while(Result::ok));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
    assert!(first.len() < expected.len(), "killed before the end");

    let (code, second, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    let native = |line: &Value| line["native_id"].as_str().unwrap().to_string();
    let first: Vec<Value> = first
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut all: Vec<String> = first.iter().map(native).collect();
    all.extend(second.iter().map(native));
    let distinct: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(distinct, expected, "no gap");
    // At worst the batch printed but not yet committed when killed is printed again.
    let again = all.len() - distinct.len();
    assert!(again <= 256, "{again} printed twice");
    assert_eq!(
        archived_files(&home, "mail"),
        expected.len(),
        "the archive holds each once"
    );
    let (code, third, _) = fetch(&home);
    assert_eq!((code, third.len()), (0, 0));
}
