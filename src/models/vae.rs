//! VAE and IWAE (SPEC §2.1, §2.2): encoder `q_eta(z|x)`, decoder `p_theta(x|z)`, prior N(0, I).
//!
//! The two models share the network and every term; they differ only in how the k log weights
//! `log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)` become a bound ([`Bound`]).

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};

use crate::config::{Likelihood, TrainConfig};
use crate::nets::{Mlp, MlpConfig};
use crate::objectives::{
    bernoulli_log_likelihood, elbo, gaussian_log_density, gaussian_log_density_fixed, iwae_bound,
    kl_standard_normal,
};

/// Which bound on `log p(x)` training maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// `E_q[log p(x|z)] - KL(q || p)`, KL in closed form, the expectation averaged over k samples.
    Elbo,
    /// `L_k = log (1/k) sum_i w_i`.
    Iwae,
}

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
    pub encoder: MlpConfig,
    pub decoder: MlpConfig,
    pub output: Decoder,
}

impl VaeConfig {
    /// Encoder `x_dim -> hidden -> 2 latent_dim` (mean and log-variance); the decoder mirrors it.
    pub fn new(x_dim: usize, c: &TrainConfig) -> Self {
        let output = match (c.likelihood, c.learn_variance) {
            (Likelihood::Bernoulli, _) => Decoder::Bernoulli,
            (Likelihood::Gaussian, true) => Decoder::GaussianLearned,
            (Likelihood::Gaussian, false) => Decoder::GaussianFixed(c.gaussian_std),
        };
        let out_width = if output == Decoder::GaussianLearned { 2 * x_dim } else { x_dim };
        VaeConfig {
            x_dim,
            latent_dim: c.latent_dim,
            encoder: MlpConfig {
                d_in: x_dim,
                hidden: c.hidden.clone(),
                d_out: 2 * c.latent_dim,
                activation: c.activation,
            },
            decoder: MlpConfig {
                d_in: c.latent_dim,
                hidden: c.hidden.iter().rev().copied().collect(),
                d_out: out_width,
                activation: c.activation,
            },
            output,
        }
    }

    pub fn init(&self, device: &Device) -> Vae {
        Vae {
            encoder: self.encoder.init(device),
            decoder: self.decoder.init(device),
            output: self.output,
            latent_dim: self.latent_dim,
        }
    }
}

#[derive(Module, Debug)]
pub struct Vae {
    encoder: Mlp,
    decoder: Mlp,
    #[module(skip)]
    output: Decoder,
    #[module(skip)]
    latent_dim: usize,
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

    /// `x: [B, D] -> (mu, log_var)`, each `[B, d]`.
    pub fn encode(&self, x: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let h = self.encoder.forward(x);
        let d = self.latent_dim;
        (h.clone().narrow(1, 0, d), h.narrow(1, d, d))
    }

    /// `log p(x | z)` for `x, z` paired row by row: `[N, D], [N, d] -> [N]`.
    pub fn log_px_z(&self, x: Tensor<2>, z: Tensor<2>) -> Tensor<1> {
        let out = self.decoder.forward(z);
        let width = x.dims()[1];
        match self.output {
            Decoder::Bernoulli => bernoulli_log_likelihood(out, x),
            Decoder::GaussianLearned => {
                gaussian_log_density(x, out.clone().narrow(1, 0, width), out.narrow(1, width, width))
            }
            Decoder::GaussianFixed(sigma) => gaussian_log_density_fixed(x, out, sigma),
        }
    }

    /// The mean of `p(x | z)`, for pictures: `[N, d] -> [N, D]`.
    pub fn decode_mean(&self, z: Tensor<2>) -> Tensor<2> {
        let out = self.decoder.forward(z);
        match self.output {
            Decoder::Bernoulli => sigmoid(out),
            Decoder::GaussianLearned => {
                let width = out.dims()[1] / 2;
                out.narrow(1, 0, width)
            }
            Decoder::GaussianFixed(_) => out,
        }
    }

