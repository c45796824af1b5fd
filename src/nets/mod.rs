//! Networks. A network maps tensors to tensors; it is not a model (models own objectives).

pub mod mlp;

pub use mlp::{Mlp, MlpConfig};
