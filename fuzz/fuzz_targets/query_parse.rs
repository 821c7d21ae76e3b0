//! Fuzzes the search query parser: any text is a query or a parse error, never a panic nor a
//! stack overflow, and a query prints (`--analyze`) without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(query) = missive::search::query::parse(&text, 1_700_000_000) {
        let _ = query.to_string();
    }
});
