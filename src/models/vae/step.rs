//! The VAE family's step: one Adam update of encoder and decoder (and SVAE's classifier) on the
//! negative objective, and for adversary-activated models one discriminator update.
//!
//! One step serves all ten VAE-family models. Two switches make the differences:
//! - the class: absent (VAE), observed (CVAE), or observed for the labelled part and summed over
//!   under `q(c|x)` for the rest (SVAE, Kingma et al. 2014 M2);
//! - the adversary (docs/spec.md §2.6): the VAE's perfect discriminator weighs real examples 1 and
//!   generated samples 0, so no samples are drawn; a learned one (AAVAE, AA-CVAE, AA-SVAE) weighs
//!   every example `stop_gradient(D(x))`, and B generated samples join the B real examples.

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::backend::seeded;
use crate::run::checkpoint::{self, Part};
use crate::models::step::{Step, StepLosses, optimizer};
use crate::models::trained::Trained;
use crate::objectives::{NonFiniteTerm, finite};
use crate::run::{RunSpec, x_dim};
use crate::config::{DataKind, Generated, GeneratedTrains, Likelihood, NormStats};
use crate::kernels::running_updates;
use crate::data::{self, Dataset};
use crate::error::Result;
use crate::host::{normals, one_hot, tensor};
use crate::models::vae::Bound;
use crate::models::{Adversary, Discriminator, GanConfig, Vae, VaeConfig};
use crate::objectives::{adversary_weights, discriminator_loss, weighted_mean};

pub struct VaeTrainer {
    model: Vae,
    optim: ModuleOptimizer,
    /// The learned discriminator and its optimiser; `None` is the VAE's perfect one.
    adversary: Option<(Discriminator, ModuleOptimizer)>,
    /// SVAE: the labelled examples and the weight of `-log q(c|x)` on each.
    labelled: Option<Labelled>,
    bound: Bound,
    binarize: bool,
    k: usize,
    alpha: f64,
    weigh_real: bool,
    normalize_weights: bool,
    alpha_warmup: u64,
    /// Discriminator updates per step (none with `freeze_d`: D keeps its initial weights).
    d_steps: usize,
    freeze_d: bool,
    /// Steps taken (restored from a checkpoint's `step`): the clock of `alpha_warmup`.
    steps: u64,
    generated: Generated,
    generated_trains: GeneratedTrains,
    /// Whether the generated samples' passes move batch norm's running statistics (`norm_stats`).
    generated_moves_norm: bool,
    lr: f64,
}

/// The labelled part of a semi-supervised training set.
pub struct Labelled {
    pub data: Dataset,
    /// `class_weight * N / N_labelled`: Kingma et al.'s `alpha = 0.1 N` per labelled example.
    pub class_weight: f64,
}

/// The classes a VAE-family model's networks see (0: none).
pub fn classes(spec: &RunSpec) -> usize {
    if spec.model.conditional() { spec.data.classes() } else { 0 }
}

/// The model of `spec` with its initial weights and stable parameter ids.
pub fn init(spec: &RunSpec, device: &Device) -> Vae {
    let config = VaeConfig::new(x_dim(spec), &spec.config, classes(spec), spec.model.semi_supervised());
    checkpoint::number_params(config.init(device), 0)
}

/// An adversary-activated model's discriminator. It sees the class where the model is told it
/// (AA-CVAE), as a CGAN's does; AA-SVAE's sees images alone, most of them unlabelled.
pub fn init_discriminator(spec: &RunSpec, device: &Device) -> Discriminator {
    let d_classes = if spec.model.semi_supervised() { 0 } else { classes(spec) };
    let images = spec.data.kind() == DataKind::Images;
    let d = GanConfig::new(x_dim(spec), &spec.config, images, d_classes).discriminator(device);
    checkpoint::number_params(d, checkpoint::DISCRIMINATOR_IDS)
}

/// The weights of a batch's real, labelled and generated examples, divided with `normalize` by
/// the real examples' mean weight: one scale for the whole batch (`normalize_weights`).
fn normalized(w: [Tensor<1>; 3], normalize: bool) -> [Tensor<1>; 3] {
    if !normalize {
        return w;
    }
    let scale = w[0].clone().mean().recip();
    w.map(|w| {
        let b = w.dims()[0];
        w * scale.clone().expand([b])
    })
}

