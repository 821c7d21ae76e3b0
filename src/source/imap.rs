//! Reads the mailboxes of an IMAP server (RFC 3501), incrementally: per mailbox, the
//! UIDVALIDITY and the highest UID already handed on are the cursor, and only later UIDs are
//! fetched, with `BODY.PEEK[]` so that no message is marked \Seen.
//!
//! The connection is TLS, implicit (RFC 8314) or by STARTTLS (RFC 2595), with certificates
//! checked against the platform's roots and an optional `ca_file`; plain text only when the
//! account says `insecure = true` (settings shared with Mastodon: [`super::access`]). Login
//! is AUTHENTICATE PLAIN (RFC 4616, LOGIN when the server lacks it) with the output of
//! `password_command`, or OAUTHBEARER (RFC 7628) or XOAUTH2 with the output of
//! `token_command`, chosen from the capabilities the server names under TLS: after STARTTLS
//! they are asked again (RFC 3501 §6.2.1), as a man in the middle may have rewritten the
//! list sent in clear. A secret is never put in an error, and the responses that carry it
//! are zeroed once sent ([`crate::secret`]).
//!
//! Deciding what is new and making it durable is [`crate::fetch`]'s job: each message is an
//! [`Item`] whose [`Remote`] carries the cursor to set once the message is in the archive. A
//! dropped connection or a server error is retried a few times with backoff, resuming after
//! the last message handed on.
//!
//! Mailbox names are Unicode in the config and URIs, in globs, in records and in cursor
//! keys; only on the wire are they modified UTF-7 (`utf7`). A server's lines are bounded in
//! length, message bodies apart (`lines`).

mod lines;
mod utf7;

use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_imap::types::NameAttribute;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use zeroize::Zeroizing;

use super::access::{self, Access, Protocol};
use super::{Item, Known, Raw, Remote, Scan, Source};
use crate::fault::Fault;
use crate::record::SourceRef;
use crate::secret::{Auth, Secret};
use crate::tls::Tls;

/// Attempts after the first when the connection drops or the server fails.
const RETRIES: u32 = 3;
/// The first pause before a retry; each one after doubles it.
const BACKOFF: Duration = Duration::from_millis(200);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a server may stay silent while we wait for it, before the connection counts as
/// dropped (and is made again).
const SILENCE: Duration = Duration::from_secs(60);
/// What this source's refusals of an account's settings name.
const PROTOCOL: Protocol = Protocol {
    name: "IMAP",
    exposes: "the password and mail",
    no_secret: "no password_command or token_command",
};

/// The error returned when an IMAP server cannot be read. Every message names the account
/// or server, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{server}: cannot connect: {source}")]
    Connect {
        server: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{server}: TLS: {source}")]
    Tls {
        server: String,
        #[source]
        source: std::io::Error,
    },
    /// Plain text, a certificate file or a secret command ([`access`]).
    #[error("{server}: {problem}")]
    Access {
        server: String,
        problem: access::Error,
    },
    #[error("{server}: login as {user} failed: {reason}")]
    Login {
        server: String,
        user: String,
        reason: String,
    },
    #[error("{server}: no mailbox matches {pattern:?}")]
    NoMailbox { server: String, pattern: String },
    #[error("{server}: {what}: {source}")]
    Protocol {
        server: String,
        what: String,
        #[source]
        source: async_imap::error::Error,
    },
    #[error("{server}: {what}")]
    Server { server: String, what: String },
    /// The server sent a line longer than the limit ([`crate::config::Limits`]).
    #[error(
        "{server}: {what}: the IMAP server sent a line longer than {} MiB without a newline, the limit ([limits] imap_line_mib in the config)",
        limit >> 20
    )]
    LineTooLong {
        server: String,
        what: String,
        limit: u64,
    },
}

impl Error {
    /// Whether the fix is in the config or the account on the server: a refused login,
    /// certificate, plain text, secret command, or a mailbox pattern nothing matches.
    pub fn is_setting(&self) -> bool {
        match self {
            Error::Access { .. } | Error::Login { .. } | Error::NoMailbox { .. } => true,
            Error::Tls { .. } => !self.is_transient(),
            _ => false,
        }
    }
}

impl Fault for Error {
    /// The connection dropped or could not be made, or the server failed a command. A
    /// refused login, certificate or setting is not transient, nor is a server that answers
    /// what IMAP cannot parse or a line without end: trying again meets it again.
    fn is_transient(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Server { .. } => true,
            Error::Protocol { source, .. } => !matches!(
                source,
                async_imap::error::Error::Validate(_) | async_imap::error::Error::Parse(_)
            ),
            Error::Tls { source, .. } => !matches!(source.kind(), std::io::ErrorKind::InvalidData),
            _ => false,
        }
    }
}

/// An IMAP account: the server, the login and the mailboxes to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Mailbox names in Unicode, globs (`*` any text, `%` any text without the hierarchy
    /// delimiter) or special uses (`\Sent`, `\Archive`, `\All`, `\Drafts`, `\Junk`, `\Trash`,
    /// `\Flagged`); INBOX when empty.
    pub mailboxes: Vec<String>,
    /// TLS (by default implicit, STARTTLS on port 143), certificates, the secret's command.
    pub access: Access,
    /// True when the URI named one mailbox: it is part of the key.
    pub mailbox_in_key: bool,
}

