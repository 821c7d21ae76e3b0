//! `missive send` by Mastodon direct message (issue 17) against the loopback instance of
//! the Mastodon tests: one `visibility=direct` status a recipient, with their mention, the
//! subject as content warning and an `Idempotency-Key` that stays the same across a 429, a
//! 503 and a later `send --flush`; a 422 fails that recipient with the instance's reason and
//! the others go; a status longer than `max_characters` is refused, not cut; and a direct
//! message never ranks above encrypted email.

use serde_json::{Value, json};

use crate::support::mastodon::{Instance, ME, TOKEN};
use crate::support::openpgp::GnuPg;
use crate::support::{Home, run};

/// A home whose user is `alex` on `instance` (with a token) and alex@example.com by mail
/// (sent by a sendmail that drops it: the email channel is not what these tests look at).
fn home(instance: &Instance) -> Home {
    let home = Home::new();
    let token = home.write("token", TOKEN.as_bytes());
    home.write_config(&format!(
        "[identity]\naddresses = [\"@{ME}@{host}\", \"alex@example.com\"]\n\n\
         [accounts.social]\nsource = \"mastodon://{ME}@{host}:{port}\"\ntoken_command = \"cat {token}\"\nca_file = {ca:?}\n\n\
         [accounts.mail]\nsource = \"maildir:Mail\"\nsendmail = \"cat >/dev/null\"\n",
        host = instance.host(),
        port = instance.port,
        token = token.display(),
        ca = instance.ca_file().display().to_string(),
    ));
    home
}

/// `missive send ARGS` with `drafts` on stdin, one JSON line each.
fn send(home: &Home, args: &[&str], drafts: &[Value]) -> (i32, Vec<Value>, String) {
    let lines: String = drafts.iter().map(|d| format!("{d}\n")).collect();
    run(home.missive().arg("send").args(args).write_stdin(lines))
}

fn draft(to: &[&str], subject: &str, text: &str) -> Value {
    json!({"kind": "draft", "v": 1, "to": to, "subject": subject, "text": text})
}

fn key(post: &(Option<String>, Value)) -> String {
    post.0.clone().expect("an Idempotency-Key on every post")
}

#[test]
fn each_recipient_gets_a_direct_status_with_their_mention_and_a_429_is_waited_out() {
    let instance = Instance::start(true);
    instance.state.lock().unwrap().posts_rate_limited = 1;
    let home = home(&instance);
    let lunch = draft(
        &["@bob@other.example", "@carol@127.0.0.1"],
        "lunch",
        "noon at the usual place?",
    );
    let (code, deliveries, stderr) = send(&home, &[], std::slice::from_ref(&lunch));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    for delivery in &deliveries {
        assert_eq!(delivery["channel"], "mastodon-dm", "{delivery}");
        assert_eq!(delivery["status"], "sent", "{delivery}");
        let uri = delivery["message_id"].as_str().unwrap_or_default();
        assert!(
            uri.starts_with(&format!("https://127.0.0.1/users/{ME}/statuses/")),
            "the delivery names the status's URI: {delivery}"
        );
    }
    assert_eq!(deliveries[0]["recipient"], "mastodon:@bob@other.example");

    let posts = instance.posts();
    assert_eq!(
        posts.len(),
        3,
        "one answered 429, then one a recipient: {posts:?}"
    );
    // The 429 was waited out and the same status asked for again under the same key.
    assert_eq!(key(&posts[0]), key(&posts[1]));
    assert_eq!(posts[0].1, posts[1].1);
    assert_ne!(key(&posts[1]), key(&posts[2]), "one key a recipient");
    assert_eq!(posts[1].1["visibility"], "direct");
    assert_eq!(
        posts[1].1["status"],
        "@bob@other.example noon at the usual place?"
    );
    assert_eq!(posts[1].1["spoiler_text"], "lunch");
    assert_eq!(posts[2].1["visibility"], "direct");
    assert_eq!(
        posts[2].1["status"],
        "@carol@127.0.0.1 noon at the usual place?"
    );
    assert!(
        !stderr.contains(TOKEN),
        "the token is in no output: {stderr}"
    );

    // The statuses as the instance answered are archived, the record of the conversation.
    let archived = crate::support::files_under(&home.store())
        .into_iter()
        .filter(|path| {
            std::fs::read(path).is_ok_and(|bytes| {
                serde_json::from_slice::<Value>(&bytes).is_ok_and(|s| s["visibility"] == "direct")
            })
        })
        .count();
    assert_eq!(archived, 2, "one archived status a recipient");

    // The same draft again: both were accepted, nothing is posted twice.
    let (code, again, stderr) = send(&home, &[], &[lunch]);
    assert_eq!(code, 0, "{stderr}");
    assert!(again.iter().all(|d| d["status"] == "sent"), "{again:?}");
    assert_eq!(instance.posts().len(), 3);
}

