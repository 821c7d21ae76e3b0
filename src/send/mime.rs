//! The RFC 5322 bytes of an outgoing message, built with lettre's `message` module: CRLF
//! line ends, every body in a 7-bit-safe transfer encoding (7bit when it already is,
//! quoted-printable or base64 otherwise), so no line passes 998 octets and no server needs
//! 8BITMIME; attachments as base64 parts; `In-Reply-To` and `References` for the thread; the
//! user's Autocrypt header (Autocrypt Level 1 §2.1) on every message. Bcc recipients are
//! never written into a header: the envelope reaches them.
//!
//! [`super::pgp`] seals the same content as PGP/MIME, from the parts built here.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use lettre::message::header::{self, ContentType, HeaderName, HeaderValue, Headers};
use lettre::message::{Attachment, Body, Mailbox, Mailboxes, MultiPart, SinglePart};
use sequoia_openpgp as openpgp;
use sequoia_openpgp::serialize::MarshalInto as _;

use crate::record::Address;

/// A message to send, as the user wrote it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outgoing {
    /// The user's identity.
    pub from: Address,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    /// Reached by the envelope only: never written into a header.
    pub bcc: Vec<Address>,
    pub subject: String,
    pub text: String,
    pub attachments: Vec<PathBuf>,
    /// A Message-ID with its angle brackets.
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Chosen by the caller, stable per draft and channel, so a retry is the same message.
    pub message_id: String,
    /// Seconds since the epoch.
    pub date: i64,
    /// The user's own certificate (public), for the Autocrypt header.
    pub autocrypt: Option<Vec<u8>>,
    /// The user prefers encryption (`[identity] prefer_encrypt = "mutual"`): the Autocrypt
    /// header says `prefer-encrypt=mutual`, so that peers encrypt by default.
    pub mutual: bool,
}

/// The error returned when a message cannot be built; it names the address or file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{address:?} is not an email address: {reason}")]
    Address { address: String, reason: String },
    #[error("cannot read attachment {path}")]
    Attachment {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the Autocrypt key is not a usable certificate: {0}")]
    Autocrypt(String),
    #[error("cannot build the message: {0}")]
    Build(#[from] lettre::error::Error),
}

impl crate::fault::Fault for Error {}

/// The message in clear, ready for submission: CRLF, lines of at most 998 octets.
pub fn build_plain(message: &Outgoing) -> Result<Vec<u8>, Error> {
    let mut body = content(message)?;
    let headers = body.headers_mut();
    headers.set(header::MIME_VERSION_1_0);
    write_headers(headers, message, &message.subject)?;
    if let Some(key) = &message.autocrypt {
        headers.insert_raw(autocrypt_header(
            "Autocrypt",
            &message.from.address,
            message.mutual,
            &minimal_key(key, &message.from.address)?,
        ));
    }
    Ok(body.formatted())
}

/// What the user wrote: the text, and the attachments beside it in a multipart/mixed. Its
/// headers are those of a MIME part; the caller adds the message's.
pub(super) fn content(message: &Outgoing) -> Result<MultiPart, Error> {
    let text = SinglePart::builder()
        .content_type(ContentType::TEXT_PLAIN)
        .body(Body::new(message.text.clone()));
    let mut mixed = MultiPart::mixed().singlepart(text);
    for path in &message.attachments {
        mixed = mixed.singlepart(attachment(path)?);
    }
    Ok(mixed)
}

fn attachment(path: &Path) -> Result<SinglePart, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::Attachment {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".into());
    Ok(Attachment::new(name).body(bytes, media_type(path)))
}

/// The media type of a file by its extension, for the common kinds; octet-stream else, which
/// every reader can save.
fn media_type(path: &Path) -> ContentType {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let kind = match extension.as_deref() {
        Some("txt" | "text" | "md") => "text/plain; charset=utf-8",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("zip") => "application/zip",
        Some("asc") => "application/pgp-keys",
        _ => "application/octet-stream",
    };
    ContentType::parse(kind).expect("a valid media type")
}

/// The message's headers, written into a part's: From, To, Cc, `subject`, Date, Message-ID and
/// the thread. Bcc is left out on purpose.
pub(super) fn write_headers(
    headers: &mut Headers,
    message: &Outgoing,
    subject: &str,
) -> Result<(), Error> {
    headers.set(header::Date::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(message.date.max(0) as u64),
    ));
    headers.set(header::From::from(Mailboxes::from(mailbox(&message.from)?)));
    if !message.to.is_empty() {
        headers.set(header::To::from(mailboxes(&message.to)?));
    }
    if !message.cc.is_empty() {
        headers.set(header::Cc::from(mailboxes(&message.cc)?));
    }
    headers.set(header::Subject::from(subject.to_string()));
    headers.set(header::MessageId::from(message.message_id.clone()));
    if let Some(parent) = &message.in_reply_to {
        headers.set(header::InReplyTo::from(parent.clone()));
    }
    if !message.references.is_empty() {
        headers.set(header::References::from(message.references.join(" ")));
    }
    Ok(())
}

