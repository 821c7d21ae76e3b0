//! Decrypts mail with the user's own key: PGP/MIME (RFC 3156 §4: the second part of
//! multipart/encrypted) and inline PGP (an armoured `PGP MESSAGE` in a text part). What
//! decryption reveals is a [`Decrypted`]: the signature inside, checked against the store
//! (signed and encrypted in one OpenPGP message, RFC 3156 §6.2, or a multipart/signed
//! entity inside, §6.1, through [`super::verify`](mod@super::verify)), the text and
//! attachments, and the Autocrypt-Gossip headers and protected recipients of the payload
//! (Autocrypt Level 1 §3), which [`super::autocrypt::learn_gossip`] applies when the
//! signature is the sender's. [`decrypt_in_place`] is the step
//! `score --decrypt` and `sync` take before scoring a message.
//!
//! The secret keys stay locked until a message is encrypted to one of them: the passphrase
//! is asked for then, once a run, and never kept anywhere but in memory.

use std::collections::BTreeMap;
use std::time::SystemTime;

use openpgp::crypto::{KeyPair, Password, SessionKey};
use openpgp::packet::key::{SecretParts, UnspecifiedRole};
use openpgp::packet::{Key, PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper,
};
use openpgp::policy::StandardPolicy;
use openpgp::types::SymmetricAlgorithm;
use openpgp::{Cert, KeyHandle};
use sequoia_openpgp as openpgp;

use crate::record::{
    Address, Attachment, Autocrypt, Encryption, ErrorRecord, Message, SignatureFormat,
    SignatureState,
};
use crate::store::Store;

use super::{crypto, verify};

/// Where the passphrase of a protected key comes from: called with the key's fingerprint,
/// it gives the passphrase or says why there is none. The binary runs the config's
/// `passphrase_command` or prompts on the terminal.
pub type Passphrase = Box<dyn FnMut(&str) -> Result<String, String> + Send>;

/// The error returned when a message cannot be decrypted; it never holds the passphrase.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no key of your own to decrypt with (missive keys generate)")]
    NoOwnKey,
    #[error("encrypted to other keys ({})", recipients.join(", "))]
    NotForUs { recipients: Vec<String> },
    #[error("no passphrase for key {fingerprint}: {reason}")]
    NoPassphrase { fingerprint: String, reason: String },
    #[error("the passphrase does not unlock key {fingerprint}")]
    WrongPassphrase { fingerprint: String },
    #[error("cannot decrypt: {0}")]
    Malformed(String),
    #[error(
        "the plaintext is larger than {} MiB, the limit ([limits] unpacked_mib in the config): not decrypted",
        limit >> 20
    )]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Keys(#[from] super::Error),
}

/// What decryption revealed of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct Decrypted {
    /// The text: the decrypted entity's text bodies, or the message's text with the
    /// armoured block replaced by its plaintext.
    pub text: String,
    /// The attachments inside (PGP/MIME).
    pub attachments: Vec<Attachment>,
    /// The Subject of the payload's own header (protected headers, as Thunderbird and
    /// Delta Chat write them, with a placeholder outside).
    pub subject: Option<String>,
    /// How the plaintext is signed, if it is.
    pub signed: Option<SignatureFormat>,
    pub signature: SignatureState,
    /// Autocrypt-Gossip headers of the payload: canonical address and key data.
    pub gossip: Vec<(String, Vec<u8>)>,
    /// The To and Cc of the payload's own header (protected headers): the recipients the
    /// signed payload names, the only ones gossip may be about.
    pub recipients: Vec<String>,
    /// The payload's Autocrypt header for the From address, kept only when one signature,
    /// valid by the key bound to that address, covers the whole payload: the sender's own
    /// words, proven. Unsigned, it would be anyone's claim in the sender's name.
    pub autocrypt: Option<Autocrypt>,
}

