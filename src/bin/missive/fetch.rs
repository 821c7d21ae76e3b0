//! `missive fetch`: sources and accounts from the command line and config, to `missive::fetch`.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::anyhow;

use missive::cli::{ErrorFormat, FetchArgs, Global};
use missive::config::Config;
use missive::fault::Fault;
use missive::fetch::{self, Target};
use missive::jsonl::{ErrorSink, Writer};
use missive::source::Spec;

use crate::{
    Failure, OK, SOME_FAILED, TEMPORARY, USAGE, cwd, home, load_config, open_store, output_format,
    usage,
};

pub(crate) fn run(global: &Global, args: FetchArgs) -> Result<u8, Failure> {
    let config = load_config(global)?;
    let cwd = cwd()?;
    let mut store = open_store(global)?;
    let synced = store
        .db
        .source_accounts()
        .map_err(|e| crate::failed(e.is_transient(), e))?;
    let targets = resolve_targets(&config, &args.sources, &cwd, &synced)?;
    let mut out = Writer::new(
        std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        output_format(global),
    );
    let mut errors = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
    let options = fetch::Options {
        all: args.all,
        progress: !global.no_progress && std::io::stderr().is_terminal(),
        limits: config.limits,
        ..fetch::Options::default()
    };
    let summary = fetch::fetch(&mut store, &targets, options, &mut out, None, &mut errors)
        .map_err(|error| Failure {
            status: status(&error),
            error: error.into(),
        })?;
    out.finish().map_err(|e| crate::failed(false, e))?;
    Ok(if summary.failed > 0 { SOME_FAILED } else { OK })
}

/// The exit status of a fetch that could not go on, `sync`'s too: 75 when a later run may
/// succeed, 2 when a source or setting must be changed first (a missing file, a refused
/// certificate, a wrong password), 1 otherwise.
pub(crate) fn status(error: &fetch::Error) -> u8 {
    match error {
        e if e.is_transient() => TEMPORARY,
        fetch::Error::Source(
            missive::source::Error::Io { .. } | missive::source::Error::BadSpec { .. },
        ) => USAGE,
        fetch::Error::Source(missive::source::Error::Imap(e)) if e.is_setting() => USAGE,
        fetch::Error::Source(missive::source::Error::Mastodon(e)) if e.is_setting() => USAGE,
        _ => SOME_FAILED,
    }
}

/// The file or export a fetch could not read, to name it as the error's place.
pub(crate) fn place(error: &fetch::Error) -> Option<String> {
    match error {
        fetch::Error::Source(
            missive::source::Error::Io { path, .. } | missive::source::Error::Export { path, .. },
        ) => Some(path.display().to_string()),
        _ => None,
    }
}

/// Each argument is a source (`KIND:PATH`) or an account name; none means every account.
fn resolve_targets(
    config: &Config,
    sources: &[String],
    cwd: &Path,
    synced: &[(String, String)],
) -> Result<Vec<Target>, Failure> {
    if sources.is_empty() {
        if config.accounts.is_empty() {
            return Err(usage(anyhow!(
                "nothing to fetch: name a source (maildir:PATH, mbox:PATH, eml:PATH, jsonl:PATH, imap://USER@HOST/MAILBOX, mastodon://INSTANCE) or configure an account"
            )));
        }
        return Target::for_accounts(config, &[], home().as_deref()).map_err(|e| usage(anyhow!(e)));
    }
    sources
        .iter()
        .map(|source| {
            if config.accounts.contains_key(source) {
                let mut targets =
                    Target::for_accounts(config, std::slice::from_ref(source), home().as_deref())
                        .map_err(|e| usage(anyhow!(e)))?;
                Ok(targets.remove(0))
            } else {
                Spec::parse(&missive::config::with_home(source, home().as_deref()), cwd)
                    .map(|spec| Target::for_source(config, spec, home().as_deref(), synced))
                    .map_err(usage)
            }
        })
        .collect()
}
