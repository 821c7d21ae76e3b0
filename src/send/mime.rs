//! The RFC 5322 bytes of an outgoing message (built by the wire side of `send`; this is its
//! placeholder until that lands, with the agreed signatures).

use crate::record::Address;

/// A message to build: who, what, and the ids that thread it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outgoing {
    /// The user's identity.
    pub from: Address,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// Never written into headers.
    pub bcc: Vec<Address>,
    pub subject: String,
    pub text: String,
    pub attachments: Vec<std::path::PathBuf>,
    /// A Message-ID with its angle brackets.
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Chosen by the caller: stable per draft and channel.
    pub message_id: String,
    /// Seconds since the epoch.
    pub date: i64,
    /// The user's own certificate (public), for the Autocrypt header.
    pub autocrypt: Option<Vec<u8>>,
}

/// The error returned when a message cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("building mail is not built yet")]
    NotBuilt,
}

/// The message in clear: CRLF line ends, lines of at most 998 octets.
pub fn build_plain(_message: &Outgoing) -> Result<Vec<u8>, Error> {
    Err(Error::NotBuilt)
}