impl Settings {
    /// Parses `imap://user@host[:port][/MAILBOX]`. The user and mailbox may be
    /// percent-encoded (`%40` for `@`). Port 143 means STARTTLS; any other, implicit TLS.
    pub fn parse_uri(text: &str) -> Result<Settings, String> {
        let rest = text
            .strip_prefix("imap://")
            .ok_or("expected imap://USER@HOST[:PORT]/MAILBOX")?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (user, hostport) = authority
            .rsplit_once('@')
            .ok_or("no user: expected imap://USER@HOST[:PORT]/MAILBOX")?;
        if user.contains(';') {
            return Err("a password or ;AUTH= in the URI is not supported: use password_command in the config".into());
        }
        let user = percent_decode(user)?;
        let (host, port) = match hostport.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
                (host.to_string(), after.strip_prefix(':'))
            }
            None => match hostport.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port)),
                None => (hostport.to_string(), None),
            },
        };
        if host.is_empty() || user.is_empty() {
            return Err("empty user or host".into());
        }
        let port = match port {
            Some(port) => port
                .parse::<u16>()
                .map_err(|_| format!("bad port {port:?}"))?,
            None => 993,
        };
        let mailbox = percent_decode(path.trim_end_matches('/'))?;
        Ok(Settings {
            host,
            port,
            user,
            mailbox_in_key: !mailbox.is_empty(),
            mailboxes: if mailbox.is_empty() {
                Vec::new()
            } else {
                vec![mailbox]
            },
            access: Access::new(if port == 143 {
                Tls::Starttls
            } else {
                Tls::Implicit
            }),
        })
    }

    /// The server as a URI without mailbox: `imap://user@host:port`.
    pub fn server(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("imap://{}@{host}:{}", self.user, self.port)
    }

    /// The key of this source's state; the mailboxes' keys are below it.
    pub fn key(&self) -> String {
        match (self.mailbox_in_key, self.mailboxes.first()) {
            (true, Some(mailbox)) => self.mailbox_key(mailbox),
            _ => self.server(),
        }
    }

    /// The key of one mailbox's cursor and of the content printed from it.
    pub fn mailbox_key(&self, mailbox: &str) -> String {
        format!("{}/{mailbox}", self.server())
    }

    /// The account and server, as errors name them.
    pub fn label(&self) -> String {
        self.access.label(self.server())
    }

    /// Whether `other` names the same login on the same server.
    pub fn same_login(&self, other: &Settings) -> bool {
        self.host.eq_ignore_ascii_case(&other.host)
            && self.port == other.port
            && self.user == other.user
    }

    /// Checks what can be checked without the network: TLS or `insecure`, and a secret.
    pub fn check(&self) -> Result<(), Error> {
        self.access.check(PROTOCOL).map_err(|p| self.refused(p))
    }

    fn refused(&self, problem: access::Error) -> Error {
        Error::Access {
            server: self.label(),
            problem,
        }
    }
}

fn percent_decode(text: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(b) = input.next() {
        if b == b'%' {
            let hex: Vec<u8> = input.by_ref().take(2).collect();
            let value = std::str::from_utf8(&hex)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .filter(|_| hex.len() == 2)
                .ok_or_else(|| format!("bad percent-encoding in {text:?}"))?;
            bytes.push(value);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).map_err(|_| format!("{text:?} is not UTF-8 once decoded"))
}

/// The connection, in clear or under TLS, as one stream type for the IMAP client.
#[derive(Debug)]
enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What the IMAP client reads and writes: the connection, its lines bounded.
type Connection = lines::Bounded<Stream>;
type Session = async_imap::Session<Connection>;

/// SASL PLAIN: authorization id empty, then user and password.
struct Plain<'a>(&'a str, &'a Secret);

impl async_imap::Authenticator for Plain<'_> {
    type Response = Zeroizing<Vec<u8>>;
    fn process(&mut self, _challenge: &[u8]) -> Self::Response {
        response(&[b"\0", self.0.as_bytes(), b"\0", self.1.0.as_bytes()])
    }
}

/// The pieces of a SASL response joined in one buffer allocated once (growing would leave
/// copies of the secret behind), zeroed when dropped.
fn response(pieces: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let mut response = Zeroizing::new(Vec::with_capacity(pieces.iter().map(|p| p.len()).sum()));
    for piece in pieces {
        response.extend_from_slice(piece);
    }
    response
}

/// OAUTHBEARER or XOAUTH2: the token on the first challenge; after a failure the server
/// sends an error as a challenge, answered empty (XOAUTH2) or with ^A (OAUTHBEARER).
struct Bearer<'a> {
    user: &'a str,
    token: &'a Secret,
    oauthbearer: bool,
    sent: bool,
}

