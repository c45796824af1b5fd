//! Stacked MNIST (Metz et al. 2017; the protocol of VEEGAN and PacGAN, from PacGAN's code): each
//! image holds three MNIST digits drawn independently and uniformly, one per channel, so the data
//! have 1,000 modes, `100 d_0 + 10 d_1 + d_2`. The digits come from all 70,000 MNIST images (the
//! training and test files together, as in PacGAN's code); a training set is [`TRAIN_SIZE`]
//! images, a test set [`TEST_SIZE`], each a pure function of its seed.
//!
//! An image is stored channel after channel, `[3, 28, 28]` flattened. Models are scored by the
//! modes their samples reach (`eval::modes::stacked_coverage`), not against a test set: the test
//! split exists for the machinery that expects one.

use rand::Rng;

use super::{Dataset, Split, idx, mnist};
use crate::error::Result;
use crate::rng::{Purpose, stream};

/// Digits per image, one per channel.
pub const CHANNELS: usize = 3;
/// Modes: every combination of three digits.
pub const MODES: usize = 1000;
/// Images in a training set (PacGAN's `num_training_sample`).
pub const TRAIN_SIZE: usize = 128_000;
/// Images in a test set.
pub const TEST_SIZE: usize = 10_000;
/// Samples whose modes are counted (VEEGAN's and PacGAN's 26,000).
pub const SAMPLES: usize = 26_000;

/// The split of stacked MNIST built from the MNIST files in `dir`, its digits drawn with `seed`
/// (the test split with a seed of its own, so it is the same for every run). Labels are 0: a
/// model is scored by the modes of its samples, read off the reference classifier.
pub fn load(dir: &std::path::Path, split: Split, seed: u64) -> Result<Dataset> {
    let (train, _) = mnist::load(dir, Split::Train)?;
    let (test, _) = mnist::load(dir, Split::Test)?;
    let digits: Vec<&[u8]> = train.pixels.chunks_exact(idx::SIDE * idx::SIDE).chain(test.pixels.chunks_exact(idx::SIDE * idx::SIDE)).collect();
    let (n, counter) = match split {
        Split::Train => (TRAIN_SIZE, 0),
        Split::Test => (TEST_SIZE, 1),
    };
    let seed = if split == Split::Test { super::TEST_BINARIZE_SEED } else { seed };
    Ok(stack(&digits, n, &mut stream(seed, Purpose::Toy, 100 + counter)))
}

/// `n` images of three digits each, drawn from `digits` with `rng`.
fn stack(digits: &[&[u8]], n: usize, rng: &mut impl Rng) -> Dataset {
    let pixels = idx::SIDE * idx::SIDE;
    let mut x = Vec::with_capacity(n * CHANNELS * pixels);
    for _ in 0..n * CHANNELS {
        x.extend(digits[rng.random_range(0..digits.len())].iter().map(|&p| p as f32 / 255.0));
    }
    Dataset { x, dim: CHANNELS * pixels, labels: vec![0; n], image_side: Some(idx::SIDE) }
}

/// The mode of each of `n` images from the digit the classifier reads in each channel:
/// `digits[i * 3 + k]` is image `i`'s channel `k`.
pub fn modes_of(digits: &[u8]) -> Vec<usize> {
    digits.chunks_exact(CHANNELS).map(|d| d.iter().fold(0usize, |m, &v| 10 * m + v as usize)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_channel_is_a_whole_digit_drawn_apart() {
        // Ten "digits", each a constant image of its own value.
        let images: Vec<Vec<u8>> = (0..10u8).map(|v| vec![v * 20; idx::SIDE * idx::SIDE]).collect();
        let digits: Vec<&[u8]> = images.iter().map(Vec::as_slice).collect();
        let d = stack(&digits, 400, &mut stream(3, Purpose::Toy, 100));
        assert_eq!((d.len(), d.dim), (400, 3 * 784));
        let pixels = idx::SIDE * idx::SIDE;
        let mut seen = std::collections::BTreeSet::new();
        for image in d.x.chunks_exact(3 * pixels) {
            let channel: Vec<usize> = image.chunks_exact(pixels).map(|c| {
                assert!(c.iter().all(|&p| p == c[0]), "a channel is one whole digit");
                (c[0] * 255.0 / 20.0).round() as usize
            }).collect();
            seen.insert(channel[0] * 100 + channel[1] * 10 + channel[2]);
        }
        // 400 draws of 1,000 equally likely modes: about 330 distinct; channels independent.
        assert!(seen.len() > 280, "{} distinct modes", seen.len());
        assert_eq!(stack(&digits, 400, &mut stream(3, Purpose::Toy, 100)).x, d.x, "a pure function of the seed");
        assert_eq!(modes_of(&[3, 0, 7, 9, 9, 9]), vec![307, 999]);
    }
}
