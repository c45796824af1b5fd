//! Evaluation (SPEC §4). This issue: test ELBO and the IWAE bound.

pub mod likelihood;
pub mod modes;
