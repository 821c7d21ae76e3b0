//! Reads encryption and signature structure: PGP/MIME (RFC 3156), inline PGP (RFC 4880 §6
//! armour in a text part) and S/MIME (RFC 8551). Nothing is decrypted or verified here;
//! that waits for the keys. What the message only declares does not count: an encrypted
//! part must parse as an OpenPGP message (session-key packets, then encrypted data, RFC 9580
//! §10.3) or as CMS EnvelopedData (RFC 5652 §6), and a multipart/signed must have two parts
//! (RFC 1847 §2.1), its second OpenPGP signature packets or CMS SignedData, all checked
//! without any key.
//!
//! Encryption and signatures count for the message only when they cover all it shows: the
//! encrypted or signed part is the root, or the root's only content (RFC 3156 §4–5), or for
//! inline PGP every text part is one armoured block. An encrypted or signed part beside
//! parts in clear is recorded as partial, and a claim that does not hold up (armour inside
//! clear text, a payload that is not OpenPGP) as a problem.
//!
//! The walk starts at the top and goes down through multiparts. It does not go into
//! attached messages (message/rfc822): a forwarded signed mail does not sign this one. Nor
//! does it go into multipart/encrypted, whose inside cannot be seen; a signature there stays
//! unknown.

use mail_parser::{ContentType, MessagePart, MimeHeaders, PartType};
use openpgp::Packet;
use openpgp::packet::Tag;
use openpgp::parse::{PacketParser, PacketParserResult, Parse};
use sequoia_openpgp as openpgp;

use crate::record::{Encryption, SignatureFormat};

/// What the structure proves of the message, and what it shows but does not prove.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Structure {
    /// The whole message is encrypted.
    pub encryption: Encryption,
    /// Only some of it is.
    pub partially_encrypted: Option<Encryption>,
    /// A signature covers all the message shows.
    pub signed: Option<SignatureFormat>,
    /// A signature covers only some of it.
    pub partially_signed: Option<SignatureFormat>,
    /// Claims that did not hold up, in words.
    pub problems: Vec<String>,
}

const BEGIN_MESSAGE: &str = "-----BEGIN PGP MESSAGE-----";
const END_MESSAGE: &str = "-----END PGP MESSAGE-----";
const BEGIN_SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const END_SIGNATURE: &str = "-----END PGP SIGNATURE-----";

/// How the message is encrypted and signed, as far as its structure proves. MIME structure
/// wins over an armoured block in a text part when both are present.
pub(crate) fn structure(message: &mail_parser::Message<'_>) -> Structure {
    let mut found = Found {
        top: top(message),
        ..Found::default()
    };
    // Part ids come from the parser and cannot loop, but a bound keeps a bad tree finite.
    let mut budget = message.parts.len();
    let mut pending = vec![0usize];
    while let Some(id) = pending.pop() {
        let Some(part) = message.parts.get(id) else {
            continue;
        };
        if budget == 0 {
            break;
        }
        budget -= 1;
        let children = found.look_at(message, id, part);
        // Reversed so that the stack visits children in order.
        pending.extend(children.into_iter().rev());
    }
    found.conclude()
}

/// The part that stands for the whole message: the root, or while it is a multipart (not
/// signed or encrypted) with a single child, that child, as a list or a client that wraps
/// everything in multipart/mixed leaves it.
pub(crate) fn top(message: &mail_parser::Message<'_>) -> usize {
    let mut id = 0;
    // A single child is always a later part, so this ends; the bound is for bad trees.
    for _ in 0..message.parts.len() {
        let Some(part) = message.parts.get(id) else {
            break;
        };
        let (kind, sub) = media_type(part.content_type());
        match &part.body {
            PartType::Multipart(ids)
                if kind == "multipart" && sub != "signed" && sub != "encrypted" =>
            {
                match ids.as_slice() {
                    [only] => id = *only as usize,
                    _ => break,
                }
            }
            _ => break,
        }
    }
    id
}

/// The text of the first displayed text part that is, as a whole, one clearsigned block
/// (RFC 9580 §7), trimmed; what [`structure`] counts as an inline signature.
pub(crate) fn clearsigned_text<'m>(message: &'m mail_parser::Message<'_>) -> Option<&'m str> {
    message.parts.iter().find_map(|part| match &part.body {
        PartType::Text(text) if !is_attachment(part) => whole_clearsigned(text),
        _ => None,
    })
}

/// `text` trimmed, when it is one clearsigned block with only whitespace around it.
pub(crate) fn whole_clearsigned(text: &str) -> Option<&str> {
    whole_block(text, BEGIN_SIGNED, END_SIGNATURE)
}

#[derive(Default)]
struct Found {
    /// The part that stands for the message ([`top`]).
    top: usize,
    mime_encryption: Option<Encryption>,
    mime_partial_encryption: Option<Encryption>,
    mime_signature: Option<SignatureFormat>,
    mime_partial_signature: Option<SignatureFormat>,
    /// Text parts, not attachments, by what they hold.
    inline_encrypted: usize,
    inline_signed: usize,
    in_clear: usize,
    problems: Vec<String>,
}