/// `part` (a formatted MIME part) with the `extra` headers before its own: lettre keeps one
/// header of each name, and `Autocrypt-Gossip` and `HP-Outer` repeat.
pub(super) fn with_headers(extra: &[HeaderValue], part: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for value in extra {
        let mut one = Headers::default();
        one.insert_raw(value.clone());
        out.extend_from_slice(one.to_string().as_bytes());
    }
    out.extend(part);
    out
}

fn mailbox(address: &Address) -> Result<Mailbox, Error> {
    let email = address
        .address
        .parse::<lettre::Address>()
        .map_err(|e| Error::Address {
            address: address.address.clone(),
            reason: e.to_string(),
        })?;
    Ok(Mailbox::new(address.name.clone(), email))
}

fn mailboxes(addresses: &[Address]) -> Result<Mailboxes, Error> {
    addresses
        .iter()
        .map(mailbox)
        .collect::<Result<Vec<_>, _>>()
        .map(|list| list.into_iter().collect())
}

/// An `Autocrypt` or `Autocrypt-Gossip` header for `address` carrying `key` (binary),
/// `prefer-encrypt=mutual` when `mutual`, its base64 folded onto continuation lines as
/// Autocrypt Level 1 §2.1 shows.
pub(super) fn autocrypt_header(
    name: &'static str,
    address: &str,
    mutual: bool,
    key: &[u8],
) -> HeaderValue {
    let keydata = base64::engine::general_purpose::STANDARD.encode(key);
    let address = if mutual {
        format!("{address}; prefer-encrypt=mutual")
    } else {
        address.to_string()
    };
    let raw = format!("addr={address}; keydata={keydata}");
    let folded: Vec<&str> = keydata
        .as_bytes()
        .chunks(76)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    let encoded = format!("addr={address}; keydata=\r\n {}", folded.join("\r\n "));
    HeaderValue::dangerous_new_pre_encoded(HeaderName::new_from_ascii_str(name), raw, encoded)
}

