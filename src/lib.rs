//! missive gathers a person's correspondence from every service into one archive, groups it
//! into conversations by the people in them, and shows how exposed each exchange is.
//!
//! The library does all the work; the binary (`src/bin/missive/`, one file per subcommand)
//! only parses arguments, calls the library and turns the outcome into an exit code. The
//! modules stand on floors, and each imports only from the floors below it (DESIGN.md §7
//! holds the table, and `tests/layering.rs` checks the code against it):
//!
//! - floor 7: [`sync`] (the whole pipeline in one process) and [`cli`] (the flags)
//! - floor 6: [`search`] (the query grammar, running it, printing hits) and [`send`] (routing
//!   each draft to its most private channel, the outbox, SMTP and Mastodon delivery)
//! - floor 5: [`privacy`] (the index and its factor table) and [`thread`] (threads, conversations)
//! - floor 4: [`fetch`] (accounts into sources into the store) and [`contacts`]
//! - floor 3: [`source`] (where messages come from) and [`keys`] (certificates, TOFU, discovery)
//! - floor 2: [`store`]: the archive, `state.sqlite`, the tantivy index and the query tree it runs
//! - floor 1: [`jsonl`] (record streams), [`email`] (RFC 5322 → record), [`config`] (the file, as data)
//! - floor 0: [`record`] (every record kind), [`secret`], [`tls`] and [`fault`] (what an error
//!   means for the exit status)

pub mod cli;
pub mod config;
pub mod contacts;
pub mod email;
pub mod fault;
pub mod fetch;
pub mod jsonl;
pub mod keys;
pub mod privacy;
pub mod record;
pub mod search;
pub mod secret;
pub mod send;
pub mod source;
pub mod store;
pub mod sync;
pub mod thread;
pub mod tls;
