//! Writing: a draft turned into the message each channel delivers, and its delivery.
//! [`mime`] builds the RFC 5322 bytes, [`pgp`] seals them as PGP/MIME, and [`smtp`] hands
//! them to a submission server or a sendmail command.

pub mod mime;
pub mod pgp;
pub mod smtp;
