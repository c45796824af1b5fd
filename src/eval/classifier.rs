//! The reference MNIST classifier (docs/spec.md §4): a LeNet-style CNN that every image metric
//! reads: class probabilities for the inception score and conditional accuracy, penultimate-layer
//! features for the Fréchet distance and precision/recall.
//!
//! Its fingerprint is the SHA-256 of its weights. Every score carries it, and scores made with
//! different fingerprints are never compared (see [`check_same_fingerprint`]). One classifier
//! ships with unigen ([`shipped`], compiled in and checked against [`SHIPPED_FINGERPRINT`]
//! whenever it is loaded), so every user's scores are made by the same weights and compare;
//! `unigen classifier train` makes another for those who want their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Tensor};
use rand::seq::SliceRandom;

use crate::data::{Dataset, idx::SIDE};
use crate::error::{Error, Result};
use crate::host::{host, one_hot, tensor};
use crate::kernels::{Act, conv2d_channels_last, linear, relu_max_pool_channels_last};
use crate::rng::{Purpose, stream};
use crate::run::checkpoint::{self, Part};

pub const CLASSES: usize = 10;
/// Width of the penultimate layer: the feature space of the Fréchet distance and precision/recall.
pub const FEATURES: usize = 128;
const PART: &str = "classifier";
const FORMAT: &str = "unigen-classifier/1";
/// Images per forward pass when scoring: bounds memory for any number of samples.
const CHUNK: usize = 500;

/// conv5x5(32) - pool - conv5x5(64) - pool - fc(128) - fc(10), ReLU between.
#[derive(Module, Debug)]
pub struct Classifier {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
}

impl Classifier {
    pub fn new(device: &Device) -> Self {
        let conv = |c: [usize; 2]| Conv2dConfig::new(c, [5, 5]).with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2)).init(device);
        Classifier {
            conv1: conv([1, 32]),
            conv2: conv([32, 64]),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: LinearConfig::new(64 * 7 * 7, FEATURES).init(device),
            fc2: LinearConfig::new(FEATURES, CLASSES).init(device),
        }
    }

    /// Penultimate features: `x: [N, 784]`, pixels in [0, 1] -> `[N, FEATURES]`.
    pub fn features(&self, x: Tensor<2>) -> Tensor<2> {
        let n = x.dims()[0];
        // Channels last inside (one input channel: the image is already so); the features are
        // flattened as `[N, C, H, W]`, the order of fc1's weights.
        let h = relu_max_pool_channels_last(&self.pool, conv2d_channels_last(&self.conv1, x.reshape([n, SIDE, SIDE, 1])));
        let h = relu_max_pool_channels_last(&self.pool, conv2d_channels_last(&self.conv2, h));
        linear(&self.fc1, h.permute([0, 3, 1, 2]).reshape([n, 64 * 7 * 7]), Act::Relu)
    }

    /// Class logits from features: `[N, FEATURES] -> [N, CLASSES]`.
    pub fn logits(&self, features: Tensor<2>) -> Tensor<2> {
        linear(&self.fc2, features, Act::Identity)
    }

    /// Runs the classifier over `x: [n, 784]` (pixels in [0, 1]) in chunks.
    pub fn classify(&self, x: &[f32], device: &Device) -> Outputs {
        let d = SIDE * SIDE;
        let n = x.len() / d;
        let (mut log_probs, mut features) = (Vec::with_capacity(n * CLASSES), Vec::with_capacity(n * FEATURES));
        for chunk in x.chunks(CHUNK * d) {
            let f = self.features(tensor(chunk.to_vec(), [chunk.len() / d, d], device));
            log_probs.extend(host(log_softmax(self.logits(f.clone()), 1)));
            features.extend(host(f));
        }
        Outputs { n, log_probs, features }
    }
}

#[derive(Debug, Clone)]
pub struct TrainSettings {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings { epochs: 6, batch_size: 100, lr: 1e-3, seed: 0 }
    }
}