impl Decrypted {
    /// Puts what decryption revealed into the record: that it was decrypted and the
    /// signature always, and the proven Autocrypt header inside when the outside has
    /// none; the text, attachments and protected subject only when `reveal` (the config's
    /// `index.decrypted`), as the record goes on to the index. `encryption` stays: the
    /// message was encrypted on its way.
    pub fn fill(self, message: &mut Message, reveal: bool) {
        message.security.decrypted = true;
        if self.signed.is_some() {
            message.security.signed = self.signed;
            message.security.signature = self.signature;
        }
        if message.security.autocrypt.is_none() {
            message.security.autocrypt = self.autocrypt;
        }
        if reveal {
            message.text = self.text;
            message.attachments = self.attachments;
            if self.subject.is_some() {
                message.subject = self.subject;
            }
        }
    }
}

/// The user's own secret keys, unlocked on first use.
pub struct OwnKeys {
    certs: Vec<Cert>,
    passphrase: Passphrase,
    /// The passphrase's answer, asked for once a run.
    asked: Option<Result<Password, String>>,
    unlocked: BTreeMap<String, KeyPair>,
    /// The most bytes one message may decrypt to ([`crate::config::Limits`]).
    limit: u64,
}

impl OwnKeys {
    /// The own keys in the store; [`Error::NoOwnKey`] when there is none. A message whose
    /// plaintext is larger than `limit` bytes is refused ([`Error::TooLarge`]), counted as
    /// it is decrypted (and decompressed), so a small message cannot take all memory.
    pub fn load(store: &Store, passphrase: Passphrase, limit: u64) -> Result<OwnKeys, Error> {
        let certs = store
            .db
            .own_keys()
            .map_err(super::Error::from)?
            .iter()
            .map(|(_, tsk, _)| crypto::from_stored(tsk))
            .collect::<Result<Vec<_>, _>>()?;
        if certs.is_empty() {
            return Err(Error::NoOwnKey);
        }
        Ok(OwnKeys {
            certs,
            passphrase,
            asked: None,
            unlocked: BTreeMap::new(),
            limit,
        })
    }

    /// Own keys whose secrets are already unlocked (`send` holds the sender's key unlocked
    /// to sign with): nothing is asked. `limit` as for [`OwnKeys::load`].
    pub fn unlocked(certs: Vec<Cert>, limit: u64) -> OwnKeys {
        OwnKeys {
            certs,
            passphrase: Box::new(|_| Err("the key was given unlocked".into())),
            asked: None,
            unlocked: BTreeMap::new(),
            limit,
        }
    }

    /// Our secret (sub)keys of an encryption algorithm that `recipient` names (every one
    /// for a wildcard recipient). Expired keys count: old mail stays readable.
    fn candidates(&self, recipient: Option<&KeyHandle>) -> Vec<Key<SecretParts, UnspecifiedRole>> {
        self.certs
            .iter()
            .flat_map(|cert| cert.keys().secret())
            .filter(|ka| ka.key().pk_algo().for_encryption())
            .filter(|ka| recipient.is_none_or(|r| r.aliases(ka.key().key_handle())))
            .map(|ka| ka.key().clone().role_into_unspecified())
            .collect()
    }

    /// The key pair of `key`, unlocking it with the passphrase when it is protected.
    fn keypair(&mut self, key: Key<SecretParts, UnspecifiedRole>) -> Result<&mut KeyPair, Error> {
        let fingerprint = key.fingerprint().to_hex();
        if !self.unlocked.contains_key(&fingerprint) {
            let key = if key.has_unencrypted_secret() {
                key
            } else {
                let password = self
                    .asked
                    .get_or_insert_with(|| (self.passphrase)(&fingerprint).map(Password::from))
                    .clone()
                    .map_err(|reason| Error::NoPassphrase {
                        fingerprint: fingerprint.clone(),
                        reason,
                    })?;
                key.decrypt_secret(&password)
                    .map_err(|_| Error::WrongPassphrase {
                        fingerprint: fingerprint.clone(),
                    })?
            };
            let pair = key
                .into_keypair()
                .map_err(|e| Error::Malformed(e.to_string()))?;
            self.unlocked.insert(fingerprint.clone(), pair);
        }
        self.unlocked
            .get_mut(&fingerprint)
            .ok_or_else(|| Error::Malformed("key pair lost".into()))
    }
}

