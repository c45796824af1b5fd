//! Networks. A network maps tensors to tensors; it is not a model (models own objectives).

pub mod activation;
pub mod conv;
pub mod dcgan;
mod extension;
pub mod linear;
pub mod mlp;
pub mod norm;

pub use dcgan::{ConvDiscriminator, ConvGenerator, DcganConfig};
pub use mlp::{Mlp, MlpConfig};
