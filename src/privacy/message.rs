//! Scores one message record: which factors of the table in [`super::factors`] apply and
//! what shows it, the three axes, the score, its grade and label, and the suggestions found
//! by scoring the message again with a change applied.
//!
//! The facts come from the record: `security` (spam score included), recipients and
//! `list_id`. Which transport facts and Authentication-Results headers are believed is
//! decided here, from the config's `[trust]` and the message's trust boundary
//! ([`super::boundary`]): TLS only at or above it, Authentication-Results only from a
//! trusted authserv-id above it. Encryption, signature coverage and the Autocrypt key were
//! proven when the record was read ([`crate::email`]), and a signature's key matched to the
//! From address when it was verified ([`mod@crate::keys::verify`]). Headers the parsers read
//! differently were named when the record was read; here they cost points.

use std::collections::BTreeSet;

use crate::config::Config;
use crate::record::{
    AppliedFactor, Authentication, Axis, Encryption, Grade, Label, Message, Privacy,
    SignatureFormat, SignatureState, Suggestion,
};

use super::boundary::{Boundary, Placement};
use super::circle::{Circle, Person};
use super::factors::{self, Factor, RECIPIENTS_LIMIT, SPAM_THRESHOLD};
use crate::contacts::identity;

/// Platforms that can read the messages they carry unless the protocol encrypts end to end,
/// and who reads them there (a Matrix homeserver reads the rooms without encryption; Signal
/// always encrypts).
const PLATFORMS: &[(&str, &str)] = &[
    (
        "mastodon",
        "the admins of the sender's and each recipient's instance (not end-to-end)",
    ),
    ("twitter", "the platform"),
    ("facebook", "the platform"),
    ("matrix", "the homeservers of the room"),
];

/// The privacy index of `message` from its record alone, with suggestions.
pub fn score(message: &Message, config: &Config) -> Privacy {
    score_in(message, config, None)
}

/// The privacy index of `message`, with the factors its people's [`Circle`] shows when the
/// store was asked, and suggestions.
pub fn score_in(message: &Message, config: &Config, circle: Option<&Circle>) -> Privacy {
    let mut privacy = evaluate(message, config, message.security.encryption, circle);
    privacy.suggestions = suggestions(message, config, circle, privacy.score);
    privacy
}

/// The index without suggestions, as if the message had `encryption` and `circle` (so that
/// a change can be scored without copying the message).
fn evaluate(
    message: &Message,
    config: &Config,
    encryption: Encryption,
    circle: Option<&Circle>,
) -> Privacy {
    let mut factors = applied_factors(message, config, encryption);
    if let Some(circle) = circle {
        circle_factors(circle, encryption, &mut factors);
        // In table order, as the record-only factors are.
        factors.sort_by_key(|applied| {
            factors::FACTORS
                .iter()
                .position(|f| f.name == applied.name)
                .unwrap_or(usize::MAX)
        });
    }
    index(factors)
}

/// The factors only the store can show: who the people are, their keys and channels, and
/// what the message answers.
fn circle_factors(circle: &Circle, encryption: Encryption, out: &mut Vec<AppliedFactor>) {
    let mut add = |factor: &Factor, evidence: String| out.push(factor.applied(evidence));
    let people = circle.people.len();
    let share = |count: usize, what: &str, who: Vec<&str>| {
        format!("{count} of {people} {what}: {}", who.join(", "))
    };
    let handles = |keep: &dyn Fn(&Person) -> bool| -> Vec<&str> {
        circle
            .people
            .iter()
            .filter(|p| keep(p))
            .map(|p| identity::handle(&p.identity))
            .collect()
    };
    if people > 0 {
        let with_key = handles(&|p| p.key.is_some());
        match with_key.len() {
            0 => {}
            n if n == people => add(
                &factors::KEYS_FOR_EVERYONE,
                share(n, "have a usable key", with_key),
            ),
            n => add(
                &factors::KEYS_FOR_SOME,
                share(n, "have a usable key", with_key),
            ),
        }
        let known = handles(&|p| p.known);
        match known.len() {
            0 => add(
                &factors::PEOPLE_UNKNOWN,
                share(0, "are known contacts", handles(&|_| true)),
            ),
            n if n == people => add(
                &factors::PEOPLE_KNOWN,
                share(n, "are known contacts", known),
            ),
            n => add(
                &factors::PEOPLE_PARTLY_KNOWN,
                share(n, "are known contacts", known),
            ),
        }
    }
    let encrypted = encryption != Encryption::None;
    if circle.parent_encrypted == Some(true) {
        if encrypted {
            add(
                &factors::ENCRYPTION_KEPT,
                "answers encrypted mail, encrypted".into(),
            );
        } else {
            add(
                &factors::ENCRYPTION_DROPPED,
                "answers encrypted mail, in clear".into(),
            );
        }
    }
    if !circle.from_user {
        return;
    }
    let mutual = handles(&|p| p.mutual);
    if !mutual.is_empty() {
        let evidence = format!("prefer-encrypt=mutual: {}", mutual.join(", "));
        if encrypted {
            add(&factors::MUTUAL_HONOURED, evidence);
        } else {
            add(&factors::MUTUAL_IGNORED, evidence);
        }
    }
    if !encrypted && people > 0 && circle.people.iter().all(|p| p.secure_channel.is_some()) {
        let channels: Vec<String> = circle
            .people
            .iter()
            .map(|p| {
                format!(
                    "{} ({})",
                    identity::handle(&p.identity),
                    p.secure_channel.as_deref().unwrap_or_default()
                )
            })
            .collect();
        add(&factors::SECURE_CHANNEL_SKIPPED, channels.join(", "));
    }
}

