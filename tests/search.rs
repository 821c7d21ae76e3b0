//! `missive index`, `missive search` and `missive tag` over the real binary (issue 6):
//! every field of the query language finds what it should, errors point at their column.

use serde_json::Value;

use crate::support::{Home, run, sample_maildir};

/// A home whose index holds the sample Maildir, scored, plus a CJK message.
fn indexed() -> Home {
    let home = Home::new();
    home.write(
        "Extra/cur/1.M1.x:2,S",
        "From: 山田 <yamada@example.jp>\nTo: sam@example.com\nSubject: 会議\nDate: Mon, 20 Nov 2023 10:00:00 +0900\nMessage-ID: <cjk@example.jp>\nContent-Type: text/plain; charset=utf-8\n\n明日の会議は東京都で行います。회의는 내일입니다.\n".as_bytes(),
    );
    let source = format!("maildir:{}", sample_maildir().display());
    let output = home
        .missive()
        .args(["fetch", &source, "maildir:Extra"])
        .output()
        .unwrap();
    let scored = home
        .missive()
        .arg("score")
        .write_stdin(output.stdout)
        .output()
        .unwrap();
    // Threaded, so that every message is in a conversation and a thread.
    let threaded = home
        .missive()
        .arg("thread")
        .write_stdin(scored.stdout)
        .output()
        .unwrap();
    let (code, records, stderr) = run(home.missive().arg("index").write_stdin(threaded.stdout));
    assert_eq!(code, 0, "{stderr}");
    assert!(records.is_empty(), "index prints nothing on stdout");
    home
}

