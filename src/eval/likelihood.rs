//! Test ELBO and importance-weighted bound `L_k` (k up to thousands), in nats per example.
//!
//! Memory stays bounded whatever k: examples are taken a few at a time and their k samples in
//! chunks of at most [`ROWS`] decoder rows, each computed in forward passes of at most
//! [`PASS_ROWS`] rows. The log weights of every
//! chunk come back to the host, where `log (1/k) sum_i w_i` is finished in f64 with the
//! log-sum-exp trick.

use std::ops::Range;

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
pub trait LatentModel: Sync {
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

/// Decoder rows (examples x samples) whose noise is drawn at once: it fixes which normals each
/// sample gets, so it stays as it was when the committed results were scored.
pub const ROWS: usize = 16_384;

/// Decoder rows per forward pass, which bounds the memory a pass touches. The convolutional
/// decoder holds about 50 KB of activations a row: passes of 16,384 rows allocated about 800 MB a
/// layer, which the kernel mapped and zeroed afresh at every pass (42% of an evaluation's time
/// was the kernel's `clear_page`). Measured (docs/performance.md): 512 rows scored `L_1000`
/// 3-6x faster than 16,000 for the convolutional VAE and 1.25x faster for the MLP VAE on one
/// thread, level with it on two.
pub const PASS_ROWS: usize = 512;

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
pub fn per_example(model: &dyn LatentModel, data: &Dataset, k: usize, seed: u64, device: &Device, progress: impl FnMut(usize)) -> Result<(Vec<f64>, Vec<f64>)> {
    per_example_in_passes(model, data, k, seed, device, progress, PASS_ROWS)
}

/// [`per_example`] with forward passes of at most `pass_rows` decoder rows.
fn per_example_in_passes(model: &dyn LatentModel, data: &Dataset, k: usize, seed: u64, device: &Device, mut progress: impl FnMut(usize), pass_rows: usize) -> Result<(Vec<f64>, Vec<f64>)> {
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
        let mut given = |c: Option<Tensor<2>>| bounds_given(model, x.clone(), c, k, [chunk, pass_rows], seed, &mut counter);
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

/// The ELBO and `L_k` of each example of `x` given `c`, with the k samples drawn `chunk` at a time
/// and sent through the decoder in passes of at most `pass_rows` rows.
fn bounds_given(model: &dyn LatentModel, x: Tensor<2>, c: Option<Tensor<2>>, k: usize, [chunk, pass_rows]: [usize; 2], seed: u64, counter: &mut u64) -> (Vec<f64>, Vec<f64>) {
    let (b, d, device) = (x.dims()[0], model.latent_dim(), x.device());
    let mut log_w = vec![Vec::with_capacity(k); b];
    let mut rec = vec![0f64; b];
    let mut kl = vec![0f64; b];
    let mut done = 0;
    while done < k {
        let kc = chunk.min(k - done);
        let eps = normals(&mut stream(seed, Purpose::Eval, *counter), b * kc * d);
        *counter += 1;
        // The chunk's `log p(x|z)` of each example, summed once all its passes are in.
        let mut lp = vec![Vec::with_capacity(kc); b];
        // The passes are independent: one per core at a time, each on one thread (`side_by_side`).
        let passes = passes(b, kc, pass_rows);
        let terms = crate::side_by_side::map(passes.len(), |p| {
            let (examples, samples) = passes[p].clone();
            let (n, m) = (examples.len(), samples.len());
            let eps: Vec<f32> = examples.clone().flat_map(|i| &eps[(i * kc + samples.start) * d..(i * kc + samples.end) * d]).copied().collect();
            let rows = |t: &Tensor<2>| t.clone().slice([examples.clone()]);
            let t = model.bound_terms(rows(&x), c.as_ref().map(rows), tensor(eps, [n, m, d], &device));
            (host(t.log_w), host(t.log_px_z), host(t.kl))
        });
        for ((examples, samples), (lw, lpp, klv)) in passes.into_iter().zip(terms) {
            let m = samples.len();
            for (r, i) in examples.enumerate() {
                log_w[i].extend(lw[r * m..(r + 1) * m].iter().map(|&v| v as f64));
                lp[i].extend(lpp[r * m..(r + 1) * m].iter().map(|&v| v as f64));
                kl[i] = klv[r] as f64;
            }
        }
        for (rec, lp) in rec.iter_mut().zip(lp) {
            *rec += lp.iter().sum::<f64>();
        }
        done += kc;
    }
    let elbos = (0..b).map(|i| rec[i] / k as f64 - kl[i]).collect();
    let iwaes = log_w.iter().map(|lw| log_mean_exp(lw)).collect();
    (elbos, iwaes)
}

/// The forward passes that cover `b` examples with `k` samples each in at most `rows` decoder
/// rows (at least one: a single sample of a single example): groups of whole examples when an
/// example's samples fit, else one example at a time, its samples in pieces. Every pass computes
/// its rows exactly as one large pass would; it only bounds the memory a pass touches.
fn passes(b: usize, k: usize, rows: usize) -> Vec<(Range<usize>, Range<usize>)> {
    if k <= rows {
        let per = rows / k;
        (0..b).step_by(per).map(|i| (i..(i + per).min(b), 0..k)).collect()
    } else {
        (0..b).flat_map(|i| (0..k).step_by(rows).map(move |j| (i..i + 1, j..(j + rows).min(k)))).collect()
    }
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

    /// The passes cover every (example, sample) once, in order, none larger than asked.
    #[test]
    fn passes_cover_each_sample_of_each_example_once() {
        for (b, k, rows) in [(5, 10, 512), (5, 10, 20), (5, 10, 25), (5, 10, 10), (3, 10, 4), (3, 10, 1), (1, 1000, 512)] {
            let mut seen = Vec::new();
            for (examples, samples) in passes(b, k, rows) {
                assert!(examples.len() * samples.len() <= rows.max(1), "{b} x {k} in {rows}: {examples:?} x {samples:?}");
                seen.extend(examples.flat_map(|i| samples.clone().map(move |j| (i, j))));
            }
            let mut sorted = seen.clone();
            sorted.sort();
            assert_eq!(seen, sorted, "row order");
            assert_eq!(seen, (0..b).flat_map(|i| (0..k).map(move |j| (i, j))).collect::<Vec<_>>());
        }
    }

    /// Splitting the forward passes changes only rounding: the same noise meets the same rows.
    #[test]
    fn the_bounds_do_not_depend_on_the_pass_size() {
        let mut c = crate::config::TrainConfig::default_for(crate::config::DataKind::Images, crate::models::ModelKind::Vae);
        (c.hidden, c.latent_dim) = (vec![16], 3);
        let dev = crate::testing::device();
        let model = crate::backend::seeded(0, &dev, || crate::models::VaeConfig::new(6, &c, 0, false).init(&dev));
        let x: Vec<f32> = (0..5 * 6).map(|i| ((i * 7) % 3 == 0) as u8 as f32).collect();
        let data = Dataset { x, dim: 6, labels: vec![0; 5], image_side: None };
        let score = |rows| per_example_in_passes(&model, &data, 10, 3, &dev, |_| {}, rows).expect("finite bounds");
        let one = score(PASS_ROWS);
        for rows in [1, 3, 10, 25] {
            let (elbo, iwae) = score(rows);
            crate::testing::assert_close(&elbo.iter().map(|&v| v as f32).collect::<Vec<_>>(), &one.0.iter().map(|&v| v as f32).collect::<Vec<_>>(), 1e-5);
            crate::testing::assert_close(&iwae.iter().map(|&v| v as f32).collect::<Vec<_>>(), &one.1.iter().map(|&v| v as f32).collect::<Vec<_>>(), 1e-5);
        }
        // The examples differ, so a mix-up of rows would show.
        assert!(one.1.iter().any(|&v| (v - one.1[0]).abs() > 1e-3), "{:?}", one.1);
    }

    /// The passes shared out over several threads (`side_by_side`) give the bits of one thread,
    /// on the plain device evaluation uses (the value-only Bernoulli kernel) and with autodiff.
    #[test]
    fn the_bounds_do_not_depend_on_the_threads() {
        let mut c = crate::config::TrainConfig::default_for(crate::config::DataKind::Images, crate::models::ModelKind::Vae);
        (c.hidden, c.latent_dim) = (vec![16], 3);
        let x: Vec<f32> = (0..7 * 6).map(|i| ((i * 5) % 3 == 0) as u8 as f32).collect();
        let data = Dataset { x, dim: 6, labels: vec![0; 7], image_side: None };
        let mut all = Vec::new();
        for dev in [burn::tensor::Device::flex(), crate::testing::device()] {
            let model = crate::backend::seeded(0, &dev, || crate::models::VaeConfig::new(6, &c, 0, false).init(&dev));
            for threads in [1, 3] {
                let pool = crate::fpenv::pool().num_threads(threads).build().unwrap();
                all.push(pool.install(|| per_example_in_passes(&model, &data, 10, 3, &dev, |_| {}, 4).expect("finite bounds")));
            }
        }
        let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for other in &all[1..] {
            assert_eq!((bits(&other.0), bits(&other.1)), (bits(&all[0].0), bits(&all[0].1)));
        }
        assert!(all[0].1.iter().any(|&v| (v - all[0].1[0]).abs() > 1e-3), "{:?}", all[0].1);
    }

    #[test]
    fn host_log_mean_exp() {
        assert!((log_mean_exp(&[0.0, 0.0]) - 0.0).abs() < 1e-12);
        assert!((log_mean_exp(&[-1000.0, -1000.0 + 2f64.ln()]) - (-1000.0 + 1.5f64.ln())).abs() < 1e-9);
        assert_eq!(log_mean_exp(&[f64::NEG_INFINITY]), f64::NEG_INFINITY);
    }
}
