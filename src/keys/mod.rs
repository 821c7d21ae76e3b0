//! Keys: the certificates missive knows, the addresses bound to them by trust on first use
//! ([`tofu`]), and how to find more ([`discover`] over [`wkd`] and [`dane`], which share
//! [`lookup`]). The OpenPGP work itself is [`crypto`] (sequoia-openpgp with the Nettle
//! backend, which Sequoia recommends).
//!
//! `keys import` and `keys export` speak what `sq` and `gpg` speak: armoured or binary
//! certificates, several at once.

pub mod autocrypt;
pub mod crypto;
pub mod dane;
pub mod decrypt;
pub mod discover;
pub mod lookup;
pub mod tofu;
pub mod verify;
pub mod wkd;

use std::time::SystemTime;

use crate::record::{BindingState, KeyBinding, KeyRecord};
use crate::store::db::Binding;
use crate::store::{self, Store};

/// The error returned when a key operation fails.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not an OpenPGP certificate: {0}")]
    Certificate(String),
    #[error("no key for {0:?}")]
    Unknown(String),
    #[error(
        "your key {fingerprint} is already bound to {address}: --force makes another, which then signs (the old one still decrypts)"
    )]
    OwnKeyExists {
        address: String,
        fingerprint: String,
    },
    #[error(transparent)]
    Decrypt(Box<decrypt::Error>),
    #[error(transparent)]
    Store(#[from] store::Error),
}

pub(crate) fn seconds(time: SystemTime) -> i64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Imports every certificate in `bytes` (merged with what the store has) and binds each of
/// its addresses by the TOFU rules; returns the certificates as records. A key with its
/// secret parts (`gpg --export-secret-keys`, `keys export --secret`) becomes one of the
/// user's own keys, as [`generate`] makes them.
pub fn import(
    store: &mut Store,
    bytes: &[u8],
    source: &str,
    now: SystemTime,
) -> Result<Vec<KeyRecord>, Error> {
    let mut fingerprints = Vec::new();
    for cert in crypto::parse_certs(bytes)? {
        let secret = crypto::own_secret(&cert)?;
        let fingerprint = store_cert(store, cert, source, None, now)?;
        if let Some((tsk, protected)) = secret {
            keep_own_key(store, &fingerprint, &tsk, protected)?;
        }
        fingerprints.push(fingerprint);
    }
    fingerprints.iter().map(|f| record(store, f, now)).collect()
}

/// Stores a certificate (merged with the stored one) and binds by the TOFU rules `only` that
/// address, or every address of its user ids; returns its fingerprint. Only a user id with
/// a valid self-signature binds an address ([`crypto::Summary::addresses`]): anyone can
/// append one without. A certificate no longer usable also marks the bindings it has.
/// Read and written in one immediate batch ([`tofu::bind`]).
pub(crate) fn store_cert(
    store: &mut Store,
    cert: sequoia_openpgp::Cert,
    source: &str,
    only: Option<&str>,
    now: SystemTime,
) -> Result<String, Error> {
    let fingerprint = cert.fingerprint().to_hex();
    let batch = store.db.batch()?;
    let cert = match batch.cert(&fingerprint)? {
        Some(old) => crypto::merge(crypto::from_stored(&old)?, cert)?,
        None => cert,
    };
    let summary = crypto::summary(&cert, now);
    let mut addresses: std::collections::BTreeSet<String> = summary
        .addresses
        .iter()
        .filter_map(|a| tofu::binding_address(a))
        .collect();
    if summary.validity != crypto::Validity::Usable {
        addresses.extend(
            batch
                .bindings(None, Some(&fingerprint))?
                .into_iter()
                .map(|b| b.address),
        );
    }
    if let Some(only) = only {
        addresses.retain(|a| a == only);
    }
    batch.put_cert(&fingerprint, &crypto::to_stored(&cert)?, seconds(now))?;
    for address in &addresses {
        tofu::bind(&batch, address, &fingerprint, source, summary.validity, now)?;
    }
    batch.commit()?;
    Ok(fingerprint)
}

