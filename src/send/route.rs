//! Routing: which channel carries a draft to its recipients. Every channel that reaches all
//! of them is scored by the privacy index the delivered message would get (the caller
//! scores it with the factor table `score` uses), and the best one wins, end-to-end
//! encryption on a tie. The rules that may refuse come after: a mixed list (some recipients
//! with a key, some without) is never sent in clear to all without `--split`, a reply to
//! encrypted mail never in clear without `--via`, and nothing below the minimum privacy.
//!
//! Pure over the facts [`super`] gathers from the store, so each rule can be tested alone.

use crate::record::{BindingState, Privacy, Recommendation};

/// A way to carry a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    /// Email signed and encrypted to every recipient (RFC 3156).
    PgpMime,
    /// Email in clear, under TLS to the submission server.
    Tls,
    /// A Mastodon direct status, readable by the instances' admins.
    MastodonDm,
}

impl Channel {
    /// Every channel, end-to-end first: the order that breaks a tie.
    pub const ALL: [Channel; 3] = [Channel::PgpMime, Channel::Tls, Channel::MastodonDm];

    /// The name `--via` takes and delivery records print.
    pub fn name(self) -> &'static str {
        match self {
            Channel::PgpMime => "pgp-mime",
            Channel::Tls => "tls",
            Channel::MastodonDm => "mastodon-dm",
        }
    }

    /// The channel named `name` ([`Channel::name`]).
    pub fn parse(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the channel is an email one.
    pub fn is_email(self) -> bool {
        matches!(self, Channel::PgpMime | Channel::Tls)
    }
}

/// What the store knows of a recipient's key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum KeyFacts {
    #[default]
    None,
    /// A usable key trusted on first use or verified.
    Usable {
        fingerprint: String,
        source: String,
        state: BindingState,
        recommendation: Recommendation,
    },
    /// Two keys for the address: none is used until the user decides.
    Conflict { fingerprints: Vec<String> },
    /// The only key is revoked or expired.
    Unusable {
        fingerprint: String,
        state: BindingState,
    },
}

/// One recipient of a draft, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recipient {
    /// As the draft named them.
    pub given: String,
    /// `to`, `cc` or `bcc`.
    pub field: &'static str,
    pub name: Option<String>,
    /// Their email address, as records spell it.
    pub email: Option<String>,
    /// Their Mastodon handle, `@user@instance`.
    pub mastodon: Option<String>,
    pub key: KeyFacts,
    /// One of the user's own addresses (a patch's author Cc'd by `git send-email`): what
    /// is sent to them opens with the user's own key, and they never make a list mixed.
    pub own: bool,
}

impl Recipient {
    /// The identity deliveries name them by: the address the channel uses, else the first
    /// one they have, else what the draft said.
    pub fn identity(&self, channel: Option<Channel>) -> String {
        let email = self.email.as_ref().map(|a| format!("email:{a}"));
        let mastodon = self.mastodon.as_ref().map(|h| format!("mastodon:{h}"));
        match channel {
            Some(Channel::MastodonDm) => mastodon.or(email),
            _ => email.or(mastodon),
        }
        .unwrap_or_else(|| self.given.clone())
    }

    fn who(&self) -> &str {
        self.email
            .as_deref()
            .or(self.mastodon.as_deref())
            .unwrap_or(&self.given)
    }
}

/// What holds for the whole draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Facts {
    /// The user has a key of their own to sign with and keep a readable copy.
    pub own_key: bool,
    /// The user has an email address to send from (not only a Mastodon handle).
    pub own_email: bool,
    /// A Mastodon account with a token is configured.
    pub mastodon_account: bool,
    /// The draft answers an end-to-end encrypted message.
    pub parent_encrypted: bool,
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    pub via: Option<Channel>,
    pub min_privacy: Option<u8>,
    pub split: bool,
}

