//! The one integration test binary: each module covers one command over the real binary.

mod support;

mod archives;
mod bounds;
mod config;
mod contacts;
mod corpus;
mod docs;
mod exits;
mod exports;
mod fetch;
mod forgery;
mod imap;
mod keys;
mod keys_decrypt;
mod keys_discover;
mod layering;
mod mail_hook;
mod mastodon;
mod newcomer;
mod pipelines;
mod renames;
mod sample;
mod schema;
mod score;
mod search;
mod send_cli;
mod send_loop;
mod send_mastodon;
mod send_route;
mod send_wire;
mod sync;
mod thread;
mod unchanged;