#[test]
fn a_422_fails_that_recipient_with_the_instances_reason_and_the_others_are_sent() {
    let instance = Instance::start(true);
    instance
        .state
        .lock()
        .unwrap()
        .refused_mentions
        .push("carol".into());
    let home = home(&instance);
    let (code, deliveries, stderr) = send(
        &home,
        &["--via", "mastodon-dm"],
        &[draft(
            &["@carol@127.0.0.1", "@bob@other.example"],
            "",
            "hello",
        )],
    );
    assert_eq!(code, 1, "one refused recipient: {stderr}");
    let carol = deliveries
        .iter()
        .find(|d| d["recipient"] == "mastodon:@carol@127.0.0.1")
        .expect("carol's delivery");
    assert_eq!(carol["status"], "failed", "{carol}");
    assert_eq!(carol["code"], "422", "{carol}");
    let reason = carol["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("Validation failed"), "{carol}");
    let bob = deliveries
        .iter()
        .find(|d| d["recipient"] == "mastodon:@bob@other.example")
        .expect("bob's delivery");
    assert_eq!(bob["status"], "sent", "{bob}");
    // No content warning for an empty subject.
    assert!(
        instance
            .posts()
            .iter()
            .all(|(_, body)| body.get("spoiler_text").is_none())
    );

    // A failure is final: the draft again posts nothing.
    send(
        &home,
        &["--via", "mastodon-dm"],
        &[draft(
            &["@carol@127.0.0.1", "@bob@other.example"],
            "",
            "hello",
        )],
    );
    assert_eq!(instance.posts().len(), 2);
}

#[test]
fn a_5xx_leaves_it_queued_and_flush_posts_it_once_under_the_same_key() {
    let instance = Instance::start(true);
    // The first try and its three retries.
    instance.state.lock().unwrap().posts_failing = 4;
    let home = home(&instance);
    let (code, deliveries, stderr) = send(&home, &[], &[draft(&["@bob@other.example"], "", "hi")]);
    assert_eq!(code, 75, "a temporary failure: {stderr}");
    assert_eq!(deliveries[0]["status"], "queued", "{deliveries:?}");
    assert_eq!(instance.posts().len(), 4);

    let (code, flushed, stderr) = run(home.missive().args(["send", "--flush"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(flushed[0]["status"], "sent", "{flushed:?}");
    let posts = instance.posts();
    assert_eq!(posts.len(), 5);
    assert!(
        posts.iter().all(|p| key(p) == key(&posts[0])),
        "one key across retries and runs: {posts:?}"
    );
    let (code, _, stderr) = run(home.missive().args(["send", "--flush"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(instance.posts().len(), 5, "nothing left to send");
}

#[test]
fn a_status_longer_than_the_instance_takes_is_refused_not_cut() {
    let instance = Instance::start(true);
    let home = home(&instance);
    let long = "word ".repeat(120);
    let (code, deliveries, stderr) = send(&home, &[], &[draft(&["@bob@other.example"], "", &long)]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(deliveries[0]["status"], "failed", "{deliveries:?}");
    let reason = deliveries[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("at most 500"), "{reason}");
    assert!(instance.posts().is_empty(), "nothing posted");
}

#[test]
fn a_direct_message_ranks_below_encrypted_email_for_a_contact_reachable_by_both() {
    let instance = Instance::start(true);
    let home = home(&instance);
    let (code, _, stderr) = run(home.missive().args(["keys", "generate", "--no-passphrase"]));
    assert_eq!(code, 0, "{stderr}");
    let gpg = GnuPg::new();
    gpg.generate("Dana <dana@example.org>");
    home.missive()
        .args(["keys", "import"])
        .write_stdin(gpg.run(&["--armor", "--export"], None))
        .assert()
        .success();
    home.missive()
        .args([
            "contacts",
            "link",
            "dana@example.org",
            "@dana@other.example",
        ])
        .args(["--name", "Dana"])
        .assert()
        .success();

    let (code, plan, stderr) = send(
        &home,
        &["--dry-run"],
        &[draft(&["Dana"], "tea", "at five?")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(plan[0]["channel"], "pgp-mime", "{plan:?}");
    let encrypted = plan[0]["score"].as_u64().expect("a score");
    let mastodon = plan[0]["rejected"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["channel"] == "mastodon-dm"))
        .expect("the direct message among the rejected")
        .clone();
    let direct = mastodon["score"].as_u64().expect("scored: it reaches Dana");
    assert!(direct < encrypted, "{mastodon} against {encrypted}");

    // Asked for, it is planned, readable by the instances' admins, and still lower.
    let (code, forced, stderr) = send(
        &home,
        &["--dry-run", "--via", "mastodon-dm"],
        &[draft(&["Dana"], "tea", "at five?")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(forced[0]["recipient"], "mastodon:@dana@other.example");
    assert_eq!(forced[0]["score"].as_u64(), Some(direct));
    assert!(instance.posts().is_empty(), "a dry run posts nothing");
}

/// A user who only has a Mastodon account sends direct messages without any way out for
/// mail, with the instance's CA named under `~/` as in their config.
#[test]
fn a_mastodon_only_user_sends_without_a_mail_transport_and_a_ca_file_under_home() {
    let instance = Instance::start(true);
    let home = Home::new();
    let token = home.write("token", TOKEN.as_bytes());
    home.write(
        "certs/instance.pem",
        &std::fs::read(instance.ca_file()).unwrap(),
    );
    home.write_config(&format!(
        "[identity]\naddresses = [\"@{ME}@{host}\"]\n\n\
         [accounts.social]\nsource = \"mastodon://{ME}@{host}:{port}\"\ntoken_command = \"cat {token}\"\nca_file = \"~/certs/instance.pem\"\n",
        host = instance.host(),
        port = instance.port,
        token = token.display(),
    ));
    let (code, deliveries, stderr) = send(
        &home,
        &[],
        &[draft(&["@bob@other.example"], "", "see you at noon")],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    assert_eq!(deliveries[0]["channel"], "mastodon-dm");
    assert_eq!(deliveries[0]["status"], "sent", "{}", deliveries[0]);
    let posts = instance.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].1["status"], "@bob@other.example see you at noon");
}
