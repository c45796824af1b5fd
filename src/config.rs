//! Training configuration: every hyper-parameter with its documented default,
//! read from TOML (unknown keys rejected) and overridden by `--set key=value`.
//!
//! Defaults depend on the kind of data only: images (MNIST) get the usual
//! 784-500-500-50 Bernoulli VAE of Kingma & Welling; 2-D toy data get a small
//! Gaussian VAE. Everything else is one default, written once, below.

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::error::{Error, Result};
pub use crate::data::DataKind;
pub use crate::kind::{Family, ModelKind};
use crate::objectives::GeneratorForm;

/// How `p_theta(x | z)` scores an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Likelihood {
    /// Binarised pixels; log-likelihood from logits (BCE with logits).
    Bernoulli,
    /// Continuous data; the decoder outputs a mean and (if `learn_variance`) a log-variance.
    Gaussian,
}

/// Hidden-layer nonlinearity of the MLPs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Tanh,
    /// Leaky ReLU with slope 0.2, the usual discriminator nonlinearity.
    LeakyRelu,
    /// Maxout over [`MAXOUT_PIECES`] linear pieces per unit (Goodfellow et al. 2013), the
    /// discriminator of PacGAN's 2-D experiments: a hidden layer of width `w` computes `5 w`
    /// affine maps and keeps each unit's largest.
    Maxout,
}

/// Linear pieces per maxout unit (PacGAN's 5).
pub const MAXOUT_PIECES: usize = 5;

/// The kind of networks: of a GAN-family model's generator and discriminator, and of a VAE-family
/// model's decoder and encoder (the DCGAN generator's and discriminator's convolutions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// Fully connected, widths from `hidden`.
    Mlp,
    /// DCGAN-style convolutions with batch norm (images only; `hidden` is not used).
    Dcgan,
}

/// Where the initial weights of a GAN's networks come from (`init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// burn's: uniform within 1/sqrt(fan in).
    #[default]
    Default,
    /// DCGAN's: weights N(0, 0.02²), batch norm's scale N(1, 0.02²), biases 0 (`nets::init`).
    Dcgan,
}

/// How a conditional DCGAN discriminator sees the class `c` (`d_condition`). `Default` is what
/// runs made before the setting existed used; new runs default to `Channels` (`default_for`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conditioning {
    /// `l = w·h + (E c)·h` on the flattened features `h`.
    #[default]
    Projection,
    /// One constant input plane per class (`c` broadcast over the image), beside the image.
    Channels,
}

