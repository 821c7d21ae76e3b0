//! A Mastodon instance for one test, as far as missive reads one: a loopback HTTPS server
//! (rustls, with a test CA made by the `openssl` CLI; plain HTTP when asked) answering
//! `GET /api/v1/conversations` and `GET /api/v1/statuses/:id/context` from statuses the
//! test writes, in the shapes the Mastodon API documents (Status, Account, Mention,
//! MediaAttachment, Conversation, Instance entities; Link header pagination over internal
//! ids that are not status ids, as the documentation warns). Mastodon itself cannot run
//! here, so this replays its documented answers. It pages a few conversations at a time
//! whatever `limit` asks, answers `GET /api/v2/instance` without a token (its `domain`
//! may differ from the host), 429 when told to, 404 for a status marked deleted, 401
//! without a known bearer token, 403 on `verify_credentials` for a token without the
//! `read:accounts` scope, logs every request and every Link it gave, and stops in `Drop`.
//! For `send`, it takes `POST /api/v1/statuses` (JSON), records each post's
//! `Idempotency-Key` and body, answers a key seen before with the status it made then (as
//! Mastodon keeps keys for an hour), 429 or 503 when told to, and 422 with Mastodon's error body
//! for a status mentioning an account told to refuse.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Value, json};

/// What the server holds and has seen.
#[derive(Default)]
pub struct State {
    /// Every status, in any order; the conversations are their threads.
    pub statuses: Vec<Value>,
    /// Ids of statuses deleted since the conversation list was made: still its last
    /// status there, 404 when asked for.
    pub deleted: Vec<String>,
    /// Ids of statuses whose context fails (HTTP 500), as a server in trouble would.
    pub failing: Vec<String>,
    /// Requests to answer 429 (with `Retry-After: 1`) before serving again.
    pub rate_limited: usize,
    /// `path?query` of every request, in order.
    pub requests: Vec<String>,
    /// Every URL a Link header named, in order.
    pub links: Vec<String>,
    /// The instance's account domain (`LOCAL_DOMAIN`), when it is not the host.
    pub domain: Option<String>,
    /// Conversations per page.
    pub page: usize,
    /// `https://127.0.0.1:PORT`, for the Link header.
    origin: String,
    /// Every `POST /api/v1/statuses`, in order: its `Idempotency-Key` and JSON body.
    pub posts: Vec<(Option<String>, Value)>,
    /// Posts to answer 429 (with `Retry-After: 1`) before taking one.
    pub posts_rate_limited: usize,
    /// Posts to answer 503 before taking one, as an instance in trouble would.
    pub posts_failing: usize,
    /// Accts (`user@domain`, or `user` for a local one) whose mention gets a post refused
    /// with 422.
    pub refused_mentions: Vec<String>,
    /// The statuses posts made, by `Idempotency-Key`.
    made: Vec<(String, Value)>,
}

/// A running fixture instance.
pub struct Instance {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accepter: Option<JoinHandle<()>>,
}

/// The token the fixture accepts, with the scopes `read` (every `read:` scope).
pub const TOKEN: &str = "tok-SeCrEt-4242-mastodon";
/// A token of the scope `read:statuses` only: `verify_credentials` refuses it (403), as it
/// needs `read:accounts` (or `profile`).
pub const STATUSES_TOKEN: &str = "tok-SeCrEt-0001-statuses-only";
/// What the Link header's `max_id` and `min_id` add to a `last_status` id: the ids are
/// the instance's own, and a client that builds them from status ids pages wrongly.
const INTERNAL: u64 = 7_000_000;
/// The account the token belongs to, local on the instance.
pub const ME: &str = "alex";

