//! `missive keys` against real OpenPGP implementations (issue 7): certificates made by gpg
//! and sq import; ours import into both; trust on first use turns a second key into a
//! conflict; the lookup names of WKD and DNS OPENPGPKEY match the specs' examples.

use std::process::Command;

use crate::support::openpgp::{GnuPg, autocrypt_mail, sq_certificate, write_autocrypt_mail};
use crate::support::{Home, run, text_lines};

#[test]
fn a_gpg_certificate_imports_with_its_fingerprint_and_is_trusted_on_first_use() {
    let home = Home::new();
    let gpg = GnuPg::new();
    let fingerprint = gpg.generate("Alice <alice@example.org>");
    let armored = gpg.run(&["--armor", "--export", "alice@example.org"], None);
    let (code, records, stderr) = run(home.missive().args(["keys", "import"]).write_stdin(armored));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["kind"], "key");
    assert_eq!(records[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(records[0]["algorithm"], "EdDSA");
    assert_eq!(records[0]["usable"], true);
    assert_eq!(records[0]["bindings"][0]["address"], "alice@example.org");
    assert_eq!(records[0]["bindings"][0]["state"], "tofu");
    assert_eq!(records[0]["bindings"][0]["source"], "import");
}

#[test]
fn an_sq_certificate_imports_from_a_file() {
    let home = Home::new();
    let cert = sq_certificate(home.path(), "Bob <bob@example.org>");
    let (code, records, stderr) = run(home.missive().arg("keys").arg("import").arg(&cert));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        records[0]["user_ids"],
        serde_json::json!(["Bob <bob@example.org>"])
    );
    let (code, shown, _) = run(home.missive().args(["keys", "show", "BOB@example.org"]));
    assert_eq!(code, 0);
    assert_eq!(shown[0]["fingerprint"], records[0]["fingerprint"]);
}

#[test]
fn several_binary_certificates_in_one_input_import() {
    let home = Home::new();
    let gpg = GnuPg::new();
    gpg.generate("Carol <carol@example.org>");
    gpg.generate("Dan <dan@example.net>");
    let binary = gpg.run(&["--export"], None);
    assert_ne!(binary.first(), Some(&b'-'), "binary, not armoured");
    let (code, records, _) = run(home.missive().args(["keys", "import"]).write_stdin(binary));
    assert_eq!(code, 0);
    assert_eq!(records.len(), 2);
    let (_, listed, _) = run(home.missive().args(["keys", "list"]));
    assert_eq!(listed.len(), 2);
}

