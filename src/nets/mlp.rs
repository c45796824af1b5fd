//! A multilayer perceptron of any width and depth, optionally with batch norm or maxout units.

use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

use crate::config::{Activation, MAXOUT_PIECES};
use crate::kernels::activation::maxout;
use crate::kernels::{Act, affine, batch_norm_act_channels_last, linear};

/// `d_in -> hidden[0] -> ... -> hidden[n-1] -> d_out`, the nonlinearity between layers, none after
/// the last.
#[derive(Debug, Clone)]
pub struct MlpConfig {
    pub d_in: usize,
    pub hidden: Vec<usize>,
    pub d_out: usize,
    pub activation: Activation,
    /// Batch norm between each hidden layer's linear map (then without bias) and its nonlinearity.
    pub batch_norm: bool,
}

#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
    /// One per hidden layer with batch norm; none without (older checkpoints have none).
    norms: Vec<BatchNorm>,
    #[module(skip)]
    activation: Activation,
}

impl MlpConfig {
    pub fn new(d_in: usize, hidden: Vec<usize>, d_out: usize, activation: Activation) -> Self {
        MlpConfig { d_in, hidden, d_out, activation, batch_norm: false }
    }

    pub fn with_batch_norm(mut self, batch_norm: bool) -> Self {
        self.batch_norm = batch_norm;
        self
    }

    pub fn init(&self, device: &Device) -> Mlp {
        // A maxout layer of width w computes MAXOUT_PIECES affine maps per unit.
        let pieces = if self.activation == Activation::Maxout { MAXOUT_PIECES } else { 1 };
        let ins = std::iter::once(self.d_in).chain(self.hidden.iter().copied());
        let outs = self.hidden.iter().map(|&w| (w * pieces, true)).chain(std::iter::once((self.d_out, false)));
        Mlp {
            layers: ins
                .zip(outs)
                .map(|(d_in, (d_out, hidden))| LinearConfig::new(d_in, d_out).with_bias(!(hidden && self.batch_norm)).init(device))
                .collect(),
            norms: if self.batch_norm { self.hidden.iter().map(|&w| BatchNormConfig::new(w * pieces).init(device)).collect() } else { Vec::new() },
            activation: self.activation,
        }
    }
}

