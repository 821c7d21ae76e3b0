//! DNS OPENPGPKEY (RFC 7929): the owner name of an address's record. The lookup itself, which
//! must be DNSSEC-validated (`Proof::Secure`) before a record is used, comes with the
//! network part of `keys discover`.

use sha2::{Digest, Sha256};

/// `HEX(SHA2-256(local part)[..28])._openpgpkey.DOMAIN`. The local part is hashed as
/// written: RFC 7929 §3 folds no case.
pub fn owner_name(address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let digest = Sha256::digest(local.as_bytes());
    Some(format!(
        "{}._openpgpkey.{}",
        hex::encode(&digest[..28]),
        domain.to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_name_of_the_rfc_example() {
        assert_eq!(
            owner_name("hugh@example.com").as_deref(),
            Some(
                "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._openpgpkey.example.com"
            )
        );
    }

    #[test]
    fn the_local_part_keeps_its_case() {
        assert_ne!(
            owner_name("Hugh@example.com"),
            owner_name("hugh@example.com")
        );
        assert_eq!(owner_name("@example.com"), None);
    }
}