/// The index the applied factors give: each axis the sum of its factors' points, clamped to
/// 0..=100, and the score their mean. Suggestions are left to the caller.
pub fn index(factors: Vec<AppliedFactor>) -> Privacy {
    let axis = |axis: Axis| -> u8 {
        let sum: i32 = factors
            .iter()
            .filter(|f| f.axis == axis)
            .map(|f| f.points)
            .sum();
        // Clamped to 0..=100, so the conversion cannot fail.
        u8::try_from(sum.clamp(0, 100)).unwrap_or(0)
    };
    let (technic, context, comportment) = (
        axis(Axis::Technic),
        axis(Axis::Context),
        axis(Axis::Comportment),
    );
    let score = mean(technic, context, comportment);
    Privacy {
        score,
        grade: grade(score),
        label: label(grade(score)),
        technic,
        context,
        comportment,
        factors,
        suggestions: Vec::new(),
        extra: Default::default(),
    }
}

/// The rounded mean of three axes (halves cannot occur with three terms).
pub fn mean(technic: u8, context: u8, comportment: u8) -> u8 {
    let sum = u16::from(technic) + u16::from(context) + u16::from(comportment);
    u8::try_from((sum + 1) / 3).unwrap_or(u8::MAX)
}

/// A (81–100), B (61–80), C (41–60), D (21–40), E (0–20).
pub fn grade(score: u8) -> Grade {
    match score {
        81.. => Grade::A,
        61..=80 => Grade::B,
        41..=60 => Grade::C,
        21..=40 => Grade::D,
        _ => Grade::E,
    }
}

/// Sealed letter (A–B), envelope (C), postcard (D–E).
pub fn label(grade: Grade) -> Label {
    match grade {
        Grade::A | Grade::B => Label::SealedLetter,
        Grade::C => Label::Envelope,
        Grade::D | Grade::E => Label::Postcard,
    }
}

