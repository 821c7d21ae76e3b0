//! `missive fetch` of Mastodon direct messages (issue 8) from a loopback instance replaying
//! the documented API: pages of conversations, a group DM, a 429 waited out, a deleted
//! status, incremental reruns, a failure mid-walk resumed without gap or duplicate, plain
//! HTTP only when insecure, the token in no output, and `index --rebuild` reading the
//! archived statuses again; against the documentation (issue 18): a token of the
//! `read:statuses` scope only passes `config check --connect`, the listing is paged by
//! the Link header's URLs only, and local accounts take the instance's account domain.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::mastodon::{Instance, ME, STATUSES_TOKEN, TOKEN, status};
use crate::support::{Home, run};

/// Writes a config with one Mastodon account `social` on `instance`; the token is read
/// from a file, so it is in no command line either. `extra` adds lines to the account.
fn configure(home: &Home, instance: &Instance, token: &str, extra: &str) {
    configure_as(home, instance, token, &[], extra);
}

/// [`configure`], the user also being `addresses` on other protocols.
fn configure_as(home: &Home, instance: &Instance, token: &str, addresses: &[&str], extra: &str) {
    let token_file = home.write("token", token.as_bytes());
    let ca = if instance.ca_file().exists() {
        format!("ca_file = {:?}\n", instance.ca_file().display().to_string())
    } else {
        String::new()
    };
    home.write_config(&format!(
        "[identity]\naddresses = [\"@{ME}@{host}\"{others}]\n\n[accounts.social]\nsource = \"mastodon://{ME}@{host}:{port}\"\ntoken_command = \"cat {token}\"\n{ca}{extra}",
        others = addresses
            .iter()
            .map(|a| format!(", {a:?}"))
            .collect::<String>(),
        host = instance.host(),
        port = instance.port,
        token = token_file.display(),
    ));
}

/// Three threads: a two-person exchange of three statuses with a public reply in it, a
/// group DM (three participants) with an image, and a one-status DM from a remote account;
/// then two more one-status DMs, so the listing takes three pages of two.
fn populate(instance: &Instance) {
    instance.add_direct(101, "bob@other.example", None, &[ME], "<p>@alex lunch?</p>");
    instance.add_direct(
        102,
        ME,
        Some(101),
        &["bob@other.example"],
        "<p>Yes, <b>noon</b></p><p>at the usual place</p>",
    );
    instance.add(status(
        103,
        "bob@other.example",
        Some(102),
        &[],
        "<p>a public aside</p>",
        "public",
    ));
    instance.add_direct(104, "bob@other.example", Some(102), &[ME], "<p>see you</p>");
    let mut group = status(
        110,
        "carol",
        None,
        &[ME, "dan@third.example"],
        "<p>plans for <i>Saturday</i></p>",
        "direct",
    );
    group["media_attachments"] = serde_json::json!([{
        "id": "77", "type": "image", "url": "https://127.0.0.1/system/media/map.png",
        "preview_url": "https://127.0.0.1/system/media/small/map.png", "remote_url": null,
        "meta": {}, "description": "the map", "blurhash": null
    }]);
    instance.add(group);
    instance.add_direct(
        111,
        "dan@third.example",
        Some(110),
        &["carol", ME],
        "<p>I am in</p>",
    );
    instance.add_direct(
        120,
        "erin@other.example",
        None,
        &[ME],
        "<p>hello from erin</p>",
    );
    instance.add_direct(130, "fay", None, &[ME], "<p>hi from fay</p>");
    instance.add_direct(140, "gus@fourth.example", None, &[ME], "<p>hi from gus</p>");
}

/// An instance holding [`populate`]'s statuses, and a home configured to read it.
fn populated() -> (Instance, Home) {
    let instance = Instance::start(true);
    populate(&instance);
    let home = Home::new();
    configure(&home, &instance, TOKEN, "");
    (instance, home)
}

