//! A real Dovecot IMAP server for one test: its config, TLS certificates (a test CA and a
//! server certificate for 127.0.0.1, made by the `openssl` CLI), users, Maildirs, logs and
//! sockets all live in one temporary directory. It listens on loopback with STARTTLS (and
//! plain text) on one port and implicit TLS on another, is ready once it has greeted us, and
//! is stopped in `Drop`, panic or not.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::daemon::{free_port, make_certificates, stop, tool};

const INSTALL_HINT: &str = "install Dovecot's IMAP server and openssl (Debian: apt-get install dovecot-imapd openssl), or run scripts/test as root";

/// A running Dovecot.
pub struct Dovecot {
    pub dir: tempfile::TempDir,
    child: Child,
    /// Plain text and STARTTLS.
    pub imap_port: u16,
    /// Implicit TLS.
    pub imaps_port: u16,
    /// The uid and gid mail is stored as.
    owner: (u32, u32),
}

static DELIVERED: AtomicU64 = AtomicU64::new(0);

fn id(args: &[&str]) -> String {
    let output = Command::new("id").args(args).output().expect("id runs");
    String::from_utf8(output.stdout)
        .expect("id prints text")
        .trim()
        .to_string()
}

impl Dovecot {
    /// Starts Dovecot with these users and passwords.
    pub fn start(users: &[(&str, &str)]) -> Dovecot {
        Dovecot::offering(users, "plain login")
    }

