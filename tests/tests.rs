//! The one integration test binary: each module covers one command over the real binary.

mod support;

mod config;
mod contacts;
mod corpus;
mod docs;
mod fetch;
mod imap;
mod keys;
mod mastodon;
mod score;
mod search;
mod sync;
mod thread;