impl async_imap::Authenticator for Bearer<'_> {
    type Response = Zeroizing<Vec<u8>>;
    fn process(&mut self, _challenge: &[u8]) -> Self::Response {
        if self.sent {
            return response(if self.oauthbearer { &[b"\x01"] } else { &[] });
        }
        self.sent = true;
        let (token, user) = (self.token.0.as_bytes(), self.user.as_bytes());
        if self.oauthbearer {
            response(&[b"n,a=", user, b",\x01auth=Bearer ", token, b"\x01\x01"])
        } else {
            response(&[b"user=", user, b"\x01auth=Bearer ", token, b"\x01\x01"])
        }
    }
}

/// How to log in, chosen from the capabilities the server names under TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    Plain,
    Login,
    OAuthBearer,
    XOAuth2,
}

impl Mechanism {
    /// OAUTHBEARER when offered for a token, else XOAUTH2 (which Gmail and Outlook speak
    /// without naming it to everyone); AUTHENTICATE PLAIN for a password when offered or
    /// when the server names nothing, else the LOGIN command.
    fn choose(token: bool, capabilities: &[String]) -> Mechanism {
        let offers = |wanted: &str| capabilities.iter().any(|c| c == wanted);
        match token {
            true if offers("AUTH=OAUTHBEARER") => Mechanism::OAuthBearer,
            true => Mechanism::XOAuth2,
            false if capabilities.is_empty() || offers("AUTH=PLAIN") => Mechanism::Plain,
            false => Mechanism::Login,
        }
    }
}

/// What a connection reports once logged in: for `config check --connect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `TLSv1.3`, …, or `none`.
    pub tls: String,
    /// The capabilities after login, sorted.
    pub capabilities: Vec<String>,
    /// The mailboxes the account's patterns select.
    pub mailboxes: Vec<String>,
}

/// A mailbox by the name people read and by the name the server knows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mailbox {
    /// Unicode: matched by globs, put in records and keys, shown.
    name: String,
    /// Modified UTF-7, or as the server listed it: sent in commands.
    wire: String,
}

impl Mailbox {
    /// A mailbox the user named.
    fn named(name: &str) -> Mailbox {
        Mailbox {
            name: name.to_string(),
            wire: utf7::encode(name),
        }
    }

    /// A mailbox the server listed; a name that is not modified UTF-7 is taken as it is.
    fn listed(wire: &str) -> Mailbox {
        Mailbox {
            name: utf7::decode(wire).unwrap_or_else(|| wire.to_string()),
            wire: wire.to_string(),
        }
    }
}

/// Reads mailboxes of one IMAP account.
pub struct Imap {
    settings: Settings,
    /// The longest line the server may send, in bytes, message bodies apart.
    line_limit: u64,
}

/// Where one mailbox stands: its UIDVALIDITY, the last UID handed on, and up to which UID
/// a resync runs.
#[derive(Debug, Clone, Copy, Default)]
struct Position {
    uidvalidity: Option<u32>,
    last_uid: u32,
    resync_through: u32,
}

impl Imap {
    /// `line_limit`: the longest line the server may send, in bytes ([`lines`]).
    pub fn new(settings: Settings, line_limit: u64) -> Imap {
        Imap {
            settings,
            line_limit,
        }
    }

    /// Logs in, lists the mailboxes the patterns select, logs out.
    pub fn check_connection(&self) -> Result<Report, Error> {
        self.settings.check()?;
        let secret = self.secret()?;
        runtime(&self.settings)?.block_on(async {
            let (mut session, tls) = self.login(&secret).await?;
            let capabilities = session
                .capabilities()
                .await
                .map_err(|e| self.protocol("CAPABILITY", e))?;
            let mut capabilities: Vec<String> = capabilities
                .iter()
                .map(|c| match c {
                    async_imap::types::Capability::Imap4rev1 => "IMAP4rev1".to_string(),
                    async_imap::types::Capability::Auth(m) => format!("AUTH={m}"),
                    async_imap::types::Capability::Atom(a) => a.clone(),
                })
                .collect();
            capabilities.sort();
            let mailboxes = self.mailboxes(&mut session).await?;
            let mailboxes = mailboxes.into_iter().map(|mailbox| mailbox.name).collect();
            let _ = session.logout().await;
            Ok(Report {
                tls,
                capabilities,
                mailboxes,
            })
        })
    }

    /// Appends `message` to the mailbox `pattern` names (`\Sent` by its special use, or a
    /// name), flagged \Seen: where `send` files its copy for the user's other mail
    /// programs. Returns the mailbox's name.
    pub fn append(&self, pattern: &str, message: &[u8]) -> Result<String, Error> {
        let target = Imap::new(
            Settings {
                mailboxes: vec![pattern.to_string()],
                ..self.settings.clone()
            },
            self.line_limit,
        );
        target.settings.check()?;
        let secret = target.secret()?;
        runtime(&target.settings)?.block_on(async {
            let (mut session, _) = target.login(&secret).await?;
            let mailbox = target.mailboxes(&mut session).await?.remove(0);
            target
                .within(
                    &format!("APPEND {}", mailbox.name),
                    session.append(&mailbox.wire, Some("(\\Seen)"), None, message),
                )
                .await?;
            let _ = session.logout().await;
            Ok(mailbox.name)
        })
    }

    fn secret(&self) -> Result<Secret, Error> {
        let settings = &self.settings;
        settings
            .access
            .secret(PROTOCOL)
            .map_err(|p| settings.refused(p))
    }