/// All hyper-parameters of a training run (`unigen train --set key=value` sets any of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Examples per optimiser step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Adam beta_1.
    pub beta1: f64,
    /// Adam beta_2.
    pub beta2: f64,
    /// Adam epsilon.
    pub adam_eps: f64,
    /// Dimension of the latent code z.
    pub latent_dim: usize,
    /// Widths of the hidden layers of encoder and decoder (the decoder mirrors them).
    pub hidden: Vec<usize>,
    /// Hidden nonlinearity of the encoder/decoder or generator.
    pub activation: Activation,
    /// GANs: hidden nonlinearity of the discriminator.
    #[serde(default = "defaults::d_activation")]
    pub d_activation: Activation,
    /// GANs and the adversary-activated models' MLP discriminator: its hidden widths (empty: the
    /// generator's `hidden`, reversed).
    #[serde(default)]
    pub d_hidden: Vec<usize>,
    /// GANs, MLP generator: batch norm before each hidden nonlinearity (its linear maps then have
    /// no bias), as in PacGAN's 2-D generator.
    #[serde(default)]
    pub batch_norm: bool,
    /// GAN and IWGAN: the discriminator judges packs of this many samples at once, concatenated
    /// into one input, all real or all generated (PacGAN, Lin et al. 2018); 1 is the plain
    /// discriminator. A batch of `batch_size` makes `batch_size / pack` packs.
    #[serde(default = "defaults::pack")]
    pub pack: usize,
    /// GAN and IWGAN: condition both networks on this many k-means clusters of the training
    /// data in place of labels (self-conditioning, Liu et al. 2020). Samples draw a cluster by its
    /// share of the training set, then an image given it, so the model stays unconditional; 0 (the
    /// default) is the plain GAN.
    #[serde(default)]
    pub clusters: usize,
    /// GANs and the adversary-activated models with `network = dcgan`: channels of the
    /// discriminator's first convolution (the second has twice as many), its capacity.
    #[serde(default = "defaults::d_channels")]
    pub d_channels: usize,
    /// CGAN and IW-CGAN with `network = dcgan`: how the discriminator sees the class,
    /// `channels` (one constant input plane per class, the default) or `projection` (onto its
    /// features). A run.toml written before the key existed was trained with the projection.
    #[serde(default)]
    pub d_condition: Conditioning,
    /// GAN, IWGAN, CGAN, IW-CGAN: the decay of an exponential moving average of the generator's
    /// weights, which then makes the samples and the scores (Yazici et al. 2019); 0 (the
    /// default) samples from the trained generator itself.
    #[serde(default)]
    pub g_ema: f64,
    /// IWGAN, IW-CGAN: the least share of a generator batch (Kish's effective sample size over
    /// its size; within each class for IW-CGAN) the importance weights may rest on. Where the
    /// discriminator's logits spread so far that `exp(l)` would rest on less, the step tempers
    /// them to `exp(beta l)` with the largest `beta` < 1 that reaches it. 0 (the default): the
    /// weights as they are; 1: uniform, the GAN.
    #[serde(default)]
    pub ess_floor: f64,
    /// GAN, IWGAN, CGAN, IW-CGAN, InfoGAN: the networks' initial weights, `default` (burn's) or `dcgan`
    /// (N(0, 0.02²), as the DCGAN and PacGAN papers' code).
    #[serde(default)]
    pub init: Init,
    /// GANs: discriminator updates per generator update.
    #[serde(default = "defaults::d_steps")]
    pub d_steps: usize,
    /// GANs: `non_saturating` (max log D(G(z)), the default) or `saturating` (min log(1 - D(G(z)))).
    #[serde(default = "defaults::generator_form")]
    pub generator_form: GeneratorForm,
    /// GANs: `mlp` or `dcgan` (convolutional, images only).
    #[serde(default = "defaults::network")]
    pub network: Network,
    /// `bernoulli` (binarised images) or `gaussian` (continuous data).
    pub likelihood: Likelihood,
    /// Gaussian likelihood only: learn a per-pixel log-variance (else use `gaussian_std`).
    pub learn_variance: bool,
    /// Gaussian likelihood only: the fixed standard deviation when `learn_variance = false`.
    pub gaussian_std: f64,
    /// Importance samples per example: the ELBO is averaged over them (`vae`),
    /// or combined into the IWAE bound L_k (`iwae`).
    pub k: usize,
    /// Fraction of the training set used (class-balanced, seeded by `subset_seed`).
    pub train_fraction: f64,
    /// Semi-supervised models (svae, aasvae): fraction of the training set whose labels are kept
    /// (class-balanced, seeded by `subset_seed`); the rest is unlabelled.
    #[serde(default = "defaults::label_fraction")]
    pub label_fraction: f64,
    /// Semi-supervised models: weight of `-log q(c|x)` on labelled examples, as the paper's
    /// `alpha / N` (Kingma et al. 2014 use `alpha = 0.1 N`): each labelled example's term weighs
    /// `class_weight * N / N_labelled` beside its bound.
    #[serde(default = "defaults::class_weight")]
    pub class_weight: f64,
    /// Adversary-activated models (aavae, aacvae, aasvae): weight `alpha` of the generated
    /// samples' term (docs/spec.md §2.6).
    #[serde(default = "defaults::alpha")]
    pub alpha: f64,
    /// Adversary-activated models: weigh real examples by `D(x)` too, as in the paper (`false`:
    /// real examples weigh 1, and only generated samples are weighted).
    #[serde(default = "defaults::weigh_real")]
    pub weigh_real: bool,
    /// Adversary-activated models: divide every weight of a batch by the mean weight of its real
    /// examples, so the real examples' term keeps the VAE's scale (under plain SGD a weight below
    /// 1 slows their learning by as much; Adam's update barely changes under such a near-constant factor) and generated samples keep their weight relative to them. `false`: the weights as D gives them, as in the paper.
    #[serde(default)]
    pub normalize_weights: bool,
    /// Adversary-activated models: `alpha` grows linearly from 0 over this many steps, so
    /// generated samples enter the objective only once decoder and D are past their first steps
    /// (0: the full `alpha` from the first step). D learns from the first step either way.
    #[serde(default)]
    pub alpha_warmup: u64,
    /// Adversary-activated models: the generated samples are draws from the decoder
    /// (`sampled`: binarised pixels, or the Gaussian's noise added) or its mean (`mean`).
    #[serde(default)]
    pub generated: Generated,
    /// Adversary-activated models: D keeps its initial weights and never learns, so the weights
    /// judge nothing (a control: what training on the model's own samples does without D's
    /// judgement). `false`: D learns, as in the paper.
    #[serde(default)]
    pub freeze_d: bool,
    /// Adversary-activated models: which networks the generated samples' term trains: `both`
    /// (encoder and decoder, as in the paper) or `encoder` (inference alone; the decoder is held
    /// fixed in that term, as wake-sleep's sleep phase trains only its recognition model).
    #[serde(default)]
    pub generated_trains: GeneratedTrains,
    /// Adversary-activated models with the convolutional nets (batch norm): which training passes
    /// move batch norm's running statistics, the ones evaluation normalises with. `real` (the
    /// default: the real examples' alone) or `all` (burn's behaviour: the generated samples'
    /// passes too, two of the decoder's three and one of the encoder's two each step). Every pass
    /// still normalises with its own batch's statistics. A run.toml written before the key
    /// existed was trained with `all`.
    #[serde(default)]
    pub norm_stats: NormStats,
    /// Seed of the training subset, fixed apart from the run seed so runs share a subset.
    pub subset_seed: u64,
    /// Toy data only: number of training points drawn.
    pub toy_train_size: usize,
    /// Test examples scored at the end of each epoch (0 = none); `unigen eval` uses all. On stacked
    /// MNIST, the samples whose modes are counted at each epoch's end.
    pub epoch_eval_size: usize,
    /// Also write a checkpoint every this many steps (0 = only at the end of each epoch).
    pub checkpoint_every: u64,
    /// Stop after this many optimiser steps, mid-epoch if need be (0 = after `epochs` epochs).
    #[serde(default)]
    pub max_steps: u64,
    /// Training examples held out as the validation set, used for model selection alone (0 =
    /// none): on MNIST the last `validation` of the 60,000 training digits (the subsets are drawn
    /// from the rest); on ring8 and grid25 as many points drawn apart. With it, the epoch-end
    /// scores are taken on validation examples and the test set is left for `unigen eval`.
    #[serde(default)]
    pub validation: usize,
    /// Steps between validation scores (0 = at the end of each epoch); each is a checkpoint.
    #[serde(default)]
    pub eval_every: u64,
    /// Stop after this many validation scores in a row without improvement (0 = never early).
    #[serde(default)]
    pub patience: usize,
    /// InfoGAN: weight `lambda` of the mutual-information term.
    #[serde(default = "defaults::one")]
    pub info_weight: f64,
    /// ADA and CycleGAN: how the second domain is made from MNIST (`thicken`: strokes dilated by a
    /// pixel; `invert`: white background).
    #[serde(default = "defaults::domain_shift")]
    pub domain_shift: crate::data::shift::Shift,
    /// ADA: weight of the domain-confusion term on the feature extractor (0 = source-only baseline).
    #[serde(default = "defaults::one")]
    pub domain_weight: f64,
    /// CycleGAN: weight of the cycle-consistency term.
    #[serde(default = "defaults::cycle_weight")]
    pub cycle_weight: f64,
    /// CycleGAN: weight of the identity term `|G_BA(a) - a| + |G_AB(b) - b|`, which asks each
    /// translator to leave images already in its output domain alone.
    #[serde(default = "defaults::identity_weight")]
    pub identity_weight: f64,
}

