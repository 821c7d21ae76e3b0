//! The record types every command reads and writes, and the reference for their fields.
//!
//! Streaming them as JSON Lines lives in [`crate::jsonl`]; turning an email into a
//! [`Message`] lives in [`crate::email`].
//!
//! # Conventions (schema version 1)
//!
//! - Every record is one JSON object with `"kind"` and `"v": 1`. Field names are snake_case.
//! - **Unknown fields survive.** Each record type keeps the fields it does not know in
//!   `extra` and writes them back, so `jq '.mine = 1' | missive score` keeps `mine`. A line
//!   whose `kind` is not known here is passed through byte for byte ([`Record::Other`]).
//! - Times are RFC 3339 in UTC with second precision (`2024-03-01T10:00:00Z`).
//! - **Text is UTF-8.** Headers and bodies are decoded from their declared charset; bytes that
//!   cannot be decoded become U+FFFD. Nothing is lost by this: `blob` names the raw bytes,
//!   which stay in the archive (remote sources) or at `source.path` (local sources).
//! - Addresses are `{"name", "address"}`. `address` is the protocol's canonical handle; for
//!   email, the local part as written and the domain lowercased in its Unicode form (IDNA
//!   `xn--` labels decoded), so one mailbox has one spelling.
//! - Output is deterministic: the same input gives the same bytes, field order included.
//!
//! # Kinds
//!
//! - `message`: one message of any protocol ([`Message`]); `missive score` adds its
//!   [`Privacy`].
//! - `conversation`: the people of an exchange and what passed between them
//!   ([`Conversation`]), printed by `missive thread --output conversations` and `missive
//!   search --output conversations`.
//! - `thread`: the same summary of a thread ([`Thread`]), printed by `missive search --output
//!   threads`.
//! - `contact`: a person and their identities across protocols ([`Contact`]), printed by
//!   `missive contacts`.
//! - `suggestion`: a merge of contacts `missive contacts suggest` is not sure of, with its
//!   evidence ([`ContactSuggestion`]).
//! - `error`: something that failed, with where and what ([`ErrorRecord`]); on stderr with
//!   `--errors jsonl`.
//! - `key`: an OpenPGP certificate and the addresses bound to it ([`KeyRecord`]); from
//!   `keys discover`, with how it was found ([`KeyFound`]).
//! - `lookup`: one `keys discover` query: with `--dry-run` what it would ask, else a method
//!   that found no key, or whose answer was refused or failed, and why ([`LookupRecord`]).
//! - `recommendation`: what Autocrypt recommends when writing to an address
//!   ([`RecommendationRecord`]), printed by `missive keys recommend`.
//! - `factor`: one row of the privacy index's factor table ([`FactorRecord`]), printed by
//!   `missive score --factors`.
//! - `device`, `user`, `contact_privacy`: the privacy index of this device
//!   ([`DeviceRecord`]), of the user ([`UserRecord`]) and of each contact
//!   ([`ContactPrivacyRecord`]), printed by `missive score --device`, `--user` and
//!   `--contacts`.
//! - `draft`: a message to write, as `missive send` reads it ([`Draft`]).
//! - `delivery`: one recipient of a draft by one channel, planned or sent, with why that
//!   channel won ([`Delivery`]), printed by `missive send`.
//!
//! `recommendation`, `device`, `user` and `contact_privacy` are written with their keys
//! sorted, nested objects included ([`crate::jsonl::sorted_line`]), as they always were.
//!
//! # Identities
//!
//! An identity is `KIND:HANDLE`, the handle canonical for its kind: `email:alice@example.org`
//! (as [`Address`] spells it), `mastodon:@alice@social.example`, `twitter:@alice` (or a
//! numeric id), `facebook:NAME` (a Facebook export names people by display name only),
//! `tel:+15550100` (E.164 where it parses; a Signal number is one), `xmpp:alice@jabber.example`,
//! `matrix:@alice:matrix.example`; other protocols use their name as KIND.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The schema version every record carries in `v`.
pub const VERSION: u32 = 1;

/// Fields a record type does not know, kept so they are written back unchanged.
pub type Extra = Map<String, Value>;

/// Declares a unit type that (de)serialises as one constant string: the `kind` of a record.
macro_rules! kind_tag {
    ($name:ident, $text:literal) => {
        #[doc = concat!("The `kind` tag `\"", $text, "\"`.")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl $name {
            /// The tag as written in a record.
            pub const TEXT: &'static str = $text;
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($text)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                if text == $text {
                    Ok($name)
                } else {
                    Err(serde::de::Error::custom(format!(
                        "expected kind \"{}\", found \"{}\"",
                        $text, text
                    )))
                }
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                concat!("kind_", $text).into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({ "const": $text })
            }
        }
    };
}

kind_tag!(MessageKind, "message");
kind_tag!(ErrorKind, "error");
kind_tag!(KeyKind, "key");
kind_tag!(LookupKind, "lookup");
kind_tag!(ConversationKind, "conversation");
kind_tag!(ThreadKind, "thread");
kind_tag!(ContactKind, "contact");
kind_tag!(SuggestionKind, "suggestion");
kind_tag!(FactorKind, "factor");
kind_tag!(DeviceKind, "device");
kind_tag!(UserKind, "user");
kind_tag!(ContactPrivacyKind, "contact_privacy");
kind_tag!(RecommendationKind, "recommendation");
kind_tag!(DraftKind, "draft");
kind_tag!(DeliveryKind, "delivery");
kind_tag!(ConfigKind, "config");

