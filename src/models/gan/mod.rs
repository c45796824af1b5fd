//! GAN and IWGAN (docs/spec.md §2.3, §2.4) and their conditional versions CGAN and IW-CGAN (§2.5):
//! generator `p_theta(x | z, c)`, discriminator `D_phi(x, c) = q_phi(y = 1 | x, c) = sigmoid(l)`.
//! The class `c` enters both networks as a one-hot vector concatenated onto their inputs;
//! unconditional models have no `c`, unless conditioned on clusters of their data
//! (`clusters = K`, self-conditioning): then `c` is a k-means cluster ([`crate::data::kmeans`]),
//! drawn by its share of the training set when sampling ([`ClusterPrior`]), and the model is
//! unconditional from outside.
//!
//! The objectives are [`crate::objectives::discriminator_loss`] and
//! [`crate::objectives::generator_loss`]; GAN and IWGAN differ only in its `SampleWeights`, and an
//! IWGAN whose weights are tempered to uniform (`ess_floor = 1`) is the GAN.
//!
//! Settings read (`unigen train gan`; the loop's own, `epochs` to `max_steps`, apply to
//! every model; any other is refused, `kind.rs`): `latent_dim`, `hidden`, `activation`, `d_activation`, `d_hidden`, `d_channels`, `batch_norm`, `network`, `d_steps`, `generator_form`, `g_ema` (an average of the generator's weights makes the samples, `ema.rs`), `init` (burn's or DCGAN's initial weights), `pack` (GAN and IWGAN: PacGAN's packing; a pack shares one importance weight), `clusters` (GAN and IWGAN: conditioned on k-means clusters of the data), `d_condition` (CGAN and IW-CGAN, and GAN and IWGAN with clusters; conv discriminator: the class by projection or as input planes), `ess_floor` (IWGAN and IW-CGAN: the least share of a batch the importance weights rest on; below it they are tempered, `step.rs`).

pub mod ema;
pub mod step;
pub use step::GanTrainer;

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use rand::Rng;
use rand::distr::weighted::WeightedIndex;

use super::trained::{Model, from_gan_pixels, prior_draws, to_gan_pixels};
use super::with_condition;
use crate::data::DataKind;
use crate::host::{host, one_hot, tensor};
use crate::run::RunSpec;
use crate::config::{Network, TrainConfig};
use crate::kernels::activation::tanh;
use crate::nets::{Conditioning, ConvDown, ConvUp, DcganConfig, Mlp, MlpConfig};

#[derive(Debug, Clone)]
pub struct GanConfig {
    pub network: Network,
    pub x_dim: usize,
    pub latent_dim: usize,
    /// Number of classes the networks are conditioned on (0: unconditional).
    pub classes: usize,
    /// MLP only: generator hidden widths (the discriminator mirrors them) and nonlinearities.
    pub mlp_generator: MlpConfig,
    pub mlp_discriminator: MlpConfig,
    /// Squash the generator's output into (-1, 1), where image pixels are scaled for GANs.
    pub tanh_output: bool,
    /// Outputs of the discriminator beside its logit: a head that shares its body (InfoGAN's Q).
    pub extra_outputs: usize,
    /// Samples the discriminator judges as one input (PacGAN's packing; 1: each alone).
    pub pack: usize,
    /// How the convolutional discriminator of a conditional model sees the class.
    pub conditioning: Conditioning,
    /// Channels of the convolutional discriminator's first layer.
    pub d_channels: usize,
    /// Channels of an image (3 for stacked MNIST).
    pub image_channels: usize,
}

impl GanConfig {
    /// MLP generator `latent (+ classes) -> hidden -> x_dim`, discriminator
    /// `x_dim (+ classes) -> reversed hidden -> 1`; or the DCGAN pair for images.
    pub fn new(x_dim: usize, c: &TrainConfig, images: bool, classes: usize) -> Self {
        let d_hidden = if c.d_hidden.is_empty() { c.hidden.iter().rev().copied().collect() } else { c.d_hidden.clone() };
        GanConfig {
            network: c.network,
            x_dim,
            latent_dim: c.latent_dim,
            classes,
            mlp_generator: MlpConfig::new(c.latent_dim + classes, c.hidden.clone(), x_dim, c.activation).with_batch_norm(c.batch_norm),
            mlp_discriminator: MlpConfig::new(c.pack * x_dim + classes, d_hidden, 1, c.d_activation),
            tanh_output: images,
            extra_outputs: 0,
            pack: c.pack,
            conditioning: c.d_condition,
            d_channels: c.d_channels,
            image_channels: 1,
        }
    }

    /// The same networks for images of `channels` channels (`x_dim` counts them all).
    pub fn with_image_channels(mut self, channels: usize) -> Self {
        self.image_channels = channels;
        self
    }

    /// The same networks with `extra` more discriminator outputs (see [`Discriminator::outputs`]).
    pub fn with_extra_outputs(mut self, extra: usize) -> Self {
        self.mlp_discriminator.d_out = 1 + extra;
        self.extra_outputs = extra;
        self
    }

