//! Test ELBO and importance-weighted bound `L_k` (k up to thousands), in nats per example.
//!
//! Memory stays bounded whatever k: examples are taken a few at a time and their k samples in
//! chunks, so no forward pass holds more than [`ROWS`] decoder rows. The log weights of every
//! chunk come back to the host, where `log (1/k) sum_i w_i` is finished in f64 with the
//! log-sum-exp trick.

use burn::tensor::Device;
use serde::Serialize;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::models::Vae;
use crate::rng::{Purpose, stream};
use crate::host::{host, normals, tensor};

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

fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

/// `log (1/k) sum exp(a_i)` in f64.
pub fn log_mean_exp(a: &[f64]) -> f64 {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + (a.iter().map(|x| (x - m).exp()).sum::<f64>() / a.len() as f64).ln()
}

/// Scores `data` with `k` importance samples per example; the noise is drawn from `seed`.
/// `progress` is told how many examples are done.
pub fn estimate(model: &Vae, data: &Dataset, k: usize, seed: u64, device: &Device, mut progress: impl FnMut(usize)) -> Result<Estimate> {
    if k == 0 || data.is_empty() {
        return Err(Error::Invalid(format!("cannot score {} examples with k = {k}", data.len())));
    }
    let d = model.latent_dim();
    let chunk = k.min(ROWS);
    let per_batch = (ROWS / chunk).clamp(1, data.len());
    let mut elbos = Vec::with_capacity(data.len());
    let mut iwaes = Vec::with_capacity(data.len());
    let mut counter = 0u64;
    for start in (0..data.len()).step_by(per_batch) {
        let b = per_batch.min(data.len() - start);
        let idx: Vec<usize> = (start..start + b).collect();
        let x = tensor(data.gather(&idx), [b, data.dim], device);
        let mut log_w = vec![Vec::with_capacity(k); b];
        let mut rec = vec![0f64; b];
        let mut kl = vec![0f64; b];
        let mut done = 0;
        while done < k {
            let kc = chunk.min(k - done);
            let eps = tensor(normals(&mut stream(seed, Purpose::Eval, counter), b * kc * d), [b, kc, d], device);
            counter += 1;
            let t = model.terms(x.clone(), eps);
            let lw = host(t.log_w());
            let lp = host(t.log_px_z);
            let klv = host(t.kl);
            for i in 0..b {
                log_w[i].extend(lw[i * kc..(i + 1) * kc].iter().map(|&v| v as f64));
                rec[i] += lp[i * kc..(i + 1) * kc].iter().map(|&v| v as f64).sum::<f64>();
                kl[i] = klv[i] as f64;
            }
            done += kc;
        }
        for i in 0..b {
            elbos.push(rec[i] / k as f64 - kl[i]);
            iwaes.push(log_mean_exp(&log_w[i]));
        }
        progress(start + b);
    }
    if let Some(bad) = elbos.iter().chain(&iwaes).find(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!("the model gives a non-finite bound ({bad}) on the test data")));
    }
    let (elbo, elbo_se) = mean_se(&elbos);
    let (iwae, iwae_se) = mean_se(&iwaes);
    Ok(Estimate { elbo, elbo_se, iwae, iwae_se, k, n: data.len() })
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
