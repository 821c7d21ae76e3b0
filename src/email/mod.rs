//! Turns one RFC 5322 message (with MIME, RFC 2045–2049, and UTF-8 headers, RFC 6532) into a
//! [`Message`] record, with mail-parser doing the parsing.
//!
//! The security facts come from the submodules: `received` (the path and its TLS),
//! `auth_results` (RFC 8601), `pgp_mime` (encryption and signature structure, RFC 3156
//! and RFC 8551), `autocrypt` (the sender's Autocrypt header) and `spam` (a filter's
//! spam score). Whether transport facts can be trusted is decided by the privacy index, not
//! here; encryption and the Autocrypt key are recorded only when their bytes prove them
//! (an OpenPGP message, CMS EnvelopedData, a certificate for the address), as anyone can
//! declare them.
//!
//! Reading never fails: a message mail-parser cannot read still becomes a record, with its
//! blob name and a `problems` entry, so nothing is dropped.
//!
//! Where mail-parser reads a header otherwise than Python's `email` package and the MTAs
//! (`From :`, a second From, a form feed…), the record takes their reading and
//! `security.problems` names the anomaly (`header_block`).
//!
//! The `mbox` submodule splits an mbox file (RFC 4155) into its messages, for the mbox
//! source and for the store reading one message back.

mod auth_results;
mod autocrypt;
mod date;
mod header_block;
mod header_text;
pub(crate) mod mbox;
pub(crate) mod pgp_mime;
mod received;

pub use header_block::AMBIGUOUS_HEADER;
pub(crate) use received::rank as tls_rank;
mod spam;

use mail_parser::{Address as ParsedAddress, DateTime, HeaderValue, MessageParser, MimeHeaders};

use crate::record::{
    Address, Attachment, MAX_REFERENCES, Message, Security, blob_name, kept_references,
};

/// Parses only the headers the record uses; Received is kept raw, as [`received`] reads the
/// TLS comments that mail-parser's structured form drops, and parsing it twice cost a tenth
/// of fetch's time.
static PARSER: std::sync::LazyLock<MessageParser> = std::sync::LazyLock::new(|| {
    MessageParser::new()
        .with_minimal_headers()
        .with_date_headers()
        .with_address_headers()
        .with_message_ids()
        .header_raw(mail_parser::HeaderName::Received)
});

/// The spam score from which a message counts as spam: SpamAssassin's default
/// `required_score`. The privacy index takes points for it; Autocrypt ignores such mail.
pub const SPAM_THRESHOLD: f64 = 5.0;

/// The message as mail-parser reads it, or None. mail-parser asserts on some malformed
/// nestings (found by fuzzing, kept in fuzz/regressions/): a message that trips one is
/// treated as unreadable, and its caller keeps it unparsed, never lost.
pub(crate) fn parse(raw: &[u8]) -> Option<mail_parser::Message<'_>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| PARSER.parse(raw)))
        .ok()
        .flatten()
}

/// The problem recorded when mail-parser could not read a message at all.
const UNREADABLE: &str = "not an RFC 5322 message: no header could be read";

/// Whether `read` could make nothing of the message but its blob: the record is kept, and
/// counted as failed.
pub fn is_unreadable(message: &Message) -> bool {
    message.problems.iter().any(|p| p == UNREADABLE)
}

