//! The mail delivery agents a mail filter runs under, as a mail server runs them: procmail
//! (`:0 fw`), maildrop (`xfilter`) and Dovecot's LDA with a Sieve `filter` (Pigeonhole
//! extprograms). Each delivery gets a temporary directory of its own holding the agent's
//! config, the filter (a shell script the test writes), the filter's `HOME` and the Maildir
//! the message lands in. As root, Dovecot delivers as nobody, who then owns that directory.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::daemon::tool;

const INSTALL_HINT: &str = "install the mail delivery agents (Debian: apt-get install procmail maildrop dovecot-core dovecot-sieve), or run scripts/test as root";

/// A mail delivery agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mda {
    Procmail,
    Maildrop,
    DovecotSieve,
}

/// Every agent, for a test to run under each.
pub const ALL: [Mda; 3] = [Mda::Procmail, Mda::Maildrop, Mda::DovecotSieve];

/// What a delivery left.
pub struct Delivery {
    /// The agent's exit code.
    pub status: i32,
    /// The files of `Maildir/new`.
    pub delivered: Vec<Vec<u8>>,
    /// The agent's log and stderr, to explain a failure.
    pub log: String,
}

impl Delivery {
    /// The one delivered message, or a panic naming the agent and its log.
    pub fn message(&self, mda: Mda) -> &[u8] {
        assert_eq!(self.status, 0, "{mda:?} failed: {}", self.log);
        assert_eq!(self.delivered.len(), 1, "{mda:?}: {}", self.log);
        &self.delivered[0]
    }
}

fn id(args: &[&str]) -> u32 {
    let output = Command::new("id").args(args).output().expect("id runs");
    String::from_utf8(output.stdout)
        .expect("id prints text")
        .trim()
        .parse()
        .expect("a number")
}

/// Gives `path` and everything under it to `owner`.
fn chown_all(path: &Path, owner: (u32, u32)) {
    std::os::unix::fs::chown(path, Some(owner.0), Some(owner.1)).expect("chown");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("a directory") {
            chown_all(&entry.expect("an entry").path(), owner);
        }
    }
}

impl Mda {
    /// Delivers `message` through a filter whose shell script body is `script`, run with
    /// `PATH` finding missive and `HOME` an empty directory (`$HOME` in the script);
    /// `prepare` may write files into that home first.
    pub fn deliver(self, script: &str, message: &[u8], prepare: impl FnOnce(&Path)) -> Delivery {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().to_path_buf();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let home = root.join("home");
        for sub in [
            "home",
            "filters",
            "Maildir/new",
            "Maildir/cur",
            "Maildir/tmp",
        ] {
            std::fs::create_dir_all(root.join(sub)).expect("directories");
        }
        prepare(&home);
        let binary = assert_cmd::cargo::cargo_bin("missive");
        let bin_dir = binary.parent().expect("the binary's directory");
        let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display());
        let filter = root.join("filters/missive-filter");
        std::fs::write(
            &filter,
            format!("#!/bin/sh\nPATH={path}\nexport PATH\n{script}\n"),
        )
        .expect("filter written");
        std::fs::set_permissions(&filter, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let message_file = root.join("message");
        std::fs::write(&message_file, message).expect("message written");
        let mut command = match self {
            Mda::Procmail => procmail(&root, &filter),
            Mda::Maildrop => maildrop(&root, &filter),
            Mda::DovecotSieve => dovecot_lda(&root),
        };
        let output = command
            .env("HOME", &home)
            .env("PATH", &path)
            .current_dir(&root)
            .stdin(std::fs::File::open(&message_file).expect("the message"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("{self:?} does not start: {e}; {INSTALL_HINT}"));
        let log = format!(
            "{}{}{}",
            std::fs::read_to_string(root.join("mda.log")).unwrap_or_default(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let delivered = std::fs::read_dir(root.join("Maildir/new"))
            .expect("Maildir/new")
            .map(|entry| std::fs::read(entry.expect("an entry").path()).expect("delivered"))
            .collect();
        Delivery {
            status: output.status.code().unwrap_or(-1),
            delivered,
            log,
        }
    }
}

fn procmail(root: &Path, filter: &Path) -> Command {
    // procmail sets its own PATH, and HOME from the password file, so the rc file names
    // them again.
    let rc = format!(
        "SHELL=/bin/sh\nPATH={path}\nHOME={dir}/home\nMAILDIR={dir}\nDEFAULT={dir}/Maildir/\nLOGFILE={dir}/mda.log\n\n:0 fw\n| {filter}\n\n:0\nMaildir/\n",
        path = std::env::var("PATH").unwrap_or_default(),
        dir = root.display(),
        filter = filter.display()
    );
    std::fs::write(root.join("procmailrc"), rc).expect("procmailrc written");
    let mut command = Command::new(tool("procmail", INSTALL_HINT));
    command.env_clear().args(["-m", "./procmailrc"]);
    command
}

fn maildrop(root: &Path, filter: &Path) -> Command {
    // maildrop sets HOME from the password file: the filter file names it again.
    let rc = format!(
        "HOME=\"{dir}/home\"\nxfilter \"{filter}\"\nto \"{dir}/Maildir/\"\n",
        filter = filter.display(),
        dir = root.display()
    );
    let rc_path = root.join("mailfilter");
    std::fs::write(&rc_path, rc).expect("mailfilter written");
    // maildrop refuses a filter file others may read.
    std::fs::set_permissions(&rc_path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut command = Command::new(tool("maildrop", INSTALL_HINT));
    command.env_clear().arg(rc_path);
    command
}

/// Dovecot's LDA, delivering as the current user (nobody for root, whom Dovecot refuses),
/// with a Sieve script that runs the filter.
fn dovecot_lda(root: &Path) -> Command {
    let lda = PathBuf::from("/usr/lib/dovecot/dovecot-lda");
    assert!(lda.exists(), "{} is missing: {INSTALL_HINT}", lda.display());
    let dir = root.display();
    std::fs::write(
        root.join("home/dovecot.sieve"),
        "require \"vnd.dovecot.filter\";\nfilter \"missive-filter\";\n",
    )
    .expect("sieve script written");
    let config = format!(
        "base_dir = {dir}/run\nlog_path = {dir}/mda.log\nssl = no\n\
         mail_location = maildir:{dir}/Maildir\npostmaster_address = postmaster@example.org\n\
         protocol lda {{\n  mail_plugins = sieve\n}}\n\
         plugin {{\n  sieve = file:{dir}/home/sieve;active={dir}/home/dovecot.sieve\n\
         sieve_plugins = sieve_extprograms\n  sieve_extensions = +vnd.dovecot.filter\n\
         sieve_filter_bin_dir = {dir}/filters\n}}\n"
    );
    std::fs::write(root.join("dovecot.conf"), config).expect("dovecot.conf written");
    std::fs::create_dir_all(root.join("run")).expect("run directory");
    std::fs::write(root.join("mda.log"), "").expect("log");
    let mut command = if id(&["-u"]) == 0 {
        chown_all(root, (id(&["-u", "nobody"]), id(&["-g", "nobody"])));
        let mut command = Command::new("setpriv");
        command
            .arg(format!("--reuid={}", id(&["-u", "nobody"])))
            .arg(format!("--regid={}", id(&["-g", "nobody"])))
            .arg("--clear-groups")
            .arg(lda);
        command
    } else {
        Command::new(lda)
    };
    command
        .env_clear()
        .env("USER", "tester")
        .arg("-c")
        .arg(root.join("dovecot.conf"))
        .args(["-f", "alice@example.org"]);
    command
}