/// What an adversary-activated model's generated samples are (`generated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Generated {
    /// Draws from `p(x | z)`: binarised pixels, or the Gaussian's mean plus its noise.
    #[default]
    Sampled,
    /// The decoder's mean `E[x | z]`: pixel probabilities, or the Gaussian's mean.
    Mean,
}

/// Which networks an adversary-activated model's generated samples train (`generated_trains`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeneratedTrains {
    /// Encoder and decoder (and SVAE's classifier), as the real examples do.
    #[default]
    Both,
    /// The inference networks alone (encoder, and SVAE's classifier): in the generated term the
    /// decoder is a constant that gradients pass through to the codes.
    Encoder,
}

/// Which training passes move batch norm's running statistics (`norm_stats`). `Default` is what
/// runs made before the setting existed used; new runs default to `Real` (`default_for`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormStats {
    /// Every pass in training mode, generated samples' included (burn's behaviour).
    #[default]
    All,
    /// The passes over real examples alone: the statistics describe the data evaluation scores.
    Real,
}

/// Defaults of keys added after the first release, so older `run.toml` files still load.
mod defaults {
    use super::{Activation, GeneratorForm, Network};
    pub fn network() -> Network {
        Network::Mlp
    }
    pub fn d_activation() -> Activation {
        Activation::LeakyRelu
    }
    pub fn d_steps() -> usize {
        1
    }
    pub fn pack() -> usize {
        1
    }
    /// The DCGAN's 64 (`nets::dcgan::CHANNELS`, which a test holds equal).
    pub fn d_channels() -> usize {
        64
    }
    pub fn generator_form() -> GeneratorForm {
        GeneratorForm::NonSaturating
    }
    pub fn label_fraction() -> f64 {
        0.1
    }
    pub fn class_weight() -> f64 {
        0.1
    }
    pub fn alpha() -> f64 {
        1.0
    }
    pub fn weigh_real() -> bool {
        true
    }
    pub fn one() -> f64 {
        1.0
    }
    pub fn domain_shift() -> crate::data::shift::Shift {
        crate::data::shift::Shift::Thicken
    }
    pub fn cycle_weight() -> f64 {
        10.0
    }
    /// Zhu et al.'s 0.5 times the cycle weight.
    pub fn identity_weight() -> f64 {
        5.0
    }
}


impl TrainConfig {
    /// The defaults for a kind of data and a model. GANs follow DCGAN's Adam settings
    /// (lr 2e-4, beta_1 0.5) on images. The AAE's code discriminator gets 5 updates per step:
    /// with 1 it trails the encoder, whose codes then drift far from the prior (MMD^2 0.29 against
    /// 0.007 with 5 on MNIST, docs/results.md).
    pub fn default_for(kind: DataKind, model: ModelKind) -> Self {
        let images = kind == DataKind::Images;
        let gan = model.family() == Family::Gan;
        TrainConfig {
            epochs: if images { 50 } else { 100 },
            batch_size: if images { 100 } else { 256 },
            lr: if gan && images { 2e-4 } else { 1e-3 },
            beta1: if gan { 0.5 } else { 0.9 },
            beta2: 0.999,
            adam_eps: 1e-8,
            latent_dim: if images { 50 } else { 2 },
            hidden: if images { vec![500, 500] } else { vec![256, 256] },
            activation: Activation::Relu,
            d_activation: defaults::d_activation(),
            d_hidden: Vec::new(),
            batch_norm: false,
            pack: defaults::pack(),
            clusters: 0,
            // Measured (docs/unified.md): with the projection, an IW-CGAN's weights starve.
            d_condition: Conditioning::Channels,
            d_channels: defaults::d_channels(),
            g_ema: 0.0,
            ess_floor: 0.0,
            init: Init::Default,
            d_steps: if model == ModelKind::Aae { 5 } else { defaults::d_steps() },
            generator_form: defaults::generator_form(),
            network: defaults::network(),
            likelihood: if images { Likelihood::Bernoulli } else { Likelihood::Gaussian },
            learn_variance: true,
            gaussian_std: 0.1,
            k: 1,
            train_fraction: 1.0,
            label_fraction: defaults::label_fraction(),
            class_weight: defaults::class_weight(),
            alpha: defaults::alpha(),
            weigh_real: defaults::weigh_real(),
            normalize_weights: false,
            alpha_warmup: 0,
            generated: Generated::Sampled,
            freeze_d: false,
            generated_trains: GeneratedTrains::Both,
            // Measured (docs/unified.md): statistics that follow the model's own samples cost
            // the conv AA-VAE 1.2 nats of test ELBO at 1% data.
            norm_stats: NormStats::Real,
            subset_seed: 0,
            toy_train_size: 20_000,
            epoch_eval_size: if images { 1000 } else { 2000 },
            checkpoint_every: 0,
            max_steps: 0,
            validation: 0,
            eval_every: 0,
            patience: 0,
            info_weight: defaults::one(),
            domain_shift: defaults::domain_shift(),
            domain_weight: defaults::one(),
            cycle_weight: defaults::cycle_weight(),
            identity_weight: defaults::identity_weight(),
        }
    }

