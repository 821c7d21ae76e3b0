//! The privacy index of a contact (`missive score --contacts`): whether they have a usable
//! key and how far it is trusted, its strength, the channels you know them on, and how
//! many past exchanges with them were end-to-end encrypted. Factors come from
//! [`super::factors`]; suggestions are the contact scored again with the change applied.
//! [`Facts::gather`] reads a contact's facts out of the key store (TOFU bindings, through
//! [`crate::keys`]) and the search index.

use std::time::SystemTime;

use crate::config::Config;
use crate::contacts::{self, Directory, User, identity};
use crate::record::{
    BindingState, Contact, ContactKey, ContactPrivacyKind, ContactPrivacyRecord, Privacy, VERSION,
};
use crate::store::Store;
use crate::store::index::{self, Reader};

use super::factors::{self, Factor};

/// The error returned when the store or its index cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Contacts(#[from] contacts::Error),
    #[error(transparent)]
    Keys(#[from] crate::keys::Error),
    #[error(transparent)]
    Index(#[from] index::Error),
}

/// What a contact's index is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub id: String,
    pub name: Option<String>,
    /// Protocols the contact is known on (`email`, `mastodon`, …).
    pub channels: Vec<String>,
    /// An email address to discover a key for, when they have one.
    pub address: Option<String>,
    pub key: Option<ContactKey>,
    /// Indexed messages with them, and how many were end-to-end encrypted.
    pub exchanges: u64,
    pub encrypted: u64,
}

impl Facts {
    /// The facts of `person` as the store knows them `now`: the best key bound to their
    /// email addresses, and their exchanges in the index `reader` reads.
    pub fn gather(
        store: &Store,
        reader: &Reader<'_>,
        person: &Contact,
        now: SystemTime,
    ) -> Result<Facts, Error> {
        let mut channels: Vec<String> = person
            .identities
            .iter()
            .map(|i| identity::kind(i).to_string())
            .collect();
        channels.dedup();
        let emails: Vec<String> = person
            .identities
            .iter()
            .filter(|i| identity::kind(i) == "email")
            .map(|i| identity::handle(i).to_string())
            .collect();
        let mut key: Option<ContactKey> = None;
        for address in emails
            .iter()
            .filter_map(|a| crate::keys::tofu::binding_address(a))
        {
            let Some((binding, record)) = crate::keys::best_binding(store, &address, now)? else {
                continue;
            };
            let rank = crate::keys::trust_rank;
            if key
                .as_ref()
                .is_some_and(|k| rank(binding.state) <= rank(k.state))
            {
                continue;
            }
            key = Some(ContactKey {
                address: address.clone(),
                fingerprint: binding.fingerprint,
                state: binding.state,
                warning: binding.state.warning().map(String::from),
                replaces: binding.replaces,
                algorithm: record.algorithm,
                bits: record.bits,
                expires: record.expires,
                usable: record.usable,
            });
        }
        let handles: Vec<&str> = person
            .identities
            .iter()
            .map(|i| identity::handle(i))
            .collect();
        let (exchanges, encrypted) = reader.exchanges_with(&handles)?;
        Ok(Facts {
            id: person.id.clone(),
            name: person.name.clone(),
            channels,
            address: emails.first().cloned(),
            key,
            exchanges,
            encrypted,
        })
    }
}

/// The contacts `missive score --contacts` scores: every contact the store knows, or
/// implies by an address, but the user.
pub fn others(store: &Store, config: &Config) -> Result<Vec<Contact>, Error> {
    let directory = Directory::load(&store.db)?;
    let user = User::from_config(config);
    Ok(directory
        .list(true)
        .into_iter()
        .filter(|person| !person.identities.iter().any(|i| user.is_user(i)))
        .collect())
}

/// The record `missive score --contacts` prints for `person`: their index from
/// [`Facts::gather`], with the facts it was computed from.
pub fn report(
    store: &Store,
    reader: &Reader<'_>,
    person: &Contact,
    now: SystemTime,
) -> Result<ContactPrivacyRecord, Error> {
    let facts = Facts::gather(store, reader, person, now)?;
    Ok(ContactPrivacyRecord {
        kind: ContactPrivacyKind,
        v: VERSION,
        privacy: score(&facts),
        contact: facts.id,
        name: facts.name,
        identities: person.identities.clone(),
        channels: facts.channels,
        key: facts.key,
        exchanges: facts.exchanges,
        encrypted: facts.encrypted,
    })
}

const PLATFORMS: &[&str] = &["mastodon", "twitter", "facebook"];