#[test]
fn our_export_imports_into_gpg_and_sq() {
    let home = Home::new();
    let maker = GnuPg::new();
    let fingerprint = maker.generate("Erin <erin@example.org>");
    home.missive()
        .args(["keys", "import"])
        .write_stdin(maker.run(&["--armor", "--export"], None))
        .assert()
        .success();
    let output = home
        .missive()
        .args(["keys", "export", "erin@example.org"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output
            .stdout
            .starts_with(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    );

    let other = GnuPg::new();
    other.run(&["--import"], Some(&output.stdout));
    assert_eq!(
        other.fingerprints("erin@example.org"),
        std::slice::from_ref(&fingerprint)
    );

    let file = home.write("erin.asc", &output.stdout);
    let inspect = Command::new("sq")
        .arg("inspect")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        inspect.status.success(),
        "{}",
        String::from_utf8_lossy(&inspect.stderr)
    );
    let text = String::from_utf8_lossy(&inspect.stdout);
    assert!(text.contains(&fingerprint), "{text}");
}

#[test]
fn a_second_key_for_a_bound_address_is_a_conflict_until_the_user_decides() {
    let home = Home::new();
    let first = GnuPg::new();
    let old = first.generate("Alice <alice@example.org>");
    let second = GnuPg::new();
    let new = second.generate("Alice (new laptop) <alice@example.org>");
    for gpg in [&first, &second] {
        home.missive()
            .args(["keys", "import"])
            .write_stdin(gpg.run(&["--armor", "--export"], None))
            .assert()
            .success();
    }
    let (_, shown, _) = run(home.missive().args(["keys", "show", "alice@example.org"]));
    let state = |fpr: &str| {
        shown
            .iter()
            .find(|k| k["fingerprint"] == fpr)
            .map(|k| k["bindings"][0]["state"].as_str().unwrap().to_string())
    };
    assert_eq!(state(&old).as_deref(), Some("tofu"));
    assert_eq!(state(&new).as_deref(), Some("conflict"));

    let (code, verified, _) =
        run(home
            .missive()
            .args(["keys", "verify", "alice@example.org", &new]));
    assert_eq!(code, 0);
    assert_eq!(verified[0]["bindings"][0]["state"], "verified");
    let (_, after, _) = run(home.missive().args(["keys", "show", "alice@example.org"]));
    assert_eq!(after.len(), 1, "the other binding is dropped");
    assert_eq!(after[0]["fingerprint"], new.as_str());

    let output = home
        .missive()
        .args(["keys", "forget", "alice@example.org"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), "1");
    let (code, _, stderr) = run(home.missive().args(["keys", "show", "alice@example.org"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("no key for"), "{stderr}");
}

#[test]
fn garbage_is_not_a_certificate() {
    let home = Home::new();
    let (code, records, stderr) = run(home.missive().args(["keys", "import"]).write_stdin("hello"));
    assert_eq!(code, 2);
    assert!(records.is_empty());
    assert!(stderr.contains("not an OpenPGP certificate"), "{stderr}");
}

#[test]
fn a_dry_run_discovery_prints_the_spec_lookup_names_without_network() {
    let home = Home::new();
    let (code, lookups, _) = run(home.missive().args([
        "keys",
        "discover",
        "--dry-run",
        "Joe.Doe@Example.ORG",
        "hugh@example.com",
    ]));
    assert_eq!(code, 0);
    assert!(
        lookups[0]["wkd_advanced"]
            .as_str()
            .unwrap()
            .contains("/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe")
    );
    assert!(
        lookups[0]["wkd_direct"]
            .as_str()
            .unwrap()
            .starts_with("https://example.org/.well-known/openpgpkey/hu/")
    );
    assert_eq!(
        lookups[1]["dns_openpgpkey"],
        "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey.example.com"
    );
}

#[test]
fn keys_learn_takes_autocrypt_keys_from_fetched_mail_and_recommends_encryption() {
    let home = Home::new();
    home.write_config(
        "[identity]\naddresses = [\"sam@example.com\"]\nprefer_encrypt = \"mutual\"\n",
    );
    let gpg = GnuPg::new();
    let fingerprint = gpg.generate("Alice <alice@example.org>");
    let key = gpg.run(&["--export", "alice@example.org"], None);
    write_autocrypt_mail(&home, "alice@example.org", &key);
    // A header whose addr is not the sender's is ignored.
    let forged = String::from_utf8(autocrypt_mail(
        "mallory@example.net",
        "Mon, 01 Jan 2024 11:00:00 +0000",
        "mutual",
        &key,
    ))
    .unwrap()
    .replacen("From: mallory@example.net", "From: bob@example.net", 1);
    home.write("Mail/cur/2.M2.x:2,S", forged.as_bytes());

    let (code, passed, stderr) = home.fetch_and_learn_keys();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(passed.len(), 2, "records pass through");

    let (_, shown, _) = run(home.missive().args(["keys", "show", "alice@example.org"]));
    assert_eq!(shown[0]["fingerprint"], fingerprint.as_str());
    assert_eq!(shown[0]["bindings"][0]["source"], "autocrypt");
    let (code, _, _) = run(home.missive().args(["keys", "show", "bob@example.net"]));
    assert_eq!(code, 2, "the forged header taught nothing");

    let (_, recommended, _) = run(home.missive().args([
        "keys",
        "recommend",
        "alice@example.org",
        "bob@example.net",
        "nobody@example.org",
    ]));
    let say = |i: usize| {
        recommended[i]["recommendation"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(say(0), "encrypt", "both sides prefer mutual");
    assert_eq!(recommended[0]["key"], fingerprint.as_str());
    assert_eq!(say(1), "disable");
    assert_eq!(say(2), "disable");
}

/// A PGP/MIME (RFC 3156) message whose first part `gpg` signed; `tamper` changes the text
/// after signing.
pub(crate) fn pgp_mime_signed(gpg: &GnuPg, tamper: bool) -> Vec<u8> {
    let entity = "Content-Type: text/plain; charset=utf-8\n\nHello Sam, this is signed.\n";
    let signed = entity.replace('\n', "\r\n");
    let signature = gpg.run(
        &[
            "--armor",
            "--detach-sign",
            "--local-user",
            "alice@example.org",
        ],
        Some(signed.as_bytes()),
    );
    let body = if tamper {
        entity.replace("Hello", "Hullo")
    } else {
        entity.to_string()
    };
    format!(
        "From: alice@example.org\nTo: sam@example.com\nSubject: signed\nDate: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <signed-{tamper}@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/signed; micalg=pgp-sha256;\n protocol=\"application/pgp-signature\"; boundary=\"sig\"\n\n--sig\n{body}\n--sig\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n{}\n--sig--\n",
        String::from_utf8(signature).unwrap()
    )
    .into_bytes()
}

fn verified_states(home: &Home) -> Vec<(String, String)> {
    let fetched = home
        .missive()
        .args(["fetch", "--all", "maildir:Mail"])
        .output()
        .unwrap();
    let (code, scored, stderr) = run(home
        .missive()
        .args(["score", "--verify"])
        .write_stdin(fetched.stdout));
    assert_eq!(code, 0, "{stderr}");
    let mut states: Vec<(String, String)> = scored
        .iter()
        .map(|r| {
            (
                r["native_id"].as_str().unwrap().to_string(),
                r["security"]["signature"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    states.sort();
    states
}

#[test]
fn signatures_made_by_gpg_verify_and_tampering_or_an_unknown_key_shows() {
    let home = Home::new();
    let gpg = GnuPg::new();
    gpg.generate("Alice <alice@example.org>");
    home.write("Mail/cur/1.M1.x:2,S", &pgp_mime_signed(&gpg, false));
    home.write("Mail/cur/2.M2.x:2,S", &pgp_mime_signed(&gpg, true));
    let clearsigned = gpg.run(
        &["--clearsign", "--local-user", "alice@example.org"],
        Some(b"Meet at noon.\n"),
    );
    let mut inline = b"From: alice@example.org\nTo: sam@example.com\nSubject: inline\nMessage-ID: <inline@example.org>\n\n".to_vec();
    inline.extend_from_slice(&clearsigned);
    home.write("Mail/cur/3.M3.x:2,S", &inline);

    let unknown = verified_states(&home);
    assert!(
        unknown.iter().all(|(_, state)| state == "unknown-key"),
        "{unknown:?}"
    );

    home.missive()
        .args(["keys", "import"])
        .write_stdin(gpg.run(&["--armor", "--export"], None))
        .assert()
        .success();
    let states = verified_states(&home);
    assert_eq!(
        states,
        [
            ("<inline@example.org>".to_string(), "valid".to_string()),
            (
                "<signed-false@example.org>".to_string(),
                "valid".to_string()
            ),
            (
                "<signed-true@example.org>".to_string(),
                "invalid".to_string()
            ),
        ]
    );
}

#[test]
fn generate_makes_an_own_key_protected_by_the_passphrase_that_gpg_can_import() {
    let home = Home::new();
    home.write_config("[identity]\nname = \"Sam Example\"\naddresses = [\"sam@example.com\"]\n");
    let (code, records, stderr) = run(home.missive().args([
        "keys",
        "generate",
        "--passphrase-command",
        "echo correct-horse",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let key = &records[0];
    assert_eq!(
        key["user_ids"],
        serde_json::json!(["Sam Example <sam@example.com>"])
    );
    assert_eq!(key["algorithm"], "EdDSA");
    assert_eq!(
        (key["secret"].as_bool(), key["protected"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(
        key["bindings"][0]["state"], "verified",
        "one's own key needs no trust on first use"
    );
    assert!(!stderr.contains("correct-horse"));

    let output = home
        .missive()
        .args(["keys", "export", "--secret"])
        .output()
        .unwrap();
    assert!(
        output
            .stdout
            .starts_with(b"-----BEGIN PGP PRIVATE KEY BLOCK-----")
    );
    let gpg = GnuPg::new();
    gpg.run(
        &[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "correct-horse",
            "--import",
        ],
        Some(&output.stdout),
    );
    let secret =
        String::from_utf8(gpg.run(&["--with-colons", "--list-secret-keys"], None)).unwrap();
    assert!(
        secret.contains(key["fingerprint"].as_str().unwrap()),
        "{secret}"
    );
    // Protected: signing with the wrong passphrase fails, with the right one it works.
    let wrong = gpg
        .command()
        .args([
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "wrong",
            "--clearsign",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!wrong.status.success());
    let right = gpg
        .command()
        .args([
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "correct-horse",
            "--clearsign",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        right.status.success(),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
}

#[test]
fn generate_without_a_terminal_asks_for_a_passphrase_source() {
    let home = Home::new();
    let (code, _, stderr) = run(home
        .missive()
        .args(["keys", "generate", "Sam <sam@example.com>"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--passphrase-command or --no-passphrase"),
        "{stderr}"
    );
}

/// `missive --help` names every `keys` subcommand a newcomer looks for.
#[test]
fn the_help_lists_every_keys_subcommand() {
    let home = Home::new();
    let output = home.missive().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    let keys = help
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("keys "))
        .take_while(|line| !line.trim_start().starts_with("thread "))
        .collect::<Vec<_>>()
        .join(" ");
    for subcommand in [
        "generate",
        "learn",
        "recommend",
        "discover",
        "import",
        "verify",
    ] {
        assert!(keys.contains(subcommand), "{subcommand} missing: {help}");
    }
}

/// Without a terminal (cron, a container), `keys generate` says how to give the passphrase,
/// not "No such device or address".
#[test]
fn generating_a_key_without_a_terminal_names_the_passphrase_command() {
    use std::os::unix::process::CommandExt;
    let home = Home::new();
    let mut command = home.missive_std();
    command.args(["keys", "generate", "Bob <bob@example.net>"]);
    // SAFETY: setsid is async-signal-safe; the child leaves the test's controlling
    // terminal, so opening /dev/tty fails as it does under cron.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .expect("missive runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no terminal for the passphrase prompt; use --passphrase-command"),
        "{stderr}"
    );
    assert!(!stderr.contains("os error"), "{stderr}");
}

#[test]
fn every_keys_command_honours_format_text() {
    let home = Home::new();
    let (code, records, stderr) = run(home.missive().args([
        "keys",
        "generate",
        "Bob <bob@example.net>",
        "--no-passphrase",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let fingerprint = records[0]["fingerprint"].as_str().unwrap().to_string();
    let listed = text_lines(home.missive().args(["keys", "list"]));
    assert!(
        listed[0].contains(&fingerprint) && listed[0].contains("bob@example.net (verified)"),
        "{listed:?}"
    );
    let shown = text_lines(home.missive().args(["keys", "show", "bob@example.net"]));
    assert!(shown[0].contains(&fingerprint), "{shown:?}");
    let planned =
        text_lines(
            home.missive()
                .args(["keys", "discover", "--dry-run", "carol@example.org"]),
        );
    assert!(
        planned[0].starts_with("carol@example.org") && planned[0].contains("openpgpkey"),
        "{planned:?}"
    );
    let recommended = text_lines(
        home.missive()
            .args(["keys", "recommend", "carol@example.org"]),
    );
    assert!(
        recommended[0].starts_with("carol@example.org") && recommended[0].contains("disable"),
        "{recommended:?}"
    );
}

#[test]
fn keys_import_learn_and_verify_honour_format_text() {
    let home = Home::new();
    let gpg = GnuPg::new();
    let alice = gpg.generate("Alice <alice@example.org>");
    let armored = gpg.run(&["--armor", "--export", "alice@example.org"], None);
    let imported = text_lines(home.missive().args(["keys", "import"]).write_stdin(armored));
    assert!(
        imported[0].starts_with(&alice) && imported[0].contains("alice@example.org (tofu)"),
        "{imported:?}"
    );
    let verified = text_lines(
        home.missive()
            .args(["keys", "verify", "alice@example.org", &alice]),
    );
    assert!(
        verified[0].contains("alice@example.org (verified)"),
        "{verified:?}"
    );

    let bob = gpg.generate("Bob <bob@example.net>");
    write_autocrypt_mail(
        &home,
        "bob@example.net",
        &gpg.run(&["--export", &bob], None),
    );
    let fetched = home
        .missive()
        .args(["fetch", "maildir:Mail"])
        .output()
        .expect("missive runs");
    let learned = text_lines(
        home.missive()
            .args(["keys", "learn"])
            .write_stdin(fetched.stdout),
    );
    assert_eq!(learned.len(), 1, "the message passes through: {learned:?}");
    assert!(
        learned[0].starts_with("2024-01-01T10:00") && learned[0].contains("bob@example.net"),
        "{learned:?}"
    );
}