/// Trains the classifier on `train` (pixels in [0, 1]) with cross-entropy from logits and Adam,
/// the learning rate decayed by 0.7 per epoch, each image shifted at random by up to 2 pixels
/// (without the shifts it stops short of 99%); deterministic for a seed. `progress(epoch, train_loss)` is called after each epoch.
pub fn train(train: &Dataset, s: &TrainSettings, device: &Device, mut progress: impl FnMut(usize, f64)) -> Result<Classifier> {
    if train.dim != SIDE * SIDE || train.len() < s.batch_size {
        return Err(Error::Invalid(format!(
            "the classifier trains on 28x28 images with at least one batch of {}; got {} examples of {} values",
            s.batch_size,
            train.len(),
            train.dim
        )));
    }
    let device = device.clone().autodiff();
    let mut model = crate::backend::seeded(s.seed, &device, || Classifier::new(&device));
    let mut optim = AdamConfig::new().init();
    let steps = train.len() / s.batch_size;
    for epoch in 0..s.epochs {
        let mut order: Vec<usize> = (0..train.len()).collect();
        order.shuffle(&mut stream(s.seed, Purpose::Shuffle, epoch as u64));
        let mut sum = 0.0;
        let lr = s.lr * 0.7f64.powi(epoch as i32);
        for (i, batch) in order.chunks_exact(s.batch_size).take(steps).enumerate() {
            let step = (epoch * steps + i) as u64;
            let x = shifted(&train.gather(batch), &mut stream(s.seed, Purpose::Augment, step));
            let x = tensor(x, [batch.len(), train.dim], &device);
            let labels: Vec<u8> = batch.iter().map(|&i| train.labels[i]).collect();
            let log_p = log_softmax(model.logits(model.features(x)), 1);
            let loss = -(log_p * one_hot(&labels, CLASSES, &device)).sum_dim(1).mean();
            let value = crate::objectives::finite(&loss, "classifier cross-entropy")
                .map_err(|t| Error::NonFinite { step, epoch: epoch + 1, term: t.term.into(), value: t.value })?;
            sum += value;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
        }
        progress(epoch + 1, sum / steps as f64);
    }
    Ok(model.valid())
}

/// Each 28x28 image moved by a random whole number of pixels in [-2, 2] along each axis, the
/// uncovered border filled with 0 (background).
fn shifted(x: &[f32], rng: &mut impl rand::Rng) -> Vec<f32> {
    let mut out = vec![0f32; x.len()];
    for (src, dst) in x.chunks_exact(SIDE * SIDE).zip(out.chunks_exact_mut(SIDE * SIDE)) {
        let (dy, dx): (i64, i64) = (rng.random_range(-2..=2), rng.random_range(-2..=2));
        for r in 0..SIDE as i64 {
            for c in 0..SIDE as i64 {
                let (sr, sc) = (r - dy, c - dx);
                if (0..SIDE as i64).contains(&sr) && (0..SIDE as i64).contains(&sc) {
                    dst[(r * SIDE as i64 + c) as usize] = src[(sr * SIDE as i64 + sc) as usize];
                }
            }
        }
    }
    out
}

/// What the classifier says about a set of images.
#[derive(Debug, Clone)]
pub struct Outputs {
    pub n: usize,
    /// `[n, CLASSES]` log-probabilities, row-major.
    pub log_probs: Vec<f32>,
    /// `[n, FEATURES]` penultimate features, row-major.
    pub features: Vec<f32>,
}

impl Outputs {
    /// The most probable class of each image.
    pub fn predictions(&self) -> Vec<u8> {
        crate::host::argmax_rows(&self.log_probs, CLASSES)
    }

    /// Fraction of images whose most probable class is `labels`'.
    pub fn accuracy(&self, labels: &[u8]) -> f64 {
        super::accuracy(&self.predictions(), labels)
    }
}

