#![no_main]
//! The sample-file readers of `unigen eval` and `unigen diverge`: .npy images, labels and points,
//! text files of points, and a directory of PNGs.
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
    if let Err(e) = samples::read_points(&npy) {
        scratch::names(e, "in.npy");
    }
    let csv = scratch::file("in.csv", bytes);
    if let Err(e) = samples::read_points(&csv) {
        scratch::names(e, "in.csv");
    }
    let png = scratch::file("pngs/in.png", bytes);
    if let Err(e) = samples::read_images(png.parent().unwrap()) {
        scratch::names(e, "pngs");
    }
});
