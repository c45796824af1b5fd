//! The GAN family's step (docs/spec.md §2.3, §2.4): `d_steps` discriminator updates, then one generator
//! update whose samples are weighted uniformly (GAN) or by importance (IWGAN).

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand_chacha::ChaCha8Rng;

use crate::run::checkpoint::{self, Part};
use crate::models::step::{Step, StepLosses, optimizer};
use crate::models::trained::Trained;
use crate::objectives::{NonFiniteTerm, finite};
use crate::run::{RunSpec, x_dim};
use crate::config::DataKind;
use crate::error::Result;
use crate::host::{normals, one_hot, tensor};
use crate::models::gan::ClusterPrior;
use crate::models::{Discriminator, GanConfig, Generator};
use crate::objectives::{GeneratorForm, SampleWeights, discriminator_loss, exponent_for_share, generator_loss, tempered_share};

/// The checkpoint part of the generator's weight average.
const EMA_PART: &str = "generator_ema";
/// The checkpoint part of the clusters' shares (`clusters = K`).
const CLUSTERS_PART: &str = "clusters";

pub struct GanTrainer {
    /// Classes the networks are conditioned on (0: unconditional).
    classes: usize,
    generator: Generator,
    discriminator: Discriminator,
    optim_g: ModuleOptimizer,
    optim_d: ModuleOptimizer,
    form: GeneratorForm,
    weights: SampleWeights,
    /// IWGAN, IW-CGAN: the least share of a batch the importance weights may rest on (`ess_floor`).
    ess_floor: f64,
    d_steps: usize,
    lr: f64,
    /// The average of the generator's weights that samples (`g_ema` > 0, [`super::ema`]): its
    /// decay, the network, and the updates it has had.
    ema: Option<(f64, Generator, u64)>,
    /// Conditioned on clusters of the data: their shares, which the trained model samples from.
    clusters: Option<ClusterPrior>,
}

/// Classes the networks of `spec` are conditioned on: those of its data, for conditional models;
/// for the others, the clusters of their data (`clusters`, 0 by default).
pub fn classes(spec: &RunSpec) -> usize {
    if spec.model.conditional() { spec.data.classes() } else { spec.config.clusters }
}

/// The networks of `spec` with their initial weights and stable parameter ids.
pub fn init(spec: &RunSpec, device: &Device) -> (Generator, Discriminator) {
    let images = spec.data.kind() == DataKind::Images;
    let (g, d) = GanConfig::new(x_dim(spec), &spec.config, images, classes(spec)).with_image_channels(spec.data.channels()).init(device);
    initial_weights(spec, g, d)
}

/// A generator and discriminator as `spec`'s `init` says they start, with stable parameter ids.
pub fn initial_weights(spec: &RunSpec, mut g: Generator, mut d: Discriminator) -> (Generator, Discriminator) {
    if spec.config.init == crate::config::Init::Dcgan {
        use crate::rng::{Purpose, stream};
        g = crate::nets::init::dcgan(g, &mut stream(spec.seed, Purpose::Init, 0));
        d = crate::nets::init::dcgan(d, &mut stream(spec.seed, Purpose::Init, 1));
    }
    (checkpoint::number_params(g, 0), checkpoint::number_params(d, checkpoint::DISCRIMINATOR_IDS))
}

impl GanTrainer {
    /// A fresh GAN for `spec` on `device`, its weights drawn from the run's seed.
    pub fn new(spec: &RunSpec, device: &Device) -> Self {
        let (generator, discriminator) = crate::backend::seeded(spec.seed, device, || init(spec, device));
        let c = &spec.config;
        GanTrainer {
            classes: classes(spec),
            discriminator,
            optim_g: optimizer(c),
            optim_d: optimizer(c),
            form: c.generator_form,
            weights: spec.model.sample_weights(),
            ess_floor: c.ess_floor,
            d_steps: c.d_steps,
            lr: c.lr,
            ema: (c.g_ema > 0.0).then(|| (c.g_ema, generator.clone(), 0)),
            generator,
            // Uniform until the data's shares are given (training) or loaded (a checkpoint).
            clusters: (c.clusters > 0).then(|| ClusterPrior::new(vec![1.0 / c.clusters as f32; c.clusters], device)),
        }
    }

