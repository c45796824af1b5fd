//! VAE and IWAE (docs/spec.md §2.1, §2.2), CVAE (§2.5) and the semi-supervised M2 model SVAE (§2.7):
//! encoder `q_eta(z|x, c)`, decoder `p_theta(x|z, c)`, prior N(0, I), and for SVAE a classifier
//! `q(c|x)`.
//!
//! One network serves all of them. The class `c` is absent (VAE, IWAE), given (CVAE: the label is
//! observed), or given where labelled and summed over under `q(c|x)` where not (SVAE). VAE and
//! IWAE differ only in how the k log weights
//! `log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)` become a bound ([`Bound`]).
//!
//! Settings read (`unigen train vae`; the loop's own, `epochs` to `max_steps`, apply to
//! every model; any other is refused, `kind.rs`): `latent_dim`, `hidden`, `activation`, `network`, `likelihood`, `learn_variance`, `gaussian_std`, `k`; SVAE and AA-SVAE also `label_fraction`, `class_weight`; the adversary-activated models also `alpha`, `weigh_real`, `normalize_weights`, `alpha_warmup`, `generated`, `norm_stats`, `d_activation`, `d_hidden` and `d_channels` (the MLP and the convolutional discriminator's capacity), `d_steps`; model selection: `validation`, `eval_every`, `patience`.

pub mod step;
pub use step::VaeTrainer;

use burn::module::Module;
use burn::tensor::activation::{log_softmax, sigmoid};
use burn::tensor::{Device, Tensor};
use rand::Rng;

use super::with_condition;
use crate::config::{Likelihood, Network, TrainConfig};
use super::trained::{Model, OwnScores, prior_draws};
use crate::data::{DataKind, Dataset};
use crate::eval::{likelihood, mmd};
use crate::host::{host, normals, one_hot, tensor};
use crate::eval::EVAL_SEED;
use crate::rng::{Purpose, stream};
use crate::{data, plot};
use crate::run::{RunSpec, x_dim};
use crate::nets::{ConvDown, ConvUp, DcganConfig, Mlp, MlpConfig};
pub use crate::objectives::Bound;
use crate::objectives::{
    bernoulli_log_likelihood, elbo, gaussian_log_density, gaussian_log_density_fixed, iwae_bound,
    kl_standard_normal, marginal_bound,
};

/// How the decoder's output is read (`#[module(skip)]`: configuration, not parameters).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decoder {
    /// Logits of Bernoulli pixels.
    Bernoulli,
    /// Mean and per-dimension log-variance (the output is twice the data width).
    GaussianLearned,
    /// Mean only, with a fixed standard deviation.
    GaussianFixed(f64),
}

#[derive(Debug, Clone)]
pub struct VaeConfig {
    pub x_dim: usize,
    pub latent_dim: usize,
    /// Classes the encoder and decoder are conditioned on (0: unconditional).
    pub classes: usize,
    pub encoder: MlpConfig,
    pub decoder: MlpConfig,
    /// SVAE only: the classifier `q(c|x)`, `x_dim -> hidden -> classes`.
    pub classifier: Option<MlpConfig>,
    pub output: Decoder,
    /// `mlp`, or `dcgan`: convolutional encoder and decoder for square images (the DCGAN pair's
    /// convolutions; the MLP configs are then not used).
    pub network: Network,
}

impl VaeConfig {
    /// Encoder `x_dim (+ classes) -> hidden -> 2 latent_dim` (mean and log-variance); the decoder
    /// mirrors it, `latent_dim (+ classes) -> reversed hidden -> x_dim`. With `classifier`, also
    /// `q(c|x)` with the encoder's hidden widths.
    pub fn new(x_dim: usize, c: &TrainConfig, classes: usize, classifier: bool) -> Self {
        let output = match (c.likelihood, c.learn_variance) {
            (Likelihood::Bernoulli, _) => Decoder::Bernoulli,
            (Likelihood::Gaussian, true) => Decoder::GaussianLearned,
            (Likelihood::Gaussian, false) => Decoder::GaussianFixed(c.gaussian_std),
        };
        let out_width = if output == Decoder::GaussianLearned { 2 * x_dim } else { x_dim };
        let mlp = |d_in, hidden: Vec<usize>, d_out| MlpConfig::new(d_in, hidden, d_out, c.activation);
        VaeConfig {
            x_dim,
            latent_dim: c.latent_dim,
            classes,
            encoder: mlp(x_dim + classes, c.hidden.clone(), 2 * c.latent_dim),
            decoder: mlp(c.latent_dim + classes, c.hidden.iter().rev().copied().collect(), out_width),
            classifier: classifier.then(|| mlp(x_dim, c.hidden.clone(), classes)),
            output,
            network: c.network,
        }
    }

