//! Models: networks plus an objective assembled from [`crate::objectives`].

pub mod vae;

use serde::{Deserialize, Serialize};

pub use vae::{Vae, VaeConfig};

/// Every model `unigen train MODEL` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Variational autoencoder (Kingma & Welling 2014): maximises the ELBO.
    Vae,
    /// Importance-weighted autoencoder (Burda et al. 2016): maximises L_k with `k` samples.
    Iwae,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Vae => "vae",
            ModelKind::Iwae => "iwae",
        }
    }

    /// The bound the model maximises: VAE and IWAE are one network and one code path.
    pub fn bound(self) -> vae::Bound {
        match self {
            ModelKind::Vae => vae::Bound::Elbo,
            ModelKind::Iwae => vae::Bound::Iwae,
        }
    }
}
