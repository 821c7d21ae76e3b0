//! The user's own privacy index (`missive score --user`): how private the last 90 days of
//! correspondence were, how many correspondents have a key one can encrypt to, and this
//! device's index, with one point of history a day and the trend. Every part is shown with
//! what it counts, and suggestions are found by computing the index again with the change
//! applied.
//!
//! score = ½ messages + ¼ key coverage + ¼ device, each 0–100 (a part with nothing to count
//! is left out, the others keeping their relative weights):
//! - messages: the mean privacy score of the scored messages of the last 90 days;
//! - key coverage: the share of correspondents (everyone but the user) with a usable,
//!   trusted key binding (`tofu` or `verified`);
//! - device: [`super::device`].
//!
//! [`Facts::gather`] reads what the index is computed from out of the search index and the
//! key store; [`report`] adds the day's point to the history kept in the store.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::config::Config;
use crate::record::{
    Encryption, HistoryPoint, IndexPart, Message, Suggestion, Trend, UserIndex, UserKind,
    UserRecord, VERSION,
};
use crate::store::index::MessageIndex;
use crate::store::{self, Store};

/// The error returned when the store or its index cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Index(#[from] store::index::Error),
}

/// Days of correspondence the index looks at.
pub const WINDOW_DAYS: i64 = 90;

/// What the user index is computed from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Each scored message of the window: its score, its participants but the user, and its
    /// score had it been end-to-end encrypted.
    pub messages: Vec<(u8, Vec<String>, u8)>,
    /// Correspondents with a usable, trusted key.
    pub with_key: BTreeSet<String>,
    /// The device index and its suggestions.
    pub device: u8,
    pub device_suggestions: Vec<Suggestion>,
}

impl Facts {
    /// The facts as the store knows them `now` (seconds since the epoch): the scored
    /// messages `index` holds of the last [`WINDOW_DAYS`], the addresses bound to a trusted
    /// key, and this device's index ([`super::device`], its config at `config_path`).
    pub fn gather(
        store: &Store,
        index: &MessageIndex,
        config: &Config,
        config_path: Option<&Path>,
        now: i64,
    ) -> Result<Facts, Error> {
        let reader = index.reader()?;
        let messages = reader.messages_since(now - WINDOW_DAYS * 86_400)?;
        let own: BTreeSet<String> = config
            .identity
            .addresses
            .iter()
            .map(|a| a.to_lowercase())
            .collect();
        let device = super::device::score(&super::device::gather(config, config_path, store)?);
        let mut facts = Facts {
            with_key: store
                .db
                .bindings(None, None)?
                .into_iter()
                .filter(|b| b.state.is_trusted())
                .map(|b| b.address)
                .collect(),
            device: device.score,
            device_suggestions: device.suggestions,
            ..Facts::default()
        };
        for message in &messages {
            facts.add(message, &own, config);
        }
        Ok(facts)
    }

    /// Adds a scored message; `own` are the user's addresses, never counted.
    pub fn add(&mut self, message: &Message, own: &BTreeSet<String>, config: &Config) {
        let Some(privacy) = &message.privacy else {
            return;
        };
        let participants: BTreeSet<String> = message
            .from
            .iter()
            .chain(&message.to)
            .chain(&message.cc)
            .map(|a| a.address.to_lowercase())
            .filter(|a| !a.is_empty() && !own.contains(a))
            .collect();
        let mut sealed = message.clone();
        sealed.security.encryption = Encryption::PgpMime;
        let sealed = super::message::score(&sealed, config).score;
        self.messages.push((
            privacy.score,
            participants.into_iter().collect(),
            sealed.max(privacy.score),
        ));
    }
}

fn compute(facts: &Facts) -> (u8, u8, u8, usize, usize) {
    let messages = if facts.messages.is_empty() {
        0
    } else {
        let sum: u32 = facts.messages.iter().map(|(s, _, _)| u32::from(*s)).sum();
        ((sum + facts.messages.len() as u32 / 2) / facts.messages.len() as u32) as u8
    };
    let correspondents: BTreeSet<&String> = facts.messages.iter().flat_map(|(_, p, _)| p).collect();
    let covered = correspondents
        .iter()
        .filter(|c| facts.with_key.contains(**c))
        .count();
    let coverage = if correspondents.is_empty() {
        0
    } else {
        ((covered * 100 + correspondents.len() / 2) / correspondents.len()) as u8
    };
    // A part with nothing to count (no mail in the window, nobody written to) is left out
    // and the others keep their relative weights.
    let parts = [
        (!facts.messages.is_empty(), 2, u32::from(messages)),
        (!correspondents.is_empty(), 1, u32::from(coverage)),
        (true, 1, u32::from(facts.device)),
    ];
    let weight: u32 = parts.iter().filter(|p| p.0).map(|p| p.1).sum();
    let sum: u32 = parts.iter().filter(|p| p.0).map(|p| p.1 * p.2).sum();
    let score = ((sum + weight / 2) / weight) as u8;
    (score, messages, coverage, correspondents.len(), covered)
}