impl VaeTrainer {
    /// A fresh model for `spec` on `device`, its weights drawn from the run's seed. Semi-supervised
    /// models train only once given their labelled examples ([`VaeTrainer::with_labelled`]).
    pub fn new(spec: &RunSpec, device: &Device) -> Self {
        let cfg = &spec.config;
        let learned = spec.model.adversary() == Adversary::Learned;
        let (model, discriminator) = seeded(spec.seed, device, || (init(spec, device), learned.then(|| init_discriminator(spec, device))));
        let adversary = discriminator.map(|d| (d, optimizer(cfg)));
        VaeTrainer {
            model,
            optim: optimizer(cfg),
            adversary,
            labelled: None,
            bound: spec.model.bound(),
            binarize: cfg.likelihood == Likelihood::Bernoulli,
            k: cfg.k,
            alpha: cfg.alpha,
            weigh_real: cfg.weigh_real,
            normalize_weights: cfg.normalize_weights,
            alpha_warmup: cfg.alpha_warmup,
            d_steps: cfg.d_steps,
            freeze_d: cfg.freeze_d,
            steps: 0,
            generated: cfg.generated,
            generated_trains: cfg.generated_trains,
            generated_moves_norm: cfg.norm_stats == NormStats::All,
            lr: cfg.lr,
        }
    }

    pub fn with_labelled(mut self, labelled: Labelled) -> Self {
        self.labelled = Some(labelled);
        self
    }

    /// Reparameterisation noise for `rows` examples.
    fn eps(&self, rows: usize, noise: &mut ChaCha8Rng, device: &Device) -> Tensor<3> {
        let d = self.model.latent_dim();
        tensor(normals(noise, rows * self.k * d), [rows, self.k, d], device)
    }

    /// The bound of each of `x`'s examples under `model` (the trained one, or it with its decoder
    /// fixed); `c` their classes where observed. A semi-supervised model given no class sums over
    /// them (the M2 unlabelled bound).
    fn bounds(&self, model: &Vae, x: Tensor<2>, c: Option<Tensor<2>>, noise: &mut ChaCha8Rng) -> Tensor<1> {
        let (b, device) = (x.dims()[0], x.device());
        match c {
            Some(c) if model.has_classifier() => model.labelled_bound(x, c, self.eps(b, noise, &device), self.bound),
            None if model.has_classifier() => model.unlabelled_bound(x, self.eps(b * model.classes(), noise, &device), self.bound),
            c => model.terms(x, c, self.eps(b, noise, &device)).bound(self.bound),
        }
    }

    /// `b` labelled examples drawn at random (with replacement) and prepared like the batch.
    fn labelled_batch(&self, b: usize, noise: &mut ChaCha8Rng, device: &Device) -> (Tensor<2>, Vec<u8>) {
        let data = &self.labelled.as_ref().expect("a semi-supervised model trains with its labelled examples").data;
        let idx: Vec<usize> = (0..b).map(|_| noise.random_range(0..data.len())).collect();
        let mut x = data.gather(&idx);
        if self.binarize {
            x = data::binarize(&x, noise);
        }
        (tensor(x, [b, data.dim], device), idx.iter().map(|&i| data.labels[i]).collect())
    }
}

