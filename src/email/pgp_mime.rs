//! Reads encryption and signature structure: PGP/MIME (RFC 3156), inline PGP, S/MIME.

use crate::record::{Encryption, SignatureFormat};

pub(crate) fn structure(
    _message: &mail_parser::Message<'_>,
) -> (Encryption, Option<SignatureFormat>) {
    (Encryption::None, None)
}
