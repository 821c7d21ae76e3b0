//! The Web Key Directory (draft-koch-openpgp-webkey-service): the hashed local part and the
//! two URLs of a lookup, advanced (`openpgpkey.` subdomain) first, direct only when that
//! subdomain does not exist. Fetching them comes with the network part of `keys discover`.

use sha1::{Digest, Sha1};

/// z-base-32 (RFC 6189 §5.1.6) of SHA-1 of the local part lowercased in ASCII only, as the
/// draft says: non-ASCII letters are left as they are.
pub fn hash(local_part: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ybndrfg8ejkmcpqxot1uwisza345h769";
    let digest = Sha1::digest(local_part.to_ascii_lowercase().as_bytes());
    let mut out = String::with_capacity(32);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in digest {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The advanced and the direct lookup URLs of `address`, with the `l=` parameter carrying
/// the local part as written (percent-encoded).
pub fn urls(address: &str) -> Option<(String, String)> {
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let domain = domain.to_ascii_lowercase();
    let hash = hash(local);
    let l: String = local
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    Some((
        format!("https://openpgpkey.{domain}/.well-known/openpgpkey/{domain}/hu/{hash}?l={l}"),
        format!("https://{domain}/.well-known/openpgpkey/hu/{hash}?l={l}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_of_the_draft_example() {
        assert_eq!(hash("Joe.Doe"), "iy9q119eutrkn8s1mk4r39qejnbu3n5q");
    }

    #[test]
    fn urls_are_advanced_and_direct_with_the_local_part() {
        let (advanced, direct) = urls("Joe.Doe@Example.ORG").unwrap();
        assert_eq!(
            advanced,
            "https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"
        );
        assert_eq!(
            direct,
            "https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"
        );
        assert!(urls("a+b@x.org").unwrap().0.ends_with("?l=a%2Bb"));
        assert_eq!(urls("nobody"), None);
    }
}
