//! ReLU then 2x2 max-pooling (stride 2) on channels-last activations, in one pass: the
//! reference classifier's layers between its convolutions, where it scores samples. burn pools
//! channels first, through a three-dimensional pooling kernel that also records the argmax
//! (docs/performance.md). `relu(max(window)) = max(0, window)`, so the values are exactly
//! burn's `pool(relu(x))`.

use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use burn::nn::PaddingConfig2d;
use burn::nn::pool::MaxPool2d;
use rayon::prelude::*;

use super::extension::covered;
use crate::host::{host, tensor};

/// `max(0, x[2i..2i+2, 2j..2j+2])` per channel for `x: [n, h, w, c]` with `h`, `w` even.
pub fn relu_max_pool2(x: &[f32], [n, h, w, c]: [usize; 4]) -> Vec<f32> {
    assert!(h % 2 == 0 && w % 2 == 0 && x.len() == n * h * w * c, "relu_max_pool2 takes [n, h, w, c] with h and w even");
    let (ho, wo) = (h / 2, w / 2);
    let mut out = vec![0f32; n * ho * wo * c];
    out.par_chunks_mut(ho * wo * c).zip(x.par_chunks(h * w * c)).for_each(|(out, x)| {
        for i in 0..ho {
            for j in 0..wo {
                let o = &mut out[(i * wo + j) * c..(i * wo + j + 1) * c];
                for (di, dj) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let at = ((2 * i + di) * w + 2 * j + dj) * c;
                    o.iter_mut().zip(&x[at..at + c]).for_each(|(o, v)| *o = o.max(*v));
                }
            }
        }
    });
    out
}

/// `pool(relu(x))` for `x: [N, H, W, C]`, `pool` burn's 2x2 max-pooling of stride 2. Without
/// gradients on the CPU through [`relu_max_pool2`]; with them (training), burn's ops.
pub fn relu_max_pool_channels_last(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    let [n, h, w, c] = x.dims();
    if covered(&x) && !x.device().is_autodiff() && h % 2 == 0 && w % 2 == 0 && pool.kernel_size == [2, 2] && pool.stride == [2, 2] && pool.dilation == [1, 1] && matches!(pool.padding, PaddingConfig2d::Valid) {
        let device = x.device();
        return tensor(relu_max_pool2(&host(x), [n, h, w, c]), [n, h / 2, w / 2, c], &device);
    }
    pool.forward(relu(x.permute([0, 3, 1, 2]))).permute([0, 2, 3, 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::pool::MaxPool2dConfig;

    /// The same values as burn's `pool(relu(x))`, bit for bit, on both paths.
    #[test]
    fn relu_then_pool_is_burns() {
        let (n, h, w, c) = (3, 6, 4, 5);
        let v: Vec<f32> = (0..n * h * w * c).map(|i| ((i * 37) % 41) as f32 / 10.0 - 3.2).collect();
        let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        for dev in [crate::testing::device().inner(), crate::testing::device()] {
            let x = tensor(v.clone(), [n, h, w, c], &dev);
            let burns = host(pool.forward(relu(x.clone().permute([0, 3, 1, 2]))).permute([0, 2, 3, 1]));
            let ours = host(relu_max_pool_channels_last(&pool, x));
            assert_eq!(ours, burns);
            assert!(ours.contains(&0.0) && ours.iter().any(|&v| v > 0.5), "{ours:?}");
        }
    }
}
