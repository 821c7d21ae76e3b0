//! Checks the OpenPGP signature of a message against the certificates the store knows:
//! PGP/MIME (RFC 3156 §5: the first part of multipart/signed, its line ends made CRLF, is
//! what was signed) and inline cleartext signatures (RFC 9580 §7). Only a signature over all
//! the message shows is checked: the root multipart/signed (or the root's only content), or
//! a text part that is one clearsigned block; [`crate::email`] reads which that is. The
//! outcome is `valid` (by a key bound, tofu or verified, to the From address), `by-other` (a
//! good signature by any other key: someone else's, or one in conflict), `invalid` (a key we
//! have says the bytes were changed, or the signature is malformed) or `unknown-key`.

use std::collections::BTreeSet;
use std::time::SystemTime;

use openpgp::cert::Cert;
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationError, VerificationHelper,
    VerifierBuilder,
};
use openpgp::policy::StandardPolicy;
use sequoia_openpgp as openpgp;

use crate::email::pgp_mime;
use crate::record::{SignatureFormat, SignatureState};
use crate::store::Store;

use super::{crypto, tofu};

/// The state of the OpenPGP signature over the whole of `raw` (a message, a decrypted
/// MIME entity, or decrypted inline text), sent as `from`; None when it carries none we can
/// check (S/MIME is not checked, nor a signature over one part only).
pub fn check(
    store: &Store,
    raw: &[u8],
    from: Option<&str>,
    now: SystemTime,
) -> Option<SignatureState> {
    let (signed, signature) = signed_parts(raw)?;
    let mut helper = Helper {
        store,
        bound: bound_keys(store, from),
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

/// The fingerprints bound (tofu or verified) to `from`; none when the store cannot say, so
/// that a failure never makes a signature the sender's.
pub(super) fn bound_keys(store: &Store, from: Option<&str>) -> BTreeSet<String> {
    from.and_then(|address| tofu::trusted_fingerprints(&store.db, address).ok())
        .unwrap_or_default()
}

/// What was signed and the signature: the signed entity (CRLF line ends) and the detached
/// signature of PGP/MIME, or the whole clearsigned block (with no separate data).
fn signed_parts(raw: &[u8]) -> Option<(Option<Vec<u8>>, Vec<u8>)> {
    // Decrypted inline text is the block itself, with no headers around it.
    if let Some(block) = std::str::from_utf8(raw)
        .ok()
        .and_then(pgp_mime::whole_clearsigned)
    {
        return Some((None, block.as_bytes().to_vec()));
    }
    let parsed = crate::email::parse(raw)?;
    match pgp_mime::structure(&parsed).signed? {
        SignatureFormat::PgpMime => {
            pgp_mime_parts(raw, &parsed).map(|(data, signature)| (Some(data), signature))
        }
        SignatureFormat::PgpInline => {
            pgp_mime::clearsigned_text(&parsed).map(|block| (None, block.as_bytes().to_vec()))
        }
        SignatureFormat::Smime => None,
    }
}

struct Helper<'a> {
    store: &'a Store,
    /// The keys bound to the From address ([`bound_keys`]).
    bound: BTreeSet<String>,
    outcome: Option<SignatureState>,
}

impl VerificationHelper for &mut Helper<'_> {
    fn get_certs(&mut self, ids: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(certs_for(self.store, ids))
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        self.outcome = outcome(self.outcome, structure, &self.bound);
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
/// one valid signature is enough. A good signature is `Valid` only when its certificate is
/// one of `bound`, the From address's keys.
pub(super) fn outcome(
    previous: Option<SignatureState>,
    structure: MessageStructure,
    bound: &BTreeSet<String>,
) -> Option<SignatureState> {
    // Better first.
    const RANK: [SignatureState; 4] = [
        SignatureState::Valid,
        SignatureState::ByOther,
        SignatureState::UnknownKey,
        SignatureState::Invalid,
    ];
    let rank = |state: &SignatureState| RANK.iter().position(|s| s == state).unwrap_or(RANK.len());
    let mut best = previous;
    for layer in structure {
        if let MessageLayer::SignatureGroup { results } = layer {
            for result in results {
                let state = match result {
                    Ok(good) if bound.contains(&good.ka.cert().fingerprint().to_hex()) => {
                        SignatureState::Valid
                    }
                    Ok(_) => SignatureState::ByOther,
                    Err(VerificationError::MissingKey { .. }) => SignatureState::UnknownKey,
                    Err(_) => SignatureState::Invalid,
                };
                if best.is_none_or(|best| rank(&state) < rank(&best)) {
                    best = Some(state);
                }
            }
        }
    }
    best
}

/// The signed bytes (CRLF line ends) and the signature of a message whose root (or the
/// root's only content, [`pgp_mime::top`]) is multipart/signed.
fn pgp_mime_parts(raw: &[u8], parsed: &mail_parser::Message<'_>) -> Option<(Vec<u8>, Vec<u8>)> {
    let part = parsed.parts.get(pgp_mime::top(parsed))?;
    let ct = mail_parser::MimeHeaders::content_type(part)?;
    let boundary = ct.attribute("boundary")?;
    let body = raw.get(part.offset_body as usize..part.offset_end as usize)?;
    let data = first_entity(body, boundary)?;
    let signature = part
        .sub_parts()?
        .get(1)
        .and_then(|id| parsed.part(*id))
        .map(|p| p.contents().to_vec())?;
    Some((crlf(data), signature))
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
