//! What the daemons of the tests share: finding a program, running a command that must
//! succeed, stopping a daemon, and a test CA with a server certificate.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The path of an installed program (also found in /usr/sbin), or a panic with `hint`.
pub fn tool(name: &str, hint: &str) -> String {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name} || ls /usr/sbin/{name}"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.lines().next().map(str::to_string));
    found.unwrap_or_else(|| panic!("{name} is not installed: {hint}"))
}

/// Runs a command, panicking with its stderr when it fails.
pub fn run(command: &mut Command) {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Stops a daemon (SIGTERM, which a master passes to its children), then waits; kills it
/// when it takes too long.
pub fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A test CA (`ca.pem`) and a server certificate signed by it (`cert.pem`, key `key.pem`)
/// for the subject alternative names `san` (`IP:127.0.0.1,DNS:localhost`), made by the
/// `openssl` CLI in `dir`.
pub fn make_certificates(openssl: &str, dir: &Path, san: &str) {
    let ext = dir.join("server.ext");
    std::fs::write(
        &ext,
        format!("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName={san}\n"),
    )
    .expect("extensions written");
    let p = |name: &str| dir.join(name);
    // A new P-256 key and, with `-x509`, a self-signed CA certificate, else a request.
    let new_key = |kind: &str, key: &str, out: &str, subject: &str| {
        run(Command::new(openssl)
            .args([
                "req",
                kind,
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .args(["-nodes", "-days", "2", "-subj", subject])
            .arg("-keyout")
            .arg(p(key))
            .arg("-out")
            .arg(p(out)));
    };
    new_key("-x509", "ca.key", "ca.pem", "/CN=missive test CA");
    new_key("-new", "key.pem", "server.csr", "/CN=127.0.0.1");
    run(Command::new(openssl)
        .args(["x509", "-req", "-days", "2"])
        .arg("-in")
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(p("cert.pem")));
}

/// A loopback port free now; a daemon that loses it to a race is started again on another.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}