impl Found {
    /// Notes what `part` (number `id`) shows and returns the children to look at next.
    fn look_at(
        &mut self,
        message: &mail_parser::Message<'_>,
        id: usize,
        part: &MessagePart<'_>,
    ) -> Vec<usize> {
        let children = match &part.body {
            PartType::Multipart(ids) => ids.iter().map(|&id| id as usize).collect(),
            _ => Vec::new(),
        };
        let whole = id == self.top;
        let (kind, sub) = media_type(part.content_type());
        match (kind.as_str(), sub.as_str()) {
            ("multipart", "encrypted") => {
                let protocol = protocol(part, message, children.first());
                if protocol == "application/pgp-encrypted" {
                    // RFC 3156 §4: the second part holds the OpenPGP message.
                    let payload = children.get(1).and_then(|&id| message.parts.get(id));
                    if payload.is_some_and(|p| is_encrypted_openpgp(p.contents())) {
                        self.encrypted_part(whole, Encryption::PgpMime);
                    } else {
                        self.problems.push(
                            "multipart/encrypted whose payload is not an encrypted OpenPGP \
                             message: not counted as encrypted"
                                .into(),
                        );
                    }
                }
                Vec::new()
            }
            ("multipart", "signed") => {
                let format = match protocol(part, message, children.last()).as_str() {
                    "application/pgp-signature" => Some(SignatureFormat::PgpMime),
                    "application/pkcs7-signature" | "application/x-pkcs7-signature" => {
                        Some(SignatureFormat::Smime)
                    }
                    _ => None,
                };
                // RFC 1847 §2.1: two parts, the second the signature of the first.
                let signature = match children.as_slice() {
                    [_, signature] => message.parts.get(*signature).map(|p| p.contents()),
                    _ => None,
                };
                if let Some(format) = format {
                    self.proven_signed_part(whole, format, signature);
                }
                children
            }
            ("application", "pkcs7-mime" | "x-pkcs7-mime") => {
                let smime_type = part
                    .content_type()
                    .and_then(|ct| parameter(ct, "smime-type"))
                    .map(str::to_ascii_lowercase);
                // RFC 8551 §3.2.2 names the file smime.p7m; old clients that leave out
                // smime-type nearly always mean an envelope.
                let named_p7m = part
                    .attachment_name()
                    .is_some_and(|name| name.to_ascii_lowercase().ends_with(".p7m"));
                let envelope = match smime_type.as_deref() {
                    Some("enveloped-data" | "authenveloped-data") => true,
                    None => named_p7m,
                    Some(_) => false,
                };
                if envelope && is_enveloped_data(part.contents()) {
                    self.encrypted_part(whole, Encryption::Smime);
                } else if envelope {
                    self.problems.push(
                        "application/pkcs7-mime that is not CMS EnvelopedData: not counted as \
                         encrypted"
                            .into(),
                    );
                } else if smime_type.as_deref() == Some("signed-data") {
                    self.proven_signed_part(whole, SignatureFormat::Smime, Some(part.contents()));
                }
                Vec::new()
            }
            _ => {
                match &part.body {
                    PartType::Text(text) if !is_attachment(part) => self.read_armour(text),
                    PartType::Html(html) if !is_attachment(part) && !html.trim().is_empty() => {
                        self.in_clear += 1;
                    }
                    _ => {}
                }
                children
            }
        }
    }

    fn encrypted_part(&mut self, whole: bool, encryption: Encryption) {
        let slot = match whole {
            true => &mut self.mime_encryption,
            false => &mut self.mime_partial_encryption,
        };
        slot.get_or_insert(encryption);
    }

    /// A signature in `format`, `signature` its bytes: counted only when they are CMS
    /// SignedData or OpenPGP signature packets, as a sender can attach any bytes, or none,
    /// under a signature's media type.
    fn proven_signed_part(
        &mut self,
        whole: bool,
        format: SignatureFormat,
        signature: Option<&[u8]>,
    ) {
        let (proven, problem) = match format {
            SignatureFormat::Smime => (signature.is_some_and(is_signed_data), NOT_SIGNED_DATA),
            _ => (
                signature.is_some_and(is_openpgp_signature),
                NOT_OPENPGP_SIGNATURE,
            ),
        };
        if proven {
            self.signed_part(whole, format);
        } else {
            self.problems.push(problem.into());
        }
    }

    fn signed_part(&mut self, whole: bool, format: SignatureFormat) {
        let slot = match whole {
            true => &mut self.mime_signature,
            false => &mut self.mime_partial_signature,
        };
        slot.get_or_insert(format);
    }

    /// Sorts a text part: one armoured encrypted message, one clearsigned block, or clear
    /// text. Armour that only begins a line inside clear text is a problem, not encryption; a
    /// sentence that merely quotes the marker, or a reply that quotes it after `> `, is
    /// nothing at all.
    fn read_armour(&mut self, text: &str) {
        if let Some(block) = whole_block(text, BEGIN_MESSAGE, END_MESSAGE) {
            if is_encrypted_openpgp(block.as_bytes()) {
                self.inline_encrypted += 1;
            } else {
                self.in_clear += 1;
                self.problems.push(
                    "a PGP MESSAGE block that is not an encrypted OpenPGP message: not \
                     counted as encrypted"
                        .into(),
                );
            }
            return;
        }
        if whole_clearsigned(text).is_some() {
            self.inline_signed += 1;
            return;
        }
        if text.trim().is_empty() {
            return;
        }
        self.in_clear += 1;
        for line in text.lines() {
            match line.trim_end() {
                BEGIN_MESSAGE => self
                    .problems
                    .push("a PGP MESSAGE block inside clear text: not counted as encrypted".into()),
                BEGIN_SIGNED => self
                    .problems
                    .push("a clearsigned block inside unsigned text: not counted as signed".into()),
                _ => {}
            }
        }
    }

