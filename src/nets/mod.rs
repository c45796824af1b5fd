//! Networks. A network maps tensors to tensors; it is not a model (models own objectives). Its
//! layers run through the fast paths behind [`crate::kernels`]' front door.

pub mod dcgan;
pub mod init;
pub mod mlp;

pub use dcgan::{Conditioning, ConvDown, ConvUp, DcganConfig};
pub use mlp::{Mlp, MlpConfig};