/// Reads a raw message into a record for `protocol` "email". The caller sets `id`,
/// `account`, `source` and `flags`, which depend on where the bytes came from.
pub fn read(raw: &[u8]) -> Message {
    let blob = blob_name(raw);
    let mut record = Message {
        v: crate::record::VERSION,
        protocol: "email".into(),
        blob: blob.clone(),
        ..Message::default()
    };
    if memchr::memchr(0, raw).is_some() {
        record.problems.push("contains NUL bytes".into());
    }
    let Some(parsed) = parse(raw) else {
        record.native_id = blob;
        record.problems.push(UNREADABLE.into());
        return record;
    };
    if parsed.headers().is_empty() {
        record.problems.push("no header fields".into());
    }

    // The fields RFC 5322 allows once, read as Python and the MTAs read them when
    // mail-parser would read them otherwise. Should mail-parser fail on that short block,
    // its own reading stands, and the anomaly is still named.
    let block = header_block::read(raw);
    let agreed = block.disputed_fields().and_then(parse);
    let fields = agreed.as_ref().unwrap_or(&parsed);

    record.native_id = match fields.message_id() {
        Some(id) if !id.trim().is_empty() => bracketed(id),
        _ => {
            record.problems.push("no Message-ID".into());
            blob
        }
    };
    for (name, ids, field) in [
        (
            "In-Reply-To",
            id_list(fields.in_reply_to()),
            &mut record.in_reply_to,
        ),
        (
            "References",
            id_list(fields.references()),
            &mut record.references,
        ),
    ] {
        if ids.len() > MAX_REFERENCES {
            record.problems.push(format!(
                "{name} names {} message-ids: the first and the last {} kept",
                ids.len(),
                MAX_REFERENCES - 1
            ));
        }
        *field = kept_references(&ids).cloned().collect();
    }
    record.list_id = parsed
        .header_raw("List-Id")
        .map(list_id)
        .filter(|id| !id.is_empty());
    let transport = received::transport(&parsed);
    // The newest hop that names a date stands in for a missing or unreadable Date.
    let received_date = transport.hops.iter().find_map(|hop| hop.date.clone());
    record.date = match fields.date() {
        Some(date) if date.is_valid() => Some(utc(date)),
        _ if let Some(date) = fields.header_raw("Date").and_then(date::parse_lenient) => {
            Some(utc(&date))
        }
        found => {
            record.problems.push(match found {
                Some(_) => "unreadable Date".into(),
                None => "no Date".into(),
            });
            received_date.clone()
        }
    };
    record.from = fields.from().and_then(|a| addresses(a).into_iter().next());
    record.sender = fields
        .sender()
        .and_then(|a| addresses(a).into_iter().next());
    record.to = fields.to().map(addresses).unwrap_or_default();
    record.cc = fields.cc().map(addresses).unwrap_or_default();
    record.bcc = fields.bcc().map(addresses).unwrap_or_default();
    record.reply_to = fields.reply_to().map(addresses).unwrap_or_default();
    record.subject = fields.subject().map(|s| s.trim().to_string());
    record.text = body_text(&parsed);
    record.attachments = parsed
        .attachments()
        .map(|part| Attachment {
            filename: part
                .attachment_name()
                .map(str::to_string)
                .or_else(|| folded_name(&parsed.raw_message, part)),
            content_type: content_type(part),
            size: part.len() as u64,
        })
        .collect();
    record.problems.extend(mime_problems(&parsed));

    let structure = pgp_mime::structure(&parsed);
    let (autocrypt, autocrypt_problem) = autocrypt::header(&parsed, record.from.as_ref());
    record.security = Security {
        transport,
        authentication: auth_results::all(&parsed),
        encryption: structure.encryption,
        partially_encrypted: structure.partially_encrypted,
        signed: structure.signed,
        partially_signed: structure.partially_signed,
        signature: match structure.signed {
            Some(_) => crate::record::SignatureState::Unverified,
            None => crate::record::SignatureState::None,
        },
        autocrypt,
        spam_score: spam::score(&parsed),
        problems: structure
            .problems
            .into_iter()
            .chain(autocrypt_problem)
            .chain(block.problems)
            .collect(),
        ..Security::default()
    };
    record
}

/// What Autocrypt's peer update needs of a raw message beyond its record.
#[derive(Debug, Clone, PartialEq)]
pub struct AutocryptInput {
    /// A multipart/report (a bounce, a read receipt): Autocrypt ignores those.
    pub report: bool,
    /// The sender's valid Autocrypt header, with its key data (OpenPGP binary); the record
    /// keeps only the key's fingerprint.
    pub header: Option<(crate::record::Autocrypt, Vec<u8>)>,
}

/// Reads what [`AutocryptInput`] holds from a raw message; None when it cannot be parsed.
pub fn autocrypt_input(raw: &[u8]) -> Option<AutocryptInput> {
    let parsed = parse(raw)?;
    let report = parsed.content_type().is_some_and(|ct| {
        ct.c_type.eq_ignore_ascii_case("multipart")
            && ct
                .c_subtype
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let block = header_block::read(raw);
    let agreed = block.disputed_fields().and_then(parse);
    let from = agreed
        .as_ref()
        .unwrap_or(&parsed)
        .from()
        .and_then(|a| addresses(a).into_iter().next());
    Some(AutocryptInput {
        report,
        header: autocrypt::header_and_key(&parsed, from.as_ref()),
    })
}

/// The Autocrypt-Gossip headers of a decrypted payload (a MIME entity): each one's
/// address and key data.
pub fn autocrypt_gossip(entity: &[u8]) -> Vec<(String, Vec<u8>)> {
    parse(entity).map_or_else(Vec::new, |parsed| autocrypt::gossip(&parsed))
}

/// The Autocrypt header of a decrypted payload (a MIME entity) for `from`, the address of
/// the outer From: the one the payload may speak for. Only the caller knows whether a
/// signature covers the payload, and so whether the header is evidence at all.
pub fn autocrypt_header(entity: &[u8], from: Option<&Address>) -> Option<crate::record::Autocrypt> {
    parse(entity).and_then(|parsed| autocrypt::header(&parsed, from).0)
}

/// The date in UTC, RFC 3339 with a `Z`.
pub(crate) fn utc(date: &DateTime) -> String {
    DateTime::from_timestamp(date.to_timestamp()).to_rfc3339()
}

fn bracketed(id: &str) -> String {
    format!(
        "<{}>",
        id.trim().trim_start_matches('<').trim_end_matches('>')
    )
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![bracketed(id)],
        HeaderValue::TextList(ids) => ids.iter().map(|id| bracketed(id)).collect(),
        _ => Vec::new(),
    }
}

/// The identifier inside `Name <list.example.org>` (RFC 2919), or the whole value.
fn list_id(value: &str) -> String {
    let inner = match (value.rfind('<'), value.rfind('>')) {
        (Some(start), Some(end)) if start < end => &value[start + 1..end],
        _ => value,
    };
    inner.trim().to_lowercase()
}

fn addresses(parsed: &ParsedAddress<'_>) -> Vec<Address> {
    let one = |addr: &mail_parser::Addr<'_>, group: Option<&str>| Address {
        name: addr
            .name()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
        address: addr
            .address()
            .map(address_with_unicode_domain)
            .unwrap_or_default(),
        group: group.map(str::to_string),
    };
    match parsed {
        ParsedAddress::List(list) => list.iter().map(|a| one(a, None)).collect(),
        ParsedAddress::Group(groups) => groups
            .iter()
            .flat_map(|g| g.addresses.iter().map(|a| one(a, g.name.as_deref())))
            .collect(),
    }
}

