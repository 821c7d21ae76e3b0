//! Reads the direct messages of a Mastodon account through its REST API, incrementally:
//! `GET /api/v1/conversations` lists the conversations by their last status, and for each
//! one updated since the cursor, `GET /api/v1/statuses/:id/context` gives the thread around
//! its last status (and around the thread's root, so that no branch is missed). Only
//! statuses of visibility `direct` are handed on, each its own raw JSON, as the server sent
//! it, with the record read from it.
//!
//! The cursor is the highest `last_status` id of the conversations handed on. The listing is
//! walked as the API documents it, by the URLs of the Link header (its `max_id` and `min_id`
//! are internal ids, not status ids): from the newest page back (`rel="next"`) until a
//! conversation at or below the cursor; then the conversations found are read from the
//! oldest to the newest, and the last status of each carries the cursor, so an interrupted
//! fetch resumes after the last conversation recorded, with no gap; a status printed before
//! is recognised by its URI and not printed again.
//!
//! Handles of the instance's own accounts (an `acct` without a domain) take the instance's
//! account domain, `domain` of `GET /api/v2/instance`, which may differ from the host the
//! API is served on (`LOCAL_DOMAIN` and `WEB_DOMAIN`); it is asked once and kept beside the
//! cursor, since an instance cannot change it. `config check --connect` asks
//! `GET /api/v1/conversations?limit=1`, which the `read:statuses` scope the fetch needs
//! allows (`verify_credentials` would need `read:accounts`).
//!
//! The connection is HTTPS (rustls; the platform's roots and an optional `ca_file`); plain
//! HTTP only when the account says `tls = "none"` and `insecure = true` (settings shared
//! with IMAP: [`super::access`]). The token comes from `token_command` and goes only in the
//! `Authorization` header of requests to the instance: redirects are not followed and a
//! Link to another origin is refused; a token never appears in an error. A 429 waits as
//! `Retry-After` (or `X-RateLimit-Reset`) says, then retries; when `X-RateLimit-Remaining`
//! runs low, requests are spaced out so that the rest lasts until the reset. A status that
//! is gone (404) is reported, and nothing fetched before is touched.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::access::{self, Access, Protocol};
use super::{Item, Known, Raw, Remote, Scan, Source};
use crate::fault::Fault;
use crate::record::{Address, Attachment, Message, SourceRef, VERSION, blob_name, rfc3339};
use crate::secret::Secret;
use crate::tls::Tls;

/// Conversations asked for by one page (the API's maximum).
const PAGE: u32 = 40;
/// Attempts after the first when the connection fails or the server answers 5xx.
const RETRIES: u32 = 3;
/// The first pause before such a retry; each one after doubles it.
const BACKOFF: Duration = Duration::from_millis(200);
/// 429 answers in a row before giving up (a temporary failure: cron tries later).
const RATE_LIMITED_TRIES: u32 = 5;
/// The longest wait a 429 may impose before the fetch gives up until the next run.
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
/// How long to wait after a 429 that says nothing of when to come back.
const DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// With fewer requests than this left in the window, they are spaced out until the reset.
const LOW_REMAINING: u64 = 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The cursor's name in the store: the highest `last_status` id handed on.
const CURSOR: &str = "last_status_id";
/// The name under which the instance's account domain is kept beside the cursor.
const DOMAIN: &str = "account_domain";
/// What this source's refusals of an account's settings name.
const PROTOCOL: Protocol = Protocol {
    name: "HTTP",
    exposes: "the token and messages",
    no_secret: "no token_command: configure the account with one",
};

/// The error returned when a Mastodon instance cannot be read. Every message names the
/// account or instance, never the token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Plain text, a certificate file or the token command ([`access`]).
    #[error("{server}: {problem}")]
    Access {
        server: String,
        problem: access::Error,
    },
    #[error("{server}: {reason}")]
    Setting { server: String, reason: String },
    #[error(
        "{server}: the token was refused (HTTP {status}): check token_command and that the token has the {scope} scope"
    )]
    Refused {
        server: String,
        status: u16,
        scope: &'static str,
    },
    #[error("{server}: {what}: {reason}")]
    Http {
        server: String,
        what: String,
        reason: String,
    },
    #[error("{server}: rate limited on {what}: {reason}")]
    RateLimited {
        server: String,
        what: String,
        reason: String,
    },
    #[error("{server}: {what}: {reason}")]
    Response {
        server: String,
        what: String,
        reason: String,
    },
}

impl Error {
    /// Whether the fix is in the config or the token: plain text, a certificate, the token
    /// command, a refused token.
    pub fn is_setting(&self) -> bool {
        matches!(
            self,
            Error::Access { .. } | Error::Setting { .. } | Error::Refused { .. }
        )
    }
}

impl Fault for Error {
    /// The instance could not be reached, failed, or asked us to slow down for longer than
    /// a fetch waits.
    fn is_transient(&self) -> bool {
        matches!(self, Error::Http { .. } | Error::RateLimited { .. })
    }
}