    /// What the parts add up to: structure over armour, the whole over a part.
    fn conclude(mut self) -> Structure {
        let inline_whole = self.in_clear == 0;
        let inline_encryption = (self.inline_encrypted > 0).then_some(Encryption::PgpInline);
        let inline_signature = (self.inline_signed > 0).then_some(SignatureFormat::PgpInline);
        let encryption = self
            .mime_encryption
            .or(inline_encryption.filter(|_| inline_whole && self.inline_signed == 0));
        let signed = self
            .mime_signature
            .or(inline_signature.filter(|_| inline_whole && self.inline_encrypted == 0));
        let partially_encrypted = match encryption {
            Some(_) => None,
            None => self.mime_partial_encryption.or(inline_encryption),
        };
        let partially_signed = match signed {
            Some(_) => None,
            None => self.mime_partial_signature.or(inline_signature),
        };
        if partially_encrypted.is_some() {
            self.problems
                .push("an encrypted part beside parts in clear: only that part is sealed".into());
        }
        if partially_signed.is_some() {
            self.problems.push(
                "a signed part beside unsigned ones: the signature does not cover the message"
                    .into(),
            );
        }
        Structure {
            encryption: encryption.unwrap_or(Encryption::None),
            partially_encrypted,
            signed,
            partially_signed,
            problems: self.problems,
        }
    }
}

fn is_attachment(part: &MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(ContentType::is_attachment)
}

/// `text` trimmed, when it is one armoured block from `begin` to `end` with nothing around
/// it but whitespace: no second block inside, and no earlier `end` that a reader would stop
/// at, leaving what follows it unsealed or unsigned.
fn whole_block<'t>(text: &'t str, begin: &str, end: &str) -> Option<&'t str> {
    let block = text.trim();
    let inner = block.strip_prefix(begin)?.strip_suffix(end)?;
    (!inner.contains(begin) && !inner.contains(end)).then_some(block)
}

/// Whether `payload` (armoured or binary) is an encrypted OpenPGP message (RFC 9580 §10.3):
/// session-key packets (PKESK, SKESK), then one encrypted data packet (SEIPD, or the old
/// SED), and nothing after. The ciphertext is not opened: only its packet framing is read.
pub(crate) fn is_encrypted_openpgp(payload: &[u8]) -> bool {
    let Ok(mut next) = PacketParser::from_bytes(payload) else {
        return false;
    };
    let (mut session_keys, mut encrypted) = (0usize, 0usize);
    while let PacketParserResult::Some(parser) = next {
        // A packet sequoia could not parse comes back as Unknown under its tag; only SED,
        // which sequoia no longer reads, is accepted so.
        let parsed = !matches!(parser.packet, Packet::Unknown(_));
        match parser.packet.tag() {
            Tag::Marker if session_keys == 0 => {}
            Tag::PKESK | Tag::SKESK if parsed && encrypted == 0 => session_keys += 1,
            Tag::SEIP if parsed && session_keys > 0 && encrypted == 0 => encrypted += 1,
            Tag::SED if session_keys > 0 && encrypted == 0 => encrypted += 1,
            _ => return false,
        }
        next = match parser.next() {
            Ok((_, next)) => next,
            Err(_) => return false,
        };
    }
    encrypted == 1
}

/// Whether `data` (armoured or binary) is OpenPGP signature packets only (RFC 9580 §5.2),
/// as a detached signature is. Nothing is verified: that needs the key.
fn is_openpgp_signature(data: &[u8]) -> bool {
    let Ok(mut next) = PacketParser::from_bytes(data) else {
        return false;
    };
    let mut signatures = 0usize;
    while let PacketParserResult::Some(parser) = next {
        if parser.packet.tag() != Tag::Signature || matches!(parser.packet, Packet::Unknown(_)) {
            return false;
        }
        signatures += 1;
        next = match parser.next() {
            Ok((_, next)) => next,
            Err(_) => return false,
        };
    }
    signatures > 0
}

/// Why a PGP/MIME signature part that holds no OpenPGP signature earns nothing.
const NOT_OPENPGP_SIGNATURE: &str =
    "a PGP/MIME signature part that is not an OpenPGP signature: not counted as signed";

/// The object identifiers of CMS EnvelopedData (1.2.840.113549.1.7.3) and
/// AuthEnvelopedData (1.2.840.113549.1.9.16.1.23), as DER content octets.
const ENVELOPED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03];
const AUTH_ENVELOPED_DATA: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x17,
];

/// The object identifier of CMS SignedData (1.2.840.113549.1.7.2), as DER content octets.
const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];

/// Why an S/MIME signature that is no CMS SignedData earns nothing.
const NOT_SIGNED_DATA: &str =
    "an S/MIME signature that is not CMS SignedData: not counted as signed";

/// Whether `der` begins as CMS ContentInfo (RFC 5652 §3) holding (auth-)EnvelopedData. The
/// recipients and ciphertext are not read: no key is needed to see the envelope.
fn is_enveloped_data(der: &[u8]) -> bool {
    is_content_info(der, &[ENVELOPED_DATA, AUTH_ENVELOPED_DATA])
}