fn version() -> u32 {
    VERSION
}

/// One message of any protocol, as `fetch` prints it and every filter passes it on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    pub kind: MessageKind,
    /// Schema version, always 1.
    #[serde(default = "version")]
    pub v: u32,
    /// Stable id: `m_` and 32 hex digits of SHA-256 over protocol, account and native id
    /// ([`message_id`]), or over protocol, account and `blob` for an email whose Message-ID
    /// another message of the account already holds (both then carry
    /// [`DUPLICATE_MESSAGE_ID`] in `problems`). The same message fetched again, under any
    /// spelling of its source, gets the same id.
    pub id: String,
    /// `email`, `mastodon`, `twitter`, `facebook`, `signal`, `matrix`, `xmpp`, …
    pub protocol: String,
    /// The configured account the source belongs to (a path given on the command line that
    /// is, or lies inside, an account's source belongs to that account), else the source's
    /// key: its kind and canonical path (`maildir:/home/u/Mail`), or its URI.
    pub account: String,
    /// Where the message was read from.
    pub source: SourceRef,
    /// `sha256:` and the hex digest of the raw bytes.
    pub blob: String,
    /// The protocol's own id: the Message-ID with its angle brackets for email. A message
    /// without one gets its `blob` here.
    pub native_id: String,
    #[serde(default)]
    pub in_reply_to: Vec<String>,
    /// The References, at most [`MAX_REFERENCES`] of them as mail is read: the first (the
    /// thread's root) and the nearest ancestors, which are all threading needs.
    #[serde(default)]
    pub references: Vec<String>,
    /// The List-Id, without angle brackets.
    #[serde(default)]
    pub list_id: Option<String>,
    /// When the message was written (Date header), else when it was received, in UTC.
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub from: Option<Address>,
    #[serde(default)]
    pub sender: Option<Address>,
    #[serde(default)]
    pub to: Vec<Address>,
    #[serde(default)]
    pub cc: Vec<Address>,
    #[serde(default)]
    pub bcc: Vec<Address>,
    #[serde(default)]
    pub reply_to: Vec<Address>,
    #[serde(default)]
    pub subject: Option<String>,
    /// The readable body: text/plain when there is one, else HTML turned into text.
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// `seen`, `answered`, `flagged`, `deleted`, `draft`, `passed` (from the Maildir file
    /// name or IMAP flags).
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub security: Security,
    /// How private the message is, with every factor and its evidence: added by
    /// `missive score`, absent until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<Privacy>,
    /// What was wrong with the message but did not stop it being read (a bad charset, a
    /// truncated MIME part, a missing Message-ID). Each also goes to stderr.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// `c_` and 32 hex digits: the people of the exchange, minus the user (or the mailing
    /// list); added by `missive thread`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<String>,
    /// `t_` and 32 hex digits: the reply thread (JWZ over Message-ID, In-Reply-To and
    /// References); added by `missive thread`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A conversation: everyone in an exchange but the user, and a summary of what passed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Conversation {
    pub kind: ConversationKind,
    #[serde(default = "version")]
    pub v: u32,
    /// `c_` and 32 hex digits of SHA-256 over the sorted contact ids (or the List-Id).
    pub id: String,
    /// The List-Id, for a mailing list's conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<String>,
    /// The people, as contacts, sorted by id.
    #[serde(default)]
    pub participants: Vec<Contact>,
    /// Protocols its messages came by, sorted.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Messages the store knows in it.
    pub messages: u64,
    /// Threads among them.
    pub threads: u64,
    #[serde(default)]
    pub first_date: Option<String>,
    #[serde(default)]
    pub last_date: Option<String>,
    /// Distinct subjects of the latest messages, newest first (at most five).
    #[serde(default)]
    pub recent_subjects: Vec<String>,
    /// The privacy of its scored messages, when any carried `privacy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<PrivacySummary>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A thread: messages that answer one another, summarised as a [`Conversation`] is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Thread {
    pub kind: ThreadKind,
    #[serde(default = "version")]
    pub v: u32,
    /// `t_` and 32 hex digits of SHA-256 over its root message-id.
    pub id: String,
    /// The List-Id of its first message from a mailing list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_id: Option<String>,
    /// The people, as contacts, sorted by id; the user is not among them.
    #[serde(default)]
    pub participants: Vec<Contact>,
    /// Protocols its messages came by, sorted.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Messages the store knows in it.
    pub messages: u64,
    /// Conversations its messages belong to.
    pub conversations: u64,
    #[serde(default)]
    pub first_date: Option<String>,
    #[serde(default)]
    pub last_date: Option<String>,
    /// Distinct subjects of the latest messages, newest first (at most five).
    #[serde(default)]
    pub recent_subjects: Vec<String>,
    /// The privacy of its scored messages, when any carried `privacy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy: Option<PrivacySummary>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// How private a conversation's messages were, from their `privacy` scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PrivacySummary {
    /// Messages that carried a score.
    pub scored: u64,
    /// Their mean score, rounded.
    pub mean: u8,
    /// The lowest score, and its grade.
    pub lowest: u8,
    pub lowest_grade: Grade,
    /// How many messages got each grade, A to E.
    pub grades: std::collections::BTreeMap<String, u64>,
}

