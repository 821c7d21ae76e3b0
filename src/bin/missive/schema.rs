//! `missive schema`: the JSON Schema of each record kind.

use std::io::Write;

use anyhow::anyhow;

use missive::cli::SchemaArgs;

use crate::{Failure, OK, usage};

pub(crate) fn run(args: SchemaArgs) -> Result<u8, Failure> {
    let schemas = missive::config::schemas();
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
            .map_err(|error| crate::failed(false, error))?;
    }
    Ok(OK)
}