    pub fn init(&self, device: &Device) -> Vae {
        let mlp = self.network == Network::Mlp;
        let conv = DcganConfig::for_images(self.x_dim, self.latent_dim, self.classes);
        Vae {
            encoder: mlp.then(|| self.encoder.init(device)),
            decoder: mlp.then(|| self.decoder.init(device)),
            conv_encoder: (!mlp).then(|| conv.encoder(2 * self.latent_dim, device)),
            conv_decoder: (!mlp).then(|| conv.generator(device)),
            classifier: self.classifier.as_ref().map(|c| c.init(device)),
            output: self.output,
            x_dim: self.x_dim,
            latent_dim: self.latent_dim,
            classes: self.classes,
        }
    }
}

/// Exactly one of the MLP and the convolutional encoder (and decoder) is present; options keep
/// an MLP model's parameter names what they always were.
#[derive(Module, Debug)]
pub struct Vae {
    encoder: Option<Mlp>,
    decoder: Option<Mlp>,
    conv_encoder: Option<ConvDown>,
    conv_decoder: Option<ConvUp>,
    classifier: Option<Mlp>,
    #[module(skip)]
    output: Decoder,
    #[module(skip)]
    x_dim: usize,
    #[module(skip)]
    latent_dim: usize,
    #[module(skip)]
    classes: usize,
}

/// The per-sample terms of a batch: everything a bound or a diagnostic needs.
#[derive(Debug, Clone)]
pub struct Terms {
    /// `log p(x | z_i)`, `[B, k]`.
    pub log_px_z: Tensor<2>,
    /// `log p(z_i)`, `[B, k]`.
    pub log_pz: Tensor<2>,
    /// `log q(z_i | x)`, `[B, k]`.
    pub log_qz_x: Tensor<2>,
    /// `KL(q(z|x) || p(z))` in closed form, `[B]`.
    pub kl: Tensor<1>,
}

impl Terms {
    /// `log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x)`, `[B, k]`.
    pub fn log_w(&self) -> Tensor<2> {
        self.log_px_z.clone() + self.log_pz.clone() - self.log_qz_x.clone()
    }

    /// The bound per example, `[B]`.
    pub fn bound(&self, bound: Bound) -> Tensor<1> {
        match bound {
            Bound::Elbo => elbo(self.log_px_z.clone(), self.kl.clone()),
            Bound::Iwae => iwae_bound(self.log_w()),
        }
    }
}

impl Vae {
    pub fn latent_dim(&self) -> usize {
        self.latent_dim
    }

    /// Classes the encoder and decoder are conditioned on (0: unconditional).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Whether the model infers the class with `q(c|x)` (SVAE) rather than being told it.
    pub fn has_classifier(&self) -> bool {
        self.classifier.is_some()
    }

    /// `x: [B, D]`, `c: [B, classes]` one-hot (conditional models) `-> (mu, log_var)`, each `[B, d]`.
    pub fn encode(&self, x: Tensor<2>, c: Option<Tensor<2>>) -> (Tensor<2>, Tensor<2>) {
        debug_assert_eq!(c.is_some(), self.classes > 0, "a class exactly for conditional models");
        let h = match (&self.encoder, &self.conv_encoder) {
            (Some(mlp), _) => mlp.forward(with_condition(x, c)),
            (None, Some(conv)) => conv.forward(x, c),
            (None, None) => unreachable!("a VAE has an encoder"),
        };
        let d = self.latent_dim;
        (h.clone().narrow(1, 0, d), h.narrow(1, d, d))
    }

    fn decoder_out(&self, z: Tensor<2>, c: Option<Tensor<2>>) -> Tensor<2> {
        match (&self.decoder, &self.conv_decoder) {
            (Some(mlp), _) => mlp.forward(with_condition(z, c)),
            (None, Some(conv)) => conv.forward(with_condition(z, c)),
            (None, None) => unreachable!("a VAE has a decoder"),
        }
    }