impl Mlp {
    /// `x: [N, d_in] -> [N, d_out]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.layers_from(0, x)
    }

    /// Layers `first..` on `h`, the input of layer `first`.
    fn layers_from(&self, first: usize, h: Tensor<2>) -> Tensor<2> {
        self.layers.iter().enumerate().skip(first).fold(h, |h, (i, layer)| match (self.norms.get(i), self.act()) {
            // A hidden layer without batch norm: product, bias and activation in one operation.
            (None, Some(act)) if i < self.layers.len() - 1 => linear(layer, h, act),
            _ => self.after_product(i, linear(layer, h, Act::Identity)),
        })
    }

    /// `forward(cat([x_i, c_j]))` for every row `i` of `x: [B, d_x]` and every row `j` of
    /// `c: [M, d_in - d_x]`, at row `i·M + j` of the `[B·M, d_out]` result. The first layer's
    /// product is split as `x W_x + c W_c`, so `x W_x` is computed once per row of `x`, not `M`
    /// times: what the semi-supervised VAE's encoder needs when it tries every class on a digit.
    pub fn forward_each(&self, x: Tensor<2>, c: Tensor<2>) -> Tensor<2> {
        let ([b, d_x], [m, _]) = (x.dims(), c.dims());
        let first = &self.layers[0];
        let [d_in, width] = first.weight.dims();
        let w = first.weight.val();
        let hx = affine(x, w.clone().narrow(0, 0, d_x), None, Act::Identity);
        let hc = affine(c, w.narrow(0, d_x, d_in - d_x), first.bias.as_ref().map(|b| b.val()), Act::Identity);
        let h = (hx.unsqueeze_dim::<3>(1).expand([b, m, width]) + hc.unsqueeze_dim::<3>(0).expand([b, m, width])).reshape([b * m, width]);
        self.layers_from(1, self.after_product(0, h))
    }

    /// The activation as a fused operation's, `None` for maxout.
    fn act(&self) -> Option<Act> {
        match self.activation {
            Activation::Relu => Some(Act::Relu),
            Activation::Tanh => Some(Act::Tanh),
            Activation::LeakyRelu => Some(Act::LeakyRelu(0.2)),
            Activation::Maxout => None,
        }
    }

    /// What follows layer `i`'s product `h` (bias included): nothing after the last layer; batch
    /// norm if the layer has one, fused with the activation (a `[N, C]` matrix is channels last);
    /// the activation, or maxout, which takes each unit's largest piece, columns j·P .. (j+1)·P.
    fn after_product(&self, i: usize, h: Tensor<2>) -> Tensor<2> {
        if i == self.layers.len() - 1 {
            return h;
        }
        let act = self.act();
        let h = match self.norms.get(i) {
            Some(bn) => {
                let [n, c] = h.dims();
                batch_norm_act_channels_last(bn, h.reshape([n, 1, 1, c]), act.unwrap_or(Act::Identity)).reshape([n, c])
            }
            None => match act {
                Some(act) => crate::kernels::activation::activate(h, act),
                None => h,
            },
        };
        if act.is_none() { maxout(h, MAXOUT_PIECES) } else { h }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_follow_the_config() {
        let dev = crate::testing::device();
        let cfg = MlpConfig::new(5, vec![7, 3], 2, Activation::Tanh);
        let mlp = crate::backend::seeded(0, &dev, || cfg.init(&dev));
        assert_eq!(mlp.layers.len(), 3);
        assert_eq!(mlp.forward(Tensor::zeros([4, 5], &dev)).dims(), [4, 2]);
        assert_eq!(mlp.num_params(), 5 * 7 + 7 + 7 * 3 + 3 + 3 * 2 + 2);
    }

    /// A maxout unit is the largest of its pieces: with the output layer summing the hidden
    /// units, the network's output is the sum over units of the max of their affine pieces.
    #[test]
    fn maxout_keeps_each_unit_s_largest_piece() {
        let dev = crate::testing::device();
        let mlp = crate::backend::seeded(0, &dev, || MlpConfig::new(3, vec![4], 1, Activation::Maxout).init(&dev));
        assert_eq!(mlp.layers[0].weight.dims(), [3, 4 * MAXOUT_PIECES]);
        let x = crate::host::tensor(vec![0.3, -1.2, 0.7, 1.5, 0.1, -0.4], [2, 3], &dev);
        let pieces = crate::host::host(mlp.layers[0].forward(x.clone()));
        let w = crate::host::host(mlp.layers[1].weight.val());
        let b = crate::host::host(mlp.layers[1].bias.as_ref().unwrap().val())[0];
        let out = crate::host::host(mlp.forward(x));
        for (row, got) in out.iter().enumerate() {
            let units = pieces[row * 4 * MAXOUT_PIECES..(row + 1) * 4 * MAXOUT_PIECES].chunks(MAXOUT_PIECES);
            let want: f32 = units.zip(&w).map(|(p, w)| w * p.iter().copied().fold(f32::NEG_INFINITY, f32::max)).sum::<f32>() + b;
            assert!((got - want).abs() < 1e-5, "row {row}: {got} vs {want}");
        }
    }

    /// With batch norm, hidden layers lose their bias (batch norm's shift replaces it), each
    /// has a norm, and in training each hidden unit is normalised over the batch: a ReLU
    /// network's hidden units are then active on about half the examples whatever the input's
    /// offset.
    #[test]
    fn batch_norm_replaces_the_hidden_biases_and_normalises_over_the_batch() {
        let dev = crate::testing::device();
        let mlp = crate::backend::seeded(0, &dev, || MlpConfig::new(2, vec![6, 6], 2, Activation::Relu).with_batch_norm(true).init(&dev));
        assert!(mlp.layers[..2].iter().all(|l| l.bias.is_none()) && mlp.layers[2].bias.is_some());
        assert_eq!(mlp.norms.len(), 2);
        // Weights, the output bias, and per norm gamma, beta and the two running statistics.
        assert_eq!(mlp.num_params(), 2 * 6 + 6 * 6 + 6 * 2 + 2 + 2 * 4 * 6);
        // The same batch shifted far away: batch statistics remove the shift, so the outputs agree.
        let pts: Vec<f32> = (0..64).map(|i| ((i * 37) % 17) as f32 / 17.0).collect();
        let far: Vec<f32> = pts.iter().map(|v| v + 100.0).collect();
        let run = |v: Vec<f32>| crate::host::host(mlp.forward(crate::host::tensor(v, [32, 2], &dev)));
        crate::testing::assert_close(&run(pts), &run(far), 1e-2);
    }

    /// Every row of `x` with every row of `c`, through the split first layer, is `forward` on the
    /// concatenated rows up to rounding, and gives the same gradients, with ReLU, maxout and
    /// batch norm.
    #[test]
    fn forward_each_is_forward_on_every_pairing() {
        let dev = crate::testing::device();
        let (b, d_x, m) = (3, 5, 4);
        for (activation, batch_norm) in [(Activation::Relu, false), (Activation::Maxout, false), (Activation::Relu, true)] {
            let mlp = crate::backend::seeded(0, &dev, || MlpConfig::new(d_x + m, vec![6, 7], 2, activation).with_batch_norm(batch_norm).init(&dev));
            let x: Vec<f32> = (0..b * d_x).map(|i| ((i * 37) % 11) as f32 / 5.0 - 1.0).collect();
            let c: Vec<f32> = (0..m * m).map(|i| (i % (m + 1) == 0) as u8 as f32).collect();
            let pairs: Vec<f32> = (0..b * m).flat_map(|r| x[(r / m) * d_x..(r / m + 1) * d_x].iter().chain(&c[(r % m) * m..(r % m + 1) * m]).copied().collect::<Vec<_>>()).collect();
            let gradient = |y: Tensor<2>| {
                let grads = y.clone().mul(y).sum().backward();
                crate::host::host(mlp.layers[0].weight.grad(&grads).unwrap())
            };
            let each = mlp.forward_each(crate::host::tensor(x.clone(), [b, d_x], &dev), crate::host::tensor(c.clone(), [m, m], &dev));
            let plain = mlp.forward(crate::host::tensor(pairs, [b * m, d_x + m], &dev));
            crate::testing::assert_close(&crate::host::host(each.clone()), &crate::host::host(plain.clone()), 1e-5);
            crate::testing::assert_close(&gradient(each), &gradient(plain), 1e-4);
        }
    }

}
