#![no_main]
//! The IDX reader (MNIST files, plain or gzip): data or an error naming the file, never a panic.
use libfuzzer_sys::fuzz_target;

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|bytes: &[u8]| {
    let p = scratch::file("in-idx3-ubyte", bytes);
    if let Err(e) = unigen::data::idx::read_images(&p) {
        scratch::names(e, "in-idx3-ubyte");
    }
    if let Err(e) = unigen::data::idx::read_labels(&p) {
        scratch::names(e, "in-idx3-ubyte");
    }
});
