//! Evaluation (SPEC §4): test bounds, mode coverage, and the image metrics read off the reference
//! classifier (inception score, Fréchet distance, precision/recall, conditional accuracy).

pub mod classifier;
pub mod frechet;
pub mod images;
pub mod inception;
pub mod precision_recall;
pub mod likelihood;
pub mod matching;
pub mod mmd;
pub mod modes;
