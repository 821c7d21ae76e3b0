//! What the integration tests share: the binary run against a fresh store and config, with
//! nothing from the caller's environment leaking in.

pub mod daemon;
pub mod dovecot;
pub mod exports;
pub mod knot;
pub mod mastodon;
pub mod mda;
pub mod openpgp;
pub mod proxy;
pub mod smtp;
pub mod wkd;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// A throwaway home: store, config and data directories of one test.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> PathBuf {
        self.path().join("store")
    }

    /// `missive` with this home's store and config, reading from /dev/null unless told.
    pub fn missive(&self) -> Command {
        let mut command = Command::from_std(self.missive_std());
        command.write_stdin(Vec::new());
        command
    }

    /// [`Home::missive`] as a plain `std::process::Command`, for a test that chooses where
    /// the output goes (assert_cmd always pipes it).
    pub fn missive_std(&self) -> std::process::Command {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("missive"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_DATA_HOME", self.path().join("data"))
            .env("XDG_CONFIG_HOME", self.path().join("config"))
            .env("MISSIVE_STORE", self.store())
            .current_dir(self.path());
        command
    }

    /// Writes `config.toml` where missive looks for it by default.
    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.path().join("config/missive/config.toml");
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("config dir");
        std::fs::write(&path, text).expect("config written");
        path
    }

    /// Fetches the maildir `Mail` of this home and runs `keys learn` over its records, as
    /// a user teaches missive the keys their mail carries; returns what [`run`] returns for
    /// `keys learn`.
    pub fn fetch_and_learn_keys(&self) -> (i32, Vec<Value>, String) {
        let fetched = self
            .missive()
            .args(["fetch", "maildir:Mail"])
            .output()
            .expect("missive runs");
        run(self
            .missive()
            .args(["keys", "learn"])
            .write_stdin(fetched.stdout))
    }

    /// Writes a file under this home, creating its directories.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("dirs");
        std::fs::write(&path, bytes).expect("file written");
        path
    }
}

/// Runs a command and returns (exit code, stdout records, stderr text).
pub fn run(command: &mut Command) -> (i32, Vec<Value>, String) {
    let output = command.output().expect("missive runs");
    let stdout = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let records = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().expect("an exit code"), records, stderr)
}

/// Every file under `dir`, in its subdirectories too; nothing when `dir` does not exist.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The lines a command prints with `--format text` (exit 0, at least one line), asserting
/// that none is JSON.
pub fn text_lines(command: &mut Command) -> Vec<String> {
    let output = command
        .args(["--format", "text"])
        .output()
        .expect("missive runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{command:?}: {stderr}");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8");
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    assert!(!lines.is_empty(), "{command:?} printed nothing: {stderr}");
    for line in &lines {
        assert!(
            serde_json::from_str::<Value>(line).is_err() && !line.starts_with(['{', '[']),
            "{command:?} printed JSON with --format text: {line}"
        );
    }
    lines
}

/// The repository's sample Maildir.
pub fn sample_maildir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/maildir")
}

/// A message with the given extra headers and body, LF line ends.
pub fn mail(headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\nTo: bob@example.net\nSubject: test\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n{headers}\n{body}"
    )
    .into_bytes()
}