impl Step for VaeTrainer {
    fn step(mut self, x: Tensor<2>, labels: &[u8], noise: &mut ChaCha8Rng) -> Result<(Self, StepLosses), NonFiniteTerm> {
        let (b, device) = (x.dims()[0], x.device());
        let n_classes = self.model.classes();
        let semi = self.model.has_classifier();
        // The batch's classes where the model is told them (CVAE); an SVAE's batch is unlabelled.
        let c = (n_classes > 0 && !semi).then(|| one_hot(labels, n_classes, &device));
        let mut losses: StepLosses = Vec::new();

        // ---- SVAE: a labelled batch beside the unlabelled one ----
        let labelled = semi.then(|| self.labelled_batch(b, noise, &device));

        // ---- the adversary: each example's weight; D learns real vs generated ----
        let ones = || Tensor::<1>::ones([b], &device);
        let (w_real, w_labelled, generated) = match self.adversary.take() {
            None => (ones(), ones(), None),
            Some((mut d, mut optim_d)) => {
                // B samples x_f ~ p(x|z, c) with the current parameters, for the batch's classes
                // (CVAE) or for classes drawn uniformly (SVAE); no gradient through generation.
                let decoder = self.model.clone().no_grad();
                let (generated, moves_norm) = (self.generated, self.generated_moves_norm);
                let draw = |noise: &mut ChaCha8Rng| {
                    let fake_labels: Vec<u8> = match (&c, semi) {
                        (Some(_), _) => labels.to_vec(),
                        (None, true) => (0..b).map(|_| noise.random_range(0..n_classes as u8)).collect(),
                        (None, false) => Vec::new(),
                    };
                    let x_f = running_updates(moves_norm, || match generated {
                        Generated::Sampled => decoder.generate(b, &fake_labels, noise, &device),
                        Generated::Mean => decoder.generate_mean(b, &fake_labels, noise, &device),
                    });
                    let c_f = (n_classes > 0).then(|| one_hot(&fake_labels, n_classes, &device));
                    (x_f, c_f)
                };
                // D sees the class where the model is told it (AA-CVAE), never an SVAE's.
                let c_d = if semi { None } else { c.clone() };
                // `d_steps` above 1: D's extra updates come first, each on fresh generations
                // against the same real batch; the last one's D weighs the examples.
                for _ in 1..self.d_steps {
                    let (x_f, c_f) = draw(noise);
                    let d_loss = discriminator_loss(d.logits(x.clone(), c_d.clone()), d.logits(x_f, if semi { None } else { c_f }));
                    finite(&d_loss, "discriminator loss")?;
                    let grads = GradientsParams::from_grads(d_loss.backward(), &d);
                    d = optim_d.step(self.lr, d, grads);
                }
                let (x_f, c_f) = draw(noise);
                let c_fd = if semi { None } else { c_f.clone() };
                // A frozen D's logits are taken without a graph: one that no backward pass consumes
                // stays in the autodiff graph's memory (20 GB by step 220 with the 64-channel D).
                let frozen = self.freeze_d.then(|| d.clone().no_grad());
                let judge = frozen.as_ref().unwrap_or(&d);
                let (l_real, l_fake) = (judge.logits(x.clone(), c_d), judge.logits(x_f.clone(), c_fd));
                let (w_real, w_fake) = (adversary_weights(l_real.clone()), adversary_weights(l_fake.clone()));
                let w_labelled = match &labelled {
                    Some((xl, _)) => adversary_weights(d.clone().no_grad().logits(xl.clone(), None)),
                    None => ones(),
                };
                let d_loss = discriminator_loss(l_real, l_fake);
                losses.push(("d_loss", finite(&d_loss, "discriminator loss")?));
                losses.push(("w_real", finite(&w_real.clone().mean(), "mean D weight of real examples")?));
                losses.push(("w_fake", finite(&w_fake.clone().mean(), "mean D weight of generated samples")?));
                let d = if self.freeze_d {
                    d
                } else {
                    let grads = GradientsParams::from_grads(d_loss.backward(), &d);
                    optim_d.step(self.lr, d, grads)
                };
                self.adversary = Some((d, optim_d));
                let (w_real, w_labelled) = if self.weigh_real { (w_real, w_labelled) } else { (ones(), ones()) };
                let [w_real, w_labelled, w_fake] = normalized([w_real, w_labelled, w_fake], self.normalize_weights);
                (w_real, w_labelled, Some((x_f, c_f, w_fake)))
            }
        };

        // ---- the model: (1/B) sum w(x) bound(x) + alpha (1/B) sum w(x_f) bound(x_f) ----
        let mut objective = weighted_mean(self.bounds(&self.model, x, c, noise), w_real);
        if let Some((x_f, c_f, w_fake)) = generated {
            let warm = if self.alpha_warmup == 0 { 1.0 } else { (self.steps as f64 / self.alpha_warmup as f64).min(1.0) };
            // `encoder`: the term trains inference on the model's own samples, a sleep phase.
            let fixed = (self.generated_trains == GeneratedTrains::Encoder).then(|| self.model.clone().with_decoder_fixed());
            let model = fixed.as_ref().unwrap_or(&self.model);
            let bounds = running_updates(self.generated_moves_norm, || self.bounds(model, x_f, c_f, noise));
            objective = objective + weighted_mean(bounds, w_fake).mul_scalar(self.alpha * warm);
        }
        self.steps += 1;
        let mut loss = objective.neg();
        if let Some((xl, cl)) = labelled {
            let c_l = one_hot(&cl, n_classes, &device);
            let class_nll = (self.model.class_log_probs(xl.clone()) * c_l.clone()).sum_dim(1).mean().neg();
            let bound_l = self.bounds(&self.model, xl, Some(c_l), noise);
            let weight = self.labelled.as_ref().map_or(0.0, |l| l.class_weight);
            losses.push(("class_nll", finite(&class_nll, "classification -log q(c|x)")?));
            loss = loss - weighted_mean(bound_l, w_labelled) + class_nll.mul_scalar(weight);
        }
        losses.insert(0, ("loss", finite(&loss, "loss (negative bound)")?));
        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        self.model = self.optim.step(self.lr, self.model, grads);
        Ok((self, losses))
    }

