//! Op-level timings behind docs/performance.md: the DCGAN's layers forward and backward, and the
//! elementwise ops that showed in the profiles, on burn's CPU backend with autodiff.
//!
//! `cargo run --release --example ops`
use burn::module::Module;
use burn::nn::conv::{Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::{BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::{leaky_relu, relu};
use burn::tensor::{Device, Distribution, Tensor};
use std::time::Instant;
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
fn t<F: FnMut()>(name: &str, reps: usize, mut f: F) {
    f();
    let s = Instant::now();
    for _ in 0..reps { f(); }
    println!("{name:45} {:8.3} ms", s.elapsed().as_secs_f64() * 1e3 / reps as f64);
}
fn main() {
    // Matrix products without autodiff, at the VAE's shapes (forward, and the weight gradients'
    // k = 128 products), and one large product for the machine's sgemm peak.
    let plain = Device::flex();
    for (m, k, n) in [(128usize, 784usize, 512usize), (128, 512, 512), (128, 512, 100), (128, 50, 512), (784, 128, 512), (512, 128, 512), (2048, 2048, 2048)] {
        let a: Tensor<2> = Tensor::random([m, k], Distribution::Normal(0.0, 1.0), &plain);
        let b: Tensor<2> = Tensor::random([k, n], Distribution::Normal(0.0, 1.0), &plain);
        let reps = if m == 2048 { 5 } else { 100 };
        let s = Instant::now();
        for _ in 0..reps {
            let _ = a.clone().matmul(b.clone()).into_data();
        }
        let dt = s.elapsed().as_secs_f64() / reps as f64;
        println!("{:45} {:8.3} ms  {:6.1} GFLOP/s", format!("matmul {m}x{k}x{n}"), dt * 1e3, 2.0 * (m * k * n) as f64 / dt / 1e9);
    }
    let dev = Device::flex().autodiff();
    let r = 20;
    let x1: Tensor<4> = Tensor::random([64, 1, 28, 28], Distribution::Normal(0.0, 1.0), &dev).require_grad();
    let x2: Tensor<4> = Tensor::random([64, 64, 14, 14], Distribution::Normal(0.0, 1.0), &dev).require_grad();
    let x3: Tensor<4> = Tensor::random([64, 128, 7, 7], Distribution::Normal(0.0, 1.0), &dev).require_grad();
    let down1 = Conv2dConfig::new([1, 64], [4, 4]).with_stride([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(&dev);
    let down2 = Conv2dConfig::new([64, 128], [4, 4]).with_stride([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(&dev);
    let up1 = ConvTranspose2dConfig::new([128, 64], [4, 4]).with_stride([2, 2]).with_padding([1, 1]).init(&dev);
    let up2 = ConvTranspose2dConfig::new([64, 1], [4, 4]).with_stride([2, 2]).with_padding([1, 1]).init(&dev);
    let bn128 = BatchNormConfig::new(128).init(&dev);
    let bn64 = BatchNormConfig::new(64).init(&dev);
    t("conv 1->64 28->14 fwd", r, || { let _ = down1.forward(x1.clone()).into_data(); });
    t("conv 1->64 28->14 fwd+bwd", r, || { let _ = down1.forward(x1.clone()).sum().backward(); });
    t("conv 1->64 fwd+bwd (no input grad)", r, || { let _ = down1.forward(x1.clone().detach()).sum().backward(); });
    t("conv 64->128 14->7 fwd", r, || { let _ = down2.forward(x2.clone()).into_data(); });
    t("conv 64->128 14->7 fwd+bwd", r, || { let _ = down2.forward(x2.clone()).sum().backward(); });
    t("convT 128->64 7->14 fwd", r, || { let _ = up1.forward(x3.clone()).into_data(); });
    t("convT 128->64 7->14 fwd+bwd", r, || { let _ = up1.forward(x3.clone()).sum().backward(); });
    t("convT 64->1 14->28 fwd", r, || { let _ = up2.forward(x2.clone()).into_data(); });
    t("convT 64->1 14->28 fwd+bwd", r, || { let _ = up2.forward(x2.clone()).sum().backward(); });
    t("bn128 7x7 fwd+bwd", r, || { let _ = bn128.forward(x3.clone()).sum().backward(); });
    t("bn64 14x14 fwd+bwd", r, || { let _ = bn64.forward(x2.clone()).sum().backward(); });
    t("leaky_relu (burn) 64x64x14x14 fwd+bwd", r, || { let _ = leaky_relu(x2.clone(), 0.2).sum().backward(); });
    t("max(x, 0.2x) 64x64x14x14 fwd+bwd", r, || { let _ = x2.clone().max_pair(x2.clone().mul_scalar(0.2)).sum().backward(); });
    t("relu 64x64x14x14 fwd+bwd", r, || { let _ = relu(x2.clone()).sum().backward(); });
    t("tanh (burn) 64x784 fwd+bwd", r, || { let _ = x1.clone().reshape([64, 784]).tanh().sum().backward(); });
    t("tanh (unigen) 64x784 fwd+bwd", r, || { let _ = unigen::nets::activation::tanh(x1.clone().reshape([64, 784])).sum().backward(); });
    t("leaky_relu (unigen) 64x64x14x14 fwd+bwd", r, || { let _ = unigen::nets::activation::leaky_relu(x2.clone(), 0.2).sum().backward(); });
    let l: Tensor<2> = Tensor::random([128, 784], Distribution::Normal(0.0, 3.0), &dev).require_grad();
    let xb: Tensor<2> = Tensor::random([128, 784], Distribution::Bernoulli(0.5), &dev);
    t("bernoulli log-lik (plain) 128x784 fwd+bwd", r, || { let _ = unigen::objectives::bernoulli_log_likelihood_plain(l.clone(), xb.clone()).sum().backward(); });
    t("bernoulli log-lik (fused) 128x784 fwd+bwd", r, || { let _ = unigen::objectives::bernoulli_log_likelihood_fused(l.clone(), xb.clone()).sum().backward(); });
    let _ = (down1.num_params(),);
}