/// A person: a name and their identities across protocols.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Contact {
    pub kind: ContactKind,
    #[serde(default = "version")]
    pub v: u32,
    /// `p_` and 16 hex digits of SHA-256 over the identity the contact was made from; an
    /// address nobody linked is a contact of its own with the id of its identity.
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the contact was made (link, import, rename) rather than implied by an address.
    #[serde(default)]
    pub known: bool,
    /// `KIND:HANDLE` identities, sorted.
    #[serde(default)]
    pub identities: Vec<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A merge `missive contacts suggest` proposes and does not apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContactSuggestion {
    pub kind: SuggestionKind,
    #[serde(default = "version")]
    pub v: u32,
    /// `same_name` or `same_local_part`.
    pub reason: String,
    /// The contacts it would merge, by id, sorted.
    pub contacts: Vec<String>,
    /// The identities that show it, with what they share.
    pub evidence: Vec<String>,
    /// The command that applies it.
    pub command: String,
}

/// Where a message was read from: enough to find its raw bytes again.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SourceRef {
    /// `maildir`, `mbox`, `eml`, `imap`, `mastodon`, …
    pub kind: String,
    /// The file holding the message (maildir, eml) or the mailbox file (mbox). A path that
    /// is not UTF-8 is written `hex:` and its bytes in hex ([`path_text`]), so it names
    /// the file exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// True when the file is no longer in its source (a mail reader deleted it): the
    /// record stays, and the archive keeps its bytes when it holds a copy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gone: bool,
    /// Byte offset of the message's `From ` line in an mbox file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Maildir++ folder (`""` for the top folder) or IMAP mailbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uidvalidity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Mastodon: the account domain of the instance the status was fetched from (`domain`
    /// of its `GET /api/v2/instance`, which may differ from the host its API is served on),
    /// which the handles of its local accounts take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A file's path as text that names the file exactly: the path itself when it is UTF-8,
/// else `hex:` and its bytes in hex (an absolute path starts with `/`, so the two never meet).
pub fn path_text(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    match path.to_str() {
        Some(text) => text.to_string(),
        None => format!("hex:{}", hex::encode(path.as_os_str().as_bytes())),
    }
}

/// The path [`path_text`] wrote.
pub fn text_path(text: &str) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStringExt;
    match text.strip_prefix("hex:").and_then(|h| hex::decode(h).ok()) {
        Some(bytes) => std::ffi::OsString::from_vec(bytes).into(),
        None => text.into(),
    }
}

/// A participant: a display name and the protocol's canonical handle.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Address {
    #[serde(default)]
    pub name: Option<String>,
    /// Empty when the header named a display name but no usable address.
    #[serde(default)]
    pub address: String,
    /// The group (RFC 5322 `group: a, b;`) this address was listed under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// An attachment, described; its bytes stay in the raw message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attachment {
    #[serde(default)]
    pub filename: Option<String>,
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: u64,
}

/// What protected the message, as read from its headers and MIME structure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Security {
    #[serde(default)]
    pub transport: Transport,
    /// One entry per Authentication-Results header, in header order (the topmost, added
    /// last, first). Whether one is believed (a trusted authserv-id, above the trust
    /// boundary) is the privacy index's decision.
    #[serde(default)]
    pub authentication: Vec<Authentication>,
    /// End-to-end encryption of the whole message, proven by its structure: the encrypted
    /// part is the message (or its only content) and its payload parses as an OpenPGP
    /// message or CMS EnvelopedData. A declaration alone is not enough.
    #[serde(default)]
    pub encryption: Encryption,
    /// An encrypted part (proven as `encryption` is) beside parts in clear: the encryption of
    /// that part only, which the privacy index counts for far less.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partially_encrypted: Option<Encryption>,
    /// How the message is signed, as structure, when the signature covers all it shows (the
    /// root multipart/signed, or the whole text part clearsigned); verification comes with
    /// the keys.
    #[serde(default)]
    pub signed: Option<SignatureFormat>,
    /// A signed part beside unsigned ones: the signature does not vouch for the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partially_signed: Option<SignatureFormat>,
    #[serde(default)]
    pub signature: SignatureState,
    /// Security claims the message makes that did not hold up (an armour block inside clear
    /// text, a multipart/encrypted without OpenPGP inside, Autocrypt keydata that is no
    /// usable key…), and headers the parsers read differently (`From :`, a second From, a
    /// form feed…: each starting with `ambiguous header: `, read as Python's `email` package
    /// and the MTAs read them), in words, for the user to see.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Whether `score --decrypt` (or `sync`) decrypted it with the user's key; the text and
    /// attachments inside are in the record only when the config's `index.decrypted` allows.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub decrypted: bool,
    #[serde(default)]
    pub autocrypt: Option<Autocrypt>,
    /// The spam score a filter wrote (X-Spam-Score, or `score=` of X-Spam-Status), topmost.
    #[serde(default)]
    pub spam_score: Option<f64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The path through mail servers, from the Received headers, as the headers claim it. Only
/// the lines the user's own servers wrote are their word; the privacy index finds that trust
/// boundary with the config and believes TLS only at or above it
/// ([`crate::privacy::boundary`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Transport {
    /// Hops between two different hosts (a hop inside one host, `from localhost`, is not
    /// external).
    pub external_hops: u32,
    /// External hops whose receiving server wrote that it used TLS.
    pub tls_hops: u32,
    /// The lowest TLS version named on an external TLS hop, as `TLSv1.2`.
    #[serde(default)]
    pub weakest_tls: Option<String>,
    /// Every hop, newest first (header order).
    #[serde(default)]
    pub hops: Vec<Hop>,
}

