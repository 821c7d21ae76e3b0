//! Reads the sender's Autocrypt header (Autocrypt Level 1 §2.1) and the fingerprint of the
//! key it carries (the first OpenPGP packet, RFC 9580 §5.5.4). The header counts only when
//! its key data is a certificate that can encrypt to its address; storing and trusting keys
//! is the keys module's job, not this one's.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use openpgp::Cert;
use openpgp::parse::Parse as _;
use openpgp::policy::StandardPolicy;
use openpgp::types::RevocationStatus;
use sequoia_openpgp as openpgp;
use sha1::Digest as _;

use super::header_text::headers;
use crate::record::{Address, Autocrypt};

/// Headers longer than this are ignored: a key that large is not a reasonable Autocrypt
/// key, and parsing it costs more than it can be worth.
const MAX_HEADER: usize = 10 * 1024;

/// The one valid Autocrypt header whose `addr` is the From address, when its key data is a
/// certificate that can encrypt to that address ([`is_usable_key`]); otherwise None, and in
/// words why such a header was refused. None without a problem when there is no From, no
/// such header, or more than one (Level 1 §2.3 treats that as an error).
pub(crate) fn header(
    message: &mail_parser::Message<'_>,
    from: Option<&Address>,
) -> (Option<Autocrypt>, Option<String>) {
    match header_and_key(message, from) {
        Some((header, keydata)) if is_usable_key(&keydata, &header.addr) => (Some(header), None),
        Some((header, _)) => (
            None,
            Some(format!(
                "Autocrypt header for {} whose keydata is not a certificate with an encryption \
                 key for that address: ignored",
                header.addr
            )),
        ),
        None => (None, None),
    }
}

/// Whether `keydata` is a certificate valid under the standard policy now, not revoked,
/// with a live encryption-capable key and a user id whose address is `addr`: what an
/// Autocrypt header must carry to be worth anything (Level 1 §2.1), as anyone can write the
/// header.
fn is_usable_key(keydata: &[u8], addr: &str) -> bool {
    let policy = StandardPolicy::new();
    let Ok(cert) = Cert::from_bytes(keydata) else {
        return false;
    };
    let Ok(valid) = cert.with_policy(&policy, None) else {
        return false;
    };
    let addr = addr.to_lowercase();
    let not_revoked = !matches!(valid.revocation_status(), RevocationStatus::Revoked(_));
    let names_addr = valid.userids().any(|userid| {
        userid
            .userid()
            .email()
            .ok()
            .flatten()
            .is_some_and(|email| email.to_lowercase() == addr)
    });
    let encrypts = valid
        .keys()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .next()
        .is_some();
    valid.alive().is_ok() && not_revoked && names_addr && encrypts
}

/// The header as [`header`] finds it, with its decoded key data.
pub(crate) fn header_and_key(
    message: &mail_parser::Message<'_>,
    from: Option<&Address>,
) -> Option<(Autocrypt, Vec<u8>)> {
    let from = from?.address.to_lowercase();
    if from.is_empty() {
        return None;
    }
    let mut valid = headers(message, "Autocrypt")
        .filter_map(|(_, text)| parse(&text))
        .filter(|found| found.addr.to_lowercase() == from);
    let found = valid.next()?;
    if valid.next().is_some() {
        return None;
    }
    let header = Autocrypt {
        fingerprint: fingerprint(&found.keydata),
        addr: found.addr,
        prefer_encrypt: found.prefer_encrypt,
    };
    Some((header, found.keydata))
}

/// The well-formed Autocrypt-Gossip headers of a decrypted payload's root part (Level 1
/// §2.3, §3): each one's address and key data, in header order. Which of them count (only
/// the message's recipients) is for the keys module to decide.
pub(crate) fn gossip(message: &mail_parser::Message<'_>) -> Vec<(String, Vec<u8>)> {
    headers(message, "Autocrypt-Gossip")
        .filter_map(|(_, text)| parse(&text))
        .filter(|found| !found.keydata.is_empty())
        .map(|found| (found.addr, found.keydata))
        .collect()
}

