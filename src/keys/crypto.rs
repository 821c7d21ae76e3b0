//! OpenPGP certificates through sequoia-openpgp (RFC 9580, and RFC 4880 keys): reading them
//! armoured or binary, several at once, merging updates as OpenPGP says, and describing
//! them (algorithm, size, expiry, revocation, user ids). Bindings of addresses to them are
//! [`super::tofu`]'s job.

use std::time::SystemTime;

use openpgp::cert::amalgamation::ValidAmalgamation;
use openpgp::cert::{Cert, CertParser};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::types::RevocationStatus;
use sequoia_openpgp as openpgp;

use super::Error;

/// Every certificate in `bytes`, armoured or binary; a keyring of several is fine.
pub fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, Error> {
    let parser = CertParser::from_bytes(bytes).map_err(|e| Error::Certificate(e.to_string()))?;
    let certs: Vec<Cert> = parser
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    if certs.is_empty() {
        return Err(Error::Certificate("no OpenPGP certificate found".into()));
    }
    Ok(certs)
}

/// One certificate from its stored binary form.
pub fn from_stored(bytes: &[u8]) -> Result<Cert, Error> {
    Cert::from_bytes(bytes).map_err(|e| Error::Certificate(e.to_string()))
}

/// The binary form kept in the store: public parts only.
pub fn to_stored(cert: &Cert) -> Result<Vec<u8>, Error> {
    cert.clone()
        .strip_secret_key_material()
        .to_vec()
        .map_err(|e| Error::Certificate(e.to_string()))
}

/// The ASCII-armoured public certificate, as `sq` and `gpg` import it.
pub fn armored(cert: &Cert) -> Result<Vec<u8>, Error> {
    cert.armored()
        .to_vec()
        .map_err(|e| Error::Certificate(e.to_string()))
}

/// A new key for `user_id`: Ed25519 for certifying and signing, Cv25519 for encryption,
/// valid three years; its secret parts encrypted with `passphrase` when one is given.
/// Returns the key with its secret parts, binary.
pub fn generate(user_id: &str, passphrase: Option<&str>) -> Result<(Cert, Vec<u8>), Error> {
    use openpgp::cert::{CertBuilder, CipherSuite};
    let (cert, _revocation) = CertBuilder::general_purpose(Some(user_id))
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_password(passphrase.map(Into::into))
        .generate()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    let tsk = cert
        .as_tsk()
        .to_vec()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    Ok((cert, tsk))
}

/// The key with its secret parts, as the store keeps the user's own key, and whether a
/// passphrase protects them; none when `cert` carries no secret parts.
pub fn own_secret(cert: &Cert) -> Result<Option<(Vec<u8>, bool)>, Error> {
    if !cert.is_tsk() {
        return Ok(None);
    }
    let protected = cert
        .keys()
        .secret()
        .any(|ka| !ka.key().has_unencrypted_secret());
    let tsk = cert
        .as_tsk()
        .to_vec()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    Ok(Some((tsk, protected)))
}

/// The ASCII-armoured key with its secret parts (a backup, or for gpg and sq).
pub fn armored_secret(tsk: &[u8]) -> Result<Vec<u8>, Error> {
    from_stored(tsk)?
        .as_tsk()
        .armored()
        .to_vec()
        .map_err(|e| Error::Certificate(e.to_string()))
}

/// `old` updated with what `new` adds (new signatures, user ids, subkeys, revocations).
pub fn merge(old: Cert, new: Cert) -> Result<Cert, Error> {
    old.merge_public(new)
        .map_err(|e| Error::Certificate(e.to_string()))
}

/// What the certificate itself says of its validity at a time, for the binding's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Usable,
    Revoked,
    /// Valid under the standard policy, but past its expiry.
    Expired,
    /// Not valid under the standard policy at all: a weak algorithm, no valid binding
    /// signature.
    Invalid,
}

/// What a user needs to know of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Uppercase hex.
    pub fingerprint: String,
    pub user_ids: Vec<String>,
    /// The email addresses of the user ids that have a valid self-signature under the
    /// standard policy and are not revoked, lowercased: the only addresses the
    /// certificate binds, since anyone can add a user id without one.
    pub addresses: Vec<String>,
    /// `EdDSA`, `RSA`, …, of the primary key.
    pub algorithm: String,
    pub bits: Option<usize>,
    /// Seconds since the epoch when the certificate expires, if it does.
    pub expires: Option<i64>,
    pub revoked: bool,
    /// False when the certificate is revoked, expired, or no longer valid under the
    /// standard policy (weak algorithms) at `now`.
    pub usable: bool,
    pub validity: Validity,
}

/// Describes `cert` as of `now`.
pub fn summary(cert: &Cert, now: SystemTime) -> Summary {
    let policy = StandardPolicy::new();
    let primary = cert.primary_key();
    let key = primary.key();
    let valid = cert.with_policy(&policy, now).ok();
    let expires = valid
        .as_ref()
        .and_then(|v| v.primary_key().key_expiration_time())
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    let revoked = matches!(
        cert.revocation_status(&policy, now),
        RevocationStatus::Revoked(_)
    );
    let user_ids: Vec<String> = cert
        .userids()
        .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
        .collect();
    let mut addresses: Vec<String> = valid
        .iter()
        .flat_map(|v| v.userids())
        .filter(|u| !matches!(u.revocation_status(), RevocationStatus::Revoked(_)))
        .filter_map(|u| u.userid().email_normalized().ok().flatten())
        .collect();
    addresses.sort();
    addresses.dedup();
    let validity = match &valid {
        _ if revoked => Validity::Revoked,
        None => Validity::Invalid,
        Some(v) if v.alive().is_err() => Validity::Expired,
        Some(_) => Validity::Usable,
    };
    Summary {
        fingerprint: cert.fingerprint().to_hex(),
        user_ids,
        addresses,
        algorithm: format!("{}", key.pk_algo()),
        bits: key.mpis().bits(),
        expires,
        revoked,
        usable: validity == Validity::Usable,
        validity,
    }
}
