//! The image metrics together (docs/spec.md §4), all read off the reference classifier: inception score,
//! Fréchet distance and precision/recall of the penultimate features against real test digits,
//! and, for samples generated per class, the accuracy of conditional generation.

use burn::tensor::Device;
use serde::Serialize;

use super::classifier::{CLASSES, FEATURES, Reference};
use super::frechet::{fit, frechet_distance};
use super::inception::{Decomposition, SPLITS, inception_score};
use super::precision_recall::{K, precision_recall};

/// Samples scored by default (and real test digits they are compared with), as in the literature.
pub const SAMPLES: usize = 10_000;

/// The scores of one sample set; field names are `unigen eval --json`'s keys.
#[derive(Debug, Clone, Serialize)]
pub struct ImageScores {
    pub inception_score: f64,
    pub inception_score_std: f64,
    /// `H(y)`, `E_x H(y|x)` and the classes' shares: what the score is made of.
    #[serde(flatten)]
    pub classes: Decomposition,
    pub frechet_distance: f64,
    pub precision: f64,
    pub recall: f64,
    /// Fraction of samples generated for class c that the classifier labels c.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditional_accuracy: Option<f64>,
    pub n_samples: usize,
    pub n_real: usize,
    pub classifier_fingerprint: String,
}

/// Scores `fake` (`[n, 784]`, pixels in [0, 1]) against `real` test images. `intended`: the class
/// each sample was generated for, if the model is conditional.
///
/// ```no_run
/// use unigen::data::{self, DataSource, Split, samples};
/// use unigen::eval::{classifier, images};
///
/// let device = unigen::backend::Backend::Flex.device()?;
/// let reference = classifier::shipped(&device)?; // the classifier shipped with unigen
/// let real = data::load(&DataSource::Mnist { dir: "mnist".into() }, Split::Test, 0, 0)?;
/// let fake = samples::read_images("my-samples.npy".as_ref())?; // [n, 28, 28] in [0, 1]
/// let s = images::score(&reference, &real.x, &fake, None, &device);
/// println!("IS {:.2}, FD {:.1}, classifier {}", s.inception_score, s.frechet_distance, reference.short());
/// # Ok::<(), unigen::Error>(())
/// ```
pub fn score(reference: &Reference, real: &[f32], fake: &[f32], intended: Option<&[u8]>, device: &Device) -> ImageScores {
    let r = reference.classify(real, device);
    let f = reference.classify(fake, device);
    let (inception_score, inception_score_std) = inception_score(&f.log_probs, CLASSES, SPLITS);
    let (precision, recall) = precision_recall(&r.features, &f.features, FEATURES, K, device);
    ImageScores {
        inception_score,
        inception_score_std,
        classes: Decomposition::of(&f.log_probs, CLASSES),
        frechet_distance: frechet_distance(&fit(&r.features, FEATURES), &fit(&f.features, FEATURES)),
        precision,
        recall,
        conditional_accuracy: intended.map(|labels| f.accuracy(labels)),
        n_samples: f.n,
        n_real: r.n,
        classifier_fingerprint: reference.fingerprint.clone(),
    }
}
