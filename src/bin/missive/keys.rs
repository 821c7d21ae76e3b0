//! `missive keys`: import, export, list, show, verify, forget and discover.

use std::io::{Read, Write};
use std::time::SystemTime;

use anyhow::{Context, anyhow};

use missive::cli::{Global, KeysCommand};
use missive::fault::Fault;
use missive::jsonl::Writer;
use missive::keys;
use missive::record::{KeyRecord, Record};

use crate::{Failure, OK, SOME_FAILED, open_store, output_format, usage};

fn failure(error: keys::Error) -> Failure {
    match error {
        keys::Error::Store(e) => crate::failed(e.is_transient(), e),
        other => usage(other),
    }
}

fn print(global: &Global, records: &[KeyRecord]) -> Result<(), Failure> {
    let mut out = Writer::new(std::io::stdout().lock(), output_format(global));
    for record in records {
        let line = serde_json::to_string(record).map_err(usage)?;
        out.write(&Record::Other(line))
            .map_err(|e| crate::failed(false, e))?;
    }
    out.finish().map_err(|e| crate::failed(false, e))
}

pub(crate) fn run(global: &Global, command: KeysCommand) -> Result<u8, Failure> {
    let now = SystemTime::now();
    if let KeysCommand::Discover {
        addresses,
        contacts,
        dry_run,
    } = command
    {
        return discover(global, addresses, contacts, dry_run, now);
    }
    let mut store = open_store(global)?;
    match command {
        KeysCommand::Import { files } => {
            let mut records = Vec::new();
            let inputs: Vec<(String, Vec<u8>)> = if files.is_empty() {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .context("cannot read standard input")
                    .map_err(usage)?;
                vec![("stdin".into(), bytes)]
            } else {
                files
                    .iter()
                    .map(|f| {
                        std::fs::read(f)
                            .with_context(|| format!("cannot read {}", f.display()))
                            .map(|b| (f.display().to_string(), b))
                    })
                    .collect::<Result<_, _>>()
                    .map_err(usage)?
            };
            for (name, bytes) in inputs {
                records.extend(
                    keys::import(&mut store, &bytes, "import", now)
                        .with_context(|| name.clone())
                        .map_err(usage)?,
                );
            }
            print(global, &records)?;
        }
        KeysCommand::Export {
            keys: selectors,
            secret,
        } => {
            let armored = if secret {
                keys::export_secret(&store)
            } else {
                keys::export(&store, &selectors)
            }
            .map_err(failure)?;
            std::io::stdout().write_all(&armored).map_err(usage)?;
        }
        KeysCommand::List => print(global, &keys::list(&store, now).map_err(failure)?)?,
        KeysCommand::Show { key } => {
            let records: Vec<KeyRecord> = keys::resolve(&store, &key)
                .and_then(|found| found.iter().map(|f| keys::record(&store, f, now)).collect())
                .map_err(failure)?;
            print(global, &records)?;
        }
        KeysCommand::Verify {
            address,
            fingerprint,
        } => {
            let record = keys::verify(&mut store, &address, &fingerprint, now).map_err(failure)?;
            print(global, &[record])?;
        }
        KeysCommand::Forget {
            address,
            fingerprint,
        } => {
            let removed =
                keys::forget(&mut store, &address, fingerprint.as_deref()).map_err(failure)?;
            say!("{removed}")?;
        }
        KeysCommand::Learn { decrypt } => {
            let mut own_keys = if decrypt {
                let config = crate::load_config(global)?;
                Some(crate::own_keys(&store, &config)?)
            } else {
                None
            };
            let mut reader = missive::jsonl::Reader::new(std::io::stdin().lock(), "stdin");
            let mut out = Writer::new(
                std::io::BufWriter::new(std::io::stdout()),
                output_format(global),
            );
            let mut errors = missive::jsonl::ErrorSink::new(
                std::io::stderr(),
                global.errors == missive::cli::ErrorFormat::Jsonl,
            );
            let learned = keys::learn_stream(
                &mut store,
                &mut reader,
                &mut out,
                &mut errors,
                own_keys.as_mut(),
                now,
            )
            .map_err(|error| crate::failed(error.is_transient(), error))?;
            out.finish().map_err(|e| crate::failed(false, e))?;
            if learned.failed > 0 {
                return Ok(SOME_FAILED);
            }
        }
        KeysCommand::Recommend {
            addresses,
            reply_to_encrypted,
        } => {
            let config = crate::load_config(global)?;
            let own_mutual = config.identity.prefer_encrypt.as_deref() == Some("mutual");
            let mut out = Writer::new(std::io::stdout().lock(), output_format(global));
            for address in addresses {
                let canonical = keys::tofu::binding_address(&address)
                    .ok_or_else(|| usage(anyhow!("not an address: {address:?}")))?;
                let peer = store.db.peer(&canonical).map_err(|e| failure(e.into()))?;
                let recommendation =
                    keys::autocrypt::recommend(peer.as_ref(), own_mutual, reply_to_encrypted);
                let record = missive::record::RecommendationRecord {
                    kind: missive::record::RecommendationKind,
                    v: missive::record::VERSION,
                    address: canonical,
                    recommendation,
                    key: peer
                        .as_ref()
                        .and_then(|p| p.public_key.clone().or(p.gossip_key.clone())),
                    prefer_encrypt: peer.as_ref().and_then(|p| p.prefer_encrypt.clone()),
                    warning: peer
                        .as_ref()
                        .filter(|p| p.public_key.is_none() && p.gossip_key.is_some())
                        .and_then(|_| missive::record::BindingState::Gossip.warning())
                        .map(String::from),
                };
                let line = missive::jsonl::sorted_line(&record).map_err(usage)?;
                out.write(&Record::Other(line))
                    .map_err(|e| crate::failed(false, e))?;
            }
            out.finish().map_err(|e| crate::failed(false, e))?;
        }
        KeysCommand::Generate {
            user_id,
            passphrase_command,
            no_passphrase,
            force,
        } => {
            let config = crate::load_config(global)?;
            let user_id = match user_id {
                Some(user_id) => user_id,
                None => {
                    let address = config.identity.addresses.iter().find(|a| a.contains('@')).ok_or_else(|| {
                        usage(anyhow!("name a user id (\"Name <address>\") or set [identity] addresses in the config"))
                    })?;
                    match &config.identity.name {
                        Some(name) => format!("{name} <{address}>"),
                        None => format!("<{address}>"),
                    }
                }
            };
            let passphrase = if no_passphrase {
                None
            } else if let Some(command) = passphrase_command {
                Some(missive::config::secret_from_command(&command).map_err(usage)?)
            } else {
                let first = prompt("Passphrase for the new key: ")?;
                let again = prompt("Again: ")?;
                if first != again {
                    return Err(usage(anyhow!("the passphrases differ")));
                }
                Some(first)
            };
            let record = keys::generate(&mut store, &user_id, passphrase.as_deref(), force, now)
                .map_err(failure)?;
            if force {
                eprintln!(
                    "missive: {} is now your signing key; your older keys still decrypt",
                    record.fingerprint
                );
            }
            print(global, &[record])?;
        }
        KeysCommand::Discover { .. } => {}
    }
    Ok(OK)
}