    pub fn init(&self, device: &Device) -> (Generator, Discriminator) {
        let g = match self.network {
            Network::Mlp => GeneratorNet::Mlp(self.mlp_generator.init(device)),
            Network::Dcgan => GeneratorNet::Conv(self.dcgan().generator(device)),
        };
        let g = Generator { net: g, tanh_output: self.tanh_output, latent_dim: self.latent_dim, classes: self.classes };
        (g, self.discriminator(device))
    }

    /// The discriminator alone (an adversary-activated VAE's).
    pub fn discriminator(&self, device: &Device) -> Discriminator {
        let net = match self.network {
            Network::Mlp => DiscriminatorNet::Mlp(self.mlp_discriminator.init(device)),
            Network::Dcgan if self.extra_outputs > 0 => DiscriminatorNet::Conv(self.dcgan().encoder(1 + self.extra_outputs, device)),
            Network::Dcgan => DiscriminatorNet::Conv(self.dcgan().packed(self.pack).conditioned(self.conditioning).discriminator(device)),
        };
        Discriminator { net, classes: self.classes, pack: self.pack }
    }

    fn dcgan(&self) -> DcganConfig {
        DcganConfig::for_images(self.x_dim / self.image_channels, self.latent_dim, self.classes)
            .with_image_channels(self.image_channels)
            .with_d_channels(self.d_channels)
    }
}

#[derive(Module, Debug)]
pub enum GeneratorNet {
    Mlp(Mlp),
    Conv(ConvUp),
}

#[derive(Module, Debug)]
pub enum DiscriminatorNet {
    Mlp(Mlp),
    Conv(ConvDown),
}

#[derive(Module, Debug)]
pub struct Generator {
    net: GeneratorNet,
    #[module(skip)]
    tanh_output: bool,
    #[module(skip)]
    latent_dim: usize,
    #[module(skip)]
    classes: usize,
}

impl Generator {
    /// `z: [N, d]`, `c: [N, classes]` one-hot (conditional models only) `-> x: [N, D]`.
    pub fn forward(&self, z: Tensor<2>, c: Option<Tensor<2>>) -> Tensor<2> {
        debug_assert_eq!(c.is_some(), self.classes > 0, "a condition exactly for conditional generators");
        let zc = with_condition(z, c);
        let x = match &self.net {
            GeneratorNet::Mlp(m) => m.forward(zc),
            GeneratorNet::Conv(m) => m.forward(zc),
        };
        if self.tanh_output { tanh(x) } else { x }
    }

    pub fn latent_dim(&self) -> usize {
        self.latent_dim
    }

    /// Classes it is conditioned on; 0 for an unconditional generator.
    pub fn classes(&self) -> usize {
        self.classes
    }
}

#[derive(Module, Debug)]
pub struct Discriminator {
    net: DiscriminatorNet,
    #[module(skip)]
    classes: usize,
    #[module(skip)]
    pack: usize,
}

impl Discriminator {
    /// The logits `l(x, c)` of `D(x, c) = sigmoid(l)`: `[N, D]` (and `[N, classes]`) `-> [N]`;
    /// with packing, one logit per pack of `pack` consecutive rows, `[N / pack]`.
    pub fn logits(&self, x: Tensor<2>, c: Option<Tensor<2>>) -> Tensor<1> {
        let out = self.outputs(x, c);
        let n = out.dims()[0];
        let out = if out.dims()[1] == 1 { out } else { out.narrow(1, 0, 1) };
        out.reshape([n])
    }

    /// All outputs, `[N / pack, 1 + extra]`: the logit first, then the extra head's.
    pub fn outputs(&self, x: Tensor<2>, c: Option<Tensor<2>>) -> Tensor<2> {
        // A pack is its samples side by side: `m` rows of `D` values become one row of `m D`
        // (the convolutional discriminator reads them as `m` channels).
        let x = match self.pack {
            1 => x,
            m => {
                debug_assert!(c.is_none(), "packing is for unconditional discriminators");
                let [n, d] = x.dims();
                x.reshape([n / m, m * d])
            }
        };
        match &self.net {
            DiscriminatorNet::Mlp(m) => m.forward(with_condition(x, c)),
            DiscriminatorNet::Conv(m) => m.forward(x, c),
        }
    }
}

/// `p(c)` of a GAN conditioned on clusters of its training data (`clusters = K`): each cluster's
/// share of the training set, from which sampling draws the cluster. Saved with the networks, so
/// a trained model samples without its data.
#[derive(Module, Debug)]
pub struct ClusterPrior {
    shares: Param<Tensor<1>>,
}

impl ClusterPrior {
    pub fn new(shares: Vec<f32>, device: &Device) -> Self {
        let k = shares.len();
        ClusterPrior { shares: Param::from_tensor(tensor(shares, [k], device)) }
    }

    /// `n` clusters, each drawn by its share.
    pub fn draw(&self, n: usize, rng: &mut impl Rng) -> Vec<u8> {
        let shares = host(self.shares.val());
        let index = WeightedIndex::new(&shares).expect("cluster shares are sizes over their sum");
        (0..n).map(|_| rng.sample(&index) as u8).collect()
    }
}