/// The address as records carry it: the local part as written, the domain lowercased in its
/// Unicode form. The local part keeps its case because only the receiving server may fold it
/// (RFC 5321 §2.4) and a record shows what was sent; the domain is caseless and shown the way
/// people read it. Autocrypt bindings key an address otherwise
/// ([`crate::keys::tofu::binding_address`]), identities prefix a kind
/// ([`crate::contacts::identity::kind_handle`]).
pub(crate) fn address_with_unicode_domain(address: &str) -> String {
    let address = address.trim();
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let (unicode, result) = idna::domain_to_unicode(domain);
            let domain = if result.is_ok() {
                unicode
            } else {
                domain.to_string()
            };
            format!("{local}@{}", domain.to_lowercase())
        }
        None => address.to_string(),
    }
}

/// The text bodies joined; an HTML body without a text alternative is rendered as text.
fn body_text(parsed: &mail_parser::Message<'_>) -> String {
    let mut text = String::new();
    for part in parsed.text_bodies() {
        let body = match (&part.body, part.is_text_html()) {
            (mail_parser::PartType::Html(html), _) | (mail_parser::PartType::Text(html), true) => {
                html_to_text(html)
            }
            (mail_parser::PartType::Text(plain), false) => plain.to_string(),
            _ => continue,
        };
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&body);
    }
    text
}

/// HTML rendered as plain text, wrapped at a readable width; mail-parser's own conversion
/// runs block elements together, so html2text does it.
pub(crate) fn html_to_text(html: &str) -> String {
    html2text::config::plain_no_decorate()
        .string_from_read(html.as_bytes(), 100)
        .unwrap_or_else(|_| html.to_string())
}

/// The file name mail-parser misses when the header is folded right after `filename=` (or
/// `name=`), as RFC 5322 folding allows and Python's `email` package reads: taken from the
/// raw, unfolded Content-Disposition, then Content-Type.
fn folded_name(raw: &[u8], part: &mail_parser::MessagePart<'_>) -> Option<String> {
    let headers = [
        (mail_parser::HeaderName::ContentDisposition, "filename="),
        (mail_parser::HeaderName::ContentType, "name="),
    ];
    headers.into_iter().find_map(|(name, parameter)| {
        let header = part.headers.iter().find(|h| h.name == name)?;
        let text = raw.get(header.offset_start as usize..header.offset_end as usize)?;
        let unfolded: String = String::from_utf8_lossy(text)
            .split(['\r', '\n'])
            .map(str::trim)
            .collect();
        let lower = unfolded.to_ascii_lowercase();
        let at = lower
            .match_indices(parameter)
            .map(|(at, _)| at)
            .find(|&at| at == 0 || lower[..at].ends_with([';', ' ', '\t']))?;
        let value = unfolded[at + parameter.len()..].trim_start();
        let value = match value.strip_prefix('"') {
            Some(quoted) => quoted.split('"').next()?,
            None => value.split([';', ' ', '\t']).next()?,
        };
        (!value.is_empty()).then(|| value.to_string())
    })
}

fn content_type(part: &mail_parser::MessagePart<'_>) -> String {
    match part.content_type() {
        Some(ct) => match &ct.c_subtype {
            Some(sub) => format!("{}/{}", ct.c_type, sub).to_lowercase(),
            None => ct.c_type.to_lowercase(),
        },
        None => "text/plain".into(),
    }
}

/// Charsets mail-parser could not decode and multiparts whose closing boundary is missing.
fn mime_problems(parsed: &mail_parser::Message<'_>) -> Vec<String> {
    let raw = parsed.raw_message();
    let mut problems = Vec::new();
    for part in &parsed.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        if let Some(charset) = ct.attribute("charset")
            && part.is_text()
            && mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes()).is_none()
            && !charset.eq_ignore_ascii_case("utf-8")
            && !charset.eq_ignore_ascii_case("us-ascii")
        {
            problems.push(format!("unknown charset {charset:?}, decoded as UTF-8"));
        }
        if ct.c_type.eq_ignore_ascii_case("multipart")
            && let Some(boundary) = ct.attribute("boundary")
        {
            let closing = format!("--{boundary}--");
            if memchr::memmem::find(raw, closing.as_bytes()).is_none() {
                problems.push(format!("truncated MIME: no closing boundary {closing:?}"));
            }
        }
    }
    problems
}