    fn protocol(&self, what: &str, source: async_imap::error::Error) -> Error {
        match source {
            async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
                Error::Server {
                    server: self.settings.label(),
                    what: format!("{what} refused: {text}"),
                }
            }
            async_imap::error::Error::Io(ref io)
                if let Some(too_long) = io
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<lines::TooLong>()) =>
            {
                Error::LineTooLong {
                    server: self.settings.label(),
                    what: what.to_string(),
                    limit: too_long.limit,
                }
            }
            source => Error::Protocol {
                server: self.settings.label(),
                what: what.to_string(),
                source,
            },
        }
    }

    /// The connection as the IMAP client reads it, its lines bounded.
    fn bounded(&self, stream: Stream) -> async_imap::Client<Connection> {
        async_imap::Client::new(lines::Bounded::new(stream, self.line_limit))
    }

    async fn start_tls(&self, tcp: TcpStream) -> Result<Stream, Error> {
        let tls_error = |source| Error::Tls {
            server: self.settings.label(),
            source,
        };
        let name = rustls::pki_types::ServerName::try_from(self.settings.host.clone())
            .map_err(|e| tls_error(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
        let settings = &self.settings;
        let config = settings
            .access
            .tls_config()
            .map_err(|p| settings.refused(p))?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let stream = connector.connect(name, tcp).await.map_err(tls_error)?;
        Ok(Stream::Tls(Box::new(stream)))
    }

    /// Waits for a server's answer, as long as it does not stay silent too long.
    async fn within<T>(
        &self,
        what: &str,
        answer: impl std::future::Future<Output = Result<T, async_imap::error::Error>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(SILENCE, answer).await {
            Ok(answer) => answer.map_err(|e| self.protocol(what, e)),
            Err(_) => Err(Error::Server {
                server: self.settings.label(),
                what: format!("{what}: no answer for {} s", SILENCE.as_secs()),
            }),
        }
    }

    /// [`Imap::connect`], as long as the server does not stay silent too long.
    async fn login(&self, secret: &Secret) -> Result<(Session, String), Error> {
        tokio::time::timeout(SILENCE, self.connect(secret))
            .await
            .unwrap_or_else(|_| {
                Err(Error::Server {
                    server: self.settings.label(),
                    what: format!("no greeting or login answer for {} s", SILENCE.as_secs()),
                })
            })
    }

    /// Connects, secures the connection and logs in; returns the session and TLS version.
    async fn connect(&self, secret: &Secret) -> Result<(Session, String), Error> {
        let settings = &self.settings;
        settings.check()?;
        let connect = TcpStream::connect((settings.host.as_str(), settings.port));
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "timed out"))
            .and_then(|r| r)
            .map_err(|source| Error::Connect {
                server: settings.label(),
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        let mut client = match settings.access.tls {
            Tls::Implicit => self.bounded(self.start_tls(tcp).await?),
            Tls::None => self.bounded(Stream::Plain(tcp)),
            Tls::Starttls => {
                let mut plain = self.bounded(Stream::Plain(tcp));
                self.greeting(&mut plain).await?;
                plain
                    .run_command_and_check_ok("STARTTLS", None)
                    .await
                    .map_err(|e| self.protocol("STARTTLS", e))?;
                let Stream::Plain(tcp) = plain.into_inner().into_inner() else {
                    unreachable!("a plain stream before STARTTLS")
                };
                self.bounded(self.start_tls(tcp).await?)
            }
        };
        let capabilities = match settings.access.tls {
            // What the server said in clear, a man in the middle may have rewritten: the
            // list is asked again under TLS (RFC 3501 §6.2.1).
            Tls::Starttls => self.capabilities(&mut client).await?,
            Tls::Implicit | Tls::None => match self.greeting(&mut client).await? {
                greeted if greeted.is_empty() => self.capabilities(&mut client).await?,
                greeted => greeted,
            },
        };
        let tls = match client.get_ref().get_ref() {
            Stream::Tls(s) => s
                .get_ref()
                .1
                .protocol_version()
                .and_then(|v| v.as_str())
                .map(|v| v.replace("TLSv1_", "TLSv1."))
                .unwrap_or_else(|| "TLS".into()),
            Stream::Plain(_) => "none".into(),
        };
        let failed = |error: async_imap::error::Error| match error {
            async_imap::error::Error::No(text) | async_imap::error::Error::Bad(text) => {
                Error::Login {
                    server: settings.label(),
                    user: settings.user.clone(),
                    reason: server_text(&text),
                }
            }
            async_imap::error::Error::Validate(_) => Error::Login {
                server: settings.label(),
                user: settings.user.clone(),
                reason: "the user or password holds a character IMAP cannot carry".into(),
            },
            other => self.protocol("login", other),
        };
        let token = matches!(settings.access.auth, Some(Auth::TokenCommand(_)));
        let bearer = |oauthbearer| Bearer {
            user: &settings.user,
            token: secret,
            oauthbearer,
            sent: false,
        };
        let session = match Mechanism::choose(token, &capabilities) {
            Mechanism::OAuthBearer => client.authenticate("OAUTHBEARER", bearer(true)).await,
            Mechanism::XOAuth2 => client.authenticate("XOAUTH2", bearer(false)).await,
            Mechanism::Plain => {
                client
                    .authenticate("PLAIN", Plain(&settings.user, secret))
                    .await
            }
            Mechanism::Login => client.login(&settings.user, &secret.0).await,
        }
        .map_err(|(e, _)| failed(e))?;
        Ok((session, tls))
    }

    /// Reads the server's greeting and the capabilities it names.
    async fn greeting(
        &self,
        client: &mut async_imap::Client<Connection>,
    ) -> Result<Vec<String>, Error> {
        use async_imap::imap_proto::{Response, ResponseCode, Status};
        let response = client
            .read_response()
            .await
            .map_err(|e| self.protocol("greeting", e.into()))?
            .ok_or_else(|| self.protocol("greeting", async_imap::error::Error::ConnectionLost))?;
        match response.parsed() {
            Response::Data { status, outcome } => {
                let (code, information) = (&outcome.code, &outcome.information);
                if !matches!(status, Status::Ok | Status::PreAuth) {
                    return Err(Error::Server {
                        server: self.settings.label(),
                        what: format!(
                            "the server turned us away: {}",
                            server_text(information.as_deref().unwrap_or(""))
                        ),
                    });
                }
                Ok(match code {
                    Some(ResponseCode::Capabilities(list)) => {
                        list.iter().map(capability_name).collect()
                    }
                    _ => Vec::new(),
                })
            }
            _ => Err(Error::Server {
                server: self.settings.label(),
                what: "no IMAP greeting".into(),
            }),
        }
    }

    /// Asks the server for its capabilities (RFC 3501 §6.1.1), as a list in the form
    /// [`capability_name`] gives.
    async fn capabilities(
        &self,
        client: &mut async_imap::Client<Connection>,
    ) -> Result<Vec<String>, Error> {
        use async_imap::imap_proto::{RequestId, Response, Status};
        use tokio::io::AsyncWriteExt;
        let lost = || self.protocol("CAPABILITY", async_imap::error::Error::ConnectionLost);
        // async-imap asks capabilities only of a logged-in session and keeps its tagged
        // commands to itself before login: the command is written here, under a tag of ours
        // that its own (`A0001`…) never take.
        let tag = RequestId("m0".into());
        let stream = client.get_mut();
        stream
            .write_all(format!("{} CAPABILITY\r\n", tag.0).as_bytes())
            .await
            .and(stream.flush().await)
            .map_err(|e| self.protocol("CAPABILITY", e.into()))?;
        let mut capabilities = Vec::new();
        loop {
            let response = client
                .read_response()
                .await
                .map_err(|e| self.protocol("CAPABILITY", e.into()))?
                .ok_or_else(lost)?;
            match response.parsed() {
                Response::Capabilities(list) => {
                    capabilities.extend(list.iter().map(capability_name));
                }
                Response::Done {
                    tag: done,
                    status,
                    outcome,
                } if *done == tag => {
                    return match status {
                        Status::Ok => Ok(capabilities),
                        _ => Err(Error::Server {
                            server: self.settings.label(),
                            what: format!(
                                "CAPABILITY refused: {}",
                                server_text(outcome.information.as_deref().unwrap_or(""))
                            ),
                        }),
                    };
                }
                _ => {}
            }
        }
    }

    /// The mailboxes the patterns select, in pattern order, each once.
    async fn mailboxes(&self, session: &mut Session) -> Result<Vec<Mailbox>, Error> {
        let patterns: Vec<String> = if self.settings.mailboxes.is_empty() {
            vec!["INBOX".into()]
        } else {
            self.settings.mailboxes.clone()
        };
        let needs_list = patterns
            .iter()
            .any(|p| p.starts_with('\\') || p.contains(['*', '%']));
        if !needs_list {
            return Ok(patterns.iter().map(|name| Mailbox::named(name)).collect());
        }
        let names: Vec<async_imap::types::Name> = self
            .within("LIST", async {
                session.list(Some(""), Some("*")).await?.try_collect().await
            })
            .await?;
        let mut chosen = Vec::new();
        let mut seen = BTreeSet::new();
        for pattern in &patterns {
            let mut matched = false;
            for name in &names {
                let mailbox = Mailbox::listed(name.name());
                let attributes = name.attributes();
                if attributes.contains(&NameAttribute::NoSelect) {
                    continue;
                }
                let hit = match pattern.strip_prefix('\\') {
                    Some(special) => attributes
                        .iter()
                        .any(|a| special_use(a) == Some(special.to_ascii_lowercase())),
                    None => glob(pattern, &mailbox.name, name.delimiter().unwrap_or("/")),
                };
                if hit {
                    matched = true;
                    if seen.insert(mailbox.wire.clone()) {
                        chosen.push(mailbox);
                    }
                }
            }
            if !matched {
                return Err(Error::NoMailbox {
                    server: self.settings.label(),
                    pattern: pattern.clone(),
                });
            }
        }
        Ok(chosen)
    }

    /// One connection's work: every mailbox not yet done, from where it stands.
    async fn sync(
        &self,
        secret: &Secret,
        positions: &mut HashMap<String, Position>,
        done: &mut BTreeSet<String>,
        emit: &mut dyn FnMut(Item) -> Result<(), super::Error>,
    ) -> Result<(), super::Error> {
        let (mut session, _) = self.login(secret).await?;
        for mailbox in self.mailboxes(&mut session).await? {
            if done.contains(&mailbox.name) {
                continue;
            }
            self.sync_mailbox(&mut session, &mailbox, positions, emit)
                .await?;
            done.insert(mailbox.name);
        }
        let _ = session.logout().await;
        Ok(())
    }

    async fn sync_mailbox(
        &self,
        session: &mut Session,
        Mailbox { name, wire }: &Mailbox,
        positions: &mut HashMap<String, Position>,
        emit: &mut dyn FnMut(Item) -> Result<(), super::Error>,
    ) -> Result<(), super::Error> {
        let key = self.settings.mailbox_key(name);
        let selected = self
            .within(&format!("EXAMINE {name}"), session.examine(wire))
            .await?;
        let uidvalidity = selected.uid_validity.ok_or_else(|| Error::Server {
            server: self.settings.label(),
            what: format!("{name}: no UIDVALIDITY"),
        })?;
        let position = positions.entry(name.clone()).or_default();
        if position.uidvalidity != Some(uidvalidity) {
            // Renumbered (or never read): read it all again; what was printed before is
            // recognised by content and Message-ID.
            let renumbered = position.uidvalidity.is_some();
            *position = Position {
                uidvalidity: Some(uidvalidity),
                last_uid: 0,
                resync_through: if renumbered {
                    selected.uid_next.map_or(u32::MAX, |n| n.saturating_sub(1))
                } else {
                    0
                },
            };
        }
        if selected.exists == 0 {
            return Ok(());
        }
        // The highest UID now, so that mail arriving during the run waits for the next.
        let end = selected.uid_next.map(|n| n.saturating_sub(1));
        let lo = position.last_uid.saturating_add(1);
        if end.is_some_and(|end| lo > end) || lo == u32::MAX {
            return Ok(());
        }
        // One command for all that is new: the server streams it without waiting on a round
        // trip, and [`crate::fetch`] cuts it into batches, each durable before its cursor.
        let range = match end {
            Some(end) => format!("{lo}:{end}"),
            None => format!("{lo}:*"),
        };
        let what = format!("UID FETCH {range} in {name}");
        let mut fetches = self
            .within(
                &what,
                session.uid_fetch(&range, "(UID FLAGS INTERNALDATE BODY.PEEK[])"),
            )
            .await?;
        while let Some(fetch) = self.within(&what, fetches.try_next()).await? {
            let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) else {
                continue;
            };
            // `n:*` also names the last message when n is above it.
            if uid < lo {
                continue;
            }
            let flags = flags(fetch.flags());
            let cursor = vec![
                ("uidvalidity", uidvalidity.to_string()),
                ("last_uid", uid.to_string()),
                ("resync_through", position.resync_through.to_string()),
            ];
            let resync = uid <= position.resync_through;
            let received = fetch
                .internal_date()
                .map(|date| date.to_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string());
            emit(Item {
                raw: Raw::Bytes(body.to_vec()),
                source: SourceRef {
                    kind: "imap".into(),
                    mailbox: Some(name.clone()),
                    uidvalidity: Some(uidvalidity),
                    uid: Some(uid),
                    ..SourceRef::default()
                },
                flags,
                stamp: None,
                ephemeral: true,
                remote: Some(Remote {
                    key: key.clone(),
                    cursor,
                    resync,
                    received,
                }),
            })?;
            position.last_uid = uid;
        }
        // Done, even the UIDs no message has (expunged): a retry goes on after them.
        if let Some(end) = end {
            position.last_uid = position.last_uid.max(end);
        }
        Ok(())
    }
}

