//! The `missive` binary: parses the command line, makes one library call per subcommand and
//! turns the outcome into an exit code. It holds no mail, store or protocol logic of its own:
//! each subcommand has a file here that only wires flags to the library.

/// `println!` that returns the write error, which `println!` turns into a panic: a reader
/// gone away (`| head`) then ends the command quietly, as [`is_broken_pipe`] decides.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*).map_err(|error| crate::failed(false, error))
    }};
}

mod config;
mod contacts;
mod fetch;
mod keys;
mod schema;
mod score;
mod search;
mod send;
mod sync;
mod thread;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Parser;

use missive::cli::{Cli, Command, ConfigCommand, ErrorFormat, Global};
use missive::fault::Fault;
use missive::jsonl::Format;
use missive::store::{self, Store};

/// Exit statuses, as `missive(1)` documents them.
pub(crate) const OK: u8 = 0;
pub(crate) const SOME_FAILED: u8 = 1;
pub(crate) const USAGE: u8 = 2;
/// EX_TEMPFAIL from sysexits.h: cron and mail servers retry.
pub(crate) const TEMPORARY: u8 = 75;

/// An error with the exit status it calls for.
pub(crate) struct Failure {
    pub(crate) status: u8,
    pub(crate) error: anyhow::Error,
}

/// A failure that a later run may not meet (a locked store: exit 75) or will (exit 1).
pub(crate) fn failed(transient: bool, error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        status: if transient { TEMPORARY } else { SOME_FAILED },
        error: error.into(),
    }
}

pub(crate) fn usage(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        status: USAGE,
        error: error.into(),
    }
}

fn main() -> ExitCode {
    // Errors are shown by their messages, never with a backtrace; yet with RUST_BACKTRACE
    // set, anyhow captures one for each error it makes, and sequoia makes and drops some
    // while reading the OpenPGP data of a message: a sixth of a sync's CPU. Panics still
    // honour RUST_BACKTRACE, and RUST_LIB_BACKTRACE set by the user stands.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: no other thread is running yet to read the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let cli = Cli::parse();
    let errors_as_json = cli.global.errors == ErrorFormat::Jsonl;
    match run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(mut failure) => {
            if is_broken_pipe(&failure.error) {
                return ExitCode::from(OK);
            }
            if is_disk_full(&failure.error) {
                failure.status = TEMPORARY;
            }
            let mut stderr = std::io::stderr().lock();
            if errors_as_json {
                let record = missive::record::ErrorRecord::new(
                    place(&failure.error),
                    format!("{:#}", failure.error),
                );
                let _ = serde_json::to_writer(&mut stderr, &record);
                let _ = stderr.write_all(b"\n");
            } else {
                let _ = writeln!(stderr, "missive: {:#}", failure.error);
            }
            ExitCode::from(failure.status)
        }
    }
}

/// Where a failure happened, for its error record: the file or export a source could not
/// read ([`fetch::place`]), else `missive`.
fn place(error: &anyhow::Error) -> String {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<missive::fetch::Error>())
        .and_then(fetch::place)
        .unwrap_or_else(|| "missive".into())
}

/// Whether the reader of the output went away (`missive search … | head`): every write error
/// of the library keeps its `std::io::Error` as a source, so the chain holds it, but for
/// serde_json's, which keeps it inside and only tells its kind.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        let kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// Whether a write failed for want of space (ENOSPC, EDQUOT), wherever the error came from:
/// the next run, once space is freed, succeeds, so cron and mail servers retry on 75.
fn is_disk_full(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(missive::fault::is_disk_full)
    })
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Fetch(args) => fetch::run(&cli.global, args),
        Command::Score(args) => score::run(&cli.global, args),
        Command::Index(args) => search::index(&cli.global, args),
        Command::Search(args) => search::run(&cli.global, args),
        Command::Tag(args) => search::tag(&cli.global, args),
        Command::Sync(args) => sync::run(&cli.global, args),
        Command::Keys(command) => keys::run(&cli.global, command),
        Command::Thread(args) => thread::run(&cli.global, args),
        Command::Contacts(command) => contacts::run(&cli.global, command),
        Command::Config(ConfigCommand::Check(args)) => config::check(&cli.global, args),
        Command::Config(ConfigCommand::Show) => config::show(&cli.global),
        Command::Schema(args) => schema::run(args),
        Command::Send(args) => send::run(&cli.global, *args),
    }
}

pub(crate) fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

pub(crate) fn cwd() -> Result<PathBuf, Failure> {
    std::env::current_dir()
        .context("cannot read the current directory")
        .map_err(usage)
}

pub(crate) fn config_path(global: &Global) -> Result<PathBuf, Failure> {
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
pub(crate) fn load_config(global: &Global) -> Result<missive::config::Config, Failure> {
    let path = config_path(global)?;
    if global.config.is_none() && !path.exists() {
        return Ok(missive::config::Config::default());
    }
    missive::source::account::load_config(&path, home().as_deref()).map_err(usage)
}

pub(crate) fn open_store(global: &Global) -> Result<Store, Failure> {
    let dir = store_dir(global).ok_or_else(|| {
        usage(anyhow!(
            "no store directory: set --store, MISSIVE_STORE or HOME"
        ))
    })?;
    Store::open(&dir).map_err(|error| failed(error.is_transient(), error))
}

/// The user's own keys for decrypting, unlocked with `[keys] passphrase_command` or, without
/// one, a prompt on the terminal; asked only when a message needs it.
pub(crate) fn own_keys(
    store: &Store,
    config: &missive::config::Config,
) -> Result<missive::keys::decrypt::OwnKeys, Failure> {
    let command = config.keys.passphrase_command.clone();
    let passphrase: missive::keys::decrypt::Passphrase =
        Box::new(move |fingerprint: &str| match &command {
            Some(command) => {
                missive::config::secret_from_command(command).map_err(|e| e.to_string())
            }
            None => rpassword::prompt_password(format!("Passphrase for key {fingerprint}: "))
                .map_err(|_| {
                    "no terminal to ask for it: set passphrase_command in [keys] of the config"
                        .to_string()
                }),
        });
    missive::keys::decrypt::OwnKeys::load(store, passphrase, config.limits.unpacked_bytes())
        .map_err(|error| match error {
            missive::keys::decrypt::Error::Keys(missive::keys::Error::Store(e)) => {
                failed(e.is_transient(), e)
            }
            other => usage(other),
        })
}

/// Whether the store exists already, for commands that use one only when it does.
pub(crate) fn store_exists(global: &Global) -> bool {
    store_dir(global).is_some_and(|dir| dir.join("state.sqlite").exists())
}

pub(crate) fn store_dir(global: &Global) -> Option<PathBuf> {
    global.store.clone().or_else(|| {
        store::default_dir(std::env::var_os("XDG_DATA_HOME").map(PathBuf::from), home())
    })
}

pub(crate) fn output_format(global: &Global) -> Format {
    global.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Text
    } else {
        Format::Jsonl
    })
}