    /// `log p(x | z, c)` for `x, z, c` paired row by row: `[N, D], [N, d] -> [N]`.
    pub fn log_px_z(&self, x: Tensor<2>, z: Tensor<2>, c: Option<Tensor<2>>) -> Tensor<1> {
        let out = self.decoder_out(z, c);
        let width = x.dims()[1];
        match self.output {
            Decoder::Bernoulli => bernoulli_log_likelihood(out, x),
            Decoder::GaussianLearned => {
                gaussian_log_density(x, out.clone().narrow(1, 0, width), out.narrow(1, width, width))
            }
            Decoder::GaussianFixed(sigma) => gaussian_log_density_fixed(x, out, sigma),
        }
    }

    /// The mean of `p(x | z, c)`, for pictures: `[N, d] -> [N, D]`.
    pub fn decode_mean(&self, z: Tensor<2>, c: Option<Tensor<2>>) -> Tensor<2> {
        let out = self.decoder_out(z, c);
        match self.output {
            Decoder::Bernoulli => sigmoid(out),
            Decoder::GaussianLearned => {
                let width = out.dims()[1] / 2;
                out.narrow(1, 0, width)
            }
            Decoder::GaussianFixed(_) => out,
        }
    }

    /// A draw from `p(x | z, c)` (Gaussian noise added; Bernoulli decoders return the mean, the
    /// usual way to show binary-pixel samples): `[N, d], eps: [N, D] -> [N, D]`.
    pub fn decode_sample(&self, z: Tensor<2>, c: Option<Tensor<2>>, eps: Tensor<2>) -> Tensor<2> {
        let out = self.decoder_out(z, c);
        match self.output {
            Decoder::Bernoulli => sigmoid(out),
            Decoder::GaussianLearned => {
                let width = out.dims()[1] / 2;
                out.clone().narrow(1, 0, width) + out.narrow(1, width, width).mul_scalar(0.5).exp() * eps
            }
            Decoder::GaussianFixed(sigma) => out + eps.mul_scalar(sigma),
        }
    }

    /// `n` generated examples `x ~ p(x | z, c)`, `z ~ p(z)`, as data looks to the model: Bernoulli
    /// pixels drawn as 0/1 (the training data are binarised), Gaussian ones with their noise. No
    /// gradient flows through the generation. `labels`: the class of each (conditional models).
    pub fn generate(&self, n: usize, labels: &[u8], rng: &mut impl Rng, device: &Device) -> Tensor<2> {
        self.dream(n, labels, rng, device).1
    }

    /// `n` decoder means `E[x | z]`, `z ~ p(z)`, without gradient: generated samples without the
    /// decoder's own noise.
    pub fn generate_mean(&self, n: usize, labels: &[u8], rng: &mut impl Rng, device: &Device) -> Tensor<2> {
        let c = (self.classes > 0).then(|| one_hot(labels, self.classes, device));
        let z = tensor(normals(rng, n * self.latent_dim), [n, self.latent_dim], device);
        self.decode_mean(z, c).detach()
    }

    /// [`Vae::generate`] with the latent codes it drew: `(z, x)`, both without gradient (the
    /// wake-sleep algorithm's dreams).
    pub fn dream(&self, n: usize, labels: &[u8], rng: &mut impl Rng, device: &Device) -> (Tensor<2>, Tensor<2>) {
        let c = (self.classes > 0).then(|| one_hot(labels, self.classes, device));
        let z = tensor(normals(rng, n * self.latent_dim), [n, self.latent_dim], device);
        let x = match self.output {
            Decoder::Bernoulli => {
                let p = host(self.decode_mean(z.clone(), c).detach());
                tensor(crate::data::binarize(&p, rng), [n, self.x_dim], device)
            }
            _ => self.decode_sample(z.clone(), c, tensor(normals(rng, n * self.x_dim), [n, self.x_dim], device)),
        };
        (z, x.detach())
    }

    /// All terms for `x: [B, D]` (with its classes `c`, conditional models) and reparameterisation
    /// noise `eps: [B, k, d]`, `z_i = mu + sigma * eps_i`.
    pub fn terms(&self, x: Tensor<2>, c: Option<Tensor<2>>, eps: Tensor<3>) -> Terms {
        let [b, k, d] = eps.dims();
        let x_dim = x.dims()[1];
        let (mu, log_var) = self.encode(x.clone(), c.clone());
        let kl = kl_standard_normal(mu.clone(), log_var.clone());
        let rows = |t: Tensor<2>, width: usize| -> Tensor<2> {
            if k == 1 { t } else { t.unsqueeze_dim::<3>(1).expand([b, k, width]).reshape([b * k, width]) }
        };
        let (mu_k, log_var_k) = (rows(mu, d), rows(log_var, d));
        let z = mu_k.clone() + log_var_k.clone().mul_scalar(0.5).exp() * eps.reshape([b * k, d]);
        let c_k = c.map(|c| rows(c, self.classes));
        let log_px_z = self.log_px_z(rows(x, x_dim), z.clone(), c_k).reshape([b, k]);
        let log_qz_x = gaussian_log_density(z.clone(), mu_k, log_var_k).reshape([b, k]);
        let log_pz = gaussian_log_density(z.clone(), z.zeros_like(), z.zeros_like()).reshape([b, k]);
        Terms { log_px_z, log_pz, log_qz_x, kl }
    }

