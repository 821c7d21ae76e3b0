//! Encrypted mail: RFC 3156 PGP/MIME, signed and encrypted in one pass (§6.2) with
//! sequoia-openpgp to every recipient and to the sender's own key, so the sent copy stays
//! readable. Sequoia picks the container: SEIPDv2 only when every recipient's certificate
//! advertises it, SEIPDv1 otherwise.
//!
//! The headers are protected as RFC 9788 says: the encrypted part carries the message's real
//! headers (`protected-headers="v1"`), with an `HP-Outer` line for each header left outside,
//! while the outside shows `Subject: [...]`. The user's Autocrypt header travels inside, where
//! only the recipients see it, and, to more than one recipient, an `Autocrypt-Gossip` header
//! for each visible recipient's key (Autocrypt Level 1 §2.7), so they can answer to all
//! encrypted. A Bcc recipient gets a message of their own ([`build_per_group`]): the others
//! never see their key id.

use std::io::Write as _;

use lettre::message::header::{ContentType, HeaderName, HeaderValue, Headers};
use lettre::message::{Body, MultiPart, SinglePart};
use openpgp::Cert;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::MarshalInto as _;
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Recipient, Signer};
use sequoia_openpgp as openpgp;

use super::mime::{self, Outgoing};
use crate::record::Address;

/// The Subject the outside of an encrypted message shows (RFC 9788 §4.1).
pub const HIDDEN_SUBJECT: &str = "[...]";

/// Who a message is sealed for, and by whom.
pub struct Seal<'a> {
    /// Every recipient's certificate (To, Cc, and Bcc as applicable).
    pub recipients: Vec<&'a Cert>,
    /// The user's certificate, with its signing key's secret unlocked.
    pub sender: &'a Cert,
    /// Add an Autocrypt-Gossip header for each visible recipient when there are several.
    pub gossip: bool,
}

/// The error returned when a message cannot be sealed; it names the certificate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Mime(#[from] mime::Error),
    #[error("certificate {0} has no usable encryption key")]
    NoEncryptionKey(String),
    #[error(
        "your certificate {0} has no unlocked signing key (generate one with `missive keys generate`)"
    )]
    NoSigningKey(String),
    #[error("no certificate for {0}")]
    NoCertificate(String),
    #[error("cannot encrypt: {0}")]
    Encrypt(String),
}

impl crate::fault::Fault for Error {}

/// The message sealed as PGP/MIME for `seal`'s recipients and the sender: CRLF, 7-bit,
/// lines of at most 998 octets (the ciphertext is ASCII-armoured).
pub fn build_encrypted(message: &Outgoing, seal: &Seal) -> Result<Vec<u8>, Error> {
    let mut outer = MultiPart::encrypted("application/pgp-encrypted".into())
        .singlepart(
            SinglePart::builder()
                .content_type(ContentType::parse("application/pgp-encrypted").expect("a type"))
                .header(ContentDescription("PGP/MIME version identification"))
                .body(Body::new("Version: 1\n".to_string())),
        )
        .singlepart(
            SinglePart::builder()
                .content_type(
                    ContentType::parse("application/octet-stream; name=\"encrypted.asc\"")
                        .expect("a type"),
                )
                .header(ContentDescription("OpenPGP encrypted message"))
                .body(Body::new(
                    String::from_utf8(ciphertext(message, seal)?)
                        .map_err(|_| Error::Encrypt("the armour is not text".into()))?,
                )),
        );
    let headers = outer.headers_mut();
    headers.set(lettre::message::header::MIME_VERSION_1_0);
    mime::write_headers(headers, message, HIDDEN_SUBJECT)?;
    Ok(outer.formatted())
}

/// One sealed message and the addresses it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub recipients: Vec<String>,
    pub bytes: Vec<u8>,
}

/// The encrypted messages a draft needs: one to its To and Cc recipients, and one for each
/// Bcc recipient alone, so that no recipient sees a Bcc recipient's key id. `certificate`
/// gives each address's certificate; one missing is an error naming the address.
pub fn build_per_group<'a>(
    message: &Outgoing,
    sender: &'a Cert,
    certificate: impl Fn(&str) -> Option<&'a Cert>,
    gossip: bool,
) -> Result<Vec<Sealed>, Error> {
    let certificates = |addresses: &[&Address]| -> Result<Vec<&'a Cert>, Error> {
        addresses
            .iter()
            .map(|a| certificate(&a.address).ok_or_else(|| Error::NoCertificate(a.address.clone())))
            .collect()
    };
    let visible: Vec<&Address> = message.to.iter().chain(&message.cc).collect();
    let groups = std::iter::once(visible)
        .chain(message.bcc.iter().map(|bcc| vec![bcc]))
        .filter(|group| !group.is_empty());
    groups
        .map(|group| {
            let seal = Seal {
                recipients: certificates(&group)?,
                sender,
                gossip,
            };
            Ok(Sealed {
                recipients: group.iter().map(|a| a.address.clone()).collect(),
                bytes: build_encrypted(message, &seal)?,
            })
        })
        .collect()
}

