//! Bounded cost on any input (issue 16): a zip bomb, a zip entry lying about its size, a
//! symlink loop, a 400,000-references mail, queries nested thousands deep, an mbox with no
//! line end, an IMAP greeting with no line end, a huge decrypted message, each made by the
//! test, end in an error that names the input while the other records flow; an mbox whose
//! first `From ` line is malformed keeps its first message; dates out of range are dropped
//! with a problem.

use std::collections::BTreeSet;
use std::io::Write;
use std::time::Duration;

use crate::keys_decrypt::{PASSPHRASE, encrypt, with_own_key};
use crate::support::exports::matrix_room;
use crate::support::{Home, mail, run};

/// Longer than any of these runs takes when bounded; a loop or a hang fails the test instead.
const HANG: Duration = Duration::from_secs(120);

#[test]
fn a_zip_bomb_entry_is_refused_while_the_other_entries_are_read() {
    let home = Home::new();
    home.write_config("[limits]\nunpacked_mib = 1\n");
    let path = home.path().join("export.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    zip.start_file("open.json", options).unwrap();
    zip.write_all(matrix_room("Open room", "open", false).as_bytes())
        .unwrap();
    zip.start_file("bomb.json", options).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        zip.write_all(&zeros).unwrap();
    }
    zip.finish().unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 1 << 20, "a bomb");

    let (code, records, stderr) = run(home
        .missive()
        .args(["fetch", "matrix-export:export.zip"])
        .timeout(HANG));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), 3, "the messages of open.json flow: {stderr}");
    assert!(
        stderr.contains("entry bomb.json") && stderr.contains("unpacks to more than 1 MiB"),
        "{stderr}"
    );
}

/// Sets the uncompressed size of every entry `name` in a zip, local header and central
/// directory alike, to `size`: the zip still opens, and lies.
fn declare_size(zip: &mut [u8], name: &str, size: u32) {
    let at: Vec<usize> = zip
        .windows(name.len())
        .enumerate()
        .filter(|(_, window)| *window == name.as_bytes())
        .map(|(at, _)| at)
        .collect();
    let mut patched = 0;
    for at in at {
        // A local header is 30 bytes before the name, a central directory entry 46.
        for (header, signature, field) in [(30, b"PK\x03\x04", 22), (46, b"PK\x01\x02", 24)] {
            let Some(start) = at.checked_sub(header) else {
                continue;
            };
            if &zip[start..start + 4] == signature {
                zip[start + field..start + field + 4].copy_from_slice(&size.to_le_bytes());
                patched += 1;
            }
        }
    }
    assert_eq!(patched, 2, "one local header and one central entry");
}

#[test]
fn a_zip_entry_that_declares_a_small_size_is_refused_as_it_unpacks_past_it() {
    let home = Home::new();
    home.write_config("[limits]\nunpacked_mib = 1\n");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("after.json", options).unwrap();
    zip.write_all(matrix_room("After", "after", false).as_bytes())
        .unwrap();
    zip.start_file("liar.json", options).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        zip.write_all(&zeros).unwrap();
    }
    zip.start_file("open.json", options).unwrap();
    zip.write_all(matrix_room("Open room", "open", false).as_bytes())
        .unwrap();
    let mut bytes = zip.finish().unwrap().into_inner();
    declare_size(&mut bytes, "liar.json", 100);
    assert!(bytes.len() < 1 << 20, "a bomb");
    home.write("export.zip", &bytes);
    let declared = zip::ZipArchive::new(std::io::Cursor::new(&bytes))
        .unwrap()
        .by_name("liar.json")
        .unwrap()
        .size();
    assert_eq!(declared, 100, "the zip opens and says 100 bytes");

    let (code, records, stderr) = run(home
        .missive()
        .args(["fetch", "matrix-export:export.zip"])
        .timeout(HANG));
    assert_eq!(code, 1, "{stderr}");
    let rooms: BTreeSet<&str> = records
        .iter()
        .filter_map(|r| r["source"]["entry"].as_str())
        .collect();
    assert_eq!(
        rooms,
        BTreeSet::from(["after.json", "open.json"]),
        "{stderr}"
    );
    assert_eq!(records.len(), 6, "{stderr}");
    assert!(
        stderr.contains("export.zip (entry liar.json)")
            && stderr.contains("larger than its declared"),
        "{stderr}"
    );
}