    /// `log q(c | x)`, `[B, D] -> [B, classes]` (SVAE).
    pub fn class_log_probs(&self, x: Tensor<2>) -> Tensor<2> {
        let classifier = self.classifier.as_ref().expect("class_log_probs needs a model with a classifier (svae, aasvae)");
        log_softmax(classifier.forward(x), 1)
    }

    /// `log p(c)` of the uniform class prior.
    pub fn log_prior_c(&self) -> f64 {
        -(self.classes as f64).ln()
    }

    /// The labelled bound on `log p(x, c)`, `B(x, c) = bound(x | c) + log p(c)` (docs/spec.md §2.7), `[B]`.
    pub fn labelled_bound(&self, x: Tensor<2>, c: Tensor<2>, eps: Tensor<3>, bound: Bound) -> Tensor<1> {
        self.terms(x, Some(c), eps).bound(bound).add_scalar(self.log_prior_c())
    }

    /// The unlabelled bound on `log p(x)`, `sum_c q(c|x) B(x, c) + H(q(c|x))` (docs/spec.md §2.7), with
    /// every class tried for every example: `x: [B, D]`, `eps: [B * classes, k, d]` (row
    /// `i * classes + c` is example `i` with class `c`) `-> [B]`.
    pub fn unlabelled_bound(&self, x: Tensor<2>, eps: Tensor<3>, bound: Bound) -> Tensor<1> {
        let [b, width] = x.dims();
        let n = self.classes;
        let every: Vec<u8> = (0..b * n).map(|r| (r % n) as u8).collect();
        let x_rep = x.clone().unsqueeze_dim::<3>(1).expand([b, n, width]).reshape([b * n, width]);
        let b_xc = self.labelled_bound(x_rep, one_hot(&every, n, &x.device()), eps, bound).reshape([b, n]);
        marginal_bound(self.class_log_probs(x), b_xc)
    }
}

/// The training loss of one batch and the parts reported beside it.
pub struct Loss {
    /// `-mean(bound)`, in nats per example: what is minimised.
    pub loss: Tensor<1>,
    /// `-mean log p(x|z)` over examples and samples.
    pub reconstruction: Tensor<1>,
    /// `mean KL(q(z|x) || p(z))`.
    pub kl: Tensor<1>,
}

impl Vae {
    /// The plain VAE/IWAE/CVAE loss (every example weighted 1).
    pub fn loss(&self, x: Tensor<2>, c: Option<Tensor<2>>, eps: Tensor<3>, bound: Bound) -> Loss {
        let terms = self.terms(x, c, eps);
        Loss {
            loss: terms.bound(bound).mean().neg(),
            reconstruction: terms.log_px_z.clone().mean().neg(),
            kl: terms.kl.mean(),
        }
    }
}

impl crate::eval::likelihood::LatentModel for Vae {
    fn latent_dim(&self) -> usize {
        Vae::latent_dim(self)
    }
    fn classes(&self) -> usize {
        Vae::classes(self)
    }
    fn has_classifier(&self) -> bool {
        Vae::has_classifier(self)
    }
    fn class_log_probs(&self, x: Tensor<2>) -> Tensor<2> {
        Vae::class_log_probs(self, x)
    }
    fn log_prior_c(&self) -> f64 {
        Vae::log_prior_c(self)
    }
    fn bound_terms(&self, x: Tensor<2>, c: Option<Tensor<2>>, eps: Tensor<3>) -> crate::eval::likelihood::BoundTerms {
        let t = self.terms(x, c, eps);
        crate::eval::likelihood::BoundTerms { log_w: t.log_w(), log_px_z: t.log_px_z, kl: t.kl }
    }
}