/// One Received header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Hop {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub by: Option<String>,
    /// The `with` protocol (`ESMTPS`, `LMTP`, …).
    #[serde(default)]
    pub with: Option<String>,
    pub external: bool,
    /// Whether the receiving server wrote that it used TLS: its `with` protocol (`ESMTPS`…)
    /// or its TLS comment (`(using TLSv1.3 …)`, `(version=TLS1_3 …)`, `(TLS1.3)`), never
    /// words of the HELO name, the reverse DNS or the envelope, which the sender chooses.
    pub tls: bool,
    /// `TLSv1.3` and so on, when the TLS comment names it.
    #[serde(default)]
    pub tls_version: Option<String>,
    /// The name the receiving server found for the sending address (its checked reverse
    /// DNS, `name` in Postfix's `(name [address])`), never the HELO name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// The header's place in the header block, 0 for the topmost field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    #[serde(default)]
    pub date: Option<String>,
    /// The header as received, unfolded, for the user to check.
    pub evidence: String,
}

/// One Authentication-Results header (RFC 8601).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Authentication {
    pub authserv_id: String,
    #[serde(default)]
    pub dkim: Option<String>,
    #[serde(default)]
    pub spf: Option<String>,
    #[serde(default)]
    pub dmarc: Option<String>,
    /// The header's place in the header block, 0 for the topmost field: it counts only
    /// above the Received line where mail entered the user's servers (RFC 8601 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    /// The header as received, unfolded.
    pub evidence: String,
}

/// End-to-end encryption structure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Encryption {
    #[default]
    None,
    /// multipart/encrypted with application/pgp-encrypted (RFC 3156).
    PgpMime,
    /// An ASCII-armoured `BEGIN PGP MESSAGE` block in a text part.
    PgpInline,
    /// application/pkcs7-mime with smime-type enveloped-data (RFC 8551).
    Smime,
    /// The protocol encrypts end to end (Signal, an encrypted Matrix room).
    ProtocolE2e,
}

/// How a message is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureFormat {
    /// multipart/signed with application/pgp-signature (RFC 3156).
    PgpMime,
    /// A `BEGIN PGP SIGNED MESSAGE` block in a text part.
    PgpInline,
    /// multipart/signed with application/pkcs7-signature, or signed-data.
    Smime,
}

/// The outcome of checking a signature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureState {
    /// Not signed.
    #[default]
    None,
    /// Signed, not yet checked (`fetch` only reads structure).
    Unverified,
    /// Valid, and by the key bound (tofu or verified) to the From address.
    Valid,
    Invalid,
    UnknownKey,
    /// Valid, but by a key that is not bound to the From address (someone else's, or one in
    /// conflict): it proves who signed, not who sent.
    ByOther,
}

/// The Autocrypt header (Level 1), as the sender announced it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Autocrypt {
    pub addr: String,
    /// `mutual` or `nopreference`.
    pub prefer_encrypt: String,
    /// The primary key's fingerprint, uppercase hex, when `keydata` holds a readable key.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

/// The privacy index of a message (DESIGN §3): three axes of 0–100, the score as their
/// rounded mean, its grade and label, and the factors that gave every point. The factors and
/// their points are listed by `missive score --factors`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Privacy {
    /// The rounded mean of the three axes, 0–100.
    pub score: u8,
    pub grade: Grade,
    pub label: Label,
    /// What protects the bytes: encryption, signature, TLS, trusted authentication results.
    pub technic: u8,
    /// Who can see it: recipients, mailing lists, spam.
    pub context: u8,
    /// Practice: the most secure channel used, Autocrypt preference.
    pub comportment: u8,
    /// Every factor that applied, in table order; an axis is the sum of its factors' points,
    /// clamped to 0–100.
    #[serde(default)]
    pub factors: Vec<AppliedFactor>,
    /// Changes that would raise the score, each computed by scoring the changed message.
    #[serde(default)]
    pub suggestions: Vec<Suggestion>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One of the three axes of the privacy index.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    /// What protects the bytes.
    #[default]
    Technic,
    /// Who can see the message.
    Context,
    /// The habits it shows.
    Comportment,
}

/// A grade: A (81–100), B (61–80), C (41–60), D (21–40), E (0–20).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Grade {
    A,
    B,
    C,
    D,
    #[default]
    E,
}

/// What a grade means, as shown to people.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Label {
    /// D–E: anyone on the way can read it.
    #[default]
    Postcard,
    /// C: carried under TLS, readable by the servers.
    Envelope,
    /// A–B: end-to-end encrypted and authenticated.
    SealedLetter,
}

/// A factor of the privacy index that applied to a message, with what showed it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppliedFactor {
    pub axis: Axis,
    /// The factor's name in the table (`e2e_pgp_mime`, …).
    pub name: String,
    /// Points added to the axis (negative: taken away).
    pub points: i32,
    /// What in the message showed it, for the user to check.
    pub evidence: String,
}

/// A change that would raise a message's score.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Suggestion {
    /// The command that starts the change.
    pub action: String,
    /// Points the score would gain.
    pub gain: i32,
    pub why: String,
}

/// Something that failed: a line that is not a record, a message that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorRecord {
    pub kind: ErrorKind,
    #[serde(default = "version")]
    pub v: u32,
    /// Where: `PATH:LINE` for a JSON Lines input, a file, a source URI.
    #[serde(rename = "where")]
    pub location: String,
    /// What went wrong, lowercase, one line.
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The raw bytes that failed, kept under this name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Message {
    /// Everyone the message names: From, then To, Cc and Bcc.
    pub fn people(&self) -> impl Iterator<Item = &Address> {
        self.from
            .iter()
            .chain(&self.to)
            .chain(&self.cc)
            .chain(&self.bcc)
    }
}

