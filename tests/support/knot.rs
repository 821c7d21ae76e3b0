//! A real Knot DNS server for one test, on a loopback port, serving three zones from one
//! temporary directory:
//!
//! - `example.test`, signed by Knot (automatic DNSSEC with a key signing key and a zone
//!   signing key, Ed25519, made by `keymgr` before start; both DNSKEYs are the test's trust
//!   anchor, as hickory wants the ZSK there too);
//! - `unsigned.example.test`, not signed, delegated from `example.test` without a DS:
//!   DNSSEC proves it insecure;
//! - `bogus.example.test`, signed, but delegated with a DS that none of its keys matches:
//!   its answers fail validation (bogus).
//!
//! Each zone takes the records the test gives. Knot is ready once every zone is loaded and
//! its TCP port answers, and is stopped in `Drop`, panic or not.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::daemon::{free_port, run, stop, tool};

const INSTALL_HINT: &str =
    "install Knot DNS (Debian: apt-get install knot), or run scripts/test as root";

/// The zones served, parent first.
pub const SIGNED: &str = "example.test";
pub const UNSIGNED: &str = "unsigned.example.test";
pub const BOGUS: &str = "bogus.example.test";

/// A running knotd.
pub struct Knot {
    pub dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
}

impl Knot {
    /// Starts Knot serving the three zones; `records` are zone-file lines (owner names
    /// relative to their zone, or absolute) added to the zone they name.
    pub fn start(records: &[(&str, String)]) -> Knot {
        let knotd = tool("knotd", INSTALL_HINT);
        let keymgr = tool("keymgr", INSTALL_HINT);
        let dir = tempfile::tempdir().expect("a temporary directory");
        let root = dir.path().to_path_buf();
        for sub in ["db", "run"] {
            std::fs::create_dir_all(root.join(sub)).expect("knot directories");
        }
        let mut last_log = String::new();
        for attempt in 0..5 {
            let port = free_port();
            std::fs::write(root.join("knot.conf"), config(&root, port)).expect("config written");
            if attempt == 0 {
                for zone in [SIGNED, BOGUS] {
                    for ksk in ["ksk=yes", "ksk=no"] {
                        run(Command::new(&keymgr)
                            .arg("-c")
                            .arg(root.join("knot.conf"))
                            .arg(format!("{zone}."))
                            .args(["generate", "algorithm=ed25519", ksk]));
                    }
                }
                write_anchor(&keymgr, &root);
                write_zones(&root, records);
            }
            let _ = std::fs::write(root.join("knot.log"), "");
            let mut child = Command::new(&knotd)
                .arg("-c")
                .arg(root.join("knot.conf"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {knotd}: {e}; {INSTALL_HINT}"));
            if wait_until_serving(&mut child, &root, port, Duration::from_secs(10)) {
                return Knot { dir, child, port };
            }
            // Most likely a port taken between our pick and Knot's bind: pick again.
            stop(&mut child);
            last_log = std::fs::read_to_string(root.join("knot.log")).unwrap_or_default();
        }
        panic!("knotd did not serve its zones within its deadline; its log:\n{last_log}");
    }

    /// `IP:PORT` for the config's `nameserver`.
    pub fn nameserver(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The DNSKEYs of `example.test`, for the config's `trust_anchor`.
    pub fn trust_anchor(&self) -> PathBuf {
        self.dir.path().join("anchor.keys")
    }
}

impl Drop for Knot {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

fn config(root: &Path, port: u16) -> String {
    let root = root.display();
    format!(
        "server:
    listen: 127.0.0.1@{port}
    rundir: {root}/run
database:
    storage: {root}/db
log:
  - target: {root}/knot.log
    any: info
policy:
  - id: test
    algorithm: ed25519
    manual: on
template:
  - id: default
    storage: {root}
    file: \"%s.zone\"
zone:
  - domain: {SIGNED}
    dnssec-signing: on
    dnssec-policy: test
  - domain: {UNSIGNED}
  - domain: {BOGUS}
    dnssec-signing: on
    dnssec-policy: test
"
    )
}

/// The trust anchor file: every key of the signed zone (`keymgr dnskey` alone prints the
/// KSK only), as `NAME TTL IN DNSKEY …`, which the file wants and `keymgr` leaves short.
fn write_anchor(keymgr: &str, root: &Path) {
    let keymgr_says = |args: &[&str]| {
        let output = Command::new(keymgr)
            .arg("-c")
            .arg(root.join("knot.conf"))
            .arg(format!("{SIGNED}."))
            .args(args)
            .output()
            .expect("keymgr runs");
        assert!(output.status.success(), "keymgr {args:?} failed");
        String::from_utf8(output.stdout).expect("keymgr prints text")
    };
    let mut anchor = String::new();
    for key in keymgr_says(&["list"]).lines() {
        let id = key.split_whitespace().next().expect("a key id");
        anchor.push_str(&keymgr_says(&["dnskey", id]).replace(" DNSKEY ", " 3600 IN DNSKEY "));
    }
    assert!(
        anchor.contains("DNSKEY 257") && anchor.contains("DNSKEY 256"),
        "a key signing key and a zone signing key: {anchor}"
    );
    std::fs::write(root.join("anchor.keys"), anchor).expect("anchor written");
}

fn write_zones(root: &Path, records: &[(&str, String)]) {
    for zone in [SIGNED, UNSIGNED, BOGUS] {
        let mut text = format!(
            "$ORIGIN {zone}.\n$TTL 300\n@ SOA ns.{SIGNED}. admin.{SIGNED}. 1 3600 600 86400 300\n@ NS ns.{SIGNED}.\n"
        );
        if zone == SIGNED {
            // The delegations: none with a DS (insecure), one with a DS of no key (bogus).
            text.push_str("ns A 127.0.0.1\nunsigned NS ns\nbogus NS ns\n");
            text.push_str("bogus DS 11111 15 2 ");
            text.push_str(&"0".repeat(64));
            text.push('\n');
        }
        for (_, line) in records.iter().filter(|(z, _)| *z == zone) {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(root.join(format!("{zone}.zone")), text).expect("zone written");
    }
}

/// Whether Knot has loaded all three zones and accepts on its port in time.
fn wait_until_serving(child: &mut Child, root: &Path, port: u16, deadline: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        let log = std::fs::read_to_string(root.join("knot.log")).unwrap_or_default();
        let loaded = [SIGNED, UNSIGNED, BOGUS]
            .iter()
            .all(|zone| log.contains(&format!("[{zone}.] loaded")));
        if loaded && TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