/// An autoencoder's codes on `test`: the reconstruction error `-log p(x | z = mu(x))` in nats per
/// example, and MMD^2 between the aggregated posterior (one `z ~ q(z|x)` per example) and as
/// many prior draws ([`mmd::mmd2`]). Any model of the VAE family: the VAE's KL term and the
/// AAE's discriminator on `z` are two ways to make the second number small. `None` for fewer
/// than two examples, where MMD is undefined.
pub fn code_scores(m: &Vae, test: &Dataset, device: &Device) -> Option<(f64, f64)> {
    let (n, d) = (test.len(), m.latent_dim());
    if n < 2 {
        return None;
    }
    let x = tensor(test.x.clone(), [n, test.dim], device);
    let c = likelihood::condition(m, x.clone(), &test.labels);
    let (mu, log_var) = m.encode(x.clone(), c.clone());
    let reconstruction = -(m.log_px_z(x, mu.clone(), c).mean().into_scalar::<f32>() as f64);
    let rng = &mut stream(EVAL_SEED, Purpose::Eval, 0);
    let z = host(mu + log_var.mul_scalar(0.5).exp() * tensor(normals(rng, n * d), [n, d], device));
    Some((reconstruction, mmd::mmd2(&z, &normals(rng, n * d), d)))
}

/// Test images (odd rows) above their reconstructions from the posterior mean (even rows).
pub fn reconstruction_picture(model: &Vae, test: &Dataset, device: &Device) -> image::RgbImage {
    let n = test.len().min(32);
    let x = test.head(n);
    let xt = tensor(x.x.clone(), [n, x.dim], device);
    let c = likelihood::condition(model, xt.clone(), &x.labels);
    let (mu, _) = model.encode(xt, c.clone());
    let rec = host(model.decode_mean(mu, c));
    let mut rows = Vec::with_capacity(2 * x.x.len());
    for r in 0..n.div_ceil(8) {
        let span = r * 8 * x.dim..((r + 1) * 8).min(n) * x.dim;
        rows.extend_from_slice(&x.x[span.clone()]);
        rows.extend_from_slice(&rec[span]);
    }
    plot::image_grid(&rows, data::idx::SIDE, 8)
}

/// A trained VAE-family model (and the AAE's and the Helmholtz machine's networks, the same ones).
impl Model for Vae {
    fn classes(&self) -> usize {
        Vae::classes(self)
    }

    /// Images: the decoder's mean; points: a draw from the decoder's Gaussian.
    fn sample_classes(&self, spec: &RunSpec, n: usize, labels: &[u8], rng: &mut rand_chacha::ChaCha8Rng, device: &Device) -> Vec<f32> {
        let (z, c) = prior_draws(self.latent_dim(), Vae::classes(self), n, labels, rng, device);
        if spec.data.kind() == DataKind::Images {
            return host(self.decode_mean(z, c));
        }
        let w = x_dim(spec);
        host(self.decode_sample(z, c, tensor(normals(rng, n * w), [n, w], device)))
    }

    fn vae(&self) -> Option<&Vae> {
        Some(self)
    }

