//! Reads the spam score a filter wrote into the header: `X-Spam-Score` (`7.3`) or
//! `X-Spam-Status` (`Yes, score=7.3 required=5.0 …`, SpamAssassin), the topmost one.
//!
//! A sender can write these too; the privacy index only ever takes points away for a high
//! score, so a forged one cannot raise a message's score.

use super::header_text::headers;

/// The score of the topmost spam field that carries a readable number.
pub(crate) fn score(message: &mail_parser::Message<'_>) -> Option<f64> {
    let fields = message
        .parts
        .first()
        .map(|part| part.headers.as_slice())
        .unwrap_or_default();
    let topmost = fields.iter().position(|h| {
        let name = h.name.as_str();
        name.eq_ignore_ascii_case("X-Spam-Score") || name.eq_ignore_ascii_case("X-Spam-Status")
    })?;
    let is_status = fields[topmost]
        .name
        .as_str()
        .eq_ignore_ascii_case("X-Spam-Status");
    let name = if is_status {
        "X-Spam-Status"
    } else {
        "X-Spam-Score"
    };
    let (_, text) = headers(message, name).next()?;
    let value = text
        .split_once(':')
        .map_or(text.as_str(), |(_, v)| v)
        .trim();
    value_score(is_status, value)
}

/// The number in an `X-Spam-Score` value, or after `score=` in an `X-Spam-Status` one.
fn value_score(is_status: bool, value: &str) -> Option<f64> {
    let number = if is_status {
        value
            .split([' ', ',', '\t'])
            .find_map(|part| part.strip_prefix("score="))?
    } else {
        value.split_whitespace().next()?
    };
    number
        .trim_start_matches('+')
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

#[cfg(test)]
mod tests {
    fn score(raw: &[u8]) -> Option<f64> {
        crate::email::read(raw).security.spam_score
    }

    #[test]
    fn the_topmost_spam_field_of_the_header_gives_the_score() {
        assert_eq!(
            score(b"From: a@example.org\nX-Spam-Status: Yes, score=7.3 required=5.0\n\ttests=A,B\nX-Spam-Score: 1.0\n\nX-Spam-Score: 99\n"),
            Some(7.3)
        );
        assert_eq!(
            score(b"From: a@example.org\r\nX-Spam-Status: No,\r\n score=-1.2 required=5.0\r\n\r\n"),
            Some(-1.2)
        );
        assert_eq!(
            score(b"From: a@example.org\nx-spam-score: +12.5 (++++)\n\n"),
            Some(12.5)
        );
    }

    #[test]
    fn a_spam_field_in_the_body_or_without_a_number_gives_none() {
        assert_eq!(score(b"From: a@example.org\n\nX-Spam-Score: 9\n"), None);
        assert_eq!(score(b"From: a@example.org\nX-Spam-Score: lots\n\n"), None);
    }
}
