//! `missive score`: the factor table, the record filter, and `--mail` for mail filters.

use std::io::Write;

use anyhow::Context;

use missive::cli::{ErrorFormat, Global, ScoreArgs};
use missive::fault::Fault;
use missive::jsonl::{ErrorSink, Format, Reader, Writer, sorted_line};
use missive::keys::decrypt;
use missive::privacy;
use missive::record::ErrorRecord;

use crate::{Failure, OK, SOME_FAILED, TEMPORARY, load_config, output_format};

pub(crate) fn run(global: &Global, args: ScoreArgs) -> Result<u8, Failure> {
    let failed = |error: anyhow::Error| crate::failed(false, error);
    if args.factors {
        let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
        let written = match output_format(global) {
            Format::Text | Format::Tree => stdout
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
    if args.mail {
        return mail(global, &args);
    }
    let config = load_config(global)?;
    if args.user {
        return user(global, &config).map_err(failed);
    }
    if args.contacts {
        return contacts(global, &config).map_err(failed);
    }
    if args.device {
        let store = crate::open_store(global)?;
        let config_path = crate::config_path(global).ok();
        let device = privacy::device::report(&config, config_path.as_deref(), &store)
            .map_err(|e| failed(e.into()))?;
        let text = match output_format(global) {
            Format::Text | Format::Tree => {
                let privacy = &device.privacy;
                let mut text = format!(
                    "This device: {:?} {} ({:?}; technic {}, context {}, comportment {})\n",
                    privacy.grade,
                    privacy.score,
                    privacy.label,
                    privacy.technic,
                    privacy.context,
                    privacy.comportment
                );
                for factor in &privacy.factors {
                    text.push_str(&format!(
                        "  {:+4}  {:<28} {}\n",
                        factor.points, factor.name, factor.evidence
                    ));
                }
                for suggestion in privacy.suggestions.iter().take(5) {
                    text.push_str(&format!(
                        "  +{:<3} {}  ({})\n",
                        suggestion.gain, suggestion.action, suggestion.why
                    ));
                }
                text
            }
            Format::Jsonl | Format::Json => {
                format!("{}\n", sorted_line(&device).map_err(|e| failed(e.into()))?)
            }
        };
        std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| failed(e.into()))?;
        return Ok(OK);
    }
    let mut reader = Reader::new(std::io::stdin().lock(), "stdin");
    let mut out = Writer::new(
        std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
        output_format(global),
    );
    let mut errors = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
    let store = if args.verify || args.decrypt {
        Some(crate::open_store(global)?)
    } else {
        None
    };
    let mut own_keys = match (&store, args.decrypt) {
        (Some(store), true) => Some(crate::own_keys(store, &config)?),
        _ => None,
    };
    // Decryption failures are reported beside score's own errors, which score_stream holds.
    let mut undecrypted = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
    // The store is asked about people when it exists; it is never made for this.
    let asked = (!args.record_only && crate::store_exists(global))
        .then(|| crate::open_store(global))
        .transpose()?;
    let index = match &asked {
        Some(store) if store.root().join("index").exists() => Some(
            missive::search::open_index(store).map_err(|e| crate::failed(e.is_transient(), e))?,
        ),
        _ => None,
    };
    let mut circles = asked
        .map(|store| privacy::circle::Circles::new(store, index.as_ref(), &config))
        .transpose()
        .map_err(|e| failed(e.into()))?;
    let now = std::time::SystemTime::now();
    let reveal = config.index.decrypted;
    let mut prepare = |message: &mut missive::record::Message| {
        let to_verify = args.verify && message.security.signed.is_some();
        let to_decrypt = own_keys.is_some() && decrypt::is_encrypted(message);
        if let Some(store) = &store
            && (to_verify || to_decrypt)
        {
            let raw = missive::store::raw_bytes(&message.source);
            let from = message.from.as_ref().map(|a| a.address.clone());
            if to_verify
                && let Ok(raw) = &raw
                && let Some(state) = missive::keys::verify::check(store, raw, from.as_deref(), now)
            {
                message.security.signature = state;
            }
            if let Some(keys) = own_keys.as_mut()
                && let Some(report) =
                    decrypt::decrypt_in_place(store, keys, message, raw.as_deref(), reveal, now)
            {
                undecrypted.report(&report);
            }
        }
        circles.as_mut().map(|c| c.of(message)).transpose()
    };
    let summary = privacy::score_stream(&mut reader, &mut out, &mut errors, &config, &mut prepare)
        .map_err(|e| failed(e.into()))?;
    Ok(if summary.failed > 0 || undecrypted.count() > 0 {
        SOME_FAILED
    } else {
        OK
    })
}

/// `score --mail`: the mail back with its header whatever the config and the store say; 75
/// whenever it was not handed back, so the mail server keeps it and retries.
fn mail(global: &Global, args: &ScoreArgs) -> Result<u8, Failure> {
    // The error is flattened to its text: the binary's main reads a broken pipe in the chain
    // as a reader gone away (exit 0), but here it means the mail was lost.
    let not_handed_back = |error: anyhow::Error| Failure {
        status: TEMPORARY,
        error: anyhow::anyhow!("the mail was not handed back: {error:#}"),
    };
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut raw)
        .context("cannot read it on stdin")
        .map_err(not_handed_back)?;
    if raw.is_empty() {
        return Err(not_handed_back(anyhow::anyhow!(
            "no mail on stdin (empty or closed)"
        )));
    }
    let mut errors = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
    let config = load_config(global)
        .map_err(|failure| {
            errors.report(&ErrorRecord::new(
                "config",
                format!(
                    "{:#}; scoring the mail from the message alone",
                    failure.error
                ),
            ))
        })
        .ok();
    let store_dir =
        crate::store_dir(global).filter(|_| !args.record_only && crate::store_exists(global));
    let with = privacy::mail::Filter {
        config: config.as_ref(),
        store: store_dir.as_deref(),
        verify: args.verify,
        keep_foreign: args.keep_foreign,
        account: &missive::source::Spec::Eml(None).key(),
    };
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let filtered = privacy::mail::filter(&raw, &with, &mut stdout)
        .and_then(|filtered| synced_stdout().map(|()| filtered))
        .context("cannot write it to stdout")
        .map_err(not_handed_back)?;
    if let Some(error) = filtered.store_error {
        errors.report(&ErrorRecord::new(
            "store",
            format!("{:#}; scored without it", anyhow::Error::from(error)),
        ));
    }
    Ok(OK)
}

