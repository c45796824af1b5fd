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
fn t<F: FnMut()>(name: &str, reps: usize, f: F) {
    println!("{name:45} {:8.3} ms", unigen::bench::best_per_call(1, reps, f) * 1e3);
}
/// Convolution as one matrix product over the whole batch from burn ops: patches by strided
/// slices of the padded input (im2col), then `[N Ho Wo, C k k] x [C k k, O]`. An experiment that
/// lost to burn's own convolution (docs/performance.md, "What did not pay").
fn conv_im2col(x: Tensor<4>, w: Tensor<4>, b: Tensor<1>, stride: usize, pad: usize) -> Tensor<4> {
    use burn::tensor::Slice;
    let [n, c, h, wd] = x.dims();
    let [o, _, k, _] = w.dims();
    let (ho, wo) = ((h + 2 * pad - k) / stride + 1, (wd + 2 * pad - k) / stride + 1);
    let xp = x.pad((pad, pad, pad, pad), burn::tensor::ops::PadMode::Constant(0.0));
    let mut cols = Vec::with_capacity(k * k);
    for i in 0..k {
        for j in 0..k {
            let r = Slice::new(i as isize, Some((i + stride * (ho - 1) + 1) as isize), stride as isize);
            let q = Slice::new(j as isize, Some((j + stride * (wo - 1) + 1) as isize), stride as isize);
            cols.push(xp.clone().slice([Slice::full(), Slice::full(), r, q]));
        }
    }
    let cols: Tensor<5> = Tensor::stack(cols, 2); // [N, C, k k, Ho, Wo]
    let cols: Tensor<2> = cols.permute([0, 3, 4, 1, 2]).reshape([n * ho * wo, c * k * k]);
    let y = cols.matmul(w.reshape([o, c * k * k]).transpose()) + b.unsqueeze_dim(0);
    y.reshape([n, ho, wo, o]).permute([0, 3, 1, 2])
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
    let (w2, b2) = (down2.weight.val(), down2.bias.as_ref().unwrap().val());
    let diff: f32 = (conv_im2col(x2.clone(), w2.clone(), b2.clone(), 2, 1) - down2.forward(x2.clone())).abs().max().into_scalar();
    println!("im2col conv vs burn conv: max |diff| {diff}");
    t("conv 64->128 (im2col from burn ops) fwd", r, || { let _ = conv_im2col(x2.clone(), w2.clone(), b2.clone(), 2, 1).into_data(); });
    t("convT 128->64 7->14 fwd", r, || { let _ = up1.forward(x3.clone()).into_data(); });
    t("convT 128->64 7->14 fwd+bwd", r, || { let _ = up1.forward(x3.clone()).sum().backward(); });
    t("convT 64->1 14->28 fwd", r, || { let _ = up2.forward(x2.clone()).into_data(); });
    t("convT 64->1 14->28 fwd+bwd", r, || { let _ = up2.forward(x2.clone()).sum().backward(); });
    // burn's convolutions against unigen's im2col kernels (src/nets/conv.rs), alternating.
    use unigen::kernels::{conv2d, conv_transpose2d};
    for _ in 0..2 {
        t("conv 1->64 28->14 fwd+bwd (burn)", r, || { let _ = down1.forward(x1.clone()).sum().backward(); });
        t("conv 1->64 28->14 fwd+bwd (unigen)", r, || { let _ = conv2d(&down1, x1.clone()).sum().backward(); });
        t("conv 64->128 14->7 fwd (burn)", r, || { let _ = down2.forward(x2.clone()).into_data(); });
        t("conv 64->128 14->7 fwd (unigen)", r, || { let _ = conv2d(&down2, x2.clone()).into_data(); });
        t("conv 64->128 14->7 fwd+bwd (burn)", r, || { let _ = down2.forward(x2.clone()).sum().backward(); });
        t("conv 64->128 14->7 fwd+bwd (unigen)", r, || { let _ = conv2d(&down2, x2.clone()).sum().backward(); });
        t("convT 128->64 7->14 fwd+bwd (burn)", r, || { let _ = up1.forward(x3.clone()).sum().backward(); });
        t("convT 128->64 7->14 fwd+bwd (unigen)", r, || { let _ = conv_transpose2d(&up1, x3.clone()).sum().backward(); });
        t("convT 64->1 14->28 fwd+bwd (burn)", r, || { let _ = up2.forward(x2.clone()).sum().backward(); });
        t("convT 64->1 14->28 fwd+bwd (unigen)", r, || { let _ = conv_transpose2d(&up2, x2.clone()).sum().backward(); });
    }
    t("bn128 7x7 (burn) fwd+bwd", r, || { let _ = bn128.forward(x3.clone()).sum().backward(); });
    t("bn64 14x14 (burn) fwd+bwd", r, || { let _ = bn64.forward(x2.clone()).sum().backward(); });
    // A leaf of its own: a permute of `x2` would be one graph node that the first backward consumes.
    let x2_last = x2.clone().permute([0, 2, 3, 1]).detach().require_grad();
    t("bn64 14x14 (unigen, fused, channels last) fwd+bwd", r, || {
        let _ = unigen::kernels::batch_norm_act_channels_last(&bn64, x2_last.clone(), unigen::kernels::Act::Identity).sum().backward();
    });
    t("leaky_relu (burn) 64x64x14x14 fwd+bwd", r, || { let _ = leaky_relu(x2.clone(), 0.2).sum().backward(); });
    t("max(x, 0.2x) 64x64x14x14 fwd+bwd", r, || { let _ = x2.clone().max_pair(x2.clone().mul_scalar(0.2)).sum().backward(); });
    t("relu 64x64x14x14 fwd+bwd", r, || { let _ = relu(x2.clone()).sum().backward(); });
    t("tanh (burn) 64x784 fwd+bwd", r, || { let _ = x1.clone().reshape([64, 784]).tanh().sum().backward(); });
    t("tanh (unigen) 64x784 fwd+bwd", r, || { let _ = unigen::kernels::activation::tanh(x1.clone().reshape([64, 784])).sum().backward(); });
    t("leaky_relu (unigen) 64x64x14x14 fwd+bwd", r, || { let _ = unigen::kernels::leaky_relu(x2.clone(), 0.2).sum().backward(); });
    let l: Tensor<2> = Tensor::random([128, 784], Distribution::Normal(0.0, 3.0), &dev).require_grad();
    let xb: Tensor<2> = Tensor::random([128, 784], Distribution::Bernoulli(0.5), &dev);
    t("bernoulli log-lik (plain) 128x784 fwd+bwd", r, || { let _ = unigen::objectives::bernoulli_log_likelihood_plain(l.clone(), xb.clone()).sum().backward(); });
    t("bernoulli log-lik (fused) 128x784 fwd+bwd", r, || { let _ = unigen::objectives::bernoulli_log_likelihood_fused(l.clone(), xb.clone()).sum().backward(); });
    let _ = (down1.num_params(),);
}