fn fetch(home: &Home) -> (i32, Vec<Value>, String) {
    run(home.missive().args(["fetch", "social"]))
}

fn native_ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["native_id"].as_str().expect("a native id").to_string())
        .collect()
}

fn uri(acct: &str, id: u64) -> String {
    let (user, domain) = acct.split_once('@').unwrap_or((acct, "127.0.0.1"));
    format!("https://{domain}/users/{user}/statuses/{id}")
}

fn by_uri<'a>(records: &'a [Value], uri: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["native_id"] == uri)
        .unwrap_or_else(|| panic!("no record for {uri}"))
}

fn assert_no_token(outputs: &[&str]) {
    for output in outputs {
        assert!(!output.contains(TOKEN), "the token leaked: {output}");
    }
}

#[test]
fn direct_messages_are_fetched_over_https_across_pages_and_a_rerun_adds_nothing() {
    let (instance, home) = populated();

    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    let ids: BTreeSet<String> = native_ids(&records).into_iter().collect();
    let expected: BTreeSet<String> = [
        uri("bob@other.example", 101),
        uri(ME, 102),
        uri("bob@other.example", 104),
        uri("carol", 110),
        uri("dan@third.example", 111),
        uri("erin@other.example", 120),
        uri("fay", 130),
        uri("gus@fourth.example", 140),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        ids, expected,
        "every direct status once, the public one left out"
    );
    assert_eq!(records.len(), expected.len(), "no status twice");
    let pages = instance
        .requests()
        .iter()
        .filter(|r| r.starts_with("/api/v1/conversations"))
        .count();
    assert!(
        pages >= 4,
        "three pages of two and the empty one after: {pages}"
    );

    let reply = by_uri(&records, &uri(ME, 102));
    assert_eq!(reply["protocol"], "mastodon");
    assert_eq!(reply["account"], "social");
    assert_eq!(reply["from"]["address"], "@alex@127.0.0.1");
    assert_eq!(reply["to"][0]["address"], "@bob@other.example");
    assert_eq!(reply["in_reply_to"][0], uri("bob@other.example", 101));
    assert_eq!(reply["date"], "2024-03-01T10:42:00Z");
    assert_eq!(reply["security"]["encryption"], "none");
    let text = reply["text"].as_str().expect("text");
    assert!(
        text.contains("Yes, noon") && text.contains("at the usual place") && !text.contains("<b>"),
        "{text}"
    );
    // A reply to the public status names it: the thread stays whole.
    let after_aside = by_uri(&records, &uri("bob@other.example", 104));
    assert_eq!(after_aside["in_reply_to"][0], uri(ME, 102));
    assert_eq!(after_aside["references"][0], uri("bob@other.example", 101));

    let group = by_uri(&records, &uri("dan@third.example", 111));
    let participants: BTreeSet<&str> = std::iter::once(&group["from"])
        .chain(group["to"].as_array().expect("to"))
        .map(|a| a["address"].as_str().expect("an address"))
        .collect();
    assert_eq!(
        participants,
        BTreeSet::from(["@dan@third.example", "@carol@127.0.0.1", "@alex@127.0.0.1"]),
        "a group DM has three participants, handles canonical"
    );
    let first = by_uri(&records, &uri("carol", 110));
    assert_eq!(first["attachments"][0]["filename"], "map.png");
    assert_eq!(first["attachments"][0]["content_type"], "image/png");

    // The raw JSON of each status is in the archive, where the record says.
    let path = reply["source"]["path"].as_str().expect("an archive path");
    let raw: Value =
        serde_json::from_slice(&std::fs::read(path).expect("the archived status")).expect("JSON");
    assert_eq!(raw["uri"], uri(ME, 102));
    assert_eq!(reply["source"]["instance"], "127.0.0.1");

    // Threads: the exchange with Bob is one thread, the group DM another.
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let (code, threaded, stderr) = run(home.missive().arg("thread").write_stdin(input));
    assert_eq!(code, 0, "{stderr}");
    let thread_of = |u: &str| by_uri(&threaded, u)["thread"].clone();
    assert_eq!(
        thread_of(&uri("bob@other.example", 101)),
        thread_of(&uri("bob@other.example", 104))
    );
    assert_ne!(
        thread_of(&uri("bob@other.example", 101)),
        thread_of(&uri("carol", 110))
    );

    // The group DM's conversation is Carol and Dan: the user is not a participant.
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let (code, conversations, stderr) = run(home
        .missive()
        .args(["thread", "--output", "conversations"])
        .write_stdin(input));
    assert_eq!(code, 0, "{stderr}");
    let people: Vec<BTreeSet<String>> = conversations
        .iter()
        .map(|c| {
            c["participants"]
                .as_array()
                .expect("participants")
                .iter()
                .flat_map(|p| p["identities"].as_array().expect("identities").clone())
                .map(|i| i.as_str().expect("an identity").to_string())
                .collect()
        })
        .collect();
    assert!(
        people.contains(&BTreeSet::from([
            "mastodon:@carol@127.0.0.1".to_string(),
            "mastodon:@dan@third.example".to_string()
        ])),
        "{people:?}"
    );

    let before = instance.requests().len();
    let (code, again, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert!(again.is_empty(), "nothing new: {again:?}");
    let rerun: Vec<String> = instance.requests()[before..].to_vec();
    assert_eq!(rerun.len(), 1, "one empty page and nothing else: {rerun:?}");
    assert_no_token(&[&stderr, &format!("{records:?}")]);
}

#[test]
fn a_new_status_is_the_only_one_fetched_on_the_next_run() {
    let (instance, home) = populated();
    let (code, first, stderr) = fetch(&home);
    assert_eq!((code, first.len()), (0, 8), "{stderr}");

    instance.add_direct(
        150,
        "carol",
        Some(111),
        &[ME, "dan@third.example"],
        "<p>see you all</p>",
    );
    let before = instance.requests().len();
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(native_ids(&records), [uri("carol", 150)]);
    assert_eq!(records[0]["in_reply_to"][0], uri("dan@third.example", 111));
    let asked: Vec<String> = instance.requests()[before..]
        .iter()
        .filter(|r| r.contains("/context"))
        .cloned()
        .collect();
    assert!(
        asked
            .iter()
            .all(|r| r.contains("/150/") || r.contains("/110/")),
        "only the grown thread is read again: {asked:?}"
    );
}

#[test]
fn a_429_is_waited_out_and_the_request_retried() {
    let (instance, home) = populated();
    instance.state.lock().unwrap().rate_limited = 1;
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 8);
    let requests = instance.requests();
    assert_eq!(
        requests[0], requests[1],
        "the refused request is asked again"
    );
}

