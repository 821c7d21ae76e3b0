//! The README's sample, OpenPGP included (issue 19.10): Sam's own key from
//! `examples/sam.secret.asc` (made by `examples/make-sample`), his address book
//! `examples/contacts.vcf`, Alice's Autocrypt key learned from her mail, Autocrypt's
//! recommendation, and her PGP/MIME contract decrypted and graded A.

use std::path::Path;

use crate::support::{Home, run, sample_maildir};

/// The passphrase of Sam's key, as `examples/make-sample` sets it and the README states it.
const PASSPHRASE: &str = "sample";

#[test]
fn the_readme_loop_learns_recommends_decrypts_and_grades_a() {
    let home = Home::new();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let sample = std::fs::read_to_string(examples.join("config.toml")).unwrap();
    // The sample config, its Maildir named absolutely, the passphrase given without a terminal.
    let config = home.write(
        "sample.toml",
        format!(
            "{}\n[keys]\npassphrase_command = \"echo {PASSPHRASE}\"\n",
            sample.replace(
                "\"maildir:maildir\"",
                &format!("\"maildir:{}\"", sample_maildir().display())
            )
        )
        .as_bytes(),
    );
    let missive = || {
        let mut command = home.missive();
        command.args(["--config", config.to_str().unwrap()]);
        command
    };

    let (code, own, stderr) = run(missive()
        .args(["keys", "import"])
        .arg(examples.join("sam.secret.asc")));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(own[0]["secret"], true, "{own:?}");
    assert_eq!(own[0]["protected"], true, "{own:?}");

    let (code, _, stderr) = run(missive()
        .args(["contacts", "import"])
        .arg(examples.join("contacts.vcf")));
    assert_eq!(code, 0, "{stderr}");

    let synced = missive().arg("sync").output().unwrap();
    assert_eq!(synced.status.code(), Some(0));
    let fetched = missive()
        .args(["fetch", "--all", "sample"])
        .output()
        .unwrap();
    assert_eq!(fetched.status.code(), Some(0));

    let (code, _, stderr) = run(missive()
        .args(["keys", "learn"])
        .write_stdin(fetched.stdout.clone()));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("Malformed"), "{stderr}");

    let (code, recommended, stderr) =
        run(missive().args(["keys", "recommend", "alice@example.org"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        recommended[0]["recommendation"], "available",
        "{recommended:?}"
    );
    let (code, recommended, stderr) = run(missive().args([
        "keys",
        "recommend",
        "--reply-to-encrypted",
        "alice@example.org",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        recommended[0]["recommendation"], "encrypt",
        "{recommended:?}"
    );

    let (code, scored, stderr) = run(missive()
        .args(["score", "--decrypt"])
        .write_stdin(fetched.stdout));
    assert_eq!(code, 0, "{stderr}");
    let contract = scored
        .iter()
        .find(|r| r["native_id"] == "<contract@example.org>")
        .unwrap_or_else(|| panic!("the contract in {scored:?}"));
    assert_eq!(contract["privacy"]["grade"], "A", "{contract}");
    assert_eq!(contract["security"]["decrypted"], true, "{contract}");
}