/// What `keys learn` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Learned {
    /// Messages whose sender's state was updated.
    pub updated: u64,
    /// Records or raw messages that could not be read (each reported).
    pub failed: u64,
}

/// `keys learn`: passes records through and updates each message sender's Autocrypt state
/// from the raw message (its source file or the archive). With `own_keys`, encrypted
/// messages are decrypted and the Autocrypt-Gossip headers inside update the other
/// recipients' state; one that cannot be decrypted is reported.
pub fn learn_stream<R: std::io::BufRead, S: crate::jsonl::Sink, E: std::io::Write>(
    store: &mut Store,
    reader: &mut crate::jsonl::Reader<R>,
    out: &mut S,
    errors: &mut crate::jsonl::ErrorSink<E>,
    mut own_keys: Option<&mut decrypt::OwnKeys>,
    now: SystemTime,
) -> Result<Learned, LearnError> {
    let mut learned = Learned::default();
    for record in reader {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                errors.report(&error.to_record());
                learned.failed += 1;
                continue;
            }
        };
        if let crate::record::Record::Message(message) = &record {
            let failure = match crate::store::raw_bytes(&message.source) {
                Err(error) => Some(format!("cannot read the raw message: {error}")),
                Ok(raw) => {
                    let direct = autocrypt::learn(store, message, &raw, now);
                    let gossip = match own_keys.as_deref_mut() {
                        Some(keys) => learn_gossip(store, keys, message, &raw, now),
                        None => Ok(0),
                    };
                    match (direct, gossip) {
                        (Err(Error::Store(error)), _) | (_, Err(Error::Store(error))) => {
                            return Err(LearnError::Store(error));
                        }
                        (Err(error), _) | (_, Err(error)) => Some(error.to_string()),
                        (Ok(direct), Ok(gossiped)) => {
                            learned.updated += u64::from(direct.is_some()) + gossiped as u64;
                            None
                        }
                    }
                }
            };
            if let Some(reason) = failure {
                let location = message
                    .source
                    .path
                    .clone()
                    .unwrap_or_else(|| message.id.clone());
                let mut report = crate::record::ErrorRecord::new(location, reason);
                report.message_id = Some(message.native_id.clone());
                errors.report(&report);
                learned.failed += 1;
            }
        }
        out.put(record).map_err(LearnError::Write)?;
    }
    out.flush().map_err(LearnError::Write)?;
    Ok(learned)
}

/// Decrypts an encrypted message and applies its gossip; how many peers it updated.
fn learn_gossip(
    store: &mut Store,
    keys: &mut decrypt::OwnKeys,
    message: &crate::record::Message,
    raw: &[u8],
    now: SystemTime,
) -> Result<usize, Error> {
    let decrypted = match decrypt::decrypt(store, keys, message, raw, now) {
        Ok(Some(decrypted)) => decrypted,
        Ok(None) => return Ok(0),
        Err(decrypt::Error::Keys(error)) => return Err(error),
        Err(error) => return Err(Error::Decrypt(Box::new(error))),
    };
    autocrypt::learn_gossip(store, message, &decrypted, now)
}

/// The error that stops `keys learn`.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("cannot write records")]
    Write(#[source] std::io::Error),
}

crate::fault::carried_by!(LearnError: Store, Write);

/// Makes the user's own key for `user_id`, keeps its secret parts (protected by
/// `passphrase` when given), and binds its address as `verified`. Another own key bound to
/// that address is an error unless `force`: then the new key signs, the old still decrypts.
pub fn generate(
    store: &mut Store,
    user_id: &str,
    passphrase: Option<&str>,
    force: bool,
    now: SystemTime,
) -> Result<KeyRecord, Error> {
    let (cert, tsk) = crypto::generate(user_id, passphrase)?;
    if !force {
        let addresses: Vec<String> = crypto::summary(&cert, now)
            .addresses
            .iter()
            .filter_map(|a| tofu::binding_address(a))
            .collect();
        for (fingerprint, _, _) in store.db.own_keys()? {
            for address in &addresses {
                if !store
                    .db
                    .bindings(Some(address), Some(&fingerprint))?
                    .is_empty()
                {
                    return Err(Error::OwnKeyExists {
                        address: address.clone(),
                        fingerprint,
                    });
                }
            }
        }
    }
    let fingerprint = store_cert(store, cert, "manual", None, now)?;
    keep_own_key(store, &fingerprint, &tsk, passphrase.is_some())?;
    record(store, &fingerprint, now)
}

