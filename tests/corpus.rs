//! No input makes the email reader panic: every file of a corpus of real mail nobody here
//! wrote (`MISSIVE_CORPUS`, which CI sets), and arbitrary bytes (a property test).

use std::path::{Path, PathBuf};

use proptest::prelude::*;

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if path.is_file()
            && !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".md"))
        {
            found.push(path);
        }
    }
    found.sort();
    found
}

#[test]
fn every_corpus_message_becomes_a_record() {
    let Some(corpus) = std::env::var_os("MISSIVE_CORPUS") else {
        eprintln!("MISSIVE_CORPUS is not set: the corpus test has nothing to read");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must set MISSIVE_CORPUS (scripts/test sets it when ../shared/corpus exists)"
        );
        return;
    };
    let corpus = Path::new(&corpus);
    assert!(
        corpus.is_dir(),
        "MISSIVE_CORPUS={} is not a directory",
        corpus.display()
    );
    let files = files(corpus);
    assert!(
        files.len() > 100,
        "expected a corpus, found {} files",
        files.len()
    );
    let (mut with_sender, mut with_id) = (0, 0);
    for file in &files {
        let raw = std::fs::read(file).unwrap();
        let record = missive::email::read(&raw);
        assert_eq!(
            record.blob,
            missive::record::blob_name(&raw),
            "{}",
            file.display()
        );
        let json = serde_json::to_string(&record).unwrap();
        let back: missive::record::Message = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back,
            record,
            "{} survives a JSON round trip",
            file.display()
        );
        with_sender += usize::from(record.from.is_some());
        with_id += usize::from(!record.native_id.starts_with("sha256:"));
    }
    // Nearly every real message has a sender and a Message-ID; far fewer means misparsing.
    assert!(
        with_sender * 100 >= files.len() * 90,
        "{with_sender}/{} with a sender",
        files.len()
    );
    assert!(
        with_id * 100 >= files.len() * 85,
        "{with_id}/{} with a Message-ID",
        files.len()
    );
}

/// Inputs the fuzzer found that once made the reader panic (a debug assertion in
/// mail-parser, so only builds with debug assertions ever saw it).
#[test]
fn fuzz_regressions_give_records() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let inputs: Vec<PathBuf> = files(&dir);
    assert!(!inputs.is_empty());
    for input in inputs {
        let raw = std::fs::read(&input).unwrap();
        let record = missive::email::read(&raw);
        assert_eq!(
            record.blob,
            missive::record::blob_name(&raw),
            "{}",
            input.display()
        );
        assert!(
            missive::email::is_unreadable(&record),
            "{}",
            input.display()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let record = missive::email::read(&raw);
        prop_assert_eq!(record.blob, missive::record::blob_name(&raw));
    }

    #[test]
    fn header_shaped_noise_never_panics(
        headers in proptest::collection::vec(
            ("(From|To|Cc|Date|Received|Authentication-Results|Autocrypt|Content-Type|Message-ID|References)",
             "[ -~\t]{0,120}"), 0..12),
        body in "[ -~\n]{0,400}",
    ) {
        let mut raw = String::new();
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\n"));
        }
        raw.push('\n');
        raw.push_str(&body);
        let record = missive::email::read(raw.as_bytes());
        prop_assert!(serde_json::to_string(&record).is_ok());
    }
}