/// Decrypts `raw` when `message` says it is encrypted (PGP/MIME or inline PGP); None for
/// other messages.
pub fn decrypt(
    store: &Store,
    keys: &mut OwnKeys,
    message: &Message,
    raw: &[u8],
    now: SystemTime,
) -> Result<Option<Decrypted>, Error> {
    let from = message.from.as_ref().map(|a| a.address.as_str());
    match message.security.encryption {
        Encryption::PgpMime => pgp_mime(store, keys, raw, from, now).map(Some),
        Encryption::PgpInline => inline(store, keys, message, raw, now).map(Some),
        _ => Ok(None),
    }
}

/// Whether `message` is encrypted the way [`decrypt`] opens: PGP/MIME or inline PGP.
pub fn is_encrypted(message: &Message) -> bool {
    matches!(
        message.security.encryption,
        Encryption::PgpMime | Encryption::PgpInline
    )
}

/// Decrypts an encrypted `message` in place before it is scored, as `score --decrypt` and
/// `sync` do: `raw` is its raw bytes read back from where it came, and what decryption
/// reveals goes into the record by [`Decrypted::fill`] (`reveal`: the config's
/// `index.decrypted`). A message that is not encrypted is left alone. One whose bytes could
/// not be read, or that cannot be decrypted, is left as it was, and the error record to
/// report comes back: scoring goes on without its plaintext.
pub fn decrypt_in_place(
    store: &Store,
    keys: &mut OwnKeys,
    message: &mut Message,
    raw: Result<&[u8], &std::io::Error>,
    reveal: bool,
    now: SystemTime,
) -> Option<ErrorRecord> {
    if !is_encrypted(message) {
        return None;
    }
    let decrypted = raw
        .map_err(|e| format!("cannot read the raw message: {e}"))
        .and_then(|raw| decrypt(store, keys, message, raw, now).map_err(|e| e.to_string()));
    match decrypted {
        Ok(found) => {
            if let Some(decrypted) = found {
                decrypted.fill(message, reveal);
            }
            None
        }
        Err(error) => {
            let location = message.source.path.clone();
            let mut report =
                ErrorRecord::new(location.unwrap_or_else(|| message.id.clone()), error);
            report.message_id = Some(message.native_id.clone());
            Some(report)
        }
    }
}

/// A multipart/encrypted message: its payload is a MIME entity, read as a message is.
fn pgp_mime(
    store: &Store,
    keys: &mut OwnKeys,
    raw: &[u8],
    from: Option<&str>,
    now: SystemTime,
) -> Result<Decrypted, Error> {
    let ciphertext = pgp_mime_payload(raw)
        .ok_or_else(|| Error::Malformed("no encrypted part in multipart/encrypted".into()))?;
    let (entity, combined) = open(store, keys, &ciphertext, from, now)?;
    let inner = crate::email::read(&entity);
    // A multipart/signed entity inside signs its first part, not its own headers: only a
    // signature over the whole payload vouches for an Autocrypt header there.
    let autocrypt = match (combined, from) {
        (Some(SignatureState::Valid), Some(from)) => {
            let from = Address {
                name: None,
                address: from.to_string(),
                group: None,
            };
            crate::email::autocrypt_header(&entity, Some(&from))
        }
        _ => None,
    };
    let (signed, signature) = match (combined, inner.security.signed) {
        (Some(state), _) => (Some(SignatureFormat::PgpMime), state),
        (None, Some(format @ (SignatureFormat::PgpMime | SignatureFormat::PgpInline))) => (
            Some(format),
            verify::check(store, &entity, from, now).unwrap_or(SignatureState::Unverified),
        ),
        (None, other) => (other, inner.security.signature),
    };
    Ok(Decrypted {
        text: inner.text,
        attachments: inner.attachments,
        subject: inner.subject,
        signed,
        signature,
        gossip: crate::email::autocrypt_gossip(&entity),
        recipients: inner
            .to
            .iter()
            .chain(&inner.cc)
            .map(|a| a.address.clone())
            .collect(),
        autocrypt,
    })
}

