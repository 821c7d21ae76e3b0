//! Delivery: a built message handed to the account's SMTP submission server (RFC 6409) with
//! lettre's async client on tokio, or piped to its `sendmail` command.
//!
//! Submission is never in plain text: implicit TLS (port 465) or STARTTLS before anything
//! else, refused when the server does not offer it, the certificate verified against the
//! platform's roots and the account's `ca_file` ([`crate::tls::trusted_roots`]); the login is
//! AUTH PLAIN or LOGIN with the `password_command`'s secret, or XOAUTH2 with the
//! `token_command`'s. The EHLO name is `[127.0.0.1]`, as the machine's name is nobody's
//! business.
//!
//! Each recipient gets its own outcome: the envelope is spoken command by command (lettre's
//! `AsyncSmtpConnection`) so one refused RCPT does not abort the others. A 4xx reply or a
//! connection lost before the server took the message is [`Outcome::Temporary`] (try again
//! later), a 5xx reply [`Outcome::Refused`] with the server's enhanced status code.

use std::time::Duration;

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, Certificate, CertificateStore, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use crate::fault::Fault;
use crate::secret::Auth;
pub use crate::source::account::{Submission, Transport};

/// How long a connection, or one reply, may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What became of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server took the message for this recipient.
    Accepted,
    /// A 4xx reply, or the connection lost before the server took the message: try again.
    Temporary { code: String, text: String },
    /// A 5xx reply: the enhanced status code when the server gave one (`5.1.1`), else the
    /// reply code.
    Refused { code: String, text: String },
}

/// The error returned when nothing could be tried: no connection, no TLS, no login. It
/// names the server or the command, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{server}: {secret}")]
    Secret { server: String, secret: String },
    #[error(transparent)]
    Tls(#[from] crate::tls::Error),
    #[error("{server}: cannot connect")]
    Connect {
        server: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error(
        "{server}: the server offers no STARTTLS; refusing to submit mail in plain text (or set submission_tls = \"implicit\" if it speaks TLS from the first byte)"
    )]
    PlainText { server: String },
    #[error("{server}: login refused")]
    Login {
        server: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
    #[error("{0:?} is not an email address")]
    Sender(String),
    #[error("cannot run sendmail command {command:?}")]
    Sendmail {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the network runtime")]
    Runtime(#[source] std::io::Error),
}

impl Fault for Error {
    /// The server could not be reached, or dropped the line, or answered 4xx; a refused
    /// certificate, login or setting is not transient.
    fn is_transient(&self) -> bool {
        match self {
            Error::Connect { source, .. } => !is_tls_refusal(source),
            Error::Login { source, .. } => !source.is_permanent() && !source.is_client(),
            Error::Runtime(_) => true,
            _ => false,
        }
    }
}

impl Error {
    /// Whether the fix is in the config (a setting, a certificate, a login), not the server.
    pub fn is_setting(&self) -> bool {
        !self.is_transient() && !matches!(self, Error::Sendmail { .. })
    }
}

/// Whether a connection failed because TLS refused the server (its certificate), rather than
/// the network: rustls reports it as invalid data.
fn is_tls_refusal(error: &lettre::transport::smtp::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::InvalidData
        {
            return true;
        }
        if error.is::<rustls::Error>() {
            return true;
        }
        source = error.source();
    }
    error.is_tls()
}

/// Hands `bytes` to the transport for `recipients`, from `envelope_from`: one outcome per
/// recipient, in order. Err only when nothing was tried.
pub fn deliver(
    transport: &Transport,
    envelope_from: &str,
    recipients: &[String],
    bytes: &[u8],
) -> Result<Vec<(String, Outcome)>, Error> {
    match transport {
        Transport::Submission(submission) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .enable_time()
                .build()
                .map_err(Error::Runtime)?;
            runtime.block_on(submit(submission, envelope_from, recipients, bytes))
        }
        Transport::Sendmail(command) => sendmail(command, envelope_from, recipients, bytes),
    }
}

/// What a submission server says of itself once logged in, for `config check --connect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// `implicit TLS` or `STARTTLS`.
    pub tls: &'static str,
    /// What the server offers that `send` uses: 8BITMIME, SMTPUTF8, its AUTH mechanisms.
    pub extensions: Vec<String>,
}

/// Connects, secures and logs in to the submission server, then quits: nothing is sent.
pub fn check_connection(submission: &Submission) -> Result<Report, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(async {
        let mut connection = login(submission).await?;
        let info = connection.server_info();
        let features = [
            (Extension::EightBitMime, "8BITMIME"),
            (Extension::SmtpUtfEight, "SMTPUTF8"),
        ];
        let mechanisms = [
            (Mechanism::Plain, "AUTH=PLAIN"),
            (Mechanism::Login, "AUTH=LOGIN"),
            (Mechanism::Xoauth2, "AUTH=XOAUTH2"),
        ];
        let extensions = features
            .into_iter()
            .filter(|(feature, _)| info.supports_feature(*feature))
            .map(|(_, name)| name.to_string())
            .chain(
                mechanisms
                    .into_iter()
                    .filter(|(mechanism, _)| info.supports_auth_mechanism(*mechanism))
                    .map(|(_, name)| name.to_string()),
            )
            .collect();
        let _ = connection.quit().await;
        Ok(Report {
            tls: if submission.implicit_tls {
                "implicit TLS"
            } else {
                "STARTTLS"
            },
            extensions,
        })
    })
}