#[test]
fn an_export_directory_with_symlink_loops_and_links_out_ends_and_reads_only_itself() {
    let home = Home::new();
    let export = home.path().join("rooms");
    home.write(
        "rooms/open.json",
        matrix_room("Open room", "open", false).as_bytes(),
    );
    home.write(
        "outside/secret.json",
        matrix_room("Secret", "secret", false).as_bytes(),
    );
    std::os::unix::fs::symlink(".", export.join("again")).unwrap();
    std::os::unix::fs::symlink(".", export.join("and-again")).unwrap();
    std::os::unix::fs::symlink("..", export.join("up")).unwrap();
    std::os::unix::fs::symlink("../outside/secret.json", export.join("secret.json")).unwrap();

    let (code, records, stderr) = run(home
        .missive()
        .args(["fetch", "matrix-export:rooms"])
        .timeout(HANG));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        records.len(),
        3,
        "open.json once, nothing outside: {stderr}"
    );
    assert!(!records.iter().any(|r| r.to_string().contains("secret-")));
    assert!(stderr.contains("symlink out of the export"), "{stderr}");
    assert!(
        stderr.contains("secret.json") && stderr.contains("up"),
        "{stderr}"
    );
}

#[test]
fn maildir_files_that_are_symlinks_out_of_the_maildir_are_reported_not_read() {
    let home = Home::new();
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &mail("Message-ID: <inside@example.org>\n", "inside\n"),
    );
    home.write(
        "elsewhere.eml",
        &mail("Message-ID: <outside@example.org>\n", "outside\n"),
    );
    let mail_dir = home.path().join("Mail");
    std::os::unix::fs::symlink(
        home.path().join("elsewhere.eml"),
        mail_dir.join("cur/2.M2.x:2,"),
    )
    .unwrap();
    std::os::unix::fs::symlink(".", mail_dir.join(".Loop")).unwrap();
    std::fs::create_dir_all(mail_dir.join(".Sent")).unwrap();
    std::os::unix::fs::symlink(home.path(), mail_dir.join(".Sent/new")).unwrap();

    let (code, records, stderr) = run(home.missive().args(["fetch", "maildir:Mail"]).timeout(HANG));
    assert_eq!(code, 1, "{stderr}");
    let ids: Vec<&str> = records
        .iter()
        .filter_map(|r| r["native_id"].as_str())
        .collect();
    assert_eq!(ids, ["<inside@example.org>"], "{stderr}");
    assert!(
        stderr.contains("2.M2.x:2,") && stderr.contains("symlink out of the Maildir"),
        "{stderr}"
    );
    assert!(stderr.contains(".Sent/new"), "{stderr}");
}

#[test]
fn a_mail_with_400_000_references_contributes_its_root_and_last_ancestors() {
    let home = Home::new();
    let ids: Vec<String> = (0..400_000).map(|i| format!("<{i}@example.org>")).collect();
    home.write(
        "big.eml",
        &mail(
            &format!(
                "Message-ID: <big@example.org>\nReferences: {}\n",
                ids.join("\n ")
            ),
            "long thread\n",
        ),
    );
    home.write(
        "reply.eml",
        &mail(
            "Message-ID: <reply@example.org>\nIn-Reply-To: <399999@example.org>\n",
            "a reply to the last\n",
        ),
    );
    let (code, records, stderr) = run(home
        .missive()
        .args(["fetch", "eml:big.eml", "eml:reply.eml"])
        .timeout(HANG));
    assert_eq!(code, 0, "{stderr}");
    let big = &records[0];
    let kept = big["references"].as_array().unwrap();
    // The bound on threading's work: one node and one union per reference kept.
    assert_eq!(kept.len(), 500);
    assert_eq!(kept[0], "<0@example.org>");
    assert_eq!(kept[499], "<399999@example.org>");
    assert!(
        big["problems"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .unwrap()
            .contains("References names 400000 message-ids")),
        "{big}"
    );
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let (code, threaded, stderr) = run(home
        .missive()
        .arg("thread")
        .write_stdin(input)
        .timeout(HANG));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(threaded[0]["thread"], threaded[1]["thread"], "one thread");
}

