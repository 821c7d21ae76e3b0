//! Trust on first use: the rules that bind an address to a certificate. The first
//! certificate seen for an address is bound as `tofu`; a different one later is a
//! `conflict`, shown and never used until the user decides (`keys verify` keeps one,
//! `keys forget` drops one). A revoked or expired certificate's bindings say so.
//!
//! No crate keeps this state (sequoia-autocrypt parses headers only); it lives in
//! `state.sqlite` through [`crate::store::db`].

use std::collections::BTreeSet;

use crate::record::BindingState;
use crate::store::Db;
use crate::store::db::{Batch, Binding};

use super::Error;

/// An address as bindings key it (Autocrypt Level 1 §2.3): the whole address lowercased,
/// the domain in its IDNA ASCII form, `None` without a local part and a domain. Unlike a
/// record's address ([`crate::email`] keeps the local part as written, the domain in
/// Unicode), Autocrypt folds the local part too, so that `Alice@` and `alice@` share one key,
/// and spells the domain as DNS does, as WKD and DANE look it up.
pub fn binding_address(address: &str) -> Option<String> {
    let address = address.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let domain = idna::domain_to_ascii(domain).ok()?;
    Some(format!(
        "{}@{}",
        local.to_lowercase(),
        domain.to_lowercase()
    ))
}

/// The fingerprints bound to `address` as `tofu` or `verified`: the keys whose signature
/// shows the mail came from that address. A key in `conflict`, or revoked or expired, is
/// not one of them; nor is any key when the address cannot be read.
pub fn trusted_fingerprints(db: &Db, address: &str) -> Result<BTreeSet<String>, Error> {
    let Some(address) = binding_address(address) else {
        return Ok(BTreeSet::new());
    };
    Ok(db
        .bindings(Some(&address), None)?
        .into_iter()
        .filter(|b| b.state.is_trusted())
        .map(|b| b.fingerprint)
        .collect())
}

/// What the certificate itself says of its validity, for the binding's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    Usable,
    Revoked,
    Expired,
}

/// Binds `address` to `fingerprint`, seen at `now` by `source`, and returns the binding as
/// stored. `existing` are the address's bindings before this one.
pub fn bind(
    batch: &Batch<'_>,
    existing: &[Binding],
    address: &str,
    fingerprint: &str,
    source: &str,
    validity: Validity,
    now: i64,
) -> Result<Binding, Error> {
    let same = existing.iter().find(|b| b.fingerprint == fingerprint);
    let others_trusted = existing
        .iter()
        .any(|b| b.fingerprint != fingerprint && b.state.is_trusted());
    let state = match (validity, same) {
        (Validity::Revoked, _) => BindingState::Revoked,
        (Validity::Expired, _) => BindingState::Expired,
        (Validity::Usable, Some(known))
            if !matches!(known.state, BindingState::Revoked | BindingState::Expired) =>
        {
            known.state
        }
        (Validity::Usable, _) if others_trusted => BindingState::Conflict,
        (Validity::Usable, _) => BindingState::Tofu,
    };
    let binding = Binding {
        address: address.to_string(),
        fingerprint: fingerprint.to_string(),
        source: same.map_or(source, |b| b.source.as_str()).to_string(),
        state,
        first_seen: same.map_or(now, |b| b.first_seen),
        last_seen: now,
    };
    batch.put_binding(&binding)?;
    Ok(binding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use BindingState::{Conflict, Expired, Revoked, Tofu};

    fn bound(
        db: &mut Db,
        address: &str,
        fingerprint: &str,
        validity: Validity,
        now: i64,
    ) -> Binding {
        let existing = db.bindings(Some(address), None).unwrap();
        let batch = db.batch().unwrap();
        let binding = bind(
            &batch,
            &existing,
            address,
            fingerprint,
            "import",
            validity,
            now,
        )
        .unwrap();
        batch.commit().unwrap();
        binding
    }

    #[test]
    fn addresses_are_canonicalised_for_binding() {
        assert_eq!(
            binding_address("Alice.Smith@Example.ORG").as_deref(),
            Some("alice.smith@example.org")
        );
        assert_eq!(
            binding_address("<bob@bücher.example>").as_deref(),
            Some("bob@xn--bcher-kva.example")
        );
        assert_eq!(binding_address("no-at-sign"), None);
    }

    #[test]
    fn the_first_key_is_trusted_on_first_use_and_a_second_is_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("s.sqlite")).unwrap();
        let first = bound(&mut db, "a@x.org", "AAAA", Validity::Usable, 10);
        assert_eq!((first.state, first.first_seen), (Tofu, 10));
        let again = bound(&mut db, "a@x.org", "AAAA", Validity::Usable, 20);
        assert_eq!(
            (again.state, again.first_seen, again.last_seen),
            (Tofu, 10, 20)
        );
        let second = bound(&mut db, "a@x.org", "BBBB", Validity::Usable, 30);
        assert_eq!(
            second.state, Conflict,
            "a new key for a bound address is never used silently"
        );
        assert_eq!(db.bindings(Some("a@x.org"), None).unwrap().len(), 2);
    }

    #[test]
    fn revoked_and_expired_keys_say_so_and_do_not_block_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("s.sqlite")).unwrap();
        bound(&mut db, "a@x.org", "AAAA", Validity::Usable, 10);
        let revoked = bound(&mut db, "a@x.org", "AAAA", Validity::Revoked, 20);
        assert_eq!(revoked.state, Revoked);
        let next = bound(&mut db, "a@x.org", "BBBB", Validity::Usable, 30);
        assert_eq!(
            next.state, Tofu,
            "the revoked key no longer holds the address"
        );
        assert_eq!(
            bound(&mut db, "b@x.org", "CCCC", Validity::Expired, 40).state,
            Expired
        );
    }
}