fn evaluate(facts: &Facts) -> Privacy {
    let mut applied = Vec::new();
    let mut add = |factor: &Factor, evidence: String| applied.push(factor.applied(evidence));
    add(&factors::CONTACT_BASE_TECHNIC, "every contact".into());
    match &facts.key {
        Some(key) if key.usable && key.state == BindingState::Verified => add(
            &factors::CONTACT_KEY_VERIFIED,
            format!("{} {} (verified)", key.address, key.fingerprint),
        ),
        Some(key) if key.usable && key.state == BindingState::Tofu => add(
            &factors::CONTACT_KEY_TOFU,
            format!("{} {} (trusted on first use)", key.address, key.fingerprint),
        ),
        Some(key) if key.usable && key.state == BindingState::Replaced => add(
            &factors::CONTACT_KEY_TOFU,
            format!(
                "{} {} (trusted on first use, replacing the ended key {})",
                key.address,
                key.fingerprint,
                key.replaces.as_deref().unwrap_or("?")
            ),
        ),
        Some(key) if key.state == BindingState::Conflict => add(
            &factors::CONTACT_KEY_CONFLICT,
            format!("{}: a second key {}", key.address, key.fingerprint),
        ),
        Some(key) => add(
            &factors::CONTACT_NO_KEY,
            format!("{}: key {} is {}", key.address, key.fingerprint, key.state),
        ),
        None => add(
            &factors::CONTACT_NO_KEY,
            "no key bound to their addresses".into(),
        ),
    }
    if let Some(key) = &facts.key
        && key.algorithm.starts_with("RSA")
        && key.bits.is_some_and(|b| b < 2048)
    {
        add(
            &factors::CONTACT_KEY_WEAK,
            format!("{} {} bits", key.algorithm, key.bits.unwrap_or(0)),
        );
    }
    add(&factors::CONTACT_BASE_CONTEXT, "every contact".into());
    if !facts.channels.is_empty()
        && facts
            .channels
            .iter()
            .all(|c| PLATFORMS.contains(&c.as_str()))
    {
        add(
            &factors::CONTACT_PLATFORM_ONLY,
            format!("known on {}", facts.channels.join(", ")),
        );
    }
    add(&factors::CONTACT_BASE_COMPORTMENT, "every contact".into());
    if facts.exchanges > 0 {
        let evidence = format!(
            "{} of {} indexed messages encrypted",
            facts.encrypted, facts.exchanges
        );
        if facts.encrypted * 5 >= facts.exchanges * 4 {
            add(&factors::CONTACT_MOSTLY_ENCRYPTED, evidence);
        } else if facts.encrypted > 0 {
            add(&factors::CONTACT_SOMETIMES_ENCRYPTED, evidence);
        } else {
            add(&factors::CONTACT_NEVER_ENCRYPTED, evidence);
        }
    }
    super::message::index(applied)
}