impl Instance {
    /// Starts serving HTTPS (or plain HTTP when `tls` is false) on loopback.
    pub fn start(tls: bool) -> Instance {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = tls.then(|| {
            let openssl =
                super::daemon::tool("openssl", "apt-get install openssl (scripts/test does)");
            super::daemon::make_certificates(&openssl, dir.path(), "IP:127.0.0.1,DNS:localhost");
            Arc::new(server_config(dir.path()))
        });
        // Bound once and kept: no other test can take the port.
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback listener");
        let port = listener.local_addr().expect("an address").port();
        let scheme = if tls { "https" } else { "http" };
        let state = Arc::new(Mutex::new(State {
            page: 2,
            origin: format!("{scheme}://127.0.0.1:{port}"),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let accepter = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let (state, config) = (state.clone(), config.clone());
                    std::thread::spawn(move || serve(client, config, &state));
                }
            })
        };
        Instance {
            dir,
            port,
            state,
            stop,
            accepter: Some(accepter),
        }
    }

    /// The test CA's certificate, for `ca_file`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The instance's host as handles name it.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    pub fn add(&self, status: Value) {
        self.state.lock().expect("state").statuses.push(status);
    }

    /// Serves a direct message: a [`status`] of `direct` visibility from `acct`, mentioning
    /// its recipients.
    pub fn add_direct(
        &self,
        id: u64,
        acct: &str,
        in_reply_to: Option<u64>,
        mentions: &[&str],
        html: &str,
    ) {
        self.add(status(id, acct, in_reply_to, mentions, html, "direct"));
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.lock().expect("state").requests.clone()
    }

    /// Every status post, in order: its `Idempotency-Key` and JSON body.
    pub fn posts(&self) -> Vec<(Option<String>, Value)> {
        self.state.lock().expect("state").posts.clone()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accepter) = self.accepter.take() {
            let _ = accepter.join();
        }
    }
}

fn server_config(dir: &std::path::Path) -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("cert.pem"))
        .expect("cert.pem")
        .map(|c| c.expect("a certificate"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("key.pem")).expect("key.pem");
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a server certificate")
}

/// One connection: one request, one answer, then closed.
fn serve(client: TcpStream, config: Option<Arc<rustls::ServerConfig>>, state: &Mutex<State>) {
    match config {
        Some(config) => {
            let Ok(connection) = rustls::ServerConnection::new(config) else {
                return;
            };
            exchange(rustls::StreamOwned::new(connection, client), state);
        }
        None => exchange(client, state),
    }
}

fn exchange<S: Read + Write>(stream: S, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorization = None;
    let mut idempotency_key = None;
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim().to_string();
            if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value);
            } else if name.eq_ignore_ascii_case("idempotency-key") {
                idempotency_key = Some(value);
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            }
        }
    }
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or("GET").to_string();
    let target = words.next().unwrap_or("/").to_string();
    let (status, headers, body) = if method == "POST" {
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        post(
            &target,
            authorization.as_deref(),
            idempotency_key,
            &body,
            state,
        )
    } else {
        answer(&target, authorization.as_deref(), state)
    };
    let mut stream = reader.into_inner();
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