/// `certificate` as Autocrypt Level 1 §2.1 wants it carried: public parts only, and only
/// the user ids of `address` when it has any (the others are not the header's business).
pub(super) fn minimal_key(certificate: &[u8], address: &str) -> Result<Vec<u8>, Error> {
    use openpgp::parse::Parse as _;
    let cert = openpgp::Cert::from_bytes(certificate)
        .map_err(|e| Error::Autocrypt(e.to_string()))?
        .strip_secret_key_material();
    let address = address.to_lowercase();
    let names_address = |userid: &openpgp::packet::UserID| {
        userid.email_normalized().ok().flatten().as_deref() == Some(address.as_str())
    };
    let cert = if cert.userids().any(|u| names_address(u.userid())) {
        cert.retain_userids(|u| names_address(u.userid()))
    } else {
        cert
    };
    cert.to_vec().map_err(|e| Error::Autocrypt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lettre::message::header::ContentTransferEncoding;
    use mail_parser::MimeHeaders as _;

    fn address(address: &str) -> Address {
        Address {
            name: None,
            address: address.into(),
            group: None,
        }
    }

    pub(crate) fn sample() -> Outgoing {
        Outgoing {
            from: Address {
                name: Some("Sam Sender".into()),
                address: "sam@example.com".into(),
                group: None,
            },
            to: vec![address("alice@example.org")],
            cc: vec![address("carol@example.net")],
            bcc: vec![address("hidden@example.net")],
            subject: "Grüße".into(),
            text: format!("héllo\n{}\nend\n", "x".repeat(3000)),
            message_id: "<1@example.com>".into(),
            date: 1_704_103_200,
            in_reply_to: Some("<0@example.org>".into()),
            references: vec!["<a@example.org>".into(), "<0@example.org>".into()],
            ..Outgoing::default()
        }
    }

    #[test]
    fn a_plain_message_is_crlf_seven_bit_with_short_lines_and_no_bcc() {
        let message = sample();
        assert_eq!(
            Body::new(message.text.clone()).encoding(),
            ContentTransferEncoding::QuotedPrintable,
            "non-ASCII text with a long line"
        );
        let bytes = build_plain(&message).unwrap();
        assert!(bytes.is_ascii(), "7-bit safe: no 8BITMIME needed");
        let text = String::from_utf8(bytes).unwrap();
        for line in text.split("\r\n") {
            assert!(line.len() <= 998, "{}", line.len());
            assert!(!line.contains('\n'), "a bare LF: {line:?}");
        }
        assert!(
            !text.to_lowercase().contains("hidden@example.net"),
            "{text}"
        );
        assert!(!text.contains("\nBcc:"), "{text}");
        let parsed = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        assert_eq!(parsed.subject(), Some("Grüße"));
        assert_eq!(parsed.message_id(), Some("1@example.com"));
        assert_eq!(parsed.in_reply_to().as_text(), Some("0@example.org"));
        assert_eq!(parsed.references().as_text_list().unwrap().len(), 2);
        let body = parsed.body_text(0).unwrap().replace("\r\n", "\n");
        assert!(
            body.trim_end() == message.text.trim_end(),
            "the text comes back whole"
        );
        assert_eq!(
            parsed.to().unwrap().first().unwrap().address(),
            Some("alice@example.org")
        );
    }

    #[test]
    fn an_attachment_is_carried_in_base64_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.bin");
        std::fs::write(&path, [0u8, 255, 10, 13, 0].repeat(400)).unwrap();
        let mut message = sample();
        message.attachments = vec![path];
        let bytes = build_plain(&message).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&bytes).unwrap();
        let attachment = parsed.attachment(0).unwrap();
        assert_eq!(attachment.attachment_name(), Some("notes.bin"));
        assert_eq!(attachment.contents(), [0u8, 255, 10, 13, 0].repeat(400));
        message.attachments = vec![dir.path().join("missing")];
        let error = build_plain(&message).unwrap_err().to_string();
        assert!(error.contains("missing"), "{error}");
    }

    #[test]
    fn the_autocrypt_header_carries_the_users_key_folded() {
        let (cert, _) = crate::keys::crypto::generate("Sam <sam@example.com>", None).unwrap();
        let mut message = sample();
        message.autocrypt = Some(crate::keys::crypto::to_stored(&cert).unwrap());
        let bytes = build_plain(&message).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("Autocrypt: addr=sam@example.com; keydata=\r\n "));
        assert!(text.split("\r\n").all(|line| line.len() <= 998));
        let record = crate::email::read(&bytes);
        let autocrypt = record.security.autocrypt.unwrap();
        assert_eq!(autocrypt.addr, "sam@example.com", "a usable header");
        assert_eq!(autocrypt.prefer_encrypt, "nopreference");
        message.mutual = true;
        let record = crate::email::read(&build_plain(&message).unwrap());
        assert_eq!(
            record.security.autocrypt.unwrap().prefer_encrypt,
            "mutual",
            "a user who prefers encryption says so"
        );
    }
}
