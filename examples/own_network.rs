//! A VAE with your own burn network, trained on unigen's data with unigen's objective pieces.
//!
//! `cargo run --release --example own_network [MNIST_DIR]` (default: the 1,000-digit subset
//! committed in tests/data/mnist-small).
//!
//! The encoder and decoder below are plain burn modules that unigen knows nothing about; the
//! bound comes from `unigen::objectives` (the same terms every unigen model is built from), the
//! digits and their binarisation from `unigen::data`, the seeded noise from `unigen::rng`.
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use rand::seq::SliceRandom;

use unigen::data::{self, DataSource, Split};
use unigen::host::{normals, tensor};
use unigen::objectives::{bernoulli_log_likelihood, kl_standard_normal};
use unigen::rng::{Purpose, stream};

/// Your network: 784 -> 200 -> (mu, log sigma^2) in 16 dimensions, and back.
#[derive(Module, Debug)]
struct MyVae {
    enc: Linear,
    mu: Linear,
    log_var: Linear,
    dec: Linear,
    out: Linear,
}

impl MyVae {
    fn new(device: &Device) -> Self {
        MyVae {
            enc: LinearConfig::new(784, 200).init(device),
            mu: LinearConfig::new(200, 16).init(device),
            log_var: LinearConfig::new(200, 16).init(device),
            dec: LinearConfig::new(16, 200).init(device),
            out: LinearConfig::new(200, 784).init(device),
        }
    }

    /// The ELBO of each example of `x: [B, 784]` (binary pixels) with noise `eps: [B, 16]`.
    fn elbo(&self, x: Tensor<2>, eps: Tensor<2>) -> Tensor<1> {
        let h = relu(self.enc.forward(x.clone()));
        let (mu, log_var) = (self.mu.forward(h.clone()), self.log_var.forward(h));
        let z = mu.clone() + (log_var.clone() * 0.5).exp() * eps;
        let logits = self.out.forward(relu(self.dec.forward(z)));
        bernoulli_log_likelihood(logits, x) - kl_standard_normal(mu, log_var)
    }
}

/// Trains `MyVae` for `epochs` on the MNIST files in `dir`; the test ELBO before and after.
fn train(dir: &str, epochs: u64) -> unigen::Result<(f32, f32)> {
    let source = DataSource::Mnist { dir: dir.into() };
    let (train, test) = (data::load(&source, Split::Train, 0, 0)?, data::binarize_test(&data::load(&source, Split::Test, 0, 0)?));
    let device = unigen::backend::Backend::Flex.device()?.autodiff();
    let mut model = unigen::backend::seeded(0, &device, || MyVae::new(&device));
    let mut optimizer = AdamConfig::new().init();
    let batch = 100;
    let test_elbo = |model: &MyVae| {
        let x = tensor(test.x.clone(), [test.len(), 784], &device);
        let eps = tensor(normals(&mut stream(0, Purpose::Eval, 0), test.len() * 16), [test.len(), 16], &device);
        model.elbo(x, eps).mean().into_scalar::<f32>()
    };
    let before = test_elbo(&model);
    for epoch in 0..epochs {
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut stream(0, Purpose::Shuffle, epoch));
        for (i, rows) in order.chunks_exact(batch).enumerate() {
            let step = epoch * (train.len() / batch) as u64 + i as u64;
            // Binarised afresh each time a digit is drawn, as unigen's own models see them.
            let x = data::binarize(&train.gather(rows), &mut stream(0, Purpose::Binarize, step));
            let eps = normals(&mut stream(0, Purpose::Eps, step), batch * 16);
            let loss = -model.elbo(tensor(x, [batch, 784], &device), tensor(eps, [batch, 16], &device)).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optimizer.step(1e-3, model, grads);
        }
    }
    Ok((before, test_elbo(&model)))
}

const SMALL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mnist-small");

fn main() -> unigen::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| SMALL.into());
    let (before, after) = train(&dir, 20)?;
    println!("test ELBO before training: {before:.1} nats; after 20 epochs: {after:.1} nats");
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Run by `cargo test` (`test = true` in Cargo.toml): your network learns through unigen's pieces.
    #[test]
    fn the_bound_of_your_own_network_rises() {
        let (before, after) = super::train(super::SMALL, 5).unwrap();
        assert!(after > before + 200.0, "test ELBO {before} -> {after}");
    }
}