    /// A draw from `p(x | z)` (Gaussian noise added; Bernoulli decoders return the mean, the usual
    /// way to show binary-pixel samples): `[N, d], eps: [N, D] -> [N, D]`.
    pub fn decode_sample(&self, z: Tensor<2>, eps: Tensor<2>) -> Tensor<2> {
        let out = self.decoder.forward(z);
        match self.output {
            Decoder::Bernoulli => sigmoid(out),
            Decoder::GaussianLearned => {
                let width = out.dims()[1] / 2;
                out.clone().narrow(1, 0, width) + out.narrow(1, width, width).mul_scalar(0.5).exp() * eps
            }
            Decoder::GaussianFixed(sigma) => out + eps.mul_scalar(sigma),
        }
    }

    /// All terms for `x: [B, D]` with reparameterisation noise `eps: [B, k, d]`,
    /// `z_i = mu + sigma * eps_i`.
    pub fn terms(&self, x: Tensor<2>, eps: Tensor<3>) -> Terms {
        let [b, k, d] = eps.dims();
        let x_dim = x.dims()[1];
        let (mu, log_var) = self.encode(x.clone());
        let kl = kl_standard_normal(mu.clone(), log_var.clone());
        let rows = |t: Tensor<2>, width: usize| -> Tensor<2> {
            t.unsqueeze_dim::<3>(1).expand([b, k, width]).reshape([b * k, width])
        };
        let (mu_k, log_var_k) = (rows(mu, d), rows(log_var, d));
        let z = mu_k.clone() + log_var_k.clone().mul_scalar(0.5).exp() * eps.reshape([b * k, d]);
        let log_px_z = self.log_px_z(rows(x, x_dim), z.clone()).reshape([b, k]);
        let log_qz_x = gaussian_log_density(z.clone(), mu_k, log_var_k).reshape([b, k]);
        let log_pz = gaussian_log_density(z.clone(), z.zeros_like(), z.zeros_like()).reshape([b, k]);
        Terms { log_px_z, log_pz, log_qz_x, kl }
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
    pub fn loss(&self, x: Tensor<2>, eps: Tensor<3>, bound: Bound) -> Loss {
        let terms = self.terms(x, eps);
        Loss {
            loss: terms.bound(bound).mean().neg(),
            reconstruction: terms.log_px_z.clone().mean().neg(),
            kl: terms.kl.mean(),
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
        let mut c = TrainConfig::default_for(DataKind::Images, crate::config::Family::Vae);
        c.hidden = vec![16];
        c.latent_dim = 3;
        c.likelihood = likelihood;
        c.learn_variance = learn_variance;
        let dev = device();
        dev.seed(0);
        VaeConfig::new(6, &c).init(&dev)
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
            let t = m.terms(x, eps);
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
        let t = m.terms(x, eps);
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
        let l5 = to_vec(m.terms(x400, eps([1600, 5, 3], 1)).bound(Bound::Iwae).mean())[0];
        let l500 = to_vec(m.terms(x.clone(), eps([4, 500, 3], 2)).bound(Bound::Iwae).mean())[0];
        let elbo = to_vec(m.terms(x, eps([4, 2000, 3], 3)).bound(Bound::Elbo).mean())[0];
        assert!(elbo < l5 && l5 < l500, "ELBO {elbo}, L_5 {l5}, L_500 {l500}");
    }

    #[test]
    fn shapes() {
        let m = small(Likelihood::Gaussian, true);
        let dev = device();
        let z = Tensor::<2>::from_data(TensorData::new(vec![0.0f32; 6], [2, 3]), &dev);
        assert_eq!(m.decode_mean(z.clone()).dims(), [2, 6]);
        assert_eq!(m.decode_sample(z, Tensor::zeros([2, 6], &dev)).dims(), [2, 6]);
        let t = m.terms(batch(&dev), Tensor::zeros([4, 7, 3], &dev));
        assert_eq!(t.log_w().dims(), [4, 7]);
        assert_eq!(t.kl.dims(), [4]);
    }
}
