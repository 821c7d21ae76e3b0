//! missive gathers a person's correspondence from every service into one archive, groups it
//! into conversations by the people in them, and shows how exposed each exchange is.
//!
//! The library does all the work; `src/bin/missive.rs` only parses arguments, calls one
//! function per subcommand and turns the outcome into an exit code. Modules depend one way:
//! [`record`], [`jsonl`] and [`secret`] at the bottom, then [`email`], [`source`] and [`store`], then the
//! commands in [`fetch`], [`privacy`] (`score`), [`thread`], [`contacts`] and [`config`].

pub mod cli;
pub mod config;
pub mod contacts;
pub mod email;
pub mod fetch;
pub mod jsonl;
pub mod keys;
pub mod privacy;
pub mod record;
pub mod search;
pub mod secret;
pub mod source;
pub mod store;
pub mod sync;
pub mod thread;
pub mod tls;
