//! DNS OPENPGPKEY (RFC 7929): the owner name of an address's record, and its lookup under
//! DNSSEC validation. Only a record whose proof is `Secure` is used; an `Insecure` answer
//! (unsigned zone), a `Bogus` one and any error are reported and not used. sequoia-net's
//! DANE lookup checks no proof, so this module does. The validating resolver, with the
//! configured trust anchor, is made by [`super::discover`].

use hickory_resolver::TokioResolver;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::dnssec::Proof;
use hickory_resolver::proto::rr::{RData, RecordType};
use sha2::{Digest, Sha256};

use super::crypto;
use super::lookup::{Address, Lookup, Outcome};

const METHOD: &str = "dane";

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

/// Queries the OPENPGPKEY record of `target` with `resolver`, which must validate DNSSEC,
/// and keeps the certificates of secure records that carry the address.
pub(crate) async fn lookup(resolver: &TokioResolver, target: &Address) -> Lookup {
    let address = target.canonical.as_str();
    let Some(name) = owner_name(&target.queried) else {
        return Lookup::new(METHOD, address).with(Outcome::Refused, "not an address");
    };
    let lookup = Lookup::new(METHOD, name.clone());
    let answer = match resolver
        .lookup(format!("{name}."), RecordType::OPENPGPKEY)
        .await
    {
        Ok(answer) => answer,
        Err(error) => return failed(lookup, &error),
    };
    let mut certs = Vec::new();
    let mut lookup = lookup;
    for record in answer.answers() {
        let RData::OPENPGPKEY(key) = &record.data else {
            continue;
        };
        match record.proof {
            Proof::Secure => match crypto::parse_certs(&key.public_key) {
                Ok(found) => certs.extend(found),
                Err(error) => lookup = lookup.with(Outcome::Refused, error.to_string()),
            },
            proof => {
                let reason = format!("the answer's DNSSEC proof is {proof}, not secure");
                lookup = lookup.with(Outcome::Refused, reason);
            }
        }
    }
    if certs.is_empty() && lookup.problems.is_empty() {
        return lookup.with(Outcome::NotFound, format!("no OPENPGPKEY record at {name}"));
    }
    lookup.keep_certs_for(certs, address)
}

fn failed(lookup: Lookup, error: &NetError) -> Lookup {
    let name = lookup.from.clone();
    match error {
        NetError::Dns(DnsError::DnssecBogus) => lookup.with(
            Outcome::Refused,
            "DNSSEC validation failed (bogus): the answer is not used".to_string(),
        ),
        NetError::Dns(DnsError::Nsec { proof, .. }) if *proof == Proof::Bogus => lookup.with(
            Outcome::Refused,
            format!("DNSSEC validation of the answer that {name} has no record failed (bogus)"),
        ),
        NetError::Dns(DnsError::Nsec { proof, .. }) => lookup.with(
            Outcome::NotFound,
            format!("no OPENPGPKEY record at {name} (DNSSEC: {proof})"),
        ),
        _ if error.is_nx_domain() || error.is_no_records_found() => {
            lookup.with(Outcome::NotFound, format!("no OPENPGPKEY record at {name}"))
        }
        other => lookup.with(Outcome::Failed { transient: true }, other.to_string()),
    }
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
