//! Identities: one person's handle on one protocol, spelt one way (`KIND:HANDLE`), so the
//! same address written two ways is one identity. Which contact an identity belongs to is
//! [`super::Directory`]'s job; the record reference is in [`crate::record`].

use sha2::Digest;

/// Kinds whose handles are compared without case: every part of them is case-insensitive
/// on the services that issue them.
const CASELESS: &[&str] = &["mastodon", "twitter", "xmpp", "matrix"];

/// The identity of `address` as a message of `protocol` names it, or `None` for an empty one.
pub fn of_address(protocol: &str, address: &str) -> Option<String> {
    let address = address.trim();
    if address.is_empty() {
        return None;
    }
    // A Signal account is a phone number: the same person as that number anywhere else.
    if protocol == "signal" && address.starts_with('+') {
        return Some(kind_handle("tel", address));
    }
    Some(kind_handle(protocol, address))
}

/// `KIND:HANDLE` with the handle spelt the one way of its kind: an email address as records
/// carry it (its local part as written, its domain in Unicode), Mastodon, Twitter, XMPP and
/// Matrix handles lowercased, a phone number in its digits (E.164 when it names its country).
/// The kind is part of the identity because one handle means different people on different
/// protocols; [`handle`] and [`kind`] take it apart again.
pub fn kind_handle(kind: &str, handle: &str) -> String {
    let kind = kind.trim().to_ascii_lowercase();
    let handle = handle.trim();
    let handle = match kind.as_str() {
        "email" => {
            let address = handle.trim_start_matches("mailto:");
            match address.rsplit_once('@') {
                // The common case needs no IDNA: ASCII without an `xn--` label. Spelt
                // straight into the identity: threading makes one per address it reads.
                Some((local, domain)) if domain.is_ascii() && !domain.contains("xn--") => {
                    let mut identity =
                        String::with_capacity(kind.len() + 1 + local.len() + 1 + domain.len());
                    identity.push_str(&kind);
                    identity.push(':');
                    identity.push_str(local);
                    identity.push('@');
                    identity.extend(domain.chars().map(|c| c.to_ascii_lowercase()));
                    return identity;
                }
                _ => crate::email::address_with_unicode_domain(address),
            }
        }
        "mastodon" => mastodon_handle(handle),
        "twitter" => {
            let bare = handle.trim_start_matches('@').to_lowercase();
            if bare.chars().all(|c| c.is_ascii_digit()) {
                bare
            } else {
                format!("@{bare}")
            }
        }
        "tel" => phone(handle),
        "xmpp" => handle
            .trim_start_matches("xmpp:")
            .split(['?', '/'])
            .next()
            .unwrap_or_default()
            .to_lowercase(),
        "matrix" => matrix(handle),
        k if CASELESS.contains(&k) => handle.to_lowercase(),
        _ => handle.to_string(),
    };
    format!("{kind}:{handle}")
}

/// Reads an identity as a person types it: `KIND:HANDLE`, an email address,
/// `@user@instance` (Mastodon), `+33…` (a phone number) or `@user:server` (Matrix).
pub fn parse(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some((kind, handle)) = text.split_once(':')
        && !kind.is_empty()
        && kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !kind.starts_with('@')
        && !handle.is_empty()
    {
        let kind = kind.to_ascii_lowercase();
        let kind = match kind.as_str() {
            "mailto" => "email".to_string(),
            "phone" => "tel".to_string(),
            _ => kind,
        };
        return Some(kind_handle(&kind, handle));
    }
    let at = text.matches('@').count();
    let kind = if text.starts_with('@') && text.contains(':') {
        "matrix"
    } else if text.starts_with('@') && at == 2 {
        "mastodon"
    } else if at == 1 && !text.starts_with('@') {
        "email"
    } else if text.starts_with('+') || text.chars().all(|c| c.is_ascii_digit()) {
        "tel"
    } else {
        return None;
    };
    Some(kind_handle(kind, text))
}

/// The kind part of an identity.
pub fn kind(identity: &str) -> &str {
    identity.split_once(':').map_or("", |(kind, _)| kind)
}

/// The handle part of an identity.
pub fn handle(identity: &str) -> &str {
    identity
        .split_once(':')
        .map_or(identity, |(_, handle)| handle)
}

/// The id of the contact an identity is when nobody linked it: `p_` and 16 hex digits.
pub fn implicit_contact(identity: &str) -> String {
    let digest = sha2::Sha256::digest(identity.as_bytes());
    format!("p_{}", hex::encode(&digest[..8]))
}