/// A `Content-Description` header.
#[derive(Clone)]
struct ContentDescription(&'static str);

impl lettre::message::header::Header for ContentDescription {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Description")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!("not parsed: {s}").into())
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.into())
    }
}

/// The protected payload (RFC 9788 §2.1): what the user wrote, under the message's real
/// headers, the `HP-Outer` record of the outside, and the Autocrypt headers.
fn payload(message: &Outgoing, seal: &Seal) -> Result<Vec<u8>, Error> {
    let mut content = mime::content(message)?;
    let content_type = content
        .headers()
        .get_raw("Content-Type")
        .map(|raw| format!("{raw}; protected-headers=\"v1\""))
        .expect("a multipart has a Content-Type");
    let headers = content.headers_mut();
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Content-Type"),
        content_type,
    ));
    mime::write_headers(headers, message, &message.subject)?;
    let mut extra = hp_outer(message)?;
    if let Some(key) = &message.autocrypt {
        extra.push(mime::autocrypt_header(
            "Autocrypt",
            &message.from.address,
            message.mutual,
            &mime::minimal_key(key, &message.from.address)?,
        ));
    }
    let visible: Vec<&Address> = message.to.iter().chain(&message.cc).collect();
    if seal.gossip && seal.recipients.len() > 1 {
        for address in visible {
            if let Some(cert) = seal.recipients.iter().find(|c| names(c, &address.address)) {
                let key = cert.to_vec().map_err(|e| Error::Encrypt(e.to_string()))?;
                extra.push(mime::autocrypt_header(
                    "Autocrypt-Gossip",
                    &address.address,
                    false,
                    &mime::minimal_key(&key, &address.address)?,
                ));
            }
        }
    }
    Ok(mime::with_headers(&extra, content.formatted()))
}

/// An `HP-Outer` header for each header the outside shows (RFC 9788 §2.2), so that a
/// reader can tell what was exposed.
fn hp_outer(message: &Outgoing) -> Result<Vec<HeaderValue>, Error> {
    let mut outer = Headers::new();
    mime::write_headers(&mut outer, message, HIDDEN_SUBJECT)?;
    let name = HeaderName::new_from_ascii_str("HP-Outer");
    Ok([
        "Date",
        "From",
        "To",
        "Cc",
        "Subject",
        "Message-ID",
        "In-Reply-To",
        "References",
    ]
    .into_iter()
    .filter_map(|field| {
        let value = outer.get_raw(field)?;
        Some(HeaderValue::new(name.clone(), format!("{field}: {value}")))
    })
    .collect())
}

/// Whether `cert` has a user id whose address is `address`.
fn names(cert: &Cert, address: &str) -> bool {
    let address = address.to_lowercase();
    cert.userids()
        .any(|u| u.userid().email_normalized().ok().flatten().as_deref() == Some(&address))
}

