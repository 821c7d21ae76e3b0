//! `contacts suggest`: merges of contacts that look like one person but are not sure, each
//! with its evidence and the command that would apply it. Nothing is applied.
//!
//! Two signs are read: the same display name on identities of two protocols
//! (`same_name`), and the same local part of an email address or Mastodon handle at
//! related domains (`same_local_part`: one domain is the other's subdomain, or both share
//! their registrable name, as `example.org` and `example.net`).

use std::collections::{BTreeMap, BTreeSet};

use super::{Directory, User, identity};
use crate::record::{ContactSuggestion, VERSION};

/// Local parts that name a role, not a person.
const ROLES: &[&str] = &[
    "admin",
    "contact",
    "hello",
    "info",
    "mail",
    "mailer-daemon",
    "no-reply",
    "noreply",
    "notifications",
    "postmaster",
    "support",
    "webmaster",
];

/// The suggestions for what `directory` holds, sorted by reason and contacts.
pub fn suggest(directory: &Directory, user: &User) -> Vec<ContactSuggestion> {
    // contact → (identities, names)
    let mut people: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    let all = directory.list(true);
    for contact in &all {
        let entry = people.entry(contact.id.clone()).or_default();
        for identity in &contact.identities {
            if !user.is_user(identity) {
                entry.0.insert(identity.clone());
            }
        }
        entry
            .1
            .extend(contact.name.iter().map(|name| normal_name(name)));
        for identity in &contact.identities {
            if let Some(Some(name)) = directory.seen.get(identity) {
                entry.1.insert(normal_name(name));
            }
        }
    }
    people.retain(|_, (identities, _)| !identities.is_empty());
    let handle = |id: &str| -> String {
        match directory.contacts.contains_key(id) {
            true => id.to_string(),
            false => people[id].0.iter().next().cloned().unwrap_or_default(),
        }
    };
    let mut out = BTreeMap::new();

    let mut by_name: BTreeMap<&str, BTreeSet<&String>> = BTreeMap::new();
    for (id, (_, names)) in &people {
        for name in names.iter().filter(|n| !n.is_empty()) {
            by_name.entry(name).or_default().insert(id);
        }
    }
    for (name, ids) in by_name {
        let kinds: BTreeSet<&str> = ids
            .iter()
            .flat_map(|id| people[*id].0.iter().map(|i| identity::kind(i)))
            .collect();
        if ids.len() < 2 || kinds.len() < 2 {
            continue;
        }
        let contacts: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        let evidence = ids
            .iter()
            .flat_map(|id| people[*id].0.iter())
            .map(|identity| format!("{identity} is named {name:?}"))
            .collect();
        out.insert(
            ("same_name", contacts.clone()),
            suggestion("same_name", contacts, evidence, &handle),
        );
    }

    let mut by_local: BTreeMap<String, Vec<(&String, &String, String)>> = BTreeMap::new();
    for (id, (identities, _)) in &people {
        for identity in identities {
            if let Some((local, domain)) = local_and_domain(identity)
                && !ROLES.contains(&local.as_str())
            {
                by_local
                    .entry(local)
                    .or_default()
                    .push((id, identity, domain));
            }
        }
    }
    for (local, found) in by_local {
        for (i, (a, a_identity, a_domain)) in found.iter().enumerate() {
            for (b, b_identity, b_domain) in &found[i + 1..] {
                if a == b || !related(a_domain, b_domain) {
                    continue;
                }
                let mut contacts = vec![a.to_string(), b.to_string()];
                contacts.sort();
                let evidence = vec![format!(
                    "{a_identity} and {b_identity} share the local part {local:?} at related domains"
                )];
                out.entry(("same_local_part", contacts.clone()))
                    .or_insert_with(|| suggestion("same_local_part", contacts, evidence, &handle));
            }
        }
    }
    out.into_values().collect()
}

fn suggestion(
    reason: &str,
    contacts: Vec<String>,
    evidence: Vec<String>,
    handle: &dyn Fn(&str) -> String,
) -> ContactSuggestion {
    let command = format!(
        "missive contacts link {}",
        contacts
            .iter()
            .map(|id| handle(id))
            .collect::<Vec<_>>()
            .join(" ")
    );
    ContactSuggestion {
        v: VERSION,
        reason: reason.to_string(),
        contacts,
        evidence,
        command,
        ..ContactSuggestion::default()
    }
}

/// A name lowercased with its spaces collapsed and quotes dropped.
fn normal_name(name: &str) -> String {
    name.split_whitespace()
        .map(|word| word.trim_matches(['"', '\'']).to_lowercase())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The local part (without a `+tag`) and domain of an email address or Mastodon handle.
fn local_and_domain(identity: &str) -> Option<(String, String)> {
    let handle = identity::handle(identity);
    let (local, domain) = match identity::kind(identity) {
        "email" => handle.rsplit_once('@')?,
        "mastodon" => handle.trim_start_matches('@').split_once('@')?,
        _ => return None,
    };
    let local = local.split('+').next().unwrap_or(local).to_lowercase();
    (!local.is_empty()).then(|| (local, domain.to_lowercase()))
}

/// Whether two domains are one's subdomain of the other, or share their registrable name
/// (the label before the last: `example` in `mail.example.org` and `example.net`).
fn related(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let sub = |x: &str, y: &str| x.ends_with(&format!(".{y}"));
    if sub(a, b) || sub(b, a) {
        return true;
    }
    let name = |d: &str| d.rsplit('.').nth(1).map(str::to_string);
    matches!((name(a), name(b)), (Some(x), Some(y)) if x == y && x.len() > 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(seen: &[(&str, Option<&str>)]) -> Directory {
        let mut directory = Directory::default();
        for (identity, name) in seen {
            directory.saw(identity, *name);
        }
        directory
    }

    #[test]
    fn the_same_name_on_two_protocols_is_suggested_with_evidence() {
        let found = suggest(
            &directory(&[
                ("email:hana@example.org", Some("Hana Example")),
                ("mastodon:@hk@social.example", Some("hana  EXAMPLE")),
                ("email:other@example.org", Some("Someone Else")),
            ]),
            &User::default(),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].reason, "same_name");
        assert_eq!(found[0].evidence.len(), 2);
        assert!(found[0].command.starts_with("missive contacts link "));
    }

    #[test]
    fn the_same_name_on_one_protocol_is_not_enough() {
        let found = suggest(
            &directory(&[
                ("email:hana@example.org", Some("Hana")),
                ("email:hana.k@example.com", Some("Hana")),
            ]),
            &User::default(),
        );
        assert!(found.iter().all(|s| s.reason != "same_name"), "{found:?}");
    }

    #[test]
    fn the_same_local_part_at_related_domains_is_suggested() {
        let found = suggest(
            &directory(&[
                ("email:ivan@example.org", None),
                ("email:Ivan+lists@mail.example.org", None),
                ("mastodon:@ivan@example.net", None),
                ("email:ivan@unrelated.test", None),
                ("email:info@example.org", None),
                ("email:info@example.net", None),
            ]),
            &User::default(),
        );
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found.iter().all(|s| s.reason == "same_local_part"));
        assert!(found.iter().all(|s| !s.evidence[0].contains("unrelated")));
    }

    #[test]
    fn domains_are_related_by_subdomain_or_registrable_name() {
        assert!(related("mail.example.org", "example.org"));
        assert!(related("example.org", "example.net"));
        assert!(!related("example.org", "example2.org"));
        assert!(!related("ab.org", "ab.net"), "short names are too common");
    }
}
