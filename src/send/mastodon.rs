//! Mastodon direct messages for `send`: one direct status (`visibility=direct`) for each
//! recipient, naming them by their mention (`@user@instance`) before the text, the draft's
//! subject as its content warning, posted by the first configured Mastodon account with a
//! token, through the reading side's client ([`crate::source::mastodon::Poster`]: the same
//! TLS, token command and rate-limit waits).
//!
//! One status a recipient, like an encrypted Bcc copy: each delivery has its own outcome
//! and its own `Idempotency-Key`, derived from the draft and the recipient, so a retry —
//! after a lost answer, a 429, or by `send --flush` — is the same status to the instance.
//! A status longer than the instance's `max_characters` is not truncated nor split: its
//! delivery fails with the reason, and nothing is posted. Its length is counted as
//! Mastodon counts it for mentions (`@user`, the domain not counted) and by characters
//! otherwise, which is never less than the instance's count of grapheme clusters, so a
//! status within the limit here is within it there.

use crate::config::Config;
use crate::source::Spec;
use crate::source::mastodon::{Mastodon, Posted, Poster};

use super::smtp::Outcome;
use super::{Error, Planned};

/// The first configured Mastodon account with a token, as [`super::route`] assumes when it
/// plans the channel; `home` expands `~/` in its settings.
pub fn account(config: &Config, home: Option<&std::path::Path>) -> Result<Mastodon, Error> {
    for (name, account) in &config.accounts {
        if !account.source.get_ref().starts_with("mastodon://") || account.token_command.is_none() {
            continue;
        }
        return match crate::source::account::spec(config, name, home) {
            Ok(Spec::Mastodon(settings)) => Ok(Mastodon::new(*settings)),
            Ok(_) => Err(Error::Transport(format!(
                "accounts.{name}: not a Mastodon account"
            ))),
            Err(reason) => Err(Error::Transport(reason)),
        };
    }
    Err(Error::Transport(
        "no Mastodon account with a token_command in the config".into(),
    ))
}

/// The status for `handle`: the mention, then the text.
pub fn status_text(handle: &str, text: &str) -> String {
    format!("@{} {}", handle.trim_start_matches('@'), text.trim_end())
}

/// The length Mastodon gives a status: a mention counts as its `@user`, the rest by
/// characters, the content warning included.
pub fn length(handle: &str, text: &str, spoiler_text: Option<&str>) -> usize {
    let mention = handle.trim_start_matches('@');
    let user = mention.split_once('@').map_or(mention, |(user, _)| user);
    let status = status_text(handle, text);
    status.chars().count() - (mention.chars().count() - user.chars().count())
        + spoiler_text.map_or(0, |s| s.chars().count())
}

/// The `Idempotency-Key` of the status for recipient `index` of `planned`: the same for
/// the same draft and recipient, whatever the run.
pub fn idempotency_key(planned: &Planned, index: usize) -> String {
    format!(
        "missive-{}",
        super::digest(planned, super::Channel::MastodonDm, &[index])
    )
}

/// Posts the direct status for `handle` and says what the instance answered: accepted
/// (with the status's URI and JSON), refused (a 422 with the instance's reason, or too
/// long), or a temporary failure. An error is a setting to fix (a refused token).
pub fn deliver(
    poster: &Poster,
    handle: &str,
    text: &str,
    spoiler_text: Option<&str>,
    idempotency_key: &str,
) -> Result<(Outcome, Option<Posted>), Error> {
    use crate::fault::Fault;
    let length = length(handle, text, spoiler_text);
    if length > poster.max_characters {
        return Ok((
            Outcome::Refused {
                code: String::new(),
                text: format!(
                    "the status would be {length} characters, mention and content warning included, and {} takes at most {}: shorten the text, or send it by email (--via tls or --via pgp-mime)",
                    poster.domain, poster.max_characters
                ),
            },
            None,
        ));
    }
    match poster.post_direct(&status_text(handle, text), spoiler_text, idempotency_key) {
        Ok(posted @ Posted::Accepted { .. }) => Ok((Outcome::Accepted, Some(posted))),
        Ok(Posted::Refused { status, error }) => Ok((
            Outcome::Refused {
                code: status.to_string(),
                text: error,
            },
            None,
        )),
        Err(error) if error.is_transient() => Ok((
            Outcome::Temporary {
                code: String::new(),
                text: error.to_string(),
            },
            None,
        )),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mention_counts_without_its_domain_and_the_content_warning_counts() {
        assert_eq!(
            status_text("@bob@other.example", "hi\n"),
            "@bob@other.example hi"
        );
        // "@bob hi" is 7.
        assert_eq!(length("@bob@other.example", "hi", None), 7);
        assert_eq!(length("@bob@other.example", "hi", Some("cw")), 9);
        assert_eq!(length("@bob@other.example", "é€", None), 7);
    }
}
