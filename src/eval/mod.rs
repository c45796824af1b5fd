//! Evaluation (SPEC §4): test bounds, mode coverage, Fréchet distance.

pub mod frechet;
pub mod likelihood;
pub mod modes;
