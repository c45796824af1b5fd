//! DCGAN-style convolutional generator and discriminator (Radford et al. 2016) for square images
//! whose side is a multiple of 4 (28x28 MNIST, 32x32): strided (transposed) convolutions,
//! batch norm, ReLU in the generator, leaky ReLU (0.2) in the discriminator. The same networks as
//! `dcgan` in bench/torch_steps.py.
//!
//! Both take an optional condition vector `c` (a one-hot class): the generator by concatenation
//! onto `z`; the discriminator ([`Conditioning`]) by projection (Miyato & Koyama 2018),
//! `l = w·h + (E c)·h` with `h` its flattened features and `E` a learned class embedding, or as
//! input channels, `c` broadcast to one constant plane per class beside the image (the usual
//! conditional DCGAN), so the first convolution sees image and class together. Concatenating
//! `c` onto `h` instead would only add a class-dependent bias to the logit, which cannot tell
//! whether an image matches its class: such a CGAN trained to chance-level conditional accuracy
//! (0.10) here.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use crate::kernels::leaky_relu;
use crate::kernels::{conv_transpose2d_channels_last, conv2d_channels_last};
use crate::kernels::{Act, linear};
use crate::kernels::batch_norm_act_channels_last;

pub use crate::config::Conditioning;

/// Channels of the first discriminator / last generator convolution; the other has twice as many.
pub const CHANNELS: usize = 64;

#[derive(Debug, Clone)]
pub struct DcganConfig {
    /// Image side (a multiple of 4); the networks work at side/4 and side/2 inside.
    pub side: usize,
    pub latent_dim: usize,
    /// Width of the condition vector (0: unconditional).
    pub cond_dim: usize,
    /// Images the discriminator reads at once as channels (PacGAN's packing; 1: one image).
    pub pack: usize,
    /// How a conditional discriminator sees its class.
    pub conditioning: Conditioning,
    /// Channels of the discriminator's first convolution (its second has twice as many): its
    /// capacity. The encoder of a VAE, built the same way, keeps [`CHANNELS`].
    pub d_channels: usize,
    /// Channels of an image (1 for MNIST, 3 for stacked MNIST), stored channel after channel.
    pub image_channels: usize,
}


/// Up from a code to an image, the DCGAN generator's shape (a GAN's generator, a conv VAE's
/// decoder):
/// `[z, c] -> fc -> 2C x s/4 x s/4 -> BN, ReLU -> convT -> C x s/2 x s/2 -> BN, ReLU -> convT -> 1 x s x s`.
#[derive(Module, Debug)]
pub struct ConvUp {
    fc: Linear,
    bn0: BatchNorm,
    up1: ConvTranspose2d,
    bn1: BatchNorm,
    up2: ConvTranspose2d,
    #[module(skip)]
    base: usize,
}

/// Down from an image to features, the DCGAN discriminator's shape (a GAN's discriminator, a conv
/// VAE's encoder):
/// `x -> conv s2 -> C x s/2 -> LReLU -> conv s2 -> 2C x s/4 -> BN, LReLU -> flatten h ->
/// fc(h) (+ (E c)·h)`.
#[derive(Module, Debug)]
pub struct ConvDown {
    down1: Conv2d,
    down2: Conv2d,
    bn2: BatchNorm,
    fc: Linear,
    /// The class embedding `E` of a conditional discriminator.
    embed: Option<Linear>,
    #[module(skip)]
    side: usize,
    /// Input planes of the class (`Conditioning::Channels`; 0 otherwise).
    #[module(skip)]
    planes: usize,
}

impl DcganConfig {
    /// The networks for flattened square one-channel images of `x_dim` pixels.
    pub fn for_images(x_dim: usize, latent_dim: usize, cond_dim: usize) -> Self {
        DcganConfig {
            side: (x_dim as f64).sqrt() as usize,
            latent_dim,
            cond_dim,
            pack: 1,
            conditioning: Conditioning::Projection,
            d_channels: CHANNELS,
            image_channels: 1,
        }
    }

