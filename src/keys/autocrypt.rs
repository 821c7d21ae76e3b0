//! Autocrypt Level 1 peer state (§2.3) and the recommendation for a recipient (§2.4).
//! Parsing the header is [`crate::email`]'s job; here are the update rules and the
//! recommendation, as pure functions over [`Peer`], and [`learn`], which applies them to a
//! message and binds the announced key by the TOFU rules (source `autocrypt`).
//!
//! Messages may arrive in any order: the rules compare dates, so a message older than the
//! last header seen changes nothing. The effective date of a message is its Date capped at
//! the time it was received, so a sender cannot win by dating mail in the future.

use std::time::SystemTime;

use crate::record::{Message, SignatureState};
use crate::store::Store;
use crate::store::db::Peer;

/// What [`recommend`] returns; a record type, since `keys recommend` prints it.
pub use crate::record::Recommendation;

use super::decrypt::Decrypted;
use super::{Error, crypto, tofu};

/// Days after which a header not seen again makes encryption discouraged (§2.4).
const STALE_DAYS: i64 = 35;

/// The state after a message from `address` dated `effective`, carrying `header`
/// (prefer-encrypt and key fingerprint) or none (§2.3).
pub fn update(
    peer: Option<Peer>,
    address: &str,
    effective: i64,
    header: Option<(&str, &str)>,
) -> Peer {
    let mut peer = peer.unwrap_or_else(|| Peer {
        address: address.to_string(),
        last_seen: effective,
        ..Peer::default()
    });
    if peer.autocrypt_timestamp.is_some_and(|t| effective < t) {
        return peer;
    }
    if effective > peer.last_seen {
        peer.last_seen = effective;
    }
    if let Some((prefer_encrypt, fingerprint)) = header {
        peer.autocrypt_timestamp = Some(effective);
        peer.public_key = Some(fingerprint.to_string());
        peer.prefer_encrypt = Some(
            if prefer_encrypt == "mutual" {
                "mutual"
            } else {
                "nopreference"
            }
            .into(),
        );
    }
    peer
}

/// The state after a gossiped key for `address` in a message dated `effective` (§2.3,
/// Autocrypt-Gossip): kept only if newer than the last gossip.
pub fn update_gossip(peer: Option<Peer>, address: &str, effective: i64, fingerprint: &str) -> Peer {
    let mut peer = peer.unwrap_or_else(|| Peer {
        address: address.to_string(),
        last_seen: 0,
        ..Peer::default()
    });
    if peer.gossip_timestamp.is_none_or(|t| effective > t) {
        peer.gossip_timestamp = Some(effective);
        peer.gossip_key = Some(fingerprint.to_string());
    }
    peer
}

/// The recommendation for writing to a peer (§2.4): `own_mutual` is the user's own
/// prefer-encrypt, `reply_to_encrypted` whether the message replies to encrypted mail.
pub fn recommend(
    peer: Option<&Peer>,
    own_mutual: bool,
    reply_to_encrypted: bool,
) -> Recommendation {
    let Some(peer) = peer else {
        return Recommendation::Disable;
    };
    let preliminary = match (&peer.public_key, &peer.gossip_key, peer.autocrypt_timestamp) {
        (None, None, _) => return Recommendation::Disable,
        (Some(_), _, Some(timestamp)) if timestamp < peer.last_seen - STALE_DAYS * 86_400 => {
            Recommendation::Discourage
        }
        (Some(_), _, _) => Recommendation::Available,
        (None, Some(_), _) => Recommendation::Discourage,
    };
    let mutual = own_mutual && peer.prefer_encrypt.as_deref() == Some("mutual");
    if reply_to_encrypted || (preliminary == Recommendation::Available && mutual) {
        Recommendation::Encrypt
    } else {
        preliminary
    }
}