/// The payload signed by the sender and encrypted to every recipient and the sender, in one
/// pass, ASCII-armoured.
fn ciphertext(message: &Outgoing, seal: &Seal) -> Result<Vec<u8>, Error> {
    let payload = payload(message, seal)?;
    let policy = StandardPolicy::new();
    let encrypt = |e: anyhow::Error| Error::Encrypt(e.to_string());
    let signing = seal
        .sender
        .keys()
        .with_policy(&policy, None)
        .supported()
        .alive()
        .revoked(false)
        .for_signing()
        .unencrypted_secret()
        .next()
        .ok_or_else(|| Error::NoSigningKey(seal.sender.fingerprint().to_hex()))?;
    let signer = signing.key().clone().into_keypair().map_err(encrypt)?;
    let mut recipients: Vec<Recipient> = Vec::new();
    for cert in seal.recipients.iter().copied().chain([seal.sender]) {
        let keys: Vec<Recipient> = cert
            .keys()
            .with_policy(&policy, None)
            .supported()
            .alive()
            .revoked(false)
            .for_transport_encryption()
            .map(Into::into)
            .collect();
        if keys.is_empty() {
            return Err(Error::NoEncryptionKey(cert.fingerprint().to_hex()));
        }
        recipients.extend(keys);
    }
    let mut sink = Vec::new();
    let stream = Message::new(&mut sink);
    let stream = Armorer::new(stream).build().map_err(encrypt)?;
    let stream = Encryptor::for_recipients(stream, recipients)
        .build()
        .map_err(encrypt)?;
    let mut signer = Signer::new(stream, signer).map_err(encrypt)?;
    for cert in seal.recipients.iter().copied().chain([seal.sender]) {
        signer = signer.add_intended_recipient(cert);
    }
    let stream = signer.build().map_err(encrypt)?;
    let mut literal = LiteralWriter::new(stream).build().map_err(encrypt)?;
    literal
        .write_all(&payload)
        .map_err(|e| Error::Encrypt(e.to_string()))?;
    literal.finalize().map_err(encrypt)?;
    Ok(sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::cert::CertBuilder;
    use openpgp::parse::Parse as _;
    use openpgp::parse::stream::{
        DecryptionHelper, DecryptorBuilder, MessageStructure, VerificationHelper,
    };
    use openpgp::types::Features;

    fn address(address: &str) -> Address {
        Address {
            name: None,
            address: address.into(),
            group: None,
        }
    }

    fn cert(user_id: &str, features: Features) -> Cert {
        CertBuilder::general_purpose(Some(user_id))
            .set_features(features)
            .unwrap()
            .generate()
            .unwrap()
            .0
    }

    fn message() -> Outgoing {
        Outgoing {
            from: address("sam@example.com"),
            to: vec![address("alice@example.org")],
            cc: vec![address("bob@example.net")],
            bcc: vec![address("hidden@example.net")],
            subject: "the secret plan".into(),
            text: "meet at noon\n".into(),
            message_id: "<2@example.com>".into(),
            date: 1_704_103_200,
            ..Outgoing::default()
        }
    }

    /// Decrypts with `key`, recording the SEIPD version and whether the sender signed.
    struct Reader<'a> {
        key: &'a Cert,
        sender: &'a Cert,
        seipd: Option<u8>,
        signed: bool,
    }

    impl VerificationHelper for &mut Reader<'_> {
        fn get_certs(&mut self, _: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<Cert>> {
            Ok(vec![self.sender.clone()])
        }
        fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
            for layer in structure {
                if let openpgp::parse::stream::MessageLayer::SignatureGroup { results } = layer {
                    self.signed |= results.iter().any(Result::is_ok);
                }
            }
            Ok(())
        }
    }

    impl DecryptionHelper for &mut Reader<'_> {
        fn decrypt(
            &mut self,
            pkesks: &[openpgp::packet::PKESK],
            _: &[openpgp::packet::SKESK],
            sym_algo: Option<openpgp::types::SymmetricAlgorithm>,
            decrypt: &mut dyn FnMut(
                Option<openpgp::types::SymmetricAlgorithm>,
                &openpgp::crypto::SessionKey,
            ) -> bool,
        ) -> openpgp::Result<Option<Cert>> {
            let policy = StandardPolicy::new();
            self.seipd = Some(if pkesks[0].version() == 6 { 2 } else { 1 });
            for key in self
                .key
                .keys()
                .with_policy(&policy, None)
                .for_transport_encryption()
                .secret()
            {
                let mut pair = key.key().clone().into_keypair()?;
                for pkesk in pkesks {
                    if pkesk
                        .decrypt(&mut pair, sym_algo)
                        .is_some_and(|(algo, sk)| decrypt(algo, &sk))
                    {
                        return Ok(None);
                    }
                }
            }
            Err(anyhow::anyhow!("not for this key"))
        }
    }

    fn open(bytes: &[u8], key: &Cert, sender: &Cert) -> (String, Option<u8>, bool) {
        let parsed = mail_parser::MessageParser::default().parse(bytes).unwrap();
        let armored = parsed.part(2).unwrap().contents();
        let mut reader = Reader {
            key,
            sender,
            seipd: None,
            signed: false,
        };
        let policy = StandardPolicy::new();
        let mut decryptor = DecryptorBuilder::from_bytes(armored)
            .unwrap()
            .with_policy(&policy, None, &mut reader)
            .unwrap();
        let mut plain = Vec::new();
        std::io::copy(&mut decryptor, &mut plain).unwrap();
        drop(decryptor);
        (
            String::from_utf8(plain).unwrap(),
            reader.seipd,
            reader.signed,
        )
    }

    #[test]
    fn an_encrypted_message_hides_its_subject_and_opens_for_recipients_and_sender() {
        let sender = cert("Sam <sam@example.com>", Features::sequoia());
        let alice = cert("Alice <alice@example.org>", Features::empty().set_seipdv1());
        let bob = cert("Bob <bob@example.net>", Features::sequoia());
        let mut message = message();
        message.autocrypt = Some(sender.to_vec().unwrap());
        let seal = Seal {
            recipients: vec![&alice, &bob],
            sender: &sender,
            gossip: true,
        };
        let bytes = build_encrypted(&message, &seal).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("Subject: [...]\r\n"), "{text}");
        assert!(!text.contains("secret plan") && !text.contains("noon"));
        assert!(!text.contains("Autocrypt"), "the key travels inside");
        assert!(!text.to_lowercase().contains("hidden@"), "no Bcc: {text}");
        assert!(
            text.split("\r\n")
                .all(|l| l.len() <= 998 && !l.contains('\n'))
        );
        assert!(text.contains("multipart/encrypted"));
        for key in [&alice, &bob, &sender] {
            let (inner, seipd, signed) = open(&bytes, key, &sender);
            assert_eq!(seipd, Some(1), "Alice's key does not advertise SEIPDv2");
            assert!(signed, "signed in the same pass");
            assert!(inner.contains("protected-headers=\"v1\""), "{inner}");
            assert!(inner.contains("Subject: the secret plan\r\n"), "{inner}");
            assert!(inner.contains("HP-Outer: Subject: [...]\r\n"), "{inner}");
            assert!(inner.contains("Autocrypt: addr=sam@example.com; keydata="));
            assert_eq!(
                inner.matches("Autocrypt-Gossip: addr=").count(),
                2,
                "{inner}"
            );
            assert!(inner.contains("meet at noon"));
        }
    }

    #[test]
    fn every_recipient_advertising_seipdv2_gets_seipdv2() {
        let sender = cert("Sam <sam@example.com>", Features::sequoia());
        let bob = cert("Bob <bob@example.net>", Features::sequoia());
        let mut message = message();
        message.cc.clear();
        let seal = Seal {
            recipients: vec![&bob],
            sender: &sender,
            gossip: true,
        };
        let bytes = build_encrypted(&message, &seal).unwrap();
        let (inner, seipd, signed) = open(&bytes, &bob, &sender);
        assert_eq!(seipd, Some(2));
        assert!(signed);
        assert!(
            !inner.contains("Autocrypt-Gossip"),
            "one recipient: no gossip"
        );
    }

    #[test]
    fn a_bcc_recipient_gets_a_message_of_their_own() {
        let sender = cert("Sam <sam@example.com>", Features::sequoia());
        let alice = cert("Alice <alice@example.org>", Features::sequoia());
        let bob = cert("Bob <bob@example.net>", Features::sequoia());
        let hidden = cert("H <hidden@example.net>", Features::sequoia());
        let certs = [&alice, &bob, &hidden];
        let lookup = |address: &str| certs.iter().copied().find(|c| names(c, address));
        let sealed = build_per_group(&message(), &sender, lookup, true).unwrap();
        assert_eq!(sealed.len(), 2);
        assert_eq!(
            sealed[0].recipients,
            ["alice@example.org", "bob@example.net"]
        );
        assert_eq!(sealed[1].recipients, ["hidden@example.net"]);
        let armored = |bytes: &[u8]| {
            let parsed = mail_parser::MessageParser::default().parse(bytes).unwrap();
            parsed.part(2).unwrap().contents().to_vec()
        };
        let hidden_keys: Vec<openpgp::KeyHandle> =
            hidden.keys().map(|k| k.key().key_handle()).collect();
        let pile = openpgp::PacketPile::from_bytes(&armored(&sealed[0].bytes)).unwrap();
        let recipients: Vec<openpgp::KeyHandle> = pile
            .children()
            .filter_map(|p| match p {
                openpgp::Packet::PKESK(p) => p.recipient(),
                _ => None,
            })
            .collect();
        assert_eq!(recipients.len(), 3, "Alice, Bob and the sender");
        assert!(
            recipients
                .iter()
                .all(|r| hidden_keys.iter().all(|h| !r.aliases(h))),
            "{recipients:?}"
        );
        let (_, _, signed) = open(&sealed[1].bytes, &hidden, &sender);
        assert!(signed);
        let missing = build_per_group(&message(), &sender, |_| None, true).unwrap_err();
        assert!(
            missing.to_string().contains("alice@example.org"),
            "{missing}"
        );
    }
}