/// `keys discover`: the plan with --dry-run, else every method's answer for each address.
fn discover(
    global: &Global,
    mut addresses: Vec<String>,
    contacts: bool,
    dry_run: bool,
    now: SystemTime,
) -> Result<u8, Failure> {
    let mut store = if contacts || !dry_run {
        Some(open_store(global)?)
    } else {
        None
    };
    let config = crate::load_config(global)?;
    if let Some(store) = store.as_ref().filter(|_| contacts) {
        addresses = contact_addresses(store, &config).map_err(|e| failure(e.into()))?;
    }
    let mut out = Writer::new(std::io::stdout().lock(), output_format(global));
    let mut put = |line: String| {
        out.write(&Record::Other(line))
            .map_err(|e| crate::failed(false, e))
    };
    let Some(store) = store.as_mut().filter(|_| !dry_run) else {
        for address in &addresses {
            let (advanced, direct, dns) =
                keys::plan(address).ok_or_else(|| usage(anyhow!("not an address: {address:?}")))?;
            put(json(&missive::record::LookupRecord {
                v: missive::record::VERSION,
                address: address.clone(),
                wkd_advanced: Some(advanced),
                wkd_direct: Some(direct),
                dns_openpgpkey: Some(dns),
                ..Default::default()
            })?)?;
        }
        return out
            .finish()
            .map_err(|e| crate::failed(false, e))
            .map(|_| OK);
    };
    let settings = keys::lookup::Settings::from_config(&config, crate::home().as_deref());
    let bar = progress_bar(global, addresses.len());
    let found = keys::discover::discover(store, &settings, &addresses, now, |_| bar.inc(1))
        .map_err(|error| match error {
            keys::discover::DiscoverError::Keys(e) => failure(e),
            keys::discover::DiscoverError::Runtime(e) => crate::failed(true, e),
            other => usage(other),
        })?;
    bar.finish_and_clear();
    let (mut failed, mut transient) = (false, true);
    for discovered in &found {
        for record in &discovered.keys {
            put(json(record)?)?;
        }
        for record in &discovered.lookups {
            put(json(record)?)?;
        }
        let (some_failed, all_transient) = discovered.failures();
        failed |= some_failed;
        transient &= !some_failed || all_transient;
    }
    out.finish().map_err(|e| crate::failed(false, e))?;
    Ok(match (failed, transient) {
        (false, _) => OK,
        (true, true) => crate::TEMPORARY,
        (true, false) => SOME_FAILED,
    })
}

/// A passphrase typed on the terminal; without one (cron, a pipe, a container) the way round
/// it, rather than the bare ENXIO of opening /dev/tty.
fn prompt(question: &str) -> Result<String, Failure> {
    rpassword::prompt_password(question).map_err(|_| {
        usage(anyhow!(
            "no terminal for the passphrase prompt; use --passphrase-command or --no-passphrase"
        ))
    })
}

fn json(record: &impl serde::Serialize) -> Result<String, Failure> {
    serde_json::to_string(record).map_err(usage)
}

/// The email addresses of every contact (made by hand, imported or seen in messages),
/// but the user's own.
fn contact_addresses(
    store: &missive::store::Store,
    config: &missive::config::Config,
) -> Result<Vec<String>, missive::store::Error> {
    use missive::contacts::identity;
    let user = missive::contacts::User::from_config(config);
    let mut addresses: Vec<String> = store
        .db
        .contact_identities()?
        .into_iter()
        .map(|(id, _)| id)
        .chain(store.db.seen_identities()?.into_iter().map(|(id, _)| id))
        .filter(|id| identity::kind(id) == "email" && !user.is_user(id))
        .map(|id| identity::handle(&id).to_string())
        .collect();
    addresses.sort();
    addresses.dedup();
    Ok(addresses)
}

/// A bar on stderr when it is a terminal and there is more than one address.
fn progress_bar(global: &Global, len: usize) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if global.no_progress || len < 2 || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("discovering keys {bar:30} {pos}/{len}")
    {
        bar.set_style(style);
    }
    bar
}
