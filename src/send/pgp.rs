//! PGP/MIME (RFC 3156) signed and encrypted mail with protected headers (RFC 9788) (built by
//! the wire side of `send`; this is its placeholder until that lands, with the agreed
//! signatures).

use super::mime::Outgoing;

/// Who a message is sealed for and by.
pub struct Seal<'a> {
    /// Every recipient's certificate (to, cc, bcc as applicable).
    pub recipients: Vec<&'a sequoia_openpgp::Cert>,
    /// With secret key material unlocked for signing.
    pub sender: &'a sequoia_openpgp::Cert,
    /// Add Autocrypt-Gossip for the others when there is more than one recipient.
    pub gossip: bool,
}

/// The error returned when a message cannot be sealed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("PGP/MIME is not built yet")]
    NotBuilt,
}

/// The message signed and encrypted to every recipient and the sender.
pub fn build_encrypted(_message: &Outgoing, _seal: &Seal) -> Result<Vec<u8>, Error> {
    Err(Error::NotBuilt)
}
