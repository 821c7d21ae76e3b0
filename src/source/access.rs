//! What the remote sources — IMAP ([`super::imap`]) and Mastodon ([`super::mastodon`]) —
//! share in an account's settings: how the connection is protected ([`Tls`]; plain text only
//! when the account says `insecure = true`), the certificates trusted besides the platform's
//! (`ca_file`), where the secret comes from ([`Auth`]), and the account's name for errors.
//! Both check and use them here, the same way; a source only says, in a [`Protocol`], what
//! its refusals are to name. Filling them from the config is [`super::account`]'s job.

use std::path::PathBuf;

use crate::secret::{Auth, Secret};
use crate::tls::Tls;

/// The error returned when an account's settings allow no connection; the source's own
/// error puts the account before it. It names a command, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "refusing plain-text {}, which shows {} to the network; set insecure = true in the account to allow it",
        .0.name,
        .0.exposes
    )]
    PlainText(Protocol),
    /// No secret command, or one that gave no secret.
    #[error("{0}")]
    Secret(String),
    #[error(transparent)]
    Tls(#[from] crate::tls::Error),
}

/// What a source's refusals name: the protocol that would go in plain text, what it would
/// show, and what an account without a secret lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol {
    pub name: &'static str,
    pub exposes: &'static str,
    pub no_secret: &'static str,
}

/// How to reach a remote account and log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub tls: Tls,
    pub insecure: bool,
    /// PEM certificates trusted besides the platform's roots.
    pub ca_file: Option<PathBuf>,
    pub auth: Option<Auth>,
    /// The configured account's name, to name it in errors.
    pub account: Option<String>,
}

impl Access {
    /// The settings of a source named by a URI, before any account's: `tls`, nothing else.
    pub fn new(tls: Tls) -> Access {
        Access {
            tls,
            insecure: false,
            ca_file: None,
            auth: None,
            account: None,
        }
    }

    /// The account and server as errors name them: `account NAME (KEY)`, or the source's
    /// key alone.
    pub fn label(&self, key: String) -> String {
        match &self.account {
            Some(name) => format!("account {name} ({key})"),
            None => key,
        }
    }

    /// Checks what can be checked without the network: TLS or `insecure`, and a secret.
    pub fn check(&self, protocol: Protocol) -> Result<(), Error> {
        if self.tls == Tls::None && !self.insecure {
            return Err(Error::PlainText(protocol));
        }
        if self.auth.is_none() {
            return Err(Error::Secret(protocol.no_secret.into()));
        }
        Ok(())
    }

    /// The secret the account's command prints ([`crate::secret`]).
    pub(crate) fn secret(&self, protocol: Protocol) -> Result<Secret, Error> {
        match &self.auth {
            Some(auth) => auth.secret().map_err(Error::Secret),
            None => Err(Error::Secret(protocol.no_secret.into())),
        }
    }

    /// The TLS client setup, trusting `ca_file` besides the platform's roots.
    pub fn tls_config(&self) -> Result<rustls::ClientConfig, Error> {
        Ok(crate::tls::client_config(self.ca_file.as_deref())?)
    }
}
