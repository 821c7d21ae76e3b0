//! `missive index`, `missive search` and `missive tag`.

use std::io::Write;

use anyhow::anyhow;

use missive::cli::{ErrorFormat, Global, IndexArgs, SearchArgs, TagArgs};
use missive::fault::Fault;
use missive::jsonl::{ErrorSink, Format, Reader, Writer};
use missive::search::{self, query};
use missive::store::query::Query;

use crate::{
    Failure, OK, SOME_FAILED, failed, home, load_config, open_store, output_format, usage,
};

fn failure(error: search::Error) -> Failure {
    failed(error.is_transient(), error)
}

/// Parses a query, or a usage error that shows the query with a caret under the mistake.
fn parse(words: &[String]) -> Result<Query, Failure> {
    let text = words.join(" ");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    query::parse(&text, now).map_err(|error| {
        usage(anyhow!(
            "bad query: {error}\n  {text}\n  {}^",
            " ".repeat(error.column.saturating_sub(1))
        ))
    })
}

pub(crate) fn index(global: &Global, args: IndexArgs) -> Result<u8, Failure> {
    let mut store = open_store(global)?;
    let mut errors = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
    let summary = if args.rebuild {
        let config = load_config(global)?;
        let roots = missive::fetch::owned_roots(&store, &config, home().as_deref())
            .map_err(|e| failed(e.is_transient(), e))?;
        search::rebuild(&mut store, &roots, &mut errors)
    } else {
        let mut reader = Reader::new(std::io::stdin().lock(), "stdin");
        search::index_stream(&mut store, &mut reader, &mut errors)
    }
    .map_err(failure)?;
    if args.verbose {
        eprintln!("missive: indexed {} messages", summary.messages);
    }
    Ok(if summary.failed > 0 { SOME_FAILED } else { OK })
}

pub(crate) fn run(global: &Global, args: SearchArgs) -> Result<u8, Failure> {
    let query = parse(&args.query)?;
    if args.analyze {
        say!("{query}")?;
        return Ok(OK);
    }
    let store = open_store(global)?;
    let mut out = Writer::new(
        std::io::BufWriter::new(std::io::stdout().lock()),
        output_format(global),
    );
    let mut raw = std::io::stdout();
    let options = search::Options {
        output: args.output,
        sort: args.sort,
        limit: args.limit,
        offset: args.offset,
    };
    search::search(&store, &query, options, &mut out, &mut raw).map_err(failure)?;
    if output_format(global) == Format::Text
        && let Some(undated) = search::undated_left_out(&store, &query).map_err(failure)?
        && undated > 0
    {
        eprintln!(
            "missive: {undated} message{} without a date left out by the date filter",
            if undated == 1 { "" } else { "s" }
        );
    }
    Ok(OK)
}

pub(crate) fn tag(global: &Global, args: TagArgs) -> Result<u8, Failure> {
    let (mut add, mut remove) = (Vec::new(), Vec::new());
    for change in &args.changes {
        match (change.split_at_checked(1), change.len() > 1) {
            (Some(("+", tag)), true) => add.push(tag.to_string()),
            (Some(("-", tag)), true) => remove.push(tag.to_string()),
            _ => {
                return Err(usage(anyhow!(
                    "bad tag change {change:?}: write +TAG or -TAG"
                )));
            }
        }
    }
    let query = parse(&args.query)?;
    let mut store = open_store(global)?;
    let changed = search::tag(&mut store, &query, &add, &remove).map_err(failure)?;
    let _ = writeln!(std::io::stdout(), "{changed}");
    Ok(OK)
}
