//! `twitter-archive:ZIP|DIR`: the direct messages of a Twitter/X archive ("Download an
//! archive of your data"), as records of protocol `twitter`. Reading the export's files is
//! [`crate::source::export`]'s job.
//!
//! Messages are in `data/direct-messages.js` and `data/direct-messages-group.js` (and their
//! `-partN` continuations), each `window.YTD.direct_messages.part0 = [...]`: JSON behind a
//! JavaScript assignment. Each element is a `dmConversation` with `conversationId` and
//! `messages`, each a `messageCreate` (`id`, `senderId`, `recipientId` in one-to-one
//! conversations, `text`, `createdAt`, `mediaUrls`, `urls`, `reactions`) or a membership
//! event (`joinConversation`, `participantsJoin`, `participantsLeave`) naming participants.
//!
//! A DM's native id is its `id`, Twitter's own. The archive's owner is the `accountId` of
//! `data/account.js`, so an archive no configured account holds is the account
//! `twitter:ACCOUNT_ID` whatever its file is called (`twitter` when it has no account.js).
//!
//! DMs name people by account id only. Screen names come from elsewhere in the archive: the
//! owner's from `data/account.js`, others' from the tweets (`data/tweets.js`, or `tweet.js`
//! in older archives: the `user_mentions` of each tweet and `in_reply_to_screen_name`). A
//! person found there is `@screen_name` (identity `twitter:@name`); anyone else is the bare
//! id (identity `twitter:ID`, see [`crate::record`]), which `missive contacts link` joins to
//! a name.
//! Media are attachments, sized from `data/direct_messages_media/ID-NAME` when the archive
//! holds the file. Reactions are kept as `reactions` (`from`, `reaction`, `date`), and the
//! t.co links of the text are replaced by the URLs they stand for.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Files, Platform, Unit, attachment, json, text};
use crate::record::{Address, Message, rfc3339, timestamp};

/// The protocol of its records: the platform.
pub(crate) const PROTOCOL: &str = "twitter";

/// The source kind.
pub(crate) const KIND: &str = "twitter-archive";

pub(crate) struct Twitter;

impl Platform for Twitter {
    const KIND: &'static str = KIND;
    const EXPECTED: &'static str = "data/direct-messages.js nor data/direct-messages-group.js";

    fn holds_messages(name: &str) -> bool {
        let base = name.rsplit('/').next().unwrap_or_default();
        base.starts_with("direct-message") && base.ends_with(".js") && !base.contains("header")
    }

    /// The screen name of every account the archive names, the size of every DM media file
    /// by its name, and the owner's account id.
    fn shared(files: &mut Files) -> Value {
        let names = files.names();
        let mut people = serde_json::Map::new();
        for name in &names {
            let base = name.rsplit('/').next().unwrap_or_default();
            if !(base.starts_with("tweet") && base.ends_with(".js")) {
                continue;
            }
            let Some(tweets) = files.read(name).ok().and_then(|b| assignment(&b).ok()) else {
                continue;
            };
            for tweet in tweets.as_array().into_iter().flatten() {
                let tweet = tweet.get("tweet").unwrap_or(tweet);
                let mentions = tweet["entities"]["user_mentions"].as_array();
                for mention in mentions.into_iter().flatten() {
                    if let (Some(id), Some(screen_name)) =
                        (text(mention, "id_str"), text(mention, "screen_name"))
                    {
                        people.insert(
                            id.to_string(),
                            json!({"screen_name": screen_name, "name": text(mention, "name")}),
                        );
                    }
                }
                if let (Some(id), Some(screen_name)) = (
                    text(tweet, "in_reply_to_user_id_str"),
                    text(tweet, "in_reply_to_screen_name"),
                ) {
                    people
                        .entry(id.to_string())
                        .or_insert_with(|| json!({"screen_name": screen_name}));
                }
            }
        }
        let owner = names
            .iter()
            .find(|n| n.rsplit('/').next() == Some("account.js"))
            .and_then(|name| files.read(name).ok())
            .and_then(|bytes| assignment(&bytes).ok())
            .and_then(|value| value.get(0)?.get("account").cloned());
        let owner_id = owner.as_ref().and_then(|o| text(o, "accountId"));
        if let Some(owner) = &owner
            && let (Some(id), Some(screen_name)) = (owner_id, text(owner, "username"))
        {
            people.insert(
                id.to_string(),
                json!({"screen_name": screen_name, "name": text(owner, "accountDisplayName")}),
            );
        }
        let mut media = serde_json::Map::new();
        for name in &names {
            if name.contains("direct_messages_media/")
                || name.contains("direct_messages_group_media/")
            {
                let base = name.rsplit('/').next().unwrap_or_default().to_string();
                if let Some(size) = files.size(name) {
                    media.insert(base, size.into());
                }
            }
        }
        json!({"people": people, "media": media, "owner": owner_id})
    }

