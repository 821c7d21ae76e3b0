//! `send --sendmail`: one RFC 5322 message, as a mail user agent or script hands it to
//! sendmail (mutt, `git send-email`), read into a [`Draft`] so it is routed like any other
//! and may go encrypted. Its Message-ID becomes the draft's id, so the message keeps it
//! (a patch series stays threaded) and a retry of the same message is the draft already
//! journaled, never sent twice.

use crate::record::{Address, Draft};

use super::Error;

/// The draft of message `raw`: its Subject, text and In-Reply-To, to `recipients` and, when
/// `from_headers` (sendmail's `-t`), to those of its To, Cc and Bcc headers; from its From
/// address when that is one of the user's `own` addresses.
pub fn draft(
    raw: &[u8],
    recipients: &[String],
    from_headers: bool,
    own: &[String],
) -> Result<Draft, Error> {
    let message = crate::email::read(raw);
    if crate::email::is_unreadable(&message) {
        return Err(Error::BadDraft("stdin holds no RFC 5322 message".into()));
    }
    // Only the text is routed: an attachment would be lost, so it is refused instead.
    if !message.attachments.is_empty() {
        return Err(Error::BadDraft(
            "the message has attachments: send it with `missive send --attach FILE`".into(),
        ));
    }
    let from = message
        .from
        .as_ref()
        .map(|a| a.address.clone())
        .filter(|from| own.iter().any(|a| a.eq_ignore_ascii_case(from)));
    let mut draft = Draft {
        v: crate::record::VERSION,
        from,
        subject: message.subject.clone(),
        text: message.text.clone(),
        in_reply_to: message.in_reply_to.last().cloned(),
        ..Draft::default()
    };
    let headers: [(&[Address], &mut Vec<String>); 3] = [
        (&message.to, &mut draft.to),
        (&message.cc, &mut draft.cc),
        (&message.bcc, &mut draft.bcc),
    ];
    // Each recipient in the field its header puts them in; one named only on the command
    // line (as `git send-email` names its Bcc) in none.
    let mut named = Vec::new();
    for (addresses, field) in headers {
        for address in addresses {
            let given = recipients
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&address.address));
            if from_headers || given {
                field.push(address.address.clone());
                named.push(address.address.to_lowercase());
            }
        }
    }
    for recipient in recipients {
        if !named.contains(&recipient.to_lowercase()) {
            named.push(recipient.to_lowercase());
            draft.bcc.push(recipient.clone());
        }
    }
    if !message.problems.iter().any(|p| p == "no Message-ID") {
        draft.id = Some(message.native_id);
    }
    Ok(draft)
}

/// Whether a draft's id is a Message-ID, which the message sent keeps.
pub fn is_message_id(id: &str) -> bool {
    id.starts_with('<') && id.ends_with('>') && id.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"From: Sam <sam@example.com>\r\nTo: Bob <bob@example.net>\r\n\
        Cc: carol@example.org\r\nBcc: dave@example.org\r\nSubject: [PATCH 2/2] fix it\r\n\
        Message-ID: <2.patch@example.com>\r\nIn-Reply-To: <1.patch@example.com>\r\n\r\n\
        the patch\r\n";

    #[test]
    fn with_t_the_headers_name_the_recipients_and_the_arguments_add_to_them() {
        let draft = draft(
            MESSAGE,
            &["bob@example.net".into(), "eve@example.org".into()],
            true,
            &["sam@example.com".into()],
        )
        .unwrap();
        assert_eq!(draft.from.as_deref(), Some("sam@example.com"));
        assert_eq!(draft.to, ["bob@example.net"]);
        assert_eq!(draft.cc, ["carol@example.org"]);
        assert_eq!(draft.bcc, ["dave@example.org", "eve@example.org"]);
        assert_eq!(draft.subject.as_deref(), Some("[PATCH 2/2] fix it"));
        assert_eq!(draft.text.trim_end(), "the patch");
        assert_eq!(draft.in_reply_to.as_deref(), Some("<1.patch@example.com>"));
        assert_eq!(draft.id.as_deref(), Some("<2.patch@example.com>"));
        assert!(is_message_id(draft.id.as_deref().unwrap()));
    }

    #[test]
    fn without_t_only_the_arguments_are_recipients_in_their_header_field() {
        let draft = draft(
            MESSAGE,
            &["bob@example.net".into(), "eve@example.org".into()],
            false,
            &["sam@other.example".into()],
        )
        .unwrap();
        assert_eq!(
            draft.from, None,
            "a From that is not the user's is not taken"
        );
        assert_eq!(draft.to, ["bob@example.net"]);
        assert!(draft.cc.is_empty());
        assert_eq!(draft.bcc, ["eve@example.org"]);
    }
}
