//! The `missive` binary: parses the command line, makes one library call per subcommand and
//! turns the outcome into an exit code. It holds no mail, store or protocol logic of its own.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Parser;

use missive::cli::{
    Cli, Command, ConfigCommand, ErrorFormat, FetchArgs, Global, SchemaArgs, ScoreArgs,
};
use missive::config::Config;
use missive::fetch::{self, Target};
use missive::jsonl::{ErrorSink, Format, Reader, Writer};
use missive::privacy;
use missive::source::Spec;
use missive::store::{self, Store};

/// Exit statuses, as `missive(1)` documents them.
const OK: u8 = 0;
const SOME_FAILED: u8 = 1;
const USAGE: u8 = 2;
/// EX_TEMPFAIL from sysexits.h: cron and mail servers retry.
const TEMPORARY: u8 = 75;

/// An error with the exit status it calls for.
struct Failure {
    status: u8,
    error: anyhow::Error,
}

fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        status: USAGE,
        error: error.into(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let errors_as_json = cli.global.errors == ErrorFormat::Jsonl;
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(failure) => {
            if is_broken_pipe(&failure.error) {
                return ExitCode::from(OK);
            }
            let mut stderr = std::io::stderr().lock();
            if errors_as_json {
                let record =
                    missive::record::ErrorRecord::new("missive", format!("{:#}", failure.error));
                let _ = serde_json::to_writer(&mut stderr, &record);
                let _ = stderr.write_all(b"\n");
            } else {
                let _ = writeln!(stderr, "missive: {:#}", failure.error);
            }
            ExitCode::from(failure.status)
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<fetch::Error>()
                .is_some_and(fetch::Error::is_broken_pipe)
            || cause
                .downcast_ref::<privacy::Error>()
                .is_some_and(privacy::Error::is_broken_pipe)
    })
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Fetch(args) => run_fetch(&cli.global, args),
        Command::Score(args) => score(&cli.global, args),
        Command::Config(ConfigCommand::Check) => config_check(&cli.global),
        Command::Config(ConfigCommand::Show) => config_show(&cli.global),
        Command::Schema(args) => schema(args),
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

fn cwd() -> Result<PathBuf, Failure> {
    std::env::current_dir()
        .context("cannot read the current directory")
        .map_err(usage)
}

fn config_path(global: &Global) -> Result<PathBuf, Failure> {
    global
        .config
        .clone()
        .or_else(|| {
            missive::config::default_path(
                std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from),
                home(),
            )
        })
        .ok_or_else(|| {
            usage(anyhow!(
                "no config file: set --config, MISSIVE_CONFIG or HOME"
            ))
        })
}

/// The config, or the default one when no file exists and none was named.
fn load_config(global: &Global) -> Result<Config, Failure> {
    let path = config_path(global)?;
    if global.config.is_none() && !path.exists() {
        return Ok(Config::default());
    }
    Config::load(&path, home().as_deref()).map_err(usage)
}

fn open_store(global: &Global) -> Result<Store, Failure> {
    let dir = global
        .store
        .clone()
        .or_else(|| {
            store::default_dir(std::env::var_os("XDG_DATA_HOME").map(PathBuf::from), home())
        })
        .ok_or_else(|| {
            usage(anyhow!(
                "no store directory: set --store, MISSIVE_STORE or HOME"
            ))
        })?;
    Store::open(&dir).map_err(|error| Failure {
        status: if error.is_transient() {
            TEMPORARY
        } else {
            SOME_FAILED
        },
        error: error.into(),
    })
}

fn output_format(global: &Global) -> Format {
    global.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Text
    } else {
        Format::Jsonl
    })
}

fn run_fetch(global: &Global, args: FetchArgs) -> Result<u8, Failure> {
    let config = load_config(global)?;
    let cwd = cwd()?;
    let targets = resolve_targets(&config, &args.sources, &cwd)?;
    let mut store = open_store(global)?;
    let mut out = Writer::new(
        std::io::BufWriter::with_capacity(1 << 16, std::io::stdout()),
        output_format(global),
    );
    let mut errors = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
    let options = fetch::Options {
        all: args.all,
        progress: !global.no_progress && std::io::stderr().is_terminal(),
    };
    let summary =
        fetch::fetch(&mut store, &targets, options, &mut out, &mut errors).map_err(|error| {
            let status = match &error {
                e if e.is_transient() => TEMPORARY,
                fetch::Error::Source(
                    missive::source::Error::Io { .. } | missive::source::Error::BadSpec { .. },
                ) => USAGE,
                _ => SOME_FAILED,
            };
            Failure {
                status,
                error: error.into(),
            }
        })?;
    out.finish().map_err(|e| Failure {
        status: SOME_FAILED,
        error: e.into(),
    })?;
    Ok(if summary.failed > 0 { SOME_FAILED } else { OK })
}

