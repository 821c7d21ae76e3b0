//! `missive sync`: the configured accounts through fetch, score and index, with a summary.

use std::io::IsTerminal;

use anyhow::anyhow;
use indicatif::HumanCount;

use missive::cli::{ErrorFormat, Global, SyncArgs};
use missive::fault::Fault;
use missive::jsonl::ErrorSink;

use crate::{Failure, OK, SOME_FAILED, home, load_config, open_store, usage};

pub(crate) fn run(global: &Global, args: SyncArgs) -> Result<u8, Failure> {
    let started = std::time::Instant::now();
    let config = load_config(global)?;
    if config.accounts.is_empty() {
        let path = crate::config_path(global)?;
        let found = if path.exists() {
            "has no [accounts.NAME]"
        } else {
            "does not exist"
        };
        return Err(usage(anyhow!(
            "no accounts to sync: the config {} {found}; add [accounts.NAME] with a source (missive config show), or name another config with --config or MISSIVE_CONFIG",
            path.display()
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
            .map(|(account, count)| format!("{account} {}", HumanCount(*count)))
            .collect();
        // A copy of a message already seen is printed as a record, but it is not news.
        let new = summary.printed - summary.duplicates;
        let mut changed = match summary.duplicates {
            0 => String::new(),
            1 => ", 1 duplicate of a Message-ID already seen".into(),
            n => format!(
                ", {} duplicates of a Message-ID already seen",
                HumanCount(n)
            ),
        };
        if summary.updated > 0 {
            changed += &format!(", {} renamed", HumanCount(summary.updated));
        }
        if summary.gone > 0 {
            changed += &format!(", {} gone from the source", HumanCount(summary.gone));
        }
        if summary.folders_skipped > 0 {
            changed += &format!(
                ", {} of {} Maildir folders unchanged",
                HumanCount(summary.folders_skipped),
                HumanCount(summary.folders_skipped + summary.folders_read)
            );
        }
        say!(
            "missive sync: {} new message{}{changed}{} in {:.1} s",
            HumanCount(new),
            if new == 1 { "" } else { "s" },
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