    fn own_scores(&self, _spec: &RunSpec, test: &Dataset, _reference: Option<&crate::eval::classifier::Reference>, device: &Device) -> OwnScores {
        let Some((reconstruction, mmd2)) = code_scores(self, test, device) else {
            return OwnScores { lines: vec!["  (reconstruction and MMD^2 skipped: they need at least 2 test examples)".into()], ..OwnScores::default() };
        };
        let scores = vec![("test_reconstruction", reconstruction), ("latent_mmd", mmd2)];
        OwnScores {
            epoch: scores.clone(),
            eval: scores,
            protocol: vec![("latent_mmd", "unbiased MMD^2, Gaussian kernel of bandwidth sqrt(latent_dim), one z ~ q(z|x) per test example vs as many prior draws".into())],
            lines: vec![format!("  reconstruction -log p(x|mu(x)) {reconstruction:.3} nats"), format!("  MMD^2(aggregated posterior, prior) {mmd2:.5}")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DataKind, TrainConfig};
    use crate::testing::{assert_close, device, to_vec};
    use burn::tensor::{Distribution, TensorData};

    fn small(likelihood: Likelihood, learn_variance: bool) -> Vae {
        let mut c = TrainConfig::default_for(DataKind::Images, crate::models::ModelKind::Vae);
        c.hidden = vec![16];
        c.latent_dim = 3;
        c.likelihood = likelihood;
        c.learn_variance = learn_variance;
        let dev = device();
        dev.seed(0);
        VaeConfig::new(6, &c, 0, false).init(&dev)
    }

    fn batch(dev: &Device) -> Tensor<2> {
        Tensor::<2>::random([4, 6], Distribution::Bernoulli(0.5), dev)
    }

    #[test]
    fn iwae_with_k1_equals_the_single_sample_elbo() {
        // With one sample, L_1 = log p(x|z) + log p(z) - log q(z|x), the ELBO whose KL is
        // estimated by the same sample; its closed-form-KL twin agrees in expectation.
        for (lik, lv) in [(Likelihood::Bernoulli, false), (Likelihood::Gaussian, true), (Likelihood::Gaussian, false)] {
            let m = small(lik, lv);
            let dev = device();
            let x = batch(&dev);
            let eps = Tensor::<3>::random([4, 1, 3], Distribution::Normal(0.0, 1.0), &dev);
            let t = m.terms(x, None, eps);
            let single = t.log_px_z.clone() + t.log_pz.clone() - t.log_qz_x.clone();
            assert_close(&to_vec(t.bound(Bound::Iwae)), &to_vec(single.reshape([4])), 1e-5);
        }
    }

    #[test]
    fn closed_form_elbo_matches_the_sampled_one_in_expectation() {
        let m = small(Likelihood::Bernoulli, false);
        let dev = device();
        let x = batch(&dev);
        let k = 20_000;
        let eps = Tensor::<3>::random([4, k, 3], Distribution::Normal(0.0, 1.0), &dev);
        let t = m.terms(x, None, eps);
        let closed = to_vec(t.bound(Bound::Elbo));
        let sampled = to_vec(t.log_w().mean_dim(1).reshape([4]));
        assert_close(&sampled, &closed, 0.01);
    }

    /// Host-drawn standard normals, so the draw does not depend on other tests sharing the device.
    fn eps(shape: [usize; 3], counter: u64) -> Tensor<3> {
        let n = shape.iter().product();
        crate::host::tensor(crate::host::normals(&mut crate::rng::stream(9, crate::rng::Purpose::Eps, counter), n), shape, &device())
    }

    #[test]
    fn iwae_bound_is_at_least_the_elbo_and_grows_with_k() {
        // E[ELBO] <= E[L_5] <= E[L_500]. The ordering holds for expectations, not single draws, so
        // each bound is averaged over many independent groups of samples: the 4 digits repeated
        // 400 times give 1,600 independent estimates of L_5.
        let m = small(Likelihood::Bernoulli, false);
        let dev = device();
        let x = batch(&dev);
        let x400 = x.clone().repeat_dim(0, 400);
        let l5 = to_vec(m.terms(x400, None, eps([1600, 5, 3], 1)).bound(Bound::Iwae).mean())[0];
        let l500 = to_vec(m.terms(x.clone(), None, eps([4, 500, 3], 2)).bound(Bound::Iwae).mean())[0];
        let elbo = to_vec(m.terms(x, None, eps([4, 2000, 3], 3)).bound(Bound::Elbo).mean())[0];
        assert!(elbo < l5 && l5 < l500, "ELBO {elbo}, L_5 {l5}, L_500 {l500}");
    }

    #[test]
    fn shapes() {
        let m = small(Likelihood::Gaussian, true);
        let dev = device();
        let z = Tensor::<2>::from_data(TensorData::new(vec![0.0f32; 6], [2, 3]), &dev);
        assert_eq!(m.decode_mean(z.clone(), None).dims(), [2, 6]);
        assert_eq!(m.decode_sample(z, None, Tensor::zeros([2, 6], &dev)).dims(), [2, 6]);
        let t = m.terms(batch(&dev), None, Tensor::zeros([4, 7, 3], &dev));
        assert_eq!(t.log_w().dims(), [4, 7]);
        assert_eq!(t.kl.dims(), [4]);
    }

    /// Generated means are the decoder's means of the same prior draws, without its noise; drawn
    /// samples add it.
    #[test]
    fn generated_means_carry_no_decoder_noise() {
        let dev = device();
        let m = small(Likelihood::Gaussian, true);
        let rng = || crate::rng::stream(3, crate::rng::Purpose::Eps, 0);
        let means = to_vec(m.generate_mean(5, &[], &mut rng(), &dev));
        let z = tensor(normals(&mut rng(), 5 * 3), [5, 3], &dev);
        assert_eq!(means, to_vec(m.decode_mean(z, None)));
        assert_ne!(to_vec(m.generate(5, &[], &mut rng(), &dev)), means);
    }
}
