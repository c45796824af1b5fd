//! Which model: every model `unigen train` knows, its family, the switches that make one code
//! path serve several models (the bound, the adversary, the sample weights), and the settings it
//! reads. A leaf of the crate: configuration, networks and models all depend on it, and it on none
//! of them.

use serde::{Deserialize, Serialize};

use crate::objectives::{Adversary, Bound, SampleWeights};

/// Which family a model belongs to, as the data and the defaults see it: how its batches are
/// prepared and scored, and its Adam settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// A likelihood model with an encoder, fed binarised images or raw points: the VAE family
    /// (VAE, IWAE, CVAE, SVAE and their AA versions), the AAE and wake-sleep.
    Vae,
    /// Adversarial models fed pixels in [-1, 1] with DCGAN's Adam settings: GAN, IWGAN, CGAN,
    /// IW-CGAN, and InfoGAN, ADA and CycleGAN.
    Gan,
}

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
    /// Adversary-activated VAE (Hu et al. 2018): the VAE with its perfect discriminator replaced
    /// by a learned one, so generated samples that fool it train the model too.
    Aavae,
    /// Conditional VAE: encoder q(z|x,c) and decoder p(x|z,c) see the class.
    Cvae,
    /// Adversary-activated CVAE.
    Aacvae,
    /// Semi-supervised VAE (Kingma et al. 2014, M2): classifier q(c|x); the class is observed for
    /// a `label_fraction` of the training set and summed over for the rest.
    Svae,
    /// Adversary-activated SVAE.
    Aasvae,
    /// InfoGAN (Chen et al. 2016): a GAN whose generator also takes a code (10-way categorical,
    /// 2 continuous) that a head Q on the discriminator must recover.
    Infogan,
    /// Adversarial autoencoder (Makhzani et al. 2016): an autoencoder whose codes a discriminator
    /// on z pushes towards the prior, in place of the VAE's KL term.
    Aae,
    /// Helmholtz machine trained by wake-sleep (Hinton et al. 1995): the wake phase fits the
    /// generative model on data, the sleep phase the recognition model on dreams.
    #[value(name = "wake_sleep")]
    WakeSleep,
    /// Adversarial domain adaptation (Ganin et al. 2016): a digit classifier on features that a
    /// domain discriminator cannot tell apart between MNIST and a shifted MNIST (`domain_shift`).
    Ada,
    /// CycleGAN (Zhu et al. 2017): unpaired translation between MNIST and a shifted MNIST
    /// (`domain_shift`), two GANs tied by cycle consistency.
    Cyclegan,
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
            ModelKind::Aavae => "aavae",
            ModelKind::Cvae => "cvae",
            ModelKind::Aacvae => "aacvae",
            ModelKind::Svae => "svae",
            ModelKind::Aasvae => "aasvae",
            ModelKind::Infogan => "infogan",
            ModelKind::Aae => "aae",
            ModelKind::WakeSleep => "wake_sleep",
            ModelKind::Ada => "ada",
            ModelKind::Cyclegan => "cyclegan",
        }
    }

    /// Every model, in the order `unigen models` lists them.
    pub fn all() -> &'static [ModelKind] {
        <ModelKind as clap::ValueEnum>::value_variants()
    }

    /// Whether the model draws new examples from a prior (ADA classifies; CycleGAN translates).
    pub fn generates(self) -> bool {
        !matches!(self, ModelKind::Ada | ModelKind::Cyclegan)
    }

    pub fn family(self) -> Family {
        match self {
            ModelKind::Gan | ModelKind::Iwgan | ModelKind::Cgan | ModelKind::Iwcgan => Family::Gan,
            // Adversarial on images, so pixels in [-1, 1] and DCGAN's Adam settings.
            ModelKind::Infogan | ModelKind::Ada | ModelKind::Cyclegan => Family::Gan,
            _ => Family::Vae,
        }
    }

    /// The bound a VAE-family model maximises: VAE and IWAE are one network and one code path.
    pub fn bound(self) -> Bound {
        match self {
            ModelKind::Iwae => Bound::Iwae,
            _ => Bound::Elbo,
        }
    }

    /// Whether the networks are given a class (observed, or for SVAE inferred where unlabelled):
    /// conditional and unconditional models are one code path.
    pub fn conditional(self) -> bool {
        matches!(self, ModelKind::Cgan | ModelKind::Iwcgan | ModelKind::Cvae | ModelKind::Aacvae) || self.semi_supervised()
    }

    /// Whether the class is observed for a `label_fraction` of the data only (SVAE, M2).
    pub fn semi_supervised(self) -> bool {
        matches!(self, ModelKind::Svae | ModelKind::Aasvae)
    }

    /// A VAE-family model's discriminator: the VAE's implicit perfect one, or a learned one
    /// (docs/spec.md §2.6). VAE and AAVAE are one code path.
    pub fn adversary(self) -> Adversary {
        match self {
            ModelKind::Aavae | ModelKind::Aacvae | ModelKind::Aasvae => Adversary::Learned,
            _ => Adversary::Perfect,
        }
    }

    /// The baseline a transferred model is compared with: AAVAE's VAE, IWGAN's GAN, and so on.
    pub fn baseline(self) -> Option<ModelKind> {
        Some(match self {
            ModelKind::Aavae => ModelKind::Vae,
            ModelKind::Aacvae => ModelKind::Cvae,
            ModelKind::Aasvae => ModelKind::Svae,
            ModelKind::Iwgan => ModelKind::Gan,
            ModelKind::Iwcgan => ModelKind::Cgan,
            _ => return None,
        })
    }

    /// How a GAN-family generator weights its samples: GAN and IWGAN are one code path.
    pub fn sample_weights(self) -> SampleWeights {
        match self {
            ModelKind::Iwgan | ModelKind::Iwcgan => SampleWeights::IMPORTANCE,
            _ => SampleWeights::Uniform,
        }
    }
}