/// A trained GAN-family model (GAN, IWGAN, CGAN, IW-CGAN).
pub struct Gan {
    pub generator: Generator,
    pub discriminator: Discriminator,
    /// A GAN conditioned on clusters: their shares.
    pub clusters: Option<ClusterPrior>,
}

impl Model for Gan {
    /// A GAN conditioned on clusters draws them itself: it has no classes to be asked for.
    fn classes(&self) -> usize {
        if self.clusters.is_some() { 0 } else { self.generator.classes() }
    }

    /// Images: the generator's pixels mapped back to [0, 1]; points as generated. Conditioned
    /// on clusters, each sample's cluster is drawn first.
    fn sample_classes(&self, spec: &RunSpec, n: usize, labels: &[u8], rng: &mut rand_chacha::ChaCha8Rng, device: &Device) -> Vec<f32> {
        let drawn = self.clusters.as_ref().map(|p| p.draw(n, rng));
        let labels = drawn.as_deref().unwrap_or(labels);
        let (z, c) = prior_draws(self.generator.latent_dim(), self.generator.classes(), n, labels, rng, device);
        let x = in_chunks(n, |start, rows| {
            let c = c.as_ref().map(|c| c.clone().narrow(0, start, rows));
            host(self.generator.forward(z.clone().narrow(0, start, rows), c))
        });
        if spec.data.kind() == DataKind::Images { from_gan_pixels(x) } else { x }
    }

    /// A packing discriminator judges packs, not samples: none then; nor for a GAN conditioned
    /// on clusters, whose samples' clusters are drawn inside [`Model::sample_classes`].
    fn discriminator_logits(&self, spec: &RunSpec, x: &[f32], labels: &[u8], device: &Device) -> Option<Vec<f32>> {
        if self.discriminator.pack != 1 || self.clusters.is_some() {
            return None;
        }
        let x = if spec.data.kind() == DataKind::Images { to_gan_pixels(x) } else { x.to_vec() };
        let width = crate::run::x_dim(spec);
        let n = x.len() / width;
        Some(in_chunks(n, |start, rows| {
            let xs = tensor(x[start * width..(start + rows) * width].to_vec(), [rows, width], device);
            let c = (self.classes() > 0).then(|| one_hot(&labels[start..start + rows], self.classes(), device));
            host(self.discriminator.logits(xs, c))
        }))
    }
}

/// `n` rows through a network in chunks of 10,000 (the usual evaluation's whole sample, unchanged:
/// stacked MNIST's 26,000 three-channel images at once would hold gigabytes of activations):
/// `f(start, rows)` for each chunk, its outputs in order.
fn in_chunks(n: usize, mut f: impl FnMut(usize, usize) -> Vec<f32>) -> Vec<f32> {
    const CHUNK: usize = 10_000;
    (0..n).step_by(CHUNK).flat_map(|start| f(start, CHUNK.min(n - start))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataKind, ModelKind};

    /// Clusters are drawn by their shares: 20,000 draws of shares 0.6 / 0.3 / 0.1 land within
    /// 0.01 of them (four standard errors), and a cluster of share 0 is never drawn.
    #[test]
    fn clusters_are_drawn_by_their_shares() {
        let prior = ClusterPrior::new(vec![0.6, 0.3, 0.0, 0.1], &crate::testing::device());
        let drawn = prior.draw(20_000, &mut crate::rng::stream(0, crate::rng::Purpose::Sample, 0));
        let share = |c: u8| drawn.iter().filter(|&&d| d == c).count() as f64 / 20_000.0;
        for (c, want) in [(0, 0.6), (1, 0.3), (2, 0.0), (3, 0.1)] {
            assert!((share(c) - want).abs() < 0.01, "cluster {c}: {} against {want}", share(c));
        }
        assert_eq!(share(2), 0.0);
    }

    /// A packing MLP discriminator reads `pack` consecutive samples as one input of `pack · D`
    /// values, in order, and gives one logit per pack; at `pack = 1` it is the plain one.
    #[test]
    fn a_pack_is_its_samples_side_by_side() {
        let dev = crate::testing::device();
        let mut c = crate::config::TrainConfig::default_for(DataKind::Points2d, ModelKind::Gan);
        c.hidden = vec![8];
        let x = crate::host::tensor((0..12).map(|i| (i as f32 * 0.37).sin()).collect(), [6, 2], &dev);
        for pack in [1, 2, 3] {
            c.pack = pack;
            let d = crate::backend::seeded(0, &dev, || GanConfig::new(2, &c, false, 0).discriminator(&dev));
            let DiscriminatorNet::Mlp(net) = &d.net else { panic!("an MLP") };
            let logits = crate::host::host(d.logits(x.clone(), None));
            assert_eq!(logits.len(), 6 / pack);
            let by_hand = crate::host::host(net.forward(x.clone().reshape([6 / pack, 2 * pack])));
            assert_eq!(logits, by_hand, "pack {pack}");
        }
    }
}
