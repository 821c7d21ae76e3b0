//! The privacy index of this device (`missive score --device`): how the store and config
//! are protected, where account secrets come from, whether every account is read under TLS,
//! and whether the user has a key of their own, protected by a passphrase. Factors come from [`super::factors`]; suggestions are
//! found by scoring the facts again with one change applied.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::config::Config;
use crate::record::{DeviceKind, DeviceRecord, Privacy, VERSION};
use crate::store::{self, Store};

use super::factors::{self, Factor};

/// What the device index is computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// The store directory and what its mode lets others do.
    pub store: String,
    pub store_private: bool,
    /// The config file, when there is one, and whether only its owner can read it.
    pub config: Option<(String, bool)>,
    /// Accounts with a password written in the config.
    pub plain_secrets: Vec<String>,
    /// Accounts whose secret comes from a command.
    pub command_secrets: usize,
    /// Accounts read without TLS (`tls = "none"`, `insecure = true`).
    pub plain_text_accounts: Vec<String>,
    /// The user's own key, if any: whether its secret is passphrase-protected.
    pub own_key: Option<bool>,
}

/// Reads the facts of this device.
pub fn facts(
    config: &Config,
    config_path: Option<&Path>,
    store: &Path,
    own_key: Option<bool>,
) -> Facts {
    let private =
        |path: &Path| std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 == 0);
    Facts {
        store: store.display().to_string(),
        store_private: private(store),
        config: config_path
            .filter(|p| p.exists())
            .map(|p| (p.display().to_string(), private(p))),
        plain_secrets: config
            .accounts
            .iter()
            .filter(|(_, a)| a.password.is_some())
            .map(|(name, _)| name.clone())
            .collect(),
        command_secrets: config
            .accounts
            .values()
            .filter(|a| {
                a.password.is_none() && (a.password_command.is_some() || a.token_command.is_some())
            })
            .count(),
        plain_text_accounts: config
            .accounts
            .iter()
            .filter(|(_, a)| a.in_clear())
            .map(|(name, _)| name.clone())
            .collect(),
        own_key,
    }
}

/// Reads the facts of this device, whose store is `store`: [`facts`] with the user's own
/// key as the store knows it.
pub fn gather(
    config: &Config,
    config_path: Option<&Path>,
    store: &Store,
) -> Result<Facts, store::Error> {
    let own_key = store
        .db
        .own_keys()?
        .first()
        .map(|(_, _, protected)| *protected);
    Ok(facts(config, config_path, store.root(), own_key))
}

/// The record `missive score --device` prints: this device's index and the paths it looked at.
pub fn report(
    config: &Config,
    config_path: Option<&Path>,
    store: &Store,
) -> Result<DeviceRecord, store::Error> {
    let facts = gather(config, config_path, store)?;
    Ok(DeviceRecord {
        kind: DeviceKind,
        v: VERSION,
        privacy: score(&facts),
        store: facts.store,
        config: facts.config.map(|(path, _)| path),
    })
}

/// The device's index, with suggestions ranked by gain.
pub fn score(facts: &Facts) -> Privacy {
    let mut privacy = evaluate(facts);
    let mut changes = Vec::new();
    let mut suggest =
        |changed: Facts, action: String, why: &'static str| changes.push((changed, action, why));
    if !facts.store_private {
        suggest(
            Facts {
                store_private: true,
                ..facts.clone()
            },
            format!("chmod 700 {}", facts.store),
            "other users of this machine can read your archive",
        );
    }
    if let Some((path, false)) = &facts.config {
        suggest(
            Facts {
                config: Some((path.clone(), true)),
                ..facts.clone()
            },
            format!("chmod 600 {path}"),
            "other users of this machine can read your config",
        );
    }
    for account in &facts.plain_secrets {
        suggest(
            Facts {
                plain_secrets: facts
                    .plain_secrets
                    .iter()
                    .filter(|a| *a != account)
                    .cloned()
                    .collect(),
                command_secrets: facts.command_secrets + 1,
                ..facts.clone()
            },
            format!(
                "replace accounts.{account}.password by a password_command (missive config show)"
            ),
            "a password in clear in the config file",
        );
    }
    for account in &facts.plain_text_accounts {
        suggest(
            Facts {
                plain_text_accounts: facts
                    .plain_text_accounts
                    .iter()
                    .filter(|a| *a != account)
                    .cloned()
                    .collect(),
                ..facts.clone()
            },
            format!(
                "in accounts.{account}, remove insecure and tls = \"none\" (IMAP: implicit TLS on 993, STARTTLS on 143; Mastodon: HTTPS)"
            ),
            "the network sees this account's password and mail",
        );
    }
    match facts.own_key {
        None => suggest(
            Facts {
                own_key: Some(true),
                ..facts.clone()
            },
            "missive keys generate".into(),
            "without a key of your own nobody can write to you end to end",
        ),
        Some(false) => suggest(
            Facts {
                own_key: Some(true),
                ..facts.clone()
            },
            "protect your key with a passphrase (missive keys export --secret | sq key password)"
                .into(),
            "anyone who copies the store can use your key",
        ),
        Some(true) => {}
    }
    privacy.suggestions = super::ranked(privacy.score, changes, evaluate);
    privacy
}