    /// Trains on clusters of the data with these shares (`clusters = K`; the batches' labels are
    /// the clusters).
    pub fn with_clusters(self, shares: Vec<f32>, device: &Device) -> Self {
        debug_assert_eq!(Some(shares.len()), self.clusters.as_ref().map(|_| self.classes));
        GanTrainer { clusters: Some(ClusterPrior::new(shares, device)), ..self }
    }

    /// `b` fresh latent codes.
    fn z(&self, b: usize, noise: &mut ChaCha8Rng, device: &Device) -> Tensor<2> {
        let d = self.generator.latent_dim();
        tensor(normals(noise, b * d), [b, d], device)
    }
}

impl Step for GanTrainer {
    fn step(mut self, x: Tensor<2>, labels: &[u8], noise: &mut ChaCha8Rng) -> Result<(Self, StepLosses), NonFiniteTerm> {
        let b = x.dims()[0];
        let device = x.device();
        // Conditional models generate for the classes of the real batch, so both see the same classes.
        let c = (self.classes > 0).then(|| one_hot(labels, self.classes, &device));
        // ---- discriminator: reconstruct y = 1 on data, y = 0 on samples (no gradient into G) ----
        let mut d_loss = 0.0;
        for _ in 0..self.d_steps {
            let x_f = self.generator.forward(self.z(b, noise, &device), c.clone()).detach();
            let loss = discriminator_loss(self.discriminator.logits(x.clone(), c.clone()), self.discriminator.logits(x_f, c.clone()));
            d_loss = finite(&loss, "discriminator loss")?;
            let grads = GradientsParams::from_grads(loss.backward(), &self.discriminator);
            self.discriminator = self.optim_d.step(self.lr, self.discriminator, grads);
        }
        // ---- generator: its samples, weighted uniformly (GAN) or by importance (IWGAN) ----
        // The update needs D's gradient with respect to its input only: a copy of D whose
        // parameters require no gradient skips computing theirs (same update, less work).
        let d = self.discriminator.clone().no_grad();
        let l_fake = d.logits(self.generator.forward(self.z(b, noise, &device), c.clone()), c.clone());
        let (weights, diagnostics) = match self.weights {
            SampleWeights::Uniform => (SampleWeights::Uniform, Vec::new()),
            SampleWeights::Importance { .. } => importance(&l_fake, labels, self.classes, self.ess_floor),
        };
        let loss = generator_loss(l_fake, self.form, weights, c);
        let g_loss = finite(&loss, "generator loss")?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.generator);
        self.generator = self.optim_g.step(self.lr, self.generator, grads);
        if let Some((decay, avg, t)) = &mut self.ema {
            super::ema::update(avg, &self.generator, *decay, *t);
            *t += 1;
        }
        let mut losses = vec![("d_loss", d_loss), ("g_loss", g_loss)];
        losses.extend(diagnostics);
        Ok((self, losses))
    }

    fn parts(&self) -> Vec<Part<'_>> {
        let mut parts = vec![
            Part::new("generator", &self.generator, &self.optim_g),
            Part::new("discriminator", &self.discriminator, &self.optim_d),
        ];
        parts.extend(self.ema.as_ref().map(|(_, avg, _)| Part::weights(EMA_PART, avg)));
        parts.extend(self.clusters.as_ref().map(|p| Part::weights(CLUSTERS_PART, p)));
        parts
    }

    fn load(mut self, loaded: &checkpoint::Loaded) -> Result<Self> {
        self.optim_g = loaded.restore("generator", &mut self.generator, self.optim_g)?;
        self.optim_d = loaded.restore("discriminator", &mut self.discriminator, self.optim_d)?;
        if let Some((_, avg, t)) = &mut self.ema {
            loaded.apply(EMA_PART, avg)?;
            // One average update per step.
            *t = loaded.meta.get("step").and_then(|v| v.parse().ok()).unwrap_or(0);
        }
        if let Some(p) = &mut self.clusters {
            loaded.apply(CLUSTERS_PART, p)?;
        }
        Ok(self)
    }

    fn trained(&self) -> Trained {
        // The average samples when there is one.
        let generator = self.ema.as_ref().map_or(&self.generator, |(_, avg, _)| avg);
        Box::new(crate::models::gan::Gan {
            generator: generator.valid(),
            discriminator: self.discriminator.valid(),
            clusters: self.clusters.as_ref().map(|p| p.valid()),
        })
    }
}

