//! Counter-based randomness: every random draw of a run is a pure function of
//! `(seed, purpose, counter)`. A resumed run therefore needs no RNG state beyond
//! the step it stopped at, and draws exactly what the uninterrupted run drew.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// What a stream of random numbers is used for; each purpose is an independent stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Permutation of the training set for one epoch (counter = epoch).
    Shuffle = 1,
    /// Dynamic binarisation of one training batch (counter = step).
    Binarize = 2,
    /// Reparameterisation noise `eps` of one step (counter = step).
    Eps = 3,
    /// Subset selection (counter = 0).
    Subset = 4,
    /// The fixed binarisation of the test set (counter = 0).
    TestBinarize = 5,
    /// Sampling `z ~ p(z)` for pictures and evaluation (counter = call index).
    Sample = 6,
    /// Toy data generation (counter = split).
    Toy = 7,
    /// Evaluation noise (counter = batch index).
    Eval = 8,
    /// Random shifts of the reference classifier's training images (counter = step).
    Augment = 9,
    /// The draws of a divergence measurement: model samples and data subsets (counter = 2 x
    /// redraw, and 2 x redraw + 1).
    Diverge = 10,
    /// Initial weights drawn by unigen rather than burn (`init = dcgan`; counter = network).
    Init = 11,
    /// k-means++ seeds of the clusters a GAN conditions on (`clusters = K`; counter = 0).
    Clusters = 12,
}

/// splitmix64: a bijective mixer, so distinct inputs give well-separated seeds.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The RNG for one `(seed, purpose, counter)` triple.
pub fn stream(seed: u64, purpose: Purpose, counter: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(mix(mix(seed) ^ purpose as u64) ^ counter))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(7, Purpose::Eps, 3).random();
        let b: u64 = stream(7, Purpose::Eps, 3).random();
        let c: u64 = stream(7, Purpose::Eps, 4).random();
        let d: u64 = stream(7, Purpose::Binarize, 3).random();
        let e: u64 = stream(8, Purpose::Eps, 3).random();
        assert_eq!(a, b);
        assert!(a != c && a != d && a != e && c != d);
    }
}