/// A contact's index, with suggestions ranked by gain.
pub fn score(facts: &Facts) -> Privacy {
    let mut privacy = evaluate(facts);
    let mut changes = Vec::new();
    let mut suggest =
        |changed: Facts, action: String, why: String| changes.push((changed, action, why));
    let who = |address: &str| facts.name.clone().unwrap_or_else(|| address.to_string());
    let with_state = |state: BindingState, address: &str| Facts {
        key: Some(ContactKey {
            address: address.to_string(),
            fingerprint: String::new(),
            state,
            replaces: None,
            warning: None,
            algorithm: "EdDSA".into(),
            bits: Some(256),
            expires: None,
            usable: true,
        }),
        ..facts.clone()
    };
    match (&facts.key, &facts.address) {
        (None, Some(address)) => suggest(
            with_state(BindingState::Tofu, address),
            format!("missive keys discover {address}"),
            format!(
                "no key known: mail to them travels readable; `missive keys discover {address}` \
                 looks for one, or ask {} for theirs: `missive send --to {address}` carries your \
                 Autocrypt header, so their answer can come encrypted",
                who(address)
            ),
        ),
        (Some(key), _) if matches!(key.state, BindingState::Tofu | BindingState::Conflict) => {
            suggest(
                with_state(BindingState::Verified, &key.address),
                format!("missive keys verify {} {}", key.address, key.fingerprint),
                "compare the fingerprint with them, in person or by phone".into(),
            )
        }
        _ => {}
    }
    if let Some(key) = facts
        .key
        .as_ref()
        .filter(|k| k.usable && k.state.is_trusted())
        && facts.encrypted < facts.exchanges
    {
        suggest(
            Facts {
                encrypted: facts.exchanges,
                ..facts.clone()
            },
            format!("missive send --to {}", key.address),
            format!(
                "{} of your {} messages with {} went in clear though they have a key: \
                 `missive send --to {}` encrypts by default",
                facts.exchanges - facts.encrypted,
                facts.exchanges,
                who(&key.address),
                key.address
            ),
        );
    }
    privacy.suggestions = super::ranked(privacy.score, changes, evaluate);
    privacy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_in_clear_to_someone_with_a_key_names_send() {
        let facts = Facts {
            address: Some("bob@example.net".into()),
            key: Some(key("verified")),
            exchanges: 10,
            encrypted: 3,
            ..Facts::default()
        };
        let suggestions = score(&facts).suggestions;
        let send = suggestions
            .iter()
            .find(|s| s.action == "missive send --to bob@example.net" && s.gain > 0)
            .unwrap_or_else(|| panic!("{suggestions:?}"));
        assert_eq!(
            send.why,
            "7 of your 10 messages with bob@example.net went in clear though they have a key: \
             `missive send --to bob@example.net` encrypts by default"
        );
        let all_encrypted = Facts {
            encrypted: 10,
            ..facts
        };
        assert!(
            score(&all_encrypted)
                .suggestions
                .iter()
                .all(|s| !s.action.starts_with("missive send"))
        );
    }

    fn key(state: &str) -> ContactKey {
        ContactKey {
            address: "bob@example.net".into(),
            fingerprint: "ABCD".into(),
            state: BindingState::parse(state).expect("a binding state"),
            replaces: None,
            warning: None,
            algorithm: "EdDSA".into(),
            bits: Some(256),
            expires: None,
            usable: state != "revoked",
        }
    }

    fn facts() -> Facts {
        Facts {
            id: "p_1".into(),
            name: Some("Bob".into()),
            channels: vec!["email".into()],
            address: Some("bob@example.net".into()),
            key: None,
            exchanges: 0,
            encrypted: 0,
        }
    }

    fn names(privacy: &Privacy) -> Vec<String> {
        privacy.factors.iter().map(|f| f.name.clone()).collect()
    }

    #[test]
    fn every_factor_has_a_test() {
        let cases = [
            facts(),
            Facts {
                key: Some(key("verified")),
                exchanges: 5,
                encrypted: 5,
                ..facts()
            },
            Facts {
                key: Some(key("tofu")),
                exchanges: 5,
                encrypted: 1,
                ..facts()
            },
            Facts {
                key: Some(key("conflict")),
                exchanges: 5,
                encrypted: 0,
                ..facts()
            },
            Facts {
                key: Some(ContactKey {
                    algorithm: "RSA".into(),
                    bits: Some(1024),
                    ..key("tofu")
                }),
                channels: vec!["mastodon".into()],
                ..facts()
            },
        ];
        let seen: Vec<String> = cases.iter().flat_map(|f| names(&score(f))).collect();
        for factor in factors::FACTORS
            .iter()
            .filter(|f| f.name.starts_with("contact_"))
        {
            assert!(
                seen.iter().any(|n| n == factor.name),
                "no test shows {}",
                factor.name
            );
        }
    }

    #[test]
    fn trust_orders_the_index_verified_then_tofu_then_conflict_then_none() {
        let scored = |key: Option<ContactKey>| score(&Facts { key, ..facts() }).score;
        let (verified, tofu, conflict, none) = (
            scored(Some(key("verified"))),
            scored(Some(key("tofu"))),
            scored(Some(key("conflict"))),
            scored(None),
        );
        assert!(
            verified > tofu && tofu > conflict && conflict > none,
            "{verified} {tofu} {conflict} {none}"
        );
    }

    #[test]
    fn a_key_that_replaced_an_ended_one_names_it_in_the_contacts_index() {
        let replaced = score(&Facts {
            key: Some(ContactKey {
                replaces: Some("OLD1".into()),
                ..key("replaced")
            }),
            ..facts()
        });
        let evidence = replaced
            .factors
            .iter()
            .find(|f| f.name == factors::CONTACT_KEY_TOFU.name)
            .map(|f| f.evidence.as_str());
        assert_eq!(
            evidence,
            Some("bob@example.net ABCD (trusted on first use, replacing the ended key OLD1)"),
            "{:?}",
            replaced.factors
        );
        let tofu = score(&Facts {
            key: Some(key("tofu")),
            ..facts()
        });
        assert_eq!(
            replaced.score, tofu.score,
            "as trusted as a first use, no more"
        );
    }

    #[test]
    fn suggestions_gain_what_the_change_gives() {
        let privacy = score(&facts());
        assert_eq!(
            privacy.suggestions[0].action,
            "missive keys discover bob@example.net"
        );
        assert!(
            privacy.suggestions[0]
                .why
                .contains("ask Bob for theirs: `missive send --to bob@example.net` carries your Autocrypt header"),
            "{}",
            privacy.suggestions[0].why
        );
        let found = score(&Facts {
            key: Some(key("tofu")),
            ..facts()
        });
        assert_eq!(
            privacy.suggestions[0].gain,
            i32::from(found.score) - i32::from(privacy.score)
        );
        let conflict = score(&Facts {
            key: Some(key("conflict")),
            ..facts()
        });
        assert_eq!(
            conflict.suggestions[0].action,
            "missive keys verify bob@example.net ABCD"
        );
    }
}