    fn split(
        _name: &str,
        bytes: &[u8],
        shared: &Value,
        _files: &mut Files,
    ) -> Result<Vec<Unit>, String> {
        let conversations = assignment(bytes)?;
        let conversations = conversations
            .as_array()
            .ok_or("not a Twitter archive file: the assigned value is not a list")?;
        let mut units = Vec::new();
        for element in conversations {
            let conversation = element.get("dmConversation").ok_or(
                "not a Twitter archive file of direct messages: an element has no dmConversation",
            )?;
            let events = conversation
                .get("messages")
                .and_then(Value::as_array)
                .ok_or("a dmConversation has no messages list")?;
            let mut participants = BTreeSet::new();
            for event in events {
                collect_participants(event, &mut participants);
            }
            for event in events {
                let Some(create) = event.get("messageCreate") else {
                    continue;
                };
                let id = text(create, "id").ok_or("a messageCreate has no id")?;
                let mut media = serde_json::Map::new();
                for url in urls(create, "mediaUrls") {
                    let file = format!("{id}-{}", url.rsplit('/').next().unwrap_or_default());
                    if let Some(size) = shared["media"].get(&file) {
                        media.insert(url.to_string(), size.clone());
                    }
                }
                units.push(Unit {
                    context: json!({
                        "conversation_id": conversation.get("conversationId"),
                        "participants": participants,
                        "people": people_in(&shared["people"], &participants),
                        "media_sizes": media,
                    }),
                    message: event.clone(),
                    owner: text(shared, "owner").map(str::to_string),
                });
            }
        }
        Ok(units)
    }
}

/// The JSON assigned by `window.YTD.NAME.partN = …`.
fn assignment(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())?;
    let body = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .strip_prefix("window.YTD.")
        .and_then(|rest| rest.split_once('=').map(|(_, value)| value))
        .ok_or("not a Twitter archive data file: no `window.YTD.… =` assignment")?;
    json(
        body.trim().trim_end_matches(';').as_bytes(),
        "JSON after the assignment",
    )
}

/// Every account id an event of a conversation names.
fn collect_participants(event: &Value, into: &mut BTreeSet<String>) {
    if let Some(create) = event.get("messageCreate") {
        into.extend(
            ["senderId", "recipientId"]
                .iter()
                .filter_map(|f| text(create, f).map(str::to_string)),
        );
    }
    if let Some(join) = event.get("joinConversation") {
        into.extend(text(join, "initiatingUserId").map(str::to_string));
        into.extend(urls(join, "participantsSnapshot").map(str::to_string));
    }
    for change in ["participantsJoin", "participantsLeave"] {
        if let Some(change) = event.get(change) {
            into.extend(text(change, "initiatingUserId").map(str::to_string));
            into.extend(urls(change, "userIds").map(str::to_string));
        }
    }
}

/// The strings of a list field.
fn urls<'a>(value: &'a Value, field: &str) -> impl Iterator<Item = &'a str> {
    value
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// The screen names of the participants of a conversation, for its messages' blobs.
fn people_in(people: &Value, participants: &BTreeSet<String>) -> Value {
    participants
        .iter()
        .filter_map(|id| Some((id.clone(), people.get(id)?.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The participant with account id `id`: by screen name where the archive gives it, else
/// by id.
fn participant(id: &str, people: &Value) -> Address {
    if let Some(person) = people.get(id)
        && let Some(screen_name) = text(person, "screen_name")
    {
        return Address {
            name: text(person, "name").map(str::to_string),
            address: format!("@{}", screen_name.to_lowercase()),
            group: None,
        };
    }
    Address {
        address: id.to_string(),
        ..Address::default()
    }
}

/// A record of one `messageCreate` and its conversation.
pub(crate) fn map(context: &Value, message: &Value) -> Result<Message, String> {
    let create = message
        .get("messageCreate")
        .ok_or("not a Twitter messageCreate")?;
    let id = text(create, "id").ok_or("a messageCreate has no id")?;
    let sender = text(create, "senderId").ok_or("a messageCreate has no senderId")?;
    let people = &context["people"];
    let to = match text(create, "recipientId") {
        Some(recipient) => vec![participant(recipient, people)],
        None => urls(context, "participants")
            .filter(|p| *p != sender)
            .map(|p| participant(p, people))
            .collect(),
    };
    let mut body = text(create, "text").unwrap_or_default().to_string();
    for url in create
        .get("urls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let (Some(short), Some(expanded)) = (text(url, "url"), text(url, "expanded")) {
            body = body.replace(short, expanded);
        }
    }
    let sizes = &context["media_sizes"];
    let attachments = urls(create, "mediaUrls")
        .map(|url| attachment(url, None, sizes.get(url).and_then(Value::as_u64)))
        .collect();
    let mut record = Message {
        protocol: PROTOCOL.into(),
        native_id: id.to_string(),
        date: text(create, "createdAt").and_then(timestamp).map(rfc3339),
        from: Some(participant(sender, people)),
        to,
        text: body,
        attachments,
        ..Message::default()
    };
    let reactions: Vec<Value> = create
        .get("reactions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|reaction| {
            json!({
                "from": text(reaction, "senderId").map(|s| participant(s, people).address),
                "reaction": text(reaction, "reactionKey"),
                "date": text(reaction, "createdAt").and_then(timestamp).map(rfc3339),
            })
        })
        .collect();
    if !reactions.is_empty() {
        record.extra.insert("reactions".into(), reactions.into());
    }
    Ok(record)
}