/// The answer to a POST: `/api/v1/statuses` makes a status from the JSON body, as
/// Mastodon does (the mentions read from the text), unless told to answer 429, 503 or 422.
fn post(
    target: &str,
    authorization: Option<&str>,
    idempotency_key: Option<String>,
    body: &[u8],
    state: &Mutex<State>,
) -> (&'static str, Vec<(String, String)>, String) {
    let mut state = state.lock().expect("state");
    state.requests.push(format!("POST {target}"));
    if authorization != Some(&format!("Bearer {TOKEN}")) {
        return (
            "401 Unauthorized",
            Vec::new(),
            json!({"error": "The access token is invalid"}).to_string(),
        );
    }
    if target != "/api/v1/statuses" {
        return (
            "404 Not Found",
            Vec::new(),
            json!({"error": "Record not found"}).to_string(),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return (
            "400 Bad Request",
            Vec::new(),
            json!({"error": "not JSON"}).to_string(),
        );
    };
    state.posts.push((idempotency_key.clone(), request.clone()));
    if state.posts_rate_limited > 0 {
        state.posts_rate_limited -= 1;
        return too_many_requests();
    }
    if state.posts_failing > 0 {
        state.posts_failing -= 1;
        return (
            "503 Service Unavailable",
            Vec::new(),
            json!({"error": "Service unavailable"}).to_string(),
        );
    }
    if let Some(key) = &idempotency_key
        && let Some((_, made)) = state.made.iter().find(|(k, _)| k == key)
    {
        return ("200 OK", Vec::new(), made.to_string());
    }
    let text = request["status"].as_str().unwrap_or_default().to_string();
    let local = state.domain.clone().unwrap_or_else(|| "127.0.0.1".into());
    let mentions: Vec<String> = text
        .split_whitespace()
        .filter_map(|word| word.strip_prefix('@'))
        .map(|acct| match acct.split_once('@') {
            Some((user, domain)) if domain == local => user.to_string(),
            _ => acct.to_string(),
        })
        .collect();
    if let Some(refused) = mentions.iter().find(|m| state.refused_mentions.contains(m)) {
        return (
            "422 Unprocessable Entity",
            Vec::new(),
            json!({"error": format!("Validation failed: Text @{refused} does not accept direct messages from you")})
                .to_string(),
        );
    }
    let id = 5000 + state.made.len() as u64;
    let accts: Vec<&str> = mentions.iter().map(String::as_str).collect();
    let html = format!("<p>{}</p>", text.replace('&', "&amp;").replace('<', "&lt;"));
    let visibility = request["visibility"].as_str().unwrap_or("public");
    let mut made = status(id, ME, None, &accts, &html, visibility);
    made["spoiler_text"] = request["spoiler_text"].clone();
    if made["spoiler_text"].is_null() {
        made["spoiler_text"] = "".into();
    }
    state.statuses.push(made.clone());
    if let Some(key) = idempotency_key {
        state.made.push((key, made.clone()));
    }
    ("200 OK", Vec::new(), made.to_string())
}

fn id_of(status: &Value) -> u64 {
    status["id"]
        .as_str()
        .and_then(|i| i.parse().ok())
        .expect("a numeric id")
}

fn query(target: &str, name: &str) -> Option<u64> {
    let (_, query) = target.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
}

/// The status line, extra headers and JSON body for a request.
fn answer(
    target: &str,
    authorization: Option<&str>,
    state: &Mutex<State>,
) -> (&'static str, Vec<(String, String)>, String) {
    let mut state = state.lock().expect("state");
    state.requests.push(target.to_string());
    let path = target.split('?').next().unwrap_or_default();
    let statuses_only = authorization == Some(&format!("Bearer {STATUSES_TOKEN}"));
    // The Instance entity is public: no token needed.
    let public = path == "/api/v2/instance";
    if !public && authorization != Some(&format!("Bearer {TOKEN}")) && !statuses_only {
        return (
            "401 Unauthorized",
            Vec::new(),
            json!({"error": "The access token is invalid"}).to_string(),
        );
    }
    if state.rate_limited > 0 {
        state.rate_limited -= 1;
        return too_many_requests();
    }
    if public {
        let domain = state.domain.clone().unwrap_or_else(|| "127.0.0.1".into());
        let instance = json!({
            "domain": domain,
            "title": "Fixture",
            "version": "4.2.8",
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "A Mastodon instance for one test",
            "configuration": {"statuses": {"max_characters": 500}},
            "registrations": {"enabled": false, "approval_required": false, "message": null},
            "contact": {"email": format!("admin@{domain}"), "account": null},
            "rules": []
        });
        return ("200 OK", Vec::new(), instance.to_string());
    }
    if path == "/api/v1/accounts/verify_credentials" {
        if statuses_only {
            return (
                "403 Forbidden",
                Vec::new(),
                json!({"error": "This action is outside the authorized scopes"}).to_string(),
            );
        }
        let me = status(1, ME, None, &[], "", "direct");
        return ("200 OK", Vec::new(), me["account"].to_string());
    }
    if path == "/api/v1/conversations" {
        let (status, headers, body) = conversations(target, &state);
        for (_, link) in &headers {
            for part in link.split(", ") {
                if let Some(url) = part
                    .split_once('>')
                    .and_then(|(url, _)| url.strip_prefix('<'))
                {
                    state.links.push(url.to_string());
                }
            }
        }
        return (status, headers, body);
    }
    if let Some(id) = path
        .strip_prefix("/api/v1/statuses/")
        .and_then(|rest| rest.strip_suffix("/context"))
    {
        if state.failing.iter().any(|f| f == id) {
            return (
                "500 Internal Server Error",
                Vec::new(),
                json!({"error": "Internal error"}).to_string(),
            );
        }
        let found = state
            .statuses
            .iter()
            .find(|s| s["id"] == id && !state.deleted.iter().any(|d| d == id));
        return match found {
            Some(status) => (
                "200 OK",
                Vec::new(),
                context(status, &state.statuses).to_string(),
            ),
            None => (
                "404 Not Found",
                Vec::new(),
                json!({"error": "Record not found"}).to_string(),
            ),
        };
    }
    (
        "404 Not Found",
        Vec::new(),
        json!({"error": "Record not found"}).to_string(),
    )
}

/// The root of a status's thread, following `in_reply_to_id`.
fn root<'a>(status: &'a Value, all: &'a [Value]) -> &'a Value {
    let mut at = status;
    while let Some(parent) = at["in_reply_to_id"]
        .as_str()
        .and_then(|id| all.iter().find(|s| s["id"] == id))
    {
        at = parent;
    }
    at
}

fn ancestors<'a>(status: &'a Value, all: &'a [Value]) -> Vec<&'a Value> {
    let mut chain = Vec::new();
    let mut at = status;
    while let Some(parent) = at["in_reply_to_id"]
        .as_str()
        .and_then(|id| all.iter().find(|s| s["id"] == id))
    {
        chain.push(parent);
        at = parent;
    }
    chain.reverse();
    chain
}

/// The Context entity: ancestors root first, descendants in id order.
fn context(status: &Value, all: &[Value]) -> Value {
    let mut descendants: Vec<&Value> = all
        .iter()
        .filter(|s| ancestors(s, all).iter().any(|a| a["id"] == status["id"]))
        .collect();
    descendants.sort_by_key(|s| id_of(s));
    json!({"ancestors": ancestors(status, all), "descendants": descendants})
}

/// The conversations (one per thread with a direct status), newest `last_status` first,
/// paged as Mastodon pages them: `min_id` gives the page just after it, `max_id` the one
/// just before, both internal ids (a `last_status` id plus [`INTERNAL`]); Link names the
/// pages around.
fn conversations(target: &str, state: &State) -> (&'static str, Vec<(String, String)>, String) {
    let mut threads: Vec<(u64, Value)> = Vec::new();
    for status in &state.statuses {
        if status["visibility"] != "direct" {
            continue;
        }
        let root_id = id_of(root(status, &state.statuses));
        match threads.iter_mut().find(|(r, _)| *r == root_id) {
            Some((_, last)) if id_of(last) < id_of(status) => *last = status.clone(),
            Some(_) => {}
            None => threads.push((root_id, status.clone())),
        }
    }
    let mut listed: Vec<(u64, Value)> = threads
        .into_iter()
        .map(|(root_id, last)| {
            let mut accounts: Vec<Value> = std::iter::once(last["account"].clone())
                .chain(last["mentions"].as_array().into_iter().flatten().map(|m| {
                    json!({"id": m["id"], "username": m["username"], "acct": m["acct"], "url": m["url"], "display_name": ""})
                }))
                .filter(|a| a["acct"] != ME)
                .collect();
            accounts.dedup_by(|a, b| a["acct"] == b["acct"]);
            (
                id_of(&last),
                json!({"id": format!("{}", 900 + root_id), "unread": false, "accounts": accounts, "last_status": last}),
            )
        })
        .collect();
    let page = state.page.max(1);
    let internal = |name: &str| query(target, name).map(|id| id.saturating_sub(INTERNAL));
    let chosen: Vec<(u64, Value)> = if let Some(min) = internal("min_id") {
        listed.sort_by_key(|(last, _)| *last);
        let mut after: Vec<_> = listed
            .into_iter()
            .filter(|(l, _)| *l > min)
            .take(page)
            .collect();
        after.reverse();
        after
    } else {
        listed.sort_by_key(|(last, _)| std::cmp::Reverse(*last));
        let max = internal("max_id").unwrap_or(u64::MAX);
        listed
            .into_iter()
            .filter(|(l, _)| *l < max)
            .take(page)
            .collect()
    };
    let mut headers = Vec::new();
    if let (Some((newest, _)), Some((oldest, _))) = (chosen.first(), chosen.last()) {
        // Absolute links on the instance, as Mastodon writes them.
        let base = format!("{}/api/v1/conversations", state.origin);
        headers.push((
            "Link".to_string(),
            format!(
                "<{base}?max_id={}>; rel=\"next\", <{base}?min_id={}>; rel=\"prev\"",
                oldest + INTERNAL,
                newest + INTERNAL
            ),
        ));
    }
    let body: Vec<Value> = chosen.into_iter().map(|(_, c)| c).collect();
    ("200 OK", headers, Value::from(body).to_string())
}

/// A Status entity as the Mastodon API documents it. `acct` is `user` (local) or
/// `user@domain`; `mentions` are accts.
pub fn status(
    id: u64,
    acct: &str,
    in_reply_to: Option<u64>,
    mentions: &[&str],
    html: &str,
    visibility: &str,
) -> Value {
    let account = |acct: &str| {
        let (user, domain) = acct.split_once('@').unwrap_or((acct, "127.0.0.1"));
        json!({
            "id": format!("{}", 1000 + user.len()),
            "username": user,
            "acct": acct,
            "display_name": format!("{}{}", user[..1].to_uppercase(), &user[1..]),
            "locked": false,
            "bot": false,
            "created_at": "2023-01-01T00:00:00.000Z",
            "note": "",
            "url": format!("https://{domain}/@{user}"),
            "avatar": format!("https://{domain}/avatars/{user}.png"),
            "followers_count": 1,
            "following_count": 1,
            "statuses_count": 1,
            "emojis": [],
            "fields": []
        })
    };
    let (user, domain) = acct.split_once('@').unwrap_or((acct, "127.0.0.1"));
    json!({
        "id": id.to_string(),
        "uri": format!("https://{domain}/users/{user}/statuses/{id}"),
        "url": format!("https://{domain}/@{user}/{id}"),
        "created_at": format!("2024-03-01T10:{:02}:00.000Z", id % 60),
        "account": account(acct),
        "content": html,
        "visibility": visibility,
        "sensitive": false,
        "spoiler_text": "",
        "media_attachments": [],
        "application": {"name": "Web", "website": null},
        "mentions": mentions.iter().map(|m| {
            let (u, d) = m.split_once('@').unwrap_or((m, "127.0.0.1"));
            json!({"id": format!("{}", 1000 + u.len()), "username": u, "url": format!("https://{d}/@{u}"), "acct": m})
        }).collect::<Vec<_>>(),
        "tags": [],
        "emojis": [],
        "reblogs_count": 0,
        "favourites_count": 0,
        "replies_count": 0,
        "reblog": null,
        "poll": null,
        "card": null,
        "language": "en",
        "text": null,
        "edited_at": null,
        "in_reply_to_id": in_reply_to.map(|i| i.to_string()),
        "in_reply_to_account_id": null
    })
}

/// A 429 as Mastodon sends it: wait a second.
fn too_many_requests() -> (&'static str, Vec<(String, String)>, String) {
    (
        "429 Too Many Requests",
        vec![
            ("Retry-After".into(), "1".into()),
            ("X-RateLimit-Limit".into(), "300".into()),
            ("X-RateLimit-Remaining".into(), "0".into()),
        ],
        json!({"error": "Too many requests"}).to_string(),
    )
}