/// The importance weights of a generator batch, tempered to `exp(beta l)` where they would rest on
/// less than `ess_floor` of it ([`exponent_for_share`]; batch-wide, or within each class for a
/// conditional generator, as the weights are normalised), and what they did: the logits' spread,
/// the share of the batch the update learns from (unigen's diagnostics of a starved IW update;
/// docs/unified.md) and, with a floor, the exponent. An exponent of 0 is the GAN's uniform weights.
fn importance(l_fake: &Tensor<1>, labels: &[u8], classes: usize, ess_floor: f64) -> (SampleWeights, Vec<(&'static str, f64)>) {
    let l = crate::host::host(l_fake.clone().detach());
    let n = l.len() as f64;
    let mean = l.iter().map(|&v| v as f64).sum::<f64>() / n;
    let std = (l.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let by_class: Vec<Vec<f32>> = (0..classes as u8)
        .map(|c| l.iter().zip(labels).filter(|&(_, &y)| y == c).map(|(&v, _)| v).collect::<Vec<f32>>())
        .filter(|lc| !lc.is_empty())
        .collect();
    let batch = [l];
    let groups: &[Vec<f32>] = if classes > 0 { &by_class } else { &batch };
    let beta = exponent_for_share(groups, ess_floor);
    let mut out = vec![("logit_std", std), ("ess_share", tempered_share(&batch, beta))];
    if classes > 0 {
        out.push(("ess_share_within_class", tempered_share(&by_class, beta)));
    }
    if ess_floor > 0.0 {
        out.push(("weight_exponent", beta));
    }
    let weights = if beta == 0.0 { SampleWeights::Uniform } else { SampleWeights::Importance { exponent: beta as f32 } };
    (weights, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Network, TrainConfig};
    use crate::data::DataSource;
    use crate::models::ModelKind;

    fn values<M: burn::store::ModuleSnapshot>(m: &M) -> Vec<u32> {
        crate::testing::module_values(m).into_iter().map(f32::to_bits).collect()
    }

    /// An IWGAN whose weights may rest on no less than the whole batch (`ess_floor = 1`) trains as
    /// the GAN bit for bit, and an IW-CGAN so floored (within classes) as the CGAN; without the
    /// floor the same steps differ, and with a floor between, the step reports the exponent it
    /// tempered the weights with.
    #[test]
    fn an_iwgan_with_the_whole_batch_as_its_floor_is_the_gan() {
        let dev = crate::testing::device().autodiff();
        let labels = [0, 0, 0, 0, 1, 1, 1, 1];
        let run = |model: ModelKind, floor: f64| {
            let mut spec = crate::testing::small_spec(model, 5, 2, vec![16]);
            spec.config.ess_floor = floor;
            let mut t = GanTrainer::new(&spec, &dev);
            let noise = &mut crate::rng::stream(5, crate::rng::Purpose::Eps, 0);
            let data = &mut crate::rng::stream(5, crate::rng::Purpose::Eps, 1);
            let mut reported = Vec::new();
            for _ in 0..3 {
                let x = tensor(normals(data, 8 * 784).into_iter().map(|v| (v > 0.5) as u8 as f32).collect(), [8, 784], &dev);
                let (next, losses) = t.step(x, &labels, noise).unwrap();
                (t, reported) = (next, losses);
            }
            (values(&t.generator.valid()), reported)
        };
        let (gan, _) = run(ModelKind::Gan, 0.0);
        let (whole, losses) = run(ModelKind::Iwgan, 1.0);
        assert!(gan == whole, "generator values differ from the GAN's");
        assert!(losses.contains(&("weight_exponent", 0.0)) && losses.contains(&("ess_share", 1.0)), "{losses:?}");
        let (plain, losses) = run(ModelKind::Iwgan, 0.0);
        assert!(plain != gan && !losses.iter().any(|(k, _)| *k == "weight_exponent"), "{losses:?}");
        let (_, losses) = run(ModelKind::Iwgan, 0.5);
        let get = |k: &str| losses.iter().find(|(n, _)| *n == k).map(|&(_, v)| v).unwrap();
        assert!(get("weight_exponent") > 0.0 && get("weight_exponent") <= 1.0 && get("ess_share") >= 0.5, "{losses:?}");
        let (cgan, _) = run(ModelKind::Cgan, 0.0);
        let (whole, losses) = run(ModelKind::Iwcgan, 1.0);
        assert!(cgan == whole && losses.contains(&("ess_share_within_class", 1.0)), "{losses:?}");
        assert!(run(ModelKind::Iwcgan, 0.0).0 != cgan, "the IW-CGAN's own weights change nothing");
    }

    /// The generator's update through a copy of D whose parameters need no gradient is the plain
    /// update bit for bit: the same generator gradient, the same batch-norm statistics in D
    /// afterwards, and D's own parameters still trainable.
    #[test]
    fn generator_update_through_a_frozen_discriminator_is_the_plain_one() {
        let dev = crate::testing::device();
        let mut config = TrainConfig::default_for(DataKind::Images, ModelKind::Gan);
        config.network = Network::Dcgan;
        config.latent_dim = 8;
        let spec = RunSpec { model: ModelKind::Gan, seed: 3, data: DataSource::Mnist { dir: "-".into() }, config };
        let run = |frozen: bool| {
            let (g, d) = crate::backend::seeded(spec.seed, &dev, || init(&spec, &dev));
            let z = tensor(normals(&mut crate::rng::stream(3, crate::rng::Purpose::Eps, 0), 4 * 8), [4, 8], &dev);
            let d_used = if frozen { d.clone().no_grad() } else { d.clone() };
            let loss = generator_loss(d_used.logits(g.forward(z, None), None), GeneratorForm::NonSaturating, SampleWeights::Uniform, None);
            let grads = GradientsParams::from_grads(loss.backward(), &g);
            let g_grads = grads.len();
            let g_next = optimizer(&spec.config).step(1e-2, g, grads);
            // A D step afterwards must still see D's parameters as trainable.
            let x = tensor(vec![0.5; 4 * 784], [4, 784], &dev);
            let d_grads = GradientsParams::from_grads(discriminator_loss(d.logits(x.clone(), None), d.logits(x, None)).backward(), &d);
            (values(&g_next), values(&d.valid()), g_grads, d_grads.len())
        };
        let (plain, frozen) = (run(false), run(true));
        let differ = |a: &[u32], b: &[u32]| a.iter().zip(b).filter(|(a, b)| a != b).count();
        assert_eq!(differ(&plain.0, &frozen.0), 0, "generator values after its update that differ");
        assert_eq!(differ(&plain.1, &frozen.1), 0, "discriminator values (batch-norm statistics included) that differ");
        assert_eq!(plain.2, frozen.2, "parameters with a generator gradient");
        assert!(frozen.3 > 0 && frozen.3 == plain.3, "discriminator gradients: {} vs {}", frozen.3, plain.3);
    }
}