    /// The same networks for images of `channels` channels, each of the side's square.
    pub fn with_image_channels(self, channels: usize) -> Self {
        DcganConfig { image_channels: channels, ..self }
    }

    /// The discriminator reads packs of `pack` images, one per input channel.
    pub fn packed(self, pack: usize) -> Self {
        DcganConfig { pack, ..self }
    }

    /// The discriminator sees its class as `conditioning` says.
    pub fn conditioned(self, conditioning: Conditioning) -> Self {
        DcganConfig { conditioning, ..self }
    }

    /// The discriminator's first convolution has `d_channels` channels.
    pub fn with_d_channels(self, d_channels: usize) -> Self {
        DcganConfig { d_channels, ..self }
    }

    pub fn generator(&self, device: &Device) -> ConvUp {
        let base = self.side / 4;
        let up = |c: [usize; 2]| ConvTranspose2dConfig::new(c, [4, 4]).with_stride([2, 2]).with_padding([1, 1]).init(device);
        ConvUp {
            fc: LinearConfig::new(self.latent_dim + self.cond_dim, 2 * CHANNELS * base * base).init(device),
            bn0: BatchNormConfig::new(2 * CHANNELS).init(device),
            up1: up([2 * CHANNELS, CHANNELS]),
            bn1: BatchNormConfig::new(CHANNELS).init(device),
            up2: up([CHANNELS, self.image_channels]),
            base,
        }
    }