/// Keeps `fingerprint`'s secret parts as the user's newest own key (the one that signs) and
/// binds its addresses as `verified`: the user vouches for their own key.
fn keep_own_key(
    store: &mut Store,
    fingerprint: &str,
    tsk: &[u8],
    protected: bool,
) -> Result<(), Error> {
    let bound: Vec<_> = store.db.bindings(None, Some(fingerprint))?;
    let batch = store.db.batch()?;
    batch.put_own_key(fingerprint, tsk, protected)?;
    for mut binding in bound {
        binding.state = BindingState::Verified;
        batch.put_binding(&binding)?;
    }
    batch.commit()?;
    Ok(())
}

/// The user's own keys with their secret parts, armoured.
pub fn export_secret(store: &Store) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for (_, tsk, _) in store.db.own_keys()? {
        out.extend(crypto::armored_secret(&tsk)?);
    }
    Ok(out)
}

/// The fingerprints a selector names: a fingerprint, or an address's bound certificates.
pub fn resolve(store: &Store, selector: &str) -> Result<Vec<String>, Error> {
    let hex: String = selector.chars().filter(|c| !c.is_whitespace()).collect();
    if hex.len() >= 16 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        let upper = hex.to_ascii_uppercase();
        let found: Vec<String> = store
            .db
            .cert_fingerprints()?
            .into_iter()
            .filter(|f| f.ends_with(&upper))
            .collect();
        return if found.is_empty() {
            Err(Error::Unknown(selector.into()))
        } else {
            Ok(found)
        };
    }
    let address = tofu::binding_address(selector).ok_or_else(|| Error::Unknown(selector.into()))?;
    let found: Vec<String> = store
        .db
        .bindings(Some(&address), None)?
        .into_iter()
        .map(|b| b.fingerprint)
        .collect();
    if found.is_empty() {
        return Err(Error::Unknown(selector.into()));
    }
    Ok(found)
}

/// Every known certificate, as records.
pub fn list(store: &Store, now: SystemTime) -> Result<Vec<KeyRecord>, Error> {
    store
        .db
        .cert_fingerprints()?
        .iter()
        .map(|f| record(store, f, now))
        .collect()
}

/// The armoured certificates named by `selectors` (all when empty), concatenated.
pub fn export(store: &Store, selectors: &[String]) -> Result<Vec<u8>, Error> {
    let fingerprints = if selectors.is_empty() {
        store.db.cert_fingerprints()?
    } else {
        let mut all = Vec::new();
        for selector in selectors {
            all.extend(resolve(store, selector)?);
        }
        all.dedup();
        all
    };
    let mut out = Vec::new();
    for fingerprint in fingerprints {
        let data = store
            .db
            .cert(&fingerprint)?
            .ok_or_else(|| Error::Unknown(fingerprint.clone()))?;
        out.extend(crypto::armored(&crypto::from_stored(&data)?)?);
    }
    Ok(out)
}