fn server(submission: &Submission) -> String {
    format!("smtp://{}:{}", submission.host, submission.port)
}

/// A connection over TLS, logged in.
async fn login(submission: &Submission) -> Result<AsyncSmtpConnection, Error> {
    let server = server(submission);
    let secret = submission.auth.secret().map_err(|secret| Error::Secret {
        server: server.clone(),
        secret,
    })?;
    let mut tls =
        TlsParameters::builder(submission.host.clone()).certificate_store(CertificateStore::None);
    for root in crate::tls::trusted_roots(submission.ca_file.as_deref())? {
        if let Ok(root) = Certificate::from_der(root.to_vec()) {
            tls = tls.add_root_certificate(root);
        }
    }
    let connect = |source| Error::Connect {
        server: server.clone(),
        source,
    };
    let tls = tls.build_rustls().map_err(connect)?;
    let hello = ClientId::default();
    let mut connection = AsyncSmtpConnection::connect_tokio1(
        (submission.host.as_str(), submission.port),
        Some(TIMEOUT),
        &hello,
        submission.implicit_tls.then(|| tls.clone()),
        None,
    )
    .await
    .map_err(connect)?;
    if !submission.implicit_tls {
        if !connection.can_starttls() {
            connection.abort().await;
            return Err(Error::PlainText { server });
        }
        connection.starttls(tls, &hello).await.map_err(connect)?;
    }
    if !connection.is_encrypted() {
        connection.abort().await;
        return Err(Error::PlainText { server });
    }
    let mechanisms: &[Mechanism] = match submission.auth {
        Auth::PasswordCommand(_) => &[Mechanism::Plain, Mechanism::Login],
        Auth::TokenCommand(_) => &[Mechanism::Xoauth2],
    };
    let credentials = Credentials::new(submission.user.clone(), secret.0.clone());
    if let Err(source) = connection.auth(mechanisms, &credentials).await {
        connection.abort().await;
        return Err(Error::Login { server, source });
    }
    Ok(connection)
}

