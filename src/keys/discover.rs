//! `keys discover`: asks every network method for an address's keys — the Web Key Directory
//! ([`super::wkd`]) and DNS OPENPGPKEY under DNSSEC ([`super::dane`]) — and binds what they
//! find by the TOFU rules ([`super::tofu`]) with source `wkd` or `dane`. The key an address
//! announced by Autocrypt is already in the store ([`super::autocrypt`]) and is reported
//! too. A method that finds nothing, or whose answer is not trusted, or that fails, says so
//! and why: nothing is used silently.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::dnssec::TrustAnchors;
use hickory_resolver::{Resolver, TokioResolver};

use crate::record::{KeyFound, KeyRecord, LookupRecord};
use crate::store::Store;

use super::lookup::{Address, Lookup, Outcome, Settings};
use super::{Error, dane, wkd};

/// What `keys discover` prints for one address: a `key` record per certificate found, a
/// `lookup` record per method that found nothing, was refused or failed.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    pub keys: Vec<KeyRecord>,
    pub lookups: Vec<LookupRecord>,
    outcomes: Vec<Outcome>,
}

impl Discovered {
    /// Whether some lookup failed or was refused, and whether every such failure was
    /// transient (worth trying later).
    pub fn failures(&self) -> (bool, bool) {
        let problems: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| **o != Outcome::NotFound)
            .collect();
        let transient = problems
            .iter()
            .all(|o| matches!(o, Outcome::Failed { transient: true }));
        (!problems.is_empty(), transient)
    }
}

/// Looks `addresses` up by every method, binds what is found and returns, per address,
/// what to print; `progress` is told of each address done. An address that is not one is
/// an error naming it.
pub fn discover(
    store: &mut Store,
    settings: &Settings,
    addresses: &[String],
    now: SystemTime,
    mut progress: impl FnMut(&str),
) -> Result<Vec<Discovered>, DiscoverError> {
    let targets: Vec<Address> = addresses
        .iter()
        .map(|a| Address::new(a).ok_or_else(|| DiscoverError::Address(a.clone())))
        .collect::<Result<_, _>>()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DiscoverError::Runtime)?;
    runtime.block_on(async {
        let plain = resolver(settings, None)?;
        let validating = resolver(settings, Some(trust_anchors(settings)?))?;
        let tls = Arc::new(
            crate::tls::client_config(settings.ca_file.as_deref()).map_err(DiscoverError::Tls)?,
        );
        let mut all = Vec::new();
        for address in &targets {
            let (wkd, dane) = tokio::join!(
                wkd::fetch(&plain, &tls, settings, address),
                dane::lookup(&validating, address)
            );
            let canonical = &address.canonical;
            all.push(bind(store, canonical, [wkd, dane], now).map_err(DiscoverError::Keys)?);
            progress(canonical);
        }
        Ok(all)
    })
}

fn bind(
    store: &mut Store,
    address: &str,
    lookups: [Lookup; 2],
    now: SystemTime,
) -> Result<Discovered, Error> {
    let mut discovered = Discovered::default();
    autocrypt(store, address, &mut discovered, now)?;
    for lookup in lookups {
        for cert in &lookup.certs {
            let fingerprint =
                super::store_cert(store, cert.clone(), lookup.method, Some(address), now)?;
            let record = found(
                store,
                address,
                &fingerprint,
                lookup.method,
                &lookup.from,
                now,
            )?;
            discovered.keys.push(record);
        }
        for (outcome, reason) in &lookup.problems {
            discovered.report(address, lookup.method, &lookup.from, *outcome, reason);
        }
    }
    Ok(discovered)
}

impl Discovered {
    fn report(&mut self, address: &str, method: &str, from: &str, outcome: Outcome, reason: &str) {
        self.outcomes.push(outcome);
        self.lookups.push(LookupRecord {
            v: crate::record::VERSION,
            address: address.to_string(),
            method: Some(method.into()),
            from: Some(from.into()),
            outcome: Some(outcome.text().into()),
            reason: Some(reason.into()),
            ..LookupRecord::default()
        });
    }
}

/// The `key` record of a certificate found for `address`, with its binding's state.
fn found(
    store: &Store,
    address: &str,
    fingerprint: &str,
    method: &str,
    from: &str,
    now: SystemTime,
) -> Result<KeyRecord, Error> {
    let outcome = store
        .db
        .bindings(Some(address), Some(fingerprint))?
        .first()
        .map(|b| b.state.to_string())
        .unwrap_or_default();
    let mut record = super::record(store, fingerprint, now)?;
    record.found = Some(KeyFound {
        address: address.to_string(),
        method: method.into(),
        from: from.into(),
        outcome,
    });
    Ok(record)
}

/// The key the address last announced in an Autocrypt header, which `keys learn` keeps:
/// no network, reported beside the others.
fn autocrypt(
    store: &Store,
    address: &str,
    discovered: &mut Discovered,
    now: SystemTime,
) -> Result<(), Error> {
    const METHOD: &str = "autocrypt";
    const FROM: &str = "the Autocrypt state of the store";
    let fingerprint = store.db.peer(address)?.and_then(|peer| peer.public_key);
    match fingerprint.filter(|f| store.db.cert(f).ok().flatten().is_some()) {
        Some(fingerprint) => {
            let record = found(store, address, &fingerprint, METHOD, FROM, now)?;
            discovered.keys.push(record);
        }
        None => {
            let reason = format!("no Autocrypt key seen from {address}");
            discovered.report(address, METHOD, FROM, Outcome::NotFound, &reason);
        }
    }
    Ok(())
}

fn trust_anchors(settings: &Settings) -> Result<TrustAnchors, DiscoverError> {
    match &settings.trust_anchor {
        Some(path) => TrustAnchors::from_file(path).map_err(|e| DiscoverError::TrustAnchor {
            path: path.clone(),
            reason: e.to_string(),
        }),
        None => Ok(TrustAnchors::default()),
    }
}

/// A resolver asking the configured nameserver (else the system's), validating DNSSEC
/// from `anchors` when given. `ResolverOpts::trust_anchor` would switch validation on with
/// the root's anchors whatever file it names: the anchors go to the builder.
fn resolver(
    settings: &Settings,
    anchors: Option<TrustAnchors>,
) -> Result<TokioResolver, DiscoverError> {
    let provider = TokioRuntimeProvider::default();
    let mut builder = match settings.nameserver {
        Some(server) => {
            let mut config = NameServerConfig::udp_and_tcp(server.ip());
            for connection in &mut config.connections {
                connection.port = server.port();
            }
            Resolver::builder_with_config(ResolverConfig::from_name_servers(vec![config]), provider)
        }
        None => Resolver::builder(provider).map_err(|e| DiscoverError::Resolver(e.to_string()))?,
    };
    let options = builder.options_mut();
    options.timeout = settings.timeout;
    options.attempts = 1;
    if let Some(anchors) = anchors {
        builder = builder.with_trust_anchor(Arc::new(anchors));
    }
    builder
        .build()
        .map_err(|e| DiscoverError::Resolver(e.to_string()))
}

/// The error that stops `keys discover` before or after its lookups.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("not an address: {0:?}")]
    Address(String),
    #[error("cannot read trust_anchor {path}: {reason}")]
    TrustAnchor { path: PathBuf, reason: String },
    #[error("cannot set up the DNS resolver: {0}")]
    Resolver(String),
    #[error(transparent)]
    Tls(crate::tls::Error),
    #[error("cannot start the network runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Keys(Error),
}
