//! SMTP servers on loopback for the `send` tests: aiosmtpd (Debian's `python3-aiosmtpd`)
//! with implicit TLS, with STARTTLS, or in plain text, asking AUTH PLAIN/LOGIN, writing
//! each message it takes into a Maildir the test reads (its envelope beside it) and
//! counting the connections it accepts, so a test can tell "never connected" from "sent
//! nothing"; and Postfix's `smtp-sink` (Debian's `postfix`; no running Postfix needed)
//! behind a TLS relay, for the faults it is told to make. Certificates come from a test CA
//! made by `openssl`. Each server is stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::daemon;

/// The login every server here accepts.
pub const USER: &str = "sam";
pub const PASSWORD: &str = "secret";

/// The server, in Python: an aiosmtpd SMTP server (`implicit`, `starttls`, `plain`) or a
/// TLS relay to a plain server (`relay`). Recipients starting with `refused` get a 550.
/// aiosmtpd adds a line to `connections` for each connection it accepts, before it greets;
/// `listening` is written once the port is open, so no probe of the port is counted.
const SERVER: &str = r#"
import asyncio, os, ssl, sys, time
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

mode, port, cert, key, maildir, upstream = sys.argv[1:7]
base = os.path.dirname(maildir)

def context():
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("refused"):
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        name = "%d.%d.missive-test" % (time.time_ns(), os.getpid())
        with open(os.path.join(maildir, "envelopes", name), "w") as f:
            f.write("\n".join([envelope.mail_from] + envelope.rcpt_tos))
        with open(os.path.join(maildir, "tmp", name), "wb") as f:
            f.write(envelope.original_content)
        os.rename(os.path.join(maildir, "tmp", name), os.path.join(maildir, "new", name))
        return "250 2.0.0 OK"

def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"sam" \
        and auth_data.password == b"secret"
    return AuthResult(success=ok)

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        # A hang-up is passed on as one: a TLS close would wait on the client's answer.
        writer.transport.abort()

async def relay(reader, writer):
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(upstream))
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer),
                         return_exceptions=True)

def counted(factory):
    def make():
        with open(os.path.join(base, "connections"), "a") as f:
            f.write("accepted\n")
        return factory()
    return make

async def main():
    loop = asyncio.get_running_loop()
    if mode == "relay":
        server = await asyncio.start_server(relay, "127.0.0.1", int(port), ssl=context())
    else:
        options = dict(authenticator=authenticate, auth_required=True,
                       auth_require_tls=(mode == "starttls"))
        if mode == "starttls":
            options.update(tls_context=context(), require_starttls=True)
        server = await loop.create_server(
            counted(lambda: SMTP(Handler(), **options)), "127.0.0.1", int(port),
            ssl=context() if mode == "implicit" else None)
    open(os.path.join(base, "listening"), "w").close()
    await server.serve_forever()

asyncio.run(main())
"#;

/// How a server protects its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Implicit,
    Starttls,
    Plain,
}

/// One received message: its bytes and its envelope.
#[derive(Debug, Clone)]
pub struct Received {
    pub bytes: Vec<u8>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
}

/// A running server and the files it uses.
pub struct Smtpd {
    pub port: u16,
    pub dir: tempfile::TempDir,
    children: Vec<Child>,
    greets_in_clear: bool,
    /// The connections [`Smtpd::connections`] made, left out of its count.
    probes: std::cell::Cell<usize>,
}

impl Smtpd {
    /// aiosmtpd on a free loopback port, taking mail into `Maildir/`.
    pub fn start(mode: Mode) -> Smtpd {
        let dir = prepare();
        let name = match mode {
            Mode::Implicit => "implicit",
            Mode::Starttls => "starttls",
            Mode::Plain => "plain",
        };
        let (child, port) = python(dir.path(), name, 0);
        Smtpd {
            port,
            dir,
            children: vec![child],
            greets_in_clear: mode != Mode::Implicit,
            probes: std::cell::Cell::new(0),
        }
    }

