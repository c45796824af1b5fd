#![no_main]
//! The config parser: a TOML file (--config) and a --set override, on every model's defaults.
//! Either a config that validates, or an error naming where the bad value came from.
use libfuzzer_sys::fuzz_target;
use unigen::config::{DataKind, TrainConfig};
use unigen::models::ModelKind;

#[path = "scratch.rs"]
mod scratch;

fuzz_target!(|bytes: &[u8]| {
    let models = ModelKind::all();
    let model = models[bytes.first().copied().unwrap_or(0) as usize % models.len()];
    let base = TrainConfig::default_for(DataKind::Images, model);
    let p = scratch::file("in.toml", bytes);
    match base.overridden(model, DataKind::Images, Some(&p), &[]) {
        Ok(c) => assert!(c.validate().is_ok()),
        Err(e) => scratch::names(e, "in.toml"),
    }
    let set = String::from_utf8_lossy(bytes).into_owned();
    match base.overridden(model, DataKind::Images, None, &[set]) {
        Ok(c) => assert!(c.validate().is_ok()),
        Err(e) => scratch::names(e, "--set"),
    }
});