/// The index of `facts`, with suggestions ranked by gain.
pub fn score(facts: &Facts) -> UserIndex {
    let (score, messages, coverage, correspondents, covered) = compute(facts);
    let mut suggestions = Vec::new();
    // Keys for the correspondents written to most, each scored as if found and used.
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for (_, participants, _) in &facts.messages {
        for p in participants.iter().filter(|p| !facts.with_key.contains(*p)) {
            *counts.entry(p).or_default() += 1;
        }
    }
    let mut frequent: Vec<(&String, usize)> = counts.into_iter().collect();
    frequent.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    for (address, count) in frequent.into_iter().take(5) {
        let mut changed = facts.clone();
        changed.with_key.insert(address.clone());
        for message in &mut changed.messages {
            if message.1.iter().all(|p| changed.with_key.contains(p)) {
                message.0 = message.2;
            }
        }
        let gain = i32::from(compute(&changed).0) - i32::from(score);
        if gain > 0 {
            suggestions.push(Suggestion {
                action: format!("missive keys discover {address}"),
                gain,
                why: format!(
                    "{count} message(s) with {address} in the last {WINDOW_DAYS} days, none \
                     encrypted to a known key: `missive keys discover {address}` looks for one, \
                     or ask them for theirs: `missive send --to {address}` carries your \
                     Autocrypt header"
                ),
            });
        }
    }
    // Correspondents with a key whom the user still wrote to in clear: each message all of
    // whose people have a key scored as if sent encrypted, as `send` does by default.
    for address in &facts.with_key {
        let with = |m: &(u8, Vec<String>, u8)| m.1.contains(address);
        let total = facts.messages.iter().filter(|m| with(m)).count();
        let mut changed = facts.clone();
        let mut clear = 0;
        for message in changed.messages.iter_mut().filter(|m| with(m)) {
            if message.2 > message.0 && message.1.iter().all(|p| facts.with_key.contains(p)) {
                message.0 = message.2;
                clear += 1;
            }
        }
        let gain = i32::from(compute(&changed).0) - i32::from(score);
        if clear > 0 && gain > 0 {
            suggestions.push(Suggestion {
                action: format!("missive send --to {address}"),
                gain,
                why: format!(
                    "{clear} of your {total} message(s) with {address} in the last \
                     {WINDOW_DAYS} days went in clear though they have a key: \
                     `missive send --to {address}` encrypts by default"
                ),
            });
        }
    }
    for suggestion in &facts.device_suggestions {
        let changed = Facts {
            device: facts
                .device
                .saturating_add(u8::try_from(suggestion.gain.max(0)).unwrap_or(0))
                .min(100),
            ..facts.clone()
        };
        let gain = i32::from(compute(&changed).0) - i32::from(score);
        if gain > 0 {
            suggestions.push(Suggestion {
                gain,
                ..suggestion.clone()
            });
        }
    }
    suggestions.sort_by(|a, b| b.gain.cmp(&a.gain).then_with(|| a.action.cmp(&b.action)));
    UserIndex {
        score,
        grade: super::message::grade(score),
        label: super::message::label(super::message::grade(score)),
        messages: IndexPart {
            score: messages,
            weight: "1/2".into(),
            evidence: format!(
                "mean of {} scored message(s) of the last {WINDOW_DAYS} days",
                facts.messages.len()
            ),
        },
        key_coverage: IndexPart {
            score: coverage,
            weight: "1/4".into(),
            evidence: format!("{covered} of {correspondents} correspondent(s) with a trusted key"),
        },
        device: IndexPart {
            score: facts.device,
            weight: "1/4".into(),
            evidence: "missive score --device".into(),
        },
        suggestions,
    }
}

/// The change since the newest history point at least a week old, as `(points, day)`.
pub fn trend(history: &[(String, u8)], today: &str, score: u8) -> Option<(i32, String)> {
    let week_ago = crate::record::timestamp(&format!("{today}T00:00:00Z"))? - 7 * 86_400;
    history
        .iter()
        .rev()
        .find(|(day, _)| {
            crate::record::timestamp(&format!("{day}T00:00:00Z")).is_some_and(|t| t <= week_ago)
        })
        .or_else(|| history.iter().find(|(day, _)| day != today))
        .map(|(day, old)| (i32::from(score) - i32::from(*old), day.clone()))
}