/// A classifier loaded from its file, with its fingerprint.
#[derive(Debug)]
pub struct Reference {
    pub model: Classifier,
    /// SHA-256 of the weights, hex.
    pub fingerprint: String,
    pub path: PathBuf,
    /// What the file says about how it was made (test accuracy, seed, epochs).
    pub meta: BTreeMap<String, String>,
}

impl Reference {
    /// [`Classifier::classify`] with this classifier.
    pub fn classify(&self, x: &[f32], device: &Device) -> Outputs {
        self.model.classify(x, device)
    }

    /// The short form printed beside scores.
    pub fn short(&self) -> &str {
        &self.fingerprint[..12]
    }
}

/// The classifier shipped with unigen: `unigen classifier train --seed 0` (6 epochs on the 60,000
/// MNIST training digits), committed as `assets/mnist-lenet.safetensors`; its file records its
/// test accuracy.
const SHIPPED: &[u8] = include_bytes!("../../assets/mnist-lenet.safetensors");
/// The shipped classifier's fingerprint, checked whenever it is loaded.
pub const SHIPPED_FINGERPRINT: &str = "675bc7eb864456f8594b697b3f35cd38d1bba40e2135c6dc216f58711a8af41b";
/// How the shipped classifier is named where a file path would be.
pub const SHIPPED_NAME: &str = "assets/mnist-lenet.safetensors (shipped with unigen)";

/// The shipped classifier, its content hash and fingerprint checked.
pub fn shipped(device: &Device) -> Result<Reference> {
    let loaded = checkpoint::read_bytes_as(SHIPPED, Path::new(SHIPPED_NAME), FORMAT)?;
    let reference = apply(loaded, device)?;
    if reference.fingerprint != SHIPPED_FINGERPRINT {
        return Err(Error::Invalid(format!(
            "{SHIPPED_NAME}: fingerprint {} is not the one this unigen was released with ({SHIPPED_FINGERPRINT}); rebuild from a clean checkout",
            reference.fingerprint
        )));
    }
    Ok(reference)
}

/// The classifier the image metrics use: `explicit` (`--classifier FILE`), else the file named
/// by `$UNIGEN_CLASSIFIER`, else the shipped one.
pub fn reference(explicit: Option<&Path>, device: &Device) -> Result<Reference> {
    match explicit.map(Path::to_path_buf).or_else(|| std::env::var_os("UNIGEN_CLASSIFIER").map(PathBuf::from)) {
        Some(path) => load(&path, device),
        None => shipped(device),
    }
}

/// Where `unigen classifier train` saves by default: `$UNIGEN_CLASSIFIER` if set, else
/// `~/.cache/unigen/classifier/mnist-lenet.safetensors`.
pub fn default_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("UNIGEN_CLASSIFIER") {
        return Ok(PathBuf::from(p));
    }
    dirs::cache_dir()
        .map(|d| d.join("unigen").join("classifier").join("mnist-lenet.safetensors"))
        .ok_or_else(|| Error::Invalid("no cache directory on this system: set UNIGEN_CLASSIFIER to a file path".into()))
}

/// Saves `model` (weights only) atomically with `meta`; returns its fingerprint, read back from
/// the file exactly as [`load`] computes it.
pub fn save(model: &Classifier, path: &Path, meta: &BTreeMap<String, String>) -> Result<String> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    checkpoint::save_as(path, &[Part::weights(PART, model)], meta, FORMAT)?;
    let loaded = checkpoint::read_as(path, FORMAT)?;
    Ok(loaded.weights_sha256(PART).expect("the part just saved"))
}

/// Loads the classifier at `path`, verifying the file and recomputing the fingerprint.
pub fn load(path: &Path, device: &Device) -> Result<Reference> {
    if !path.exists() {
        return Err(Error::NotFound(format!(
            "no classifier at {}: train one there with `unigen classifier train --out FILE`, \
             or leave out --classifier and $UNIGEN_CLASSIFIER to use the one shipped with unigen",
            path.display()
        )));
    }
    apply(checkpoint::read_as(path, FORMAT)?, device)
}

