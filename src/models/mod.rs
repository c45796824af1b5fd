//! Models: networks plus an objective assembled from [`crate::objectives`].

pub mod gan;
pub mod vae;

use serde::{Deserialize, Serialize};

use crate::config::Family;
use crate::objectives::SampleWeights;
pub use gan::{Discriminator, GanConfig, Generator};
pub use vae::{Vae, VaeConfig};

/// Every model `unigen train MODEL` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Variational autoencoder (Kingma & Welling 2014): maximises the ELBO.
    Vae,
    /// Importance-weighted autoencoder (Burda et al. 2016): maximises L_k with `k` samples.
    Iwae,
    /// Generative adversarial network (Goodfellow et al. 2014).
    Gan,
    /// Importance-weighted GAN (Hu et al. 2018): the GAN's generator update with the samples
    /// weighted by softmax(D logits), the importance weights of the VAE side.
    Iwgan,
    /// Conditional GAN (Mirza & Osindero 2014): both networks see the class.
    Cgan,
    /// Importance-weighted conditional GAN: IWGAN's generator update with the class given.
    Iwcgan,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Vae => "vae",
            ModelKind::Iwae => "iwae",
            ModelKind::Gan => "gan",
            ModelKind::Iwgan => "iwgan",
            ModelKind::Cgan => "cgan",
            ModelKind::Iwcgan => "iwcgan",
        }
    }

    pub fn family(self) -> Family {
        match self {
            ModelKind::Vae | ModelKind::Iwae => Family::Vae,
            ModelKind::Gan | ModelKind::Iwgan | ModelKind::Cgan | ModelKind::Iwcgan => Family::Gan,
        }
    }

    /// The bound a VAE-family model maximises: VAE and IWAE are one network and one code path.
    pub fn bound(self) -> vae::Bound {
        match self {
            ModelKind::Iwae => vae::Bound::Iwae,
            _ => vae::Bound::Elbo,
        }
    }

    /// Whether the networks are given the class label: conditional and unconditional models are
    /// one code path.
    pub fn conditional(self) -> bool {
        matches!(self, ModelKind::Cgan | ModelKind::Iwcgan)
    }

    /// How a GAN-family generator weights its samples: GAN and IWGAN are one code path.
    pub fn sample_weights(self) -> SampleWeights {
        match self {
            ModelKind::Iwgan | ModelKind::Iwcgan => SampleWeights::Importance,
            _ => SampleWeights::Uniform,
        }
    }
}
