//! Fuzzes `missive::email::read`, which must turn any bytes into a record without panicking.
//! The record must also serialise to JSON, and its blob must name exactly the bytes read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let record = missive::email::read(data);
    if let Err(err) = serde_json::to_string(&record) {
        panic!("record does not serialise to JSON: {err}");
    }
    assert_eq!(
        record.blob,
        missive::record::blob_name(data),
        "blob is not the name of the input bytes"
    );
});
