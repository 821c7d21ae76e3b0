//! Trust on first use: the rules that bind an address to a certificate. The first
//! certificate seen for an address is bound as `tofu`; a different one later is a
//! `conflict`, shown and never used until the user decides (`keys verify` keeps one,
//! `keys forget` drops one). A revoked, expired or invalid certificate's bindings say so,
//! and the key that comes after one is `replaced`, naming it. A key only gossiped about an
//! address is `gossip`: it never takes the first use. Rules read and write in one
//! `BEGIN IMMEDIATE` transaction, so that two processes cannot both take the first use.
//!
//! No crate keeps this state (sequoia-autocrypt parses headers only); it lives in
//! `state.sqlite` through [`crate::store::db`].

use std::collections::BTreeSet;
use std::time::SystemTime;

use crate::record::BindingState;
use crate::store::Db;
use crate::store::db::{Batch, Binding};

use super::Error;
use super::crypto::{self, Validity};

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

/// Whether `cert` binds `address` (canonical, [`binding_address`]) at `now`: one of its
/// self-signed user ids ([`crypto::Summary::addresses`]) carries it.
pub fn carries(cert: &sequoia_openpgp::Cert, address: &str, now: SystemTime) -> bool {
    crypto::summary(cert, now)
        .addresses
        .iter()
        .any(|a| binding_address(a).as_deref() == Some(address))
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

/// The source of a key named by a third party (Autocrypt-Gossip): bound as
/// [`BindingState::Gossip`], never as the address's first-use key.
pub const GOSSIP: &str = "gossip";

/// Binds `address` to `fingerprint`, seen at `now` by `source`, and returns the binding as
/// stored. The address's bindings are read inside `batch`, which holds the write lock from
/// its start ([`crate::store::Db::batch`] begins IMMEDIATE), so that two processes binding
/// the same address take turns and the second sees the first's key.
///
/// A key bound to the address before counts only while its certificate is still valid:
/// one revoked, expired or invalid since is marked so first, and a new key then is
/// `replaced`, naming it, rather than a quiet first use. Gossip is bound as `gossip` and
/// changes no other binding.
pub fn bind(
    batch: &Batch<'_>,
    address: &str,
    fingerprint: &str,
    source: &str,
    validity: Validity,
    now: SystemTime,
) -> Result<Binding, Error> {
    let seconds = super::seconds(now);
    let mut existing = batch.bindings(Some(address), None)?;
    for other in existing
        .iter_mut()
        .filter(|b| b.fingerprint != fingerprint && b.state.is_trusted())
    {
        if let Some(ended) = ended_state(batch, &other.fingerprint, now)? {
            other.state = ended;
            batch.put_binding(other)?;
        }
    }
    let same = existing.iter().find(|b| b.fingerprint == fingerprint);
    let others_trusted = existing
        .iter()
        .any(|b| b.fingerprint != fingerprint && b.state.is_trusted());
    let ended = existing
        .iter()
        .filter(|b| b.fingerprint != fingerprint && b.state.has_ended())
        .max_by_key(|b| b.last_seen);
    let gossip = source == GOSSIP;
    let state = match (validity, same) {
        (Validity::Revoked, _) => BindingState::Revoked,
        (Validity::Expired, _) => BindingState::Expired,
        (Validity::Invalid, _) => BindingState::Invalid,
        (Validity::Usable, Some(known))
            if !known.state.has_ended() && (gossip || known.state != BindingState::Gossip) =>
        {
            known.state
        }
        (Validity::Usable, _) if gossip => BindingState::Gossip,
        (Validity::Usable, _) if others_trusted => BindingState::Conflict,
        (Validity::Usable, _) if ended.is_some() => BindingState::Replaced,
        (Validity::Usable, _) => BindingState::Tofu,
    };
    let kept = same.filter(|known| known.state == state);
    let binding = Binding {
        address: address.to_string(),
        fingerprint: fingerprint.to_string(),
        // The owner's own word outranks the gossip the key was first seen in.
        source: match same {
            Some(known) if known.state != BindingState::Gossip || gossip => known.source.clone(),
            _ => source.to_string(),
        },
        state,
        replaces: match kept {
            Some(known) => known.replaces.clone(),
            None if state == BindingState::Replaced => ended.map(|b| b.fingerprint.clone()),
            None => None,
        },
        first_seen: same.map_or(seconds, |b| b.first_seen),
        last_seen: seconds,
    };
    batch.put_binding(&binding)?;
    Ok(binding)
}

/// The state a bound certificate has come to at `now` when it no longer holds its
/// addresses (revoked, expired, invalid); None while it does, or when the store does not
/// have it.
fn ended_state(
    batch: &Batch<'_>,
    fingerprint: &str,
    now: SystemTime,
) -> Result<Option<BindingState>, Error> {
    let Some(data) = batch.cert(fingerprint)? else {
        return Ok(None);
    };
    Ok(
        match crypto::summary(&crypto::from_stored(&data)?, now).validity {
            Validity::Usable => None,
            Validity::Revoked => Some(BindingState::Revoked),
            Validity::Expired => Some(BindingState::Expired),
            Validity::Invalid => Some(BindingState::Invalid),
        },
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use BindingState::{Conflict, Expired, Gossip, Replaced, Revoked, Tofu};

    fn bound_by(
        db: &mut Db,
        source: &str,
        address: &str,
        fingerprint: &str,
        validity: Validity,
        now: u64,
    ) -> Binding {
        let batch = db.batch().unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(now);
        let binding = bind(&batch, address, fingerprint, source, validity, now).unwrap();
        batch.commit().unwrap();
        binding
    }

    fn bound(
        db: &mut Db,
        address: &str,
        fingerprint: &str,
        validity: Validity,
        now: u64,
    ) -> Binding {
        bound_by(db, "import", address, fingerprint, validity, now)
    }

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("s.sqlite")).unwrap();
        (dir, db)
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
        let (_dir, mut db) = db();
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
    fn two_writers_binding_different_keys_at_once_leave_one_tofu_and_one_conflict() {
        let (dir, db) = db();
        drop(db);
        let path = dir.path().join("s.sqlite");
        // Many rounds, so that the two threads' reads and writes interleave in some of them.
        let addresses: Vec<String> = (0..20).map(|n| format!("a{n}@x.org")).collect();
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|scope| {
            for fingerprint in ["AAAA", "BBBB"] {
                let (path, addresses, start) = (&path, &addresses, &start);
                scope.spawn(move || {
                    let mut db = Db::open(path).unwrap();
                    for address in addresses {
                        start.wait();
                        bound(&mut db, address, fingerprint, Validity::Usable, 10);
                    }
                });
            }
        });
        let db = Db::open(&path).unwrap();
        for address in &addresses {
            let mut states: Vec<BindingState> = db
                .bindings(Some(address), None)
                .unwrap()
                .into_iter()
                .map(|b| b.state)
                .collect();
            states.sort_by_key(|s| s.as_str());
            assert_eq!(
                states,
                [Conflict, Tofu],
                "{address}: exactly one key takes the first use"
            );
        }
    }

    #[test]
    fn the_key_after_a_revoked_or_expired_one_replaces_it_visibly() {
        let (_dir, mut db) = db();
        bound(&mut db, "a@x.org", "AAAA", Validity::Usable, 10);
        let revoked = bound(&mut db, "a@x.org", "AAAA", Validity::Revoked, 20);
        assert_eq!(revoked.state, Revoked);
        let next = bound(&mut db, "a@x.org", "BBBB", Validity::Usable, 30);
        assert_eq!(
            (next.state, next.replaces.as_deref()),
            (Replaced, Some("AAAA")),
            "the revoked key no longer holds the address, and its successor says whom it replaced"
        );
        let again = bound(&mut db, "a@x.org", "BBBB", Validity::Usable, 40);
        assert_eq!(
            (again.state, again.replaces.as_deref()),
            (Replaced, Some("AAAA"))
        );
        assert!(Replaced.is_trusted());
        assert_eq!(
            bound(&mut db, "b@x.org", "CCCC", Validity::Expired, 40).state,
            Expired
        );
        assert_eq!(
            bound(&mut db, "c@x.org", "DDDD", Validity::Invalid, 40).state,
            BindingState::Invalid,
            "a certificate that fails the policy is not called expired"
        );
    }

    #[test]
    fn gossip_never_takes_the_first_use_nor_disturbs_a_bound_key() {
        let (_dir, mut db) = db();
        let gossiped = bound_by(&mut db, GOSSIP, "a@x.org", "GGGG", Validity::Usable, 10);
        assert_eq!((gossiped.state, gossiped.source.as_str()), (Gossip, GOSSIP));
        assert!(!Gossip.is_trusted());
        let own = bound_by(
            &mut db,
            "autocrypt",
            "a@x.org",
            "AAAA",
            Validity::Usable,
            20,
        );
        assert_eq!(
            own.state, Tofu,
            "gossip is never in the way of the owner's key"
        );
        let later = bound_by(&mut db, GOSSIP, "a@x.org", "HHHH", Validity::Usable, 30);
        assert_eq!(later.state, Gossip, "gossip is no conflict either");
        let same = bound_by(&mut db, GOSSIP, "a@x.org", "AAAA", Validity::Usable, 40);
        assert_eq!((same.state, same.source.as_str()), (Tofu, "autocrypt"));
        bound_by(&mut db, GOSSIP, "c@x.org", "KKKK", Validity::Usable, 50);
        let direct = bound_by(
            &mut db,
            "autocrypt",
            "c@x.org",
            "KKKK",
            Validity::Usable,
            60,
        );
        assert_eq!(
            (direct.state, direct.source.as_str()),
            (Tofu, "autocrypt"),
            "a gossiped key its owner then announces is theirs"
        );
    }
}
