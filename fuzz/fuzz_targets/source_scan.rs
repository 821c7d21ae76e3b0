//! Fuzzes the readers of files that hold many messages: the mbox splitter and the platform
//! exports (a zip or a JSON file). The first byte picks the kind; the rest is the file. Any
//! file gives messages and reported failures, never a panic, within the unpacking cap.
#![no_main]

use libfuzzer_sys::fuzz_target;
use missive::config::Limits;
use missive::source::{Known, Raw, Spec};

const KINDS: [&str; 5] = [
    "mbox",
    "twitter-archive",
    "facebook-export",
    "signal",
    "matrix-export",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, file)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(pick) % KINDS.len()];
    let path = std::env::temp_dir().join(format!(
        "missive-fuzz-{}.{}",
        std::process::id(),
        if file.starts_with(b"PK") { "zip" } else { "json" }
    ));
    std::fs::write(&path, file).expect("a temporary file");
    let spec = Spec::parse(&format!("{kind}:{}", path.display()), &std::env::temp_dir())
        .expect("a spec of a file that exists");
    let limits = Limits {
        unpacked_mib: 1,
        ..Limits::default()
    };
    if let Some(source) = spec.open(&limits) {
        let _ = source.scan(&Known::default(), &mut |item| {
            let record = match item.raw {
                Raw::Bytes(bytes) => missive::source::read(kind, &bytes),
                Raw::Read(record, _) => *record,
                Raw::File(path) => missive::source::read(kind, &std::fs::read(path).unwrap()),
            };
            serde_json::to_string(&record).expect("a record serialises");
            Ok(())
        });
    }
    let _ = std::fs::remove_file(&path);
});
