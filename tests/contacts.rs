//! `missive contacts` (issue 5): vCard import of 2.1, 3.0 and 4.0 exports as clients write
//! them (issue 18: line ends, charsets, values that are no handle, name-only cards), link,
//! unlink, rename, show, list and suggest, over the real binary and a fresh store.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{Home, run, text_lines};

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

/// Imports one fixture into a fresh home: the exit code, stderr, and `contacts list`.
fn import_one(name: &str) -> (i32, String, Vec<Value>) {
    let home = Home::new();
    let (code, _, stderr) = run(home
        .missive()
        .args(["contacts", "import"])
        .arg(fixture(name)));
    let (_, listed, _) = run(home.missive().args(["contacts", "list"]));
    (code, stderr, listed)
}

#[test]
fn an_iphone_export_with_cr_cr_lf_line_ends_is_imported() {
    let (code, stderr, listed) = import_one("iphone_3.0_cr_cr_lf.vcf");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        identities(by_name(&listed, "Ivy Example")),
        [
            "email:ivy@example.org",
            "tel:+15550100142",
            "twitter:@ivytweets",
            "xmpp:ivy@jabber.example.org",
        ]
    );
    assert_eq!(
        identities(by_name(&listed, "Jack Example")),
        ["tel:07700900123"]
    );
}

#[test]
fn a_lowercase_begin_with_a_trailing_space_starts_a_card_and_a_file_of_none_is_reported() {
    let (code, stderr, listed) = import_one("lowercase_begin_with_trailing_space.vcf");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        identities(by_name(&listed, "Kate Example")),
        ["email:kate@example.org"]
    );
    let home = Home::new();
    let notes = home.write("notes.vcf", b"Kate: kate@example.org\n");
    let (code, imported, stderr) = run(home.missive().args(["contacts", "import"]).arg(&notes));
    assert_eq!(code, 1, "nothing imported is said: {stderr}");
    assert!(imported.is_empty());
    assert!(stderr.contains("notes.vcf:1: no BEGIN:VCARD"), "{stderr}");
}

#[test]
fn an_empty_email_is_reported_by_file_and_line_and_every_other_card_is_imported() {
    let home = Home::new();
    let file = fixture("empty_email_in_the_middle.vcf");
    let (code, imported, stderr) = run(home.missive().args(["contacts", "import"]).arg(&file));
    assert_eq!(code, 1, "a value left out is a failure: {stderr}");
    assert!(
        stderr.contains("empty_email_in_the_middle.vcf:9: EMAIL is empty"),
        "the file and line are named: {stderr}"
    );
    assert_eq!(imported.len(), 3, "the cards after it too: {imported:#?}");
    let (_, listed, _) = run(home.missive().args(["contacts", "list"]));
    assert_eq!(
        identities(by_name(&listed, "Mia Example")),
        ["tel:+447700900456"]
    );
    assert_eq!(
        identities(by_name(&listed, "Noah Example")),
        ["email:noah@example.org"]
    );
    assert_eq!(
        identities(by_name(&listed, "Liam Example")),
        ["email:liam@example.org"]
    );
}

#[test]
fn an_outlook_2_1_export_in_iso_8859_1_and_quoted_printable_is_decoded() {
    let (code, stderr, listed) = import_one("outlook_2.1_iso_8859_1_quoted_printable.vcf");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(listed.len(), 1, "{listed:#?}");
    assert_eq!(
        identities(by_name(&listed, "Günther Jäger")),
        [
            "email:guenther@example.de",
            "tel:+49301234567",
            "tel:01701234567"
        ],
        "the extension is no part of the number"
    );
}

#[test]
fn a_tel_that_is_no_number_is_reported_not_stored() {
    let (code, stderr, listed) = import_one("tel_that_is_no_number.vcf");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "tel_that_is_no_number.vcf:4: TEL \"tel:BusinessPhone\" is not a phone number"
        ),
        "{stderr}"
    );
    assert_eq!(
        identities(by_name(&listed, "Olivia Example")),
        ["tel:+33123456789"]
    );
}

#[test]
fn an_address_that_is_none_is_reported_not_stored() {
    let (code, stderr, listed) = import_one("address_that_is_none.vcf");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("address_that_is_none.vcf:4: EMAIL \"ÑÑÑ\" is not an email address"),
        "{stderr}"
    );
    assert_eq!(
        identities(by_name(&listed, "Pablo Example")),
        ["email:pablo@example.es"]
    );
}

