//! Modified UTF-7 (RFC 3501 §5.1.3), how IMAP names a mailbox that is not plain ASCII: the
//! user writes `Entwürfe`, the server reads and lists `Entw&APw-rfe`.
//!
//! Printable ASCII stands for itself except `&`, which is `&-`; any other run of characters
//! is UTF-16 big-endian in base64 (with `,` for `/` and no padding) between `&` and `-`.

use base64::Engine as _;
use base64::alphabet::Alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const ALPHABET: Alphabet =
    match Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,") {
        Ok(alphabet) => alphabet,
        Err(_) => panic!("the modified base64 alphabet is 64 distinct ASCII characters"),
    };

/// Modified base64: no padding either way, and leftover bits must be zero, so that each
/// name has one encoding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &ALPHABET,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// The characters that stand for themselves (and `&`, which is escaped).
fn is_direct(c: char) -> bool {
    (' '..='~').contains(&c)
}

/// The name as the server knows it.
pub fn encode(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len());
    let mut run: Vec<u8> = Vec::new();
    for c in name.chars() {
        if is_direct(c) {
            flush(&mut run, &mut encoded);
            match c {
                '&' => encoded.push_str("&-"),
                c => encoded.push(c),
            }
        } else {
            let mut units = [0; 2];
            for unit in c.encode_utf16(&mut units) {
                run.extend_from_slice(&unit.to_be_bytes());
            }
        }
    }
    flush(&mut run, &mut encoded);
    encoded
}

/// Puts a run of UTF-16 bytes out as `&…-`.
fn flush(run: &mut Vec<u8>, encoded: &mut String) {
    if run.is_empty() {
        return;
    }
    encoded.push('&');
    BASE64.encode_string(&*run, encoded);
    encoded.push('-');
    run.clear();
}

/// The name a server sent, in Unicode; `None` when it is not modified UTF-7 (a server that
/// sends UTF-8 names, or a broken one), whose names are then taken as they are.
pub fn decode(name: &str) -> Option<String> {
    let mut decoded = String::with_capacity(name.len());
    let mut rest = name;
    loop {
        let (direct, shifted) = match rest.split_once('&') {
            Some((direct, shifted)) => (direct, Some(shifted)),
            None => (rest, None),
        };
        if !direct.chars().all(is_direct) {
            return None;
        }
        decoded.push_str(direct);
        let Some(shifted) = shifted else {
            return Some(decoded);
        };
        let (base64, after) = shifted.split_once('-')?;
        if base64.is_empty() {
            decoded.push('&');
        } else {
            let bytes = BASE64.decode(base64).ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units = bytes
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
            for c in char::decode_utf16(units) {
                // Printable ASCII encoded is not modified UTF-7: that name has another form.
                match c {
                    Ok(c) if !is_direct(c) => decoded.push(c),
                    _ => return None,
                }
            }
        }
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_encodes_and_decodes() {
        // RFC 3501 §5.1.3.
        let unicode = "~peter/mail/台北/日本語";
        let wire = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
        assert_eq!(encode(unicode), wire);
        assert_eq!(decode(wire).as_deref(), Some(unicode));
    }

    #[test]
    fn names_encode_as_servers_list_them() {
        for (unicode, wire) in [
            ("INBOX", "INBOX"),
            ("Entwürfe", "Entw&APw-rfe"),
            ("R&D", "R&-D"),
            ("&", "&-"),
            ("Élément envoyé", "&AMk-l&AOk-ment envoy&AOk-"),
            ("日本語", "&ZeVnLIqe-"),
            // A character outside the BMP is a surrogate pair.
            ("mail 📬", "mail &2D3c7A-"),
            ("", ""),
        ] {
            assert_eq!(encode(unicode), wire, "{unicode}");
            assert_eq!(decode(wire).as_deref(), Some(unicode), "{wire}");
        }
    }

    #[test]
    fn what_is_not_modified_utf7_does_not_decode() {
        for wire in [
            "Entwürfe",     // UTF-8 as it is
            "R&D",          // an unescaped &
            "&ZeVnLIqe",    // no closing -
            "Entw&APx-rfe", // leftover bits set
            "&AGEAYgBj-",   // "abc", printable ASCII, encoded
            "&2D0-",        // a lone high surrogate
            "&AA-",         // an odd number of bytes
            "&ZeVnLIqe=-",  // padding
            "tab\there",    // a control character
        ] {
            assert_eq!(decode(wire), None, "{wire}");
        }
    }
}
