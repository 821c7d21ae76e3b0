//! Delivery by SMTP submission or a sendmail command, one outcome per recipient (built by
//! the wire side of `send`; this is its placeholder until that lands, with the agreed
//! signatures).

/// How mail leaves.
pub enum Transport {
    Submission(Submission),
    /// A sendmail-compatible command.
    Sendmail(String),
}

/// An SMTP submission server and how to log in.
pub struct Submission {
    pub host: String,
    pub port: u16,
    pub implicit_tls: bool,
    pub user: String,
    pub auth: crate::secret::Auth,
    pub ca_file: Option<std::path::PathBuf>,
}

/// What the server said of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    /// A 4xx, or the connection dropped: try again later.
    Temporary {
        code: String,
        text: String,
    },
    /// A 5xx: the server's enhanced status code and text.
    Refused {
        code: String,
        text: String,
    },
}

/// The error returned when nothing could be tried.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("sending mail is not built yet")]
    NotBuilt,
}

impl crate::fault::Fault for Error {}

/// Delivers `bytes` to `recipients`; one outcome per recipient, an error only when nothing
/// was tried.
pub fn deliver(
    _transport: &Transport,
    _envelope_from: &str,
    _recipients: &[String],
    _bytes: &[u8],
) -> Result<Vec<(String, Outcome)>, Error> {
    Err(Error::NotBuilt)
}