impl Source for Imap {
    fn scan(
        &self,
        known: &Known,
        emit: &mut dyn FnMut(Item) -> Result<(), super::Error>,
    ) -> Result<Scan, super::Error> {
        self.settings.check()?;
        let secret = self.secret()?;
        let mut positions: HashMap<String, Position> = HashMap::new();
        for ((key, name), value) in &known.cursors {
            let Some(mailbox) = key
                .strip_prefix(&self.settings.server())
                .and_then(|rest| rest.strip_prefix('/'))
            else {
                continue;
            };
            let position = positions.entry(mailbox.to_string()).or_default();
            let number = value.parse::<u32>().ok();
            match name.as_str() {
                "uidvalidity" => position.uidvalidity = number,
                "last_uid" => position.last_uid = number.unwrap_or(0),
                "resync_through" => position.resync_through = number.unwrap_or(0),
                _ => {}
            }
        }
        let runtime = runtime(&self.settings)?;
        let mut done = BTreeSet::new();
        let mut retries = 0;
        loop {
            let before: u64 = positions.values().map(|p| u64::from(p.last_uid)).sum();
            let outcome = runtime.block_on(self.sync(&secret, &mut positions, &mut done, emit));
            match outcome {
                Ok(()) => return Ok(Scan::default()),
                Err(super::Error::Imap(error)) if error.is_transient() => {
                    let after: u64 = positions.values().map(|p| u64::from(p.last_uid)).sum();
                    if after > before {
                        retries = 0;
                    }
                    if retries >= RETRIES {
                        return Err(error.into());
                    }
                    std::thread::sleep(BACKOFF * 2u32.pow(retries));
                    retries += 1;
                }
                Err(other) => return Err(other),
            }
        }
    }
}