/// Makes what was written to stdout durable when it is a file, so that a full disk or
/// quota found only when the file system writes the data back is still an error.
fn synced_stdout() -> std::io::Result<()> {
    use std::os::fd::AsFd;
    let file = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    if file.metadata()?.is_file() {
        file.sync_data()?;
    }
    Ok(())
}

/// `score --user`: the user index from the search index, the key store and the device.
fn user(global: &Global, config: &missive::config::Config) -> anyhow::Result<u8> {
    let mut store = crate::open_store(global).map_err(|f| f.error)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let index = missive::search::open_index(&store)?;
    let config_path = crate::config_path(global).ok();
    let user = privacy::user::report(&mut store, &index, config, config_path.as_deref(), now)?;
    let text = match output_format(global) {
        Format::Text | Format::Tree => {
            let index = &user.index;
            let mut text = format!(
                "Your privacy index: {:?} {} ({:?})",
                index.grade, index.score, index.label
            );
            match &user.trend {
                Some(trend) => {
                    text.push_str(&format!(", {:+} since {}\n", trend.change, trend.since))
                }
                None => text.push_str(", the first point of your history\n"),
            }
            for (name, part) in [
                ("messages", &index.messages),
                ("key coverage", &index.key_coverage),
                ("device", &index.device),
            ] {
                text.push_str(&format!(
                    "  {name:<13} {:>3}  ×{}  {}\n",
                    part.score, part.weight, part.evidence
                ));
            }
            if !index.suggestions.is_empty() {
                text.push_str("What would raise it most:\n");
            }
            for suggestion in index.suggestions.iter().take(5) {
                text.push_str(&format!(
                    "  +{:<3} {}\n        {}\n",
                    suggestion.gain, suggestion.action, suggestion.why
                ));
            }
            text
        }
        Format::Jsonl | Format::Json => format!("{}\n", sorted_line(&user)?),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(OK)
}

/// `score --contacts`: each contact's index, from the contacts, the key store and the index.
fn contacts(global: &Global, config: &missive::config::Config) -> anyhow::Result<u8> {
    let store = crate::open_store(global).map_err(|f| f.error)?;
    let now = std::time::SystemTime::now();
    let people = privacy::contact::others(&store, config)?;
    let index = missive::search::open_index(&store)?;
    let reader = index.reader()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for person in &people {
        let record = privacy::contact::report(&store, &reader, person, now)?;
        match output_format(global) {
            Format::Text | Format::Tree => writeln!(
                out,
                "{:?} {:>3}  {:<28.28} {}",
                record.privacy.grade,
                record.privacy.score,
                record
                    .name
                    .clone()
                    .unwrap_or_else(|| record.identities.join(" ")),
                record
                    .privacy
                    .suggestions
                    .first()
                    .map_or(String::new(), |s| format!("+{} {}", s.gain, s.action))
            )?,
            Format::Jsonl | Format::Json => writeln!(out, "{}", sorted_line(&record)?)?,
        }
    }
    out.flush()?;
    Ok(OK)
}