fn count(home: &Home, query: &str) -> usize {
    let output = home
        .missive()
        .args(["search", "-o", "count", "--", query])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{query}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn subjects(home: &Home, query: &str) -> Vec<String> {
    let (code, records, stderr) = run(home.missive().args(["search", "--sort", "date", query]));
    assert_eq!(code, 0, "{stderr}");
    records
        .iter()
        .map(|r| r["subject"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn every_field_finds_its_messages() {
    let home = indexed();
    for (query, expected) in [
        ("ecole", 2), // accents folded: "école" in the body
        ("ÉCOLE", 2),
        ("tomato", 1), // HTML body turned into text
        ("from:alice", 2),
        ("from:alice@example.org", 2),
        ("from:\"alice martin\"", 2),
        ("to:sam@example.com", 4),
        ("to:\"dev team\"", 1), // an address group's name
        ("with:carol", 1),
        ("with:alice", 4),
        ("subject:lunch", 2),
        ("subject:\"seed swap\"", 1),
        ("body:promised", 1),
        ("attachment:lake", 1),
        ("list:garden", 1),
        ("protocol:email", 7),
        ("is:encrypted", 1),
        ("is:flagged", 1),
        ("is:unread", 2),
        ("has:attachment", 3),
        ("date:2023-11-14", 2),
        ("date:2023-11-15..2023-11-17", 2),
        ("date:..2023-11-14", 2),
        ("東京", 1), // CJK pairs
        ("東京都", 1),
        ("会議", 1),
        ("from:山田", 1),
        ("내일", 1),
        ("privacy:0..100", 7),
        ("grade:A OR grade:B OR grade:C OR grade:D OR grade:E", 7),
    ] {
        assert_eq!(count(&home, query), expected, "{query}");
    }
}

#[test]
fn operators_and_precedence() {
    let home = indexed();
    assert_eq!(count(&home, "from:alice subject:lunch"), 1);
    assert_eq!(count(&home, "from:alice AND subject:lunch"), 1);
    assert_eq!(count(&home, "from:alice OR from:carol"), 3);
    assert_eq!(count(&home, "NOT from:alice"), 5);
    assert_eq!(count(&home, "-from:alice"), 5);
    assert_eq!(
        count(&home, "from:carol OR from:alice subject:lunch"),
        2,
        "AND before OR"
    );
    assert_eq!(count(&home, "(from:carol OR from:alice) subject:lunch"), 1);
    assert_eq!(count(&home, "from:alice -is:encrypted"), 1);
}

#[test]
fn the_account_and_id_fields_match_exactly() {
    let home = indexed();
    let (_, records, _) = run(home.missive().args(["search", "subject:photos"]));
    let id = records[0]["id"].as_str().unwrap();
    assert_eq!(count(&home, &format!("id:{id}")), 1);
    let account = records[0]["account"].as_str().unwrap();
    assert_eq!(count(&home, &format!("account:\"{account}\"")), 6);
}

#[test]
fn privacy_and_grade_come_from_score() {
    let home = indexed();
    let (_, records, _) = run(home.missive().args(["search", "is:encrypted"]));
    let score = records[0]["privacy"]["score"].as_u64().unwrap();
    let grade = records[0]["privacy"]["grade"].as_str().unwrap();
    assert!(count(&home, &format!("privacy:{score}")) >= 1);
    assert!(count(&home, &format!("is:encrypted grade:{grade}")) == 1);
    assert_eq!(count(&home, &format!("is:encrypted privacy:<{score}")), 0);
}

#[test]
fn sort_limit_offset_and_outputs() {
    let home = indexed();
    assert_eq!(
        subjects(&home, "from:alice"),
        ["Lunch on Thursday?", "Contract draft"]
    );
    let (_, newest, _) = run(home
        .missive()
        .args(["search", "from:alice", "--limit", "1"]));
    assert_eq!(
        newest[0]["subject"], "Contract draft",
        "newest first by default"
    );
    let (_, second, _) =
        run(home
            .missive()
            .args(["search", "from:alice", "--limit", "1", "--offset", "1"]));
    assert_eq!(second[0]["subject"], "Lunch on Thursday?");
    let output = home
        .missive()
        .args(["search", "-o", "ids", "from:alice"])
        .output()
        .unwrap();
    let ids = String::from_utf8(output.stdout).unwrap();
    assert_eq!(ids.lines().count(), 2);
    assert!(ids.lines().all(|l| l.starts_with("m_")));
    let (code, threads, _) = run(home
        .missive()
        .args(["search", "-o", "threads", "from:alice"]));
    assert_eq!(code, 0);
    assert_eq!(threads[0]["kind"], "thread");
    // A thread record counts every message of the thread: Alice's two and a reply to her.
    assert_eq!(
        threads
            .iter()
            .map(|t| t["messages"].as_u64().unwrap())
            .sum::<u64>(),
        3
    );
}

#[test]
fn a_bad_query_is_a_usage_error_pointing_at_its_column() {
    let home = indexed();
    let (code, records, stderr) = run(home.missive().args(["search", "from:alice frm:bob"]));
    assert_eq!(code, 2);
    assert!(records.is_empty());
    assert!(
        stderr.contains("column 12: unknown field \"frm\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n             ^"),
        "a caret under column 12: {stderr}"
    );
    let (code, _, stderr) = run(home.missive().args(["search", "(a OR b"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("column 8: missing ')'"), "{stderr}");
}

#[test]
fn analyze_shows_how_the_query_was_understood() {
    let home = Home::new();
    let output = home
        .missive()
        .args(["search", "--analyze", "from:alice OR NOT tag:work lunch"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim(),
        "(or from:words(\"alice\") (and (not tag=\"work\") text:words(\"lunch\")))"
    );
}

#[test]
fn tags_are_added_removed_and_searchable() {
    let home = indexed();
    let output = home
        .missive()
        .args(["tag", "+lunch", "+food", "--", "subject:lunch"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), "2");
    assert_eq!(count(&home, "tag:lunch"), 2);
    assert_eq!(count(&home, "tag:food -from:alice"), 1);
    let (_, records, _) = run(home.missive().args(["search", "tag:lunch"]));
    assert_eq!(records[0]["tags"], serde_json::json!(["food", "lunch"]));

    home.missive()
        .args(["tag", "-lunch", "--", "from:sam"])
        .assert()
        .success();
    assert_eq!(count(&home, "tag:lunch"), 1);
    assert_eq!(count(&home, "tag:food"), 2);
    let (code, _, stderr) = run(home.missive().args(["tag", "lunch", "--", "x"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("+TAG or -TAG"), "{stderr}");
}

#[test]
fn indexing_again_replaces_instead_of_duplicating() {
    let home = indexed();
    let source = format!("maildir:{}", sample_maildir().display());
    let again = home
        .missive()
        .args(["fetch", "--all", &source])
        .output()
        .unwrap();
    home.missive()
        .arg("index")
        .write_stdin(again.stdout)
        .assert()
        .success();
    assert_eq!(count(&home, "protocol:email"), 7);
}

#[test]
fn a_rebuild_reads_the_messages_again_and_keeps_tags() {
    let home = indexed();
    home.missive()
        .args(["tag", "+keep", "--", "subject:photos"])
        .assert()
        .success();
    let (code, _, stderr) = run(home.missive().args(["index", "--rebuild"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        count(&home, "body:promised"),
        1,
        "bodies come back from the sources"
    );
    assert_eq!(count(&home, "tag:keep"), 1);
    assert_eq!(count(&home, "protocol:email"), 7);
}

#[test]
fn a_bad_line_is_reported_and_the_rest_indexed() {
    let home = Home::new();
    let input = "{oops\n{\"kind\":\"message\",\"v\":1,\"id\":\"m_x\",\"protocol\":\"email\",\"account\":\"a\",\"source\":{\"kind\":\"eml\"},\"blob\":\"sha256:00\",\"native_id\":\"<x@y>\",\"subject\":\"hello there\"}\n";
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(input));
    assert_eq!(code, 1);
    assert!(stderr.contains("stdin:1"), "{stderr}");
    assert_eq!(count(&home, "subject:hello"), 1);
}

#[test]
fn a_star_finds_every_message_as_the_empty_query_does() {
    let home = indexed();
    let everything = count(&home, "");
    assert!(everything > 1);
    assert_eq!(count(&home, "*"), everything);
    assert_eq!(count(&home, "* AND from:alice"), count(&home, "from:alice"));
    let help = home
        .missive()
        .args(["search", "--help"])
        .output()
        .expect("missive runs");
    // Joined again where the help wraps its lines.
    let words: Vec<String> = String::from_utf8_lossy(&help.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(
        words
            .join(" ")
            .contains("`*` alone, as notmuch users type it, is every message"),
        "the help says so in words: {words:?}"
    );
}

#[test]
fn a_field_group_gives_its_field_to_each_term_as_notmuch_does() {
    let home = indexed();
    let alice = count(&home, "from:alice");
    let carol = count(&home, "from:carol");
    assert!(alice > 0 && carol > 0);
    assert_eq!(count(&home, "from:(alice OR carol)"), alice + carol);
    assert_eq!(
        count(&home, "from:(alice carol)"),
        0,
        "one sender, not both"
    );
    let (code, _, stderr) = run(home.missive().args(["search", "from:(alice"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("missing ')'"), "{stderr}");
}

/// Issue 19: search's conversations and threads are the records `thread --output
/// conversations` prints: contacts, without the user.
#[test]
fn search_prints_the_conversations_thread_prints_people_as_contacts_without_the_user() {
    let home = Home::new();
    home.write_config("[identity]\naddresses = [\"sam@example.com\"]\n");
    let source = format!("maildir:{}", sample_maildir().display());
    let fetched = home.missive().args(["fetch", &source]).output().unwrap();
    let threaded = home
        .missive()
        .args(["thread", "--output", "conversations"])
        .write_stdin(fetched.stdout.clone())
        .output()
        .unwrap();
    assert!(threaded.status.success());
    let by_thread: Vec<Value> = String::from_utf8(threaded.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(fetched.stdout));
    assert_eq!(code, 0, "{stderr}");

    let (code, found, stderr) =
        run(home
            .missive()
            .args(["search", "--output", "conversations", "from:carol"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!found.is_empty());
    for conversation in &found {
        assert_eq!(conversation["kind"], "conversation");
        let same = by_thread.iter().find(|c| c["id"] == conversation["id"]);
        assert_eq!(Some(conversation), same, "as thread prints it");
        let people = conversation["participants"].as_array().unwrap();
        assert!(
            people.iter().all(|p| p["identities"].is_array()),
            "{people:?}"
        );
        assert!(
            !conversation.to_string().contains("sam@example.com"),
            "the user is no participant: {conversation}"
        );
    }
    let (code, threads, _) =
        run(home
            .missive()
            .args(["search", "--output", "threads", "from:carol"]));
    assert_eq!(code, 0);
    assert!(threads.iter().all(|t| t["kind"] == "thread"
        && t["participants"][0]["identities"].is_array()
        && !t.to_string().contains("sam@example.com")));

    let text = home
        .missive()
        .args([
            "--format",
            "text",
            "search",
            "--output",
            "conversations",
            "from:carol",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.to_lowercase().contains("carol"), "{text}");
    assert!(!text.contains(", ,"), "{text}");
}

/// `--format text` holds for every `--output` that prints records, grouped ones too.
#[test]
fn grouped_outputs_honour_format_text() {
    let home = indexed();
    for output in ["messages", "threads", "conversations"] {
        let printed = home
            .missive()
            .args(["search", "--format", "text", "--output", output, ""])
            .output()
            .unwrap();
        assert_eq!(printed.status.code(), Some(0));
        let stdout = String::from_utf8(printed.stdout).unwrap();
        assert!(stdout.lines().count() > 0, "{output}: nothing printed");
        for line in stdout.lines() {
            assert!(
                !line.starts_with(['{', '[']),
                "{output} printed JSON with --format text: {line}"
            );
        }
    }
}

/// A date filter cannot place a message without a date: with `--format text`, search says
/// on stderr how many it left out, and only when there was a date filter.
#[test]
fn a_date_filter_says_how_many_undated_messages_it_left_out() {
    let home = Home::new();
    home.write(
        "Undated/cur/1.M1.x:2,S",
        b"From: alice@example.org\nTo: bob@example.net\nSubject: undated\nMessage-ID: <undated@example.org>\n\nNo Date header.\n",
    );
    let fetched = home
        .missive()
        .args(["fetch", "maildir:Undated"])
        .output()
        .unwrap();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(fetched.stdout));
    assert_eq!(code, 0, "{stderr}");
    let search = |format: &str, query: &str| {
        let output = home
            .missive()
            .args(["search", "--format", format, query])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let said = search("text", "date:2000.. from:alice");
    assert!(
        said.contains("1 message without a date left out by the date filter"),
        "{said:?}"
    );
    assert_eq!(
        search("jsonl", "date:2000.. from:alice"),
        "",
        "text format only"
    );
    assert_eq!(
        search("text", "from:alice"),
        "",
        "no date filter, nothing to say"
    );
    assert_eq!(
        search("text", "date:2000.. from:carol"),
        "",
        "no undated message from carol"
    );
}
