//! `missive thread` (issue 5): conversations by people across protocols, JWZ threads with
//! their edge cases, ids that do not depend on which part of the history a run sees, the
//! conversation records and the tree.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{Home, run, text_lines};

const CONFIG: &str =
    "[identity]\naddresses = [\"me@example.org\", \"@me@social.example\", \"twitter:@me\"]\n";

/// A message record of `protocol` from `from` to `to`, with reference headers and subject.
fn message(id: &str, protocol: &str, native: &str, from: &str, to: &str) -> Value {
    json!({
        "kind": "message", "v": 1, "id": id, "protocol": protocol, "account": "test",
        "source": {"kind": "jsonl"}, "blob": format!("sha256:{id}"), "native_id": native,
        "date": format!("2024-01-01T00:00:{:02}Z", id.trim_start_matches("m_").parse::<u32>().unwrap_or(0) % 60),
        "from": {"name": null, "address": from}, "to": [{"name": null, "address": to}],
        "subject": "Hello", "mine": "kept"
    })
}

fn email(id: &str, native: &str, refs: &[&str], subject: &str) -> Value {
    let mut m = message(id, "email", native, "alice@example.org", "me@example.org");
    m["references"] = json!(refs);
    m["in_reply_to"] = json!(refs.last().map(|r| vec![*r]).unwrap_or_default());
    m["subject"] = json!(subject);
    m
}

