//! `missive contacts` (issue 5): vCard import of 3.0 and 4.0 exports, link, unlink, rename,
//! show, list and suggest, over the real binary and a fresh store.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Home, run};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vcard")
        .join(name)
}

fn by_name<'a>(contacts: &'a [Value], name: &str) -> &'a Value {
    contacts
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {contacts:#?}"))
}

fn identities(contact: &Value) -> Vec<&str> {
    contact["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap())
        .collect()
}

#[test]
fn a_nextcloud_vcard_4_export_is_imported_with_every_protocol() {
    let home = Home::new();
    let file = fixture("nextcloud_4.0_folded_impp_socialprofile.vcf");
    let (code, imported, stderr) = run(home.missive().args(["contacts", "import"]).arg(&file));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(imported.len(), 2);
    let (code, listed, _) = run(home.missive().args(["contacts", "list"]));
    assert_eq!(code, 0);
    let alice = by_name(&listed, "Alice Example");
    assert_eq!(
        identities(alice),
        [
            "email:alice.example@work.example.org",
            "email:alice@example.org",
            "mastodon:@alice@social.example.org",
            "matrix:@alice:matrix.example.org",
            "tel:+33612345678",
            "twitter:@alicetweets",
            "xmpp:alice@jabber.example.org",
        ]
    );
    assert_eq!(alice["kind"], "contact");
    assert_eq!(alice["known"], true);
    let bob = by_name(&listed, "Bob Example");
    assert_eq!(
        identities(bob),
        [
            "email:bob@example.org",
            "facebook:bob.example",
            "mastodon:@bobby@mastodon.example.net"
        ]
    );
}

#[test]
fn a_thunderbird_vcard_3_export_is_imported_with_folded_lines_and_structured_names() {
    let home = Home::new();
    let file = fixture("thunderbird_3.0_structured_name_only.vcf");
    let (code, _, stderr) = run(home.missive().args(["contacts", "import"]).arg(&file));
    assert_eq!(code, 0, "{stderr}");
    let (_, listed, _) = run(home.missive().args(["contacts", "list"]));
    assert_eq!(
        identities(by_name(&listed, "Carol Example")),
        [
            "email:carol@example.net",
            "email:carol@example.org",
            "mastodon:@carol@social.example.org",
            "tel:+442079460000",
            "xmpp:carol@jabber.example.org",
        ]
    );
    assert_eq!(
        identities(by_name(&listed, "Dave Example")),
        ["email:dave@example.org"]
    );
}

#[test]
fn an_android_export_with_quoted_printable_names_is_imported() {
    let home = Home::new();
    let file = fixture("android_2.1_quoted_printable_and_3.0.vcf");
    let (code, _, stderr) = run(home.missive().args(["contacts", "import"]).arg(&file));
    assert_eq!(code, 0, "{stderr}");
    let (_, listed, _) = run(home.missive().args(["contacts", "list"]));
    assert_eq!(
        identities(by_name(&listed, "Renée Example")),
        ["email:renee@example.org", "tel:+33711223344", "tel:5550100"]
    );
    assert_eq!(
        identities(by_name(&listed, "Erin Example")),
        ["email:erin@example.org", "tel:+15550100199"]
    );
}

#[test]
fn importing_again_merges_into_the_contacts_already_there() {
    let home = Home::new();
    let file = fixture("nextcloud_4.0_folded_impp_socialprofile.vcf");
    run(home
        .missive()
        .args(["contacts", "link", "alice@example.org", "tel:+15550100"]));
    run(home.missive().args(["contacts", "import"]).arg(&file));
    run(home.missive().args(["contacts", "import"]).arg(&file));
    let (_, listed, _) = run(home.missive().args(["contacts", "list"]));
    assert_eq!(listed.len(), 2, "{listed:#?}");
    let alice = by_name(&listed, "Alice Example");
    assert!(identities(alice).contains(&"tel:+15550100"));
}

#[test]
fn link_rename_show_and_unlink() {
    let home = Home::new();
    let (code, linked, _) = run(home.missive().args([
        "contacts",
        "link",
        "frank@example.org",
        "@frank@social.example.org",
        "--name",
        "Frank",
    ]));
    assert_eq!(code, 0);
    let id = linked[0]["id"].as_str().unwrap().to_string();
    let (code, shown, _) =
        run(home
            .missive()
            .args(["contacts", "show", "@Frank@social.example.org"]));
    assert_eq!(code, 0);
    assert_eq!(shown[0]["id"], id.as_str());
    let (code, renamed, _) = run(home
        .missive()
        .args(["contacts", "rename", &id, "Frank Example"]));
    assert_eq!(code, 0);
    assert_eq!(renamed[0]["name"], "Frank Example");
    let (code, _, _) =
        run(home
            .missive()
            .args(["contacts", "unlink", "@frank@social.example.org"]));
    assert_eq!(code, 0);
    let (_, shown, _) = run(home
        .missive()
        .args(["contacts", "show", "@frank@social.example.org"]));
    assert_eq!(shown[0]["known"], false, "its own contact again");
    assert_ne!(shown[0]["id"], id.as_str());
}

#[test]
fn bad_arguments_are_usage_errors() {
    let home = Home::new();
    home.write_config("[identity]\naddresses = [\"me@example.org\"]\n");
    let (code, _, stderr) =
        run(home
            .missive()
            .args(["contacts", "link", "nobody", "x@example.org"]));
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) =
        run(home
            .missive()
            .args(["contacts", "link", "me@example.org", "x@example.org"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("your own"), "{stderr}");
    let (code, _, _) = run(home
        .missive()
        .args(["contacts", "show", "p_0000000000000000"]));
    assert_eq!(code, 2);
    let (code, _, _) = run(home.missive().args(["contacts", "import", "/no/such.vcf"]));
    assert_eq!(code, 1);
}

#[test]
fn suggest_proposes_with_evidence_and_applies_nothing() {
    let home = Home::new();
    let records = [
        serde_json::json!({"kind":"message","v":1,"id":"m_1","protocol":"email","account":"a",
            "source":{"kind":"eml"},"blob":"sha256:01","native_id":"<s1@example.org>",
            "from":{"name":"Grace Example","address":"grace@example.org"}}),
        serde_json::json!({"kind":"message","v":1,"id":"m_2","protocol":"mastodon","account":"a",
            "source":{"kind":"jsonl"},"blob":"sha256:02","native_id":"9",
            "from":{"name":"grace example","address":"@gx@social.example.net"}}),
        serde_json::json!({"kind":"message","v":1,"id":"m_3","protocol":"email","account":"a",
            "source":{"kind":"eml"},"blob":"sha256:03","native_id":"<s3@example.org>",
            "from":{"name":"G.","address":"grace@lists.example.org"}}),
    ];
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    let (code, _, _) = run(home.missive().arg("thread").write_stdin(input));
    assert_eq!(code, 0);
    let (code, suggestions, _) = run(home.missive().args(["contacts", "suggest"]));
    assert_eq!(code, 0);
    let reasons: Vec<&str> = suggestions
        .iter()
        .map(|s| s["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        ["same_local_part", "same_name"],
        "{suggestions:#?}"
    );
    for suggestion in &suggestions {
        assert_eq!(suggestion["kind"], "suggestion");
        assert!(!suggestion["evidence"].as_array().unwrap().is_empty());
        assert!(
            suggestion["command"]
                .as_str()
                .unwrap()
                .starts_with("missive contacts link ")
        );
    }
    let (_, listed, _) = run(home.missive().args(["contacts", "list"]));
    assert!(listed.is_empty(), "nothing applied: {listed:#?}");
}