    pub fn discriminator(&self, device: &Device) -> ConvDown {
        let base = self.side / 4;
        let down = |c: [usize; 2]| {
            Conv2dConfig::new(c, [4, 4]).with_stride([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init(device)
        };
        let planes = if self.conditioning == Conditioning::Channels { self.cond_dim } else { 0 };
        let projection = self.cond_dim > 0 && self.conditioning == Conditioning::Projection;
        let c = self.d_channels;
        ConvDown {
            down1: down([self.pack * self.image_channels + planes, c]),
            down2: down([c, 2 * c]),
            bn2: BatchNormConfig::new(2 * c).init(device),
            fc: LinearConfig::new(2 * c * base * base, 1).init(device),
            embed: projection.then(|| LinearConfig::new(self.cond_dim, 2 * c * base * base).with_bias(false).init(device)),
            side: self.side,
            planes,
        }
    }

    /// A VAE's encoder: the discriminator's convolutions with `d_out` outputs (mean and
    /// log-variance), the condition concatenated onto the features (not projected: the outputs
    /// are a code, not a match score).
    pub fn encoder(&self, d_out: usize, device: &Device) -> ConvDown {
        let features = 2 * self.d_channels * (self.side / 4) * (self.side / 4);
        let unconditional = DcganConfig { cond_dim: 0, ..self.clone() };
        ConvDown { fc: LinearConfig::new(features + self.cond_dim, d_out).init(device), ..unconditional.discriminator(device) }
    }
}

impl ConvUp {
    /// `[N, latent + cond] -> [N, channels * side * side]` (before any output squashing).
    pub fn forward(&self, zc: Tensor<2>) -> Tensor<2> {
        let (n, b) = (zc.dims()[0], self.base);
        // The fc output is read as `[N, C, H, W]` (as in checkpoints), then kept channels last.
        let h: Tensor<4> = linear(&self.fc, zc, Act::Identity).reshape([n, 2 * CHANNELS, b, b]).permute([0, 2, 3, 1]);
        let h = batch_norm_act_channels_last(&self.bn0, h, Act::Relu);
        let h = batch_norm_act_channels_last(&self.bn1, conv_transpose2d_channels_last(&self.up1, h), Act::Relu);
        let x = conv_transpose2d_channels_last(&self.up2, h);
        match x.dims()[3] {
            // One output channel: `[N, H, W, 1]` is the image row-major.
            1 => x.reshape([n, 16 * b * b]),
            // Images are stored channel after channel.
            c => x.permute([0, 3, 1, 2]).reshape([n, c * 16 * b * b]),
        }
    }
}

impl ConvDown {
    /// `x: [N, side * side]`, `c: [N, cond]` or `None` -> logits `[N, 1]` (an encoder's outputs
    /// `[N, d_out]`); images of several channels, and a packing discriminator's packs, come
    /// channel after channel, `x: [N, channels * side * side]`.
    pub fn forward(&self, x: Tensor<2>, c: Option<Tensor<2>>) -> Tensor<2> {
        let (n, s, m) = (x.dims()[0], self.side, self.down1.weight.dims()[1] - self.planes);
        // Activations channels last inside (one input channel: the image is already so); the
        // features are flattened as `[N, C, H, W]`, the order the fc weights have always had.
        let x = if m == 1 { x.reshape([n, s, s, 1]) } else { x.reshape([n, m, s, s]).permute([0, 2, 3, 1]) };
        let (x, c) = match c {
            // The class as constant planes after the image's channels; it is then in the features.
            Some(c) if self.planes > 0 => (Tensor::cat(vec![x, c.reshape([n, 1, 1, self.planes]).expand([n, s, s, self.planes])], 3), None),
            c => (x, c),
        };
        let h = leaky_relu(conv2d_channels_last(&self.down1, x), 0.2);
        let h = batch_norm_act_channels_last(&self.bn2, conv2d_channels_last(&self.down2, h), Act::LeakyRelu(0.2));
        let width = self.down2.weight.dims()[0];
        let h: Tensor<2> = h.permute([0, 3, 1, 2]).reshape([n, width * (s / 4) * (s / 4)]);
        match (&self.embed, c) {
            (Some(embed), Some(c)) => linear(&self.fc, h.clone(), Act::Identity) + (linear(embed, c, Act::Identity) * h).sum_dim(1),
            (None, Some(c)) => linear(&self.fc, Tensor::cat(vec![h, c], 1), Act::Identity),
            (_, None) => linear(&self.fc, h, Act::Identity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_for_28_and_32_pixel_images_with_and_without_a_condition() {
        let dev = crate::testing::device();
        for (side, cond, conditioning) in [(28, 0, Conditioning::Projection), (32, 0, Conditioning::Projection), (28, 10, Conditioning::Projection), (32, 10, Conditioning::Projection), (28, 10, Conditioning::Channels)] {
            let cfg = DcganConfig::for_images(side * side, 8, cond).conditioned(conditioning);
            let (g, d) = crate::backend::seeded(0, &dev, || (cfg.generator(&dev), cfg.discriminator(&dev)));
            let x = g.forward(Tensor::zeros([3, 8 + cond], &dev));
            assert_eq!(x.dims(), [3, side * side]);
            let c = (cond > 0).then(|| Tensor::zeros([3, cond], &dev));
            assert_eq!(d.forward(x.clone(), c.clone()).dims(), [3, 1]);
            assert_eq!(crate::backend::seeded(0, &dev, || cfg.encoder(16, &dev)).forward(x.clone(), c.clone()).dims(), [3, 16]);
            // Three channels (stacked MNIST): generator and discriminator agree on the layout.
            if cond == 0 {
                let three = DcganConfig::for_images(side * side, 8, 0).with_image_channels(3);
                assert_eq!(three.side, side);
                let x3 = crate::backend::seeded(0, &dev, || three.generator(&dev)).forward(Tensor::zeros([3, 8], &dev));
                assert_eq!(x3.dims(), [3, 3 * side * side]);
                assert_eq!(crate::backend::seeded(0, &dev, || three.discriminator(&dev)).forward(x3, None).dims(), [3, 1]);
            }
            // A narrower discriminator: fewer channels, the same logits' shape.
            let narrow = crate::backend::seeded(0, &dev, || cfg.clone().with_d_channels(16).discriminator(&dev));
            assert_eq!(narrow.down2.weight.dims()[0], 32);
            assert_eq!(narrow.forward(x, c).dims(), [3, 1]);
        }
    }

    /// A packing discriminator reads the images of a pack as its input channels, in order: with
    /// the first convolution's weights on channel 1 zeroed, only each pack's first image counts.
    #[test]
    fn a_pack_s_images_are_its_channels_in_order() {
        let dev = crate::testing::device();
        let mut d = crate::backend::seeded(0, &dev, || DcganConfig::for_images(784, 8, 0).packed(2).discriminator(&dev));
        assert_eq!(d.down1.weight.dims(), [CHANNELS, 2, 4, 4]);
        let image = |k: usize| -> Vec<f32> { (0..784).map(|i| ((i * (k + 3) * 37) % 101) as f32 / 50.0 - 1.0).collect() };
        let logits = |d: &ConvDown, packs: [[usize; 2]; 2]| {
            let x: Vec<f32> = packs.iter().flat_map(|p| p.iter().flat_map(|&k| image(k))).collect();
            crate::host::host(d.forward(crate::host::tensor(x, [2, 2 * 784], &dev), None))
        };
        let mask = |d: ConvDown, channel: usize| {
            // Weights `[out, in, 4, 4]`: zero where `in` is `channel`.
            let w: Vec<f32> = crate::host::host(d.down1.weight.val()).into_iter().enumerate().map(|(i, w)| if (i / 16) % 2 == channel { 0.0 } else { w }).collect();
            let w = crate::host::tensor(w, [CHANNELS, 2, 4, 4], &dev);
            ConvDown { down1: Conv2d { weight: burn::module::Param::from_tensor(w), ..d.down1 }, ..d }
        };
        // Both packs share their first image and differ in the second: distinct logits...
        let plain = logits(&d, [[0, 1], [0, 2]]);
        assert!((plain[0] - plain[1]).abs() > 1e-4, "{plain:?}");
        // ...until channel 1 is blind; blind to channel 0, the packs that share image 1 agree.
        d = mask(d, 1);
        let first = logits(&d, [[0, 1], [0, 2]]);
        assert!((first[0] - first[1]).abs() < 1e-5, "{first:?}");
        let d = mask(crate::backend::seeded(0, &dev, || DcganConfig::for_images(784, 8, 0).packed(2).discriminator(&dev)), 0);
        let second = logits(&d, [[1, 0], [2, 0]]);
        assert!((second[0] - second[1]).abs() < 1e-5, "{second:?}");
    }

    #[test]
    fn the_default_discriminator_capacity_is_the_dcgan_s() {
        let c = crate::config::TrainConfig::default_for(crate::config::DataKind::Images, crate::config::ModelKind::Gan);
        assert_eq!(c.d_channels, CHANNELS);
    }

    #[test]
    fn the_class_acts_on_the_image_features_not_as_a_bias() {
        // With c concatenated onto h, l(x, c) - l(x, c') would be the same for every x.
        let dev = crate::testing::device();
        for conditioning in [Conditioning::Projection, Conditioning::Channels] {
            let d = crate::backend::seeded(0, &dev, || DcganConfig::for_images(784, 8, 10).conditioned(conditioning).discriminator(&dev));
            assert_eq!(d.down1.weight.dims()[1], if conditioning == Conditioning::Channels { 11 } else { 1 });
            let x = crate::host::tensor((0..2 * 784).map(|i| ((i * 37) % 101) as f32 / 50.0 - 1.0).collect(), [2, 784], &dev);
            let logits = |label: u8| crate::host::host(d.forward(x.clone(), Some(crate::host::one_hot(&[label, label], 10, &dev))));
            let (a, b) = (logits(3), logits(7));
            let (shift0, shift1) = (a[0] - b[0], a[1] - b[1]);
            assert!((shift0 - shift1).abs() > 1e-4, "{conditioning:?}: class shifts {shift0} and {shift1}");
        }
    }
}