/// Every factor that applies, in table order, with the message's encryption taken to be
/// `encryption`.
fn applied_factors(
    message: &Message,
    config: &Config,
    encryption: Encryption,
) -> Vec<AppliedFactor> {
    let mut out = Vec::new();
    let mut add = |factor: &Factor, evidence: String| out.push(factor.applied(evidence));
    let security = &message.security;

    add(&factors::BASE_TECHNIC, "every message".into());
    match encryption {
        Encryption::None => {}
        Encryption::PgpMime => add(
            &factors::E2E_PGP_MIME,
            "multipart/encrypted (RFC 3156)".into(),
        ),
        Encryption::PgpInline => add(
            &factors::E2E_PGP_INLINE,
            "BEGIN PGP MESSAGE block in a text part".into(),
        ),
        Encryption::Smime => add(
            &factors::E2E_SMIME,
            "application/pkcs7-mime enveloped-data".into(),
        ),
        Encryption::ProtocolE2e => add(
            &factors::E2E_PROTOCOL,
            format!("{}: end-to-end encrypted", message.protocol),
        ),
    }
    if encryption == Encryption::None
        && let Some(part) = security.partially_encrypted
    {
        let what = match part {
            Encryption::PgpMime => "a multipart/encrypted part",
            Encryption::PgpInline => "an armoured encrypted text part",
            Encryption::Smime => "an S/MIME enveloped part",
            Encryption::None | Encryption::ProtocolE2e => "an encrypted part",
        };
        add(
            &factors::PARTIALLY_ENCRYPTED,
            format!("{what} beside parts in clear"),
        );
    }
    let format = match security.signed.or(security.partially_signed) {
        Some(SignatureFormat::PgpMime) => "PGP/MIME signature",
        Some(SignatureFormat::PgpInline) => "inline PGP signature",
        Some(SignatureFormat::Smime) => "S/MIME signature",
        None => "signature",
    };
    if security.signed.is_none() && security.partially_signed.is_some() {
        add(
            &factors::PARTIALLY_SIGNED,
            format!("{format} over one part beside unsigned ones"),
        );
    }
    match security.signature {
        SignatureState::Valid => add(&factors::SIGNATURE_VALID, format!("{format}: valid")),
        SignatureState::ByOther => add(
            &factors::SIGNED_BY_OTHER,
            format!("{format}: valid, but by a key not bound to the From address"),
        ),
        SignatureState::UnknownKey => add(
            &factors::SIGNATURE_UNKNOWN_KEY,
            format!("{format}: key not known"),
        ),
        SignatureState::Invalid => add(
            &factors::SIGNATURE_INVALID,
            format!("{format}: does not verify"),
        ),
        SignatureState::Unverified => add(
            &factors::SIGNATURE_UNVERIFIED,
            format!("{format}: not checked"),
        ),
        SignatureState::None if security.signed.is_some() => add(
            &factors::SIGNATURE_UNVERIFIED,
            format!("{format}: not checked"),
        ),
        SignatureState::None => {}
    }

    let boundary = Boundary::find(&security.transport, config);
    if !security.transport.hops.is_empty() {
        add(&factors::TRUST_BOUNDARY, boundary.describe());
    }
    let transport = boundary.believed(&security.transport);
    if transport.external_hops > 0 {
        let hops = format!(
            "{} of {} external hops used TLS",
            transport.tls_hops.min(transport.external_hops),
            transport.external_hops
        );
        if transport.tls_hops >= transport.external_hops {
            add(&factors::TLS_ALL_HOPS, hops);
        } else if transport.tls_hops > 0 {
            add(&factors::TLS_SOME_HOPS, hops);
        } else {
            add(&factors::TLS_NO_HOPS, hops);
        }
    }
    // The version counts only when every hop used TLS: with a hop in clear, that hop is the
    // weakest link, whatever the others used.
    if transport.external_hops > 0
        && transport.tls_hops >= transport.external_hops
        && let Some(version) = transport.weakest_tls.as_deref()
    {
        let evidence = format!("weakest TLS: {version}");
        match version {
            "TLSv1.3" => add(&factors::TLS_V1_3, evidence),
            "TLSv1.2" => add(&factors::TLS_V1_2, evidence),
            _ => add(&factors::TLS_OLD, evidence),
        }
    }
    if !transport.unproven_tls.is_empty() {
        let claims: Vec<&str> = transport
            .unproven_tls
            .iter()
            .filter_map(|&index| security.transport.hops.get(index))
            .map(|hop| hop.evidence.as_str())
            .collect();
        add(
            &factors::TLS_CLAIM_UNPROVEN,
            format!(
                "below the boundary, not believed: Received {}",
                claims.join(" | Received ")
            ),
        );
    }

    let trusted = |id: &str| {
        config
            .trust
            .authserv_ids
            .iter()
            .any(|t| t.eq_ignore_ascii_case(id))
    };
    let believed = |results: &Authentication| {
        trusted(&results.authserv_id) && boundary.placement(results) != Placement::Below
    };
    // The topmost believed header is the one the user's own server added last.
    if let Some(results) = security.authentication.iter().find(|a| believed(a)) {
        let is = |value: &Option<String>, wanted: &str| {
            value
                .as_deref()
                .is_some_and(|v| v.eq_ignore_ascii_case(wanted))
        };
        let by = &results.authserv_id;
        for (value, method, factor) in [
            (&results.dkim, "dkim", &factors::DKIM_PASS),
            (&results.spf, "spf", &factors::SPF_PASS),
            (&results.dmarc, "dmarc", &factors::DMARC_PASS),
        ] {
            if is(value, "pass") {
                add(factor, format!("{method}=pass by {by}"));
            }
        }
        let failed: Vec<&str> = [
            (&results.dkim, "dkim"),
            (&results.spf, "spf"),
            (&results.dmarc, "dmarc"),
        ]
        .into_iter()
        .filter(|(value, _)| is(value, "fail"))
        .map(|(_, method)| method)
        .collect();
        if !failed.is_empty() {
            add(
                &factors::AUTHENTICATION_FAILED,
                format!("{} failed by {by}", failed.join(", ")),
            );
        }
    }
    let mut untrusted: Vec<&str> = Vec::new();
    let mut below: Vec<&str> = Vec::new();
    for results in &security.authentication {
        let id = results.authserv_id.as_str();
        let list = if !trusted(id) {
            &mut untrusted
        } else if !believed(results) {
            &mut below
        } else {
            continue;
        };
        if !list.contains(&id) {
            list.push(id);
        }
    }
    let ignored: Vec<String> = [
        (untrusted, "ignored, not trusted"),
        (
            below,
            "ignored, below the trust boundary (written by the sender)",
        ),
    ]
    .into_iter()
    .filter(|(ids, _)| !ids.is_empty())
    .map(|(ids, why)| format!("{why}: {}", ids.join(", ")))
    .collect();
    if !ignored.is_empty() {
        add(&factors::AUTHENTICATION_UNTRUSTED, ignored.join("; "));
    }

    let ambiguous: Vec<&str> = security
        .problems
        .iter()
        .filter_map(|p| p.strip_prefix(crate::email::AMBIGUOUS_HEADER))
        .collect();
    if !ambiguous.is_empty() {
        add(&factors::AMBIGUOUS_HEADERS, ambiguous.join("; "));
    }

    if let Some((protocol, readers)) = PLATFORMS.iter().find(|(p, _)| *p == message.protocol)
        && encryption != Encryption::ProtocolE2e
    {
        add(
            &factors::PLATFORM_READABLE,
            format!("{protocol}: readable by {readers}"),
        );
    }

    add(&factors::BASE_CONTEXT, "every message".into());
    let recipients = message.to.len() + message.cc.len() + message.bcc.len();
    if recipients == 1 {
        add(&factors::SINGLE_RECIPIENT, "1 recipient".into());
    } else if recipients > RECIPIENTS_LIMIT {
        add(
            &factors::MANY_RECIPIENTS,
            format!("{recipients} recipients"),
        );
    }
    if let Some(list) = &message.list_id {
        add(&factors::MAILING_LIST, format!("List-Id: {list}"));
    }
    if let Some(spam) = message.security.spam_score
        && spam >= SPAM_THRESHOLD
    {
        add(&factors::SPAM, format!("spam score {spam}"));
    }

    add(&factors::BASE_COMPORTMENT, "every message".into());
    if encryption != Encryption::None {
        add(
            &factors::SECURE_CHANNEL_USED,
            "sent end-to-end encrypted".into(),
        );
    }
    if let Some(autocrypt) = &security.autocrypt {
        let evidence = format!(
            "Autocrypt: addr={}; prefer-encrypt={}",
            autocrypt.addr, autocrypt.prefer_encrypt
        );
        if autocrypt.prefer_encrypt.eq_ignore_ascii_case("mutual") {
            add(&factors::AUTOCRYPT_MUTUAL, evidence);
        } else {
            add(&factors::AUTOCRYPT_NOPREFERENCE, evidence);
        }
    }
    out
}

