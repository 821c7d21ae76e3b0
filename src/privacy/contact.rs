//! The privacy index of a contact (`missive score --contacts`): whether they have a usable
//! key and how far it is trusted, its strength, the channels you know them on, and how
//! many past exchanges with them were end-to-end encrypted. Factors come from
//! [`super::factors`]; suggestions are the contact scored again with the change applied.

use serde::Serialize;

use crate::record::Privacy;

use super::factors::{self, Factor};

/// The best key binding of a contact's addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyFacts {
    pub address: String,
    pub fingerprint: String,
    /// `tofu`, `verified`, `conflict`, `revoked` or `expired`.
    pub state: String,
    pub algorithm: String,
    pub bits: Option<u32>,
    pub expires: Option<String>,
    pub usable: bool,
}

/// What a contact's index is computed from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub id: String,
    pub name: Option<String>,
    /// Protocols the contact is known on (`email`, `mastodon`, …).
    pub channels: Vec<String>,
    /// An email address to discover a key for, when they have one.
    pub address: Option<String>,
    pub key: Option<KeyFacts>,
    /// Indexed messages with them, and how many were end-to-end encrypted.
    pub exchanges: u64,
    pub encrypted: u64,
}

const PLATFORMS: &[&str] = &["mastodon", "twitter", "facebook"];

fn evaluate(facts: &Facts) -> Privacy {
    let mut applied = Vec::new();
    let mut add = |factor: &Factor, evidence: String| applied.push(factor.applied(evidence));
    add(&factors::CONTACT_BASE_TECHNIC, "every contact".into());
    match &facts.key {
        Some(key) if key.usable && key.state == "verified" => add(
            &factors::CONTACT_KEY_VERIFIED,
            format!("{} {} (verified)", key.address, key.fingerprint),
        ),
        Some(key) if key.usable && key.state == "tofu" => add(
            &factors::CONTACT_KEY_TOFU,
            format!("{} {} (trusted on first use)", key.address, key.fingerprint),
        ),
        Some(key) if key.state == "conflict" => add(
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
        |changed: Facts, action: String, why: &'static str| changes.push((changed, action, why));
    let with_state = |state: &str, address: &str| Facts {
        key: Some(KeyFacts {
            address: address.to_string(),
            fingerprint: String::new(),
            state: state.into(),
            algorithm: "EdDSA".into(),
            bits: Some(256),
            expires: None,
            usable: true,
        }),
        ..facts.clone()
    };
    match (&facts.key, &facts.address) {
        (None, Some(address)) => suggest(
            with_state("tofu", address),
            format!("missive keys discover {address}"),
            "no key known: mail to them travels readable",
        ),
        (Some(key), _) if key.state == "tofu" || key.state == "conflict" => suggest(
            with_state("verified", &key.address),
            format!("missive keys verify {} {}", key.address, key.fingerprint),
            "compare the fingerprint with them, in person or by phone",
        ),
        _ => {}
    }
    privacy.suggestions = super::ranked(privacy.score, changes, evaluate);
    privacy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(state: &str) -> KeyFacts {
        KeyFacts {
            address: "bob@example.net".into(),
            fingerprint: "ABCD".into(),
            state: state.into(),
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
                key: Some(KeyFacts {
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
        let scored = |key: Option<KeyFacts>| score(&Facts { key, ..facts() }).score;
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
    fn suggestions_gain_what_the_change_gives() {
        let privacy = score(&facts());
        assert_eq!(
            privacy.suggestions[0].action,
            "missive keys discover bob@example.net"
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
