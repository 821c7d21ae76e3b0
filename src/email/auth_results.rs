//! Parses Authentication-Results headers (RFC 8601).

use crate::record::Authentication;

pub(crate) fn all(_message: &mail_parser::Message<'_>) -> Vec<Authentication> {
    Vec::new()
}