    /// The defaults for a data set and a model: those of its kind, and on the PacGAN presets
    /// (`ring8-pacgan`, `grid25-pacgan`) the protocol of PacGAN's 2-D experiments (Lin et al.
    /// 2018, from their code) for every setting the model reads: 100,000 training points,
    /// batch 100, 400 epochs; a GAN's generator 4 x 400 ReLU with batch norm, its discriminator
    /// 3 x 200 maxout units of 5 pieces, Adam lr 1e-4, beta_1 0.8, weights from N(0, 0.02²)
    /// (`init = dcgan`).
    pub fn for_data(data: &crate::data::DataSource, model: ModelKind) -> Self {
        let mut c = Self::default_for(data.kind(), model);
        if data.toy().is_some_and(crate::data::Toy::pacgan) {
            let reads = model.settings();
            let reads = |key: &str| reads.contains(&key);
            c.toy_train_size = 100_000;
            c.batch_size = 100;
            c.epochs = 400;
            if reads("batch_norm") {
                c.hidden = vec![400; 4];
                c.batch_norm = true;
                c.d_hidden = vec![200; 3];
                c.d_activation = Activation::Maxout;
                c.lr = 1e-4;
                c.beta1 = 0.8;
                c.init = Init::Dcgan;
            }
        }
        // Stacked MNIST: VEEGAN's and PacGAN's DCGAN settings (z of 100, batch 64, 50 epochs of
        // 128,000 images; Adam as for every image GAN; DCGAN's initial weights). Our DCGAN pair
        // has two convolutions a side to their four, and one generator update a step to their two.
        if matches!(data, crate::data::DataSource::StackedMnist { .. }) && model.settings().contains(&"network") {
            c.network = Network::Dcgan;
            c.latent_dim = 100;
            c.batch_size = 64;
            c.init = Init::Dcgan;
            // The samples each epoch's mode count reads (their 26,000).
            c.epoch_eval_size = crate::data::stacked::SAMPLES;
        }
        c
    }

    /// Defaults for `kind` and `model`, then the TOML file (if any), then each `key=value` override.
    ///
    /// ```
    /// use unigen::config::{DataKind, TrainConfig};
    /// use unigen::models::ModelKind;
    ///
    /// let c = TrainConfig::resolve(DataKind::Images, ModelKind::Iwae, None, &["k=5".into()])?;
    /// assert_eq!((c.k, c.hidden.clone()), (5, vec![500, 500]));
    /// // A setting the model does not read is refused, naming the models that do.
    /// let e = TrainConfig::resolve(DataKind::Images, ModelKind::Gan, None, &["k=5".into()]).unwrap_err();
    /// assert!(e.to_string().contains("`k` is not read by gan"));
    /// # Ok::<(), unigen::Error>(())
    /// ```
    pub fn resolve(kind: DataKind, model: ModelKind, file: Option<&Path>, sets: &[String]) -> Result<Self> {
        Self::default_for(kind, model).overridden(model, kind, file, sets)
    }

