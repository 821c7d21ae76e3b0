//! Evidence a sender cannot forge (issue 15): every trick a sender can play on the privacy
//! index or on key trust, played as an attacker would, beside the honest message, through
//! the real binary. A trick never scores above the honest message, never plants a key, never
//! erases another message, and the record or the factors name what was seen.

mod content;
mod duplicates;
mod headers;
mod keys;
mod transport;