/// A well-formed header, before it is matched against From.
#[derive(Debug, PartialEq)]
struct Parsed {
    /// In the record's canonical form, so that it compares with `from.address`.
    addr: String,
    prefer_encrypt: String,
    keydata: Vec<u8>,
}

/// `addr=…; [prefer-encrypt=mutual;] [_other=…;] keydata=…`, or None when the header must be
/// ignored: too long, without `addr` or `keydata`, a critical attribute we do not know, or
/// an attribute given twice.
fn parse(text: &str) -> Option<Parsed> {
    if text.len() > MAX_HEADER {
        return None;
    }
    let mut addr = None;
    let mut prefer_encrypt = None;
    let mut keydata = None;
    for attribute in text.split(';') {
        let attribute = attribute.trim();
        if attribute.is_empty() {
            continue;
        }
        let (name, value) = attribute.split_once('=')?;
        let slot = match name.trim() {
            "addr" => &mut addr,
            "prefer-encrypt" => &mut prefer_encrypt,
            "keydata" => &mut keydata,
            // Names starting with `_` are non-critical: ignore what we do not know.
            other if other.starts_with('_') => continue,
            _ => return None,
        };
        if slot.replace(value.trim()).is_some() {
            return None;
        }
    }
    let addr = addr.filter(|a| !a.is_empty())?;
    let keydata: String = keydata?.split_ascii_whitespace().collect();
    if keydata.is_empty() {
        return None;
    }
    Some(Parsed {
        addr: super::address_with_unicode_domain(addr),
        prefer_encrypt: match prefer_encrypt {
            Some("mutual") => "mutual",
            _ => "nopreference",
        }
        .to_string(),
        // Keydata that is not base64 leaves the header valid but its key unreadable.
        keydata: lenient_base64().decode(&keydata).unwrap_or_default(),
    })
}

/// Standard base64 that does not insist on padding, as some clients drop it.
fn lenient_base64() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// The fingerprint of the public key in the first packet, uppercase hex: v4 is SHA-1 and
/// v6 SHA-256 over a fixed prefix, the body length and the body (RFC 9580 §5.5.4); v5
/// (LibrePGP, made by GnuPG 2.4 on request) is SHA-256 with its own prefix. None when
/// the first packet is not a public key we can read.
fn fingerprint(keydata: &[u8]) -> Option<String> {
    let body = first_public_key(keydata)?;
    let digest = match body.first()? {
        4 => {
            let length = u16::try_from(body.len()).ok()?;
            let mut hash = sha1::Sha1::new();
            hash.update([0x99]);
            hash.update(length.to_be_bytes());
            hash.update(body);
            hash.finalize().to_vec()
        }
        version @ (5 | 6) => {
            let length = u32::try_from(body.len()).ok()?;
            let mut hash = sha2::Sha256::new();
            hash.update([if *version == 6 { 0x9B } else { 0x9A }]);
            hash.update(length.to_be_bytes());
            hash.update(body);
            hash.finalize().to_vec()
        }
        _ => return None,
    };
    Some(hex::encode_upper(digest))
}