    /// This config, then the TOML file (if any), then each `key=value` override. Only settings
    /// that `model` reads on `kind` of data are accepted ([`ModelKind::settings`]); any other is
    /// refused, naming the models that read it. (A saved `run.toml` holds every key: it is read
    /// whole, never through here.)
    pub fn overridden(&self, model: ModelKind, kind: DataKind, file: Option<&Path>, sets: &[String]) -> Result<Self> {
        let defaults = toml::Table::try_from(self).expect("config serialises");
        // Each override with where it came from, so an error names the file or `--set`.
        let mut given: Vec<(String, toml::Value, String)> = Vec::new();
        if let Some(path) = file {
            let source = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            let from_file: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| Error::Config { path: source.clone(), problem: e.message().to_string() })?;
            given.extend(from_file.into_iter().map(|(k, v)| (k, v, source.clone())));
        }
        for set in sets {
            let (key, value) = parse_set(set)?;
            given.push((key, value, "--set".to_string()));
        }
        let mut table = defaults.clone();
        for (key, value, source) in &given {
            check_known_key(&defaults, key, source)?;
            check_read(model, kind, key, source)?;
            // Typed alone against the defaults, so a wrong type names its key.
            let mut alone = defaults.clone();
            alone.insert(key.clone(), value.clone());
            if let Err(e) = alone.try_into::<TrainConfig>() {
                return Err(Error::Config { path: source.clone(), problem: format!("`{key}`: {}", e.message()) });
            }
            table.insert(key.clone(), value.clone());
        }
        let source = given.last().map_or("defaults".to_string(), |g| g.2.clone());
        let config: TrainConfig = table
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config { path: source.clone(), problem: e.message().to_string() })?;
        config.validate().map_err(|problem| Error::Config { path: source.clone(), problem })?;
        for (key, value, source) in &given {
            if let Some(when) = config.unread_because(model, key) {
                return Err(Error::Config { path: source.clone(), problem: format!("`{key} = {value}` would do nothing: it is read {when}") });
            }
        }
        Ok(config)
    }

    /// Why `key` does nothing under this config's other settings, for the settings read only
    /// with certain values of others; `None` for the rest.
    fn unread_because(&self, model: ModelKind, key: &str) -> Option<&'static str> {
        let gaussian = self.likelihood == Likelihood::Gaussian;
        let mlp = self.network == Network::Mlp;
        let unconditional = matches!(model, ModelKind::Gan | ModelKind::Iwgan);
        match key {
            // The plain GAN's discriminator sees no class; one conditioned on clusters does.
            "d_condition" if unconditional && self.clusters == 0 => Some("with `clusters` > 0 (or by cgan and iwcgan)"),
            "learn_variance" if !gaussian => Some("only with likelihood = gaussian"),
            "gaussian_std" if !gaussian || self.learn_variance => Some("only with likelihood = gaussian and learn_variance = false"),
            // The convolutional discriminator has its own layers and leaky ReLU.
            "d_hidden" | "batch_norm" | "d_activation" if !mlp => Some("only with network = mlp"),
            // The MLP discriminator reads the class concatenated onto its input.
            "d_condition" | "d_channels" if mlp => Some("only with network = dcgan"),
            // The MLP encoder and decoder have no batch norm.
            "norm_stats" if mlp => Some("only with network = dcgan (the MLP encoder and decoder have no batch norm)"),
            _ => None,
        }
    }

    /// Ranges that serde cannot check.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let positive = [
            ("epochs", self.epochs),
            ("batch_size", self.batch_size),
            ("latent_dim", self.latent_dim),
            ("k", self.k),
            ("d_steps", self.d_steps),
            ("pack", self.pack),
            ("d_channels", self.d_channels),
            ("toy_train_size", self.toy_train_size),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(format!("`{name}` must be at least 1, got 0"));
            }
        }
        for (name, widths) in [("hidden", &self.hidden), ("d_hidden", &self.d_hidden)] {
            if widths.contains(&0) {
                return Err(format!("`{name}` widths must be at least 1, got {widths:?}"));
            }
        }
        if self.clusters > crate::data::kmeans::MAX_CLUSTERS {
            return Err(format!("`clusters` must be at most {}, got {}", crate::data::kmeans::MAX_CLUSTERS, self.clusters));
        }
        if self.clusters > 0 && self.pack > 1 {
            return Err(format!("`clusters` ({}) and `pack` ({}) do not combine: a pack would mix clusters", self.clusters, self.pack));
        }
        if !self.batch_size.is_multiple_of(self.pack) {
            return Err(format!("`batch_size` ({}) must be a multiple of `pack` ({}): the discriminator judges whole packs", self.batch_size, self.pack));
        }
        if !(self.train_fraction > 0.0 && self.train_fraction <= 1.0) {
            return Err(format!("`train_fraction` must be in (0, 1], got {}", self.train_fraction));
        }
        if !(self.label_fraction > 0.0 && self.label_fraction < 1.0) {
            return Err(format!("`label_fraction` must be in (0, 1): some labelled and some unlabelled data; got {}", self.label_fraction));
        }
        for (name, v) in [
            ("alpha", self.alpha),
            ("class_weight", self.class_weight),
            ("info_weight", self.info_weight),
            ("domain_weight", self.domain_weight),
            ("cycle_weight", self.cycle_weight),
            ("identity_weight", self.identity_weight),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("`{name}` must be a number >= 0, got {v}"));
            }
        }
        if !(0.0..=1.0).contains(&self.ess_floor) {
            return Err(format!("`ess_floor` must be a share of the batch in [0, 1], got {}", self.ess_floor));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(format!("`lr` must be a positive number, got {}", self.lr));
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2), ("g_ema", self.g_ema)] {
            if !(0.0..1.0).contains(&b) {
                return Err(format!("`{name}` must be in [0, 1), got {b}"));
            }
        }
        for (name, set) in [("eval_every", self.eval_every > 0), ("patience", self.patience > 0)] {
            if set && self.validation == 0 {
                return Err(format!("`{name}` selects on a validation set: set `validation` too (e.g. validation = 10000)"));
            }
        }
        if self.freeze_d && self.d_steps > 1 {
            return Err(format!("`d_steps` = {} would do nothing with `freeze_d`: a frozen D takes no updates", self.d_steps));
        }
        if !(self.gaussian_std > 0.0) {
            return Err(format!("`gaussian_std` must be positive, got {}", self.gaussian_std));
        }
        Ok(())
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serialises")
    }

    /// The settings `model` reads whose values differ between two configs. One it does not
    /// read cannot change its run, though its default may have changed since (`d_condition`);
    /// nor can one that neither config reads with its other settings (`norm_stats` with the MLP).
    pub fn changed_keys(&self, other: &TrainConfig, model: ModelKind) -> Vec<String> {
        let (a, b) = (toml::Table::try_from(self).unwrap(), toml::Table::try_from(other).unwrap());
        let read = model.settings();
        let unread = |k: &str| self.unread_because(model, k).is_some() && other.unread_because(model, k).is_some();
        a.keys().filter(|k| read.contains(&k.as_str()) && a.get(*k) != b.get(*k) && !unread(k)).cloned().collect()
    }
}

/// Refuses a setting the model does not read, or (`toy_train_size`) one the data does not use.
fn check_read(model: ModelKind, kind: DataKind, key: &str, source: &str) -> Result<()> {
    if key == "toy_train_size" && kind == DataKind::Images {
        return Err(Error::Config {
            path: source.to_string(),
            problem: "`toy_train_size` sizes the drawn training set of ring8 and grid25; MNIST has its own".into(),
        });
    }
    if model.settings().contains(&key) {
        return Ok(());
    }
    let readers: Vec<&str> = ModelKind::all().iter().filter(|m| m.settings().contains(&key)).map(|m| m.name()).collect();
    Err(Error::Config {
        path: source.to_string(),
        problem: format!("`{key}` is not read by {}, so it would do nothing; the models that read it: {}", model.name(), readers.join(", ")),
    })
}