/// An armoured message in a text part: the text with the block replaced by its plaintext.
fn inline(
    store: &Store,
    keys: &mut OwnKeys,
    message: &Message,
    raw: &[u8],
    now: SystemTime,
) -> Result<Decrypted, Error> {
    let text = if message.text.contains(BEGIN) {
        message.text.clone()
    } else {
        crate::email::read(raw).text
    };
    let (start, end) =
        armoured_block(&text).ok_or_else(|| Error::Malformed("no PGP MESSAGE block".into()))?;
    let from = message.from.as_ref().map(|a| a.address.as_str());
    let (plaintext, combined) = open(store, keys, &text.as_bytes()[start..end], from, now)?;
    let (signed, signature) = match combined {
        Some(state) => (Some(SignatureFormat::PgpInline), state),
        None => match verify::check(store, &plaintext, from, now) {
            Some(state) => (Some(SignatureFormat::PgpInline), state),
            None => (None, SignatureState::None),
        },
    };
    Ok(Decrypted {
        text: format!(
            "{}{}{}",
            &text[..start],
            String::from_utf8_lossy(&plaintext),
            &text[end..]
        ),
        attachments: message.attachments.clone(),
        subject: None,
        signed,
        signature,
        gossip: Vec::new(),
        recipients: Vec::new(),
        autocrypt: None,
    })
}

const BEGIN: &str = "-----BEGIN PGP MESSAGE-----";
const END: &str = "-----END PGP MESSAGE-----";

/// The byte range of the first armoured PGP MESSAGE in `text`.
fn armoured_block(text: &str) -> Option<(usize, usize)> {
    let start = text.find(BEGIN)?;
    let end = text[start..].find(END)? + start + END.len();
    Some((start, end))
}

/// The second part of the first multipart/encrypted part: the OpenPGP message.
fn pgp_mime_payload(raw: &[u8]) -> Option<Vec<u8>> {
    let parsed = crate::email::parse(raw)?;
    let encrypted = parsed.parts.iter().find(|part| {
        mail_parser::MimeHeaders::content_type(*part).is_some_and(|ct| {
            ct.c_type.eq_ignore_ascii_case("multipart")
                && ct
                    .c_subtype
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("encrypted"))
        })
    })?;
    let id = *encrypted.sub_parts()?.get(1)?;
    Some(parsed.part(id)?.contents().to_vec())
}

/// Decrypts one OpenPGP message: the plaintext, and the state of a signature inside it
/// (valid only by a key bound to `from`).
fn open(
    store: &Store,
    keys: &mut OwnKeys,
    ciphertext: &[u8],
    from: Option<&str>,
    now: SystemTime,
) -> Result<(Vec<u8>, Option<SignatureState>), Error> {
    let policy = StandardPolicy::new();
    let limit = keys.limit;
    let mut helper = Helper {
        store,
        keys,
        bound: verify::bound_keys(store, from),
        failure: None,
        outcome: None,
    };
    let opened = DecryptorBuilder::from_bytes(ciphertext)
        .and_then(|builder| builder.with_policy(&policy, now, &mut helper))
        .and_then(|mut decryptor| {
            let mut plaintext = Vec::new();
            std::io::copy(
                &mut std::io::Read::take(&mut decryptor, limit.saturating_add(1)),
                &mut plaintext,
            )?;
            Ok(plaintext)
        });
    match (opened, helper.failure) {
        (Ok(plaintext), _) if plaintext.len() as u64 > limit => Err(Error::TooLarge { limit }),
        (Ok(plaintext), _) => Ok((plaintext, helper.outcome)),
        (Err(_), Some(failure)) => Err(failure),
        (Err(error), None) => Err(Error::Malformed(error.to_string())),
    }
}

