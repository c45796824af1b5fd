//! Helpers for unit tests: an autodiff CPU device and small tensor constructors.
//!
//! Tests run side by side on one device, whose random generator all of them share: build every
//! network, and draw every random tensor, inside [`crate::backend::seeded`], or another test's
//! seeded weights may change under it.

use burn::tensor::{Device, Tensor, TensorData};

pub fn device() -> Device {
    Device::flex().autodiff()
}

pub fn t1(v: &[f32]) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &device())
}

pub fn t2(v: &[f32], shape: [usize; 2]) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), &device())
}

pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    crate::host::host(t)
}

/// Central differences, step `h`, of `loss` in each element of `args[which]`.
pub fn numeric_gradient<const N: usize>(args: &[Vec<f32>; N], which: usize, h: f32, loss: impl Fn(&[Vec<f32>; N]) -> f64) -> Vec<f32> {
    (0..args[which].len())
        .map(|i| {
            let mut moved = args.clone();
            moved[which][i] += h;
            let up = loss(&moved);
            moved[which][i] -= 2.0 * h;
            let down = loss(&moved);
            ((up - down) / (2.0 * h as f64)) as f32
        })
        .collect()
}

pub fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "lengths differ: got {got:?}, want {want:?}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "element {i}: got {g}, want {w} (tol {tol})");
    }
}

/// Every tensor of a module (parameters and buffers), flattened in its own order.
pub fn module_values<M: burn::store::ModuleSnapshot>(m: &M) -> Vec<f32> {
    m.collect(None, None, false).iter().flat_map(|t| burn::store::bridge::to_data(t).unwrap().try_to_vec::<f32>().unwrap()).collect()
}

/// `len` fixed values in [-1, 1), varied by `seed`, for tests that need arbitrary inputs.
pub fn pattern(len: usize, seed: usize) -> Vec<f32> {
    (0..len).map(|i| (((i + seed) * 7919) % 61) as f32 / 30.0 - 1.0).collect()
}

/// A small MNIST-shaped run of `model` for unit tests of its step (the data are never loaded).
pub fn small_spec(model: crate::models::ModelKind, seed: u64, latent_dim: usize, hidden: Vec<usize>) -> crate::train::RunSpec {
    let mut config = crate::config::TrainConfig::default_for(crate::config::DataKind::Images, model);
    (config.latent_dim, config.hidden) = (latent_dim, hidden);
    crate::train::RunSpec { model, seed, data: crate::data::DataSource::Mnist { dir: "-".into() }, config }
}

/// `bytes` damaged for property tests of file readers: each `(at, x)` XORed in, then, with
/// `cut`, truncated anywhere from empty to whole.
pub fn damage(mut bytes: Vec<u8>, flips: &[(proptest::sample::Index, u8)], cut: Option<proptest::sample::Index>) -> Vec<u8> {
    for (at, x) in flips {
        let i = at.index(bytes.len());
        bytes[i] ^= x;
    }
    if let Some(c) = cut {
        bytes.truncate(c.index(bytes.len() + 1));
    }
    bytes
}