#[test]
fn queries_nested_thousands_deep_are_a_parse_error_not_a_stack_overflow() {
    let home = Home::new();
    for query in [
        format!("{}alice", "-".repeat(2_000)),
        format!("{}alice{}", "(".repeat(10_000), ")".repeat(10_000)),
    ] {
        let output = home
            .missive()
            .args(["search", "--", &query])
            .timeout(HANG)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("nest more than 100 deep"), "{stderr}");
    }
}

#[test]
fn an_mbox_without_line_ends_is_an_error_and_the_messages_before_a_huge_line_flow() {
    let home = Home::new();
    let (code, records, stderr) = run(home
        .missive()
        .args(["fetch", "mbox:/dev/zero"])
        .timeout(HANG));
    assert_eq!(code, 1, "{stderr}");
    assert!(records.is_empty());
    assert!(
        stderr.contains("/dev/zero") && stderr.contains("longer than 16 MiB"),
        "{stderr}"
    );

    let mut mbox = b"From a@example.org Mon Jan  1 00:00:00 2024\n".to_vec();
    mbox.extend(mail("Message-ID: <before@example.org>\n", "fine\n"));
    mbox.extend(b"\nFrom b@example.org Mon Jan  1 00:00:00 2024\nSubject: huge\n\n");
    mbox.resize(mbox.len() + (17 << 20), b'x');
    home.write("huge.mbox", &mbox);
    let (code, records, stderr) = run(home
        .missive()
        .args(["fetch", "mbox:huge.mbox"])
        .timeout(HANG));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), 1, "{stderr}");
    assert_eq!(records[0]["native_id"], "<before@example.org>");
    assert!(stderr.contains("huge.mbox"), "{stderr}");
}

/// The most bytes the kernel may hold between a loopback server's writes and the client's
/// reads: the largest send buffer and the largest receive buffer TCP may grow to.
fn socket_buffers() -> usize {
    ["tcp_wmem", "tcp_rmem"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}")).unwrap();
            let largest = text.split_whitespace().last().unwrap();
            largest.parse::<usize>().unwrap()
        })
        .sum()
}

#[test]
fn an_imap_greeting_without_a_line_end_is_refused_at_the_limit_and_the_connection_closed() {
    use std::io::ErrorKind::WouldBlock;
    let limit = 1 << 20;
    let slack = socket_buffers();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Writes `* OK ` and then, with no newline, far more than the limit and every buffer on
    // the way could take: what it manages to write is what the client read, plus buffers.
    let server = std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let chunk = vec![b'x'; 64 << 10];
        let mut written = client.write(b"* OK ").unwrap();
        while written < 2 * (limit + slack) {
            match client.write(&chunk) {
                Ok(n) => written += n,
                Err(_) => break,
            }
        }
        (written, listener)
    });
    let home = Home::new();
    home.write_config(&format!(
        "[accounts.mail]\nsource = \"imap://alice@127.0.0.1:{port}\"\npassword_command = \"echo pw\"\ntls = \"none\"\ninsecure = true\n[limits]\nimap_line_mib = 1\n"
    ));

    let (code, records, stderr) = run(home.missive().args(["fetch", "mail"]).timeout(HANG));
    assert_eq!(code, 1, "not to be tried again later: {stderr}");
    assert!(records.is_empty());
    assert!(
        stderr.contains(&format!("account mail (imap://alice@127.0.0.1:{port})"))
            && stderr.contains("greeting: the IMAP server sent a line longer than 1 MiB")
            && stderr.contains("imap_line_mib"),
        "{stderr}"
    );
    let (written, listener) = server.join().unwrap();
    assert!(
        written <= limit + slack,
        "the client closed after reading {written} bytes, more than the limit and buffers"
    );
    listener.set_nonblocking(true).unwrap();
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        WouldBlock,
        "a line without end is not retried"
    );
}