/// The body of the first packet when it is a Public-Key packet (tag 6), in either header
/// format (RFC 9580 §4.2).
fn first_public_key(data: &[u8]) -> Option<&[u8]> {
    const PUBLIC_KEY: u8 = 6;
    let ctb = *data.first()?;
    if ctb & 0x80 == 0 {
        return None;
    }
    let byte = |i: usize| data.get(i).copied().map(usize::from);
    let (tag, start, length): (u8, usize, usize) = if ctb & 0x40 != 0 {
        // OpenPGP format: one, two or five length octets. Partial lengths are not allowed
        // for key packets.
        let tag = ctb & 0x3f;
        match byte(1)? {
            short @ 0..=191 => (tag, 2, short),
            first @ 192..=223 => (tag, 3, ((first - 192) << 8) + byte(2)? + 192),
            255 => {
                let bytes = data.get(2..6)?;
                let length = u32::from_be_bytes(bytes.try_into().ok()?);
                (tag, 6, usize::try_from(length).ok()?)
            }
            _ => return None,
        }
    } else {
        // Legacy format: the low two bits say how many length octets follow.
        let tag = (ctb >> 2) & 0x0f;
        match ctb & 0x03 {
            0 => (tag, 2, byte(1)?),
            1 => (tag, 3, (byte(1)? << 8) | byte(2)?),
            2 => {
                let bytes = data.get(1..5)?;
                let length = u32::from_be_bytes(bytes.try_into().ok()?);
                (tag, 5, usize::try_from(length).ok()?)
            }
            // Indeterminate: the packet runs to the end of the data.
            _ => (tag, 1, data.len().saturating_sub(1)),
        }
    };
    if tag != PUBLIC_KEY {
        return None;
    }
    data.get(start..start.checked_add(length)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gossip_headers_give_each_address_and_key_and_malformed_ones_are_skipped() {
        let raw = b"Content-Type: text/plain\r\nAutocrypt-Gossip: addr=Bob@Example.NET; keydata=AQID\r\nAutocrypt-Gossip: addr=carol@example.net; keydata=BAUG\r\nAutocrypt-Gossip: addr=eve@example.net; critical=1; keydata=AQID\r\nAutocrypt-Gossip: keydata=AQID\r\n\r\nhi\r\n";
        let parsed = crate::email::parse(raw).unwrap();
        assert_eq!(
            gossip(&parsed),
            [
                ("Bob@example.net".to_string(), vec![1, 2, 3]),
                ("carol@example.net".to_string(), vec![4, 5, 6]),
            ]
        );
    }

    /// Alice's public key (ed25519 primary key, user ID, cv25519 encryption subkey), made
    /// once with GnuPG 2.2.40:
    ///
    /// ```sh
    /// export GNUPGHOME=$(mktemp -d)
    /// gpg --batch --passphrase '' --quick-gen-key 'Alice <alice@example.org>' ed25519 sign never
    /// gpg --batch --passphrase '' --quick-add-key FINGERPRINT cv25519 encr never
    /// gpg --export alice@example.org | base64 -w0
    /// gpg --list-keys --with-colons | grep fpr
    /// ```
    const ALICE_KEYDATA: &str = "mDMEaxPFZhYJKwYBBAHaRw8BAQdAHXdkfY2dkYVV02vBE2SgHaJteRRbGRjovQJMJVV9J+a0GUFsaWNlIDxhbGljZUBleGFtcGxlLm9yZz6IkAQTFggAOBYhBDPA1Oc2Wg+3iDprFNY+qOuC7oyaBQJrE8VmAhsDBQsJCAcCBhUKCQgLAgQWAgMBAh4BAheAAAoJENY+qOuC7oyahrIBAOFiSOA1zTqUplyWiVUX+7t4UcxE7nkFT1ZR8tYFLrATAQDMDRfXYCRKRMwDOo2ILeFI4N97xwDGJiABc/zRH82ECbg4BGsTxWYSCisGAQQBl1UBBQEBB0AAd/TRXV7atMXHIaMABazz2jj9Tl51pPzMydzaMnuxZgMBCAeIeAQYFggAIBYhBDPA1Oc2Wg+3iDprFNY+qOuC7oyaBQJrE8VmAhsMAAoJENY+qOuC7oyaPaQBAO2t9E+1KZY5t/k+nFoSCNC3QnmBlTS+wOa4lnLZvc0dAQDTmffpsD5Q8FJhT+17IFO23YTUCWaVLMatcFEwwdHgCA==";
    /// As `gpg --list-keys` printed it for [`ALICE_KEYDATA`].
    const ALICE_FINGERPRINT: &str = "33C0D4E7365A0FB7883A6B14D63EA8EB82EE8C9A";
    /// An older key of Alice's that can only sign (the first command above alone).
    const ALICE_SIGN_ONLY_KEYDATA: &str = "mDMEawbi1xYJKwYBBAHaRw8BAQdAzGmA1j8eGyUl5cTu1+X3mDTjMbYnCNufDznxTHR7na+0GUFsaWNlIDxhbGljZUBleGFtcGxlLm9yZz6IkAQTFggAOBYhBCUnOUuxhBsK9yG/CAkTBE+aez/EBQJrBuLXAhsDBQsJCAcCBhUKCQgLAgQWAgMBAh4BAheAAAoJEAkTBE+aez/Erb0A+QEzV3H4ocN8XfwS+IV/Weg6LUWysx47EMuC2LCbvBvmAQCsYQidZ3xYpmb1k5VvKMSo3Ds0PAZEy5eox+F9iL30Dw==";
    /// Mallory's key (made as Alice's, for `Mallory <mallory@example.net>`).
    const MALLORY_KEYDATA: &str = "mDMEaxPFZhYJKwYBBAHaRw8BAQdAKeUhGyBqluRY0RQ+KT/eSWGIDXD87Jj1GRoj5uAuo6i0HU1hbGxvcnkgPG1hbGxvcnlAZXhhbXBsZS5uZXQ+iJAEExYIADgWIQThKnGXssVx2jbHz0RLs21NPGYHGAUCaxPFZgIbAwULCQgHAgYVCgkICwIEFgIDAQIeAQIXgAAKCRBLs21NPGYHGLJdAQDzQFNIK48zUsC9IbN0XPm8v5GSnstES0eVr4NfYi56EAD6A4f12Xw8NSIFFCoG7Vqh0yHRaNWj7L/tYctNVoiqzwO4OARrE8VmEgorBgEEAZdVAQUBAQdA9fTkUv8yaJ9k7gdab9qZtX8rZggR04Hzlo/23DwExTEDAQgHiHgEGBYIACAWIQThKnGXssVx2jbHz0RLs21NPGYHGAUCaxPFZgIbDAAKCRBLs21NPGYHGBdrAP9UFDZhsqvl435wugx58E9SW/zdixDfbuk1nz74Pp0HJQEA19ne51lfc9mny/jkcqae9qoKBErejeUoVUY6wzeYTQg=";

    /// The Public-Key packet of the sample v6 certificate in RFC 9580 Appendix A.3, with the
    /// fingerprint the RFC gives for it.
    const RFC9580_V6_KEY: &str = "xioGY4d/4xsAAAAg+U2nu0jWCmHlZ3BqZYfQMxmZu52JGggkLq2EVD34laM=";
    const RFC9580_V6_FINGERPRINT: &str =
        "CB186C4F0609A697E4D52DFA6C722B0C1F1E27C18A56708F6525EC27BAD9ACC9";

    fn alice() -> Address {
        Address {
            name: Some("Alice".into()),
            address: "alice@example.org".into(),
            group: None,
        }
    }

    /// `keydata` folded over lines of 76 characters, as a mail client writes it.
    fn folded(keydata: &str) -> String {
        keydata
            .as_bytes()
            .chunks(76)
            .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n ")
    }

    fn message_with(autocrypt: &[String]) -> Vec<u8> {
        let mut raw = String::from("From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n");
        for header in autocrypt {
            raw.push_str("Autocrypt: ");
            raw.push_str(header);
            raw.push_str("\r\n");
        }
        raw.push_str("Subject: hi\r\n\r\nHello.\r\n");
        raw.into_bytes()
    }

    fn read(autocrypt: &[String], from: Option<&Address>) -> Option<Autocrypt> {
        let raw = message_with(autocrypt);
        let message = mail_parser::MessageParser::default()
            .parse(&raw)
            .expect("test message parses");
        header(&message, from).0
    }

    fn valid() -> String {
        format!(
            "addr=alice@example.org; prefer-encrypt=mutual; keydata=\r\n {}",
            folded(ALICE_KEYDATA)
        )
    }

    #[test]
    fn a_valid_header_gives_addr_preference_and_fingerprint() {
        assert_eq!(
            read(&[valid()], Some(&alice())),
            Some(Autocrypt {
                addr: "alice@example.org".into(),
                prefer_encrypt: "mutual".into(),
                fingerprint: Some(ALICE_FINGERPRINT.into()),
            })
        );
    }

    #[test]
    fn prefer_encrypt_defaults_to_nopreference() {
        for header in [
            format!("addr=alice@example.org; keydata={ALICE_KEYDATA}"),
            format!("addr=alice@example.org; prefer-encrypt=always; keydata={ALICE_KEYDATA}"),
            format!("addr=alice@example.org; prefer-encrypt=nopreference; keydata={ALICE_KEYDATA}"),
        ] {
            let found = read(&[header], Some(&alice())).expect("valid header");
            assert_eq!(found.prefer_encrypt, "nopreference");
        }
    }

    #[test]
    fn an_unknown_critical_attribute_makes_the_header_invalid() {
        let header = format!("addr=alice@example.org; type=2; keydata={ALICE_KEYDATA}");
        assert_eq!(read(&[header], Some(&alice())), None);
        let header = format!("addr=alice@example.org; flag; keydata={ALICE_KEYDATA}");
        assert_eq!(read(&[header], Some(&alice())), None);
    }

    #[test]
    fn an_unknown_attribute_starting_with_underscore_is_ignored() {
        let header =
            format!("addr=alice@example.org; _venue=example.org; _x=; keydata={ALICE_KEYDATA};");
        let found = read(&[header], Some(&alice())).expect("valid header");
        assert_eq!(found.fingerprint.as_deref(), Some(ALICE_FINGERPRINT));
    }

    #[test]
    fn missing_addr_or_keydata_makes_the_header_invalid() {
        for header in [
            format!("keydata={ALICE_KEYDATA}"),
            format!("addr=; keydata={ALICE_KEYDATA}"),
            "addr=alice@example.org; prefer-encrypt=mutual".to_string(),
            "addr=alice@example.org; keydata=  ".to_string(),
        ] {
            assert_eq!(
                read(std::slice::from_ref(&header), Some(&alice())),
                None,
                "{header}"
            );
        }
    }

    #[test]
    fn an_attribute_given_twice_makes_the_header_invalid() {
        let header =
            format!("addr=alice@example.org; addr=mallory@example.net; keydata={ALICE_KEYDATA}");
        assert_eq!(read(&[header], Some(&alice())), None);
    }

    #[test]
    fn an_addr_that_is_not_the_from_address_is_ignored() {
        let header = format!("addr=mallory@example.net; keydata={ALICE_KEYDATA}");
        assert_eq!(read(&[header], Some(&alice())), None);
        assert_eq!(read(&[valid()], None), None);
    }

    #[test]
    fn addr_matches_from_regardless_of_case() {
        let header = format!("addr=Alice@EXAMPLE.org; keydata={ALICE_KEYDATA}");
        let found = read(&[header], Some(&alice())).expect("valid header");
        assert_eq!(found.addr, "Alice@example.org");
    }

    #[test]
    fn two_valid_headers_cancel_each_other() {
        assert_eq!(read(&[valid(), valid()], Some(&alice())), None);
    }

    #[test]
    fn a_second_header_for_someone_else_does_not_count() {
        let other = format!("addr=bob@example.net; keydata={ALICE_KEYDATA}");
        let found = read(&[other, valid()], Some(&alice())).expect("one header for alice");
        assert_eq!(found.fingerprint.as_deref(), Some(ALICE_FINGERPRINT));
    }

    #[test]
    fn a_header_over_10_kib_is_ignored() {
        let padding = "A".repeat(MAX_HEADER);
        let header = format!("addr=alice@example.org; _pad={padding}; keydata={ALICE_KEYDATA}");
        assert_eq!(read(&[header], Some(&alice())), None);
    }

    #[test]
    fn keydata_that_is_no_usable_key_for_the_address_makes_the_header_not_count() {
        for keydata in [
            "!!!not base64!!!",
            "AAAA",
            "mQ==",
            "mDMEawbi1xYJ",
            ALICE_SIGN_ONLY_KEYDATA,
            MALLORY_KEYDATA,
        ] {
            let raw = message_with(&[format!("addr=alice@example.org; keydata={keydata}")]);
            let message = crate::email::parse(&raw).expect("test message parses");
            let (found, problem) = header(&message, Some(&alice()));
            assert_eq!(found, None, "{keydata}");
            assert!(
                problem.is_some_and(|p| p.contains("not a certificate with an encryption key")),
                "{keydata}"
            );
        }
    }

    #[test]
    fn a_key_is_usable_only_for_an_address_its_user_ids_name() {
        let key = decode(ALICE_KEYDATA);
        assert!(is_usable_key(&key, "alice@example.org"));
        assert!(is_usable_key(&key, "ALICE@example.org"));
        assert!(!is_usable_key(&key, "bob@example.net"));
        assert!(!is_usable_key(
            &decode(ALICE_SIGN_ONLY_KEYDATA),
            "alice@example.org"
        ));
    }

    fn decode(base64: &str) -> Vec<u8> {
        lenient_base64().decode(base64).expect("test base64")
    }

    #[test]
    fn the_v4_fingerprint_matches_what_gpg_printed() {
        assert_eq!(
            fingerprint(&decode(ALICE_KEYDATA)).as_deref(),
            Some(ALICE_FINGERPRINT)
        );
    }

    #[test]
    fn the_v6_fingerprint_matches_rfc_9580() {
        assert_eq!(
            fingerprint(&decode(RFC9580_V6_KEY)).as_deref(),
            Some(RFC9580_V6_FINGERPRINT)
        );
    }

    #[test]
    fn every_packet_header_format_gives_the_same_fingerprint() {
        // gpg wrote a legacy header with one length octet: 0x98, then the length.
        let data = decode(ALICE_KEYDATA);
        let length = usize::from(data[1]);
        let body = &data[2..2 + length];
        let with = |header: &[u8]| [header, body].concat();
        let n = length as u8;
        for packet in [
            with(&[0x98, n]),                // legacy, one octet
            with(&[0x99, 0, n]),             // legacy, two octets
            with(&[0x9A, 0, 0, 0, n]),       // legacy, four octets
            with(&[0x9B]),                   // legacy, indeterminate
            with(&[0xC6, n]),                // OpenPGP, one octet
            with(&[0xC6, 0xFF, 0, 0, 0, n]), // OpenPGP, five octets
        ] {
            assert_eq!(
                fingerprint(&packet).as_deref(),
                Some(ALICE_FINGERPRINT),
                "{:02x?}",
                &packet[..6]
            );
        }
        // OpenPGP two-octet lengths start at 192; build one by padding the body.
        let long = [body, &[0u8; 200][..]].concat();
        let octets = long.len() - 192;
        let packet = [&[0xC6, (octets >> 8) as u8 + 192, octets as u8][..], &long].concat();
        assert!(fingerprint(&packet).is_some());
    }

    proptest::proptest! {
        #[test]
        fn any_keydata_or_header_reads_without_panicking(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            text in "[a-z_=; @.A-Za-z0-9+/-]{0,200}",
        ) {
            let _ = fingerprint(&data);
            let _ = parse(&text);
        }
    }

    #[test]
    fn packets_that_are_not_a_readable_public_key_give_no_fingerprint() {
        let data = decode(ALICE_KEYDATA);
        for packet in [
            &[][..],
            &[0x00],                   // no packet bit
            &[0xB4, 0x01, b'x'],       // a user ID packet first
            &[0x98],                   // no length
            &[0x98, 0x33, 0x04],       // truncated body
            &[0xC6, 0xE0, 0x04],       // partial length
            &[0xC6, 0xFF, 0xFF, 0xFF], // short five-octet length
            &[0xC6, 0x01, 0x03],       // version 3
            &[0xC6, 0x00],             // empty body
            &data[..10],
        ] {
            assert_eq!(fingerprint(packet), None, "{packet:02x?}");
        }
    }
}