fn apply(loaded: checkpoint::Loaded, device: &Device) -> Result<Reference> {
    // Drawn under the device's lock although the file replaces them, so loading a classifier
    // cannot take draws from a run being initialised on another thread.
    let mut model = crate::backend::seeded(0, device, || Classifier::new(device));
    loaded.apply(PART, &mut model)?;
    let fingerprint = loaded.weights_sha256(PART).expect("part applied");
    Ok(Reference { model, fingerprint, path: loaded.path.clone(), meta: loaded.meta })
}

/// Refuses to put side by side scores made with different classifiers.
pub fn check_same_fingerprint<'a>(scores: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Result<()> {
    let mut seen: Option<(&str, &str)> = None;
    for (source, fp) in scores {
        let Some(fp) = fp else { continue };
        match seen {
            None => seen = Some((source, fp)),
            Some((first, expected)) if expected != fp => {
                return Err(Error::Invalid(format!(
                    "{source} was scored with classifier {fp:.12} but {first} with {expected:.12}: \
                     scores from different classifiers are not comparable; re-run `unigen eval` on both with one classifier"
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_a_fingerprint_that_round_trips() {
        let dev = crate::testing::device();
        // Seeded under the device lock: other tests reseed the shared device generator.
        let m = crate::backend::seeded(1, &dev, || Classifier::new(&dev));
        let f = m.features(Tensor::zeros([3, SIDE * SIDE], &dev));
        assert_eq!(f.dims(), [3, FEATURES]);
        assert_eq!(m.logits(f).dims(), [3, CLASSES]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let fp = save(&m, &path, &BTreeMap::new()).unwrap();
        let r = load(&path, &dev).unwrap();
        assert_eq!(r.fingerprint, fp);
        let other = crate::backend::seeded(2, &dev, || Classifier::new(&dev));
        let fp2 = save(&other, &dir.path().join("d.safetensors"), &BTreeMap::new()).unwrap();
        assert_ne!(fp, fp2, "different weights, different fingerprints");
    }

    /// The shipped classifier loads with its fingerprint, says how it was made, and reads the
    /// committed test digits (tests/data/mnist-small) as well as its file says it reads MNIST's.
    #[test]
    fn the_shipped_classifier_is_the_released_one_and_reads_digits() {
        let dev = crate::testing::device();
        let r = shipped(&dev).unwrap();
        assert_eq!(r.fingerprint, SHIPPED_FINGERPRINT);
        let accuracy: f64 = r.meta["test_accuracy"].parse().unwrap();
        assert!(accuracy >= 0.99, "{:?}", r.meta);
        assert_eq!((r.meta["seed"].as_str(), r.meta["epochs"].as_str()), ("0", "6"));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mnist-small");
        let test = crate::data::load(&crate::data::DataSource::Mnist { dir }, crate::data::Split::Test, 0, 0).unwrap();
        let read = r.classify(&test.x, &dev).accuracy(&test.labels);
        assert!(read >= 0.97, "accuracy {read} on {} committed test digits", test.len());
        // Damaged bytes are refused by the content hash, before any fingerprint is computed.
        let mut bad = SHIPPED.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let e = checkpoint::read_bytes_as(&bad, Path::new(SHIPPED_NAME), FORMAT).err().expect("refused").to_string();
        assert!(e.contains("content hash mismatch") && e.contains("shipped with unigen"), "{e}");
    }

    #[test]
    fn scores_from_different_classifiers_are_refused() {
        assert!(check_same_fingerprint([("a", Some("abc")), ("b", None), ("c", Some("abc"))]).is_ok());
        let e = check_same_fingerprint([("a.json", Some("abc")), ("b.json", Some("abd"))]).unwrap_err().to_string();
        assert!(e.contains("a.json") && e.contains("b.json") && e.contains("not comparable"), "{e}");
    }
}
