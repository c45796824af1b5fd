#![no_main]
//! The checkpoint loader: a verified checkpoint, or an error naming the file; never a panic
//! and never a half-read state (its content hash is checked before anything is applied).
use libfuzzer_sys::fuzz_target;

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|bytes: &[u8]| {
    let p = scratch::file("in.safetensors", bytes);
    match unigen::run::checkpoint::read(&p) {
        Ok(loaded) => {
            let _ = loaded.state_sha256();
        }
        Err(e) => scratch::names(e, "in.safetensors"),
    }
});