/// Updates the sender's peer state from a message and its raw bytes (the key data is not in
/// the record), importing and binding the announced key when one of its self-signed user
/// ids carries the From address. Spam and multipart/report are ignored, as §2.3 says.
/// Returns the new state, or None when the message was ignored.
pub fn learn(
    store: &mut Store,
    message: &Message,
    raw: &[u8],
    now: SystemTime,
) -> Result<Option<Peer>, Error> {
    let Some(address) = message
        .from
        .as_ref()
        .and_then(|a| tofu::binding_address(&a.address))
    else {
        return Ok(None);
    };
    let Some(input) = crate::email::autocrypt_input(raw) else {
        return Ok(None);
    };
    let spam = message
        .security
        .spam_score
        .is_some_and(|s| s >= crate::email::SPAM_THRESHOLD);
    if input.report || spam {
        return Ok(None);
    }
    let effective = effective_date(message, now);
    let mut header = None;
    if let Some((autocrypt, keydata)) = &input.header {
        let cert = crypto::parse_certs(keydata)?.remove(0);
        // A key that does not carry the address in a self-signed user id is no
        // announcement of it: the header counts as absent.
        if tofu::carries(&cert, &address, now) {
            let fingerprint = cert.fingerprint().to_hex();
            super::store_cert(store, cert, "autocrypt", Some(&address), now)?;
            header = Some((autocrypt.prefer_encrypt.clone(), fingerprint));
        }
    }
    let peer = update(
        store.db.peer(&address)?,
        &address,
        effective,
        header.as_ref().map(|(p, f)| (p.as_str(), f.as_str())),
    );
    let batch = store.db.batch()?;
    batch.put_peer(&peer)?;
    batch.commit()?;
    Ok(Some(peer))
}

/// Updates the gossip state of the message's other recipients from the Autocrypt-Gossip
/// headers of its decrypted payload (§2.3). Anyone can encrypt to the user, so gossip is
/// read only when the payload carries a valid signature of the sender's bound key (the
/// `valid` of [`super::verify`](mod@super::verify)); only addresses the signed payload
/// names in its own To or Cc count, the sender's own is not gossip, and a key counts only
/// when one of its self-signed user ids carries the address. A gossiped key is bound as
/// `gossip` ([`tofu::GOSSIP`]): Autocrypt's `discourage`, never an address's first-use key,
/// and not at all when the peer announced another key directly. Spam is ignored, as for
/// the sender's header. Returns how many peers were updated.
pub fn learn_gossip(
    store: &mut Store,
    message: &Message,
    decrypted: &Decrypted,
    now: SystemTime,
) -> Result<usize, Error> {
    let spam = message
        .security
        .spam_score
        .is_some_and(|s| s >= crate::email::SPAM_THRESHOLD);
    if spam || decrypted.signature != SignatureState::Valid {
        return Ok(0);
    }
    let sender = message
        .from
        .as_ref()
        .and_then(|a| tofu::binding_address(&a.address));
    let recipients: std::collections::BTreeSet<String> = decrypted
        .recipients
        .iter()
        .filter_map(|a| tofu::binding_address(a))
        .filter(|a| Some(a) != sender.as_ref())
        .collect();
    let effective = effective_date(message, now);
    let mut updated = 0;
    for (address, keydata) in &decrypted.gossip {
        let Some(address) = tofu::binding_address(address).filter(|a| recipients.contains(a))
        else {
            continue;
        };
        let Some(cert) = crypto::parse_certs(keydata)
            .ok()
            .and_then(|c| c.into_iter().next())
            .filter(|cert| tofu::carries(cert, &address, now))
        else {
            continue;
        };
        let fingerprint = cert.fingerprint().to_hex();
        let peer = store.db.peer(&address)?;
        let direct = peer.as_ref().and_then(|p| p.public_key.clone());
        if direct.is_none_or(|key| key == fingerprint) {
            super::store_cert(store, cert, tofu::GOSSIP, Some(&address), now)?;
        }
        let peer = update_gossip(peer, &address, effective, &fingerprint);
        let batch = store.db.batch()?;
        batch.put_peer(&peer)?;
        batch.commit()?;
        updated += 1;
    }
    Ok(updated)
}

