//! `missive thread`: conversation and thread ids on message records, or the conversations,
//! or a tree; `--rebuild` first recomputes them all from the store.

use missive::cli::{ErrorFormat, Global, ThreadArgs};
use missive::fault::Fault;
use missive::jsonl::{ErrorSink, Reader};
use missive::thread;

use crate::{Failure, OK, SOME_FAILED, failed, load_config, open_store, output_format};

fn failure(error: thread::Error) -> Failure {
    failed(error.is_transient(), error)
}

pub(crate) fn run(global: &Global, args: ThreadArgs) -> Result<u8, Failure> {
    let config = load_config(global)?;
    let mut store = open_store(global)?;
    if args.rebuild {
        let rebuilt = thread::rebuild(&mut store).map_err(failure)?;
        eprintln!(
            "missive: rebuilt {} messages: {} changed thread, {} changed conversation",
            rebuilt.messages, rebuilt.threads_changed, rebuilt.conversations_changed
        );
    }
    let replay = stdin_file();
    let input = std::io::BufReader::with_capacity(1 << 20, std::io::stdin().lock());
    let mut reader = Reader::new(input, "stdin");
    let output = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut errors = ErrorSink::new(std::io::stderr(), global.errors == ErrorFormat::Jsonl);
    let summary = thread::thread_stream(
        &mut reader,
        replay,
        output,
        output_format(global),
        &mut errors,
        &mut store,
        &config,
        args.output,
    )
    .map_err(failure)?;
    Ok(if summary.failed > 0 { SOME_FAILED } else { OK })
}

/// Standard input as a file that can be read again from where it starts, when it is a
/// regular file (`missive thread < records.jsonl`): then nothing is spooled.
fn stdin_file() -> Option<(std::fs::File, u64)> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
    let mut file = std::fs::File::from(fd);
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let offset = file.stream_position().ok()?;
    Some((file, offset))
}