/// A Mastodon account: the instance, how to reach it and where the token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The host the API is served on, lowercase (the account domain of its local accounts'
    /// handles is the instance's to say).
    pub host: String,
    pub port: Option<u16>,
    /// The account's user name, to tell two accounts on one instance apart.
    pub user: Option<String>,
    /// TLS `Implicit` is HTTPS, `None` plain HTTP (only with `insecure`); the certificates
    /// trusted; the token's command (`Auth::TokenCommand`).
    pub access: Access,
}

impl Settings {
    /// Parses `mastodon://[USER@]INSTANCE[:PORT]`.
    pub fn parse_uri(text: &str) -> Result<Settings, String> {
        let rest = text
            .strip_prefix("mastodon://")
            .ok_or("expected mastodon://[USER@]INSTANCE[:PORT]")?
            .trim_end_matches('/');
        if rest.contains(['/', '?', '#']) {
            return Err("expected mastodon://[USER@]INSTANCE[:PORT], with no path".into());
        }
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((user, hostport)) => (Some(user.trim_start_matches('@').to_string()), hostport),
            None => (None, rest),
        };
        if user
            .as_deref()
            .is_some_and(|u| u.is_empty() || u.contains(':'))
        {
            return Err(
                "a token in the URI is not supported: use token_command in the config".into(),
            );
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((host, port)) => (
                host,
                Some(
                    port.parse::<u16>()
                        .map_err(|_| format!("bad port {port:?}"))?,
                ),
            ),
            None => (hostport, None),
        };
        if host.is_empty() {
            return Err("no instance: expected mastodon://[USER@]INSTANCE[:PORT]".into());
        }
        Ok(Settings {
            host: host.to_ascii_lowercase(),
            port,
            user,
            access: Access::new(Tls::Implicit),
        })
    }

    /// The source's key: `mastodon://[USER@]INSTANCE[:PORT]`.
    pub fn key(&self) -> String {
        let user = self
            .user
            .as_ref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("mastodon://{user}{}{port}", self.host)
    }

    /// The API's origin: `https://INSTANCE[:PORT]`.
    pub fn origin(&self) -> String {
        let scheme = if self.access.tls == Tls::None {
            "http"
        } else {
            "https"
        };
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("{scheme}://{}{port}", self.host)
    }

    /// The account and instance, as errors name them.
    pub fn label(&self) -> String {
        self.access.label(self.key())
    }

    /// Whether a configured account (`self`) can log in for `other`, named on the command
    /// line: the same instance and port, and the same user when `other` names one.
    pub fn same_login(&self, other: &Settings) -> bool {
        self.host == other.host
            && self.port == other.port
            && (other.user.is_none() || self.user == other.user)
    }

    /// Checks what can be checked without the network: HTTPS or `insecure`, and a token.
    pub fn check(&self) -> Result<(), Error> {
        if self.access.tls == Tls::Starttls {
            return Err(Error::Setting {
                server: self.label(),
                reason: "tls = \"starttls\" is for IMAP; a Mastodon account takes implicit (HTTPS) or none".into(),
            });
        }
        self.access.check(PROTOCOL).map_err(|p| self.refused(p))
    }

    fn refused(&self, problem: access::Error) -> Error {
        Error::Access {
            server: self.label(),
            problem,
        }
    }
}

/// A conversation as `GET /api/v1/conversations` lists it.
#[derive(Deserialize)]
struct Conversation {
    id: String,
    #[serde(default)]
    last_status: Option<Box<RawValue>>,
}

/// The part of the Instance entity (`GET /api/v2/instance`; `GET /api/v1/instance`
/// before Mastodon 4.0, where `uri` is the domain) that names its accounts and bounds
/// their statuses.
#[derive(Deserialize)]
struct Instance {
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    configuration: Option<Configuration>,
}

#[derive(Deserialize)]
struct Configuration {
    #[serde(default)]
    statuses: Option<StatusLimits>,
}

#[derive(Deserialize)]
struct StatusLimits {
    #[serde(default)]
    max_characters: Option<usize>,
}

/// The length of a status when the instance does not say (Mastodon's own default).
pub const DEFAULT_MAX_CHARACTERS: usize = 500;

/// What an instance says of itself that a client needs.
struct About {
    /// Its account domain.
    domain: String,
    /// The longest status it takes, in characters, content warning included.
    max_characters: usize,
}

/// The thread around a status (`GET /api/v1/statuses/:id/context`).
#[derive(Deserialize)]
struct Context {
    #[serde(default)]
    ancestors: Vec<Box<RawValue>>,
    #[serde(default)]
    descendants: Vec<Box<RawValue>>,
}

/// The fields of a Status entity a record is made from.
#[derive(Deserialize)]
struct Status {
    id: String,
    uri: String,
    #[serde(default)]
    created_at: String,
    #[serde(default)]
    in_reply_to_id: Option<String>,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default)]
    content: String,
    account: Account,
    #[serde(default)]
    mentions: Vec<Mention>,
    #[serde(default)]
    media_attachments: Vec<Media>,
}

#[derive(Deserialize)]
struct Account {
    acct: String,
    #[serde(default)]
    display_name: String,
}

#[derive(Deserialize)]
struct Mention {
    acct: String,
}

#[derive(Deserialize)]
struct Media {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    remote_url: Option<String>,
}

/// One status of a thread: its raw JSON and what was read from it.
struct Fetched {
    raw: Vec<u8>,
    status: Status,
}