    fn parts(&self) -> Vec<Part<'_>> {
        let mut parts = vec![Part::new("model", &self.model, &self.optim)];
        if let Some((d, optim_d)) = &self.adversary {
            parts.push(Part::new("discriminator", d, optim_d));
        }
        parts
    }

    fn load(mut self, loaded: &checkpoint::Loaded) -> Result<Self> {
        self.steps = loaded.meta.get("step").and_then(|s| s.parse().ok()).unwrap_or(0);
        self.optim = loaded.restore("model", &mut self.model, self.optim)?;
        if let Some((mut d, optim_d)) = self.adversary.take() {
            let optim_d = loaded.restore("discriminator", &mut d, optim_d)?;
            self.adversary = Some((d, optim_d));
        }
        Ok(self)
    }

    fn trained(&self) -> Trained {
        Box::new(self.model.valid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrainConfig;
    use crate::data::DataSource;
    use crate::models::ModelKind;
    use crate::objectives::marginal_bound;
    use crate::testing::{assert_close, module_values, to_vec};
    use burn::store::ModuleSnapshot;

    fn spec(model: ModelKind) -> RunSpec {
        let mut config = TrainConfig::default_for(DataKind::Images, model);
        config.hidden = vec![16];
        config.latent_dim = 3;
        RunSpec { model, seed: 5, data: DataSource::Mnist { dir: "-".into() }, config }
    }

    fn noise(counter: u64) -> ChaCha8Rng {
        crate::rng::stream(5, crate::rng::Purpose::Eps, counter)
    }

    fn binary(n: usize, counter: u64, device: &Device) -> Tensor<2> {
        let u = normals(&mut noise(counter), n * 784);
        tensor(u.into_iter().map(|v| if v > 0.3 { 1.0 } else { 0.0 }).collect(), [n, 784], device)
    }

    fn bits<M: ModuleSnapshot>(m: &M) -> Vec<u32> {
        module_values(m).into_iter().map(f32::to_bits).collect()
    }

    /// AAVAE with the perfect discriminator (weight 1 on every real example, 0 on every generated
    /// one, generated samples included in the sum) is the VAE: the same loss and the same update,
    /// bit for bit.
    #[test]
    fn the_perfect_discriminator_reduces_aavae_to_the_vae() {
        let dev = crate::testing::device();
        let s = spec(ModelKind::Aavae);
        let model = crate::backend::seeded(0, &dev, || init(&s, &dev));
        let (x, x_f) = (binary(8, 1, &dev), binary(8, 2, &dev));
        let eps = |c| tensor(normals(&mut noise(c), 8 * 3), [8, 1, 3], &dev);
        let update = |loss: Tensor<1>, m: Vae| {
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            bits(&optimizer(&s.config).step(1e-3, m, grads))
        };
        let vae_loss = model.loss(x.clone(), None, eps(3), Bound::Elbo).loss;
        let m = model.clone();
        let real = weighted_mean(m.terms(x, None, eps(3)).bound(Bound::Elbo), Tensor::ones([8], &dev));
        let fake = weighted_mean(m.terms(x_f, None, eps(4)).bound(Bound::Elbo), Tensor::zeros([8], &dev));
        let aavae_loss = (real + fake.mul_scalar(s.config.alpha)).neg();
        let (a, b) = (to_vec(vae_loss.clone())[0], to_vec(aavae_loss.clone())[0]);
        assert_eq!(a.to_bits(), b.to_bits(), "loss: VAE {a}, AAVAE with the perfect D {b}");
        assert_eq!(update(vae_loss, model), update(aavae_loss, m), "weights after one update");
    }

    /// The weights `stop_gradient(D(x))` carry no gradient into the discriminator: the model's
    /// loss gives D none, while D's own loss does.
    #[test]
    fn the_model_loss_gives_the_discriminator_no_gradient() {
        let dev = crate::testing::device();
        let s = spec(ModelKind::Aavae);
        let (model, d) = crate::backend::seeded(0, &dev, || (init(&s, &dev), init_discriminator(&s, &dev)));
        let (x, x_f) = (binary(8, 1, &dev), binary(8, 2, &dev));
        let eps = |c| tensor(normals(&mut noise(c), 8 * 3), [8, 1, 3], &dev);
        let (l_real, l_fake) = (d.logits(x.clone(), None), d.logits(x_f.clone(), None));
        let real = weighted_mean(model.terms(x, None, eps(3)).bound(Bound::Elbo), adversary_weights(l_real.clone()));
        let fake = weighted_mean(model.terms(x_f, None, eps(4)).bound(Bound::Elbo), adversary_weights(l_fake.clone()));
        let grads = (real + fake).neg().backward();
        assert_eq!(GradientsParams::from_grads(grads, &d).len(), 0, "D parameters with a gradient from the model's loss");
        // (Burn keeps no graph after a backward pass: the logits are computed again.)
        let l_real = d.logits(binary(8, 1, &dev), None);
        let with_d = model.terms(binary(8, 5, &dev), None, eps(5)).bound(Bound::Elbo).mean() * l_real.clone().mean();
        assert!(!GradientsParams::from_grads(with_d.backward(), &d).is_empty(), "the check can see D's gradients");
        let (l_real, l_fake) = (d.logits(binary(8, 1, &dev), None), d.logits(binary(8, 2, &dev), None));
        assert!(!GradientsParams::from_grads(discriminator_loss(l_real, l_fake).backward(), &d).is_empty());
    }

    /// `normalize_weights`: the real examples' mean weight becomes 1 and every weight keeps its
    /// ratio to every other.
    #[test]
    fn normalized_weights_give_the_real_examples_mean_one() {
        let dev = crate::testing::device();
        let t = |v: &[f32]| tensor(v.to_vec(), [v.len()], &dev);
        let w = [t(&[0.8, 0.9, 1.0, 0.9]), t(&[0.5, 1.0]), t(&[0.09, 0.18, 0.27, 0.36])];
        let [real, labelled, fake] = normalized(w.clone(), true).map(to_vec);
        assert_close(&[real.iter().sum::<f32>() / 4.0], &[1.0], 1e-6);
        assert_close(&real, &[0.8 / 0.9, 1.0, 1.0 / 0.9, 1.0], 1e-6);
        assert_close(&labelled, &[0.5 / 0.9, 1.0 / 0.9], 1e-6);
        assert_close(&fake, &[0.1, 0.2, 0.3, 0.4], 1e-6);
        // Off: the weights as D gives them.
        assert_eq!(normalized(w.clone(), false).map(to_vec), w.map(to_vec));
    }

    /// `alpha_warmup`: at its first step the AA model takes the update of `alpha = 0` (generated
    /// samples drawn and D trained, but weighing nothing), bit for bit; a resumed trainer takes its
    /// place on the warm-up from the checkpoint's step.
    #[test]
    fn alpha_warmup_starts_from_no_generated_term() {
        let dev = crate::testing::device().autodiff();
        let trainer = |alpha: f64, warmup: u64| {
            let mut s = spec(ModelKind::Aavae);
            (s.config.alpha, s.config.alpha_warmup, s.seed) = (alpha, warmup, 9);
            VaeTrainer::new(&s, &dev)
        };
        let one_step = |t: VaeTrainer| bits(&Step::step(t, binary(8, 1, &dev), &[], &mut noise(7)).unwrap().0.model);
        assert_eq!(one_step(trainer(1.0, 100)), one_step(trainer(0.0, 0)));
        assert_ne!(one_step(trainer(1.0, 100)), one_step(trainer(1.0, 0)), "the generated term does change the update");
    }

    /// `d_steps = 2`: D takes one more update on fresh generations before it weighs the batch,
    /// so after one step its weights (and the model's) differ from `d_steps = 1`'s.
    #[test]
    fn a_second_discriminator_update_changes_d_and_the_weights_it_gives() {
        let dev = crate::testing::device().autodiff();
        let after_one_step = |d_steps: usize| {
            let mut s = spec(ModelKind::Aavae);
            (s.config.d_steps, s.seed) = (d_steps, 9);
            let t = VaeTrainer::new(&s, &dev);
            let (t, _) = Step::step(t, binary(8, 1, &dev), &[], &mut noise(7)).unwrap();
            (bits(&t.adversary.as_ref().unwrap().0), bits(&t.model))
        };
        let (one, two) = (after_one_step(1), after_one_step(2));
        assert_ne!(one.0, two.0, "D after one step");
        assert_ne!(one.1, two.1, "the model, weighted by a different D");
        assert_eq!(after_one_step(2), two, "deterministic");
    }

    /// `freeze_d`: after two steps D still has its initial weights, bit for bit, while the model
    /// has learnt; unfrozen, the same steps change D.
    #[test]
    fn a_frozen_discriminator_keeps_its_initial_weights() {
        let dev = crate::testing::device().autodiff();
        let after_two_steps = |freeze: bool| {
            let mut s = spec(ModelKind::Aavae);
            (s.config.freeze_d, s.seed) = (freeze, 9);
            let t = VaeTrainer::new(&s, &dev);
            let (d0, m0) = (bits(&t.adversary.as_ref().unwrap().0), bits(&t.model));
            let (t, _) = Step::step(t, binary(8, 1, &dev), &[], &mut noise(7)).unwrap();
            let (t, losses) = Step::step(t, binary(8, 2, &dev), &[], &mut noise(8)).unwrap();
            assert!(losses.iter().any(|(name, _)| *name == "w_fake"), "a frozen D still weighs the batch");
            (d0 == bits(&t.adversary.as_ref().unwrap().0), m0 == bits(&t.model))
        };
        assert_eq!(after_two_steps(true), (true, false));
        assert_eq!(after_two_steps(false), (false, false));
    }

    /// `generated_trains = encoder`: the generated term leaves the decoder's update what it is
    /// without the term (`alpha = 0`), bit for bit, and changes the encoder's; with `both` it
    /// changes the decoder's too. D is frozen, so every variant sees the same weights.
    #[test]
    fn generated_samples_can_train_the_encoder_alone() {
        let dev = crate::testing::device().autodiff();
        let after_one_step = |trains: GeneratedTrains, alpha: f64| {
            let mut s = spec(ModelKind::Aavae);
            (s.config.generated_trains, s.config.alpha, s.config.freeze_d, s.seed) = (trains, alpha, true, 9);
            let (t, _) = Step::step(VaeTrainer::new(&s, &dev), binary(8, 1, &dev), &[], &mut noise(7)).unwrap();
            (bits(t.model.encoder.as_ref().unwrap()), bits(t.model.decoder.as_ref().unwrap()))
        };
        let without = after_one_step(GeneratedTrains::Both, 0.0);
        let (encoder_only, both) = (after_one_step(GeneratedTrains::Encoder, 1.0), after_one_step(GeneratedTrains::Both, 1.0));
        assert_eq!(encoder_only.1, without.1, "the decoder takes no update from the generated term");
        assert_ne!(encoder_only.0, without.0, "the encoder does");
        assert_ne!(both.1, without.1, "with `both`, the decoder does too");
    }

    /// `norm_stats = real`: the generated samples' passes leave batch norm's running statistics
    /// alone. After one step they are exactly a VAE's after the same real batch (the VAE given
    /// the noise the AA step has left once it drew its samples); the weights are updated as with
    /// `all`, whose running statistics differ (they also follow the generated batch).
    #[test]
    fn norm_stats_real_keeps_the_generated_passes_out_of_the_running_statistics() {
        let dev = crate::testing::device().autodiff();
        let conv = |model: ModelKind, norm_stats: NormStats| {
            let mut s = spec(model);
            (s.config.network, s.config.norm_stats, s.seed) = (crate::config::Network::Dcgan, norm_stats, 9);
            s
        };
        // The module's running statistics (`running`) or its other tensors, as bits.
        let part = |m: &Vae, running: bool| -> Vec<u32> {
            let keep: fn(&str, &str) -> bool = if running { |path, _| path.contains("running") } else { |path, _| !path.contains("running") };
            let tensors = m.collect(Some(burn::store::PathFilter::new().with_predicate(keep)), None, false);
            assert!(!tensors.is_empty());
            tensors.iter().flat_map(|t| burn::store::bridge::to_data(t).unwrap().try_to_vec::<f32>().unwrap()).map(f32::to_bits).collect()
        };
        let after_one_step = |s: RunSpec, mut rng: ChaCha8Rng| {
            let (t, _) = Step::step(VaeTrainer::new(&s, &dev), binary(8, 1, &dev), &[], &mut rng).unwrap();
            // `valid()` first: a running state's value lags its last update until synchronised.
            let model = t.model.valid();
            (part(&model, true), part(&model, false))
        };
        let (real, all) = (after_one_step(conv(ModelKind::Aavae, NormStats::Real), noise(7)), after_one_step(conv(ModelKind::Aavae, NormStats::All), noise(7)));
        // The noise after the AA step's one draw of 8 samples (the count of draws, not their
        // values, moves the stream: the initial model on the inference device draws the same).
        let mut left = noise(7);
        init(&conv(ModelKind::Vae, NormStats::All), &dev.clone().inner()).generate(8, &[], &mut left, &dev.clone().inner());
        let vae = after_one_step(conv(ModelKind::Vae, NormStats::All), left);
        assert_eq!(real.0, vae.0, "running statistics: the real batch's alone");
        let fresh = part(&init(&conv(ModelKind::Vae, NormStats::All), &dev).valid(), true);
        assert_ne!(real.0, fresh, "the real batch does move them");
        assert_ne!(all.0, vae.0, "with `all` the generated passes move them too");
        assert_eq!(real.1, all.1, "the weights' update does not read the running statistics");
    }

    /// M2's unlabelled bound, as the model computes it from every class at once, is the
    /// `q(c|x)`-weighted sum of the labelled bounds computed one class at a time, plus the entropy.
    #[test]
    fn the_svae_unlabelled_bound_is_the_expected_labelled_bound_plus_entropy() {
        let dev = crate::testing::device();
        let model = crate::backend::seeded(0, &dev, || init(&spec(ModelKind::Svae), &dev));
        let (b, n) = (3, 10);
        let x = binary(b, 1, &dev);
        let eps_all = normals(&mut noise(2), b * n * 3);
        let together = to_vec(model.unlabelled_bound(x.clone(), tensor(eps_all.clone(), [b * n, 1, 3], &dev), Bound::Elbo));
        let log_q = to_vec(model.class_log_probs(x.clone()));
        for i in 0..b {
            let xi = x.clone().narrow(0, i, 1);
            let mut expected = 0f64;
            for c in 0..n {
                let row = i * n + c;
                let eps = tensor(eps_all[row * 3..row * 3 + 3].to_vec(), [1, 1, 3], &dev);
                let bound = to_vec(model.labelled_bound(xi.clone(), one_hot(&[c as u8], n, &dev), eps, Bound::Elbo))[0] as f64;
                let lq = log_q[i * n + c] as f64;
                expected += lq.exp() * bound - lq.exp() * lq;
            }
            assert_close(&[together[i]], &[expected as f32], 1e-3);
        }
        // And the same through the shared piece, on the labelled bounds as one tensor.
        let b_xc = tensor(vec![-100.0; b * n], [b, n], &dev);
        let via_piece = to_vec(marginal_bound(model.class_log_probs(x), b_xc));
        let entropy: Vec<f32> = (0..b).map(|i| -(0..n).map(|c| log_q[i * n + c].exp() * log_q[i * n + c]).sum::<f32>()).collect();
        assert_close(&via_piece, &entropy.iter().map(|h| h - 100.0).collect::<Vec<_>>(), 1e-4);
    }
}