/// Some recipients by one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub channel: Channel,
    /// Indexes into the recipients.
    pub recipients: Vec<usize>,
    /// The predicted privacy of the message this group gets.
    pub privacy: Privacy,
    /// Every other channel: its predicted score when it could carry the group, and why it
    /// lost.
    pub rejected: Vec<(Channel, Option<u8>, String)>,
}

/// The plan for a draft: its groups, and the reason it may not go, if any.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub groups: Vec<Group>,
    /// Warnings for one recipient, by index.
    pub warnings: Vec<(usize, String)>,
    /// Why nothing is sent, with what the user can do.
    pub refusal: Option<String>,
}

/// Why `channel` cannot reach `recipient`, or nothing when it can.
pub fn unreachable(channel: Channel, recipient: &Recipient, facts: &Facts) -> Option<String> {
    let who = recipient.who();
    if channel.is_email() && !facts.own_email {
        return Some(
            "you have no email address of your own: add one to [identity] addresses".into(),
        );
    }
    match channel {
        Channel::PgpMime => {
            let Some(address) = &recipient.email else {
                return Some(format!("{who} has no email address"));
            };
            if !facts.own_key {
                return Some(
                    "you have no key of your own to sign with: `missive keys generate`".into(),
                );
            }
            if recipient.own {
                return None;
            }
            match &recipient.key {
                KeyFacts::Usable { .. } => None,
                KeyFacts::None => Some(format!(
                    "no key for {address}: `missive keys discover {address}`"
                )),
                KeyFacts::Conflict { fingerprints } => Some(format!(
                    "TOFU conflict for {address}: keys {}; `missive keys verify {address} FINGERPRINT` keeps one, `missive keys forget {address} FINGERPRINT` drops one",
                    fingerprints.join(" and ")
                )),
                KeyFacts::Unusable { fingerprint, state } => Some(format!(
                    "the key {fingerprint} of {address} is {state}: `missive keys discover {address}`"
                )),
            }
        }
        Channel::Tls => recipient
            .email
            .is_none()
            .then(|| format!("{who} has no email address")),
        Channel::MastodonDm => {
            if recipient.mastodon.is_none() {
                Some(format!("{who} has no Mastodon identity"))
            } else if !facts.mastodon_account {
                Some("no Mastodon account with a token_command in the config".into())
            } else {
                None
            }
        }
    }
}

