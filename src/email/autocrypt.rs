//! Reads the sender's Autocrypt header (Autocrypt Level 1 §2.1).

use crate::record::{Address, Autocrypt};

pub(crate) fn header(
    _message: &mail_parser::Message<'_>,
    _from: Option<&Address>,
) -> Option<Autocrypt> {
    None
}
