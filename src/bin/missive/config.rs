//! `missive config check [--connect]|show`.

use std::io::Write;

use missive::cli::{CheckArgs, Global};
use missive::fault::Fault;
use missive::fetch::Target;
use missive::jsonl::Format;
use missive::send::smtp::{self, Transport};
use missive::source::imap::Imap;
use missive::source::mastodon::Mastodon;
use missive::source::{Spec, account};

use crate::{
    Failure, OK, SOME_FAILED, TEMPORARY, USAGE, config_path, home, load_config, output_format,
    usage,
};

pub(crate) fn check(global: &Global, args: CheckArgs) -> Result<u8, Failure> {
    let path = config_path(global)?;
    let config = account::load_config(&path, home().as_deref()).map_err(usage)?;
    let mut stderr = std::io::stderr().lock();
    for warning in config.warnings() {
        let _ = writeln!(stderr, "missive: {}: warning: {warning}", path.display());
    }
    let targets = Target::for_accounts(&config, &[], home().as_deref())
        .map_err(|e| usage(anyhow::anyhow!(e)))?;
    // A path that does not exist is what fetch and sync would stop on (exit 2): say it now.
    let mut missing = false;
    for target in &targets {
        if let Some((_, source)) = target.spec.local().filter(|(_, p)| !p.exists()) {
            let _ = writeln!(
                stderr,
                "missive: {}: account {}: {} does not exist",
                path.display(),
                target.account,
                source.display()
            );
            missing = true;
        }
    }
    if missing {
        return Ok(USAGE);
    }
    say!(
        "{}: ok, {} account{}",
        path.display(),
        config.accounts.len(),
        if config.accounts.len() == 1 { "" } else { "s" }
    )?;
    say!("trust: {}", trusted_servers(&config))?;
    if !args.connect {
        return Ok(OK);
    }
    let mut checks = Vec::new();
    for target in targets {
        let outcome = match target.spec {
            Spec::Imap(settings) => {
                let server = settings.server();
                Imap::new(*settings, config.limits.imap_line_bytes())
                    .check_connection()
                    .map(|report| {
                        format!(
                            "{server}, {}, mailboxes: {}; capabilities: {}",
                            report.tls,
                            report.mailboxes.join(", "),
                            report.capabilities.join(" ")
                        )
                    })
                    .map_err(|e| (e.is_transient(), e.is_setting(), e.to_string()))
            }
            Spec::Mastodon(settings) => {
                let server = settings.key();
                Mastodon::new(*settings)
                    .check_connection()
                    .map(|login| format!("{server}, {login}"))
                    .map_err(|e| (e.is_transient(), e.is_setting(), e.to_string()))
            }
            _ => continue,
        };
        checks.push((target.account, outcome));
    }
    for name in config.accounts.keys() {
        let Ok(Some(Transport::Submission(submission))) =
            account::transport(&config, name, home().as_deref())
        else {
            continue;
        };
        let outcome = smtp::check_connection(&submission)
            .map(|report| {
                format!(
                    "submission smtp://{}:{}, {}; extensions: {}",
                    submission.host,
                    submission.port,
                    report.tls,
                    report.extensions.join(" ")
                )
            })
            .map_err(|e| (e.is_transient(), e.is_setting(), e.to_string()));
        checks.push((name.clone(), outcome));
    }
    let mut status = OK;
    for (account, outcome) in checks {
        match outcome {
            Ok(report) => say!("{account}: ok, {report}")?,
            Err((transient, setting, error)) => {
                let _ = writeln!(stderr, "missive: {error}");
                // A setting to fix outranks a server to wait for.
                status = match (status, transient) {
                    (USAGE, _) => USAGE,
                    (_, true) => TEMPORARY,
                    _ if setting => USAGE,
                    _ => status.max(SOME_FAILED),
                };
            }
        }
    }
    Ok(status)
}

/// The servers taken as the user's, as `config check` says it.
fn trusted_servers(config: &missive::config::Config) -> String {
    if config.trust.servers.is_empty() {
        let servers = missive::privacy::boundary::Servers::from_authserv_ids(config);
        format!(
            "your servers are each message's topmost Received `by` host and its registrable domain, and from trust.authserv_ids: {}",
            servers.describe()
        )
    } else {
        let servers = missive::privacy::boundary::Servers::of(config, &Default::default());
        format!("your servers (trust.servers): {}", servers.describe())
    }
}

pub(crate) fn show(global: &Global) -> Result<u8, Failure> {
    let config = load_config(global)?;
    let text = match output_format(global) {
        Format::Text | Format::Tree => toml::to_string_pretty(&config).map_err(usage)?,
        Format::Json | Format::Jsonl => {
            let record = missive::config::ConfigRecord::of(&config);
            format!("{}\n", serde_json::to_string(&record).map_err(usage)?)
        }
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(usage)?;
    Ok(OK)
}