    /// `smtp-sink` with `faults` (its flags: `-r rcpt` a 4xx to RCPT, `-q .` hang up after
    /// the message, …) behind an implicit-TLS relay; `port` is the relay's.
    pub fn sink(faults: &[&str]) -> Smtpd {
        let dir = prepare();
        let sink = daemon::tool("smtp-sink", "apt-get install postfix");
        let (sink_child, sink_port) = retry_port(
            |port| {
                let mut command = Command::new(&sink);
                // As root it must be told whom to become once listening.
                if running_as_root() {
                    command.args(["-u", "nobody"]);
                }
                command
                    .args(faults)
                    .arg(format!("127.0.0.1:{port}"))
                    .arg("10")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
                command.spawn().expect("smtp-sink starts")
            },
            |port| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        );
        let (relay, port) = python(dir.path(), "relay", sink_port);
        Smtpd {
            port,
            dir,
            children: vec![relay, sink_child],
            greets_in_clear: false,
            probes: std::cell::Cell::new(0),
        }
    }

    /// The test CA's certificate, for the client's `ca_file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// How many connections aiosmtpd has accepted from others than this method. It makes
    /// one of its own and reads the greeting: aiosmtpd accepts in the order connections
    /// came and counts each before it greets, so every connection made before this call,
    /// even by a process gone since, is in the count by then. STARTTLS and plain-text
    /// servers only, whose greeting needs no TLS.
    pub fn connections(&self) -> usize {
        use std::io::BufRead as _;
        assert!(
            self.greets_in_clear,
            "connections are counted on servers that greet in clear"
        );
        let probe = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("the server");
        let mut greeting = String::new();
        std::io::BufReader::new(probe)
            .read_line(&mut greeting)
            .expect("a greeting");
        assert!(greeting.starts_with("220 "), "{greeting}");
        self.probes.set(self.probes.get() + 1);
        let accepted = std::fs::read_to_string(self.dir.path().join("connections"))
            .map_or(0, |count| count.lines().count());
        accepted - self.probes.get()
    }

    /// Every message taken so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let new = self.dir.path().join("Maildir/new");
        let mut names: Vec<_> = std::fs::read_dir(&new)
            .expect("the Maildir")
            .map(|e| e.expect("an entry").file_name())
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let envelope =
                    std::fs::read_to_string(self.dir.path().join("Maildir/envelopes").join(&name))
                        .expect("the envelope");
                let mut lines = envelope.lines().map(str::to_string);
                Received {
                    bytes: std::fs::read(new.join(&name)).expect("the message"),
                    mail_from: lines.next().unwrap_or_default(),
                    rcpt_to: lines.collect(),
                }
            })
            .collect()
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        for child in &mut self.children {
            daemon::stop(child);
        }
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A directory with the CA, the server's certificate, the script and an empty Maildir.
fn prepare() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a server directory");
    let openssl = daemon::tool("openssl", "apt-get install openssl");
    daemon::make_certificates(&openssl, dir.path(), "IP:127.0.0.1,DNS:localhost");
    for sub in ["tmp", "new", "cur", "envelopes"] {
        std::fs::create_dir_all(dir.path().join("Maildir").join(sub)).expect("Maildir");
    }
    std::fs::write(dir.path().join("server.py"), SERVER).expect("the script");
    dir
}

/// The Python server in `mode` on a free port, once it accepts connections.
fn python(dir: &Path, mode: &str, upstream: u16) -> (Child, u16) {
    // Debian's interpreter: aiosmtpd is installed for it, not for another on PATH.
    let python = "/usr/bin/python3";
    assert!(
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success()),
        "aiosmtpd is not installed: apt-get install python3-aiosmtpd"
    );
    let listening = dir.join("listening");
    retry_port(
        |port| {
            let _ = std::fs::remove_file(&listening);
            Command::new(python)
                .arg(dir.join("server.py"))
                .arg(mode)
                .arg(port.to_string())
                .arg(dir.join("cert.pem"))
                .arg(dir.join("key.pem"))
                .arg(dir.join("Maildir"))
                .arg(upstream.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("python3 starts")
        },
        |_| listening.exists(),
    )
}

/// Starts a server on a free port until `listening` says it does (a port lost to a race is
/// retried).
fn retry_port(
    mut start: impl FnMut(u16) -> Child,
    listening: impl Fn(u16) -> bool,
) -> (Child, u16) {
    for _ in 0..5 {
        let port = daemon::free_port();
        let mut child = start(port);
        let begun = Instant::now();
        while begun.elapsed() < Duration::from_secs(10) {
            if listening(port) {
                return (child, port);
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon::stop(&mut child);
    }
    panic!("the server did not start listening");
}