impl ErrorRecord {
    /// An error at `location`.
    pub fn new(location: impl Into<String>, error: impl Into<String>) -> Self {
        ErrorRecord {
            location: location.into(),
            error: error.into(),
            v: VERSION,
            ..ErrorRecord::default()
        }
    }
}

/// An OpenPGP certificate missive knows, with the addresses bound to it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KeyRecord {
    pub kind: KeyKind,
    #[serde(default = "version")]
    pub v: u32,
    /// Uppercase hex.
    pub fingerprint: String,
    #[serde(default)]
    pub user_ids: Vec<String>,
    /// The primary key's algorithm (`EdDSA`, `RSA`, …).
    pub algorithm: String,
    #[serde(default)]
    pub bits: Option<u32>,
    #[serde(default)]
    pub expires: Option<String>,
    #[serde(default)]
    pub revoked: bool,
    /// Valid now under the standard policy: not revoked, not expired, no weak algorithm.
    #[serde(default)]
    pub usable: bool,
    #[serde(default)]
    pub bindings: Vec<KeyBinding>,
    /// True for the user's own keys, whose secret parts missive keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<bool>,
    /// For own keys: whether the secret parts are protected by a passphrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<bool>,
    /// `keys discover`: where this certificate was found and what binding it got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found: Option<KeyFound>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// How `keys discover` found a certificate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KeyFound {
    /// The address looked up, canonical.
    pub address: String,
    /// `wkd` or `dane` (DNS OPENPGPKEY, DNSSEC-validated).
    pub method: String,
    /// The URL fetched or the DNS name queried.
    pub from: String,
    /// The binding's trust state after this discovery: `tofu` for a first key, `conflict`
    /// for a new key of an address already bound, or the state it had.
    pub outcome: String,
}

/// One query of `keys discover`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LookupRecord {
    pub kind: LookupKind,
    #[serde(default = "version")]
    pub v: u32,
    pub address: String,
    /// `--dry-run`: the WKD advanced-method URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wkd_advanced: Option<String>,
    /// `--dry-run`: the WKD direct-method URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wkd_direct: Option<String>,
    /// `--dry-run`: the RFC 7929 owner name of the OPENPGPKEY record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_openpgpkey: Option<String>,
    /// `wkd` or `dane`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL fetched or the DNS name queried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// `not_found` (no key published), `refused` (an answer not trusted: DNSSEC insecure
    /// or bogus, a certificate without the address) or `failed` (the query did not complete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Why, in one lowercase line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An address bound to a key, and how far it is trusted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KeyBinding {
    /// Lowercased, the domain in IDNA ASCII form.
    pub address: String,
    /// `autocrypt`, `gossip`, `wkd`, `dane`, `import` or `manual`.
    pub source: String,
    /// `tofu`, `verified`, `conflict`, `replaced`, `gossip`, `revoked`, `expired` or
    /// `invalid`.
    #[schemars(with = "String")]
    pub state: BindingState,
    /// For a `replaced` binding: the fingerprint of the key it replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// What the user should know before relying on it ([`BindingState::warning`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    pub first_seen: String,
    pub last_seen: String,
}

/// How far an address's binding to a certificate is trusted: set by the TOFU rules of
/// [`crate::keys::tofu`], kept in `state.sqlite` and printed in key records as its
/// lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingState {
    /// The first certificate seen for the address.
    Tofu,
    /// Confirmed by the user (`keys verify`), or the user's own key.
    Verified,
    /// A second certificate for an address already bound: never used until the user decides.
    Conflict,
    /// A new certificate for an address whose bound one was revoked, expired or became
    /// invalid: used as a first key is, but shown, with the key it replaced, until the
    /// user verifies it, since that is the moment an impostor would choose.
    Replaced,
    /// A certificate only a third party named (Autocrypt-Gossip in signed, encrypted
    /// mail): Autocrypt's `discourage`, never the address's first-use key, never proof of
    /// who signed, and never in the way of the key its owner announces.
    Gossip,
    Revoked,
    Expired,
    /// The certificate fails the standard policy (a weak algorithm, no valid
    /// self-signature): not usable, and not the same as expired.
    Invalid,
}

impl BindingState {
    pub const ALL: [BindingState; 8] = [
        BindingState::Tofu,
        BindingState::Verified,
        BindingState::Conflict,
        BindingState::Replaced,
        BindingState::Gossip,
        BindingState::Revoked,
        BindingState::Expired,
        BindingState::Invalid,
    ];

    /// The name stored and printed, the same as serde's.
    pub fn as_str(self) -> &'static str {
        match self {
            BindingState::Tofu => "tofu",
            BindingState::Verified => "verified",
            BindingState::Conflict => "conflict",
            BindingState::Replaced => "replaced",
            BindingState::Gossip => "gossip",
            BindingState::Revoked => "revoked",
            BindingState::Expired => "expired",
            BindingState::Invalid => "invalid",
        }
    }

    /// The state named `name` (as [`BindingState::as_str`] spells it), if there is one.
    pub fn parse(name: &str) -> Option<BindingState> {
        BindingState::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the binding may be used to encrypt and to merge identities, and shows who
    /// signed: trusted on first use (a replacement included) or verified; a conflict waits
    /// for the user, gossip is a third party's word, a revoked, expired or invalid key is
    /// done.
    pub fn is_trusted(self) -> bool {
        matches!(
            self,
            BindingState::Tofu | BindingState::Verified | BindingState::Replaced
        )
    }

    /// Whether the certificate no longer holds the address: revoked, expired or invalid.
    pub fn has_ended(self) -> bool {
        matches!(
            self,
            BindingState::Revoked | BindingState::Expired | BindingState::Invalid
        )
    }

    /// What the user should know before encrypting to a key bound so, where the key is
    /// usable but the binding weaker than it looks.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            BindingState::Gossip => Some(
                "only gossiped by another sender, never announced by its owner: \
                 encrypt to it only if you agree (Autocrypt: discourage)",
            ),
            BindingState::Replaced => Some(
                "a new key after the bound one ended: check it with its owner \
                 (missive keys verify)",
            ),
            _ => None,
        }
    }
}