#[test]
fn a_deleted_status_is_reported_and_nothing_fetched_is_lost() {
    let (instance, home) = populated();
    let (code, first, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    let archived: Vec<String> = first
        .iter()
        .map(|r| r["source"]["path"].as_str().expect("a path").to_string())
        .collect();

    // Erin writes again and deletes it before we read the thread; Hal's DM is new.
    instance.add_direct(160, "erin@other.example", Some(120), &[ME], "<p>oops</p>");
    instance.state.lock().unwrap().deleted.push("160".into());
    instance.add_direct(170, "hal@other.example", None, &[ME], "<p>hi from hal</p>");
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "a deleted status is no failure: {stderr}");
    assert_eq!(native_ids(&records), [uri("hal@other.example", 170)]);
    assert!(
        stderr.contains(&uri("erin@other.example", 160)) && stderr.contains("deleted"),
        "{stderr}"
    );
    for path in &archived {
        assert!(std::path::Path::new(path).exists(), "{path} is kept");
    }
    // Reported once: the cursor moved past it.
    let (code, again, stderr) = fetch(&home);
    assert_eq!((code, again.len()), (0, 0), "{stderr}");
    assert!(!stderr.contains("deleted"), "{stderr}");

    // Alex's reply disappears from the server; Bob answers again in that thread.
    instance
        .state
        .lock()
        .unwrap()
        .statuses
        .retain(|s| s["id"] != "102");
    instance.add_direct(
        180,
        "bob@other.example",
        Some(104),
        &[ME],
        "<p>still on?</p>",
    );
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(native_ids(&records), [uri("bob@other.example", 180)]);
    assert_eq!(records[0]["in_reply_to"][0], uri("bob@other.example", 104));
    assert!(
        stderr.contains("status 102") && stderr.contains("gone"),
        "the vanished status is reported: {stderr}"
    );
    let reply = by_uri(&first, &uri(ME, 102));
    let path = reply["source"]["path"].as_str().expect("a path");
    assert!(
        std::path::Path::new(path).exists(),
        "its archived JSON is kept"
    );
}

