//! `missive score`: the factor table, the record filter, and `--mail` for mail filters.

use std::io::Write;

use anyhow::Context;

use missive::cli::{ErrorFormat, Global, ScoreArgs};
use missive::jsonl::{ErrorSink, Format, Reader, Writer};
use missive::privacy;
use missive::record::Encryption;

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
    let config = load_config(global)?;
    if args.user {
        return user(global, &config).map_err(failed);
    }
    if args.contacts {
        return contacts(global, &config).map_err(failed);
    }
    if args.device {
        let store = crate::open_store(global)?;
        let own_key = store
            .db
            .own_keys()
            .map_err(|e| failed(e.into()))?
            .first()
            .map(|(_, _, protected)| *protected);
        let config_path = crate::config_path(global).ok();
        let facts = privacy::device::facts(&config, config_path.as_deref(), store.root(), own_key);
        let privacy = privacy::device::score(&facts);
        let text = match output_format(global) {
            Format::Text | Format::Tree => {
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
            Format::Jsonl | Format::Json => format!(
                "{}\n",
                serde_json::json!({
                    "kind": "device", "v": missive::record::VERSION,
                    "store": facts.store, "config": facts.config.as_ref().map(|(p, _)| p),
                    "privacy": privacy,
                })
            ),
        };
        std::io::stdout()
            .write_all(text.as_bytes())
            .map_err(|e| failed(e.into()))?;
        return Ok(OK);
    }
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
        let to_decrypt = own_keys.is_some()
            && matches!(
                message.security.encryption,
                Encryption::PgpMime | Encryption::PgpInline
            );
        let raw = match &store {
            Some(_) if to_verify || to_decrypt => Some(missive::store::raw_bytes(&message.source)),
            _ => None,
        };
        let decrypted = match (&store, own_keys.as_mut(), raw) {
            (Some(store), keys, Some(Ok(raw))) => {
                let from = message.from.as_ref().map(|a| a.address.clone());
                if to_verify
                    && let Some(state) =
                        missive::keys::verify::check(store, &raw, from.as_deref(), now)
                {
                    message.security.signature = state;
                }
                keys.filter(|_| to_decrypt)
                    .map(|keys| missive::keys::decrypt::decrypt(store, keys, message, &raw, now))
                    .transpose()
                    .map_err(|e| e.to_string())
            }
            (_, _, Some(Err(error))) if to_decrypt => {
                Err(format!("cannot read the raw message: {error}"))
            }
            _ => Ok(None),
        };
        match decrypted {
            Ok(found) => {
                if let Some(decrypted) = found.flatten() {
                    decrypted.fill(message, reveal);
                }
            }
            Err(error) => {
                let location = message.source.path.clone();
                let mut report = missive::record::ErrorRecord::new(
                    location.unwrap_or_else(|| message.id.clone()),
                    error,
                );
                report.message_id = Some(message.native_id.clone());
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

/// `score --user`: the user index from the search index, the key store and the device.
fn user(global: &Global, config: &missive::config::Config) -> anyhow::Result<u8> {
    use missive::privacy::{device, user};
    let mut store = crate::open_store(global).map_err(|f| f.error)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let index = missive::search::open_index(&store)?;
    let reader = index.reader()?;
    let window = missive::store::query::Query::Date {
        from: Some(now - user::WINDOW_DAYS * 86_400),
        to: None,
    };
    let none = missive::store::index::Unaided;
    let count = reader.count(&window, &none)?;
    let messages = reader.search(&window, &none, missive::store::index::Sort::Date, count, 0)?;
    let own: std::collections::BTreeSet<String> = config
        .identity
        .addresses
        .iter()
        .map(|a| a.to_lowercase())
        .collect();
    let own_key = store
        .db
        .own_keys()?
        .first()
        .map(|(_, _, protected)| *protected);
    let device_privacy = device::score(&device::facts(
        config,
        crate::config_path(global).ok().as_deref(),
        store.root(),
        own_key,
    ));
    let mut facts = user::Facts {
        with_key: store
            .db
            .bindings(None, None)?
            .into_iter()
            .filter(|b| b.state == "tofu" || b.state == "verified")
            .map(|b| b.address)
            .collect(),
        device: device_privacy.score,
        device_suggestions: device_privacy.suggestions.clone(),
        ..user::Facts::default()
    };
    for message in &messages {
        facts.add(message, &own, config);
    }
    let index = user::score(&facts);
    let today = missive::record::rfc3339(now)[..10].to_string();
    let batch = store.db.batch()?;
    batch.put_privacy_point(&today, index.score)?;
    batch.commit()?;
    let history = store.db.privacy_history()?;
    let trend = user::trend(&history, &today, index.score);
    let text = match output_format(global) {
        Format::Text | Format::Tree => {
            let mut text = format!(
                "Your privacy index: {:?} {} ({:?})",
                index.grade, index.score, index.label
            );
            match &trend {
                Some((change, since)) => text.push_str(&format!(", {change:+} since {since}\n")),
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
        Format::Jsonl | Format::Json => format!(
            "{}\n",
            serde_json::json!({
                "kind": "user", "v": missive::record::VERSION, "index": index,
                "trend": trend.map(|(change, since)| serde_json::json!({"change": change, "since": since})),
                "history": history.iter().map(|(day, score)| serde_json::json!({"day": day, "score": score})).collect::<Vec<_>>(),
            })
        ),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(OK)
}

/// `score --contacts`: each contact's index, from the contacts, the key store and the index.
fn contacts(global: &Global, config: &missive::config::Config) -> anyhow::Result<u8> {
    use missive::contacts::{Directory, identity};
    use missive::privacy::contact::{self, KeyFacts};
    use missive::store::query::{KeywordField, Query, TextField};
    let store = crate::open_store(global).map_err(|f| f.error)?;
    let now = std::time::SystemTime::now();
    let directory = Directory::load(&store.db)?;
    let user = missive::contacts::User::from_config(config);
    let index = missive::search::open_index(&store)?;
    let reader = index.reader()?;
    let none = missive::store::index::Unaided;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for person in directory.list(true) {
        if person.identities.iter().any(|i| user.is_user(i)) {
            continue;
        }
        let mut channels: Vec<String> = person
            .identities
            .iter()
            .map(|i| identity::kind(i).to_string())
            .collect();
        channels.dedup();
        let emails: Vec<String> = person
            .identities
            .iter()
            .filter(|i| identity::kind(i) == "email")
            .map(|i| identity::handle(i).to_string())
            .collect();
        let mut key: Option<KeyFacts> = None;
        for address in emails
            .iter()
            .filter_map(|a| missive::keys::tofu::canonical(a))
        {
            let Some((binding, record)) = missive::keys::best_binding(&store, &address, now)?
            else {
                continue;
            };
            let rank = missive::keys::trust_rank;
            if key
                .as_ref()
                .is_some_and(|k| rank(&binding.state) <= rank(&k.state))
            {
                continue;
            }
            key = Some(KeyFacts {
                address: address.clone(),
                fingerprint: binding.fingerprint,
                state: binding.state,
                algorithm: record.algorithm,
                bits: record.bits,
                expires: record.expires,
                usable: record.usable,
            });
        }
        let with = Query::Or(
            person
                .identities
                .iter()
                .map(|i| Query::Text {
                    field: Some(TextField::With),
                    words: identity::handle(i).to_string(),
                    phrase: true,
                })
                .collect(),
        );
        let exchanges = reader.count(&with, &none)? as u64;
        let encrypted = reader.count(
            &Query::And(vec![
                with,
                Query::Keyword {
                    field: KeywordField::State,
                    value: "encrypted".into(),
                },
            ]),
            &none,
        )? as u64;
        let facts = contact::Facts {
            id: person.id.clone(),
            name: person.name.clone(),
            channels,
            address: emails.first().cloned(),
            key,
            exchanges,
            encrypted,
        };
        let privacy = contact::score(&facts);
        match output_format(global) {
            Format::Text | Format::Tree => writeln!(
                out,
                "{:?} {:>3}  {:<28.28} {}",
                privacy.grade,
                privacy.score,
                facts
                    .name
                    .clone()
                    .unwrap_or_else(|| person.identities.join(" ")),
                privacy
                    .suggestions
                    .first()
                    .map_or(String::new(), |s| format!("+{} {}", s.gain, s.action))
            )?,
            Format::Jsonl | Format::Json => writeln!(
                out,
                "{}",
                serde_json::json!({
                    "kind": "contact_privacy", "v": missive::record::VERSION, "contact": facts.id,
                    "name": facts.name, "identities": person.identities, "channels": facts.channels,
                    "key": facts.key, "exchanges": facts.exchanges, "encrypted": facts.encrypted,
                    "privacy": privacy,
                })
            )?,
        }
    }
    out.flush()?;
    Ok(OK)
}