/// `@user@instance`, lowercased, from a handle or a profile URL (`https://instance/@user`).
fn mastodon_handle(handle: &str) -> String {
    if let Some(found) = mastodon_from_url(handle) {
        return found;
    }
    let bare = handle.trim_start_matches('@').to_lowercase();
    format!("@{bare}")
}

/// `@user@instance` from a Mastodon profile URL `https://instance/@user`, if it is one.
pub fn mastodon_from_url(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/')?;
    let user = path.strip_prefix('@')?.trim_end_matches('/');
    let user = user.split_once('@').map_or(user, |(user, _)| user);
    if host.is_empty() || user.is_empty() || user.contains('/') {
        return None;
    }
    Some(format!("@{}@{}", user.to_lowercase(), host.to_lowercase()))
}

/// E.164 (`+` and digits) when the number says its country (`+` or `00`), else its digits
/// as written (a national number cannot be placed without knowing the country).
fn phone(number: &str) -> String {
    let number = number.trim_start_matches("tel:");
    let number = number.split(';').next().unwrap_or_default();
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let plus = number.trim_start().starts_with('+');
    if plus && (4..=15).contains(&digits.len()) {
        format!("+{digits}")
    } else if let Some(international) = digits.strip_prefix("00")
        && (4..=15).contains(&international.len())
    {
        format!("+{international}")
    } else if digits.is_empty() {
        number.trim().to_string()
    } else {
        digits
    }
}

/// `@user:server` from a Matrix id or a `matrix:u/user:server` URI.
fn matrix(handle: &str) -> String {
    let handle = handle.trim_start_matches("matrix:");
    let handle = handle
        .strip_prefix("u/")
        .map_or_else(|| handle.to_string(), |user| format!("@{user}"));
    let handle = handle.split('?').next().unwrap_or_default().to_lowercase();
    if handle.starts_with('@') {
        handle
    } else {
        format!("@{handle}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_has_one_spelling() {
        assert_eq!(
            kind_handle("email", "Alice@EXAMPLE.org"),
            "email:Alice@example.org"
        );
        assert_eq!(
            kind_handle("mastodon", "@Alice@Social.Example"),
            "mastodon:@alice@social.example"
        );
        assert_eq!(
            kind_handle("mastodon", "https://social.example/@Alice"),
            "mastodon:@alice@social.example"
        );
        assert_eq!(kind_handle("twitter", "Alice_W"), "twitter:@alice_w");
        assert_eq!(kind_handle("twitter", "12345"), "twitter:12345");
        assert_eq!(kind_handle("tel", "+33 6 12-34-56-78"), "tel:+33612345678");
        assert_eq!(kind_handle("tel", "0033 612345678"), "tel:+33612345678");
        assert_eq!(kind_handle("tel", "(555) 0100"), "tel:5550100");
        assert_eq!(
            kind_handle("xmpp", "xmpp:Alice@Jabber.example?message"),
            "xmpp:alice@jabber.example"
        );
        assert_eq!(
            kind_handle("matrix", "matrix:u/alice:matrix.example"),
            "matrix:@alice:matrix.example"
        );
    }

    #[test]
    fn typed_identities_are_recognised_by_shape() {
        assert_eq!(
            parse("alice@example.org").as_deref(),
            Some("email:alice@example.org")
        );
        assert_eq!(
            parse("@alice@social.example").as_deref(),
            Some("mastodon:@alice@social.example")
        );
        assert_eq!(parse("twitter:@Alice").as_deref(), Some("twitter:@alice"));
        assert_eq!(
            parse("@alice:matrix.example").as_deref(),
            Some("matrix:@alice:matrix.example")
        );
        assert_eq!(parse("+1 555 0100").as_deref(), Some("tel:+15550100"));
        assert_eq!(parse("nobody"), None);
    }

    #[test]
    fn a_signal_number_is_a_phone_number() {
        assert_eq!(
            of_address("signal", "+33 6 12 34 56 78").as_deref(),
            Some("tel:+33612345678")
        );
        assert_eq!(
            of_address("signal", "0b1c-uuid").as_deref(),
            Some("signal:0b1c-uuid")
        );
    }

    #[test]
    fn an_implicit_contact_id_depends_only_on_the_identity() {
        let a = implicit_contact("email:alice@example.org");
        assert_eq!(a, implicit_contact("email:alice@example.org"));
        assert_ne!(a, implicit_contact("email:bob@example.org"));
        assert_eq!(a.len(), 18);
    }
}