fn check_known_key(defaults: &toml::Table, key: &str, source: &str) -> Result<()> {
    if defaults.contains_key(key) {
        return Ok(());
    }
    let known: Vec<&str> = defaults.keys().map(String::as_str).collect();
    Err(Error::Config {
        path: source.to_string(),
        problem: format!("unknown key `{key}`; known keys: {}", known.join(", ")),
    })
}

/// `key=value`, the value read as TOML (`lr=3e-4`, `hidden=[200,200]`), or as a bare string
/// (`likelihood=gaussian`) when it is not valid TOML.
fn parse_set(set: &str) -> Result<(String, toml::Value)> {
    let (key, raw) = set.split_once('=').ok_or_else(|| Error::Config {
        path: "--set".into(),
        problem: format!("`{set}` is not of the form key=value"),
    })?;
    let key = key.trim().to_string();
    let raw = raw.trim();
    let value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(sets: &[&str]) -> String {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        TrainConfig::resolve(DataKind::Images, ModelKind::Vae, None, &sets).unwrap_err().to_string()
    }

    #[test]
    fn overrides_apply_in_order() {
        let sets = ["lr=3e-4", "hidden=[200, 200]", "likelihood=gaussian", "k=5"].map(String::from);
        let c = TrainConfig::resolve(DataKind::Images, ModelKind::Vae, None, &sets).unwrap();
        assert_eq!(c.lr, 3e-4);
        assert_eq!(c.hidden, vec![200, 200]);
        assert_eq!(c.likelihood, Likelihood::Gaussian);
        assert_eq!(c.k, 5);
    }

    #[test]
    fn unknown_key_is_named() {
        let e = err(&["learning_rate=1"]);
        assert!(e.contains("unknown key `learning_rate`") && e.contains("lr"), "{e}");
    }

    #[test]
    fn wrong_type_and_range_are_reported() {
        let e = err(&["epochs=many"]);
        assert!(e.contains("--set") && e.contains("`epochs`"), "{e}");
        assert!(err(&["train_fraction=1.5"]).contains("train_fraction"));
        assert!(err(&["k=0"]).contains("`k` must be at least 1"));
        assert!(err(&["likelihood=poisson"]).contains("poisson"));
        assert!(err(&["nokey"]).contains("key=value"));
    }

    #[test]
    fn file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        std::fs::write(&path, "epochs = 3\nbogus = 1\n").unwrap();
        let e = TrainConfig::resolve(DataKind::Images, ModelKind::Vae, Some(&path), &[]).unwrap_err().to_string();
        assert!(e.contains("run.toml") && e.contains("unknown key `bogus`"), "{e}");
        std::fs::write(&path, "epochs = \n").unwrap();
        let e = TrainConfig::resolve(DataKind::Images, ModelKind::Vae, Some(&path), &[]).unwrap_err().to_string();
        assert!(e.contains("run.toml"), "{e}");
        std::fs::write(&path, "epochs = 3\nhidden = [64]\n").unwrap();
        let c = TrainConfig::resolve(DataKind::Images, ModelKind::Vae, Some(&path), &["epochs=4".into()]).unwrap();
        assert_eq!((c.epochs, c.hidden.clone()), (4, vec![64]));
    }

    #[test]
    fn overrides_on_a_saved_config_and_changed_keys() {
        let saved = TrainConfig::resolve(DataKind::Images, ModelKind::Vae, None, &["hidden=[200,200]".into()]).unwrap();
        let same = saved.overridden(ModelKind::Vae, DataKind::Images, None, &["hidden=[200,200]".into(), "epochs=70".into()]).unwrap();
        assert_eq!(saved.changed_keys(&same, ModelKind::Vae), vec!["epochs".to_string()]);
        let other = saved.overridden(ModelKind::Vae, DataKind::Images, None, &["lr=0.1".into()]).unwrap();
        assert_eq!(saved.changed_keys(&other, ModelKind::Vae), vec!["lr".to_string()]);
    }

    #[test]
    fn settings_a_model_does_not_read_are_refused_naming_the_models_that_do() {
        let refused = |kind: DataKind, model: ModelKind, set: &str| {
            TrainConfig::resolve(kind, model, None, &[set.to_string()]).expect_err(set).to_string()
        };
        let e = refused(DataKind::Images, ModelKind::Gan, "alpha=0.5");
        assert!(e.starts_with("--set: ") && e.contains("`alpha` is not read by gan") && e.contains("aavae, aacvae, aasvae"), "{e}");
        for (model, set) in [
            (ModelKind::Gan, "k=5"),
            (ModelKind::Gan, "likelihood=gaussian"),
            (ModelKind::Gan, "label_fraction=0.5"),
            (ModelKind::Aae, "generator_form=saturating"),
            (ModelKind::Infogan, "generator_form=saturating"),
            (ModelKind::Vae, "d_steps=3"),
            (ModelKind::Gan, "freeze_d=true"),
            (ModelKind::Svae, "generated_trains=encoder"),
            (ModelKind::Vae, "cycle_weight=3"),
            (ModelKind::Cyclegan, "latent_dim=8"),
        ] {
            assert!(refused(DataKind::Images, model, set).contains(&format!("is not read by {}", model.name())), "{set}");
        }
        assert!(refused(DataKind::Images, ModelKind::Vae, "toy_train_size=10").contains("ring8 and grid25"));
        let frozen = TrainConfig::resolve(DataKind::Images, ModelKind::Aavae, None, &["freeze_d=true".into(), "d_steps=2".into()]);
        assert!(frozen.expect_err("d_steps with a frozen D").to_string().contains("would do nothing with `freeze_d`"));
        // Read only with certain values of others.
        assert!(refused(DataKind::Images, ModelKind::Vae, "gaussian_std=0.2").contains("only with likelihood = gaussian"));
        assert!(refused(DataKind::Images, ModelKind::Vae, "learn_variance=false").contains("only with likelihood = gaussian"));
        let mlp = TrainConfig::resolve(DataKind::Images, ModelKind::Aavae, None, &["network=mlp".into(), "norm_stats=real".into()]);
        assert!(mlp.expect_err("norm_stats without batch norm").to_string().contains("no batch norm"));
        assert!(refused(DataKind::Points2d, ModelKind::Vae, "gaussian_std=0.2").contains("learn_variance = false"));
        let c = TrainConfig::resolve(DataKind::Points2d, ModelKind::Vae, None, &["learn_variance=false".into(), "gaussian_std=0.2".into()]).unwrap();
        assert_eq!(c.gaussian_std, 0.2);
        // Every setting a model lists is a real key, and it accepts it.
        let keys = toml::Table::try_from(TrainConfig::default_for(DataKind::Points2d, ModelKind::Vae)).unwrap();
        for &model in ModelKind::all() {
            for key in model.settings() {
                assert!(keys.contains_key(key), "{} lists unknown `{key}`", model.name());
                // Keys read only with another's value, given with it.
                let with: &[String] = match key {
                    "gaussian_std" => &["learn_variance=false".into()],
                    "d_condition" if matches!(model, ModelKind::Gan | ModelKind::Iwgan) => &["network=dcgan".into(), "clusters=2".into()],
                    "d_condition" | "d_channels" | "norm_stats" => &["network=dcgan".into()],
                    _ => &[],
                };
                let sets: Vec<String> = with.iter().cloned().chain([format!("{key}={}", keys[key])]).collect();
                let kind = if matches!(key, "d_condition" | "d_channels" | "norm_stats") { DataKind::Images } else { DataKind::Points2d };
                TrainConfig::resolve(kind, model, None, &sets).unwrap_or_else(|e| panic!("{}: {e}", model.name()));
            }
        }
    }

    /// Packing, the MLP discriminator's widths and the generator's batch norm are refused where
    /// they would do nothing, and a batch must hold whole packs.
    #[test]
    fn packing_and_discriminator_shape_are_checked() {
        let resolve = |model: ModelKind, sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            TrainConfig::resolve(DataKind::Points2d, model, None, &sets).map_err(|e| e.to_string())
        };
        let c = resolve(ModelKind::Iwgan, &["pack=4", "batch_size=200", "d_hidden=[20, 10]"]).unwrap();
        assert_eq!((c.pack, c.d_hidden.clone()), (4, vec![20, 10]));
        assert!(resolve(ModelKind::Cgan, &["pack=2"]).unwrap_err().contains("`pack` is not read by cgan"));
        assert!(resolve(ModelKind::Gan, &["pack=3", "batch_size=100"]).unwrap_err().contains("multiple of `pack`"));
        assert!(resolve(ModelKind::Gan, &["pack=0"]).unwrap_err().contains("`pack` must be at least 1"));
        assert!(resolve(ModelKind::Gan, &["network=dcgan", "batch_norm=true"]).unwrap_err().contains("only with network = mlp"));
        assert!(resolve(ModelKind::Aavae, &["network=dcgan", "d_hidden=[10]"]).unwrap_err().contains("only with network = mlp"));
        assert!(resolve(ModelKind::Vae, &["batch_norm=true"]).unwrap_err().contains("is not read by vae"));
        assert!(resolve(ModelKind::Cgan, &["d_condition=channels"]).unwrap_err().contains("only with network = dcgan"));
        assert!(resolve(ModelKind::Aavae, &["d_channels=32"]).unwrap_err().contains("only with network = dcgan"));
        assert!(resolve(ModelKind::Aavae, &["network=dcgan", "d_channels=0"]).unwrap_err().contains("`d_channels` must be at least 1"));
        assert_eq!(resolve(ModelKind::Aavae, &["network=dcgan", "d_channels=32"]).unwrap().d_channels, 32);
        assert!(resolve(ModelKind::Gan, &["network=dcgan", "d_condition=channels"]).unwrap_err().contains("with `clusters` > 0"));
    }

    /// Clusters are for the unconditional GANs, at most 256 (a byte a label), and never with
    /// packing; with them the plain GAN reads `d_condition`.
    #[test]
    fn clusters_are_checked() {
        let resolve = |model: ModelKind, sets: &[&str]| {
            let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            TrainConfig::resolve(DataKind::Images, model, None, &sets).map_err(|e| e.to_string())
        };
        assert_eq!(resolve(ModelKind::Iwgan, &["clusters=50"]).unwrap().clusters, 50);
        let c = resolve(ModelKind::Gan, &["network=dcgan", "clusters=10", "d_condition=projection"]).unwrap();
        assert_eq!((c.clusters, c.d_condition), (10, Conditioning::Projection));
        assert!(resolve(ModelKind::Gan, &["clusters=257"]).unwrap_err().contains("`clusters` must be at most 256"));
        assert!(resolve(ModelKind::Gan, &["clusters=10", "pack=2"]).unwrap_err().contains("a pack would mix clusters"));
        assert!(resolve(ModelKind::Cgan, &["clusters=10"]).unwrap_err().contains("`clusters` is not read by cgan"));
        assert!(resolve(ModelKind::Vae, &["clusters=10"]).unwrap_err().contains("`clusters` is not read by vae"));
    }

    /// The PacGAN presets default to PacGAN's protocol for what a model reads, nothing else.
    #[test]
    fn the_pacgan_presets_bring_pacgan_s_protocol() {
        use crate::data::DataSource;
        let gan = TrainConfig::for_data(&DataSource::Ring8Pacgan, ModelKind::Iwgan);
        assert_eq!((gan.hidden.clone(), gan.d_hidden.clone(), gan.batch_norm, gan.d_activation), (vec![400; 4], vec![200; 3], true, Activation::Maxout));
        assert_eq!((gan.batch_size, gan.epochs, gan.toy_train_size, gan.lr, gan.beta1, gan.init), (100, 400, 100_000, 1e-4, 0.8, Init::Dcgan));
        let vae = TrainConfig::for_data(&DataSource::Grid25Pacgan, ModelKind::Vae);
        let plain = TrainConfig::default_for(DataKind::Points2d, ModelKind::Vae);
        assert_eq!(vae.changed_keys(&plain, ModelKind::Vae), vec!["batch_size", "epochs", "toy_train_size"]);
        assert_eq!(TrainConfig::for_data(&DataSource::Ring8, ModelKind::Gan), TrainConfig::default_for(DataKind::Points2d, ModelKind::Gan));
    }

    #[test]
    fn round_trips_through_toml() {
        let c = TrainConfig::default_for(DataKind::Points2d, ModelKind::Vae);
        let back: TrainConfig = toml::from_str(&c.to_toml()).unwrap();
        assert_eq!(c, back);
    }

    /// A run.toml from before a key existed reads back with what its run was trained with, not
    /// with today's default: the projection (`d_condition`), every pass's statistics
    /// (`norm_stats`).
    #[test]
    fn runs_from_before_a_key_keep_what_they_were_trained_with() {
        let new = TrainConfig { network: Network::Dcgan, ..TrainConfig::default_for(DataKind::Images, ModelKind::Cgan) };
        assert_eq!((new.d_condition, new.norm_stats), (Conditioning::Channels, NormStats::Real));
        let mut old = toml::Table::try_from(&new).unwrap();
        old.remove("d_condition");
        old.remove("norm_stats");
        let old: TrainConfig = old.try_into().unwrap();
        assert_eq!((old.d_condition, old.norm_stats), (Conditioning::Projection, NormStats::All));
        // Each is read by its own models: an old run resumes under today's defaults only where
        // neither changed key is read.
        assert_eq!(old.changed_keys(&new, ModelKind::Cgan), vec!["d_condition"]);
        assert_eq!(old.changed_keys(&new, ModelKind::Aavae), vec!["norm_stats"]);
        assert!(old.changed_keys(&new, ModelKind::Vae).is_empty());
        // Nor where the nets do not read it: the MLP has no batch norm and no input planes.
        let (mut old, mut new) = (old, new);
        (old.network, new.network) = (Network::Mlp, Network::Mlp);
        assert!(old.changed_keys(&new, ModelKind::Aavae).is_empty());
        assert!(old.changed_keys(&new, ModelKind::Cgan).is_empty());
        // A change of nets names the nets, and what only the new ones read.
        new.network = Network::Dcgan;
        assert_eq!(old.changed_keys(&new, ModelKind::Aavae), vec!["network", "norm_stats"]);
        assert_eq!(old.changed_keys(&new, ModelKind::Cgan), vec!["d_condition", "network"]);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Keys that exist, keys that do not, and odd ones.
        fn key() -> impl Strategy<Value = String> {
            let known: Vec<String> = toml::Table::try_from(TrainConfig::default_for(DataKind::Images, ModelKind::Vae))
                .unwrap()
                .keys()
                .cloned()
                .collect();
            prop_oneof![proptest::sample::select(known), "[a-z_]{0,12}", ".{0,8}"]
        }

        /// TOML-ish values: numbers, strings, arrays, tables, garbage.
        fn value() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<i64>().prop_map(|v| v.to_string()),
                any::<f64>().prop_map(|v| v.to_string()),
                "\"[a-z]{0,8}\"",
                proptest::collection::vec(any::<i32>(), 0..4).prop_map(|v| format!("{v:?}")),
                "(true|false|nan|inf|-inf|\\[\\[|\\{a=1\\})",
                ".{0,12}",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn any_set_either_applies_and_validates_or_names_its_source(k in key(), v in value()) {
                let base = TrainConfig::default_for(DataKind::Images, ModelKind::Vae);
                match base.overridden(ModelKind::Vae, DataKind::Images, None, &[format!("{k}={v}")]) {
                    Ok(c) => prop_assert!(c.validate().is_ok()),
                    Err(e) => prop_assert!(e.to_string().starts_with("--set: "), "{}", e),
                }
            }

            #[test]
            fn any_config_file_either_applies_and_validates_or_names_the_file(
                lines in proptest::collection::vec((key(), value()), 0..6),
                junk in proptest::collection::vec(any::<u8>(), 0..64),
                raw in any::<bool>(),
            ) {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("c.toml");
                let text: Vec<u8> = if raw { junk } else { lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect::<String>().into_bytes() };
                std::fs::write(&path, &text).unwrap();
                let base = TrainConfig::default_for(DataKind::Points2d, ModelKind::Gan);
                match base.overridden(ModelKind::Gan, DataKind::Points2d, Some(&path), &[]) {
                    Ok(c) => prop_assert!(c.validate().is_ok()),
                    Err(e) => prop_assert!(e.to_string().contains("c.toml"), "{}", e),
                }
            }
        }
    }
}