fn runtime(settings: &Settings) -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|source| Error::Connect {
            server: settings.label(),
            source,
        })
}

/// A server's response text, on one line and not too long.
/// A capability as the login's choice compares it: `IMAP4rev1`, `AUTH=PLAIN`, `IDLE`
/// (upper case, as servers differ).
fn capability_name(capability: &async_imap::imap_proto::Capability<'_>) -> String {
    use async_imap::imap_proto::Capability;
    match capability {
        Capability::Imap4rev1 => "IMAP4rev1".to_string(),
        Capability::Auth(m) => format!("AUTH={}", m.to_ascii_uppercase()),
        Capability::Atom(a) => a.to_ascii_uppercase(),
    }
}

fn server_text(text: &str) -> String {
    let line: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    line.trim().to_string()
}

/// The record's flags from IMAP system flags, in the order Maildir readers use.
fn flags<'a>(imap: impl Iterator<Item = async_imap::types::Flag<'a>>) -> Vec<String> {
    use async_imap::types::Flag;
    let mut flags: Vec<&str> = imap
        .filter_map(|flag| match flag {
            Flag::Draft => Some("draft"),
            Flag::Flagged => Some("flagged"),
            Flag::Answered => Some("answered"),
            Flag::Seen => Some("seen"),
            Flag::Deleted => Some("deleted"),
            _ => None,
        })
        .collect();
    let order = ["draft", "flagged", "answered", "seen", "deleted"];
    flags.sort_by_key(|f| order.iter().position(|o| o == f));
    flags.dedup();
    flags.into_iter().map(String::from).collect()
}