/// The settings of the training loop, read by every model: epochs and steps, the batch, Adam, the
/// training subset, checkpoints and the epoch-end scores.
const LOOP: [&str; 12] = [
    "epochs", "batch_size", "lr", "beta1", "beta2", "adam_eps", "train_fraction", "subset_seed", "toy_train_size", "epoch_eval_size",
    "checkpoint_every", "max_steps",
];
/// An encoder and decoder (`models::vae`): the VAE family, the AAE and wake-sleep.
const VAE_NETS: [&str; 7] = ["latent_dim", "hidden", "activation", "network", "likelihood", "learn_variance", "gaussian_std"];
/// Model selection on a validation bound: models with an encoder (`train::selection`).
const SELECTION: [&str; 3] = ["validation", "eval_every", "patience"];
/// A generator and discriminator (`models::gan`).
/// The adversary of the adversary-activated VAEs.
const ADVERSARY: [&str; 12] = ["alpha", "weigh_real", "normalize_weights", "alpha_warmup", "generated", "generated_trains", "norm_stats", "freeze_d", "d_activation", "d_hidden", "d_channels", "d_steps"];
const GAN_NETS: [&str; 8] = ["latent_dim", "hidden", "activation", "d_activation", "d_hidden", "d_channels", "batch_norm", "network"];
/// The GAN family's update (InfoGAN aside).
const GAN_LOOP: [&str; 5] = ["d_steps", "generator_form", "g_ema", "init", "d_condition"];

impl ModelKind {
    /// Every setting this model reads; `unigen train` refuses any other (`config::TrainConfig`),
    /// so a setting never silently does nothing.
    pub fn settings(self) -> Vec<&'static str> {
        use ModelKind as M;
        let own: &[&[&str]] = match self {
            // `k` samples per example: averaged (ELBO) or combined (L_k).
            M::Vae | M::Iwae | M::Cvae => &[&VAE_NETS, &SELECTION, &["k"]],
            M::Svae => &[&VAE_NETS, &SELECTION, &["k", "label_fraction", "class_weight"]],
            // The learned adversary: a GAN discriminator that weighs examples.
            M::Aavae | M::Aacvae => &[&VAE_NETS, &SELECTION, &["k"], &ADVERSARY],
            M::Aasvae => &[&VAE_NETS, &SELECTION, &["k", "label_fraction", "class_weight"], &ADVERSARY],
            // Packing is defined for unconditional discriminators (a pack would mix classes);
            // conditioned on clusters of the data, their discriminator sees a class.
            M::Gan => &[&GAN_NETS, &GAN_LOOP, &["pack", "clusters"]],
            M::Cgan => &[&GAN_NETS, &GAN_LOOP],
            // The importance weights' floor on their share of the batch.
            M::Iwgan => &[&GAN_NETS, &GAN_LOOP, &["pack", "clusters", "ess_floor"]],
            M::Iwcgan => &[&GAN_NETS, &GAN_LOOP, &["ess_floor"]],
            // The non-saturating generator loss, one D update per step.
            M::Infogan => &[&GAN_NETS, &["info_weight", "init"]],
            // A code discriminator (an MLP whatever `network` says).
            M::Aae => &[&VAE_NETS, &SELECTION, &["d_steps", "d_activation"]],
            M::WakeSleep => &[&["latent_dim", "hidden", "activation", "likelihood", "learn_variance", "gaussian_std"], &SELECTION],
            M::Ada => &[&["latent_dim", "hidden", "activation", "d_activation", "domain_shift", "domain_weight"]],
            // A translator's input is an image, so no latent_dim.
            M::Cyclegan => &[&["hidden", "activation", "d_activation", "domain_shift", "cycle_weight", "identity_weight"]],
        };
        LOOP.iter().chain(own.iter().flat_map(|k| k.iter())).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The folder that holds a model's code, whose header names the settings it reads.
    fn folder(m: ModelKind) -> &'static str {
        use ModelKind as M;
        match m {
            M::Vae | M::Iwae | M::Cvae | M::Svae | M::Aavae | M::Aacvae | M::Aasvae => include_str!("models/vae/mod.rs"),
            M::Gan | M::Iwgan | M::Cgan | M::Iwcgan => include_str!("models/gan/mod.rs"),
            M::Infogan => include_str!("models/infogan/mod.rs"),
            M::Aae => include_str!("models/aae/mod.rs"),
            M::WakeSleep => include_str!("models/wake_sleep/mod.rs"),
            M::Ada => include_str!("models/ada/mod.rs"),
            M::Cyclegan => include_str!("models/cyclegan/mod.rs"),
        }
    }

    #[test]
    fn each_model_folder_names_the_settings_its_model_reads() {
        for &m in ModelKind::all() {
            let header: String = folder(m).lines().take_while(|l| l.starts_with("//!")).collect::<Vec<_>>().join(" ");
            let (_, named) = header.split_once("Settings read").unwrap_or_else(|| panic!("{}: no settings line", m.name()));
            for key in m.settings().into_iter().filter(|k| !LOOP.contains(k)) {
                assert!(named.contains(&format!("`{key}`")), "{}: its folder does not name `{key}`", m.name());
            }
        }
    }
}
