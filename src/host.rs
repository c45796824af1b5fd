//! Moving numbers between the host and a device. Random draws happen on the host (see
//! [`crate::rng`]) so they are the same on every backend.

use burn::tensor::{Device, Tensor, TensorData};
use rand_distr::{Distribution, StandardNormal};

/// A device tensor holding `values` in row-major order.
pub fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// A tensor's values on the host, row-major; moved out without a copy where the backend allows.
pub fn host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().expect("unigen tensors are f32")
}

/// `value` (computed on the host, a constant to autodiff) carrying the gradient of `s`:
/// `value + (s - stop_gradient(s))`, whose second term is exactly 0. How the fused CPU kernels
/// ([`crate::kernels`]) enter the graph when their gradient is known in the forward pass.
pub fn with_gradient_of<const D: usize>(value: Tensor<D>, s: Tensor<D>) -> Tensor<D> {
    value + (s.clone() - s.detach())
}

/// `n` standard normal draws.
pub fn normals(rng: &mut impl rand::Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

/// One-hot rows `[labels.len(), classes]` for `labels`.
pub fn one_hot(labels: &[u8], classes: usize, device: &Device) -> Tensor<2> {
    let mut v = vec![0f32; labels.len() * classes];
    for (i, &c) in labels.iter().enumerate() {
        v[i * classes + c as usize] = 1.0;
    }
    tensor(v, [labels.len(), classes], device)
}

/// `log (1/k) sum exp(a_i)` in f64.
pub fn log_mean_exp(a: &[f64]) -> f64 {
    let m = a.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + (a.iter().map(|x| (x - m).exp()).sum::<f64>() / a.len() as f64).ln()
}

/// The index of the largest value of each row of `width` values (the first on ties): a
/// classifier's predicted classes from its scores.
pub fn argmax_rows(values: &[f32], width: usize) -> Vec<u8> {
    values
        .chunks_exact(width)
        .map(|row| row.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (c, &v)| if v > best.1 { (c, v) } else { best }).0 as u8)
        .collect()
}