/// The record `missive score --user` prints, `now` in seconds since the epoch: the index
/// from [`Facts::gather`], kept in the store as today's point of the history, with the trend
/// since an earlier point and the whole history.
pub fn report(
    store: &mut Store,
    index: &MessageIndex,
    config: &Config,
    config_path: Option<&Path>,
    now: i64,
) -> Result<UserRecord, Error> {
    let index = score(&Facts::gather(store, index, config, config_path, now)?);
    let today = crate::record::rfc3339(now)[..10].to_string();
    let batch = store.db.batch()?;
    batch.put_privacy_point(&today, index.score)?;
    batch.commit()?;
    let history = store.db.privacy_history()?;
    Ok(UserRecord {
        kind: UserKind,
        v: VERSION,
        trend: trend(&history, &today, index.score).map(|(change, since)| Trend { change, since }),
        history: history
            .into_iter()
            .map(|(day, score)| HistoryPoint { day, score })
            .collect(),
        index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            messages: vec![
                (40, vec!["bob@example.net".into()], 70),
                (40, vec!["bob@example.net".into()], 70),
                (80, vec!["carol@example.org".into()], 80),
            ],
            with_key: ["carol@example.org".to_string()].into(),
            device: 60,
            device_suggestions: vec![Suggestion {
                action: "missive keys generate".into(),
                gain: 20,
                why: "no key".into(),
            }],
        }
    }

    #[test]
    fn the_parts_and_their_weights() {
        let index = score(&facts());
        assert_eq!(index.messages.score, 53, "mean of 40, 40, 80");
        assert_eq!(index.key_coverage.score, 50, "carol of bob and carol");
        assert_eq!(index.device.score, 60);
        assert_eq!(index.score, 54, "(2×53 + 50 + 60) / 4");
    }

    #[test]
    fn with_no_mail_in_the_window_the_device_is_the_index() {
        let index = score(&Facts {
            messages: Vec::new(),
            ..facts()
        });
        assert_eq!(index.score, 60);
    }

    #[test]
    fn suggestions_are_the_index_computed_again_with_the_change() {
        let index = score(&facts());
        let bob = index
            .suggestions
            .iter()
            .find(|s| s.action == "missive keys discover bob@example.net")
            .unwrap();
        let mut changed = facts();
        changed.with_key.insert("bob@example.net".into());
        for m in &mut changed.messages {
            m.0 = m.2;
        }
        assert_eq!(
            i32::from(compute(&changed).0) - i32::from(index.score),
            bob.gain
        );
        let gains: Vec<i32> = index.suggestions.iter().map(|s| s.gain).collect();
        assert!(gains.windows(2).all(|w| w[0] >= w[1]), "{gains:?}");
        assert!(
            index
                .suggestions
                .iter()
                .any(|s| s.action == "missive keys generate")
        );
    }

    #[test]
    fn suggestions_that_send_can_act_on_name_the_command() {
        let index = score(&facts());
        let bob = index
            .suggestions
            .iter()
            .find(|s| s.action == "missive keys discover bob@example.net")
            .unwrap();
        assert!(
            bob.why
                .contains("ask them for theirs: `missive send --to bob@example.net` carries your Autocrypt header"),
            "{}",
            bob.why
        );
        // Carol has a key, yet one of her two messages went in clear.
        let mut clear = facts();
        clear
            .messages
            .push((45, vec!["carol@example.org".into()], 75));
        let index = score(&clear);
        let carol = index
            .suggestions
            .iter()
            .find(|s| s.action == "missive send --to carol@example.org")
            .unwrap_or_else(|| panic!("{:?}", index.suggestions));
        assert!(carol.gain > 0);
        assert_eq!(
            carol.why,
            "1 of your 2 message(s) with carol@example.org in the last 90 days went in clear \
             though they have a key: `missive send --to carol@example.org` encrypts by default"
        );
        assert!(
            !score(&facts())
                .suggestions
                .iter()
                .any(|s| s.action.starts_with("missive send")),
            "no suggestion to send when everything to a key holder was encrypted"
        );
    }

    #[test]
    fn the_trend_compares_with_a_point_a_week_old() {
        let history = vec![
            ("2026-11-01".to_string(), 40),
            ("2026-11-17".to_string(), 50),
            ("2026-11-20".to_string(), 55),
        ];
        assert_eq!(
            trend(&history, "2026-11-25", 60),
            Some((10, "2026-11-17".into()))
        );
        assert_eq!(
            trend(&[("2026-11-24".into(), 58)], "2026-11-25", 60),
            Some((2, "2026-11-24".into()))
        );
        assert_eq!(trend(&[], "2026-11-25", 60), None);
    }
}
