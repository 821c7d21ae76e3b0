//! A TCP proxy on loopback that cuts its first connection after the server has sent a given
//! number of bytes, as a network failure in the middle of a fetch would; later connections
//! pass untouched. Or one that rewrites what the server says in clear, as a man in the
//! middle would (TLS records pass untouched, as he cannot read them). Stopped in `Drop`.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;

pub struct CutProxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    /// Connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    accepter: Option<JoinHandle<()>>,
}

impl CutProxy {
    /// Forwards to `127.0.0.1:upstream`, cutting the first connection after `cut_after`
    /// bytes from the server.
    pub fn start(upstream: u16, cut_after: usize) -> CutProxy {
        CutProxy::with(upstream, cut_after, None)
    }

    /// Forwards to `127.0.0.1:upstream`, replacing `from` with `to` in what the server sends
    /// (each read on its own: a short greeting comes in one).
    pub fn rewriting(upstream: u16, from: &str, to: &str) -> CutProxy {
        let rewrite = Arc::new((from.as_bytes().to_vec(), to.as_bytes().to_vec()));
        CutProxy::with(upstream, usize::MAX, Some(rewrite))
    }

    fn with(upstream: u16, cut_after: usize, rewrite: Option<Rewrite>) -> CutProxy {
        // Bound once and kept: no other test can take the port.
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback listener");
        let port = listener.local_addr().expect("an address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let accepter = {
            let stop = stop.clone();
            let connections = connections.clone();
            let rewrite = rewrite.clone();
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                        continue;
                    };
                    let first = connections.fetch_add(1, Ordering::SeqCst) == 0;
                    let limit = if first { cut_after } else { usize::MAX };
                    pipe(client, server, limit, rewrite.clone());
                }
            })
        };
        CutProxy {
            port,
            stop,
            connections,
            accepter: Some(accepter),
        }
    }
}

/// What to replace in the server's bytes, and with what.
type Rewrite = Arc<(Vec<u8>, Vec<u8>)>;

/// `bytes` with each `from` replaced by `to`.
fn replaced(bytes: &[u8], (from, to): &(Vec<u8>, Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from.as_slice()) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// Copies both ways, rewriting the server's bytes when told; once `limit` bytes came from
/// the server, both sides are shut.
fn pipe(client: TcpStream, server: TcpStream, limit: usize, rewrite: Option<Rewrite>) {
    let (mut client_in, mut server_out) = (
        client.try_clone().expect("clone"),
        server.try_clone().expect("clone"),
    );
    std::thread::spawn(move || {
        let mut buffer = [0; 8192];
        while let Ok(n) = client_in.read(&mut buffer) {
            if n == 0 || server_out.write_all(&buffer[..n]).is_err() {
                break;
            }
        }
        let _ = server_out.shutdown(Shutdown::Write);
    });
    std::thread::spawn(move || {
        let (mut server, mut client) = (server, client);
        let mut buffer = [0; 8192];
        let mut sent = 0;
        while let Ok(n) = server.read(&mut buffer) {
            let n = n.min(limit - sent);
            let bytes = match &rewrite {
                Some(rewrite) => replaced(&buffer[..n], rewrite),
                None => buffer[..n].to_vec(),
            };
            if n == 0 || client.write_all(&bytes).is_err() {
                break;
            }
            sent += n;
            if sent >= limit {
                break;
            }
        }
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
    });
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accepter) = self.accepter.take() {
            let _ = accepter.join();
        }
    }
}