fn evaluate(facts: &Facts) -> Privacy {
    let mut applied = Vec::new();
    let mut add = |factor: &Factor, evidence: String| applied.push(factor.applied(evidence));
    add(&factors::DEVICE_BASE_TECHNIC, "every device".into());
    match facts.own_key {
        Some(true) => add(
            &factors::DEVICE_OWN_KEY_PROTECTED,
            "own key with a passphrase".into(),
        ),
        Some(false) => add(
            &factors::DEVICE_OWN_KEY_UNPROTECTED,
            "own key without a passphrase".into(),
        ),
        None => add(
            &factors::DEVICE_NO_OWN_KEY,
            "no own key (missive keys list)".into(),
        ),
    }
    if !facts.plain_text_accounts.is_empty() {
        add(
            &factors::DEVICE_ACCOUNT_IN_CLEAR,
            format!(
                "tls = \"none\" with insecure = true: {}",
                facts.plain_text_accounts.join(", ")
            ),
        );
    }
    add(&factors::DEVICE_BASE_CONTEXT, "every device".into());
    if facts.store_private {
        add(
            &factors::DEVICE_STORE_PRIVATE,
            format!("{} is mode 700 or stricter", facts.store),
        );
    } else {
        add(
            &factors::DEVICE_STORE_EXPOSED,
            format!("{} is readable by others", facts.store),
        );
    }
    match &facts.config {
        Some((path, true)) => add(
            &factors::DEVICE_CONFIG_PRIVATE,
            format!("{path} is readable by its owner only"),
        ),
        Some((path, false)) => add(
            &factors::DEVICE_CONFIG_EXPOSED,
            format!("{path} is readable by others"),
        ),
        None => {}
    }
    add(&factors::DEVICE_BASE_COMPORTMENT, "every device".into());
    if !facts.plain_secrets.is_empty() {
        add(
            &factors::DEVICE_SECRET_IN_CONFIG,
            format!("password in the config: {}", facts.plain_secrets.join(", ")),
        );
    } else {
        add(
            &factors::DEVICE_NO_SECRET_IN_CONFIG,
            match facts.command_secrets {
                0 => "no account secret in the config".into(),
                n => format!("{n} account(s) with password_command or token_command"),
            },
        );
    }
    super::message::index(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            store: "/home/u/.local/share/missive".into(),
            store_private: true,
            config: Some(("/home/u/.config/missive/config.toml".into(), true)),
            plain_secrets: Vec::new(),
            command_secrets: 1,
            plain_text_accounts: Vec::new(),
            own_key: Some(true),
        }
    }

    fn names(privacy: &Privacy) -> Vec<&str> {
        privacy.factors.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn a_careful_device_scores_a_and_has_nothing_to_suggest() {
        let privacy = score(&facts());
        assert_eq!(privacy.grade, crate::record::Grade::A, "{privacy:?}");
        assert!(privacy.suggestions.is_empty());
    }

    #[test]
    fn each_weakness_shows_as_its_factor_with_a_suggestion_that_gains_what_it_says() {
        let weak = Facts {
            store_private: false,
            config: Some(("/c.toml".into(), false)),
            plain_secrets: vec!["work".into()],
            command_secrets: 0,
            plain_text_accounts: vec!["old".into()],
            own_key: None,
            ..facts()
        };
        let privacy = score(&weak);
        for name in [
            "device_account_in_clear",
            "device_store_exposed",
            "device_config_exposed",
            "device_secret_in_config",
            "device_no_own_key",
        ] {
            assert!(
                names(&privacy).contains(&name),
                "{name}: {:?}",
                names(&privacy)
            );
        }
        let actions: Vec<&str> = privacy
            .suggestions
            .iter()
            .map(|s| s.action.as_str())
            .collect();
        assert!(actions.contains(&"missive keys generate"), "{actions:?}");
        assert!(actions.iter().any(|a| a.starts_with("chmod 700")));
        assert!(
            actions
                .iter()
                .any(|a| a.starts_with("in accounts.old, remove insecure")),
            "{actions:?}"
        );
        let gains: Vec<i32> = privacy.suggestions.iter().map(|s| s.gain).collect();
        assert!(
            gains.windows(2).all(|w| w[0] >= w[1]),
            "ranked by gain: {gains:?}"
        );
        // The gain is what applying the change gives, not a guess.
        let generated = score(&Facts {
            own_key: Some(true),
            ..weak.clone()
        });
        let suggested = privacy
            .suggestions
            .iter()
            .find(|s| s.action == "missive keys generate")
            .unwrap();
        assert_eq!(
            i32::from(generated.score) - i32::from(privacy.score),
            suggested.gain
        );
    }

    #[test]
    fn an_unprotected_own_key_is_better_than_none_and_worse_than_a_protected_one() {
        let none = score(&Facts {
            own_key: None,
            ..facts()
        })
        .score;
        let bare = score(&Facts {
            own_key: Some(false),
            ..facts()
        })
        .score;
        let protected = score(&facts()).score;
        assert!(none < bare && bare < protected, "{none} {bare} {protected}");
    }

    #[test]
    fn every_factor_has_a_test() {
        let careful = score(&facts());
        let weak = score(&Facts {
            store_private: false,
            config: Some(("/c.toml".into(), false)),
            plain_secrets: vec!["work".into()],
            plain_text_accounts: vec!["old".into()],
            own_key: Some(false),
            ..facts()
        });
        let none = score(&Facts {
            own_key: None,
            ..facts()
        });
        let seen: Vec<&str> = [&careful, &weak, &none]
            .iter()
            .flat_map(|p| names(p))
            .collect();
        for factor in factors::FACTORS
            .iter()
            .filter(|f| f.name.starts_with("device_"))
        {
            assert!(seen.contains(&factor.name), "no test shows {}", factor.name);
        }
    }

    #[test]
    fn the_permissions_of_real_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "").unwrap();
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let found = super::facts(&Config::default(), Some(&config), dir.path(), None);
        assert!(found.store_private);
        assert_eq!(found.config.map(|(_, private)| private), Some(false));
    }
}