/// Whether `der` begins as CMS ContentInfo holding SignedData (RFC 5652 §5). The signature
/// is not checked (missive holds no S/MIME trust store): the structure earns what an
/// unverified signature earns, bytes that are not one earn nothing.
fn is_signed_data(der: &[u8]) -> bool {
    is_content_info(der, &[SIGNED_DATA])
}

/// Whether `der` begins as CMS ContentInfo of one of `content_types`: a SEQUENCE, the
/// content-type OID, then `[0]` around a SEQUENCE whose first field is the INTEGER version.
/// BER's indefinite lengths are allowed, as S/MIME writers use them.
fn is_content_info(der: &[u8], content_types: &[&[u8]]) -> bool {
    let mut reader = Der(der);
    let mut content_info = || -> Option<()> {
        reader.enter(0x30)?;
        let oid = reader.primitive(0x06)?;
        if !content_types.contains(&oid) {
            return None;
        }
        reader.enter(0xa0)?;
        reader.enter(0x30)?;
        reader
            .primitive(0x02)
            .filter(|version| version.len() == 1)?;
        Some(())
    };
    content_info().is_some()
}

/// A cursor over BER/DER: just enough to step into constructed values and read short
/// primitive ones.
struct Der<'d>(&'d [u8]);

impl<'d> Der<'d> {
    /// Reads a tag and length; returns the length, None for an indefinite one.
    fn header(&mut self, tag: u8) -> Option<Option<usize>> {
        let (&found, rest) = self.0.split_first()?;
        let (&first, mut rest) = rest.split_first()?;
        if found != tag {
            return None;
        }
        let length = match first {
            0x80 => None,
            short @ 0..=0x7f => Some(usize::from(short)),
            long => {
                let count = usize::from(long & 0x7f);
                if count > 4 {
                    return None;
                }
                let (bytes, after) = (rest.get(..count)?, rest.get(count..)?);
                rest = after;
                Some(bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b)))
            }
        };
        if length.is_some_and(|length| length > rest.len()) {
            return None;
        }
        self.0 = rest;
        Some(length)
    }

    /// Steps into a constructed value tagged `tag`.
    fn enter(&mut self, tag: u8) -> Option<()> {
        let length = self.header(tag)?;
        if let Some(length) = length {
            self.0 = self.0.get(..length)?;
        }
        Some(())
    }

    /// Reads a primitive value tagged `tag` (definite length only).
    fn primitive(&mut self, tag: u8) -> Option<&'d [u8]> {
        let length = self.header(tag)??;
        let (value, rest) = (self.0.get(..length)?, self.0.get(length..)?);
        self.0 = rest;
        Some(value)
    }
}

/// `type` and `subtype`, lowercased; a part without Content-Type is text/plain (RFC 2045 §5.2).
fn media_type(ct: Option<&ContentType<'_>>) -> (String, String) {
    match ct {
        Some(ct) => (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or_default().to_ascii_lowercase(),
        ),
        None => ("text".into(), "plain".into()),
    }
}

fn parameter<'a>(ct: &'a ContentType<'_>, name: &str) -> Option<&'a str> {
    ct.attributes()?
        .iter()
        .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
        .map(|attribute| attribute.value.as_ref())
}

