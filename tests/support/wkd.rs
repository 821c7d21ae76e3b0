//! A Web Key Directory server for one test: HTTPS on a loopback port it keeps bound (no
//! pick-then-bind race), with a server certificate from a test CA made by `openssl` for the
//! test zone's names. It answers each path the test gives with its status and body (404
//! for any other) and records the paths asked; it stops in `Drop`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::daemon::{make_certificates, tool};

/// A running WKD server.
pub struct WkdServer {
    pub dir: tempfile::TempDir,
    pub port: u16,
    asked: Arc<Mutex<Vec<String>>>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl WkdServer {
    /// Serves `answers` (path with query → status and body) for the names `hosts`.
    pub fn start(hosts: &[&str], answers: BTreeMap<String, (u16, Vec<u8>)>) -> WkdServer {
        let openssl = tool("openssl", "apt-get install openssl");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let san: Vec<String> = hosts.iter().map(|h| format!("DNS:{h}")).collect();
        make_certificates(&openssl, dir.path(), &san.join(","));
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(dir.path().join("cert.pem"))
                .expect("cert.pem")
                .collect::<Result<_, _>>()
                .expect("a certificate");
        let key = PrivateKeyDer::from_pem_file(dir.path().join("key.pem")).expect("key.pem");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server certificate");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let (asked, stopping) = (asked.clone(), stopping.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &config, &answers, &asked);
                    }
                }
            })
        };
        WkdServer {
            dir,
            port,
            asked,
            stopping,
            thread: Some(thread),
        }
    }

    /// The test CA's certificate, for the config's `ca_file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The paths asked so far, in order.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("the log").clone()
    }
}

impl Drop for WkdServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One request on one connection: a GET line, headers, then the answer and close.
fn serve(
    stream: TcpStream,
    config: &Arc<rustls::ServerConfig>,
    answers: &BTreeMap<String, (u16, Vec<u8>)>,
    asked: &Mutex<Vec<String>>,
) {
    let Ok(connection) = rustls::ServerConnection::new(config.clone()) else {
        return;
    };
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut reader = BufReader::new(&mut tls);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => return,
            Ok(_) if header.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let path = request.split(' ').nth(1).unwrap_or("").to_string();
    asked.lock().expect("the log").push(path.clone());
    let (status, body) = answers
        .get(&path)
        .cloned()
        .unwrap_or((404, b"not found".to_vec()));
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = tls.write_all(head.as_bytes());
    let _ = tls.write_all(&body);
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.flush();
}
