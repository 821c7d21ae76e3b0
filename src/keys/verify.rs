//! Checks the OpenPGP signature of a message against the certificates the store knows:
//! PGP/MIME (RFC 3156 §5: the first part of multipart/signed, its line ends made CRLF, is
//! what was signed) and inline cleartext signatures (RFC 9580 §7). The outcome is `valid`,
//! `invalid` (a key we have says the bytes were changed, or the signature is malformed) or
//! `unknown-key`. Which parts are signed was read by [`crate::email`].

use std::time::SystemTime;

use openpgp::cert::Cert;
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationError, VerificationHelper,
    VerifierBuilder,
};
use openpgp::policy::StandardPolicy;
use sequoia_openpgp as openpgp;

use crate::record::SignatureState;
use crate::store::Store;

use super::crypto;

/// The state of the first OpenPGP signature in `raw`, or None when it carries none we can
/// check (S/MIME is not checked).
pub fn check(store: &Store, raw: &[u8], now: SystemTime) -> Option<SignatureState> {
    let (signed, signature) = pgp_mime_parts(raw)
        .map(|(data, sig)| (Some(data), sig))
        .or_else(|| cleartext_block(raw).map(|block| (None, block)))?;
    let mut helper = Helper {
        store,
        outcome: None,
    };
    let policy = StandardPolicy::new();
    let ran = match signed {
        Some(data) => DetachedVerifierBuilder::from_bytes(&signature)
            .and_then(|b| b.with_policy(&policy, now, &mut helper))
            .and_then(|mut v| v.verify_bytes(&data)),
        None => VerifierBuilder::from_bytes(&signature)
            .and_then(|b| b.with_policy(&policy, now, &mut helper))
            .and_then(|mut v| {
                std::io::copy(&mut v, &mut std::io::sink())
                    .map(|_| ())
                    .map_err(Into::into)
            }),
    };
    match (ran, helper.outcome) {
        (_, Some(outcome)) => Some(outcome),
        (Err(_), None) => Some(SignatureState::Invalid),
        (Ok(()), None) => None,
    }
}

struct Helper<'a> {
    store: &'a Store,
    outcome: Option<SignatureState>,
}

impl VerificationHelper for &mut Helper<'_> {
    fn get_certs(&mut self, ids: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(certs_for(self.store, ids))
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        self.outcome = outcome(self.outcome, structure);
        Ok(())
    }
}

/// The stored certificates that hold a key `ids` names.
pub(super) fn certs_for(store: &Store, ids: &[openpgp::KeyHandle]) -> Vec<Cert> {
    let mut certs = Vec::new();
    for fingerprint in store.db.cert_fingerprints().unwrap_or_default() {
        let Ok(Some(data)) = store.db.cert(&fingerprint) else {
            continue;
        };
        let Ok(cert) = crypto::from_stored(&data) else {
            continue;
        };
        if cert
            .keys()
            .any(|k| ids.iter().any(|id| id.aliases(k.key().key_handle())))
        {
            certs.push(cert);
        }
    }
    certs
}

/// `previous` with the signature groups of `structure` counted: the best outcome wins, as
/// one valid signature is enough.
pub(super) fn outcome(
    previous: Option<SignatureState>,
    structure: MessageStructure,
) -> Option<SignatureState> {
    let mut best = previous;
    for layer in structure {
        if let MessageLayer::SignatureGroup { results } = layer {
            for result in results {
                let state = match result {
                    Ok(_) => SignatureState::Valid,
                    Err(VerificationError::MissingKey { .. }) => SignatureState::UnknownKey,
                    Err(_) => SignatureState::Invalid,
                };
                best = Some(match (best, state) {
                    (Some(SignatureState::Valid), _) | (_, SignatureState::Valid) => {
                        SignatureState::Valid
                    }
                    (Some(SignatureState::UnknownKey), _) | (_, SignatureState::UnknownKey) => {
                        SignatureState::UnknownKey
                    }
                    _ => SignatureState::Invalid,
                });
            }
        }
    }
    best
}

/// The signed bytes (CRLF line ends) and the signature of a multipart/signed message.
fn pgp_mime_parts(raw: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let parsed = crate::email::parse(raw)?;
    for part in &parsed.parts {
        let Some(ct) = mail_parser::MimeHeaders::content_type(part) else {
            continue;
        };
        let signed = ct.c_type.eq_ignore_ascii_case("multipart")
            && ct
                .c_subtype
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("signed"))
            && ct
                .attribute("protocol")
                .is_some_and(|p| p.eq_ignore_ascii_case("application/pgp-signature"));
        if !signed {
            continue;
        }
        let boundary = ct.attribute("boundary")?;
        let body = raw.get(part.offset_body as usize..part.offset_end as usize)?;
        let data = first_entity(body, boundary)?;
        let signature = part
            .sub_parts()?
            .get(1)
            .and_then(|id| parsed.part(*id))
            .map(|p| p.contents().to_vec())?;
        return Some((crlf(data), signature));
    }
    None
}

/// The first body part of a multipart body: after the first delimiter line, up to the line
/// end before the next delimiter (RFC 2046 §5.1.1).
fn first_entity<'b>(body: &'b [u8], boundary: &str) -> Option<&'b [u8]> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut lines = Vec::new();
    let mut at = 0;
    while at < body.len() {
        let end = memchr::memchr(b'\n', &body[at..]).map_or(body.len(), |i| at + i + 1);
        lines.push((at, end));
        at = end;
    }
    let is_delimiter = |&(start, end): &(usize, usize)| body[start..end].starts_with(delimiter);
    let first = lines.iter().position(is_delimiter)?;
    let start = lines[first].1;
    let next = lines[first + 1..].iter().position(is_delimiter)? + first + 1;
    let mut end = lines[next].0;
    // The line end before the delimiter belongs to the delimiter.
    if body[..end].ends_with(b"\r\n") {
        end -= 2;
    } else if body[..end].ends_with(b"\n") {
        end -= 1;
    }
    body.get(start..end.max(start))
}

/// Line ends made CRLF, as OpenPGP signs MIME entities.
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 40);
    let mut previous = 0u8;
    for &byte in data {
        if byte == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(byte);
        previous = byte;
    }
    out
}

/// The cleartext-signed block of a message body, from its BEGIN line to its END line.
fn cleartext_block(raw: &[u8]) -> Option<Vec<u8>> {
    let begin = memchr::memmem::find(raw, b"-----BEGIN PGP SIGNED MESSAGE-----")?;
    let end_marker = b"-----END PGP SIGNATURE-----";
    let end = memchr::memmem::find(&raw[begin..], end_marker)? + begin + end_marker.len();
    Some(raw[begin..end].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_entity_excludes_the_line_end_before_the_next_delimiter() {
        let body =
            b"preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nsig\r\n--b--\r\n";
        assert_eq!(
            first_entity(body, "b"),
            Some(&b"Content-Type: text/plain\r\n\r\nhi"[..])
        );
        let lf = b"--b\nA: 1\n\nx\n\n--b\ny\n--b--\n";
        assert_eq!(first_entity(lf, "b"), Some(&b"A: 1\n\nx\n"[..]));
        assert_eq!(first_entity(b"--b\nonly one part", "b"), None);
    }

    #[test]
    fn bare_line_feeds_become_crlf_and_crlf_stays() {
        assert_eq!(crlf(b"a\nb\r\nc\n"), b"a\r\nb\r\nc\r\n");
    }
}