impl std::fmt::Display for BindingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the privacy index's factor table, as `missive score --factors` prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FactorRecord {
    pub kind: FactorKind,
    #[serde(default = "version")]
    pub v: u32,
    pub axis: Axis,
    /// The name a message's [`AppliedFactor`] carries (`e2e_pgp_mime`, …).
    pub name: String,
    /// Points added to the axis (negative: taken away).
    pub points: i32,
    /// Why the factor counts, in one line.
    pub rationale: String,
}

/// The privacy index of this device (`missive score --device`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceRecord {
    pub kind: DeviceKind,
    #[serde(default = "version")]
    pub v: u32,
    /// The store directory.
    pub store: String,
    /// The config file, when there is one.
    pub config: Option<String>,
    pub privacy: Privacy,
}

/// The user's own privacy index (`missive score --user`), with its trend and history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserRecord {
    pub kind: UserKind,
    #[serde(default = "version")]
    pub v: u32,
    pub index: UserIndex,
    /// The change since an earlier point of the history; none on its first day.
    pub trend: Option<Trend>,
    /// One point a day, oldest first, today's included.
    pub history: Vec<HistoryPoint>,
}

/// The user index: a weighted mean of its parts, each shown with what it counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UserIndex {
    pub score: u8,
    pub grade: Grade,
    pub label: Label,
    /// The mean score of the recent scored messages.
    pub messages: IndexPart,
    /// The share of correspondents with a usable, trusted key.
    pub key_coverage: IndexPart,
    /// This device's index.
    pub device: IndexPart,
    /// Changes that would raise the index, each computed by applying the change.
    pub suggestions: Vec<Suggestion>,
}

/// One part of the user index, with what it counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IndexPart {
    pub score: u8,
    /// Its weight in the index, as a fraction (`1/2`).
    pub weight: String,
    pub evidence: String,
}

/// How the user index moved: `change` points since the point of day `since`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Trend {
    pub change: i32,
    /// `YYYY-MM-DD`.
    pub since: String,
}

/// The user index on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HistoryPoint {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub score: u8,
}

/// The privacy index of a contact (`missive score --contacts`), with what it is computed
/// from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ContactPrivacyRecord {
    pub kind: ContactPrivacyKind,
    #[serde(default = "version")]
    pub v: u32,
    /// The contact's id ([`Contact`]).
    pub contact: String,
    pub name: Option<String>,
    /// `KIND:HANDLE` identities, sorted.
    pub identities: Vec<String>,
    /// Protocols the contact is known on (`email`, `mastodon`, …).
    pub channels: Vec<String>,
    /// The best key binding of their addresses.
    pub key: Option<ContactKey>,
    /// Indexed messages with them, and how many were end-to-end encrypted.
    pub exchanges: u64,
    pub encrypted: u64,
    pub privacy: Privacy,
}

/// The best key binding of a contact's addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ContactKey {
    pub address: String,
    /// Uppercase hex.
    pub fingerprint: String,
    /// `tofu`, `verified`, `conflict`, `replaced`, `gossip`, `revoked`, `expired` or
    /// `invalid`.
    #[schemars(with = "String")]
    pub state: BindingState,
    /// For a `replaced` binding: the fingerprint of the key it replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// What to know before relying on it ([`BindingState::warning`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The primary key's algorithm (`EdDSA`, `RSA`, …).
    pub algorithm: String,
    pub bits: Option<u32>,
    pub expires: Option<String>,
    /// Valid now under the standard policy.
    pub usable: bool,
}

/// What Autocrypt recommends when writing to an address (`missive keys recommend`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecommendationRecord {
    pub kind: RecommendationKind,
    #[serde(default = "version")]
    pub v: u32,
    /// The address, canonical.
    pub address: String,
    pub recommendation: Recommendation,
    /// The key to encrypt to: the one the peer sent, else one gossiped about them.
    pub key: Option<String>,
    /// The peer's Autocrypt preference: `mutual` or `nopreference`.
    pub prefer_encrypt: Option<String>,
    /// Set when the key is only gossiped about the peer ([`BindingState::warning`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// What Autocrypt recommends when writing to a peer (Autocrypt Level 1 §2.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Recommendation {
    /// No key: encryption is impossible.
    #[default]
    Disable,
    /// A key, but stale or only gossiped: encrypt only if the user asks.
    Discourage,
    /// A key that works: offer encryption.
    Available,
    /// Both sides prefer encryption, or this replies to encrypted mail: encrypt by default.
    Encrypt,
}