/// Plans a draft to `recipients`. `score` predicts the privacy of the message a channel
/// would deliver to some of them.
pub fn plan(
    recipients: &[Recipient],
    facts: &Facts,
    options: &Options,
    score: &mut dyn FnMut(Channel, &[usize]) -> Privacy,
) -> Plan {
    let everyone: Vec<usize> = (0..recipients.len()).collect();
    let mut plan = Plan::default();
    let why_not = |channel: Channel, among: &[usize]| -> Vec<String> {
        among
            .iter()
            .filter_map(|&i| unreachable(channel, &recipients[i], facts))
            .fold(Vec::new(), |mut all, why| {
                if !all.contains(&why) {
                    all.push(why);
                }
                all
            })
    };
    let reached = |channel: Channel| -> Vec<usize> {
        everyone
            .iter()
            .copied()
            .filter(|&i| unreachable(channel, &recipients[i], facts).is_none())
            .collect()
    };

    if let Some(via) = options.via {
        let blocked = why_not(via, &everyone);
        let privacy = score(via, &everyone);
        let rejected = Channel::ALL
            .into_iter()
            .filter(|&c| c != via)
            .map(|c| {
                (
                    c,
                    None,
                    format!("--via {} chose another channel", via.name()),
                )
            })
            .collect();
        plan.groups.push(Group {
            channel: via,
            recipients: everyone.clone(),
            privacy,
            rejected,
        });
        if !blocked.is_empty() {
            plan.refusal = Some(format!(
                "--via {} cannot reach every recipient: {}",
                via.name(),
                blocked.join("; ")
            ));
        }
    } else {
        // The user's own addresses go with whichever group they are in: a copy to oneself
        // never decides whether the others get encrypted mail.
        let others = everyone.iter().filter(|&&i| !recipients[i].own).count();
        let with_key = reached(Channel::PgpMime);
        let others_with_key = with_key.iter().filter(|&&i| !recipients[i].own).count();
        let mixed = others_with_key > 0 && others_with_key < others;
        if mixed && options.split {
            let without: Vec<usize> = everyone
                .iter()
                .copied()
                .filter(|i| !with_key.contains(i))
                .collect();
            plan.groups
                .push(best(Channel::ALL.to_vec(), &with_key, &why_not, score));
            let others = Channel::ALL
                .into_iter()
                .filter(|&c| c != Channel::PgpMime)
                .collect();
            plan.groups.push(best(others, &without, &why_not, score));
            let names = |group: &[usize]| -> String {
                group
                    .iter()
                    .map(|&i| recipients[i].who().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for &i in &everyone {
                plan.warnings.push((
                    i,
                    format!(
                        "split: encrypted to {}, {} to {}",
                        names(&with_key),
                        plan.groups[1].channel.name(),
                        names(&without)
                    ),
                ));
            }
        } else {
            plan.groups
                .push(best(Channel::ALL.to_vec(), &everyone, &why_not, score));
            if mixed {
                let keyless: Vec<String> = why_not(Channel::PgpMime, &everyone);
                plan.refusal = Some(format!(
                    "not sent in clear to recipients of whom some have a key ({}): {}; `--split` sends it encrypted to those with a key and by TLS to the others, `--via tls` in clear to all",
                    with_key
                        .iter()
                        .filter(|&&i| !recipients[i].own)
                        .map(|&i| recipients[i].who())
                        .collect::<Vec<_>>()
                        .join(", "),
                    keyless.join("; ")
                ));
            }
        }
    }

    if plan.refusal.is_none()
        && let Some(group) = plan
            .groups
            .iter()
            .find(|g| !why_not(g.channel, &g.recipients).is_empty())
    {
        let reasons: Vec<String> = Channel::ALL
            .into_iter()
            .map(|c| format!("{}: {}", c.name(), why_not(c, &group.recipients).join("; ")))
            .collect();
        plan.refusal = Some(format!(
            "no channel reaches every recipient ({})",
            reasons.join(" | ")
        ));
    }
    for group in &plan.groups {
        if group.channel == Channel::PgpMime {
            for &i in &group.recipients {
                if let KeyFacts::Usable {
                    recommendation: Recommendation::Discourage,
                    fingerprint,
                    ..
                } = &recipients[i].key
                {
                    let who = recipients[i].who();
                    plan.warnings.push((
                        i,
                        format!(
                            "Autocrypt discourages the key {fingerprint} of {who} (only gossiped, or not seen for long): used anyway; `missive keys discover {who}` may find a fresher one"
                        ),
                    ));
                }
            }
        } else {
            for &i in &group.recipients {
                if let KeyFacts::Conflict { .. } = recipients[i].key
                    && let Some(why) = unreachable(Channel::PgpMime, &recipients[i], facts)
                {
                    plan.warnings.push((i, format!("not encrypted: {why}")));
                }
            }
        }
    }
    if plan.refusal.is_none()
        && facts.parent_encrypted
        && options.via.is_none()
        && let Some(group) = plan.groups.iter().find(|g| g.channel != Channel::PgpMime)
    {
        plan.refusal = Some(format!(
            "it answers an end-to-end encrypted message: not sent by {} unless `--via {}` says so",
            group.channel.name(),
            group.channel.name()
        ));
    }
    if plan.refusal.is_none()
        && let Some(minimum) = options.min_privacy
        && let Some(group) = plan.groups.iter().find(|g| g.privacy.score < minimum)
    {
        plan.refusal = Some(format!(
            "by {} its privacy would be {} (grade {:?}), below the minimum of {minimum} (--min-privacy, [policy] min_privacy)",
            group.channel.name(),
            group.privacy.score,
            group.privacy.grade
        ));
    }
    plan
}

/// The best of `channels` for `group`: each that reaches all of it is scored, the highest
/// wins, the earliest of [`Channel::ALL`] on a tie; the others say why they lost.
fn best(
    channels: Vec<Channel>,
    group: &[usize],
    why_not: &dyn Fn(Channel, &[usize]) -> Vec<String>,
    score: &mut dyn FnMut(Channel, &[usize]) -> Privacy,
) -> Group {
    let mut scored: Vec<(Channel, Privacy)> = Vec::new();
    let mut rejected: Vec<(Channel, Option<u8>, String)> = Vec::new();
    for channel in channels {
        let blocked = why_not(channel, group);
        if blocked.is_empty() {
            scored.push((channel, score(channel, group)));
        } else {
            rejected.push((channel, None, blocked.join("; ")));
        }
    }
    // A direct message is readable by both instances' admins: whatever its predicted score,
    // it never ranks above end-to-end encrypted email that reaches the same people.
    let end_to_end = scored
        .iter()
        .find(|(c, _)| *c == Channel::PgpMime)
        .map(|(_, p)| p.score);
    let rank = |channel: Channel, privacy: &Privacy| match (channel, end_to_end) {
        (Channel::MastodonDm, Some(ceiling)) => privacy.score.min(ceiling),
        _ => privacy.score,
    };
    // Stable: among equal ranks the earlier channel (end-to-end first) stays first.
    scored.sort_by_key(|(channel, privacy)| std::cmp::Reverse(rank(*channel, privacy)));
    if scored.is_empty() {
        // Nothing reaches them all: the first blocked channel is named, and refused by the
        // caller's rules through its reasons.
        let (channel, _, _) = rejected.remove(0);
        return Group {
            channel,
            recipients: group.to_vec(),
            privacy: score(channel, group),
            rejected,
        };
    }
    let (channel, privacy) = scored.remove(0);
    for (other, their) in scored {
        let why = if their.score > privacy.score {
            format!(
                "scores {}, but its instances' admins can read it: never before end-to-end encrypted email",
                their.score
            )
        } else if their.score == privacy.score {
            format!(
                "scores {} as {} does; the tie goes to end-to-end encryption",
                their.score,
                channel.name()
            )
        } else {
            format!(
                "scores {}, below {} by {}",
                their.score,
                privacy.score,
                channel.name()
            )
        };
        rejected.push((other, Some(their.score), why));
    }
    rejected.sort_by_key(|(c, _, _)| *c);
    Group {
        channel,
        recipients: group.to_vec(),
        privacy,
        rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reachable_everywhere() -> Recipient {
        Recipient {
            given: "bob".into(),
            field: "to",
            email: Some("bob@example.org".into()),
            mastodon: Some("@bob@social.example".into()),
            key: KeyFacts::Usable {
                fingerprint: "AB".into(),
                source: "wkd".into(),
                state: BindingState::Tofu,
                recommendation: Recommendation::Available,
            },
            ..Recipient::default()
        }
    }

    #[test]
    fn a_direct_message_never_ranks_above_end_to_end_email_whatever_it_scores() {
        let facts = Facts {
            own_key: true,
            own_email: true,
            mastodon_account: true,
            parent_encrypted: false,
        };
        // A score table gone wrong: the direct message predicted above PGP/MIME.
        let mut score = |channel: Channel, _: &[usize]| Privacy {
            score: match channel {
                Channel::PgpMime => 80,
                Channel::Tls => 40,
                Channel::MastodonDm => 95,
            },
            ..Privacy::default()
        };
        let plan = plan(
            &[reachable_everywhere()],
            &facts,
            &Options::default(),
            &mut score,
        );
        assert_eq!(plan.groups[0].channel, Channel::PgpMime);
        assert!(plan.refusal.is_none(), "{:?}", plan.refusal);
        let (_, score, why) = plan.groups[0]
            .rejected
            .iter()
            .find(|(c, _, _)| *c == Channel::MastodonDm)
            .expect("the direct message among the rejected");
        assert_eq!(*score, Some(95));
        assert!(why.contains("never before end-to-end"), "{why}");
    }
}
