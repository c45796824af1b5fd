//! Test ELBO and importance-weighted bound `L_k` (k up to thousands), in nats per example.
//!
//! Memory stays bounded whatever k: examples are taken a few at a time and their k samples in
//! chunks, so no forward pass holds more than [`ROWS`] decoder rows. The log weights of every
//! chunk come back to the host, where `log (1/k) sum_i w_i` is finished in f64 with the
//! log-sum-exp trick.

use burn::tensor::{Device, Tensor};
use serde::Serialize;

use super::mean_se;
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::rng::{Purpose, stream};
use crate::host::{argmax_rows, host, log_mean_exp, normals, one_hot, tensor};

/// What the estimators ask of a model with an encoder (the VAE family, the AAE, the Helmholtz
/// machine; `models::Vae` implements it): its bound's terms for given noise, and for models
/// with a class, how the class enters.
pub trait LatentModel {
    /// The dimension of `z`.
    fn latent_dim(&self) -> usize;
    /// Classes the networks are given (0: none).
    fn classes(&self) -> usize;
    /// Whether the model infers the class itself (SVAE's `q(c|x)`).
    fn has_classifier(&self) -> bool;
    /// `log q(c|x)`, `[B, classes]` (models with a classifier).
    fn class_log_probs(&self, x: Tensor<2>) -> Tensor<2>;
    /// `log p(c)` of the uniform class prior.
    fn log_prior_c(&self) -> f64;
    /// With `z_j = mu(x) + sigma(x) eps_j` for `eps: [B, k, D]`: `log p(x | z_j)` and the log
    /// importance weights `log p(x, z_j) - log q(z_j | x)`, both `[B, k]`, and `KL(q(z|x) || p(z))`, `[B]`.
    fn bound_terms(&self, x: Tensor<2>, c: Option<Tensor<2>>, eps: Tensor<3>) -> BoundTerms;
}

/// The terms of the bounds of `B` examples with `k` samples each (see [`LatentModel::bound_terms`]).
pub struct BoundTerms {
    pub log_px_z: Tensor<2>,
    pub log_w: Tensor<2>,
    pub kl: Tensor<1>,
}

/// Decoder rows (examples x samples) per forward pass.
pub const ROWS: usize = 16_384;

/// Mean bounds over a data set, with standard errors over examples.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// Mean ELBO (closed-form KL, reconstruction averaged over the k samples).
    pub elbo: f64,
    pub elbo_se: f64,
    /// Mean `L_k`.
    pub iwae: f64,
    pub iwae_se: f64,
    pub k: usize,
    pub n: usize,
}

/// Scores `data` with `k` importance samples per example; the noise is drawn from `seed`.
/// `progress` is told how many examples are done.
///
/// The bound is on `log p(x)` for unconditional models, on `log p(x | c)` with the true label for
/// conditional ones (CVAE), and on `log p(x)` with the label summed over for SVAE: the ELBO as the
/// M2 unlabelled bound `sum_c q(c|x) (ELBO(x|c) + log p(c) - log q(c|x))`, and `L_k` as
/// `log sum_c p(c) exp L_k(x|c)`, every class enumerated.
pub fn estimate(model: &dyn LatentModel, data: &Dataset, k: usize, seed: u64, device: &Device, progress: impl FnMut(usize)) -> Result<Estimate> {
    let (elbos, iwaes) = per_example(model, data, k, seed, device, progress)?;
    let (elbo, elbo_se) = mean_se(&elbos);
    let (iwae, iwae_se) = mean_se(&iwaes);
    Ok(Estimate { elbo, elbo_se, iwae, iwae_se, k, n: data.len() })
}