/// A message to write, as `missive send` reads it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Draft {
    pub kind: DraftKind,
    #[serde(default = "version")]
    pub v: u32,
    /// The user's name for it; else `d_` and 32 hex digits of SHA-256 over the draft, so the
    /// same draft sent again is known as the one already journaled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The address it goes from, one of `[identity] addresses`; else the first email
    /// address there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Contact names or ids, email addresses, `@user@instance` handles.
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub text: String,
    /// Files to attach, by path.
    #[serde(default)]
    pub attachments: Vec<String>,
    /// The message answered: a record id (`m_…`) or a Message-ID (`<…>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The channel to use whatever the ranking says: `pgp-mime`, `tls` or `mastodon-dm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One recipient of a draft by one channel (`missive send`): planned, queued, sent, failed
/// or refused, with the predicted privacy and why the other channels lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Delivery {
    pub kind: DeliveryKind,
    #[serde(default = "version")]
    pub v: u32,
    /// The draft's id.
    pub draft: String,
    /// `KIND:HANDLE` ([identities](self#identities)), or the text given when it named nobody.
    pub recipient: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `to`, `cc` or `bcc`.
    pub field: String,
    /// `pgp-mime`, `tls` or `mastodon-dm`; none when no channel may carry it.
    pub channel: Option<String>,
    /// `planned` (`--dry-run`), `queued` (a temporary failure: `send --flush` tries again),
    /// `sent` (the server accepted it), `failed` (the server refused it) or `refused` (by
    /// missive's rules, with the reason).
    pub status: String,
    /// The privacy index the delivered message would get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// The factors the predicted index adds up, as `score` prints them: why the grade.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<AppliedFactor>,
    /// The key it is encrypted to (`pgp-mime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PlannedKey>,
    /// What the user should know but did not stop it (a discouraged key, a split).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Every other channel, and why it lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedChannel>,
    /// Why it was refused or failed, with the command that would change that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The Message-ID it goes (or went) under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// The server's enhanced status code (`5.1.1`) of a failure or a temporary one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The key a delivery is encrypted to, and how far it is trusted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedKey {
    /// Uppercase hex.
    pub fingerprint: String,
    /// Where the binding came from: `autocrypt`, `gossip`, `wkd`, `dane` (DNS OPENPGPKEY),
    /// `import` or `manual`.
    pub source: String,
    /// `tofu` or `verified`.
    pub state: String,
    /// What Autocrypt recommends for the address ([`Recommendation`]).
    pub recommendation: Recommendation,
}

/// A channel a delivery did not take.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RejectedChannel {
    pub channel: String,
    /// Its predicted privacy index, when it could carry the draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    pub why: String,
}

/// Any record read from a stream. Kinds this version does not know pass through as they are.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Message(Box<Message>),
    Error(ErrorRecord),
    /// A record of another kind, kept as its original line.
    Other(String),
}

/// The record kinds that have a schema, by name: what `missive schema` prints.
pub fn schemas() -> Vec<(&'static str, schemars::Schema)> {
    vec![
        (MessageKind::TEXT, schemars::schema_for!(Message)),
        (ErrorKind::TEXT, schemars::schema_for!(ErrorRecord)),
        (KeyKind::TEXT, schemars::schema_for!(KeyRecord)),
        (LookupKind::TEXT, schemars::schema_for!(LookupRecord)),
        (ConversationKind::TEXT, schemars::schema_for!(Conversation)),
        (ContactKind::TEXT, schemars::schema_for!(Contact)),
        (
            SuggestionKind::TEXT,
            schemars::schema_for!(ContactSuggestion),
        ),
        (
            RecommendationKind::TEXT,
            schemars::schema_for!(RecommendationRecord),
        ),
        (FactorKind::TEXT, schemars::schema_for!(FactorRecord)),
        (DeviceKind::TEXT, schemars::schema_for!(DeviceRecord)),
        (UserKind::TEXT, schemars::schema_for!(UserRecord)),
        (
            ContactPrivacyKind::TEXT,
            schemars::schema_for!(ContactPrivacyRecord),
        ),
        (DraftKind::TEXT, schemars::schema_for!(Draft)),
        (DeliveryKind::TEXT, schemars::schema_for!(Delivery)),
        (ThreadKind::TEXT, schemars::schema_for!(Thread)),
    ]
}

/// Seconds since the epoch of a record's RFC 3339 UTC date (`2024-03-01T10:00:00Z`).
pub fn timestamp(date: &str) -> Option<i64> {
    let number = |range: std::ops::Range<usize>| date.get(range)?.parse::<u8>().ok();
    let parsed = mail_parser::DateTime {
        year: date.get(0..4)?.parse().ok()?,
        month: number(5..7)?,
        day: number(8..10)?,
        hour: number(11..13)?,
        minute: number(14..16)?,
        second: number(17..19)?,
        ..mail_parser::DateTime::default()
    };
    parsed.is_valid().then(|| parsed.to_timestamp())
}

/// The seconds since the epoch that RFC 3339 can write: 0000-01-01T00:00:00Z to
/// 9999-12-31T23:59:59Z. A reader that can note a problem drops a date outside them.
pub const DATES: std::ops::RangeInclusive<i64> = -62_167_219_200..=253_402_300_799;

/// A record date (RFC 3339, UTC, seconds) for seconds since the epoch; outside [`DATES`],
/// the nearer end of them, as RFC 3339 has no year before 0000 or after 9999.
pub fn rfc3339(timestamp: i64) -> String {
    let timestamp = timestamp.clamp(*DATES.start(), *DATES.end());
    mail_parser::DateTime::from_timestamp(timestamp).to_rfc3339()
}

/// The most message-ids of one reference header (References, In-Reply-To) a message
/// contributes to threading. JWZ needs the root and the nearest ancestors, not the 400,000
/// ids a crafted message can hold, which would make threading cost without bound.
pub const MAX_REFERENCES: usize = 500;