/// The `protocol` parameter, lowercased; when it is missing, the media type of the part that
/// RFC 1847 says carries it (the control part of encrypted, the signature of signed).
fn protocol(
    part: &MessagePart<'_>,
    message: &mail_parser::Message<'_>,
    carrier: Option<&usize>,
) -> String {
    if let Some(protocol) = part.content_type().and_then(|ct| parameter(ct, "protocol")) {
        return protocol.trim().to_ascii_lowercase();
    }
    let carrier = carrier.and_then(|&id| message.parts.get(id));
    match carrier.map(|p| media_type(p.content_type())) {
        Some((kind, sub)) => format!("{kind}/{sub}"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn structure_of(raw: &[u8]) -> Structure {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("test message parses");
        structure(&message)
    }

    fn read(raw: &[u8]) -> (Encryption, Option<SignatureFormat>) {
        let found = structure_of(raw);
        (found.encryption, found.signed)
    }

    /// A real detached OpenPGP signature (of `Signed words.`), made once with GnuPG 2.2.40:
    /// `gpg --armor --detach-sign` with an Ed25519 key.
    const SIGNATURE: &str = "-----BEGIN PGP SIGNATURE-----\n\
        \n\
        iHUEABYIAB0WIQQtqhqeJUwg90b6my8jz9biMs3p4QUCaxQ1DwAKCRAjz9biMs3p\n\
        4emiAQDrZv0Czdv2rks5B4P51PnkZOrgSDosuGoZbBoUG9F1BgEA3/N1pWniCF+G\n\
        O7REZ4L3cQjsU2uLPqoosUNtXba6vgs=\n\
        =5kBZ\n\
        -----END PGP SIGNATURE-----";

    /// A real OpenPGP message (SKESK then SEIPD), made once with GnuPG 2.2.40:
    /// `echo 'Meet at noon.' | gpg --batch --pinentry-mode loopback --passphrase x --symmetric --armor`.
    const ENCRYPTED: &str = "-----BEGIN PGP MESSAGE-----\n\
        \n\
        jA0ECQMC2jHluyFqy1H/0kMB/e6m7Veft9eto08MXF//i+22Baigi560BNCgH5xe\n\
        jWj2ZJRpAaN5AadbuIAY1vdr8cv7IgsgAIzygij1BK+UpVSF\n\
        =VNLS\n\
        -----END PGP MESSAGE-----\n";

    const PGP_MIME_ENCRYPTED: &[u8] = b"From: alice@example.org\n\
        To: bob@example.net\n\
        Subject: ...\n\
        MIME-Version: 1.0\n\
        Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\n boundary=\"enc\"\n\
        \n\
        --enc\n\
        Content-Type: application/pgp-encrypted\n\
        \n\
        Version: 1\n\
        \n\
        --enc\n\
        Content-Type: application/octet-stream; name=\"encrypted.asc\"\n\
        \n\
        -----BEGIN PGP MESSAGE-----\n\
        \n\
jA0ECQMC2jHluyFqy1H/0kMB/e6m7Veft9eto08MXF//i+22Baigi560BNCgH5xe\n\
        jWj2ZJRpAaN5AadbuIAY1vdr8cv7IgsgAIzygij1BK+UpVSF\n\
        =VNLS\n\
        -----END PGP MESSAGE-----\n\
        \n\
        --enc--\n";

    #[test]
    fn multipart_encrypted_with_pgp_is_pgp_mime_and_its_signature_unknown() {
        assert_eq!(read(PGP_MIME_ENCRYPTED), (Encryption::PgpMime, None));
    }

    #[test]
    fn multipart_encrypted_without_protocol_is_read_from_its_control_part() {
        let raw = String::from_utf8_lossy(PGP_MIME_ENCRYPTED)
            .replace("protocol=\"application/pgp-encrypted\";", "");
        assert_eq!(read(raw.as_bytes()), (Encryption::PgpMime, None));
    }

    /// A PGP/MIME signed message whose signature part holds `signature`.
    fn pgp_mime_signed(signature: &str) -> String {
        format!(
            "From: alice@example.org\n\
             MIME-Version: 1.0\n\
             Content-Type: multipart/signed; micalg=pgp-sha512;\n\
             \tprotocol=\"Application/PGP-Signature\"; boundary=\"sig\"\n\
             \n\
             --sig\n\
             Content-Type: text/plain\n\
             \n\
             Signed words.\n\
             --sig\n\
             Content-Type: application/pgp-signature\n\
             \n\
             {signature}\n\
             --sig--\n"
        )
    }

    #[test]
    fn multipart_signed_with_pgp_signature_is_pgp_mime_signed() {
        assert_eq!(
            read(pgp_mime_signed(SIGNATURE).as_bytes()),
            (Encryption::None, Some(SignatureFormat::PgpMime))
        );
    }

    #[test]
    fn multipart_signed_whose_signature_part_is_no_openpgp_signature_is_not_signed() {
        let armour_of_nothing = "-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCgAdFiEEZmFrZQ==\n-----END PGP SIGNATURE-----";
        let no_second_part = "From: alice@example.org\n\
            Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=b\n\
            \n\
            hello\n";
        let three_parts = pgp_mime_signed(SIGNATURE).replace(
            "--sig--",
            &format!("--sig\nContent-Type: application/pgp-signature\n\n{SIGNATURE}\n--sig--"),
        );
        for raw in [
            pgp_mime_signed(armour_of_nothing),
            pgp_mime_signed("sig"),
            no_second_part.to_string(),
            three_parts,
        ] {
            let found = structure_of(raw.as_bytes());
            assert_eq!(
                (found.signed, found.partially_signed),
                (None, None),
                "{raw}"
            );
            assert!(
                found
                    .problems
                    .iter()
                    .any(|p| p.contains("not an OpenPGP signature")),
                "{raw}: {:?}",
                found.problems
            );
        }
    }

    #[test]
    fn multipart_signed_beside_a_list_footer_is_partially_signed() {
        // The footer is not signed, and a sender could paste anything there just as well.
        let raw =
            include_bytes!("../../tests/fixtures/email/pgp_mime_signed_wrapped_by_list_footer.eml");
        let found = structure_of(raw);
        assert_eq!((found.encryption, found.signed), (Encryption::None, None));
        assert_eq!(found.partially_signed, Some(SignatureFormat::PgpMime));
        assert!(
            found
                .problems
                .iter()
                .any(|p| p.contains("signed part beside"))
        );
    }

    #[test]
    fn multipart_signed_as_the_only_content_of_the_root_counts() {
        let raw = format!(
            "From: alice@example.org\n\
            Content-Type: multipart/mixed; boundary=m\n\
            \n\
            --m\n\
            Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\n\
            \n\
            --s\n\
            Content-Type: text/plain\n\
            \n\
            Signed words.\n\
            --s\n\
            Content-Type: application/pgp-signature\n\
            \n\
            {SIGNATURE}\n\
            --s--\n\
            --m--\n"
        );
        assert_eq!(
            read(raw.as_bytes()),
            (Encryption::None, Some(SignatureFormat::PgpMime))
        );
    }

    #[test]
    fn multipart_signed_with_pkcs7_signature_is_smime_signed() {
        for protocol in [
            "application/pkcs7-signature",
            "application/x-pkcs7-signature",
        ] {
            let raw = format!(
                "From: alice@example.org\n\
                 MIME-Version: 1.0\n\
                 Content-Type: multipart/signed; protocol=\"{protocol}\"; micalg=sha-256; boundary=b\n\
                 \n\
                 --b\n\
                 Content-Type: text/plain\n\
                 \n\
                 Signed.\n\
                 --b\n\
                 Content-Type: {protocol}; name=smime.p7s\n\
                 Content-Transfer-Encoding: base64\n\
                 \n\
                 {SIGNED_DATA_BASE64}\n\
                 --b--\n"
            );
            assert_eq!(
                read(raw.as_bytes()),
                (Encryption::None, Some(SignatureFormat::Smime)),
                "{protocol}"
            );
        }
    }

    fn pkcs7(content_type: &str) -> String {
        format!(
            "From: alice@example.org\n\
             MIME-Version: 1.0\n\
             Content-Type: {content_type}\n\
             Content-Transfer-Encoding: base64\n\
             \n\
             MIAGCSqGSIb3DQEHA6CAMIACAQAxggEw\n"
        )
    }

    #[test]
    fn pkcs7_mime_enveloped_data_is_smime_encrypted() {
        for content_type in [
            "application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m",
            "application/x-pkcs7-mime; smime-type=\"Enveloped-Data\"",
            "application/pkcs7-mime; smime-type=authEnveloped-data; name=smime.p7m",
        ] {
            assert_eq!(
                read(pkcs7(content_type).as_bytes()),
                (Encryption::Smime, None),
                "{content_type}"
            );
        }
    }

    #[test]
    fn pkcs7_mime_signed_data_is_smime_signed() {
        let raw = pkcs7("application/pkcs7-mime; smime-type=signed-data; name=smime.p7m")
            .replace("MIAGCSqGSIb3DQEHA6CAMIACAQAxggEw", SIGNED_DATA_BASE64);
        assert_eq!(
            read(raw.as_bytes()),
            (Encryption::None, Some(SignatureFormat::Smime))
        );
    }

    /// The start of a CMS ContentInfo of SignedData, as an S/MIME writer begins it.
    const SIGNED_DATA_BASE64: &str =
        "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==";

    /// An attacker's S/MIME signature: the media type of one over bytes that are none (text,
    /// or an envelope), in both forms; it earns nothing and says why.
    #[test]
    fn an_smime_signature_that_is_no_signed_data_is_not_counted() {
        let not_signed = [
            "SGVsbG8sIG5vdCBDTVMgYXQgYWxsLg==",
            "MIAGCSqGSIb3DQEHA6CAMIACAQAxggEw",
        ];
        for payload in not_signed {
            let opaque = pkcs7("application/pkcs7-mime; smime-type=signed-data; name=smime.p7m")
                .replace("MIAGCSqGSIb3DQEHA6CAMIACAQAxggEw", payload);
            let detached = format!(
                "From: alice@example.org\n\
                 MIME-Version: 1.0\n\
                 Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=b\n\
                 \n\
                 --b\n\
                 Content-Type: text/plain\n\
                 \n\
                 Signed?\n\
                 --b\n\
                 Content-Type: application/pkcs7-signature; name=smime.p7s\n\
                 Content-Transfer-Encoding: base64\n\
                 \n\
                 {payload}\n\
                 --b--\n"
            );
            for raw in [opaque, detached] {
                let found = structure_of(raw.as_bytes());
                assert_eq!(found.signed, None, "{raw}");
                assert!(
                    found
                        .problems
                        .iter()
                        .any(|p| p.contains("not CMS SignedData")),
                    "{:?}",
                    found.problems
                );
            }
        }
    }

    #[test]
    fn pkcs7_mime_without_smime_type_named_p7m_is_smime_encrypted() {
        let raw =
            include_bytes!("../../tests/fixtures/email/smime_opaque_p7m_without_smime_type.eml");
        assert_eq!(read(raw), (Encryption::Smime, None));
    }

    #[test]
    fn pkcs7_mime_without_smime_type_or_name_is_not_guessed() {
        assert_eq!(
            read(pkcs7("application/pkcs7-mime").as_bytes()),
            (Encryption::None, None)
        );
        assert_eq!(
            read(pkcs7("application/pkcs7-mime; smime-type=compressed-data").as_bytes()),
            (Encryption::None, None)
        );
    }

    #[test]
    fn an_armoured_message_in_the_body_is_inline_pgp_encrypted() {
        let raw = b"From: alice@example.org\r\n\
            Subject: inline\r\n\
            \r\n\
            -----BEGIN PGP MESSAGE-----\r\n\
            \r\n\
            jA0ECQMC2jHluyFqy1H/0kMB/e6m7Veft9eto08MXF//i+22Baigi560BNCgH5xe\r\n\
            jWj2ZJRpAaN5AadbuIAY1vdr8cv7IgsgAIzygij1BK+UpVSF\r\n\
            =VNLS\r\n\
            -----END PGP MESSAGE-----\r\n";
        assert_eq!(read(raw), (Encryption::PgpInline, None));
    }

    #[test]
    fn a_clearsigned_body_is_inline_pgp_signed() {
        let raw = b"From: alice@example.org\n\
            Content-Type: text/plain; charset=utf-8\n\
            \n\
            -----BEGIN PGP SIGNED MESSAGE-----\n\
            Hash: SHA256\n\
            \n\
            Meet at noon.\n\
            -----BEGIN PGP SIGNATURE-----\n\
            \n\
            iHUEARYIAB0WIQRmYWtl\n\
            -----END PGP SIGNATURE-----\n";
        assert_eq!(
            read(raw),
            (Encryption::None, Some(SignatureFormat::PgpInline))
        );
    }

    #[test]
    fn a_body_that_only_mentions_the_armour_line_is_plain() {
        let raw = b"From: alice@example.org\n\
            \n\
            If you see -----BEGIN PGP MESSAGE----- in a mail, it was encrypted inline.\n\
            > -----BEGIN PGP SIGNED MESSAGE-----\n\
            \x20-----BEGIN PGP MESSAGE-----\n";
        assert_eq!(read(raw), (Encryption::None, None));
    }

    #[test]
    fn armour_in_an_attached_file_does_not_make_the_message_encrypted() {
        let raw = b"From: alice@example.org\n\
            MIME-Version: 1.0\n\
            Content-Type: multipart/mixed; boundary=m\n\
            \n\
            --m\n\
            Content-Type: text/plain\n\
            \n\
            The key backup is attached.\n\
            --m\n\
            Content-Type: text/plain; name=backup.asc\n\
            Content-Disposition: attachment; filename=backup.asc\n\
            \n\
            -----BEGIN PGP MESSAGE-----\n\
            \n\
            hQEMAzZmYWtl\n\
            -----END PGP MESSAGE-----\n\
            --m--\n";
        assert_eq!(read(raw), (Encryption::None, None));
    }

    #[test]
    fn a_forwarded_signed_message_does_not_sign_the_forward() {
        let raw = b"From: bob@example.net\n\
            MIME-Version: 1.0\n\
            Content-Type: multipart/mixed; boundary=outer\n\
            \n\
            --outer\n\
            Content-Type: text/plain\n\
            \n\
            See below.\n\
            --outer\n\
            Content-Type: message/rfc822\n\
            \n\
            From: alice@example.org\n\
            MIME-Version: 1.0\n\
            Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=inner\n\
            \n\
            --inner\n\
            Content-Type: text/plain\n\
            \n\
            -----BEGIN PGP MESSAGE-----\n\
            --inner\n\
            Content-Type: application/pgp-signature\n\
            \n\
            sig\n\
            --inner--\n\
            \n\
            --outer--\n";
        assert_eq!(read(raw), (Encryption::None, None));
    }

    #[test]
    fn a_signed_part_holding_an_armoured_message_is_both() {
        let raw = format!(
            "From: alice@example.org\n\
            MIME-Version: 1.0\n\
            Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\n\
            \n\
            --s\n\
            Content-Type: text/plain\n\
            \n\
            -----BEGIN PGP MESSAGE-----\n\
            \n\
            jA0ECQMC2jHluyFqy1H/0kMB/e6m7Veft9eto08MXF//i+22Baigi560BNCgH5xe\n\
            jWj2ZJRpAaN5AadbuIAY1vdr8cv7IgsgAIzygij1BK+UpVSF\n\
            =VNLS\n\
            -----END PGP MESSAGE-----\n\
            --s\n\
            Content-Type: application/pgp-signature\n\
            \n\
            {SIGNATURE}\n\
            --s--\n"
        );
        assert_eq!(
            read(raw.as_bytes()),
            (Encryption::PgpInline, Some(SignatureFormat::PgpMime))
        );
    }

    #[test]
    fn multipart_encrypted_whose_payload_is_not_openpgp_is_not_encrypted() {
        let raw = String::from_utf8_lossy(PGP_MIME_ENCRYPTED).replace(
            "jA0ECQMC2jHluyFqy1H/0kMB/e6m7Veft9eto08MXF//i+22Baigi560BNCgH5xe",
            "SGVsbG8sIHRoaXMgaXMgbm90IGVuY3J5cHRlZCBhdCBhbGwu",
        );
        let found = structure_of(raw.as_bytes());
        assert_eq!(found.encryption, Encryption::None);
        assert_eq!(found.partially_encrypted, None);
        assert!(found.problems[0].starts_with("multipart/encrypted whose payload"));
    }

    #[test]
    fn multipart_encrypted_beside_clear_text_is_partially_encrypted() {
        let raw = String::from_utf8_lossy(PGP_MIME_ENCRYPTED).replace(
            "Content-Type: multipart/encrypted;",
            "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\n\
             Said in clear.\n--m\nContent-Type: multipart/encrypted;",
        ) + "--m--\n";
        let found = structure_of(raw.as_bytes());
        assert_eq!(found.encryption, Encryption::None);
        assert_eq!(found.partially_encrypted, Some(Encryption::PgpMime));
    }

    #[test]
    fn multipart_encrypted_as_the_only_content_of_the_root_counts() {
        let raw = String::from_utf8_lossy(PGP_MIME_ENCRYPTED).replace(
            "Content-Type: multipart/encrypted;",
            "Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: multipart/encrypted;",
        ) + "--m--\n";
        assert_eq!(read(raw.as_bytes()), (Encryption::PgpMime, None));
    }

    fn text_message(body: &str) -> String {
        format!("From: alice@example.org\nContent-Type: text/plain\n\n{body}")
    }

    #[test]
    fn an_armoured_block_inside_clear_text_is_not_encrypted() {
        let found =
            structure_of(text_message(&format!("Hello,\n\n{ENCRYPTED}\nBye.\n")).as_bytes());
        assert_eq!(found.encryption, Encryption::None);
        assert_eq!(
            found.problems,
            ["a PGP MESSAGE block inside clear text: not counted as encrypted"]
        );
    }

    #[test]
    fn a_whole_armoured_block_that_is_not_encrypted_does_not_count() {
        for block in [
            "-----BEGIN PGP MESSAGE-----\n\nhQEMAzZmYWtl\n-----END PGP MESSAGE-----\n",
            // A literal data packet: an OpenPGP message, but anyone can read it.
            "-----BEGIN PGP MESSAGE-----\n\nowE7LZLEkC181NU3NbVEIbFEIS8/P0+PCwA=\n=hAuo\n-----END PGP MESSAGE-----\n",
        ] {
            let found = structure_of(text_message(block).as_bytes());
            assert_eq!(found.encryption, Encryption::None, "{block}");
            assert!(found.problems[0].contains("not an encrypted OpenPGP message"));
        }
    }

    #[test]
    fn a_block_with_clear_text_after_an_early_end_line_is_not_whole() {
        let smuggled = ENCRYPTED.replace(
            "-----END PGP MESSAGE-----\n",
            "-----END PGP MESSAGE-----\nSaid in clear.\n-----END PGP MESSAGE-----\n",
        );
        assert_eq!(
            read(text_message(&smuggled).as_bytes()),
            (Encryption::None, None)
        );
    }

    #[test]
    fn an_armoured_text_part_beside_a_clear_one_is_partially_encrypted() {
        let raw = format!(
            "From: alice@example.org\nContent-Type: multipart/mixed; boundary=m\n\n\
             --m\nContent-Type: text/plain\n\nSaid in clear.\n\
             --m\nContent-Type: text/plain\n\n{ENCRYPTED}\n--m--\n"
        );
        let found = structure_of(raw.as_bytes());
        assert_eq!(found.encryption, Encryption::None);
        assert_eq!(found.partially_encrypted, Some(Encryption::PgpInline));
    }

    #[test]
    fn a_clearsigned_block_inside_unsigned_text_is_not_signed() {
        let found = structure_of(
            text_message(
                "My words.\n\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nTheirs.\n\
                 -----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQRmYWtl\n-----END PGP SIGNATURE-----\n",
            )
            .as_bytes(),
        );
        assert_eq!(found.signed, None);
        assert_eq!(found.partially_signed, None);
        assert_eq!(
            found.problems,
            ["a clearsigned block inside unsigned text: not counted as signed"]
        );
    }

    #[test]
    fn pkcs7_mime_that_is_not_enveloped_data_is_not_encrypted() {
        for payload in [
            "SGVsbG8sIG5vdCBDTVMgYXQgYWxsLg==",
            // ContentInfo of SignedData (1.2.840.113549.1.7.2) is no envelope.
            "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==",
        ] {
            let raw = pkcs7("application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m")
                .replace("MIAGCSqGSIb3DQEHA6CAMIACAQAxggEw", payload);
            let found = structure_of(raw.as_bytes());
            assert_eq!(found.encryption, Encryption::None, "{payload}");
            assert!(found.problems[0].contains("not CMS EnvelopedData"));
        }
    }

    #[test]
    fn enveloped_data_is_read_in_definite_and_indefinite_lengths() {
        let mut definite = vec![0x30, 0x14, 0x06, 0x09];
        definite.extend(ENVELOPED_DATA);
        definite.extend([0xa0, 0x07, 0x30, 0x05, 0x02, 0x01, 0x00, 0x31, 0x00]);
        assert!(is_enveloped_data(&definite));
        let mut auth = vec![0x30, 0x80, 0x06, 0x0b];
        auth.extend(AUTH_ENVELOPED_DATA);
        auth.extend([0xa0, 0x80, 0x30, 0x80, 0x02, 0x01, 0x00]);
        assert!(is_enveloped_data(&auth));
        // A length past the end, a wrong outer tag, a missing version.
        assert!(!is_enveloped_data(&[0x30, 0x7f, 0x06, 0x09]));
        assert!(!is_enveloped_data(&definite[1..]));
        assert!(!is_enveloped_data(&definite[..definite.len() - 5]));
    }

    #[test]
    fn a_plain_message_has_neither() {
        assert_eq!(
            read(b"From: alice@example.org\n\nHello.\n"),
            (Encryption::None, None)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_read_without_panicking(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let mut message = b"Content-Type: multipart/signed; protocol=application/pgp-signature; boundary=b\n\n--b\n".to_vec();
            message.extend(raw);
            let _ = read(&message);
        }
    }

    #[test]
    fn broken_structures_do_not_panic() {
        for raw in [
            &b"Content-Type: multipart/encrypted\n\n"[..],
            b"Content-Type: multipart/signed; boundary=x\n\n--x\n",
            b"Content-Type: multipart/signed; protocol=; boundary=x\n\n--x\n\n--x--\n",
            b"Content-Type: application/pkcs7-mime; smime-type\n\n",
            b"Content-Type: application/pkcs7-mime; name=\n\n",
            b"Content-Type: /\n\n-----BEGIN PGP MESSAGE-----\n",
            b"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=a\n\n--a\n",
        ] {
            let _ = read(raw);
        }
    }
}