/// The ELBO and `L_k` of each example of `data`, as [`estimate`] averages them.
pub fn per_example(model: &dyn LatentModel, data: &Dataset, k: usize, seed: u64, device: &Device, mut progress: impl FnMut(usize)) -> Result<(Vec<f64>, Vec<f64>)> {
    if k == 0 || data.is_empty() {
        return Err(Error::Invalid(format!("cannot score {} examples with k = {k}", data.len())));
    }
    let chunk = k.min(ROWS);
    let per_batch = (ROWS / chunk).clamp(1, data.len());
    let mut elbos = Vec::with_capacity(data.len());
    let mut iwaes = Vec::with_capacity(data.len());
    let mut counter = 0u64;
    let classes = model.classes();
    for start in (0..data.len()).step_by(per_batch) {
        let b = per_batch.min(data.len() - start);
        let idx: Vec<usize> = (start..start + b).collect();
        let x = tensor(data.gather(&idx), [b, data.dim], device);
        let mut given = |c: Option<Tensor<2>>| bounds_given(model, x.clone(), c, k, chunk, seed, &mut counter);
        if !model.has_classifier() {
            let labels: Vec<u8> = idx.iter().map(|&i| data.labels[i]).collect();
            let (e, i) = given((classes > 0).then(|| one_hot(&labels, classes, device)));
            elbos.extend(e);
            iwaes.extend(i);
        } else {
            let per_class: Vec<(Vec<f64>, Vec<f64>)> = (0..classes).map(|c| given(Some(one_hot(&vec![c as u8; b], classes, device)))).collect();
            let log_q = host(model.class_log_probs(x.clone()));
            let log_pc = model.log_prior_c();
            for i in 0..b {
                let lq = |c: usize| log_q[i * classes + c] as f64;
                elbos.push((0..classes).map(|c| lq(c).exp() * (per_class[c].0[i] + log_pc - lq(c))).sum());
                // log sum_c p(c) exp L_k(x|c), with p(c) = 1/classes: a mean over the classes.
                iwaes.push(log_mean_exp(&per_class.iter().map(|(_, l)| l[i]).collect::<Vec<_>>()));
            }
        }
        progress(start + b);
    }
    if let Some(bad) = elbos.iter().chain(&iwaes).find(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!("the model gives a non-finite bound ({bad}) on the test data")));
    }
    Ok((elbos, iwaes))
}

/// The ELBO and `L_k` of each example of `x` given `c`, with the k samples drawn `chunk` at a time.
fn bounds_given(model: &dyn LatentModel, x: Tensor<2>, c: Option<Tensor<2>>, k: usize, chunk: usize, seed: u64, counter: &mut u64) -> (Vec<f64>, Vec<f64>) {
    let (b, d, device) = (x.dims()[0], model.latent_dim(), x.device());
    let mut log_w = vec![Vec::with_capacity(k); b];
    let mut rec = vec![0f64; b];
    let mut kl = vec![0f64; b];
    let mut done = 0;
    while done < k {
        let kc = chunk.min(k - done);
        let eps = tensor(normals(&mut stream(seed, Purpose::Eval, *counter), b * kc * d), [b, kc, d], &device);
        *counter += 1;
        let t = model.bound_terms(x.clone(), c.clone(), eps);
        let lw = host(t.log_w);
        let lp = host(t.log_px_z);
        let klv = host(t.kl);
        for i in 0..b {
            log_w[i].extend(lw[i * kc..(i + 1) * kc].iter().map(|&v| v as f64));
            rec[i] += lp[i * kc..(i + 1) * kc].iter().map(|&v| v as f64).sum::<f64>();
            kl[i] = klv[i] as f64;
        }
        done += kc;
    }
    let elbos = (0..b).map(|i| rec[i] / k as f64 - kl[i]).collect();
    let iwaes = log_w.iter().map(|lw| log_mean_exp(lw)).collect();
    (elbos, iwaes)
}

/// The class `c` a model is given for the examples `x` with labels `labels`: none (unconditional),
/// the label (CVAE), or the classifier's guess (SVAE, which is never told).
pub fn condition(model: &dyn LatentModel, x: Tensor<2>, labels: &[u8]) -> Option<Tensor<2>> {
    let classes = model.classes();
    if classes == 0 {
        return None;
    }
    let device = x.device();
    if model.has_classifier() {
        Some(one_hot(&predictions(model, x), classes, &device))
    } else {
        Some(one_hot(labels, classes, &device))
    }
}

/// The most probable class under `q(c|x)` for each example.
fn predictions(model: &dyn LatentModel, x: Tensor<2>) -> Vec<u8> {
    argmax_rows(&host(model.class_log_probs(x)), model.classes())
}

/// The fraction of `data` that an SVAE's classifier `q(c|x)` labels correctly.
pub fn accuracy(model: &dyn LatentModel, data: &Dataset, device: &Device) -> f64 {
    let mut correct = 0usize;
    for start in (0..data.len()).step_by(1000) {
        let idx: Vec<usize> = (start..(start + 1000).min(data.len())).collect();
        let pred = predictions(model, tensor(data.gather(&idx), [idx.len(), data.dim], device));
        correct += pred.iter().zip(&idx).filter(|(p, i)| **p == data.labels[**i]).count();
    }
    correct as f64 / data.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_log_mean_exp() {
        assert!((log_mean_exp(&[0.0, 0.0]) - 0.0).abs() < 1e-12);
        assert!((log_mean_exp(&[-1000.0, -1000.0 + 2f64.ln()]) - (-1000.0 + 1.5f64.ln())).abs() < 1e-9);
        assert_eq!(log_mean_exp(&[f64::NEG_INFINITY]), f64::NEG_INFINITY);
    }
}
