//! Real OpenPGP implementations for interoperability tests: GnuPG in a throwaway home
//! (its agent stopped on drop) and Sequoia's `sq`.

use std::path::Path;
use std::process::Command;

use super::Home;

/// A GnuPG home of one test.
pub struct GnuPg {
    pub home: tempfile::TempDir,
}

impl GnuPg {
    pub fn new() -> GnuPg {
        // Short path: the agent's socket lives here and socket paths are limited.
        let home = tempfile::Builder::new()
            .prefix("gpg")
            .tempdir_in("/tmp")
            .expect("a GnuPG home");
        GnuPg { home }
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new("gpg");
        command
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--no-tty", "--quiet"]);
        command
    }

    /// Runs gpg, panicking with its stderr when it fails (gpg is in Debian's `gnupg`).
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
        use std::io::Write;
        let mut child = self
            .command()
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("gpg runs (apt-get install gnupg)");
        if let Some(input) = stdin {
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        drop(child.stdin.take());
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// Makes an Ed25519 key without passphrase for `user_id`; returns its fingerprint.
    pub fn generate(&self, user_id: &str) -> String {
        self.run(
            &[
                "--passphrase",
                "",
                "--quick-gen-key",
                user_id,
                "ed25519",
                "default",
                "never",
            ],
            None,
        );
        self.fingerprints(user_id).pop().expect("the new key")
    }

    /// The secret keys of `who`, armoured, for `sq decrypt --recipient-key`.
    pub fn secret_key(&self, who: &str) -> Vec<u8> {
        self.run(
            &[
                "--pinentry-mode",
                "loopback",
                "--passphrase",
                "",
                "--armor",
                "--export-secret-keys",
                who,
            ],
            None,
        )
    }

    /// Fingerprints of the keys matching `who`, oldest first.
    pub fn fingerprints(&self, who: &str) -> Vec<String> {
        let listing =
            String::from_utf8(self.run(&["--with-colons", "--list-keys", who], None)).unwrap();
        let mut fingerprints = Vec::new();
        let mut primary = false;
        for line in listing.lines() {
            if line.starts_with("pub:") {
                primary = true;
            } else if line.starts_with("fpr:") && primary {
                fingerprints.push(line.split(':').nth(9).unwrap().to_string());
                primary = false;
            }
        }
        fingerprints
    }
}

impl Drop for GnuPg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

/// Makes a certificate with `sq` (Debian's `sq`) for `user_id` under `dir`; returns the
/// certificate file.
pub fn sq_certificate(dir: &Path, user_id: &str) -> std::path::PathBuf {
    let key = dir.join("sq.key");
    let cert = dir.join("sq.cert");
    let status = Command::new("sq")
        .args(["key", "generate", "--userid", user_id, "--export"])
        .arg(&key)
        .status()
        .expect("sq runs (apt-get install sq)");
    assert!(status.success());
    let output = Command::new("sq")
        .args(["key", "extract-cert"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(&cert, output.stdout).unwrap();
    cert
}

/// Runs `sq ARGS FILES` (Debian's `sq`): whether it succeeded, and its stdout and stderr.
pub fn sq(args: &[&str], files: &[&Path]) -> (bool, String) {
    let output = Command::new("sq")
        .args(args)
        .args(files)
        .output()
        .expect("sq runs (apt-get install sq)");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// `sq decrypt` of `encrypted` with the secret key in `key`, which fails unless a
/// signature by the certificate in `signer` verifies: whether it worked, and what it wrote.
pub fn sq_decrypt_signed(key: &Path, signer: &Path, encrypted: &Path) -> (bool, String) {
    sq(
        &[
            "decrypt",
            "--recipient-key",
            &key.to_string_lossy(),
            "--signer-cert",
            &signer.to_string_lossy(),
        ],
        &[encrypted],
    )
}

/// The armoured ciphertext of a PGP/MIME message (RFC 3156): its second part, which `sq`
/// reads (it does not read MIME).
pub fn pgp_mime_ciphertext(message: &[u8]) -> Vec<u8> {
    let parsed = mail_parser::MessageParser::default()
        .parse(message)
        .expect("a message");
    let part = parsed.part(2).expect("the encrypted part");
    part.contents().to_vec()
}

/// A message from `from` dated `date` with an Autocrypt header carrying `key` (binary).
pub fn autocrypt_mail(from: &str, date: &str, prefer: &str, key: &[u8]) -> Vec<u8> {
    format!(
        "From: {from}\nTo: sam@example.com\nSubject: hi\nDate: {date}\nMessage-ID: <{}@example.org>\nAutocrypt: addr={from}; prefer-encrypt={prefer}; keydata=\n {}\n\nhello\n",
        date.len() + key.len(),
        keydata(key)
    )
    .into_bytes()
}

/// Writes the first mail of `home`'s maildir `Mail`: from `from` on 1 January 2024, its
/// Autocrypt header carrying `key` (binary) with `prefer-encrypt=mutual`, for `keys learn`
/// to learn.
pub fn write_autocrypt_mail(home: &Home, from: &str, key: &[u8]) {
    home.write(
        "Mail/cur/1.M1.x:2,S",
        &autocrypt_mail(from, "Mon, 01 Jan 2024 10:00:00 +0000", "mutual", key),
    );
}

/// A home whose user (sam, who prefers encryption) has in `Mail/` one message from Alice
/// carrying her Autocrypt header and a key `gpg` made for her; the `gpg` that holds it, to
/// sign as her.
pub fn home_with_alices_autocrypt_mail() -> (Home, GnuPg) {
    let home = Home::new();
    home.write_config(
        "[identity]\naddresses = [\"sam@example.com\"]\nprefer_encrypt = \"mutual\"\n",
    );
    let gpg = GnuPg::new();
    gpg.generate("Alice <alice@example.org>");
    let key = gpg.run(&["--export", "alice@example.org"], None);
    write_autocrypt_mail(&home, "alice@example.org", &key);
    (home, gpg)
}

/// `key` (binary) as the `keydata` of an Autocrypt header: base64, folded onto continuation
/// lines.
pub fn keydata(key: &[u8]) -> String {
    use base64::Engine as _;
    let keydata = base64::engine::general_purpose::STANDARD.encode(key);
    let folded: Vec<&str> = keydata
        .as_bytes()
        .chunks(72)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    folded.join("\n ")
}

/// Makes a certificate with Sequoia for `user_id`; returns its fingerprint and its binary
/// (transferable public key) form, as WKD and DNS OPENPGPKEY carry it.
pub fn sequoia_certificate(user_id: &str) -> (String, Vec<u8>) {
    use sequoia_openpgp::cert::CertBuilder;
    use sequoia_openpgp::serialize::MarshalInto;
    let (cert, _revocation) = CertBuilder::general_purpose(Some(user_id))
        .generate()
        .expect("a new certificate");
    (
        cert.fingerprint().to_hex(),
        cert.to_vec().expect("the certificate serialises"),
    )
}

/// Makes a certificate with Sequoia for `user_id`, created a day ago and expiring `left`
/// from now; returns its fingerprint and binary form.
pub fn sequoia_certificate_expiring(user_id: &str, left: std::time::Duration) -> (String, Vec<u8>) {
    use sequoia_openpgp::cert::CertBuilder;
    use sequoia_openpgp::serialize::MarshalInto;
    let day = std::time::Duration::from_secs(86_400);
    let (cert, _revocation) = CertBuilder::general_purpose(Some(user_id))
        .set_creation_time(std::time::SystemTime::now() - day)
        .set_validity_period(day + left)
        .generate()
        .expect("a new certificate");
    (
        cert.fingerprint().to_hex(),
        cert.to_vec().expect("the certificate serialises"),
    )
}

/// Makes a certificate with Sequoia for `user_id` and appends the user id `unsigned`
/// without any self-signature, as anyone holding the certificate can; returns its
/// fingerprint and binary form.
pub fn sequoia_certificate_with_unsigned_user_id(
    user_id: &str,
    unsigned: &str,
) -> (String, Vec<u8>) {
    use sequoia_openpgp::cert::CertBuilder;
    use sequoia_openpgp::packet::UserID;
    use sequoia_openpgp::parse::Parse;
    use sequoia_openpgp::serialize::MarshalInto;
    let (cert, _revocation) = CertBuilder::general_purpose(Some(user_id))
        .generate()
        .expect("a new certificate");
    let (cert, _) = cert
        .insert_packets(UserID::from(unsigned))
        .expect("the user id is appended");
    let data = cert.to_vec().expect("the certificate serialises");
    assert_eq!(
        sequoia_openpgp::Cert::from_bytes(&data)
            .unwrap()
            .userids()
            .count(),
        2,
        "the unsigned user id travels with the certificate"
    );
    (cert.fingerprint().to_hex(), data)
}
