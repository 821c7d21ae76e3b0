//! `missive send`: drafts in, deliveries out, by the most private channel that reaches every
//! recipient. A draft's recipients are resolved through the contacts and the keys of the
//! store, [`route`] picks the channel with the privacy index `score` would give the
//! delivered message, [`outbox`] journals it before the first byte goes out and records
//! what each server said, and the message itself is built and delivered by [`mime`],
//! [`pgp`] and [`smtp`]. The copy sent goes into the archive and the index, as the record of
//! the conversation it belongs to.

pub mod mastodon;
pub mod mime;
pub mod outbox;
pub mod pgp;
pub mod route;
pub mod sendmail;
pub mod smtp;

use std::time::SystemTime;

use crate::config::Config;
use crate::contacts::{self, Directory, identity};
use crate::keys::{self, autocrypt, tofu};
use crate::privacy::circle::Circles;
use crate::record::{
    Address, Autocrypt, BindingState, Delivery, DeliveryKind, Draft, Encryption, Message,
    PlannedKey, Privacy, Recommendation, RejectedChannel, Security, SignatureFormat,
    SignatureState, SourceRef,
};
use crate::store::index::{MessageIndex, Sort, Unaided};
use crate::store::query::{KeywordField, Query};
use crate::store::{self, Store};

pub use route::{Channel, Options};
use route::{Facts, KeyFacts, Plan, Recipient};