    /// Starts Dovecot with these users and passwords, offering these SASL mechanisms
    /// (`auth_mechanisms`: `plain login`, or `login` alone).
    pub fn offering(users: &[(&str, &str)], mechanisms: &str) -> Dovecot {
        let dovecot = tool("dovecot", INSTALL_HINT);
        let openssl = tool("openssl", INSTALL_HINT);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().to_path_buf();
        let as_root = id(&["-u"]) == "0";
        // Dovecot runs neither its login processes nor mail access as root: as root, both
        // run as nobody, who must reach the temporary directory.
        let (login_user, owner) = if as_root {
            let uid: u32 = id(&["-u", "nobody"]).parse().expect("nobody's uid");
            let gid: u32 = id(&["-g", "nobody"]).parse().expect("nobody's gid");
            ("nobody".to_string(), (uid, gid))
        } else {
            (
                id(&["-un"]),
                (
                    id(&["-u"]).parse().expect("a uid"),
                    id(&["-g"]).parse().expect("a gid"),
                ),
            )
        };
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755))
            .expect("chmod the temporary directory");
        for sub in ["run", "state", "mail", "home"] {
            std::fs::create_dir_all(root.join(sub)).expect("dovecot directories");
        }
        for sub in ["mail", "home"] {
            std::os::unix::fs::chown(root.join(sub), Some(owner.0), Some(owner.1))
                .expect("chown the mail directory");
        }
        make_certificates(&openssl, &root, "IP:127.0.0.1,DNS:localhost");
        let passwd: String = users
            .iter()
            .map(|(user, password)| format!("{user}:{{PLAIN}}{password}::::::\n"))
            .collect();
        std::fs::write(root.join("passwd"), passwd).expect("passwd written");

        let mut last_log = String::new();
        for _ in 0..5 {
            let (imap_port, imaps_port) = (free_port(), free_port());
            let internal = if as_root { "root" } else { login_user.as_str() };
            let ports = (imap_port, imaps_port);
            let config = config(&root, internal, &login_user, owner, ports, mechanisms);
            std::fs::write(root.join("dovecot.conf"), config).expect("config written");
            let _ = std::fs::write(root.join("dovecot.log"), "");
            let child = Command::new(&dovecot)
                .arg("-F")
                .arg("-c")
                .arg(root.join("dovecot.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {dovecot}: {e}; {INSTALL_HINT}"));
            let mut child = child;
            if wait_for_greeting(&mut child, imap_port, imaps_port, Duration::from_secs(10)) {
                return Dovecot {
                    dir,
                    child,
                    imap_port,
                    imaps_port,
                    owner,
                };
            }
            // Most likely a port taken between our pick and Dovecot's bind: pick again.
            stop(&mut child);
            last_log = std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default();
        }
        panic!("dovecot did not greet on loopback within its deadline; its log:\n{last_log}");
    }

    /// The test CA's certificate, for `ca_file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Dovecot's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// The Maildir folder of a user's mailbox (`INBOX`, or Maildir++ `.Name`).
    fn folder(&self, user: &str, mailbox: &str) -> PathBuf {
        let base = self.dir.path().join("mail").join(user);
        if mailbox == "INBOX" {
            base
        } else {
            base.join(format!(".{}", mailbox.replace('/', ".")))
        }
    }

    /// Puts a message into a mailbox, as a mail server's delivery would; `seen` files it as
    /// read.
    pub fn deliver(&self, user: &str, mailbox: &str, raw: &[u8], seen: bool) {
        let folder = self.folder(user, mailbox);
        for sub in ["", "cur", "new", "tmp"] {
            let dir = folder.join(sub);
            if !dir.exists() {
                std::fs::create_dir_all(&dir).expect("maildir");
                chown_up(&dir, self.dir.path(), self.owner);
            }
        }
        let n = DELIVERED.fetch_add(1, Ordering::Relaxed);
        let name = format!(
            "{}.M{n}P{}.missive-test",
            1_700_000_000 + n,
            std::process::id()
        );
        let tmp = folder.join("tmp").join(&name);
        let mut file = std::fs::File::create(&tmp).expect("message file");
        file.write_all(raw).expect("message written");
        drop(file);
        std::os::unix::fs::chown(&tmp, Some(self.owner.0), Some(self.owner.1)).expect("chown");
        let target = if seen {
            folder.join("cur").join(format!("{name}:2,S"))
        } else {
            folder.join("new").join(name)
        };
        std::fs::rename(&tmp, target).expect("delivered");
    }

    /// Runs `doveadm` against this server and returns its output.
    pub fn doveadm(&self, args: &[&str]) -> String {
        let output = Command::new(tool("doveadm", INSTALL_HINT))
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .args(args)
            .output()
            .expect("doveadm runs");
        assert!(
            output.status.success(),
            "doveadm {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Saves a message into a mailbox named in Unicode (`doveadm save`), creating it first:
    /// Dovecot's own naming, where [`Dovecot::deliver`] writes a Maildir folder by hand.
    pub fn save(&self, user: &str, mailbox: &str, raw: &[u8]) {
        let listed = self.doveadm(&["mailbox", "list", "-u", user]);
        if !listed.lines().any(|line| line.trim() == mailbox) {
            self.doveadm(&["mailbox", "create", "-u", user, mailbox]);
        }
        let mut child = Command::new(tool("doveadm", INSTALL_HINT))
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .args(["save", "-u", user, "-m", mailbox])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("doveadm runs");
        child
            .stdin
            .take()
            .expect("doveadm's stdin")
            .write_all(raw)
            .expect("the message written to doveadm");
        let output = child.wait_with_output().expect("doveadm ends");
        assert!(
            output.status.success(),
            "doveadm save to {mailbox} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The flags of every message of a mailbox, by UID.
    pub fn flags(&self, user: &str, mailbox: &str) -> Vec<(u32, String)> {
        let text = self.doveadm(&["fetch", "-u", user, "uid flags", "mailbox", mailbox]);
        let mut found = Vec::new();
        let mut uid = 0;
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("uid: ") {
                uid = value.trim().parse().expect("a uid");
            } else if let Some(value) = line.strip_prefix("flags: ") {
                found.push((uid, value.trim().to_string()));
            } else if line.trim() == "flags:" {
                found.push((uid, String::new()));
            }
        }
        found
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Whether Dovecot greets on the STARTTLS port and accepts on the TLS port in time.
fn wait_for_greeting(
    child: &mut Child,
    imap_port: u16,
    imaps_port: u16,
    deadline: Duration,
) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", imap_port)) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut line = String::new();
            if BufReader::new(stream).read_line(&mut line).is_ok()
                && line.starts_with("* OK")
                && TcpStream::connect(("127.0.0.1", imaps_port)).is_ok()
            {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Gives the directories from `dir` up to (not including) `root` to the mail owner.
fn chown_up(dir: &Path, root: &Path, owner: (u32, u32)) {
    let mut at = Some(dir);
    while let Some(path) = at {
        if path == root || !path.starts_with(root) {
            break;
        }
        let _ = std::os::unix::fs::chown(path, Some(owner.0), Some(owner.1));
        at = path.parent();
    }
}

fn config(
    root: &Path,
    internal_user: &str,
    login_user: &str,
    owner: (u32, u32),
    (imap_port, imaps_port): (u16, u16),
    mechanisms: &str,
) -> String {
    let r = root.display();
    let (uid, gid) = owner;
    format!(
        r#"base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal_user}
default_internal_group = {internal_user}
default_login_user = {login_user}
first_valid_uid = 0
ssl = yes
ssl_cert = <{r}/cert.pem
ssl_key = <{r}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {r}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={r}/home/%u
}}
mail_location = maildir:{r}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \Sent
    auto = create
  }}
  mailbox Archive {{
    special_use = \Archive
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"#
    )
}