/// The user confirms that `fingerprint` is `address`'s key: that binding becomes
/// `verified`, and the address's other bindings are dropped.
pub fn verify(
    store: &mut Store,
    address: &str,
    fingerprint: &str,
    now: SystemTime,
) -> Result<KeyRecord, Error> {
    let address = tofu::binding_address(address).ok_or_else(|| Error::Unknown(address.into()))?;
    let fingerprint = resolve(store, fingerprint)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Unknown(fingerprint.into()))?;
    let batch = store.db.batch()?;
    let existing = batch.bindings(Some(&address), Some(&fingerprint))?;
    batch.delete_bindings(&address, None)?;
    batch.put_binding(&store::db::Binding {
        address: address.clone(),
        fingerprint: fingerprint.clone(),
        source: existing
            .first()
            .map_or("manual".into(), |b| b.source.clone()),
        state: BindingState::Verified,
        replaces: None,
        first_seen: existing.first().map_or(seconds(now), |b| b.first_seen),
        last_seen: seconds(now),
    })?;
    batch.commit()?;
    record(store, &fingerprint, now)
}

/// Drops the bindings of `address` (to one certificate, or all); returns how many.
pub fn forget(store: &mut Store, address: &str, fingerprint: Option<&str>) -> Result<usize, Error> {
    let address = tofu::binding_address(address).ok_or_else(|| Error::Unknown(address.into()))?;
    let batch = store.db.batch()?;
    let removed = batch.delete_bindings(&address, fingerprint)?;
    batch.commit()?;
    if removed == 0 {
        return Err(Error::Unknown(address));
    }
    Ok(removed)
}

/// A certificate and its bindings as a `key` record.
pub fn record(store: &Store, fingerprint: &str, now: SystemTime) -> Result<KeyRecord, Error> {
    let data = store
        .db
        .cert(fingerprint)?
        .ok_or_else(|| Error::Unknown(fingerprint.into()))?;
    let summary = crypto::summary(&crypto::from_stored(&data)?, now);
    let time = |t: i64| crate::record::rfc3339(t);
    let bindings = store
        .db
        .bindings(None, Some(fingerprint))?
        .into_iter()
        .map(|b| KeyBinding {
            address: b.address,
            source: b.source,
            state: b.state,
            replaces: b.replaces,
            warning: b.state.warning().map(String::from),
            first_seen: time(b.first_seen),
            last_seen: time(b.last_seen),
        })
        .collect();
    let own = store
        .db
        .own_keys()?
        .into_iter()
        .find(|(f, _, _)| f == fingerprint);
    Ok(KeyRecord {
        v: crate::record::VERSION,
        secret: own.as_ref().map(|_| true),
        protected: own.map(|(_, _, protected)| protected),
        fingerprint: summary.fingerprint,
        user_ids: summary.user_ids,
        algorithm: summary.algorithm,
        bits: summary.bits.map(|b| b as u32),
        expires: summary.expires.map(time),
        revoked: summary.revoked,
        usable: summary.usable,
        bindings,
        ..KeyRecord::default()
    })
}

/// How far a binding state is trusted, for choosing among bindings: verified, then tofu
/// (a replacement too), then conflict, then gossip, then the rest.
pub fn trust_rank(state: BindingState) -> u8 {
    match state {
        BindingState::Verified => 5,
        BindingState::Tofu | BindingState::Replaced => 4,
        BindingState::Conflict => 3,
        BindingState::Gossip => 2,
        BindingState::Revoked | BindingState::Expired | BindingState::Invalid => 1,
    }
}

/// The most trusted binding of a canonical address ([`trust_rank`]; the first seen among
/// equals) with its certificate as a record.
pub fn best_binding(
    store: &Store,
    address: &str,
    now: SystemTime,
) -> Result<Option<(Binding, KeyRecord)>, Error> {
    let mut best: Option<Binding> = None;
    for binding in store.db.bindings(Some(address), None)? {
        if best
            .as_ref()
            .is_none_or(|b| trust_rank(binding.state) > trust_rank(b.state))
        {
            best = Some(binding);
        }
    }
    best.map(|binding| {
        let record = record(store, &binding.fingerprint, now)?;
        Ok((binding, record))
    })
    .transpose()
}

/// What a discovery would query for `address`, without any network access.
pub fn plan(address: &str) -> Option<(String, String, String)> {
    let (advanced, direct) = wkd::urls(address)?;
    Some((advanced, direct, dane::owner_name(address)?))
}