/// Changes that would raise the score, each found by scoring the changed message. For now:
/// end-to-end encryption of an email sent in clear, which needs a key for every other
/// participant (not suggested for mailing-list mail: a list has no key to encrypt to). With
/// a circle, only the people without a usable key are named, and none when all have one.
fn suggestions(
    message: &Message,
    config: &Config,
    circle: Option<&Circle>,
    score: u8,
) -> Vec<Suggestion> {
    if message.protocol != "email"
        || message.security.encryption != Encryption::None
        || message.list_id.is_some()
    {
        return Vec::new();
    }
    let own = |address: &str| {
        config
            .identity
            .addresses
            .iter()
            .any(|a| a.eq_ignore_ascii_case(address))
    };
    let without_key: BTreeSet<String> = match circle {
        Some(circle) => circle
            .people
            .iter()
            .filter(|p| p.key.is_none() && identity::kind(&p.identity) == "email")
            .map(|p| identity::handle(&p.identity).to_string())
            .collect(),
        None => message
            .people()
            .map(|a| a.address.to_lowercase())
            .filter(|a| !a.is_empty() && !own(a))
            .collect(),
    };
    if without_key.is_empty() {
        return Vec::new();
    }
    // Every key found, and the message sealed with them.
    let keyed = circle.map(|circle| Circle {
        people: circle
            .people
            .iter()
            .map(|p| Person {
                key: p.key.clone().or_else(|| Some("discovered".into())),
                secure_channel: Some("openpgp".into()),
                ..p.clone()
            })
            .collect(),
        ..circle.clone()
    });
    super::ranked(
        score,
        vec![(
            keyed,
            format!(
                "missive keys discover {}",
                without_key.into_iter().collect::<Vec<_>>().join(" ")
            ),
            "sent in clear: with a key for every participant it could be end-to-end \
             encrypted (PGP/MIME)",
        )],
        |keyed| evaluate(message, config, Encryption::PgpMime, keyed.as_ref()),
    )
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