fn lines(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// Runs `missive thread` on the records; returns id → (conversation, thread).
fn thread(home: &Home, records: &[Value]) -> BTreeMap<String, (String, String)> {
    let (code, out, stderr) = run(home.missive().arg("thread").write_stdin(lines(records)));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(out.len(), records.len());
    out.iter()
        .map(|r| {
            assert_eq!(r["mine"], "kept", "unknown fields survive");
            (
                r["id"].as_str().unwrap().to_string(),
                (
                    r["conversation"].as_str().unwrap().to_string(),
                    r["thread"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect()
}

fn alice_everywhere() -> Vec<Value> {
    vec![
        message(
            "m_1",
            "email",
            "<e1@example.org>",
            "alice@example.org",
            "me@example.org",
        ),
        message(
            "m_2",
            "mastodon",
            "1001",
            "@alice@social.example.org",
            "@me@social.example",
        ),
        message("m_3", "twitter", "2002", "@AliceTweets", "@me"),
        message(
            "m_4",
            "email",
            "<e2@example.org>",
            "me@example.org",
            "alice@example.org",
        ),
    ]
}

#[test]
fn an_email_a_mastodon_dm_and_a_twitter_dm_of_one_person_are_one_conversation_once_linked() {
    let home = Home::new();
    home.write_config(CONFIG);
    let (code, _, _) = run(home.missive().args([
        "contacts",
        "link",
        "alice@example.org",
        "@alice@social.example.org",
        "twitter:@alicetweets",
    ]));
    assert_eq!(code, 0);
    let ids = thread(&home, &alice_everywhere());
    let conversations: Vec<&String> = ids.values().map(|(c, _)| c).collect();
    assert!(
        conversations.iter().all(|c| *c == conversations[0]),
        "{ids:#?}"
    );
    assert!(conversations[0].starts_with("c_"));

    let (code, out, _) = run(home
        .missive()
        .args(["thread", "--output", "conversations"])
        .write_stdin(lines(&alice_everywhere())));
    assert_eq!(code, 0);
    assert_eq!(out.len(), 1);
    let conversation = &out[0];
    assert_eq!(conversation["kind"], "conversation");
    assert_eq!(
        conversation["protocols"],
        json!(["email", "mastodon", "twitter"])
    );
    assert_eq!(conversation["messages"], 4);
    assert_eq!(conversation["participants"].as_array().unwrap().len(), 1);
    assert_eq!(
        conversation["participants"][0]["identities"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(conversation["recent_subjects"], json!(["Hello"]));
}

#[test]
fn an_unlinked_address_is_a_separate_conversation_until_linked_then_merges() {
    let home = Home::new();
    home.write_config(CONFIG);
    let before = thread(&home, &alice_everywhere());
    assert_eq!(
        before["m_1"].0, before["m_4"].0,
        "to and from alice: one conversation"
    );
    assert_ne!(before["m_1"].0, before["m_2"].0);
    assert_ne!(before["m_2"].0, before["m_3"].0);

    let (code, _, stderr) = run(home.missive().args([
        "contacts",
        "link",
        "alice@example.org",
        "@alice@social.example.org",
    ]));
    assert_eq!(code, 0);
    assert!(
        stderr.contains("1 stored message(s) changed conversation"),
        "{stderr}"
    );
    let (_, out, _) = run(home
        .missive()
        .args(["thread", "--output", "conversations"])
        .write_stdin(lines(&alice_everywhere()[..1])));
    assert_eq!(
        out[0]["messages"], 3,
        "the stored mastodon DM moved in: {out:#?}"
    );

    let after = thread(&home, &alice_everywhere());
    assert_eq!(
        after["m_1"].0, before["m_1"].0,
        "the first identity's id is kept"
    );
    assert_eq!(after["m_2"].0, before["m_1"].0, "merged");
    assert_eq!(after["m_3"].0, before["m_3"].0, "twitter not linked yet");
    assert_eq!(
        after["m_1"].1, before["m_1"].1,
        "threads do not depend on contacts"
    );

    run(home
        .missive()
        .args(["contacts", "unlink", "@alice@social.example.org"]));
    let split = thread(&home, &alice_everywhere());
    assert_eq!(split["m_2"].0, before["m_2"].0, "unlinking splits it again");
}

#[test]
fn list_mail_goes_to_the_lists_conversation() {
    let home = Home::new();
    let mut a = email("m_1", "<l1@example.org>", &[], "Hello");
    let mut b = message(
        "m_2",
        "email",
        "<l2@example.org>",
        "bob@example.org",
        "list@example.org",
    );
    a["list_id"] = json!("team.example.org");
    b["list_id"] = json!("team.example.org");
    let ids = thread(&home, &[a, b, email("m_3", "<l3@example.org>", &[], "Hi")]);
    assert_eq!(ids["m_1"].0, ids["m_2"].0);
    assert_ne!(
        ids["m_1"].0, ids["m_3"].0,
        "alice off the list is another conversation"
    );
}

#[test]
fn a_missing_parent_leaves_its_replies_in_one_thread() {
    let home = Home::new();
    let ids = thread(
        &home,
        &[
            email("m_1", "<b@x>", &["<root@x>"], "Re: q"),
            email("m_2", "<c@x>", &["<root@x>", "<b@x>"], "Re: q"),
            email("m_3", "<d@x>", &["<root@x>"], "Re: q"),
            email("m_4", "<other@x>", &[], "q"),
        ],
    );
    assert_eq!(ids["m_1"].1, ids["m_2"].1);
    assert_eq!(ids["m_1"].1, ids["m_3"].1, "siblings under a missing root");
    assert_ne!(
        ids["m_1"].1, ids["m_4"].1,
        "headers present: no subject fallback"
    );
}

#[test]
fn a_cycle_in_references_is_one_thread_and_ends() {
    let home = Home::new();
    let records = [
        email("m_1", "<a@x>", &["<b@x>"], "loop"),
        email("m_2", "<b@x>", &["<a@x>"], "loop"),
        email("m_3", "<c@x>", &["<c@x>", "<a@x>"], "loop"),
    ];
    let ids = thread(&home, &records);
    assert_eq!(ids["m_1"].1, ids["m_2"].1);
    assert_eq!(ids["m_1"].1, ids["m_3"].1);
    let output = home
        .missive()
        .args(["thread", "--format", "tree"])
        .write_stdin(lines(&records))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let tree = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        tree.lines()
            .filter(|l| l.contains("Alice") || l.contains("alice"))
            .count(),
        3,
        "{tree}"
    );
}

#[test]
fn duplicate_message_ids_share_a_thread_and_both_pass() {
    let home = Home::new();
    let ids = thread(
        &home,
        &[
            email("m_1", "<dup@x>", &[], "one"),
            email("m_2", "<dup@x>", &[], "one again"),
            email("m_3", "<r@x>", &["<dup@x>"], "Re: one"),
        ],
    );
    assert_eq!(ids.len(), 3);
    assert_eq!(ids["m_1"].1, ids["m_2"].1);
    assert_eq!(ids["m_1"].1, ids["m_3"].1);
}

#[test]
fn the_subject_threads_only_messages_without_reference_headers() {
    let home = Home::new();
    let ids = thread(
        &home,
        &[
            email("m_1", "<s1@x>", &[], "Lunch on Friday"),
            email("m_2", "<s2@x>", &[], "AW: [team] Lunch  on friday"),
            email("m_3", "<s3@x>", &[], "回复：Lunch on Friday"),
            email("m_4", "<s4@x>", &["<elsewhere@x>"], "Re: Lunch on Friday"),
            email("m_5", "<s5@x>", &[], "Lunch on Saturday"),
            email("m_6", "<s6@x>", &[], "Hello"),
            email("m_7", "<s7@x>", &[], "Hello"),
        ],
    );
    assert_eq!(ids["m_1"].1, ids["m_2"].1);
    assert_eq!(ids["m_1"].1, ids["m_3"].1);
    assert_ne!(ids["m_1"].1, ids["m_4"].1, "it has reference headers");
    assert_ne!(ids["m_1"].1, ids["m_5"].1);
    assert_ne!(
        ids["m_6"].1, ids["m_7"].1,
        "two first messages with one subject, no reply"
    );
}

#[test]
fn a_message_quoting_five_hundred_references_is_threaded() {
    let home = Home::new();
    let refs: Vec<String> = (0..500).map(|i| format!("<r{i}@x>")).collect();
    let refs: Vec<&str> = refs.iter().map(String::as_str).collect();
    let ids = thread(
        &home,
        &[
            email("m_1", "<r0@x>", &[], "long"),
            email("m_2", "<r250@x>", &refs[..250], "Re: long"),
            email("m_3", "<last@x>", &refs, "Re: long"),
        ],
    );
    assert_eq!(ids["m_1"].1, ids["m_3"].1);
    assert_eq!(ids["m_2"].1, ids["m_3"].1);
    let output = home
        .missive()
        .args(["thread", "--format", "tree"])
        .write_stdin(lines(&[email("m_3", "<last@x>", &refs, "Re: long")]))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}

/// A history where late messages join threads begun apart.
fn history() -> Vec<Value> {
    vec![
        email("m_1", "<h1@x>", &[], "first"),
        email("m_2", "<h2@x>", &["<h1@x>"], "Re: first"),
        email("m_3", "<h3@x>", &[], "second"),
        email("m_4", "<h4@x>", &["<h3@x>"], "Re: second"),
        email("m_5", "<h5@x>", &["<h1@x>", "<h4@x>"], "Re: both"),
        email("m_6", "<h6@x>", &["<ghost@x>"], "Re: ghost"),
        email("m_7", "<h7@x>", &["<ghost@x>"], "Re: ghost"),
        email("m_8", "<h8@x>", &[], "Plans"),
        email("m_9", "<h9@x>", &[], "Re: Plans"),
        message(
            "m_10",
            "mastodon",
            "77",
            "@alice@social.example.org",
            "@me@social.example",
        ),
        {
            let mut m = message(
                "m_11",
                "mastodon",
                "78",
                "@me@social.example",
                "@alice@social.example.org",
            );
            m["in_reply_to"] = json!(["77"]);
            m
        },
    ]
}

#[test]
fn ids_on_a_subset_equal_those_on_the_whole_history_whatever_the_order_of_runs() {
    let whole_home = Home::new();
    let whole = thread(&whole_home, &history());
    assert_eq!(whole["m_1"].1, whole["m_4"].1, "m_5 joined the two threads");
    assert_eq!(whole["m_6"].1, whole["m_7"].1);
    assert_eq!(whole["m_8"].1, whole["m_9"].1);
    assert_eq!(whole["m_10"].1, whole["m_11"].1);

    let records = history();
    // Several splits of the history into daily runs, in different orders.
    let splits: [&[&[usize]]; 4] = [
        &[&[0, 1, 2, 3], &[4], &[5, 6, 7, 8, 9, 10]],
        &[&[4], &[3, 2], &[1, 0], &[10, 9], &[8, 7, 6, 5]],
        &[
            &[8],
            &[5],
            &[6],
            &[9],
            &[0],
            &[2],
            &[4],
            &[1],
            &[3],
            &[10],
            &[7],
        ],
        &[&[0, 2, 4, 6, 8, 10], &[1, 3, 5, 7, 9]],
    ];
    for split in splits {
        let home = Home::new();
        for day in split {
            let chunk: Vec<Value> = day.iter().map(|&i| records[i].clone()).collect();
            thread(&home, &chunk);
        }
        for day in split {
            let chunk: Vec<Value> = day.iter().map(|&i| records[i].clone()).collect();
            let again = thread(&home, &chunk);
            for (id, ids) in again {
                assert_eq!(ids, whole[&id], "{id} in split {split:?}");
            }
        }
    }
}

#[test]
fn rebuild_recomputes_the_same_ids_from_the_store() {
    let home = Home::new();
    let whole = thread(&home, &history());
    let (code, _, stderr) = run(home.missive().args(["thread", "--rebuild"]));
    assert_eq!(code, 0);
    assert!(
        stderr.contains("rebuilt 11 messages: 0 changed thread"),
        "{stderr}"
    );
    assert_eq!(thread(&home, &history()), whole);
}

#[test]
fn other_records_pass_and_bad_lines_are_reported_by_number() {
    let home = Home::new();
    let input = format!(
        "{}\n{{oops\n{{\"kind\":\"contact\",  \"id\":\"x\"}}\n",
        email("m_1", "<a@x>", &[], "a")
    );
    let output = home
        .missive()
        .arg("thread")
        .write_stdin(input)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        stdout.lines().nth(1),
        Some("{\"kind\":\"contact\",  \"id\":\"x\"}")
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("stdin:2:"));
}

#[test]
fn conversations_summarise_privacy_when_records_carry_it() {
    let home = Home::new();
    home.write_config(CONFIG);
    let mut a = message(
        "m_1",
        "email",
        "<p1@x>",
        "alice@example.org",
        "me@example.org",
    );
    let mut b = message(
        "m_2",
        "email",
        "<p2@x>",
        "me@example.org",
        "alice@example.org",
    );
    a["privacy"] = json!({"score": 80, "grade": "B", "label": "sealed-letter", "technic": 80, "context": 80, "comportment": 80});
    b["privacy"] = json!({"score": 30, "grade": "D", "label": "postcard", "technic": 30, "context": 30, "comportment": 30});
    let (code, out, _) = run(home
        .missive()
        .args(["thread", "--output", "conversations"])
        .write_stdin(lines(&[a, b])));
    assert_eq!(code, 0);
    let privacy = &out[0]["privacy"];
    assert_eq!(privacy["scored"], 2);
    assert_eq!(privacy["mean"], 55);
    assert_eq!(privacy["lowest_grade"], "D");
    assert_eq!(out[0]["first_date"], "2024-01-01T00:00:01Z");
}

#[test]
fn a_file_on_stdin_is_read_twice_and_gives_the_bytes_a_pipe_gives() {
    let home = Home::new();
    let input = format!(
        "{}\n\n{{oops\n{{\"kind\":\"contact\",  \"id\":\"x\"}}\n  \n{}\n",
        email("m_1", "<f1@x>", &[], "a"),
        email("m_2", "<f2@x>", &["<f1@x>"], "Re: a")
    );
    let file = home.write("input.jsonl", input.as_bytes());
    let piped = home
        .missive()
        .arg("thread")
        .write_stdin(input)
        .output()
        .unwrap();
    let from_file = home
        .missive()
        .arg("thread")
        .pipe_stdin(&file)
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(1), "the bad line is reported");
    assert_eq!(from_file.status.code(), Some(1));
    assert_eq!(
        String::from_utf8(from_file.stdout).unwrap(),
        String::from_utf8(piped.stdout.clone()).unwrap()
    );
    let stdout = String::from_utf8(piped.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 3);
    let first: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert!(first["thread"].as_str().unwrap().starts_with("t_"));
}

#[test]
fn threading_threaded_records_again_changes_nothing() {
    let home = Home::new();
    let once = home
        .missive()
        .arg("thread")
        .write_stdin(lines(&history()))
        .output()
        .unwrap();
    assert_eq!(once.status.code(), Some(0));
    let twice = home
        .missive()
        .arg("thread")
        .write_stdin(once.stdout.clone())
        .output()
        .unwrap();
    assert_eq!(twice.status.code(), Some(0));
    // A record with ids is written again (defaults filled in), one without is spliced:
    // the ids and the user's fields are what must not change.
    let ids = |bytes: &[u8]| -> Vec<(Value, Value, Value, Value)> {
        String::from_utf8(bytes.to_vec())
            .unwrap()
            .lines()
            .map(|l| {
                let r: Value = serde_json::from_str(l).unwrap();
                (
                    r["id"].clone(),
                    r["conversation"].clone(),
                    r["thread"].clone(),
                    r["mine"].clone(),
                )
            })
            .collect()
    };
    let first = ids(&once.stdout);
    assert_eq!(ids(&twice.stdout), first);
    assert!(first[0].1.as_str().unwrap().starts_with("c_"));
    assert!(first[0].2.as_str().unwrap().starts_with("t_"));
}

#[test]
fn addresses_of_one_openpgp_certificate_are_one_conversation() {
    use crate::support::openpgp::GnuPg;
    let home = Home::new();
    home.write_config(CONFIG);
    let gpg = GnuPg::new();
    let fingerprint = gpg.generate("Ann <ann@example.org>");
    gpg.run(
        &[
            "--quick-add-uid",
            &fingerprint,
            "Ann <ann@work.example.net>",
        ],
        None,
    );
    let records = [
        message(
            "m_1",
            "email",
            "<k1@x>",
            "ann@example.org",
            "me@example.org",
        ),
        message(
            "m_2",
            "email",
            "<k2@x>",
            "ann@work.example.net",
            "me@example.org",
        ),
    ];
    let before = thread(&home, &records);
    assert_ne!(before["m_1"].0, before["m_2"].0, "no key yet: two people");
    let armored = gpg.run(&["--armor", "--export", &fingerprint], None);
    let (code, _, stderr) = run(home.missive().args(["keys", "import"]).write_stdin(armored));
    assert_eq!(code, 0, "{stderr}");
    let after = thread(&home, &records);
    assert_eq!(
        after["m_1"].0, after["m_2"].0,
        "one certificate: one person"
    );
}

#[test]
fn thread_prints_text_lines_with_format_text() {
    let home = Home::new();
    home.write_config(CONFIG);
    let records = [
        email("m_1", "<a@example.org>", &[], "Plans"),
        email("m_2", "<b@example.org>", &["<a@example.org>"], "Re: Plans"),
    ];
    let messages = text_lines(home.missive().arg("thread").write_stdin(lines(&records)));
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[1].starts_with("2024-01-01T00:00") && messages[1].ends_with("Re: Plans"),
        "{messages:?}"
    );
    let conversations = text_lines(
        home.missive()
            .args(["thread", "--output", "conversations"])
            .write_stdin(lines(&records)),
    );
    assert_eq!(conversations.len(), 1, "{conversations:?}");
    assert!(
        conversations[0].starts_with("c_")
            && conversations[0].contains("2 msg")
            && conversations[0].contains("alice@example.org"),
        "{conversations:?}"
    );
}