#[test]
fn a_failure_mid_walk_resumes_without_gap_or_duplicate() {
    let (instance, home) = populated();
    // The third thread (Erin's, on the second page) cannot be read: the walk stops there.
    instance.state.lock().unwrap().failing.push("120".into());
    let (code, partial, stderr) = fetch(&home);
    assert_eq!(code, 75, "a server failure is temporary: {stderr}");
    assert_eq!(partial.len(), 5, "the first page was recorded: {partial:?}");
    instance.state.lock().unwrap().failing.clear();
    let (code, rest, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    let mut all = native_ids(&partial);
    all.extend(native_ids(&rest));
    let unique: BTreeSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), all.len(), "no status twice: {all:?}");
    assert_eq!(all.len(), 8, "no status missed: {all:?}");
}

#[test]
fn plain_http_needs_insecure_and_counts_against_the_device() {
    let instance = Instance::start(false);
    populate(&instance);
    let home = Home::new();
    configure(&home, &instance, TOKEN, "tls = \"none\"\n");
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 2, "refused without insecure: {stderr}");
    assert!(
        records.is_empty() && stderr.contains("insecure = true"),
        "{stderr}"
    );

    configure(&home, &instance, TOKEN, "tls = \"none\"\ninsecure = true\n");
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (0, 8), "{stderr}");
    let (_, device, stderr) = run(home.missive().args(["score", "--device"]));
    let factors = device[0]["privacy"]["factors"].to_string();
    assert!(
        factors.contains("device_account_in_clear"),
        "{factors} {stderr}"
    );

    // Without tls = "none", HTTPS it is: a server speaking plain HTTP gets nothing.
    configure(&home, &instance, TOKEN, "");
    let (code, records, stderr) = run(home.missive().args(["fetch", "--all", "social"]));
    assert_eq!((code, records.len()), (75, 0), "{stderr}");
    assert!(stderr.contains("account social"), "{stderr}");
}

#[test]
fn a_refused_token_is_a_config_error_and_no_token_is_ever_shown() {
    let instance = Instance::start(true);
    populate(&instance);
    let home = Home::new();
    let wrong = "tok-WRONG-9999-never-shown";
    configure(&home, &instance, wrong, "");
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 2, "{stderr}");
    assert!(records.is_empty());
    assert!(
        stderr.contains("account social") && stderr.contains("token"),
        "{stderr}"
    );
    assert!(!stderr.contains(wrong), "{stderr}");

    configure(&home, &instance, TOKEN, "");
    let (code, records, stderr) = run(home
        .missive()
        .args(["--errors", "jsonl", "fetch", "social"]));
    assert_eq!(code, 0, "{stderr}");
    let stdout: String = records.iter().map(|r| r.to_string()).collect();
    let (_, shown, _) = run(home.missive().args(["config", "show"]));
    assert_no_token(&[&stdout, &stderr, &format!("{shown:?}")]);
    for entry in crate::support::files_under(&home.store()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(TOKEN),
            "the token is in {}",
            entry.display()
        );
    }
}