/// The special use (RFC 6154) a LIST attribute marks, lowercase, without the backslash.
fn special_use(attribute: &NameAttribute<'_>) -> Option<String> {
    Some(
        match attribute {
            NameAttribute::All => "all",
            NameAttribute::Archive => "archive",
            NameAttribute::Drafts => "drafts",
            NameAttribute::Flagged => "flagged",
            NameAttribute::Junk => "junk",
            NameAttribute::Sent => "sent",
            NameAttribute::Trash => "trash",
            NameAttribute::Extension(text) => {
                return Some(text.trim_start_matches('\\').to_ascii_lowercase());
            }
            _ => return None,
        }
        .to_string(),
    )
}

/// LIST-style matching: `*` matches any text, `%` any text without `delimiter`; INBOX in
/// any case is INBOX (RFC 3501 5.1).
fn glob(pattern: &str, name: &str, delimiter: &str) -> bool {
    fn inbox(text: &str) -> Option<&str> {
        text.get(..5)
            .filter(|head| head.eq_ignore_ascii_case("INBOX"))
            .map(|_| &text[5..])
    }
    match (inbox(pattern), inbox(name)) {
        (Some(pattern), Some(name)) => glob_exact(pattern, name, delimiter),
        _ => glob_exact(pattern, name, delimiter),
    }
}