/// A thread as read: its statuses oldest first, and the JSON in it that is no Status, with
/// why.
#[derive(Default)]
struct Thread {
    statuses: Vec<Fetched>,
    unreadable: Vec<(Vec<u8>, String)>,
}

/// What can be read of JSON that is no Status: its id, URI and parent, when it holds them.
#[derive(Deserialize, Default)]
struct Traces {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    in_reply_to_id: Option<String>,
}

/// The status in `raw`, or the raw JSON and why it is none.
fn fetched(raw: &RawValue) -> Result<Fetched, (Vec<u8>, String)> {
    let bytes = raw.get().as_bytes().to_vec();
    match serde_json::from_slice::<Status>(&bytes) {
        Ok(status) => Ok(Fetched { raw: bytes, status }),
        Err(error) => Err((bytes, error.to_string())),
    }
}

/// `@user@instance`: the canonical handle of `acct` as `instance` names it (a local
/// account's acct has no domain).
pub fn handle(acct: &str, instance: &str) -> String {
    let acct = acct.trim_start_matches('@');
    match acct.split_once('@') {
        Some((user, domain)) => format!("@{user}@{}", domain.to_ascii_lowercase()),
        None => format!("@{acct}@{}", instance.to_ascii_lowercase()),
    }
}

/// The problem of a record made from JSON that is not a Status: the record keeps the raw
/// JSON's blob, and the fetch counts it as failed.
const UNREADABLE: &str = "not a Mastodon status";

/// Whether the record was made from JSON that is not a Status.
pub fn is_unreadable(message: &Message) -> bool {
    message.protocol == "mastodon" && message.problems.iter().any(|p| p.starts_with(UNREADABLE))
}

/// The record of JSON that is not a Status: its blob, and why.
fn unreadable(raw: &[u8], reason: &str) -> Message {
    let blob = blob_name(raw);
    Message {
        v: VERSION,
        protocol: "mastodon".into(),
        native_id: blob.clone(),
        blob,
        problems: vec![format!("{UNREADABLE}: {reason}")],
        ..Message::default()
    }
}

/// Reads one status's raw JSON into a message record (protocol `mastodon`), with `instance`
/// the account domain of the instance it was fetched from. The caller sets what depends on
/// the thread (`in_reply_to`, `references`) and on where it was fetched (`id`, `account`,
/// `source`).
pub fn read(raw: &[u8], instance: &str) -> Result<Message, String> {
    let status: Status = serde_json::from_slice(raw).map_err(|e| format!("{UNREADABLE}: {e}"))?;
    Ok(message(raw, &status, instance))
}

fn message(raw: &[u8], status: &Status, instance: &str) -> Message {
    let from = handle(&status.account.acct, instance);
    let mut to: Vec<Address> = Vec::new();
    for mention in &status.mentions {
        let address = handle(&mention.acct, instance);
        if address != from && !to.iter().any(|a| a.address == address) {
            to.push(Address {
                address,
                ..Address::default()
            });
        }
    }
    let date = mail_parser::DateTime::parse_rfc3339(&status.created_at)
        .filter(mail_parser::DateTime::is_valid)
        .map(|date| rfc3339(date.to_timestamp()));
    let mut problems = Vec::new();
    if date.is_none() {
        problems.push(format!("created_at {:?} is not a date", status.created_at));
    }
    Message {
        v: VERSION,
        protocol: "mastodon".into(),
        blob: blob_name(raw),
        native_id: status.uri.clone(),
        date,
        from: Some(Address {
            name: Some(status.account.display_name.trim().to_string()).filter(|n| !n.is_empty()),
            address: from,
            group: None,
        }),
        to,
        subject: Some(status.spoiler_text.trim().to_string()).filter(|s| !s.is_empty()),
        text: crate::email::html_to_text(&status.content)
            .trim_end()
            .to_string(),
        attachments: status.media_attachments.iter().map(attachment).collect(),
        problems,
        ..Message::default()
    }
}

/// A media attachment, described from its URL: the API gives no size nor MIME type, and
/// the media are not downloaded (the raw status keeps their URLs).
fn attachment(media: &Media) -> Attachment {
    let url = media
        .url
        .as_deref()
        .or(media.remote_url.as_deref())
        .unwrap_or_default();
    let filename = url
        .split(['?', '#'])
        .next()
        .and_then(|path| path.rsplit('/').next())
        .filter(|name| !name.is_empty())
        .map(str::to_string);
    let extension = filename
        .as_deref()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let content_type = match (extension.as_deref(), media.kind.as_str()) {
        (Some("png"), _) => "image/png",
        (Some("jpg" | "jpeg"), _) => "image/jpeg",
        (Some("gif"), _) => "image/gif",
        (Some("webp"), _) => "image/webp",
        (Some("mp4"), _) => "video/mp4",
        (Some("webm"), _) => "video/webm",
        (Some("mp3"), _) => "audio/mpeg",
        (Some("ogg" | "oga"), _) => "audio/ogg",
        (_, "image") => "image/*",
        (_, "video" | "gifv") => "video/*",
        (_, "audio") => "audio/*",
        _ => "application/octet-stream",
    };
    Attachment {
        filename,
        content_type: content_type.into(),
        size: 0,
    }
}