/// The message-ids of a reference header that are kept: all of them up to
/// [`MAX_REFERENCES`]; beyond, the first (the thread's root) and the last
/// `MAX_REFERENCES - 1` (the nearest ancestors).
pub fn kept_references(ids: &[String]) -> impl Iterator<Item = &String> {
    let tail = ids.len().saturating_sub(MAX_REFERENCES - 1).max(1);
    ids.first()
        .into_iter()
        .chain(ids.get(tail..).unwrap_or_default())
}

/// `sha256:` and the hex digest of `bytes`: the name of a raw blob.
pub fn blob_name(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// The problem both records carry when two different emails of one account say they have
/// the same Message-ID (a broken mailer, or a sender hoping to replace a message): neither
/// erases the other.
pub const DUPLICATE_MESSAGE_ID: &str =
    "duplicate_message_id: another message of this account has the same Message-ID";

/// The stable record id of a native id within an account of a protocol: the one id rule of
/// DESIGN.md §2, where what `account` and `native_id` are is said. An email whose Message-ID
/// another message holds is given this id of its blob instead.
pub fn message_id(protocol: &str, account: &str, native_id: &str) -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for part in [protocol, account, native_id] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    format!("m_{}", hex::encode(&hash.finalize()[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_that_is_not_utf8_is_written_so_it_comes_back_exactly() {
        use std::os::unix::ffi::OsStrExt;
        let odd = std::path::Path::new(std::ffi::OsStr::from_bytes(b"/m/cur/caf\xe9:2,S"));
        let text = path_text(odd);
        assert_eq!(text, "hex:2f6d2f6375722f636166e93a322c53");
        assert_eq!(text_path(&text), odd);
        assert_eq!(path_text(std::path::Path::new("/m/été")), "/m/été");
        assert_eq!(text_path("/m/été"), std::path::Path::new("/m/été"));
    }

    #[test]
    fn dates_out_of_range_clamp_to_the_years_rfc_3339_can_write() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(*DATES.start()), "0000-01-01T00:00:00Z");
        assert_eq!(rfc3339(*DATES.end()), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(i64::MIN), "0000-01-01T00:00:00Z");
        assert_eq!(rfc3339(-1_000_000_000_000_000), "0000-01-01T00:00:00Z");
    }

    #[test]
    fn a_reference_header_keeps_its_root_and_nearest_ancestors() {
        let ids: Vec<String> = (0..400_000).map(|i| format!("<{i}@x>")).collect();
        let kept: Vec<&String> = kept_references(&ids).collect();
        assert_eq!(kept.len(), MAX_REFERENCES);
        assert_eq!(kept[0], "<0@x>");
        assert_eq!(kept[1], "<399501@x>");
        assert_eq!(kept[MAX_REFERENCES - 1], "<399999@x>");
        let few = &ids[..MAX_REFERENCES];
        assert!(kept_references(few).eq(few.iter()), "up to the limit, all");
        assert_eq!(kept_references(&[]).count(), 0);
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let line = r#"{"kind":"message","v":1,"id":"m_1","protocol":"email","account":"a","source":{"kind":"eml","mine":[1,2]},"blob":"sha256:00","native_id":"<x@y>","security":{"encryption":"pgp-mime","theirs":true},"zzz":{"deep":"yes"}}"#;
        let message: Message = serde_json::from_str(line).unwrap();
        assert_eq!(message.extra["zzz"]["deep"], "yes");
        let again = serde_json::to_string(&message).unwrap();
        let value: Value = serde_json::from_str(&again).unwrap();
        assert_eq!(value["zzz"]["deep"], "yes");
        assert_eq!(value["source"]["mine"], serde_json::json!([1, 2]));
        assert_eq!(value["security"]["theirs"], true);
        assert_eq!(value["security"]["encryption"], "pgp-mime");
    }

    #[test]
    fn a_binding_state_is_stored_and_printed_under_one_name() {
        for state in BindingState::ALL {
            let printed = serde_json::to_string(&state).unwrap();
            assert_eq!(printed, format!("\"{}\"", state.as_str()));
            assert_eq!(BindingState::parse(state.as_str()), Some(state));
        }
        assert_eq!(BindingState::parse("trusted"), None);
    }

    #[test]
    fn a_message_of_another_kind_is_refused() {
        let error = serde_json::from_str::<Message>(r#"{"kind":"contact","id":"x"}"#).unwrap_err();
        assert!(
            error.to_string().contains("expected kind \"message\""),
            "{error}"
        );
    }

    #[test]
    fn record_dates_become_timestamps() {
        assert_eq!(timestamp("2024-07-01T00:00:00Z"), Some(1_719_792_000));
        assert_eq!(timestamp("garbage"), None);
    }

    #[test]
    fn message_ids_are_stable_and_distinct() {
        let a = message_id("email", "work", "<a@b>");
        assert_eq!(a, message_id("email", "work", "<a@b>"));
        assert_ne!(a, message_id("email", "home", "<a@b>"));
        assert_ne!(
            message_id("email", "ab", "c"),
            message_id("email", "a", "bc")
        );
        assert_eq!(a.len(), 34);
    }

    #[test]
    fn every_kind_has_a_schema_with_its_tag() {
        for (kind, schema) in schemas() {
            let text = serde_json::to_string(&schema).unwrap();
            assert!(
                text.contains(&format!("\"const\":\"{kind}\"")),
                "{kind}: {text}"
            );
        }
    }
}
