//! The table of every factor of the privacy index: its axis, name, points and the one-line
//! reason for them. Scoring ([`super::message`]) refers to these entries, never to numbers of
//! its own; `missive score --factors` and the `missive-score(1)` page print this table.

use std::fmt::Write as _;

use crate::record::{AppliedFactor, Axis, FactorKind, FactorRecord, VERSION};

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Factor {
    pub axis: Axis,
    /// Unique across the table, snake_case.
    pub name: &'static str,
    /// Added to the axis when the factor applies; negative takes away.
    pub points: i32,
    /// Why it counts, one line.
    pub rationale: &'static str,
}

impl Factor {
    /// The factor as it applied to a message, with what showed it.
    pub fn applied(&self, evidence: impl Into<String>) -> AppliedFactor {
        AppliedFactor {
            axis: self.axis,
            name: self.name.to_string(),
            points: self.points,
            evidence: evidence.into(),
        }
    }
}

/// More recipients than this and a message is a circular ([`MANY_RECIPIENTS`]).
pub const RECIPIENTS_LIMIT: usize = 10;

/// The spam score from which a message counts as spam ([`SPAM`]).
pub use crate::email::SPAM_THRESHOLD;

/// Each row becomes a `pub const` of that name, and the table lists them all in this order.
macro_rules! factors {
    ($($(#[$doc:meta])* $id:ident: $axis:ident, $name:literal, $points:literal, $why:literal;)*) => {
        $(
            $(#[$doc])*
            pub const $id: Factor = Factor {
                axis: Axis::$axis,
                name: $name,
                points: $points,
                rationale: $why,
            };
        )*
        /// Every factor, in the order scoring applies them and the table prints them.
        pub const FACTORS: &[Factor] = &[$($id),*];
    };
}

factors! {
    BASE_TECHNIC: Technic, "base_technic", 20,
        "where every message starts: delivered, but nothing known protects it";
    E2E_PGP_MIME: Technic, "e2e_pgp_mime", 40,
        "PGP/MIME (RFC 3156) as the whole message, its payload parsed as an encrypted OpenPGP message: only the recipients' keys open body and attachments";
    E2E_PGP_INLINE: Technic, "e2e_pgp_inline", 30,
        "inline PGP, every text part one armoured encrypted OpenPGP message: the text is sealed, but attachments and MIME structure may not be";
    E2E_SMIME: Technic, "e2e_smime", 35,
        "S/MIME as the whole message, parsed as CMS EnvelopedData (RFC 8551): sealed end to end, keys vouched for by a CA";
    PARTIALLY_ENCRYPTED: Technic, "partially_encrypted", 5,
        "an encrypted part beside parts in clear: only that part is sealed, the rest travelled as a postcard";
    E2E_PROTOCOL: Technic, "e2e_protocol", 40,
        "the protocol encrypts end to end: the servers carry only ciphertext";
    SIGNATURE_VALID: Technic, "signature_valid", 15,
        "a valid signature over all the message shows, by the key bound (tofu or verified) to the From address: the sender is who they say and nothing was changed";
    SIGNED_BY_OTHER: Technic, "signed_by_other", 0,
        "a valid signature by a key not bound to the From address (someone else's, or one in conflict): it proves who signed, not who sent";
    PARTIALLY_SIGNED: Technic, "partially_signed", 0,
        "a signed part beside unsigned ones: the signature vouches for that part, not for the message";
    SIGNATURE_UNKNOWN_KEY: Technic, "signature_unknown_key", 5,
        "signed by a key not known yet: intact if the key is the sender's";
    SIGNATURE_UNVERIFIED: Technic, "signature_unverified", 3,
        "signed, not yet checked: only the structure of a signature is known";
    SIGNATURE_INVALID: Technic, "signature_invalid", -20,
        "the signature does not verify: changed on the way or forged";
    TRUST_BOUNDARY: Technic, "trust_boundary", 0,
        "where mail entered your servers (trust.servers, else the topmost Received by host, its registrable domain and the trust.authserv_ids hosts): Received and Authentication-Results above it are your servers' words, those below the sender's";
    TLS_ALL_HOPS: Technic, "tls_all_hops", 20,
        "every external hop used TLS: nobody on the wire could read it";
    TLS_SOME_HOPS: Technic, "tls_some_hops", 5,
        "some external hops used TLS: the others carried it in clear";
    TLS_NO_HOPS: Technic, "tls_no_hops", -10,
        "no external hop used TLS: anyone on the wire could read it";
    TLS_V1_3: Technic, "tls_v1_3", 5,
        "TLS on every hop, the weakest 1.3: current and sound";
    TLS_V1_2: Technic, "tls_v1_2", 2,
        "TLS on every hop, the weakest 1.2: sound when well configured";
    TLS_OLD: Technic, "tls_old", -10,
        "TLS on every hop, but one older than 1.2 (or SSL): broken";
    TLS_CLAIM_UNPROVEN: Technic, "tls_claim_unproven", 0,
        "a Received line below the trust boundary claims TLS: the sender wrote it, so it counts for nothing";
    DKIM_PASS: Technic, "dkim_pass", 5,
        "a trusted server checked DKIM: the sending domain signed it";
    SPF_PASS: Technic, "spf_pass", 3,
        "a trusted server checked SPF: it came from a host the domain allows";
    DMARC_PASS: Technic, "dmarc_pass", 5,
        "a trusted server checked DMARC: the From domain is aligned and authenticated";
    AUTHENTICATION_FAILED: Technic, "authentication_failed", -10,
        "a trusted server saw DKIM, SPF or DMARC fail: the sender may be forged";
    AUTHENTICATION_UNTRUSTED: Technic, "authentication_untrusted", 0,
        "Authentication-Results not believed: from a server not in trust.authserv_ids, or below the trust boundary, where the sender wrote it (RFC 8601 §5)";
    AMBIGUOUS_HEADERS: Technic, "ambiguous_headers", -15,
        "headers the parsers read differently (white space before a colon, a form feed, a second From…): the record takes what Python's email package and the MTAs take, but a mail program may show you the other";
    PLATFORM_READABLE: Technic, "platform_readable", -15,
        "a platform message (Mastodon, Twitter, Facebook, Matrix unencrypted): its servers' operators can read it";
    KEYS_FOR_EVERYONE: Technic, "keys_for_everyone", 10,
        "everyone in it has a usable key: every answer can be sealed";
    KEYS_FOR_SOME: Technic, "keys_for_some", 3,
        "some of the people in it have a usable key";
    BASE_CONTEXT: Context, "base_context", 60,
        "where every message starts on who can see it";
    SINGLE_RECIPIENT: Context, "single_recipient", 10,
        "one recipient: the fewest eyes";
    MANY_RECIPIENTS: Context, "many_recipients", -20,
        "more than 10 recipients: a circular, easily passed on";
    MAILING_LIST: Context, "mailing_list", -25,
        "sent through a mailing list (List-Id): a public or semi-public audience";
    SPAM: Context, "spam", -20,
        "a spam score of 5 or more: mass mail from someone unknown";
    PEOPLE_KNOWN: Context, "people_known", 10,
        "everyone in it is a contact you know: no stranger holds a copy";
    PEOPLE_PARTLY_KNOWN: Context, "people_partly_known", 3,
        "some of the people in it are contacts you know";
    PEOPLE_UNKNOWN: Context, "people_unknown", -10,
        "nobody in it is a contact you know";
    BASE_COMPORTMENT: Comportment, "base_comportment", 40,
        "where every message starts on the habits it shows";
    SECURE_CHANNEL_USED: Comportment, "secure_channel_used", 20,
        "end-to-end encryption was chosen: the most secure channel available";
    AUTOCRYPT_MUTUAL: Comportment, "autocrypt_mutual", 15,
        "the sender announces Autocrypt prefer-encrypt=mutual with a key that can encrypt to their address: replies can be encrypted";
    AUTOCRYPT_NOPREFERENCE: Comportment, "autocrypt_nopreference", 5,
        "the sender announces an Autocrypt key that can encrypt to their address: replies can be encrypted if asked";
    ENCRYPTION_KEPT: Comportment, "encryption_kept", 10,
        "answers encrypted mail encrypted: what was sealed stays sealed";
    ENCRYPTION_DROPPED: Comportment, "encryption_dropped", -30,
        "answers encrypted mail in clear: the quote leaks what was sealed";
    MUTUAL_HONOURED: Comportment, "mutual_honoured", 10,
        "you encrypted to someone who, like you, prefers it (Autocrypt mutual)";
    MUTUAL_IGNORED: Comportment, "mutual_ignored", -15,
        "you wrote in clear to someone who, like you, prefers encryption (Autocrypt mutual)";
    SECURE_CHANNEL_SKIPPED: Comportment, "secure_channel_skipped", -20,
        "you wrote in clear though every recipient had an end-to-end channel (a key, Signal)";
    CONTACT_BASE_TECHNIC: Technic, "contact_base_technic", 30,
        "where every contact starts on what can protect what you write them";
    CONTACT_KEY_VERIFIED: Technic, "contact_key_verified", 50,
        "a usable key you confirmed: mail to them can be sealed, and it is theirs";
    CONTACT_KEY_TOFU: Technic, "contact_key_tofu", 40,
        "a usable key, trusted on first use: sealed mail, unless the first key was false";
    CONTACT_KEY_CONFLICT: Technic, "contact_key_conflict", 0,
        "two keys claim the same address: nothing is used until you decide";
    CONTACT_NO_KEY: Technic, "contact_no_key", -20,
        "no usable key: every mail to them is readable by the servers";
    CONTACT_KEY_WEAK: Technic, "contact_key_weak", -20,
        "their key is RSA under 2048 bits: breakable";
    CONTACT_BASE_CONTEXT: Context, "contact_base_context", 60,
        "where every contact starts on who else can see your exchanges";
    CONTACT_PLATFORM_ONLY: Context, "contact_platform_only", -20,
        "known only on platforms (Mastodon, Twitter, Facebook): the platform reads it all";
    CONTACT_BASE_COMPORTMENT: Comportment, "contact_base_comportment", 40,
        "where every contact starts on the habits your exchanges show";
    CONTACT_MOSTLY_ENCRYPTED: Comportment, "contact_mostly_encrypted", 40,
        "four exchanges in five or more were end-to-end encrypted";
    CONTACT_SOMETIMES_ENCRYPTED: Comportment, "contact_sometimes_encrypted", 15,
        "some exchanges were end-to-end encrypted";
    CONTACT_NEVER_ENCRYPTED: Comportment, "contact_never_encrypted", -10,
        "no exchange was end-to-end encrypted";
    DEVICE_BASE_TECHNIC: Technic, "device_base_technic", 50,
        "where this device starts on what protects the data it keeps";
    DEVICE_OWN_KEY_PROTECTED: Technic, "device_own_key_protected", 30,
        "your own key exists and its secret is protected by a passphrase";
    DEVICE_OWN_KEY_UNPROTECTED: Technic, "device_own_key_unprotected", 5,
        "your own key exists but anyone who copies the store can use it";
    DEVICE_NO_OWN_KEY: Technic, "device_no_own_key", -20,
        "no key of your own: nobody can write to you end to end";
    DEVICE_ACCOUNT_IN_CLEAR: Technic, "device_account_in_clear", -30,
        "an account is read in plain text (IMAP or HTTP, insecure = true): the network sees its secret and messages";
    DEVICE_BASE_CONTEXT: Context, "device_base_context", 50,
        "where this device starts on who can read what it keeps";
    DEVICE_STORE_PRIVATE: Context, "device_store_private", 30,
        "the store (your archive and index) is readable by you alone";
    DEVICE_STORE_EXPOSED: Context, "device_store_exposed", -30,
        "other users of this machine can read the store: your whole archive";
    DEVICE_CONFIG_PRIVATE: Context, "device_config_private", 10,
        "the config file is readable by you alone";
    DEVICE_CONFIG_EXPOSED: Context, "device_config_exposed", -15,
        "other users of this machine can read the config file";
    DEVICE_BASE_COMPORTMENT: Comportment, "device_base_comportment", 60,
        "where this device starts on the habits its setup shows";
    DEVICE_NO_SECRET_IN_CONFIG: Comportment, "device_no_secret_in_config", 20,
        "no password is written in the config: secrets come from commands (a password manager)";
    DEVICE_SECRET_IN_CONFIG: Comportment, "device_secret_in_config", -40,
        "a password is written in clear in the config file";
}

// What the points must keep true, checked when compiling: a better signature or more TLS
// never lowers a score (the property tests in `message_tests.rs` rely on it).
const _: () = {
    assert!(
        SIGNATURE_INVALID.points < 0,
        "an invalid signature costs points"
    );
    assert!(0 < SIGNATURE_UNVERIFIED.points);
    assert!(SIGNATURE_UNVERIFIED.points <= SIGNATURE_UNKNOWN_KEY.points);
    assert!(SIGNATURE_UNKNOWN_KEY.points < SIGNATURE_VALID.points);
    assert!(TLS_NO_HOPS.points < TLS_SOME_HOPS.points);
    // The version counts once every hop uses TLS: turning the last hop to TLS with an old
    // version must still not lower the score.
    assert!(TLS_ALL_HOPS.points - TLS_SOME_HOPS.points + TLS_OLD.points >= 0);
    assert!(TLS_OLD.points < TLS_V1_2.points && TLS_V1_2.points < TLS_V1_3.points);
    assert!(E2E_PGP_INLINE.points > 0 && E2E_SMIME.points > 0 && E2E_PROTOCOL.points > 0);
    assert!(E2E_PGP_MIME.points > 0 && SECURE_CHANNEL_USED.points >= 0);
    // A part sealed beside clear text is worth far less than a sealed message, and what
    // the sender can paste in (someone else's signature, a signed part) earns nothing.
    assert!(0 <= PARTIALLY_ENCRYPTED.points);
    assert!(PARTIALLY_ENCRYPTED.points * 4 <= E2E_PGP_INLINE.points);
    assert!(SIGNED_BY_OTHER.points == 0 && PARTIALLY_SIGNED.points == 0);
    // The record already takes the honest reading of a smuggled header; the smuggling
    // itself must cost, never pay.
    assert!(AMBIGUOUS_HEADERS.points < 0);
    // Protocol encryption removes the platform's penalty; it must not turn into a loss.
    assert!(PLATFORM_READABLE.points <= 0);
    // Encrypting a message swaps each of these for its better twin, or drops a penalty.
    assert!(ENCRYPTION_DROPPED.points < ENCRYPTION_KEPT.points);
    assert!(MUTUAL_IGNORED.points < MUTUAL_HONOURED.points);
    assert!(SECURE_CHANNEL_SKIPPED.points < 0);
};

/// The entry named `name`.
pub fn find(name: &str) -> Option<&'static Factor> {
    FACTORS.iter().find(|f| f.name == name)
}

/// The table as records, one per factor, in table order.
pub fn records() -> impl Iterator<Item = FactorRecord> {
    FACTORS.iter().map(|f| FactorRecord {
        kind: FactorKind,
        v: VERSION,
        axis: f.axis,
        name: f.name.to_string(),
        points: f.points,
        rationale: f.rationale.to_string(),
    })
}

fn axis_name(axis: Axis) -> &'static str {
    match axis {
        Axis::Technic => "technic",
        Axis::Context => "context",
        Axis::Comportment => "comportment",
    }
}

/// The table in aligned columns: axis, name, points, rationale; one line per factor.
pub fn table_text() -> String {
    let name_width = FACTORS.iter().map(|f| f.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for factor in FACTORS {
        let _ = writeln!(
            text,
            "{:<11}  {:<name_width$}  {:>+4}  {}",
            axis_name(factor.axis),
            factor.name,
            factor.points,
            factor.rationale
        );
    }
    text
}

/// The FACTORS section of the `score` man page and `--help`: how the axes are summed, then
/// each factor with its rationale on the line below.
pub fn help_text() -> String {
    let mut text = String::from(
        "FACTORS\n  Each axis is the sum of the points of the factors that apply, clamped to 0–100; \
         the score is the rounded mean of the three axes. Grades: A 81–100, B 61–80, C 41–60, \
         D 21–40, E 0–20; A–B a sealed letter, C an envelope, D–E a postcard. \
         Transport facts are believed only from your own servers: going down from the top, \
         the Received lines whose `by` is one of your servers (trust.servers, else the \
         topmost Received `by` host, the hosts of its registrable domain and the hosts of \
         trust.authserv_ids), down to the first that received from a host outside them, the \
         trust boundary. Only hops at or above it are evidence of TLS, read from the `with` \
         protocol (ESMTPS…) and the server's TLS comment, never from the HELO name, the \
         reverse DNS or the envelope; a hop below may admit clear text and lower the score, \
         never raise it. Authentication-Results count only from servers listed in \
         trust.authserv_ids and only above the boundary's Received line (RFC 8601 §5). \
         Encryption counts only when the bytes prove it: the encrypted part is the whole \
         message (or its only content) and parses as an encrypted OpenPGP message or CMS \
         EnvelopedData, or every text part is one armoured encrypted block; anything mixed is \
         partially_encrypted. A signature counts as valid only when it covers all the message \
         shows and its key is bound (tofu or verified) to the From address. An Autocrypt \
         header counts only when its keydata is a certificate that can encrypt to its addr. Where \
         parsers disagree on a header (`From :`, a form feed, a second From), the record \
         takes the reading of Python's email package and the MTAs, and security.problems \
         names it. The \
         spam score is the record's security.spam_score, from the X-Spam-Score or \
         X-Spam-Status header.\n\n",
    );
    // Two lines per factor, so that neither a terminal nor man(1) wraps the columns.
    let name_width = FACTORS.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for factor in FACTORS {
        let _ = writeln!(
            text,
            "  {:<11}  {:<name_width$}  {:>+4}\n      {}",
            axis_name(factor.axis),
            factor.name,
            factor.points,
            factor.rationale
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut names: Vec<&str> = FACTORS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate factor names");
        for name in names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
        }
    }

    #[test]
    fn every_axis_has_a_base_and_bases_lie_inside_the_range() {
        for base in [BASE_TECHNIC, BASE_CONTEXT, BASE_COMPORTMENT] {
            assert!((0..=100).contains(&base.points), "{}", base.name);
        }
        assert_eq!(BASE_TECHNIC.axis, Axis::Technic);
        assert_eq!(BASE_CONTEXT.axis, Axis::Context);
        assert_eq!(BASE_COMPORTMENT.axis, Axis::Comportment);
    }

    #[test]
    fn rationales_state_the_thresholds_the_code_uses() {
        assert!(
            MANY_RECIPIENTS
                .rationale
                .contains(&RECIPIENTS_LIMIT.to_string())
        );
        assert!(SPAM.rationale.contains(&format!("{SPAM_THRESHOLD}")));
    }

    #[test]
    fn the_text_table_has_one_aligned_line_per_factor() {
        let text = table_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), FACTORS.len());
        let column = lines[0].find("+20").expect("base points shown signed");
        for (line, factor) in lines.iter().zip(FACTORS) {
            assert!(line.contains(factor.name) && line.ends_with(factor.rationale));
            let points = format!("{:+}", factor.points);
            assert!(line[..column + 3].ends_with(&points), "{line}");
        }
        assert!(help_text().contains("e2e_pgp_mime"));
        assert_eq!(find("spam"), Some(&SPAM));
    }
}