/// The error that stops a draft.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0:?} names no contact, address or handle")]
    UnknownRecipient(String),
    #[error("{name:?} names several contacts: {}", ids.join(", "))]
    AmbiguousRecipient { name: String, ids: Vec<String> },
    #[error("the draft has no recipient")]
    NoRecipient,
    #[error("no message {0} in the index (missive index)")]
    UnknownMessage(String),
    #[error("no address of your own to send from: set [identity] addresses in the config")]
    NoSender,
    #[error("{0}: not one of your addresses in [identity] addresses")]
    NotOwnAddress(String),
    #[error("not a draft: {0}")]
    BadDraft(String),
    #[error("unknown channel {0:?}: pgp-mime, tls or mastodon-dm")]
    UnknownChannel(String),
    #[error("no account says how to send: set submission or sendmail in an account")]
    NoTransport,
    #[error("{0}")]
    Transport(String),
    #[error("cannot unlock your key {fingerprint}: {reason}")]
    Unlock { fingerprint: String, reason: String },
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Index(#[from] store::index::Error),
    #[error(transparent)]
    Contacts(#[from] contacts::Error),
    #[error(transparent)]
    Keys(#[from] keys::Error),
    #[error(transparent)]
    Circle(#[from] crate::privacy::circle::Error),
    #[error(transparent)]
    Mime(#[from] mime::Error),
    #[error(transparent)]
    Pgp(#[from] pgp::Error),
    #[error(transparent)]
    Smtp(#[from] smtp::Error),
    #[error(transparent)]
    Mastodon(#[from] crate::source::mastodon::Error),
}

impl crate::fault::Fault for Error {
    fn inner(&self) -> Option<&dyn crate::fault::Fault> {
        match self {
            Error::Store(e) | Error::Keys(keys::Error::Store(e)) => Some(e),
            Error::Index(e) => Some(e),
            Error::Contacts(e) => Some(e),
            Error::Circle(e) => Some(e),
            Error::Smtp(e) => Some(e),
            Error::Mastodon(e) => Some(e),
            _ => None,
        }
    }
}

/// What planning reads: the store, its index when there is one, and the config.
pub struct Context<'a> {
    pub store: &'a Store,
    pub index: Option<&'a MessageIndex>,
    pub config: &'a Config,
    pub now: SystemTime,
}

/// The message a draft answers, as the index holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parent {
    pub account: String,
    pub protocol: String,
    /// Its Message-ID, with angle brackets.
    pub native_id: String,
    pub references: Vec<String>,
    pub encrypted: bool,
}

/// A draft with its recipients resolved and its plan.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The draft, its `id` set.
    pub draft: Draft,
    pub id: String,
    pub from: Address,
    pub recipients: Vec<Recipient>,
    pub parent: Option<Parent>,
    /// A Message-ID named by the draft, when no record of it is indexed.
    pub in_reply_to: Option<String>,
    pub plan: Plan,
}

/// The id of a draft: its own, else `d_` and 32 hex digits of SHA-256 over it.
pub fn draft_id(draft: &Draft) -> String {
    if let Some(id) = &draft.id {
        return id.clone();
    }
    use sha2::Digest;
    let text = serde_json::to_string(draft).unwrap_or_default();
    format!(
        "d_{}",
        hex::encode(&sha2::Sha256::digest(text.as_bytes())[..16])
    )
}

/// The message with record id `id`, from the index.
fn indexed(context: &Context, id: &str) -> Result<Message, Error> {
    let reader = context
        .index
        .ok_or_else(|| Error::UnknownMessage(id.into()))?
        .reader()?;
    let query = Query::Keyword {
        field: KeywordField::Id,
        value: id.to_string(),
    };
    reader
        .search(&query, &Unaided, Sort::Date, 1, 0)?
        .0
        .pop()
        .ok_or_else(|| Error::UnknownMessage(id.into()))
}

/// A draft answering message `id` (`send --reply`): to its sender (its Reply-To when set),
/// `Re:` its subject, in its conversation.
pub fn reply_draft(context: &Context, id: &str, text: String) -> Result<Draft, Error> {
    let parent = indexed(context, id)?;
    let to: Vec<String> = if parent.reply_to.is_empty() {
        parent.from.iter().map(|a| a.address.clone()).collect()
    } else {
        parent.reply_to.iter().map(|a| a.address.clone()).collect()
    };
    let subject = parent.subject.unwrap_or_default();
    let subject = if subject
        .get(..3)
        .is_some_and(|s| s.eq_ignore_ascii_case("re:"))
    {
        subject
    } else {
        format!("Re: {subject}")
    };
    Ok(Draft {
        v: crate::record::VERSION,
        to,
        subject: Some(subject),
        text,
        in_reply_to: Some(id.to_string()),
        ..Draft::default()
    })
}

/// The user's address to send from: `chosen` when it is one of `[identity] addresses`
/// (else an error naming it), or the first email address there (a handle when there is
/// none: a Mastodon-only user).
fn sender(config: &Config, chosen: Option<&str>) -> Result<Address, Error> {
    let own = &config.identity.addresses;
    let address = match chosen {
        Some(chosen) => Some(
            own.iter()
                .find(|a| a.eq_ignore_ascii_case(chosen.trim()))
                .ok_or_else(|| Error::NotOwnAddress(chosen.to_string()))?,
        ),
        None => own.iter().find(|a| is_email(a)).or_else(|| own.first()),
    };
    address
        .map(|a| Address {
            name: config.identity.name.clone(),
            address: a.clone(),
            group: None,
        })
        .ok_or(Error::NoSender)
}

/// Whether an address of the user's is an email address (not a handle like `@me@host`).
fn is_email(address: &str) -> bool {
    !address.starts_with('@') && address.contains('@')
}

/// Resolves one recipient as a draft names them.
fn resolve(
    context: &Context,
    directory: &Directory,
    given: &str,
    field: &'static str,
    reply_to_encrypted: bool,
) -> Result<Recipient, Error> {
    let contact = match identity::parse(given) {
        Some(identity) if given.contains('@') || given.contains(':') => {
            let mut contact = directory.describe(&identity);
            // The identity named first, whatever else the contact has.
            contact.identities.retain(|i| i != &identity);
            contact.identities.insert(0, identity);
            contact
        }
        _ => {
            let matches: Vec<_> = directory
                .list(false)
                .into_iter()
                .filter(|c| {
                    c.id == given
                        || c.name
                            .as_deref()
                            .is_some_and(|n| n.eq_ignore_ascii_case(given))
                })
                .collect();
            match matches.len() {
                0 => return Err(Error::UnknownRecipient(given.into())),
                1 => matches.into_iter().next().ok_or(Error::NoRecipient)?,
                _ => {
                    return Err(Error::AmbiguousRecipient {
                        name: given.into(),
                        ids: matches.into_iter().map(|c| c.id).collect(),
                    });
                }
            }
        }
    };
    let first = |kind: &str| {
        contact
            .identities
            .iter()
            .find(|i| identity::kind(i) == kind)
            .map(|i| identity::handle(i).to_string())
    };
    let email = first("email");
    let key = match &email {
        Some(address) => key_facts(context, address, reply_to_encrypted)?,
        None => KeyFacts::None,
    };
    let own = context
        .config
        .identity
        .addresses
        .iter()
        .any(|a| email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(a)));
    Ok(Recipient {
        given: given.to_string(),
        field,
        name: contact.name.clone(),
        email,
        mastodon: first("mastodon"),
        key,
        own,
    })
}

/// What the store knows of `address`'s key, by the TOFU rules and Autocrypt's
/// recommendation.
fn key_facts(
    context: &Context,
    address: &str,
    reply_to_encrypted: bool,
) -> Result<KeyFacts, Error> {
    let Some(canonical) = tofu::binding_address(address) else {
        return Ok(KeyFacts::None);
    };
    let bindings = context.store.db.bindings(Some(&canonical), None)?;
    if bindings.iter().any(|b| b.state == BindingState::Conflict) {
        return Ok(KeyFacts::Conflict {
            fingerprints: bindings.into_iter().map(|b| b.fingerprint).collect(),
        });
    }
    let Some((binding, record)) = keys::best_binding(context.store, &canonical, context.now)?
    else {
        return Ok(KeyFacts::None);
    };
    if !(record.usable && binding.state.is_trusted()) {
        let state = if binding.state.is_trusted() {
            BindingState::Expired
        } else {
            binding.state
        };
        return Ok(KeyFacts::Unusable {
            fingerprint: binding.fingerprint,
            state,
        });
    }
    let own_mutual = context.config.identity.prefer_encrypt.as_deref() == Some("mutual");
    let peer = context.store.db.peer(&canonical)?;
    // A key found another way than Autocrypt (WKD, DNS, import) is available: the most
    // secure channel is the default, beyond Autocrypt's opt-in.
    let recommendation = match autocrypt::recommend(peer.as_ref(), own_mutual, reply_to_encrypted) {
        Recommendation::Disable => Recommendation::Available,
        Recommendation::Discourage
            if !matches!(binding.source.as_str(), "autocrypt" | "gossip") =>
        {
            Recommendation::Available
        }
        other => other,
    };
    Ok(KeyFacts::Usable {
        fingerprint: binding.fingerprint,
        source: binding.source,
        state: binding.state,
        recommendation,
    })
}

/// Whether the config has a Mastodon account with a token to post with.
fn mastodon_account(config: &Config) -> bool {
    config
        .accounts
        .values()
        .any(|a| a.source.get_ref().starts_with("mastodon://") && a.token_command.is_some())
}

/// Resolves a draft's recipients and plans it.
pub fn plan(context: &Context, draft: &Draft, options: &Options) -> Result<Planned, Error> {
    let via = match &draft.via {
        Some(name) => {
            Some(Channel::parse(name).ok_or_else(|| Error::UnknownChannel(name.clone()))?)
        }
        None => None,
    };
    let options = Options {
        via: options.via.or(via),
        min_privacy: options.min_privacy.or(context.config.policy.min_privacy),
        ..*options
    };
    let mut draft = draft.clone();
    let id = draft_id(&draft);
    draft.id = Some(id.clone());
    let from = sender(context.config, draft.from.as_deref())?;
    let (parent, in_reply_to) = match draft.in_reply_to.as_deref() {
        Some(record) if record.starts_with("m_") => {
            let message = indexed(context, record)?;
            let parent = Parent {
                encrypted: message.security.encryption != Encryption::None,
                account: message.account,
                protocol: message.protocol,
                native_id: message.native_id,
                references: message.references,
            };
            (Some(parent), None)
        }
        Some(message_id) => {
            let bare = message_id
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>');
            (None, Some(format!("<{bare}>")))
        }
        None => (None, None),
    };
    let parent_encrypted = parent.as_ref().is_some_and(|p| p.encrypted);
    let directory = Directory::load(&context.store.db)?;
    let mut recipients = Vec::new();
    for (field, names) in [("to", &draft.to), ("cc", &draft.cc), ("bcc", &draft.bcc)] {
        for name in names {
            recipients.push(resolve(context, &directory, name, field, parent_encrypted)?);
        }
    }
    if recipients.is_empty() {
        return Err(Error::NoRecipient);
    }
    let facts = Facts {
        own_key: !context.store.db.own_keys()?.is_empty(),
        own_email: is_email(&from.address),
        mastodon_account: mastodon_account(context.config),
        parent_encrypted,
    };
    let mut planned = Planned {
        draft,
        id,
        from,
        recipients,
        parent,
        in_reply_to,
        plan: Plan::default(),
    };
    let mut circles = Circles::new(
        Store::open(context.store.root())?,
        context.index,
        context.config,
    )?;
    let mut failure = None;
    let mut score = |channel: Channel, group: &[usize]| -> Privacy {
        let message = would_be(&planned, channel, group, facts.own_key, context.config);
        match circles.of(&message) {
            Ok(circle) => {
                crate::privacy::message::score_in(&message, context.config, Some(&circle))
            }
            Err(error) => {
                failure.get_or_insert(error);
                Privacy::default()
            }
        }
    };
    let plan = route::plan(&planned.recipients, &facts, &options, &mut score);
    if let Some(error) = failure {
        return Err(error.into());
    }
    planned.plan = plan;
    Ok(planned)
}

/// The `message` record of what `channel` would deliver to `group`: what `score` would see
/// of the copy sent.
fn would_be(
    planned: &Planned,
    channel: Channel,
    group: &[usize],
    own_key: bool,
    config: &Config,
) -> Message {
    let people = |field: &str| -> Vec<Address> {
        group
            .iter()
            .map(|&i| &planned.recipients[i])
            .filter(|r| r.field == field)
            .map(|r| Address {
                name: r.name.clone(),
                address: match channel {
                    Channel::MastodonDm => r.mastodon.clone(),
                    _ => r.email.clone(),
                }
                .unwrap_or_else(|| r.given.clone()),
                group: None,
            })
            .collect()
    };
    let encrypted = channel == Channel::PgpMime;
    let autocrypt = (channel.is_email() && own_key).then(|| Autocrypt {
        addr: planned.from.address.clone(),
        prefer_encrypt: config
            .identity
            .prefer_encrypt
            .clone()
            .unwrap_or_else(|| "nopreference".into()),
        fingerprint: None,
    });
    let protocol = if channel == Channel::MastodonDm {
        "mastodon"
    } else {
        "email"
    };
    Message {
        v: crate::record::VERSION,
        protocol: protocol.into(),
        account: planned
            .parent
            .as_ref()
            .map_or_else(|| "send".into(), |p| p.account.clone()),
        source: SourceRef {
            kind: "send".into(),
            ..SourceRef::default()
        },
        native_id: message_id(planned, channel, group),
        in_reply_to: planned
            .parent
            .as_ref()
            .map(|p| p.native_id.clone())
            .or(planned.in_reply_to.clone())
            .into_iter()
            .collect(),
        from: Some(planned.from.clone()),
        to: people("to"),
        cc: people("cc"),
        bcc: people("bcc"),
        subject: planned.draft.subject.clone(),
        text: planned.draft.text.clone(),
        security: Security {
            encryption: if encrypted {
                Encryption::PgpMime
            } else {
                Encryption::None
            },
            signed: encrypted.then_some(SignatureFormat::PgpMime),
            signature: if encrypted {
                SignatureState::Valid
            } else {
                SignatureState::None
            },
            autocrypt,
            ..Security::default()
        },
        ..Message::default()
    }
}

/// The Message-ID of the message `channel` carries to `group`: the same for the same draft,
/// so a retry is the same message. A draft named by a Message-ID (`send --sendmail` keeps
/// the one its message came with) is that message, when it goes as one.
pub fn message_id(planned: &Planned, channel: Channel, group: &[usize]) -> String {
    if planned.plan.groups.len() <= 1 && sendmail::is_message_id(&planned.id) {
        return planned.id.clone();
    }
    let domain = planned
        .from
        .address
        .rsplit_once('@')
        .map_or("missive.invalid", |(_, d)| d);
    format!("<{}@{domain}>", digest(planned, channel, group))
}

/// 32 hex digits naming what `channel` carries to `group` of a draft: the same for the same
/// draft, channel and recipients, whatever the run.
fn digest(planned: &Planned, channel: Channel, group: &[usize]) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for part in std::iter::once(planned.id.as_str())
        .chain([channel.name()])
        .chain(group.iter().map(|&i| planned.recipients[i].given.as_str()))
    {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(&hash.finalize()[..16])
}

/// The delivery records of a plan, each with `status`, or `refused` with the reason when
/// the plan refuses.
pub fn deliveries(planned: &Planned, status: &str) -> Vec<Delivery> {
    let plan = &planned.plan;
    let mut out = Vec::new();
    for group in &plan.groups {
        for &i in &group.recipients {
            let recipient = &planned.recipients[i];
            let key = match (&recipient.key, group.channel) {
                (
                    KeyFacts::Usable {
                        fingerprint,
                        source,
                        state,
                        recommendation,
                    },
                    Channel::PgpMime,
                ) => Some(PlannedKey {
                    fingerprint: fingerprint.clone(),
                    source: source.clone(),
                    state: state.to_string(),
                    recommendation: *recommendation,
                }),
                _ => None,
            };
            out.push(Delivery {
                kind: DeliveryKind,
                v: crate::record::VERSION,
                draft: planned.id.clone(),
                recipient: recipient.identity(Some(group.channel)),
                name: recipient.name.clone(),
                field: recipient.field.to_string(),
                channel: Some(group.channel.name().to_string()),
                status: if plan.refusal.is_some() {
                    "refused"
                } else {
                    status
                }
                .to_string(),
                score: Some(group.privacy.score),
                grade: Some(group.privacy.grade),
                factors: group.privacy.factors.clone(),
                key,
                warnings: plan
                    .warnings
                    .iter()
                    .filter(|(at, _)| *at == i)
                    .map(|(_, w)| w.clone())
                    .collect(),
                rejected: group
                    .rejected
                    .iter()
                    .map(|(channel, score, why)| RejectedChannel {
                        channel: channel.name().to_string(),
                        score: *score,
                        why: why.clone(),
                    })
                    .collect(),
                reason: plan.refusal.clone(),
                message_id: Some(message_id(planned, group.channel, &group.recipients)),
                ..Delivery::default()
            });
        }
    }
    out
}

/// The user's own key, its secret parts unlocked for signing with `passphrase` (asked only
/// when the key is protected); none when the user has no key.
pub fn own_cert(
    store: &Store,
    passphrase: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<Option<sequoia_openpgp::Cert>, Error> {
    use sequoia_openpgp::Packet;
    let Some((fingerprint, tsk, protected)) = store.db.own_keys()?.into_iter().next() else {
        return Ok(None);
    };
    let cert = keys::crypto::from_stored(&tsk)?;
    if !protected {
        return Ok(Some(cert));
    }
    let unlock = |reason: String| Error::Unlock {
        fingerprint: fingerprint.clone(),
        reason,
    };
    let password =
        sequoia_openpgp::crypto::Password::from(passphrase(&fingerprint).map_err(unlock)?);
    let mut unlocked: Vec<Packet> = Vec::new();
    for key in cert.keys().secret() {
        if key.key().has_unencrypted_secret() {
            continue;
        }
        let primary = key.key().fingerprint() == cert.fingerprint();
        let key = key
            .key()
            .clone()
            .decrypt_secret(&password)
            .map_err(|_| unlock("the passphrase does not unlock it".into()))?;
        unlocked.push(if primary {
            key.role_into_primary().into()
        } else {
            key.role_into_subordinate().into()
        });
    }
    let (cert, _) = cert
        .insert_packets(unlocked)
        .map_err(|e| unlock(e.to_string()))?;
    Ok(Some(cert))
}

/// What a send goes out by, made by the caller for the channels its plans use.
#[derive(Clone, Copy, Default)]
pub struct Ways<'a> {
    /// How mail leaves ([`transport`]); needed only when a group goes by email.
    pub email: Option<&'a smtp::Transport>,
    /// The user's own key, unlocked ([`own_cert`]): encrypted mail is signed with it and
    /// every mail announces it (Autocrypt).
    pub sender: Option<&'a sequoia_openpgp::Cert>,
    /// What `~/` in the config means (a Mastodon account's `ca_file`).
    pub home: Option<&'a std::path::Path>,
    /// Where the copy of sent mail is filed, if anywhere.
    pub filing: Option<&'a Filing>,
}

/// Sends a planned draft that the plan does not refuse: journals it, then for each group
/// builds the message, delivers it to the recipients not yet `sent` or `failed`, records
/// what the server said of each, and keeps the copy sent in the archive and the index.
/// Returns the deliveries as journaled.
pub fn send(
    store: &mut Store,
    index: Option<&MessageIndex>,
    config: &Config,
    planned: &Planned,
    ways: &Ways,
    now: SystemTime,
) -> Result<Vec<Delivery>, Error> {
    let Ways {
        email: transport,
        sender,
        home,
        filing,
    } = *ways;
    // Why a copy accepted by the server could not be filed, by recipient identity.
    let mut unfiled: Vec<(String, String)> = Vec::new();
    use sequoia_openpgp::serialize::MarshalInto;
    let autocrypt = sender
        .map(|cert| cert.clone().strip_secret_key_material().to_vec())
        .transpose()
        .map_err(|e| Error::Keys(keys::Error::Certificate(e.to_string())))?;
    let mut journaled = outbox::journal(store, planned, now)?;
    // The encrypted copy is read back with the sender's key, so that it is scored as its
    // recipients will see it: signed, with the Autocrypt header inside.
    let mut own_keys = sender.map(|cert| {
        crate::keys::decrypt::OwnKeys::unlocked(vec![cert.clone()], config.limits.unpacked_bytes())
    });
    let mut mastodon = None;
    for group in &planned.plan.groups {
        let todo: Vec<&Recipient> = group
            .recipients
            .iter()
            .map(|&i| &planned.recipients[i])
            .filter(|r| {
                journaled.iter().any(|d| {
                    d.recipient == r.identity(Some(group.channel))
                        && !outbox::FINAL.contains(&d.status.as_str())
                })
            })
            .collect();
        if todo.is_empty() {
            continue;
        }
        if group.channel == Channel::MastodonDm {
            let account = match &mastodon {
                Some(account) => account,
                None => mastodon.insert(mastodon::account(config, home)?),
            };
            let poster = account.poster()?;
            for &i in &group.recipients {
                let recipient = &planned.recipients[i];
                let identity = recipient.identity(Some(Channel::MastodonDm));
                let (Some(handle), true) = (&recipient.mastodon, todo.contains(&recipient)) else {
                    continue;
                };
                let (outcome, posted) = mastodon::deliver(
                    &poster,
                    handle,
                    &planned.draft.text,
                    planned.draft.subject.as_deref().filter(|s| !s.is_empty()),
                    &mastodon::idempotency_key(planned, i),
                )?;
                // Recorded at once, so that a failure on the next recipient cannot lose it;
                // the delivery goes under the status's URI.
                let mut named = journaled.clone();
                if let Some(crate::source::mastodon::Posted::Accepted { uri: Some(uri), .. }) =
                    &posted
                {
                    for row in named.iter_mut().filter(|d| d.recipient == identity) {
                        row.message_id = Some(uri.clone());
                    }
                }
                outbox::record(store, &named, &[(identity, outcome)], now)?;
                journaled = store.db.outbox_deliveries(&planned.id)?;
                if let Some(crate::source::mastodon::Posted::Accepted { raw, .. }) = &posted {
                    let instance = Sent::Status {
                        instance: &poster.domain,
                    };
                    keep_copy(store, index, config, raw, instance, None)?;
                }
            }
            continue;
        }
        let people = |field: &str| -> Vec<Address> {
            group
                .recipients
                .iter()
                .map(|&i| &planned.recipients[i])
                .filter(|r| r.field == field)
                .filter_map(|r| {
                    r.email.clone().map(|address| Address {
                        name: r.name.clone(),
                        address,
                        group: None,
                    })
                })
                .collect()
        };
        let (in_reply_to, references) = match &planned.parent {
            Some(parent) => (
                Some(parent.native_id.clone()),
                parent
                    .references
                    .iter()
                    .cloned()
                    .chain([parent.native_id.clone()])
                    .collect(),
            ),
            None => (
                planned.in_reply_to.clone(),
                planned.in_reply_to.clone().into_iter().collect(),
            ),
        };
        let outgoing = mime::Outgoing {
            from: planned.from.clone(),
            to: people("to"),
            cc: people("cc"),
            bcc: people("bcc"),
            subject: planned.draft.subject.clone().unwrap_or_default(),
            text: planned.draft.text.clone(),
            attachments: planned.draft.attachments.iter().map(Into::into).collect(),
            in_reply_to,
            references,
            message_id: message_id(planned, group.channel, &group.recipients),
            date: keys::seconds(now),
            autocrypt: autocrypt.clone(),
            mutual: config.identity.prefer_encrypt.as_deref() == Some("mutual"),
        };
        // Each copy and the addresses it goes to: encrypted, one to To and Cc and one to
        // each Bcc recipient alone, so no one sees a Bcc recipient's key id.
        let copies: Vec<(Vec<u8>, Vec<String>)> = if group.channel == Channel::PgpMime {
            let sender =
                sender.ok_or_else(|| Error::Keys(keys::Error::Unknown("own key".into())))?;
            let mut certs = Vec::new();
            for &i in &group.recipients {
                let recipient = &planned.recipients[i];
                // A copy to oneself opens with one's own key, as the sender's copy does.
                if let (true, Some(address)) = (recipient.own, &recipient.email) {
                    let public = sender.clone().strip_secret_key_material();
                    certs.push((address.clone(), public));
                    continue;
                }
                if let (KeyFacts::Usable { fingerprint, .. }, Some(address)) =
                    (&recipient.key, &recipient.email)
                {
                    let data = store
                        .db
                        .cert(fingerprint)?
                        .ok_or_else(|| keys::Error::Unknown(fingerprint.clone()))?;
                    certs.push((address.clone(), keys::crypto::from_stored(&data)?));
                }
            }
            let certificate = |address: &str| {
                certs
                    .iter()
                    .find(|(a, _)| a.eq_ignore_ascii_case(address))
                    .map(|(_, cert)| cert)
            };
            let gossip = outgoing.to.len() + outgoing.cc.len() > 1;
            pgp::build_per_group(&outgoing, sender, certificate, gossip)?
                .into_iter()
                .map(|sealed| (sealed.bytes, sealed.recipients))
                .collect()
        } else {
            let everyone = group
                .recipients
                .iter()
                .filter_map(|&i| planned.recipients[i].email.clone())
                .collect();
            vec![(mime::build_plain(&outgoing)?, everyone)]
        };
        for (bytes, addresses) in copies {
            let addresses: Vec<String> = addresses
                .into_iter()
                .filter(|a| todo.iter().any(|r| r.email.as_ref() == Some(a)))
                .collect();
            if addresses.is_empty() {
                continue;
            }
            let transport = transport.ok_or(Error::NoTransport)?;
            let outcomes = match smtp::deliver(transport, &planned.from.address, &addresses, &bytes)
            {
                Ok(outcomes) => outcomes,
                // A server refused for a setting (plain text, its certificate, the login):
                // the deliveries stay journaled, not `failed`, so the draft goes once the
                // config is fixed.
                Err(error) if error.is_setting() => return Err(error.into()),
                Err(error) => {
                    use crate::fault::Fault;
                    let outcome = if error.is_transient() {
                        smtp::Outcome::Temporary {
                            code: String::new(),
                            text: error.to_string(),
                        }
                    } else {
                        smtp::Outcome::Refused {
                            code: String::new(),
                            text: error.to_string(),
                        }
                    };
                    addresses
                        .iter()
                        .map(|a| (a.clone(), outcome.clone()))
                        .collect()
                }
            };
            let by_identity: Vec<(String, smtp::Outcome)> = outcomes
                .into_iter()
                .map(|(address, outcome)| (format!("email:{address}"), outcome))
                .collect();
            outbox::record(store, &journaled, &by_identity, now)?;
            if by_identity
                .iter()
                .any(|(_, o)| *o == smtp::Outcome::Accepted)
            {
                keep_copy(store, index, config, &bytes, Sent::Email, own_keys.as_mut())?;
                if let Some(Err(why)) = filing.map(|f| f.file(&bytes)) {
                    unfiled.extend(
                        by_identity
                            .iter()
                            .filter(|(_, o)| *o == smtp::Outcome::Accepted)
                            .map(|(identity, _)| (identity.clone(), why.clone())),
                    );
                }
            }
        }
        journaled = store.db.outbox_deliveries(&planned.id)?;
    }
    let mut out = deliveries(planned, "planned");
    for delivery in &mut out {
        if let Some(row) = journaled.iter().find(|d| d.recipient == delivery.recipient) {
            delivery.status = row.status.clone();
            delivery.code = row.code.clone().filter(|c| !c.is_empty());
            delivery.message_id = row.message_id.clone().or(delivery.message_id.take());
            if row.reason.is_some() {
                delivery.reason = row.reason.clone();
            }
            delivery.warnings.extend(
                unfiled
                    .iter()
                    .filter(|(identity, _)| *identity == delivery.recipient)
                    .map(|(_, why)| why.clone()),
            );
        }
    }
    Ok(out)
}

/// The account the copies of sent mail are archived under.
pub const SENT_ACCOUNT: &str = "sent";

/// What a copy sent is, to read it again.
enum Sent<'a> {
    /// An email as it went out.
    Email,
    /// A Mastodon status as the instance of account domain `instance` answered it.
    Status { instance: &'a str },
}

/// Keeps the copy sent: its bytes in the archive, its record scored in the index, so that
/// `thread`, `search` and `score --user` see it. An encrypted copy is decrypted first with
/// `own_keys` (it is encrypted to the sender too), so that the score is the one the plan
/// predicted; one that cannot be is scored as it is, as `sync` would.
fn keep_copy(
    store: &Store,
    index: Option<&MessageIndex>,
    config: &Config,
    bytes: &[u8],
    sent: Sent,
    own_keys: Option<&mut crate::keys::decrypt::OwnKeys>,
) -> Result<(), Error> {
    let blob = crate::record::blob_name(bytes);
    let path = store
        .archive()
        .store(SENT_ACCOUNT, &[(blob.as_str(), bytes)])?
        .pop()
        .unwrap_or_default();
    let Some(index) = index else {
        return Ok(());
    };
    let (mut message, source) = match sent {
        Sent::Email => {
            let mut message = crate::email::read(bytes);
            message.protocol = "email".into();
            let source = SourceRef {
                kind: "maildir".into(),
                path: Some(path.display().to_string()),
                ..SourceRef::default()
            };
            (message, source)
        }
        Sent::Status { instance } => {
            // An answer that is no Status stays archived, as the instance gave it.
            let Ok(message) = crate::source::mastodon::read(bytes, instance) else {
                return Ok(());
            };
            let source = SourceRef {
                kind: "mastodon".into(),
                path: Some(path.display().to_string()),
                instance: Some(instance.to_string()),
                ..SourceRef::default()
            };
            (message, source)
        }
    };
    message.account = SENT_ACCOUNT.into();
    message.blob = blob;
    message.id = crate::record::message_id(&message.protocol, SENT_ACCOUNT, &message.native_id);
    message.source = source;
    message.flags = vec!["seen".into()];
    if let Some(keys) = own_keys {
        // A copy that does not open keeps the score of what shows: the mail went out all
        // the same.
        let _ = crate::keys::decrypt::decrypt_in_place(
            store,
            keys,
            &mut message,
            Ok(bytes),
            config.index.decrypted,
            SystemTime::now(),
        );
    }
    let mut circles = Circles::new(Store::open(store.root())?, Some(index), config)?;
    let circle = circles.of(&message)?;
    message.privacy = Some(crate::privacy::message::score_in(
        &message,
        config,
        Some(&circle),
    ));
    let mut writer = index.writer()?;
    writer.upsert(&mut message)?;
    writer.commit()?;
    Ok(())
}

/// How the config says mail leaves: the first account, by name, with `submission` or
/// `sendmail` (one sending account is the common case; the config is checked when loaded,
/// so a broken setting was already reported with its file and line).
pub fn transport(
    config: &Config,
    home: Option<&std::path::Path>,
) -> Result<smtp::Transport, Error> {
    sending_account(config, home).map(|(_, transport)| transport)
}

/// The account mail leaves by ([`transport`]): its name and transport.
fn sending_account(
    config: &Config,
    home: Option<&std::path::Path>,
) -> Result<(String, smtp::Transport), Error> {
    for name in config.accounts.keys() {
        if let Some(transport) =
            crate::source::account::transport(config, name, home).map_err(Error::Transport)?
        {
            return Ok((name.clone(), transport));
        }
    }
    Err(Error::NoTransport)
}

/// Where the copies of sent mail are filed on the user's IMAP server: the sending
/// account's `sent_mailbox` (`\Sent` finds it by special use), for the user's other mail
/// programs to show; providers that file submissions themselves leave it unset.
pub struct Filing {
    imap: crate::source::imap::Imap,
    mailbox: String,
}

impl Filing {
    /// The sending account's, when it is an IMAP account with a `sent_mailbox`.
    pub fn of(config: &Config, home: Option<&std::path::Path>) -> Result<Option<Filing>, Error> {
        let (name, _) = sending_account(config, home)?;
        let Some(mailbox) = config.accounts[&name].sent_mailbox.clone() else {
            return Ok(None);
        };
        match crate::source::account::spec(config, &name, home).map_err(Error::Transport)? {
            crate::source::Spec::Imap(settings) => Ok(Some(Filing {
                imap: crate::source::imap::Imap::new(*settings, config.limits.imap_line_bytes()),
                mailbox,
            })),
            _ => Ok(None),
        }
    }

    /// Appends `message`, seen; a failure is the reason, to be told, not to stop the send.
    fn file(&self, message: &[u8]) -> Result<(), String> {
        self.imap
            .append(&self.mailbox, message)
            .map(drop)
            .map_err(|e| format!("sent, but not filed in {}: {e}", self.mailbox))
    }
}
