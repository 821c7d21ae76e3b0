//! `missive contacts`: list, show, link, unlink, rename, import and suggest; after a change,
//! the conversations it affects are re-derived in the store.

use std::io::{Read, Write};

use anyhow::Context;

use missive::cli::{ContactsCommand, ErrorFormat, Global};
use missive::contacts::{self, Change, Directory, User};
use missive::fault::Fault;
use missive::jsonl::{ErrorSink, Format, Writer};
use missive::record::{ErrorRecord, Record};
use missive::store::Store;

use crate::{Failure, OK, SOME_FAILED, failed, load_config, open_store, output_format, usage};

fn failure(error: contacts::Error) -> Failure {
    match error {
        contacts::Error::Store(e) => store_failure(e),
        contacts::Error::Read { .. } => failed(false, error),
        _ => usage(error),
    }
}

fn store_failure(error: missive::store::Error) -> Failure {
    failed(error.is_transient(), error)
}

pub(crate) fn run(global: &Global, command: ContactsCommand) -> Result<u8, Failure> {
    let config = load_config(global)?;
    let user = User::from_config(&config);
    let mut store = open_store(global)?;
    let mut status = OK;
    let records: Vec<String> = match command {
        ContactsCommand::List { all } => {
            let directory = Directory::load(&store.db).map_err(failure)?;
            let listed = directory.list(all);
            if listed.is_empty() && output_format(global) == Format::Text {
                // An empty list after a sync looks like a failure: say where contacts come from.
                let seen = directory.list(true).len();
                let hint = if seen > 0 {
                    format!(
                        "no contacts made by link, rename or import; --all lists the {seen} addresses seen in messages"
                    )
                } else {
                    "no contacts: the addresses of messages threaded by `missive thread` or `missive sync` are listed by --all; make contacts with `contacts link` or `contacts import`".into()
                };
                let _ = writeln!(std::io::stderr(), "missive: {hint}");
            }
            to_lines(listed)?
        }
        ContactsCommand::Show { contact } => {
            let directory = Directory::load(&store.db).map_err(failure)?;
            to_lines(vec![directory.find(&contact).map_err(failure)?])?
        }
        ContactsCommand::Suggest => {
            let directory = Directory::load(&store.db).map_err(failure)?;
            to_lines(contacts::suggest(&directory, &user))?
        }
        ContactsCommand::Link { contacts, name } => {
            let change = contacts::link(&mut store.db, &user, &contacts, name.as_deref())
                .map_err(failure)?;
            rederive(&mut store, change)?
        }
        ContactsCommand::Unlink { identities } => {
            let change = contacts::unlink(&mut store.db, &user, &identities).map_err(failure)?;
            rederive(&mut store, change)?
        }
        ContactsCommand::Rename { contact, name } => {
            let change =
                contacts::rename(&mut store.db, &user, &contact, &name).map_err(failure)?;
            to_lines(change.contacts)?
        }
        ContactsCommand::Import { files } => {
            let mut change = Change::default();
            let mut errors = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
            for file in files {
                let (bytes, label) = if file.as_os_str() == "-" {
                    let mut bytes = Vec::new();
                    std::io::stdin()
                        .read_to_end(&mut bytes)
                        .context("cannot read standard input")
                        .map_err(|error| failed(false, error))?;
                    (bytes, "stdin".to_string())
                } else {
                    let bytes = std::fs::read(&file)
                        .map_err(|source| contacts::Error::Read {
                            path: file.clone(),
                            source,
                        })
                        .map_err(failure)?;
                    (bytes, file.display().to_string())
                };
                let one = contacts::import(&mut store.db, &user, &bytes).map_err(failure)?;
                for problem in &one.problems {
                    errors.report(&ErrorRecord::new(
                        format!("{label}:{}", problem.line),
                        &problem.problem,
                    ));
                }
                change.contacts.extend(one.change.contacts);
                change.identities.extend(one.change.identities);
            }
            status = if errors.count() > 0 { SOME_FAILED } else { OK };
            rederive(&mut store, change)?
        }
    };
    let mut writer = Writer::new(
        std::io::BufWriter::new(std::io::stdout().lock()),
        output_format(global),
    );
    for line in records {
        writer
            .write(&Record::Other(line))
            .and_then(|()| writer.flush())
            .map_err(|error| failed(false, error))?;
    }
    writer.finish().map_err(|error| failed(false, error))?;
    Ok(status)
}

/// Re-derives the conversations the change affects, says how many messages moved, and
/// returns the changed contacts as lines.
fn rederive(store: &mut Store, change: Change) -> Result<Vec<String>, Failure> {
    let directory = Directory::load(&store.db).map_err(failure)?;
    let moved =
        missive::thread::conversation::rederive(&mut store.db, &directory, &change.identities)
            .map_err(store_failure)?;
    if moved > 0 {
        let _ = writeln!(
            std::io::stderr(),
            "missive: {moved} stored message(s) changed conversation"
        );
    }
    to_lines(change.contacts)
}

fn to_lines<T: serde::Serialize>(records: Vec<T>) -> Result<Vec<String>, Failure> {
    records
        .iter()
        .map(|record| serde_json::to_string(record))
        .collect::<Result<_, _>>()
        .map_err(|error| failed(false, error))
}
