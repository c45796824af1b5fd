#![no_main]
//! The sample-file readers of `unigen eval`: .npy images and labels, and a directory of PNGs.
use libfuzzer_sys::fuzz_target;
use unigen::data::samples;

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|bytes: &[u8]| {
    let npy = scratch::file("in.npy", bytes);
    if let Err(e) = samples::read_images(&npy) {
        scratch::names(e, "in.npy");
    }
    if let Err(e) = samples::read_labels(&npy) {
        scratch::names(e, "in.npy");
    }
    let png = scratch::file("pngs/in.png", bytes);
    if let Err(e) = samples::read_images(png.parent().unwrap()) {
        scratch::names(e, "pngs");
    }
});
