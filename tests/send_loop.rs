//! The README's privacy loop, command for command: a plan for Alice, a contact without a
//! key, goes by TLS at grade C and names `keys discover`; her key found by WKD (the loopback
//! Web Key Directory and DNSSEC zone of [`crate::keys_discover`]), the plan is PGP/MIME; the
//! message goes (a real SMTP server) and its copy is archived at the predicted grade; once
//! her client has answered with its Autocrypt header (prefer-encrypt=mutual), both prefer
//! encryption and the next plan is graded A. Each printed line is checked against README.md.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::keys_discover::{Net, wkd_path};
use crate::support::openpgp::{autocrypt_mail, sequoia_certificate};
use crate::support::run;
use crate::support::smtp::{Mode, PASSWORD, Smtpd, USER};

/// `echo TEXT | missive send ARGS`: the one delivery printed.
fn send(net: &Net, args: &[&str], text: &str) -> Value {
    let (code, deliveries, stderr) = run(net
        .home
        .missive()
        .arg("send")
        .args(args)
        .write_stdin(text.to_string()));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    deliveries.into_iter().next().unwrap()
}

/// What `jq -c '{FIELDS}'` prints of `record`.
fn jq(record: &Value, fields: &[&str]) -> String {
    let members: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{f}\":{}", serde_json::to_string(&record[*f]).unwrap()))
        .collect();
    format!("{{{}}}", members.join(","))
}

#[test]
fn the_readme_loop_rises_from_c_to_b_by_wkd_and_to_a_once_both_prefer_encryption() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let shows = |line: &str| assert!(readme.contains(line), "README.md lacks {line}");
    let (fingerprint, cert) = sequoia_certificate("Alice <alice@example.test>");
    let path = wkd_path("alice@example.test", true);
    let net = Net::start(&[], BTreeMap::from([(path, (200, cert.clone()))]));
    let server = Smtpd::start(Mode::Starttls);
    std::fs::create_dir_all(net.home.path().join("Mail/cur")).unwrap();
    net.home.write_config(&format!(
        "[identity]\nname = \"Sam\"\naddresses = [\"sam@example.com\"]\nprefer_encrypt = \"mutual\"\n\
         [accounts.work]\nsource = \"maildir:{}\"\nsubmission = \"smtp://{USER}@127.0.0.1:{}\"\n\
         ca_file = \"{}\"\npassword_command = \"echo {PASSWORD}\"\n{}",
        net.home.path().join("Mail").display(),
        server.port,
        server.ca_file().display(),
        net.keys_config()
    ));
    let (code, _, stderr) = run(net
        .home
        .missive()
        .args(["keys", "generate", "--no-passphrase"]));
    assert_eq!(code, 0, "{stderr}");

    let (code, _, stderr) =
        run(net
            .home
            .missive()
            .args(["contacts", "rename", "alice@example.test", "Alice"]));
    assert_eq!(code, 0, "{stderr}");
    let plan = ["--dry-run", "--to", "Alice", "--subject", "tea"];

    let clear = send(&net, &plan, "At five?\n");
    assert_eq!(
        (clear["channel"].as_str(), clear["grade"].as_str()),
        (Some("tls"), Some("C"))
    );
    shows(&jq(&clear, &["channel", "score", "grade", "rejected"]));

    let (code, found, stderr) =
        run(net
            .home
            .missive()
            .args(["keys", "discover", "alice@example.test"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        found
            .iter()
            .any(|r| r["fingerprint"] == fingerprint.as_str())
    );

    let sealed = send(&net, &plan, "At five?\n");
    assert_eq!(sealed["channel"], "pgp-mime");
    assert_eq!(sealed["key"]["fingerprint"], fingerprint.as_str());
    assert!(sealed["score"].as_u64() > clear["score"].as_u64());
    let axis = |name: &str| -> i64 {
        sealed["factors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["axis"] == name)
            .map(|f| f["points"].as_i64().unwrap())
            .sum()
    };
    // As the README explains the B: the most a first message to her can get.
    assert_eq!(
        (axis("technic"), axis("context"), axis("comportment")),
        (85, 80, 75)
    );
    let line = jq(&sealed, &["channel", "score", "grade", "key"]);
    shows(&line[..line.find(r#""key""#).unwrap()]);
    shows(r#""source":"wkd","state":"tofu","recommendation":"available"}}"#);

    let sent = send(&net, &plan[1..], "At five?\n");
    assert_eq!(
        jq(&sent, &["channel", "status"]),
        r#"{"channel":"pgp-mime","status":"sent"}"#
    );
    shows(&jq(&sent, &["channel", "status"]));
    assert_eq!(server.received().len(), 1);
    let output = net
        .home
        .missive()
        .args(["search", "account:sent", "--format", "text"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&output.stdout);
    let graded = format!(
        "  {}  {}  Sam",
        sealed["grade"].as_str().unwrap(),
        sealed["score"]
    );
    assert!(
        listed.contains(&graded),
        "the copy scores the plan: {listed}"
    );
    shows(&graded);

    // Alice's client answers, announcing her key with prefer-encrypt=mutual.
    net.home.write(
        "Mail/cur/1.M1.x:2,S",
        &autocrypt_mail(
            "alice@example.test",
            "Mon, 01 Jan 2024 10:00:00 +0000",
            "mutual",
            &cert,
        ),
    );
    let fetched = net.home.missive().args(["fetch", "work"]).output().unwrap();
    assert!(
        fetched.status.success(),
        "{}",
        String::from_utf8_lossy(&fetched.stderr)
    );
    let (code, _, stderr) = run(net
        .home
        .missive()
        .args(["keys", "learn"])
        .write_stdin(fetched.stdout));
    assert_eq!(code, 0, "{stderr}");

    let mutual = send(&net, &plan, "See you.\n");
    assert_eq!(mutual["channel"], "pgp-mime");
    assert_eq!(mutual["grade"], "A", "{mutual}");
    shows(&jq(&mutual, &["channel", "score", "grade"]));
}