async fn submit(
    submission: &Submission,
    envelope_from: &str,
    recipients: &[String],
    bytes: &[u8],
) -> Result<Vec<(String, Outcome)>, Error> {
    let from = envelope_from
        .parse::<lettre::Address>()
        .map_err(|_| Error::Sender(envelope_from.to_string()))?;
    let mut connection = login(submission).await?;
    let info = connection.server_info();
    let mut parameters = Vec::new();
    let utf8 = !envelope_from.is_ascii() || recipients.iter().any(|r| !r.is_ascii());
    if utf8 && info.supports_feature(Extension::SmtpUtfEight) {
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !bytes.is_ascii() {
        if !info.supports_feature(Extension::EightBitMime) {
            let _ = connection.quit().await;
            return Ok(everyone(
                recipients,
                Outcome::Refused {
                    code: "5.6.3".into(),
                    text: "the message has 8-bit data and the server does not offer 8BITMIME"
                        .into(),
                },
            ));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    if let Err(error) = connection.command(Mail::new(Some(from), parameters)).await {
        connection.abort().await;
        return Ok(everyone(recipients, outcome(&error)));
    }
    let mut outcomes: Vec<(String, Option<Outcome>)> = Vec::new();
    let mut lost = None;
    for recipient in recipients {
        if let Some(lost) = &lost {
            outcomes.push((recipient.clone(), Some(Clone::clone(lost))));
            continue;
        }
        let Ok(address) = recipient.parse::<lettre::Address>() else {
            outcomes.push((
                recipient.clone(),
                Some(Outcome::Refused {
                    code: "5.1.3".into(),
                    text: format!("{recipient:?} is not an email address"),
                }),
            ));
            continue;
        };
        match connection.command(Rcpt::new(address, Vec::new())).await {
            Ok(_) => outcomes.push((recipient.clone(), None)),
            Err(error) => {
                let refusal = outcome(&error);
                if error.status().is_none() {
                    lost = Some(refusal.clone());
                }
                outcomes.push((recipient.clone(), Some(refusal)));
            }
        }
    }
    let accepted = outcomes.iter().any(|(_, o)| o.is_none());
    let data = if !accepted || lost.is_some() {
        None
    } else {
        Some(match connection.command(Data).await {
            Ok(_) => connection.message(bytes).await,
            Err(error) => Err(error),
        })
    };
    let taken = match data {
        Some(Ok(_)) => Outcome::Accepted,
        Some(Err(error)) => outcome(&error),
        None => lost.unwrap_or_else(|| Outcome::Temporary {
            code: String::new(),
            text: "no recipient was accepted".into(),
        }),
    };
    if matches!(taken, Outcome::Accepted) {
        let _ = connection.quit().await;
    } else {
        connection.abort().await;
    }
    Ok(outcomes
        .into_iter()
        .map(|(recipient, outcome)| (recipient, outcome.unwrap_or_else(|| taken.clone())))
        .collect())
}

fn everyone(recipients: &[String], outcome: Outcome) -> Vec<(String, Outcome)> {
    recipients
        .iter()
        .map(|r| (r.clone(), outcome.clone()))
        .collect()
}

/// A failed command as an outcome: 5xx refused, 4xx or a lost connection temporary.
fn outcome(error: &lettre::transport::smtp::Error) -> Outcome {
    let text = std::error::Error::source(error)
        .map(ToString::to_string)
        .unwrap_or_else(|| error.to_string());
    let text: String = text.chars().filter(|c| !c.is_control()).take(300).collect();
    match error.status() {
        Some(status) => {
            let code = enhanced_code(&text).unwrap_or_else(|| status.to_string());
            let text = format!("{status} {text}");
            if error.is_permanent() {
                Outcome::Refused { code, text }
            } else {
                Outcome::Temporary { code, text }
            }
        }
        None => Outcome::Temporary {
            code: String::new(),
            text: format!("connection lost: {error}"),
        },
    }
}

/// The enhanced status code (RFC 3463, `5.1.1`) a reply text starts with.
fn enhanced_code(text: &str) -> Option<String> {
    let word = text.split_whitespace().next()?;
    let parts: Vec<&str> = word.split('.').collect();
    let valid = parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    valid.then(|| word.to_string())
}

/// Pipes the message to a sendmail-compatible command: `COMMAND -i -f FROM -- RECIPIENTS`,
/// with local (LF) line ends. Its exit status speaks for every recipient: 0 accepted,
/// 75 (EX_TEMPFAIL) temporary, anything else refused.
fn sendmail(
    command: &str,
    envelope_from: &str,
    recipients: &[String],
    bytes: &[u8],
) -> Result<Vec<(String, Outcome)>, Error> {
    use std::io::Write as _;
    let run_error = |source| Error::Sendmail {
        command: command.to_string(),
        source,
    };
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} \"$@\""))
        .arg("sendmail")
        .args(["-i", "-f", envelope_from, "--"])
        .args(recipients)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(run_error)?;
    let lf = bytes_with_lf(bytes);
    // A command that stops reading early reports why in its exit status.
    let _ = child.stdin.take().expect("piped stdin").write_all(&lf);
    let output = child.wait_with_output().map_err(run_error)?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let text: String = stderr
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect();
    let outcome = match output.status.code() {
        Some(0) => Outcome::Accepted,
        Some(75) => Outcome::Temporary {
            code: "75".into(),
            text,
        },
        code => Outcome::Refused {
            code: code.map_or_else(|| "signal".into(), |c| c.to_string()),
            text,
        },
    };
    Ok(everyone(recipients, outcome))
}

fn bytes_with_lf(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter().peekable();
    while let Some(&b) = iter.next() {
        if b == b'\r' && iter.peek() == Some(&&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_enhanced_status_code_is_read_from_the_reply() {
        assert_eq!(
            enhanced_code("5.1.1 <x@y>: user unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(enhanced_code("4.7.0 try later").as_deref(), Some("4.7.0"));
        assert_eq!(enhanced_code("user unknown"), None);
        assert_eq!(enhanced_code("5.1 short"), None);
    }

    #[test]
    fn sendmail_gets_the_envelope_and_lf_lines_and_its_status_speaks_for_everyone() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let command = format!(
            "f() {{ printf '%s\\n' \"$@\" > {0}.args; cat > {0}; }}; f",
            out.display()
        );
        let recipients = ["a@example.org".to_string(), "b@example.org".to_string()];
        let outcomes = deliver(
            &Transport::Sendmail(command),
            "me@example.com",
            &recipients,
            b"Subject: x\r\n\r\nhi\r\n",
        )
        .unwrap();
        assert!(outcomes.iter().all(|(_, o)| *o == Outcome::Accepted));
        assert_eq!(std::fs::read(&out).unwrap(), b"Subject: x\n\nhi\n");
        let args = std::fs::read_to_string(dir.path().join("out.args")).unwrap();
        assert_eq!(
            args.lines().collect::<Vec<_>>(),
            [
                "-i",
                "-f",
                "me@example.com",
                "--",
                "a@example.org",
                "b@example.org"
            ]
        );
        let outcomes = deliver(
            &Transport::Sendmail("cat >/dev/null; exit 75".into()),
            "me@example.com",
            &recipients,
            b"x",
        )
        .unwrap();
        assert!(matches!(outcomes[1].1, Outcome::Temporary { .. }));
        let outcomes = deliver(
            &Transport::Sendmail("cat >/dev/null; exit 67".into()),
            "me@example.com",
            &recipients,
            b"x",
        )
        .unwrap();
        assert!(matches!(&outcomes[0].1, Outcome::Refused { code, .. } if code == "67"));
    }
}