#[test]
fn an_mbox_whose_first_from_line_is_malformed_keeps_its_first_message() {
    let home = Home::new();
    let mut mbox = b"From MAILER-DAEMON\n".to_vec();
    mbox.extend(mail("Message-ID: <first@example.org>\n", "first\n"));
    mbox.extend(b"\nFrom b@example.org Mon Jan  1 00:00:00 2024\n");
    mbox.extend(mail("Message-ID: <second@example.org>\n", "second\n"));
    home.write("m.mbox", &mbox);
    let (code, records, stderr) = run(home.missive().args(["fetch", "mbox:m.mbox"]));
    assert_eq!(code, 0, "{stderr}");
    let ids: Vec<&str> = records
        .iter()
        .filter_map(|r| r["native_id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["<first@example.org>", "<second@example.org>"],
        "{stderr}"
    );
    assert_eq!(records[0]["text"], "first\n");
}

#[test]
fn dates_out_of_range_are_dropped_with_a_problem() {
    let home = Home::new();
    let line = |ms: i64, text: &str| {
        format!(
            r#"{{"envelope":{{"source":"+33611111111","sourceNumber":"+33611111111","sourceName":"Bob","timestamp":{ms},"dataMessage":{{"timestamp":{ms},"message":"{text}"}}}},"account":"+33600000000"}}"#
        )
    };
    let export = [
        line(-1_000_000_000_000_000_000, "far past"),
        line(i64::MAX, "far future"),
        line(1_677_664_800_000, "today"),
    ]
    .join("\n");
    home.write("signal.jsonl", export.as_bytes());
    let (code, records, stderr) = run(home.missive().args(["fetch", "signal:signal.jsonl"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 3, "{stderr}");
    for record in &records[..2] {
        assert!(record.get("date").is_none_or(|d| d.is_null()), "{record}");
        assert!(
            record["problems"][0]
                .as_str()
                .unwrap()
                .contains("outside the years 0000 to 9999"),
            "{record}"
        );
    }
    assert_eq!(records[2]["date"], "2023-03-01T10:00:00Z");
}

#[test]
fn a_message_that_decrypts_to_more_than_the_limit_is_reported_and_the_others_decrypt() {
    let (home, gpg) = with_own_key(&format!(
        "[keys]\npassphrase_command = \"echo {PASSPHRASE}\"\n[limits]\nunpacked_mib = 1\n"
    ));
    for (name, id, plaintext) in [
        ("1.M1.x:2,S", "big", vec![b'a'; 4 << 20]),
        ("2.M2.x:2,S", "small", b"Meet at noon.\n".to_vec()),
    ] {
        let armoured = encrypt(&gpg, "sam@example.com", false, &plaintext);
        home.write(
            &format!("Mail/cur/{name}"),
            format!(
                "From: alice@example.org\nTo: sam@example.com\nSubject: inline\nDate: Mon, 01 Jan 2024 11:00:00 +0000\nMessage-ID: <{id}@example.org>\n\n{armoured}"
            )
            .as_bytes(),
        );
    }
    assert!(
        std::fs::metadata(home.path().join("Mail/cur/1.M1.x:2,S"))
            .unwrap()
            .len()
            < 1 << 20
    );
    let fetched = home
        .missive()
        .args(["fetch", "maildir:Mail"])
        .output()
        .unwrap();
    let (code, scored, stderr) = run(home
        .missive()
        .args(["score", "--decrypt"])
        .write_stdin(fetched.stdout)
        .timeout(HANG));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(scored.len(), 2, "both kept");
    assert!(stderr.contains("larger than 1 MiB"), "{stderr}");
    let decrypted: Vec<&str> = scored
        .iter()
        .filter(|r| r["security"]["decrypted"] == true)
        .filter_map(|r| r["native_id"].as_str())
        .collect();
    assert_eq!(decrypted, ["<small@example.org>"]);
}