#[test]
fn a_command_line_uri_borrows_the_configured_token_and_rebuild_reads_the_archive() {
    let (instance, home) = populated();
    let uri_arg = format!("mastodon://{}:{}", instance.host(), instance.port);
    let (code, records, stderr) = run(home.missive().args(["fetch", &uri_arg]));
    assert_eq!((code, records.len()), (0, 8), "{stderr}");
    assert_eq!(records[0]["account"], uri_arg.as_str());

    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(input));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(home.missive().args(["index", "--rebuild"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, found, stderr) = run(home
        .missive()
        .args(["search", "protocol:mastodon from:carol"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(native_ids(&found), [uri("carol", 110)]);
    assert_eq!(found[0]["from"]["address"], "@carol@127.0.0.1");
}

#[test]
fn a_direct_message_is_scored_as_readable_by_the_instances() {
    let (_instance, home) = populated();
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let (code, scored, stderr) = run(home.missive().arg("score").write_stdin(input));
    assert_eq!(code, 0, "{stderr}");
    for record in &scored {
        let factor = record["privacy"]["factors"]
            .as_array()
            .expect("factors")
            .iter()
            .find(|f| f["name"] == "platform_readable")
            .unwrap_or_else(|| panic!("no platform_readable: {record}"));
        assert!(
            factor["evidence"]
                .as_str()
                .is_some_and(|e| e.contains("each recipient's instance")),
            "{factor}"
        );
    }
    assert_eq!(scored.len(), 8);
}

#[test]
fn config_check_connect_logs_in_and_names_the_account() {
    let instance = Instance::start(true);
    let home = Home::new();
    configure(&home, &instance, TOKEN, "");
    let output = home
        .missive()
        .args(["config", "check", "--connect"])
        .output()
        .expect("missive runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("social: ok") && stdout.contains("logged in as @alex@127.0.0.1"),
        "{stdout}"
    );
    configure(&home, &instance, "tok-wrong", "");
    let output = home
        .missive()
        .args(["config", "check", "--connect"])
        .output()
        .expect("missive runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("token was refused"), "{stderr}");
}

#[test]
fn config_check_connect_needs_only_the_scope_the_readme_asks_for() {
    let instance = Instance::start(true);
    let home = Home::new();
    configure(&home, &instance, STATUSES_TOKEN, "");
    let output = home
        .missive()
        .args(["config", "check", "--connect"])
        .output()
        .expect("missive runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("social: ok") && stdout.contains("logged in as @alex@127.0.0.1"),
        "{stdout}"
    );
    let requests = instance.requests();
    assert!(
        requests.iter().all(|r| !r.contains("verify_credentials")),
        "no endpoint of another scope: {requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r == "/api/v1/conversations?limit=1"),
        "{requests:?}"
    );
    assert_no_token(&[&stdout, &stderr]);
}

/// The `path?query` of every conversations request that is neither the first page nor a
/// URL a Link header gave.
fn built_pages(instance: &Instance) -> Vec<String> {
    let state = instance.state.lock().unwrap();
    let origin = format!("https://127.0.0.1:{}", instance.port);
    state
        .requests
        .iter()
        .filter(|r| r.starts_with("/api/v1/conversations") && !r.ends_with("?limit=1"))
        .filter(|r| {
            *r != "/api/v1/conversations?limit=40"
                && !state.links.iter().any(|l| *l == format!("{origin}{r}"))
        })
        .cloned()
        .collect()
}

#[test]
fn the_listing_is_paged_by_the_link_headers_urls_only() {
    let (instance, home) = populated();
    let (code, first, stderr) = fetch(&home);
    assert_eq!((code, first.len()), (0, 8), "{stderr}");
    assert!(
        instance.state.lock().unwrap().links.len() >= 6,
        "the walk took several pages"
    );
    instance.add_direct(150, "fay", Some(130), &[ME], "<p>and another</p>");
    instance.add_direct(155, "ivo@other.example", None, &[ME], "<p>hello</p>");
    instance.add_direct(156, "jo@other.example", None, &[ME], "<p>hey</p>");
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        native_ids(&records),
        [
            uri("fay", 150),
            uri("ivo@other.example", 155),
            uri("jo@other.example", 156)
        ],
        "the new ones, oldest first, across two pages"
    );
    assert_eq!(
        built_pages(&instance),
        Vec::<String>::new(),
        "no page id is made up from a status id"
    );
}

#[test]
fn local_accounts_take_the_instances_account_domain() {
    let instance = Instance::start(true);
    instance.state.lock().unwrap().domain = Some("social.example".into());
    populate(&instance);
    let home = Home::new();
    configure_as(&home, &instance, TOKEN, &["@alex@social.example"], "");
    let (code, records, stderr) = fetch(&home);
    assert_eq!((code, records.len()), (0, 8), "{stderr}");
    let reply = by_uri(&records, &uri(ME, 102));
    assert_eq!(reply["from"]["address"], "@alex@social.example");
    assert_eq!(
        reply["to"][0]["address"], "@bob@other.example",
        "remote ones keep theirs"
    );
    assert_eq!(reply["source"]["instance"], "social.example");
    let group = by_uri(&records, &uri("dan@third.example", 111));
    assert!(
        group["to"]
            .as_array()
            .expect("to")
            .iter()
            .any(|a| a["address"] == "@carol@social.example"),
        "{group}"
    );

    // Asked once: an instance cannot change its account domain.
    instance.add_direct(150, "carol", Some(111), &[ME], "<p>see you all</p>");
    let (code, again, stderr) = fetch(&home);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(again[0]["from"]["address"], "@carol@social.example");
    let asked = instance
        .requests()
        .iter()
        .filter(|r| r.starts_with("/api/v2/instance"))
        .count();
    assert_eq!(asked, 1);

    // The archive read again gives the same handles.
    let input: String = records
        .iter()
        .chain(&again)
        .map(|r| format!("{r}\n"))
        .collect();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(input));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(home.missive().args(["index", "--rebuild"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, found, stderr) = run(home
        .missive()
        .args(["search", "protocol:mastodon from:carol"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(found.len(), 2, "{found:?}");
    for record in &found {
        assert_eq!(record["from"]["address"], "@carol@social.example");
    }

    let output = home
        .missive()
        .args(["config", "check", "--connect"])
        .output()
        .expect("missive runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("logged in as @alex@social.example"),
        "{stdout}"
    );
}

#[test]
fn sync_fetches_scores_threads_and_indexes_direct_messages() {
    let (_instance, home) = populated();
    let output = home.missive().arg("sync").output().expect("missive runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("missive sync: 8 new messages (social 8)"),
        "{stdout}"
    );
    let (code, found, stderr) = run(home.missive().args(["search", "protocol:mastodon"]));
    assert_eq!((code, found.len()), (0, 8), "{stderr}");
    let exchange = by_uri(&found, &uri("bob@other.example", 104));
    assert_eq!(exchange["privacy"]["grade"].as_str().map(str::len), Some(1));
    assert!(
        exchange["thread"].is_string(),
        "threaded on the way: {exchange}"
    );
    assert_eq!(
        exchange["thread"],
        by_uri(&found, &uri("bob@other.example", 101))["thread"]
    );
    let output = home.missive().arg("sync").output().expect("missive runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("missive sync: 0 new messages"),
        "{stdout}"
    );
}

#[test]
fn json_that_is_no_status_is_kept_reported_and_the_rest_fetched() {
    let instance = Instance::start(true);
    populate(&instance);
    let mut broken = status(
        105,
        "bob@other.example",
        Some(104),
        &[ME],
        "<p>?</p>",
        "direct",
    );
    broken.as_object_mut().expect("an object").remove("account");
    instance.add(broken);
    instance.add_direct(106, ME, Some(105), &["bob@other.example"], "<p>pardon?</p>");
    let home = Home::new();
    configure(&home, &instance, TOKEN, "");
    let (code, records, stderr) = fetch(&home);
    assert_eq!(code, 1, "one record failed: {stderr}");
    assert_eq!(records.len(), 10, "{records:?}");
    assert!(stderr.contains("not a Mastodon status"), "{stderr}");
    let kept = records
        .iter()
        .find(|r| r["problems"].to_string().contains("not a Mastodon status"))
        .expect("the broken status has a record");
    let path = kept["source"]["path"].as_str().expect("archived");
    let raw: Value = serde_json::from_slice(&std::fs::read(path).expect("its JSON")).expect("JSON");
    assert_eq!(raw["id"], "105");
    assert_eq!(
        by_uri(&records, &uri(ME, 106))["in_reply_to"][0],
        uri("bob@other.example", 105),
        "a reply still names its broken parent"
    );
    assert!(!stderr.contains("gone"), "the parent is not gone: {stderr}");

    let (code, again, stderr) = fetch(&home);
    assert_eq!((code, again.len()), (0, 0), "{stderr}");
}

#[test]
fn one_person_on_email_mastodon_and_twitter_is_one_conversation_in_date_order() {
    let instance = Instance::start(true);
    instance.add_direct(101, "bob@other.example", None, &[ME], "<p>@alex lunch?</p>");
    instance.add_direct(102, ME, Some(101), &["bob@other.example"], "<p>yes</p>");
    let home = Home::new();
    configure_as(
        &home,
        &instance,
        TOKEN,
        &["alice@example.org", "twitter:@AliceExample"],
        "",
    );
    let mail = home.write(
        "bob.eml",
        b"From: Bob <bob@example.org>\nTo: alice@example.org\nSubject: Hi\n\
          Date: Sun, 01 May 2022 09:00:00 +0000\nMessage-ID: <bob-1@example.org>\n\nhello\n",
    );
    let twitter = crate::support::exports::twitter()
        .with(
            "data/direct-messages-group.js",
            "window.YTD.direct_messages_group.part0 = []",
        )
        .write_zip(&home.path().join("twitter.zip"));
    let (code, _, stderr) = run(home.missive().args([
        "contacts",
        "link",
        "bob@example.org",
        "twitter:2002",
        "@bob@other.example",
        "--name",
        "Bob",
    ]));
    assert_eq!(code, 0, "{stderr}");

    let fetched = home
        .missive()
        .args([
            "fetch",
            &format!("eml:{}", mail.display()),
            &format!("twitter-archive:{}", twitter.display()),
            "social",
        ])
        .output()
        .unwrap();
    assert_eq!(
        fetched.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    let threaded = home
        .missive()
        .arg("thread")
        .write_stdin(fetched.stdout)
        .output()
        .unwrap();
    let (code, _, stderr) = run(home.missive().arg("index").write_stdin(threaded.stdout));
    assert_eq!(code, 0, "{stderr}");

    let (code, found, stderr) = run(home
        .missive()
        .args(["search", "--sort", "date", "with:Bob"]));
    assert_eq!(code, 0, "{stderr}");
    let protocols: Vec<&str> = found
        .iter()
        .map(|r| r["protocol"].as_str().unwrap())
        .collect();
    assert_eq!(
        protocols,
        ["email", "twitter", "twitter", "mastodon", "mastodon"],
        "one person's exchanges, oldest first"
    );
    let conversations: BTreeSet<&str> = found
        .iter()
        .map(|r| r["conversation"].as_str().unwrap())
        .collect();
    assert_eq!(conversations.len(), 1, "{found:#?}");
    let conversation = format!("conversation:{}", conversations.first().unwrap());
    let (_, same, _) = run(home
        .missive()
        .args(["search", "--sort", "date", &conversation]));
    assert_eq!(same.len(), 5);
    let dates: Vec<&str> = same.iter().map(|r| r["date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{dates:?}");
}
