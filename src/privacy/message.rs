//! Scores one message record: which factors of the table in [`super::factors`] apply and
//! what shows it, the three axes, the score, its grade and label, and the suggestions found
//! by scoring the message again with a change applied.
//!
//! The facts come from the record: `security` (spam score included), recipients and
//! `list_id`. Whether an Authentication-Results header is believed is decided
//! here, from the config's `trust.authserv_ids`.

use std::collections::BTreeSet;

use crate::config::Config;
use crate::record::{
    AppliedFactor, Axis, Encryption, Grade, Label, Message, Privacy, SignatureFormat,
    SignatureState, Suggestion,
};

use super::factors::{self, Factor, RECIPIENTS_LIMIT, SPAM_THRESHOLD};

/// Platforms that can read the messages they carry unless the protocol encrypts end to end.
const PLATFORMS: &[&str] = &["mastodon", "twitter", "facebook"];

/// The privacy index of `message`, with suggestions.
pub fn score(message: &Message, config: &Config) -> Privacy {
    let mut privacy = evaluate(message, config, message.security.encryption);
    privacy.suggestions = suggestions(message, config, privacy.score);
    privacy
}

/// The index without suggestions, as if the message had `encryption` (so that a change can
/// be scored without copying the message).
fn evaluate(message: &Message, config: &Config, encryption: Encryption) -> Privacy {
    index(applied_factors(message, config, encryption))
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
    let format = match security.signed {
        Some(SignatureFormat::PgpMime) => "PGP/MIME signature",
        Some(SignatureFormat::PgpInline) => "inline PGP signature",
        Some(SignatureFormat::Smime) => "S/MIME signature",
        None => "signature",
    };
    match security.signature {
        SignatureState::Valid => add(&factors::SIGNATURE_VALID, format!("{format}: valid")),
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

    let transport = &security.transport;
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

    let trusted = |id: &str| {
        config
            .trust
            .authserv_ids
            .iter()
            .any(|t| t.eq_ignore_ascii_case(id))
    };
    // The topmost trusted header is the one the user's own server added last.
    if let Some(results) = security
        .authentication
        .iter()
        .find(|a| trusted(&a.authserv_id))
    {
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
    for results in &security.authentication {
        if !trusted(&results.authserv_id) && !untrusted.contains(&results.authserv_id.as_str()) {
            untrusted.push(&results.authserv_id);
        }
    }
    if !untrusted.is_empty() {
        add(
            &factors::AUTHENTICATION_UNTRUSTED,
            format!("ignored, not trusted: {}", untrusted.join(", ")),
        );
    }

    if PLATFORMS.contains(&message.protocol.as_str()) && encryption != Encryption::ProtocolE2e {
        add(
            &factors::PLATFORM_READABLE,
            format!("{}: readable by the platform", message.protocol),
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
/// participant (not suggested for mailing-list mail: a list has no key to encrypt to).
fn suggestions(message: &Message, config: &Config, score: u8) -> Vec<Suggestion> {
    let mut found = Vec::new();
    if message.protocol == "email"
        && message.security.encryption == Encryption::None
        && message.list_id.is_none()
    {
        let own = |address: &str| {
            config
                .identity
                .addresses
                .iter()
                .any(|a| a.eq_ignore_ascii_case(address))
        };
        let others: BTreeSet<String> = message
            .from
            .iter()
            .chain(&message.to)
            .chain(&message.cc)
            .chain(&message.bcc)
            .map(|a| a.address.to_lowercase())
            .filter(|a| !a.is_empty() && !own(a))
            .collect();
        if !others.is_empty() {
            let encrypted = evaluate(message, config, Encryption::PgpMime);
            let gain = i32::from(encrypted.score) - i32::from(score);
            if gain > 0 {
                found.push(Suggestion {
                    action: format!(
                        "missive keys discover {}",
                        others.into_iter().collect::<Vec<_>>().join(" ")
                    ),
                    gain,
                    why: "sent in clear: with a key for every participant it could be \
                          end-to-end encrypted (PGP/MIME)"
                        .into(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
