//! Fuzzes the JSON Lines reader every filter reads its input with: any bytes give records or
//! line errors, never a panic, and every line error names its line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = missive::jsonl::Reader::new(data, "fuzz");
    while let Some(next) = reader.next_record() {
        if let Err(error) = next {
            assert!(
                error.to_string().contains("fuzz:"),
                "a line error does not name its input: {error}"
            );
        }
    }
});
