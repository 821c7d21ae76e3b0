//! `missive sync`: the configured accounts through fetch, score and index, with a summary.

use std::io::IsTerminal;

use anyhow::anyhow;

use missive::cli::{ErrorFormat, Global, SyncArgs};
use missive::fault::Fault;
use missive::jsonl::ErrorSink;

use crate::{Failure, OK, SOME_FAILED, home, load_config, open_store, usage};

pub(crate) fn run(global: &Global, args: SyncArgs) -> Result<u8, Failure> {
    let started = std::time::Instant::now();
    let config = load_config(global)?;
    if config.accounts.is_empty() {
        return Err(usage(anyhow!(
            "no accounts to sync: add [accounts.NAME] with a source to the config (missive config show)"
        )));
    }
    let targets = missive::fetch::Target::for_accounts(&config, &args.accounts, home().as_deref())
        .map_err(|e| usage(anyhow!(e)))?;
    let mut store = open_store(global)?;
    let mut errors = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
    if args.quiet {
        errors = errors.without_warnings();
    }
    let options = missive::sync::Options {
        wait: args.wait,
        progress: !args.quiet && !global.no_progress && std::io::stderr().is_terminal(),
    };
    let own_keys = if config.keys.decrypt {
        Some(crate::own_keys(&store, &config)?)
    } else {
        None
    };
    let summary = missive::sync::sync(
        &mut store,
        &config,
        &targets,
        options,
        own_keys,
        &mut errors,
    )
    .map_err(|error| match error {
        missive::sync::Error::Fetch(error) => Failure {
            status: crate::fetch::status(&error),
            error: error.into(),
        },
        error => crate::failed(error.is_transient(), error),
    })?;
    if !args.quiet {
        let accounts: Vec<String> = summary
            .per_account
            .iter()
            .map(|(account, count)| format!("{account} {count}"))
            .collect();
        say!(
            "missive sync: {} new message{}{} in {:.1} s",
            summary.printed,
            if summary.printed == 1 { "" } else { "s" },
            if accounts.is_empty() {
                String::new()
            } else {
                format!(" ({})", accounts.join(", "))
            },
            started.elapsed().as_secs_f64()
        )?;
    }
    Ok(if summary.failed > 0 { SOME_FAILED } else { OK })
}