/// Each argument is a source (`KIND:PATH`) or an account name; none means every account.
fn resolve_targets(
    config: &Config,
    sources: &[String],
    cwd: &Path,
) -> Result<Vec<Target>, Failure> {
    if sources.is_empty() {
        if config.accounts.is_empty() {
            return Err(usage(anyhow!(
                "nothing to fetch: name a source (maildir:PATH, mbox:PATH, eml:PATH, jsonl:PATH) or configure an account"
            )));
        }
        return config
            .targets(&[], cwd, home().as_deref())
            .map_err(|e| usage(anyhow!(e)));
    }
    sources
        .iter()
        .map(|source| {
            if config.accounts.contains_key(source) {
                let mut targets = config
                    .targets(std::slice::from_ref(source), cwd, home().as_deref())
                    .map_err(|e| usage(anyhow!(e)))?;
                Ok(targets.remove(0))
            } else {
                Spec::parse(source, cwd)
                    .map(Target::from_spec)
                    .map_err(usage)
            }
        })
        .collect()
}

fn score(global: &Global, args: ScoreArgs) -> Result<u8, Failure> {
    let failed = |error: anyhow::Error| Failure {
        status: SOME_FAILED,
        error,
    };
    if args.factors {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let written = match output_format(global) {
            Format::Text => stdout
                .write_all(privacy::factors::table_text().as_bytes())
                .map_err(anyhow::Error::from),
            Format::Jsonl => privacy::factors::records().try_for_each(|record| {
                serde_json::to_writer(&mut stdout, &record)?;
                stdout.write_all(b"\n")?;
                Ok::<_, anyhow::Error>(())
            }),
            Format::Json => {
                let records: Vec<_> = privacy::factors::records().collect();
                serde_json::to_writer(&mut stdout, &records)
                    .map_err(anyhow::Error::from)
                    .and_then(|()| stdout.write_all(b"\n").map_err(anyhow::Error::from))
            }
        };
        written
            .and_then(|()| stdout.flush().map_err(anyhow::Error::from))
            .map_err(failed)?;
        return Ok(OK);
    }
    let config = load_config(global)?;
    if args.mail {
        let mut raw = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut raw)
            .context("cannot read the mail on stdin")
            .map_err(|error| Failure {
                status: TEMPORARY,
                error,
            })?;
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        privacy::mail::annotate(&raw, args.strip, &config, &mut stdout)
            .context("cannot write the mail")
            .map_err(failed)?;
        return Ok(OK);
    }
    let mut reader = Reader::new(std::io::stdin().lock(), "stdin");
    let mut out = Writer::new(
        std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
        output_format(global),
    );
    let mut errors = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
    let summary = privacy::score_stream(&mut reader, &mut out, &mut errors, &config)
        .map_err(|e| failed(e.into()))?;
    Ok(if summary.failed > 0 { SOME_FAILED } else { OK })
}

fn config_check(global: &Global) -> Result<u8, Failure> {
    let path = config_path(global)?;
    let config = Config::load(&path, home().as_deref()).map_err(usage)?;
    let mut stderr = std::io::stderr().lock();
    for warning in config.warnings() {
        let _ = writeln!(stderr, "missive: {}: warning: {warning}", path.display());
    }
    println!(
        "{}: ok, {} account{}",
        path.display(),
        config.accounts.len(),
        if config.accounts.len() == 1 { "" } else { "s" }
    );
    Ok(OK)
}

fn config_show(global: &Global) -> Result<u8, Failure> {
    let config = load_config(global)?;
    let text = match output_format(global) {
        Format::Text => toml::to_string_pretty(&config).map_err(usage)?,
        Format::Json | Format::Jsonl => {
            let mut value = serde_json::to_value(&config).map_err(usage)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("kind".into(), "config".into());
                object.insert("v".into(), missive::record::VERSION.into());
            }
            format!("{value}\n")
        }
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(usage)?;
    Ok(OK)
}

fn schema(args: SchemaArgs) -> Result<u8, Failure> {
    let schemas = missive::record::schemas();
    let chosen: Vec<_> = match &args.kind {
        None => schemas,
        Some(kind) => {
            let known: Vec<&str> = schemas.iter().map(|(k, _)| *k).collect();
            let found: Vec<_> = schemas.iter().filter(|(k, _)| k == kind).cloned().collect();
            if found.is_empty() {
                return Err(usage(anyhow!(
                    "no record kind {kind:?}; known: {}",
                    known.join(", ")
                )));
            }
            found
        }
    };
    let mut stdout = std::io::stdout().lock();
    for (_, schema) in chosen {
        serde_json::to_writer(&mut stdout, &schema)
            .map_err(anyhow::Error::from)
            .and_then(|()| stdout.write_all(b"\n").map_err(anyhow::Error::from))
            .map_err(|error| Failure {
                status: SOME_FAILED,
                error,
            })?;
    }
    Ok(OK)
}