#[test]
fn a_name_only_card_is_a_contact_without_identities_once() {
    let home = Home::new();
    let file = fixture("gmail_3.0_grouped_and_name_only.vcf");
    for _ in 0..2 {
        let (code, _, stderr) = run(home.missive().args(["contacts", "import"]).arg(&file));
        assert_eq!(code, 0, "{stderr}");
    }
    let (_, listed, _) = run(home.missive().args(["contacts", "list"]));
    assert_eq!(listed.len(), 3, "imported twice, listed once: {listed:#?}");
    for name in ["Rosa the Plumber", "Sam Example"] {
        let contact = by_name(&listed, name);
        assert!(identities(contact).is_empty(), "{contact:#?}");
        assert_eq!(contact["known"], true);
    }
    assert_eq!(
        identities(by_name(&listed, "Quinn Example")),
        [
            "email:quinn.work@example.net",
            "email:quinn@example.com",
            "mastodon:@quinn@social.example.org",
            "tel:+15550100177",
        ]
    );
}

#[test]
fn android_thunderbird_and_evolution_exports_are_imported() {
    let expected: [(&str, &str, &[&str]); 4] = [
        (
            "android_3.0_custom_rows.vcf",
            "Tara Example",
            &[
                "email:tara@example.org",
                "tel:+4915123456789",
                "tel:0301234567",
                "xmpp:tara@jabber.example.org",
            ],
        ),
        (
            "android_3.0_custom_rows.vcf",
            "Ülla Example",
            &["tel:+491712345678"],
        ),
        (
            "thunderbird_4.0.vcf",
            "Uma Example",
            &[
                "email:uma@example.org",
                "email:uma@lists.example.net",
                "tel:+32470123456",
                "xmpp:uma@jabber.example.org",
            ],
        ),
        (
            "evolution_3.0.vcf",
            "Victor Example",
            &[
                "email:victor@example.org",
                "tel:+31612345678",
                "xmpp:victor@jabber.example.org",
            ],
        ),
    ];
    for (file, name, want) in expected {
        let (code, stderr, listed) = import_one(file);
        assert_eq!(code, 0, "{file}: {stderr}");
        assert_eq!(identities(by_name(&listed, name)), want, "{file}");
    }
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

/// A home whose store has seen Grace by three addresses (two names alike, two local parts
/// alike), none linked: what `contacts suggest` proposes to link.
fn home_with_grace_unlinked() -> Home {
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
    home
}

#[test]
fn suggest_proposes_with_evidence_and_applies_nothing() {
    let home = home_with_grace_unlinked();
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

#[test]
fn contacts_show_and_suggest_print_text_with_format_text() {
    let home = home_with_grace_unlinked();
    let suggested = text_lines(home.missive().args(["contacts", "suggest"]));
    assert_eq!(suggested.len(), 2, "{suggested:?}");
    assert!(
        suggested
            .iter()
            .all(|line| line.contains(": missive contacts link ")),
        "{suggested:?}"
    );
    let shown = text_lines(
        home.missive()
            .args(["contacts", "show", "grace@example.org"]),
    );
    assert!(
        shown[0].starts_with("p_") && shown[0].contains("email:grace@example.org"),
        "{shown:?}"
    );
}

#[test]
fn a_last_card_without_end_is_reported_by_file_and_line_and_still_imported() {
    let home = Home::new();
    let file = home.write(
        "cut.vcf",
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Ann\nEMAIL:ann@example.org\nEND:VCARD\n\
          BEGIN:VCARD\nVERSION:3.0\nFN:Ben\nEMAIL:ben@example.org\nEND:VCARD\n\
          BEGIN:VCARD\nVERSION:3.0\nFN:Cat\nEMAIL:cat@example.org\n",
    );
    let (code, imported, stderr) = run(home.missive().args(["contacts", "import"]).arg(&file));
    assert_eq!(code, 1, "a card was not as written: {stderr}");
    assert!(
        stderr.contains(&format!("{}:11: the card has no END:VCARD", file.display())),
        "the file and the line of the card's BEGIN: {stderr}"
    );
    // The card cut short is read up to the end of the file, not dropped.
    let (_, listed, _) = run(home.missive().args(["contacts", "list"]));
    for (name, address) in [
        ("Ann", "email:ann@example.org"),
        ("Ben", "email:ben@example.org"),
        ("Cat", "email:cat@example.org"),
    ] {
        assert_eq!(identities(by_name(&imported, name)), [address]);
        assert_eq!(identities(by_name(&listed, name)), [address]);
    }
}