/// A message's Date capped at the time it was received (now), so that a sender cannot win
/// by dating mail in the future.
fn effective_date(message: &Message, now: SystemTime) -> i64 {
    let received = super::seconds(now);
    message
        .date
        .as_deref()
        .and_then(crate::record::timestamp)
        .map_or(received, |date| date.min(received))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn with_header(at: i64, prefer: &str, key: &str) -> Peer {
        update(None, "a@x.org", at, Some((prefer, key)))
    }

    #[test]
    fn a_first_message_with_a_header_creates_the_peer() {
        let peer = with_header(100, "mutual", "K1");
        assert_eq!(peer.last_seen, 100);
        assert_eq!(peer.autocrypt_timestamp, Some(100));
        assert_eq!(peer.public_key.as_deref(), Some("K1"));
        assert_eq!(peer.prefer_encrypt.as_deref(), Some("mutual"));
    }

    #[test]
    fn a_first_message_without_a_header_only_records_when_it_was_seen() {
        let peer = update(None, "a@x.org", 100, None);
        assert_eq!(
            (peer.last_seen, peer.autocrypt_timestamp, peer.public_key),
            (100, None, None)
        );
    }

    #[test]
    fn a_newer_message_without_a_header_moves_last_seen_only() {
        let peer = update(Some(with_header(100, "mutual", "K1")), "a@x.org", 200, None);
        assert_eq!(peer.last_seen, 200);
        assert_eq!(peer.autocrypt_timestamp, Some(100));
        assert_eq!(peer.public_key.as_deref(), Some("K1"));
    }

    #[test]
    fn a_newer_header_replaces_key_and_preference() {
        let peer = update(
            Some(with_header(100, "mutual", "K1")),
            "a@x.org",
            200,
            Some(("nopreference", "K2")),
        );
        assert_eq!(peer.public_key.as_deref(), Some("K2"));
        assert_eq!(peer.prefer_encrypt.as_deref(), Some("nopreference"));
        assert_eq!(peer.autocrypt_timestamp, Some(200));
    }

    #[test]
    fn a_message_older_than_the_last_header_changes_nothing() {
        let before = with_header(200, "mutual", "K2");
        let after = update(
            Some(before.clone()),
            "a@x.org",
            100,
            Some(("nopreference", "K1")),
        );
        assert_eq!(after, before);
    }

    #[test]
    fn an_unknown_preference_counts_as_nopreference() {
        assert_eq!(
            with_header(1, "sometimes", "K").prefer_encrypt.as_deref(),
            Some("nopreference")
        );
    }

    #[test]
    fn gossip_is_kept_only_when_newer() {
        let peer = update_gossip(None, "a@x.org", 100, "G1");
        let older = update_gossip(Some(peer.clone()), "a@x.org", 50, "G0");
        assert_eq!(older.gossip_key.as_deref(), Some("G1"));
        let newer = update_gossip(Some(peer), "a@x.org", 150, "G2");
        assert_eq!(
            (newer.gossip_key.as_deref(), newer.gossip_timestamp),
            (Some("G2"), Some(150))
        );
    }

    #[test]
    fn the_four_recommendations() {
        assert_eq!(recommend(None, true, false), Recommendation::Disable);
        assert_eq!(
            recommend(Some(&update(None, "a@x.org", 1, None)), true, false),
            Recommendation::Disable
        );
        let fresh = with_header(100 * DAY, "nopreference", "K");
        assert_eq!(
            recommend(Some(&fresh), true, false),
            Recommendation::Available
        );
        let mutual = with_header(100 * DAY, "mutual", "K");
        assert_eq!(
            recommend(Some(&mutual), true, false),
            Recommendation::Encrypt
        );
        assert_eq!(
            recommend(Some(&mutual), false, false),
            Recommendation::Available,
            "both sides must prefer it"
        );
        let stale = update(Some(mutual.clone()), "a@x.org", 136 * DAY, None);
        assert_eq!(
            recommend(Some(&stale), true, false),
            Recommendation::Discourage
        );
        let gossip_only = update_gossip(None, "a@x.org", 100, "G");
        assert_eq!(
            recommend(Some(&gossip_only), true, false),
            Recommendation::Discourage
        );
        assert_eq!(
            recommend(Some(&stale), true, true),
            Recommendation::Encrypt,
            "replies to encrypted mail stay encrypted"
        );
        assert_eq!(
            recommend(None, true, true),
            Recommendation::Disable,
            "no key, nothing to encrypt to"
        );
    }
}
