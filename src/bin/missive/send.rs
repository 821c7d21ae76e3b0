//! `missive send`: drafts (or one message from flags) in, one `delivery` record per
//! recipient and channel out; the plan with --dry-run.

use std::io::{BufRead, Read};
use std::time::SystemTime;

use anyhow::{Context as _, anyhow};

use missive::cli::{Global, SendArgs};
use missive::fault::Fault;
use missive::jsonl::Writer;
use missive::record::{Draft, Record};
use missive::send::{self, Channel, Options};

use crate::{Failure, OK, SOME_FAILED, TEMPORARY, output_format, usage};

fn failure(error: send::Error) -> Failure {
    match error {
        send::Error::UnknownRecipient(_)
        | send::Error::AmbiguousRecipient { .. }
        | send::Error::NoRecipient
        | send::Error::UnknownMessage(_)
        | send::Error::NoSender
        | send::Error::NotOwnAddress(_)
        | send::Error::BadDraft(_)
        | send::Error::UnknownChannel(_)
        | send::Error::NoTransport => usage(error),
        send::Error::Smtp(ref smtp) if smtp.is_setting() => usage(error),
        other => crate::failed(other.is_transient(), other),
    }
}

/// The drafts to send: the outbox's (--flush), one from the flags with stdin as its text,
/// or the draft records of stdin.
fn drafts(
    args: &SendArgs,
    context: &send::Context,
    store: &missive::store::Store,
) -> Result<Vec<Draft>, Failure> {
    if args.flush {
        return send::outbox::pending(store).map_err(failure);
    }
    if args.sendmail {
        let own = &context.config.identity.addresses;
        if let Some(from) = &args.envelope_from
            && !own.iter().any(|a| a.eq_ignore_ascii_case(from))
        {
            return Err(usage(anyhow!(
                "-f {from}: not one of your addresses in [identity] addresses"
            )));
        }
        let mut raw = Vec::new();
        std::io::stdin()
            .read_to_end(&mut raw)
            .context("cannot read the message on standard input")
            .map_err(usage)?;
        let mut draft =
            send::sendmail::draft(&raw, &args.recipients, args.recipients_from_headers, own)
                .map_err(failure)?;
        if args.envelope_from.is_some() {
            draft.from = args.envelope_from.clone();
        }
        return Ok(vec![draft]);
    }
    let one_off =
        !(args.to.is_empty() && args.cc.is_empty() && args.bcc.is_empty()) || args.reply.is_some();
    if one_off {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the text on standard input")
            .map_err(usage)?;
        let mut draft = match &args.reply {
            Some(id) => send::reply_draft(context, id, text).map_err(failure)?,
            None => Draft {
                v: missive::record::VERSION,
                text,
                ..Draft::default()
            },
        };
        draft.to.extend(args.to.iter().cloned());
        draft.cc.extend(args.cc.iter().cloned());
        draft.bcc.extend(args.bcc.iter().cloned());
        if args.subject.is_some() {
            draft.subject = args.subject.clone();
        }
        if args.from.is_some() {
            draft.from = args.from.clone();
        }
        draft.attachments = args
            .attach
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return Ok(vec![draft]);
    }
    let mut drafts = Vec::new();
    for (number, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.context("cannot read standard input").map_err(usage)?;
        if line.trim().is_empty() {
            continue;
        }
        let draft: Draft = serde_json::from_str(&line)
            .map_err(|e| usage(anyhow!("stdin:{}: not a draft record: {e}", number + 1)))?;
        drafts.push(draft);
    }
    Ok(drafts)
}

pub(crate) fn run(global: &Global, args: SendArgs) -> Result<u8, Failure> {
    let config = crate::load_config(global)?;
    let mut store = crate::open_store(global)?;
    // The copy sent goes into the index, made if need be; a plan only reads one.
    let index = if !args.dry_run || store.root().join("index").exists() {
        Some(missive::search::open_index(&store).map_err(|e| crate::failed(e.is_transient(), e))?)
    } else {
        None
    };
    let via = match &args.via {
        Some(name) => Some(
            Channel::parse(name)
                .ok_or_else(|| failure(send::Error::UnknownChannel(name.clone())))?,
        ),
        None => None,
    };
    let options = Options {
        via,
        min_privacy: args.min_privacy,
        split: args.split,
    };
    let now = SystemTime::now();
    let mut planned = Vec::new();
    {
        let context = send::Context {
            store: &store,
            index: index.as_ref(),
            config: &config,
            now,
        };
        for draft in drafts(&args, &context, &store)? {
            planned.push(send::plan(&context, &draft, &options).map_err(failure)?);
        }
    }
    let mut out = Writer::new(std::io::stdout().lock(), output_format(global));
    let mut status = OK;
    let mut sender = None;
    let mut transport = None;
    let mut filing = None;
    for planned in &planned {
        let deliveries = if let Some(reason) = &planned.plan.refusal {
            eprintln!("missive: send {}: {reason}", planned.id);
            status = status.max(SOME_FAILED);
            send::deliveries(planned, "refused")
        } else if args.dry_run {
            send::deliveries(planned, "planned")
        } else {
            // Mail needs a way out and the key it is signed with; a plan of direct messages
            // only posts by the instance's API, so a Mastodon-only user needs neither.
            let needs_email = planned.plan.groups.iter().any(|g| g.channel.is_email());
            if needs_email && transport.is_none() {
                transport =
                    Some(send::transport(&config, crate::home().as_deref()).map_err(failure)?);
                sender = send::own_cert(&store, &mut passphrase(&config)).map_err(failure)?;
                filing = send::Filing::of(&config, crate::home().as_deref()).map_err(failure)?;
            }
            send::send(
                &mut store,
                index.as_ref(),
                &config,
                planned,
                &send::Ways {
                    email: transport.as_ref(),
                    sender: sender.as_ref(),
                    home: crate::home().as_deref(),
                    filing: filing.as_ref(),
                },
                now,
            )
            .map_err(failure)?
        };
        for delivery in deliveries {
            match delivery.status.as_str() {
                "queued" => status = TEMPORARY,
                "failed" if status != TEMPORARY => status = SOME_FAILED,
                _ => {}
            }
            let line = serde_json::to_string(&delivery).map_err(usage)?;
            out.write(&Record::Other(line))
                .map_err(|e| crate::failed(false, e))?;
        }
    }
    out.finish().map_err(|e| crate::failed(false, e))?;
    Ok(status)
}

/// The passphrase of the user's key: `[keys] passphrase_command`, else a prompt.
fn passphrase(config: &missive::config::Config) -> impl FnMut(&str) -> Result<String, String> {
    let command = config.keys.passphrase_command.clone();
    move |fingerprint: &str| match &command {
        Some(command) => missive::config::secret_from_command(command).map_err(|e| e.to_string()),
        None => rpassword::prompt_password(format!("Passphrase for key {fingerprint}: ")).map_err(
            |_| {
                "no terminal to ask for it: set passphrase_command in [keys] of the config"
                    .to_string()
            },
        ),
    }
}