struct Helper<'a> {
    store: &'a Store,
    keys: &'a mut OwnKeys,
    /// The keys bound to the From address, whose signatures alone are `Valid`.
    bound: std::collections::BTreeSet<String>,
    /// Why no session key could be had, when that is why decryption failed.
    failure: Option<Error>,
    outcome: Option<SignatureState>,
}

impl VerificationHelper for &mut Helper<'_> {
    fn get_certs(&mut self, ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(verify::certs_for(self.store, ids))
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        self.outcome = verify::outcome(self.outcome, structure, &self.bound);
        Ok(())
    }
}

impl DecryptionHelper for &mut Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        let mut failure = None;
        for pkesk in pkesks {
            let recipient = pkesk.recipient();
            for key in self.keys.candidates(recipient.as_ref()) {
                let fingerprint = key.fingerprint();
                let pair = match self.keys.keypair(key) {
                    Ok(pair) => pair,
                    Err(error) => {
                        failure.get_or_insert(error);
                        continue;
                    }
                };
                if pkesk
                    .decrypt(pair, sym_algo)
                    .is_some_and(|(algo, session_key)| decrypt(algo, &session_key))
                {
                    let cert = self
                        .keys
                        .certs
                        .iter()
                        .find(|c| c.keys().any(|k| k.key().fingerprint() == fingerprint))
                        .map(|c| c.clone().strip_secret_key_material());
                    return Ok(cert);
                }
            }
        }
        self.failure = Some(failure.unwrap_or_else(|| {
            Error::NotForUs {
                recipients: pkesks
                    .iter()
                    .map(|p| p.recipient().map_or("anyone".into(), |r| r.to_hex()))
                    .collect(),
            }
        }));
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decrypted() -> Decrypted {
        Decrypted {
            text: "the secret".into(),
            attachments: vec![Attachment {
                filename: Some("plan.pdf".into()),
                content_type: "application/pdf".into(),
                size: 9,
            }],
            subject: None,
            signed: Some(SignatureFormat::PgpMime),
            signature: SignatureState::Valid,
            gossip: Vec::new(),
            recipients: Vec::new(),
            autocrypt: None,
        }
    }

    #[test]
    fn the_text_and_attachments_inside_are_filled_in_only_when_revealed() {
        let mut message = Message {
            text: "outside".into(),
            ..Message::default()
        };
        message.security.encryption = Encryption::PgpMime;
        decrypted().fill(&mut message, false);
        assert!(message.security.decrypted);
        assert_eq!(message.security.signature, SignatureState::Valid);
        assert_eq!(message.security.encryption, Encryption::PgpMime);
        assert_eq!(
            (message.text.as_str(), message.attachments.len()),
            ("outside", 0)
        );
        decrypted().fill(&mut message, true);
        assert_eq!(message.text, "the secret");
        assert_eq!(message.attachments[0].filename.as_deref(), Some("plan.pdf"));
    }

    #[test]
    fn the_armoured_block_spans_begin_to_end_lines() {
        let text = "Hi\n-----BEGIN PGP MESSAGE-----\n\nabc\n-----END PGP MESSAGE-----\nBye\n";
        let (start, end) = armoured_block(text).unwrap();
        assert_eq!(&text[..start], "Hi\n");
        assert_eq!(&text[end..], "\nBye\n");
        assert_eq!(armoured_block("-----BEGIN PGP MESSAGE-----\nno end"), None);
    }
}
