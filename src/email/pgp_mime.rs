//! Reads encryption and signature structure: PGP/MIME (RFC 3156), inline PGP (RFC 4880 §6
//! armour in a text part) and S/MIME (RFC 8551). Nothing is decrypted or verified here;
//! that waits for the keys.
//!
//! The walk starts at the top and goes down through multiparts, so a signed part that a
//! mailing list wrapped in multipart/mixed to add its footer still counts. It does not go
//! into attached messages (message/rfc822): a forwarded signed mail does not sign this one.
//! Nor does it go into multipart/encrypted, whose inside cannot be seen; a signature there
//! stays unknown.

use mail_parser::{ContentType, MessagePart, MimeHeaders, PartType};

use crate::record::{Encryption, SignatureFormat};

/// How the message is encrypted and signed, as far as its structure shows. MIME structure
/// wins over an armoured block in a text part when both are present.
pub(crate) fn structure(
    message: &mail_parser::Message<'_>,
) -> (Encryption, Option<SignatureFormat>) {
    let mut found = Found::default();
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
        let children = found.look_at(message, part);
        // Reversed so that the stack visits children in order.
        pending.extend(children.into_iter().rev());
    }
    let encryption = found
        .mime_encryption
        .or(found.inline_encryption.then_some(Encryption::PgpInline))
        .unwrap_or(Encryption::None);
    let signed = found
        .mime_signature
        .or(found.inline_signature.then_some(SignatureFormat::PgpInline));
    (encryption, signed)
}

#[derive(Default)]
struct Found {
    mime_encryption: Option<Encryption>,
    mime_signature: Option<SignatureFormat>,
    inline_encryption: bool,
    inline_signature: bool,
}

impl Found {
    /// Notes what `part` shows and returns the children to look at next.
    fn look_at(
        &mut self,
        message: &mail_parser::Message<'_>,
        part: &MessagePart<'_>,
    ) -> Vec<usize> {
        let children = match &part.body {
            PartType::Multipart(ids) => ids.iter().map(|&id| id as usize).collect(),
            _ => Vec::new(),
        };
        let (kind, sub) = media_type(part.content_type());
        match (kind.as_str(), sub.as_str()) {
            ("multipart", "encrypted") => {
                let protocol = protocol(part, message, children.first());
                if protocol == "application/pgp-encrypted" {
                    self.mime_encryption.get_or_insert(Encryption::PgpMime);
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
                if let Some(format) = format {
                    self.mime_signature.get_or_insert(format);
                }
                children
            }
            ("application", "pkcs7-mime" | "x-pkcs7-mime") => {
                let smime_type = part
                    .content_type()
                    .and_then(|ct| parameter(ct, "smime-type"))
                    .map(str::to_ascii_lowercase);
                match smime_type.as_deref() {
                    Some("enveloped-data" | "authenveloped-data") => {
                        self.mime_encryption.get_or_insert(Encryption::Smime);
                    }
                    Some("signed-data") => {
                        self.mime_signature.get_or_insert(SignatureFormat::Smime);
                    }
                    // RFC 8551 §3.2.2 names the file smime.p7m; old clients that leave
                    // out smime-type nearly always mean an envelope.
                    None if part
                        .attachment_name()
                        .is_some_and(|name| name.to_ascii_lowercase().ends_with(".p7m")) =>
                    {
                        self.mime_encryption.get_or_insert(Encryption::Smime);
                    }
                    _ => {}
                }
                Vec::new()
            }
            _ => {
                if let PartType::Text(text) = &part.body {
                    let attached = part
                        .content_disposition()
                        .is_some_and(ContentType::is_attachment);
                    if !attached {
                        self.read_armour(text);
                    }
                }
                children
            }
        }
    }

    /// Notes armour that begins a line; a sentence that merely quotes the marker, or a
    /// reply that quotes it after `> `, does not count.
    fn read_armour(&mut self, text: &str) {
        for line in text.lines() {
            match line.trim_end() {
                "-----BEGIN PGP MESSAGE-----" => self.inline_encryption = true,
                "-----BEGIN PGP SIGNED MESSAGE-----" => self.inline_signature = true,
                _ => {}
            }
        }
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

    fn read(raw: &[u8]) -> (Encryption, Option<SignatureFormat>) {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("test message parses");
        structure(&message)
    }

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
        hF4DZmFrZSBlbmNyeXB0ZWQgZGF0YQ==\n\
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

    #[test]
    fn multipart_signed_with_pgp_signature_is_pgp_mime_signed() {
        let raw = b"From: alice@example.org\n\
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
            -----BEGIN PGP SIGNATURE-----\n\
            \n\
            iQEzBAEBCgAdFiEEZmFrZQ==\n\
            -----END PGP SIGNATURE-----\n\
            --sig--\n";
        assert_eq!(
            read(raw),
            (Encryption::None, Some(SignatureFormat::PgpMime))
        );
    }

    #[test]
    fn multipart_signed_inside_a_list_footer_still_counts() {
        let raw =
            include_bytes!("../../tests/fixtures/email/pgp_mime_signed_wrapped_by_list_footer.eml");
        assert_eq!(
            read(raw),
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
                 MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwEAAA==\n\
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
        assert_eq!(
            read(
                pkcs7("application/pkcs7-mime; smime-type=signed-data; name=smime.p7m").as_bytes()
            ),
            (Encryption::None, Some(SignatureFormat::Smime))
        );
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
            hQEMAzZmYWtlIGVuY3J5cHRlZA==\r\n\
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
        let raw = b"From: alice@example.org\n\
            MIME-Version: 1.0\n\
            Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=s\n\
            \n\
            --s\n\
            Content-Type: text/plain\n\
            \n\
            -----BEGIN PGP MESSAGE-----\n\
            \n\
            hQEMAzZmYWtl\n\
            -----END PGP MESSAGE-----\n\
            --s\n\
            Content-Type: application/pgp-signature\n\
            \n\
            sig\n\
            --s--\n";
        assert_eq!(
            read(raw),
            (Encryption::PgpInline, Some(SignatureFormat::PgpMime))
        );
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