fn glob_exact(pattern: &str, name: &str, delimiter: &str) -> bool {
    let Some(first) = pattern.chars().next() else {
        return name.is_empty();
    };
    let rest = &pattern[first.len_utf8()..];
    if first == '*' || first == '%' {
        let mut at = 0;
        loop {
            if glob_exact(rest, &name[at..], delimiter) {
                return true;
            }
            let Some(c) = name[at..].chars().next() else {
                return false;
            };
            if first == '%' && name[at..].starts_with(delimiter) {
                return false;
            }
            at += c.len_utf8();
        }
    }
    name.starts_with(first) && glob_exact(rest, &name[first.len_utf8()..], delimiter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_give_user_host_port_mailbox_and_tls_by_port() {
        let s =
            Settings::parse_uri("imap://alex%40example.org@mail.example.org/Lists%2Fdev").unwrap();
        assert_eq!(
            (s.user.as_str(), s.host.as_str(), s.port, s.access.tls),
            ("alex@example.org", "mail.example.org", 993, Tls::Implicit)
        );
        assert_eq!(s.mailboxes, ["Lists/dev"]);
        assert_eq!(
            s.key(),
            "imap://alex@example.org@mail.example.org:993/Lists/dev"
        );
        let s = Settings::parse_uri("imap://u@[::1]:143").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.access.tls),
            ("::1", 143, Tls::Starttls)
        );
        assert!(s.mailboxes.is_empty());
        assert_eq!(s.key(), "imap://u@[::1]:143");
    }

    #[test]
    fn a_bad_uri_says_what_is_wrong_and_never_takes_a_password() {
        assert!(
            Settings::parse_uri("imap://host/INBOX")
                .unwrap_err()
                .contains("no user")
        );
        assert!(
            Settings::parse_uri("imap://u@h:x/INBOX")
                .unwrap_err()
                .contains("bad port")
        );
        assert!(
            Settings::parse_uri("imap://u;AUTH=*@h/")
                .unwrap_err()
                .contains("password_command")
        );
    }

    #[test]
    fn plain_text_is_refused_unless_insecure_and_names_the_account() {
        let mut s = Settings::parse_uri("imap://u@h:143/INBOX").unwrap();
        s.access.tls = Tls::None;
        s.access.account = Some("work".into());
        s.access.auth = Some(Auth::PasswordCommand("echo x".into()));
        let error = s.check().unwrap_err().to_string();
        assert!(
            error.contains("account work") && error.contains("insecure = true"),
            "{error}"
        );
        s.access.insecure = true;
        assert!(s.check().is_ok());
    }

    #[test]
    fn globs_match_like_list_patterns() {
        assert!(glob("*", "Lists/dev", "/"));
        assert!(glob("Lists/*", "Lists/dev/2024", "/"));
        assert!(glob("Lists/%", "Lists/dev", "/"));
        assert!(!glob("Lists/%", "Lists/dev/2024", "/"));
        assert!(glob("inbox", "INBOX", "/"));
        assert!(!glob("Sent", "Sent Items", "/"));
        assert!(glob("Sent*", "Sent Items", "/"));
    }

    #[test]
    fn mailbox_names_are_unicode_for_people_and_modified_utf7_for_the_server() {
        let named = Mailbox::named("Entwürfe/R&D");
        assert_eq!(named.wire, "Entw&APw-rfe/R&-D");
        assert_eq!(Mailbox::listed(&named.wire), named);
        // A server that lists UTF-8 (or anything else) is answered in its own terms.
        let listed = Mailbox::listed("Brouillons réseau");
        assert_eq!(listed.name, listed.wire);
        assert!(glob("Entw*", &Mailbox::listed("Entw&APw-rfe").name, "/"));
    }

    #[test]
    fn flags_map_to_record_flags() {
        use async_imap::types::Flag;
        let mapped = flags(
            [
                Flag::Seen,
                Flag::Recent,
                Flag::Answered,
                Flag::Custom("$Junk".into()),
                Flag::Deleted,
            ]
            .into_iter(),
        );
        assert_eq!(mapped, ["answered", "seen", "deleted"]);
    }

    #[test]
    fn sasl_responses_carry_user_and_secret_as_each_mechanism_wants() {
        use async_imap::Authenticator;
        let secret = Secret("s3".into());
        assert_eq!(*Plain("me", &secret).process(b""), b"\0me\0s3");
        let mut bearer = Bearer {
            user: "me",
            token: &secret,
            oauthbearer: true,
            sent: false,
        };
        assert_eq!(*bearer.process(b""), b"n,a=me,\x01auth=Bearer s3\x01\x01");
        assert_eq!(
            *bearer.process(b"{\"status\":\"401\"}"),
            b"\x01",
            "a failure is acknowledged"
        );
        let mut xoauth2 = Bearer {
            user: "me",
            token: &secret,
            oauthbearer: false,
            sent: false,
        };
        assert_eq!(*xoauth2.process(b""), b"user=me\x01auth=Bearer s3\x01\x01");
        assert_eq!(*xoauth2.process(b"{}"), b"");
    }

    #[test]
    fn the_mechanism_is_what_the_server_offers() {
        let offered = |list: &[&str]| list.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let both = offered(&[
            "IMAP4rev1",
            "AUTH=PLAIN",
            "AUTH=OAUTHBEARER",
            "AUTH=XOAUTH2",
        ]);
        assert_eq!(Mechanism::choose(false, &both), Mechanism::Plain);
        assert_eq!(Mechanism::choose(true, &both), Mechanism::OAuthBearer);
        let login_only = offered(&["IMAP4rev1", "AUTH=LOGIN"]);
        assert_eq!(Mechanism::choose(false, &login_only), Mechanism::Login);
        let xoauth2_only = offered(&["IMAP4rev1", "AUTH=XOAUTH2"]);
        assert_eq!(Mechanism::choose(true, &xoauth2_only), Mechanism::XOAuth2);
        // A server that names nothing gets what every server offers under TLS.
        assert_eq!(Mechanism::choose(false, &[]), Mechanism::Plain);
        assert_eq!(Mechanism::choose(true, &[]), Mechanism::XOAuth2);
    }

    #[test]
    fn a_secret_command_output_is_trimmed_and_never_in_errors() {
        let mut s = Settings::parse_uri("imap://u@h/INBOX").unwrap();
        s.access.account = Some("a".into());
        s.access.auth = Some(Auth::PasswordCommand("printf 'pw-123\\n'".into()));
        let secret = Imap::new(s.clone(), 1 << 20).secret().unwrap();
        assert_eq!(secret.0, "pw-123");
        assert_eq!(format!("{secret:?}"), "Secret(********)");
        s.access.auth = Some(Auth::PasswordCommand("x=leaked; echo $x-pw; exit 3".into()));
        let error = Imap::new(s, 1 << 20).secret().unwrap_err().to_string();
        assert!(
            !error.contains("leaked-pw") && error.contains("account a"),
            "{error}"
        );
    }
}