/// Orders status ids: numbers (Mastodon's ids are decimal) by value, else as text.
fn id_order(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if numeric(a) && numeric(b) {
        let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// The URL of the link of relation `rel` in a Link header (RFC 8288).
fn link(header: &str, rel: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .any(|(name, value)| {
                name.trim() == "rel"
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r == rel)
            })
            .then(|| target.to_string())
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// A time a header gives: Unix seconds from an RFC 3339 date (`X-RateLimit-Reset`) or an
/// HTTP date (`Retry-After`).
fn header_time(text: &str) -> Option<i64> {
    mail_parser::DateTime::parse_rfc3339(text)
        .or_else(|| mail_parser::DateTime::parse_rfc822(text))
        .filter(mail_parser::DateTime::is_valid)
        .map(|date| date.to_timestamp())
}

fn until(timestamp: i64, now: i64) -> Duration {
    Duration::from_secs(u64::try_from(timestamp - now).unwrap_or(0))
}

/// How long a 429 asks us to wait: `Retry-After` (seconds or an HTTP date), else until
/// `X-RateLimit-Reset`, else a minute.
fn retry_wait(headers: &HeaderMap, now: i64) -> Duration {
    if let Some(value) = header(headers, "retry-after") {
        if let Ok(seconds) = value.parse::<u64>() {
            return Duration::from_secs(seconds);
        }
        if let Some(at) = header_time(value) {
            return until(at, now);
        }
    }
    header(headers, "x-ratelimit-reset")
        .and_then(header_time)
        .map_or(DEFAULT_WAIT, |at| until(at, now))
}

/// The pause before the next request when few are left in the window: the time to the
/// reset shared among the requests left, so that they last until it.
fn pace(headers: &HeaderMap, now: i64) -> Duration {
    let remaining = header(headers, "x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok());
    let reset = header(headers, "x-ratelimit-reset").and_then(header_time);
    match (remaining, reset) {
        (Some(remaining), Some(reset)) if remaining < LOW_REMAINING => {
            (until(reset, now) / u32::try_from(remaining + 1).unwrap_or(u32::MAX)).min(LONGEST_WAIT)
        }
        _ => Duration::ZERO,
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// An answer of the instance.
struct Answer {
    status: reqwest::StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A logged-in client of one instance.
struct Api<'a> {
    settings: &'a Settings,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    token: Secret,
}

impl Api<'_> {
    fn http_error(&self, what: &str, reason: String) -> Error {
        Error::Http {
            server: self.settings.label(),
            what: what.to_string(),
            reason,
        }
    }

    /// Sends the request `build` makes (on the instance, with the token), waiting out rate
    /// limits and retrying failures; returns any other answer. (A POST here always carries
    /// an `Idempotency-Key`, so the instance acts on a retried one once.)
    fn request(
        &self,
        what: &str,
        build: &dyn Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer, Error> {
        let mut failures = 0;
        let mut limited = 0;
        loop {
            let sent = self.runtime.block_on(async {
                let response = build(&self.client)
                    .bearer_auth(&self.token.0)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .send()
                    .await?;
                let (status, headers) = (response.status(), response.headers().clone());
                let body = response.bytes().await?;
                Ok::<_, reqwest::Error>(Answer {
                    status,
                    headers,
                    body: body.to_vec(),
                })
            });
            let retry = match sent {
                Err(error) => describe(&error),
                Ok(answer) if answer.status == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    let wait = retry_wait(&answer.headers, now());
                    limited += 1;
                    if limited > RATE_LIMITED_TRIES || wait > LONGEST_WAIT {
                        return Err(Error::RateLimited {
                            server: self.settings.label(),
                            what: what.to_string(),
                            reason: format!("asked to wait {} s; try again later", wait.as_secs()),
                        });
                    }
                    std::thread::sleep(wait);
                    continue;
                }
                Ok(answer) if answer.status.is_server_error() => {
                    format!("HTTP {}", answer.status.as_u16())
                }
                Ok(answer) => {
                    std::thread::sleep(pace(&answer.headers, now()));
                    return Ok(answer);
                }
            };
            if failures >= RETRIES {
                return Err(self.http_error(what, retry));
            }
            std::thread::sleep(BACKOFF * 2u32.pow(failures));
            failures += 1;
        }
    }

    /// GETs `url` (on the instance) as [`Api::request`] does; an answer other than 200 and
    /// 404 is an error.
    fn get(&self, url: &str, what: &str) -> Result<Answer, Error> {
        let answer = self.request(what, &|client| client.get(url))?;
        match answer.status.as_u16() {
            200 | 404 => Ok(answer),
            status @ (401 | 403) => Err(Error::Refused {
                server: self.settings.label(),
                status,
                scope: "read:statuses",
            }),
            status => Err(Error::Response {
                server: self.settings.label(),
                what: what.to_string(),
                reason: format!("unexpected HTTP {status}"),
            }),
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(&self, what: &str, body: &[u8]) -> Result<T, Error> {
        serde_json::from_slice(body).map_err(|e| Error::Response {
            server: self.settings.label(),
            what: what.to_string(),
            reason: format!("not the JSON the Mastodon API documents: {e}"),
        })
    }

    /// The instance's account domain (`domain` of `GET /api/v2/instance`, else `uri` of
    /// `GET /api/v1/instance` before Mastodon 4.0, else the API's host) and its statuses'
    /// `max_characters` (else Mastodon's default).
    fn about(&self) -> Result<About, Error> {
        let mut max_characters = None;
        for path in ["/api/v2/instance", "/api/v1/instance"] {
            let what = format!("GET {path}");
            let answer = self.get(&format!("{}{path}", self.settings.origin()), &what)?;
            if answer.status == reqwest::StatusCode::NOT_FOUND {
                continue;
            }
            let instance: Instance = self.parse(&what, &answer.body)?;
            max_characters = max_characters.or(instance
                .configuration
                .and_then(|c| c.statuses)
                .and_then(|s| s.max_characters));
            let named = instance.domain.or(instance.uri).map(|domain| {
                let domain = domain.trim();
                let domain = domain
                    .strip_prefix("https://")
                    .or_else(|| domain.strip_prefix("http://"))
                    .unwrap_or(domain);
                domain.trim_end_matches('/').to_ascii_lowercase()
            });
            if let Some(domain) = named.filter(|d| !d.is_empty()) {
                return Ok(About {
                    domain,
                    max_characters: max_characters.unwrap_or(DEFAULT_MAX_CHARACTERS),
                });
            }
        }
        Ok(About {
            domain: self.settings.host.clone(),
            max_characters: max_characters.unwrap_or(DEFAULT_MAX_CHARACTERS),
        })
    }

    /// The thread around a status; `None` when the status is gone.
    fn context(&self, id: &str) -> Result<Option<Context>, Error> {
        let what = format!("GET /api/v1/statuses/{id}/context");
        let url = format!("{}/api/v1/statuses/{id}/context", self.settings.origin());
        let answer = self.get(&url, &what)?;
        if answer.status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        self.parse(&what, &answer.body).map(Some)
    }

    /// Every status of the thread `last` belongs to, oldest first, with `last` itself;
    /// `None` when `last` is gone.
    fn thread(&self, last: Fetched) -> Result<Option<Thread>, Error> {
        let Some(around) = self.context(&last.status.id)? else {
            return Ok(None);
        };
        let mut thread = Thread::default();
        let mut statuses: BTreeMap<String, Fetched> = BTreeMap::new();
        let mut add = |raw: &RawValue| match fetched(raw) {
            Ok(status) => {
                statuses.entry(status.status.id.clone()).or_insert(status);
            }
            Err(unreadable) => {
                if !thread.unreadable.contains(&unreadable) {
                    thread.unreadable.push(unreadable);
                }
            }
        };
        for raw in around.ancestors.iter().chain(&around.descendants) {
            add(raw);
        }
        // A branch of the thread beside the last status's is below the root only.
        let root = around.ancestors.first().and_then(|raw| fetched(raw).ok());
        if let Some(root) = root
            && let Some(below_root) = self.context(&root.status.id)?
        {
            for raw in &below_root.descendants {
                add(raw);
            }
        }
        thread.statuses = statuses.into_values().collect();
        if !thread
            .statuses
            .iter()
            .any(|f| f.status.id == last.status.id)
        {
            thread.statuses.push(last);
        }
        thread
            .statuses
            .sort_by(|a, b| id_order(&a.status.id, &b.status.id));
        Ok(Some(thread))
    }
}

/// The reason a request failed, with its causes, on one line (no header is in it).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A Mastodon account logged in to post direct statuses.
pub struct Poster<'a> {
    api: Api<'a>,
    /// The instance's account domain.
    pub domain: String,
    /// The longest status it takes, in characters, content warning included.
    pub max_characters: usize,
}

/// What the instance said of a status posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// Published: its URI (when the answer names it) and the Status as the instance
    /// answered.
    Accepted { uri: Option<String>, raw: Vec<u8> },
    /// Refused as it stands (422, or another 4xx): the HTTP status and the instance's
    /// error text.
    Refused { status: u16, error: String },
}

impl Poster<'_> {
    /// Posts a direct status (`POST /api/v1/statuses`, `visibility=direct`) of `text`, with
    /// `spoiler_text` as its content warning when set. The same `idempotency_key` makes a
    /// retry, in this run or a later one, the same status: the instance keeps the key for
    /// an hour and answers with the status already made. A token refused (401, 403) is an
    /// error; a 429 is waited out and a 5xx or a lost connection retried as for reading,
    /// then an error that [`Fault::is_transient`] calls temporary.
    pub fn post_direct(
        &self,
        text: &str,
        spoiler_text: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Posted, Error> {
        let what = "POST /api/v1/statuses";
        let url = format!("{}/api/v1/statuses", self.api.settings.origin());
        let mut body = serde_json::json!({"status": text, "visibility": "direct"});
        if let Some(spoiler_text) = spoiler_text {
            body["spoiler_text"] = spoiler_text.into();
        }
        let body = body.to_string();
        let answer = self.api.request(what, &|client| {
            client
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("Idempotency-Key", idempotency_key)
                .body(body.clone())
        })?;
        match answer.status.as_u16() {
            200..=299 => Ok(Posted::Accepted {
                uri: serde_json::from_slice::<Traces>(&answer.body)
                    .ok()
                    .and_then(|t| t.uri),
                raw: answer.body,
            }),
            status @ (401 | 403) => Err(Error::Refused {
                server: self.api.settings.label(),
                status,
                scope: "write:statuses",
            }),
            status => Ok(Posted::Refused {
                status,
                error: error_text(&answer.body),
            }),
        }
    }
}

/// The `error` of a Mastodon error body (`{"error": "Validation failed: …"}`), else the
/// body's text, on one line and short.
fn error_text(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Refusal {
        error: String,
    }
    let text = match serde_json::from_slice::<Refusal>(body) {
        Ok(refusal) => refusal.error,
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// Reads the direct messages of one Mastodon account.
pub struct Mastodon {
    settings: Settings,
}

impl Mastodon {
    pub fn new(settings: Settings) -> Mastodon {
        Mastodon { settings }
    }

    fn api(&self) -> Result<Api<'_>, Error> {
        let settings = &self.settings;
        settings.check()?;
        let access = &settings.access;
        let token = access.secret(PROTOCOL).map_err(|p| settings.refused(p))?;
        let tls = access.tls_config().map_err(|p| settings.refused(p))?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .https_only(access.tls != Tls::None)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("missive/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Setting {
                server: settings.label(),
                reason: format!("HTTP client: {}", describe(&e)),
            })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| Error::Setting {
                server: settings.label(),
                reason: format!("cannot start the network runtime: {e}"),
            })?;
        Ok(Api {
            settings,
            client,
            runtime,
            token,
        })
    }

    /// Logs in as the fetch does (`GET /api/v1/conversations?limit=1`, allowed by the
    /// `read:statuses` scope) and says so: with the account's handle when the URI names
    /// its user. For `config check --connect`.
    pub fn check_connection(&self) -> Result<String, Error> {
        let api = self.api()?;
        let domain = api.about()?.domain;
        let what = "GET /api/v1/conversations";
        let url = format!("{}/api/v1/conversations?limit=1", self.settings.origin());
        let answer = api.get(&url, what)?;
        if answer.status != reqwest::StatusCode::OK {
            return Err(Error::Response {
                server: self.settings.label(),
                what: what.into(),
                reason: format!("HTTP {}", answer.status.as_u16()),
            });
        }
        api.parse::<Vec<Conversation>>(what, &answer.body)?;
        Ok(match &self.settings.user {
            Some(user) => format!("logged in as {}", handle(user, &domain)),
            None => format!("logged in, the token reads direct messages on {domain}"),
        })
    }

    /// Logs in to post direct statuses, asking the instance once for its account domain
    /// and the length of its statuses. For `send`.
    pub fn poster(&self) -> Result<Poster<'_>, Error> {
        let api = self.api()?;
        let about = api.about()?;
        Ok(Poster {
            api,
            domain: about.domain,
            max_characters: about.max_characters,
        })
    }

    /// The item of one status, its record read, with the cursor to set once it is recorded.
    fn item(
        &self,
        domain: &str,
        fetched: &Fetched,
        uris: &HashMap<String, (String, Option<String>)>,
        cursor: Vec<(&'static str, String)>,
    ) -> Item {
        let mut message = message(&fetched.raw, &fetched.status, domain);
        // The chain of parents, nearest first, as far as the thread shows it.
        let mut parent = fetched.status.in_reply_to_id.clone();
        let mut chain = Vec::new();
        while let Some((uri, grandparent)) = parent.as_ref().and_then(|id| uris.get(id)) {
            if chain.contains(uri) {
                break;
            }
            chain.push(uri.clone());
            parent = grandparent.clone();
        }
        message.in_reply_to = chain.first().cloned().into_iter().collect();
        chain.reverse();
        message.references = chain;
        self.remote_item(domain, message, fetched.raw.clone(), cursor)
    }

    /// The item of a message read from `raw`, on the instance of account domain `domain`.
    fn remote_item(
        &self,
        domain: &str,
        message: Message,
        raw: Vec<u8>,
        cursor: Vec<(&'static str, String)>,
    ) -> Item {
        Item {
            raw: Raw::Read(Box::new(message), raw),
            source: SourceRef {
                kind: "mastodon".into(),
                instance: Some(domain.to_string()),
                ..SourceRef::default()
            },
            flags: Vec::new(),
            stamp: None,
            ephemeral: true,
            remote: Some(Remote {
                key: self.settings.key(),
                cursor,
                // A thread is read again when it grows: what was printed is known by URI.
                resync: true,
                received: None,
            }),
        }
    }
}

impl Source for Mastodon {
    fn scan(
        &self,
        known: &Known,
        emit: &mut dyn FnMut(Item) -> Result<(), super::Error>,
    ) -> Result<Scan, super::Error> {
        let api = self.api()?;
        let key = self.settings.key();
        let start = known
            .cursors
            .get(&(key.clone(), CURSOR.to_string()))
            .cloned();
        let mut cursor = start.clone().unwrap_or_else(|| "0".into());
        let mut scan = Scan::default();
        let domain = match known.cursors.get(&(key.clone(), DOMAIN.to_string())) {
            Some(domain) => domain.clone(),
            None => {
                let domain = api.about()?.domain;
                scan.cursors.push((key.clone(), DOMAIN, domain.clone()));
                domain
            }
        };
        let origin = format!("{}/", self.settings.origin());
        // Newest first, back to the cursor: then read oldest first, so that the cursor only
        // moves forward.
        let mut newer: Vec<(Conversation, Option<Fetched>)> = Vec::new();
        let mut next = Some(format!("{origin}api/v1/conversations?limit={PAGE}"));
        while let Some(url) = next.take() {
            let what = "GET /api/v1/conversations";
            let answer = api.get(&url, what)?;
            if answer.status != reqwest::StatusCode::OK {
                return Err(Error::Response {
                    server: self.settings.label(),
                    what: what.into(),
                    reason: format!("HTTP {}", answer.status.as_u16()),
                }
                .into());
            }
            let listed: Vec<Conversation> = api.parse(what, &answer.body)?;
            let mut reached_cursor = listed.is_empty();
            for conversation in listed {
                match conversation.last_status.as_deref().map(fetched) {
                    Some(Err((raw, reason))) => {
                        // Kept and reported; the conversation is left where it stands.
                        let message = unreadable(&raw, &reason);
                        emit(self.remote_item(&domain, message, raw, Vec::new()))?;
                    }
                    Some(Ok(last)) if id_order(&last.status.id, &cursor) != Ordering::Greater => {
                        reached_cursor = true;
                    }
                    last => newer.push((conversation, last.and_then(Result::ok))),
                }
            }
            if reached_cursor {
                break;
            }
            next = header(&answer.headers, "link").and_then(|links| link(links, "next"));
            if let Some(url) = &next
                && !url.starts_with(&origin)
            {
                return Err(Error::Response {
                    server: self.settings.label(),
                    what: what.into(),
                    reason: format!("the next page is on another server ({url}): not followed, the token stays here"),
                }
                .into());
            }
        }
        newer.sort_by(|(_, a), (_, b)| match (a, b) {
            (Some(a), Some(b)) => id_order(&a.status.id, &b.status.id),
            (a, b) => a.is_some().cmp(&b.is_some()),
        });
        for (conversation, last) in newer {
            let Some(last) = last else {
                scan.notices.push((
                    key.clone(),
                    format!("conversation {}", conversation.id),
                    "its statuses are gone (deleted); what was fetched before is kept".into(),
                ));
                continue;
            };
            let last_id = last.status.id.clone();
            if id_order(&last_id, &cursor) != Ordering::Greater {
                continue;
            }
            let last_uri = last.status.uri.clone();
            match api.thread(last)? {
                None => scan.notices.push((
                    key.clone(),
                    last_uri,
                    format!(
                        "status {last_id} of conversation {} is gone (HTTP 404, deleted); what was fetched before is kept",
                        conversation.id
                    ),
                )),
                Some(Thread {
                    statuses,
                    unreadable: others,
                }) => {
                    // Each status's URI and parent by id, for the replies' references;
                    // JSON that is no Status gives them too when it holds them.
                    let mut uris: HashMap<String, (String, Option<String>)> = statuses
                        .iter()
                        .map(|f| {
                            (
                                f.status.id.clone(),
                                (f.status.uri.clone(), f.status.in_reply_to_id.clone()),
                            )
                        })
                        .collect();
                    for (raw, reason) in others {
                        let traces: Traces = serde_json::from_slice(&raw).unwrap_or_default();
                        if let (Some(id), Some(uri)) = (traces.id, traces.uri) {
                            uris.entry(id).or_insert((uri, traces.in_reply_to_id));
                        }
                        emit(self.remote_item(&domain, unreadable(&raw, &reason), raw, Vec::new()))?;
                    }
                    let direct: Vec<&Fetched> = statuses
                        .iter()
                        .filter(|f| f.status.visibility == "direct")
                        .collect();
                    for fetched in &direct {
                        // A reply whose parent the thread no longer shows: the parent
                        // was deleted on the server (kept here if fetched before).
                        if let Some(parent) = &fetched.status.in_reply_to_id
                            && !uris.contains_key(parent)
                        {
                            scan.notices.push((
                                key.clone(),
                                fetched.status.uri.clone(),
                                format!(
                                    "replies to status {parent}, which is gone from the server (deleted); what was fetched before is kept"
                                ),
                            ));
                        }
                    }
                    for (at, fetched) in direct.iter().enumerate() {
                        let cursor = if at + 1 == direct.len() {
                            vec![(CURSOR, last_id.clone())]
                        } else {
                            Vec::new()
                        };
                        emit(self.item(&domain, fetched, &uris, cursor))?;
                    }
                }
            }
            cursor = last_id;
        }
        if start.as_ref() != Some(&cursor) && cursor != "0" {
            scan.cursors.push((key, CURSOR, cursor));
        }
        Ok(scan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_give_instance_user_and_port() {
        let s = Settings::parse_uri("mastodon://Social.Example").unwrap();
        assert_eq!(
            (s.host.as_str(), s.user.as_deref(), s.port),
            ("social.example", None, None)
        );
        assert_eq!(s.key(), "mastodon://social.example");
        assert_eq!(s.origin(), "https://social.example");
        let s = Settings::parse_uri("mastodon://@alex@127.0.0.1:8443/").unwrap();
        assert_eq!(s.user.as_deref(), Some("alex"));
        assert_eq!(s.key(), "mastodon://alex@127.0.0.1:8443");
        assert!(
            Settings::parse_uri("mastodon://h:x")
                .unwrap_err()
                .contains("bad port")
        );
        assert!(
            Settings::parse_uri("mastodon://u:tok@h")
                .unwrap_err()
                .contains("token_command")
        );
        assert!(Settings::parse_uri("mastodon://h/api").is_err());
    }

    #[test]
    fn plain_http_is_refused_unless_insecure() {
        let mut s = Settings::parse_uri("mastodon://h").unwrap();
        s.access.auth = Some(crate::secret::Auth::TokenCommand("echo t".into()));
        s.access.tls = Tls::None;
        assert!(
            s.check()
                .unwrap_err()
                .to_string()
                .contains("insecure = true")
        );
        s.access.insecure = true;
        assert!(s.check().is_ok());
        assert_eq!(s.origin(), "http://h");
    }

    #[test]
    fn a_local_acct_takes_the_instance_and_a_remote_one_keeps_its_domain() {
        assert_eq!(handle("alice", "Social.Example"), "@alice@social.example");
        assert_eq!(
            handle("bob@Other.Example", "social.example"),
            "@bob@other.example"
        );
    }

    #[test]
    fn ids_order_as_numbers() {
        assert_eq!(id_order("99", "100"), Ordering::Less);
        assert_eq!(id_order("110", "110"), Ordering::Equal);
        assert_eq!(id_order("0", "1"), Ordering::Less);
    }

    #[test]
    fn link_headers_give_each_relation() {
        let header = r#"<https://s.example/api/v1/conversations?max_id=7>; rel="next", <https://s.example/api/v1/conversations?min_id=9>; rel="prev""#;
        assert_eq!(
            link(header, "prev").as_deref(),
            Some("https://s.example/api/v1/conversations?min_id=9")
        );
        assert_eq!(
            link(header, "next").as_deref(),
            Some("https://s.example/api/v1/conversations?max_id=7")
        );
        assert_eq!(link(header, "last"), None);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn a_429_waits_as_retry_after_or_the_reset_says() {
        let now = header_time("2024-03-01T10:00:00Z").unwrap();
        assert_eq!(
            retry_wait(&headers(&[("retry-after", "7")]), now),
            Duration::from_secs(7)
        );
        assert_eq!(
            retry_wait(
                &headers(&[("retry-after", "Fri, 01 Mar 2024 10:00:30 GMT")]),
                now
            ),
            Duration::from_secs(30)
        );
        assert_eq!(
            retry_wait(
                &headers(&[("x-ratelimit-reset", "2024-03-01T10:05:00.000Z")]),
                now
            ),
            Duration::from_secs(300)
        );
        assert_eq!(retry_wait(&headers(&[]), now), DEFAULT_WAIT);
    }

    #[test]
    fn requests_are_spaced_out_when_few_are_left() {
        let now = header_time("2024-03-01T10:00:00Z").unwrap();
        let reset = ("x-ratelimit-reset", "2024-03-01T10:01:40Z");
        assert_eq!(
            pace(&headers(&[("x-ratelimit-remaining", "250"), reset]), now),
            Duration::ZERO
        );
        assert_eq!(
            pace(&headers(&[("x-ratelimit-remaining", "4"), reset]), now),
            Duration::from_secs(20)
        );
        assert_eq!(
            pace(&headers(&[("x-ratelimit-remaining", "1")]), now),
            Duration::ZERO
        );
    }

    #[test]
    fn a_status_becomes_a_message_record() {
        let raw = br#"{"id":"103","uri":"https://social.example/users/alex/statuses/103","created_at":"2024-03-01T10:00:00.250Z","in_reply_to_id":"101","visibility":"direct","spoiler_text":"","content":"<p><span class=\"h-card\"><a href=\"https://other.example/@bob\">@<span>bob</span></a></span> see <b>you</b></p><p>soon</p>","account":{"id":"1","acct":"alex","display_name":"Alex"},"mentions":[{"id":"2","acct":"bob@other.example","username":"bob"}],"media_attachments":[{"id":"5","type":"image","url":"https://files.social.example/media/a.png?x=1"}]}"#;
        let m = read(raw, "social.example").unwrap();
        assert_eq!(m.protocol, "mastodon");
        assert_eq!(
            m.native_id,
            "https://social.example/users/alex/statuses/103"
        );
        assert_eq!(m.date.as_deref(), Some("2024-03-01T10:00:00Z"));
        assert_eq!(m.from.as_ref().unwrap().address, "@alex@social.example");
        assert_eq!(m.from.as_ref().unwrap().name.as_deref(), Some("Alex"));
        assert_eq!(m.to[0].address, "@bob@other.example");
        assert!(
            m.text.contains("see you") && m.text.contains("soon") && !m.text.contains('<'),
            "{}",
            m.text
        );
        assert_eq!(m.attachments[0].filename.as_deref(), Some("a.png"));
        assert_eq!(m.attachments[0].content_type, "image/png");
        assert_eq!(m.blob, blob_name(raw));
        assert!(
            read(b"{\"id\":1}", "s")
                .unwrap_err()
                .contains("not a Mastodon status")
        );
    }
}
