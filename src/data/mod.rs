//! Data (docs/spec.md §3): MNIST from IDX files, the built-in 2-D toy mixtures, seeded class-balanced
//! subsets, and binarisation (dynamic for training, fixed and seeded for the test set).

pub mod fetch;
pub mod idx;
pub mod kmeans;
pub mod mnist;
pub mod samples;
pub mod shift;
pub mod stacked;
pub mod toy;

use std::path::PathBuf;

use rand::Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::rng::{Purpose, stream};
pub use mnist::Split;
pub use toy::Toy;

/// The test set is binarised once with this seed, so every model is scored on the same bits.
pub const TEST_BINARIZE_SEED: u64 = 0;
/// Toy test points come from this seed (split 1); training points use the run's `subset_seed`.
pub const TOY_TEST_SEED: u64 = 0;
/// Size of the toy test set.
pub const TOY_TEST_SIZE: usize = 10_000;

/// The kind of data: it decides the networks' input and the settings' defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    Images,
    Points2d,
}

/// Where a run's data comes from; stored in the run directory so `eval` finds it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum DataSource {
    /// MNIST from a directory holding the four IDX files.
    Mnist { dir: PathBuf },
    Ring8,
    Grid25,
    /// PacGAN's mixtures, with PacGAN's training protocol as defaults (`Toy::pacgan`).
    Ring8Pacgan,
    Grid25Pacgan,
    /// Stacked MNIST (VEEGAN, PacGAN): three MNIST digits drawn independently as the three
    /// channels of one image, 1,000 modes (the digits read as a 3-digit number). Built from the
    /// MNIST files in `dir` ([`stacked`]).
    StackedMnist { dir: PathBuf },
    /// Points in the plane (see [`samples::read_points`]); every fifth point
    /// (index 4, 9, 14, ...) is held out as the test set.
    Points { file: PathBuf },
}

/// Extensions that make `--data NAME` a file of points rather than a dataset's name.
const POINT_FILE_EXTENSIONS: [&str; 5] = ["npy", "csv", "tsv", "txt", "dat"];

impl DataSource {
    /// `--data NAME` / `--data-dir DIR` as typed by the user.
    pub fn resolve(name: Option<&str>, dir: Option<PathBuf>) -> Result<Self> {
        match (name, dir) {
            (Some("ring8"), None) => Ok(DataSource::Ring8),
            (Some("grid25"), None) => Ok(DataSource::Grid25),
            (Some("ring8-pacgan"), None) => Ok(DataSource::Ring8Pacgan),
            (Some("grid25-pacgan"), None) => Ok(DataSource::Grid25Pacgan),
            (Some("mnist") | None, Some(dir)) => Ok(DataSource::Mnist { dir }),
            (Some("stacked-mnist"), Some(dir)) => Ok(DataSource::StackedMnist { dir }),
            (Some("stacked-mnist"), None) => Ok(DataSource::StackedMnist { dir: mnist::locate()? }),
            (Some("mnist"), None) => Ok(DataSource::Mnist { dir: mnist::locate()? }),
            (Some(file), None)
                if std::path::Path::new(file)
                    .extension()
                    .is_some_and(|e| POINT_FILE_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x))) =>
            {
                // Stored absolute in run.toml, so `eval` and `diverge` find it from any directory.
                let file = std::path::absolute(file).map_err(|e| Error::io(std::path::Path::new(file), e))?;
                if !file.is_file() {
                    return Err(Error::Config { path: file.display().to_string(), problem: "no such file of points".into() });
                }
                Ok(DataSource::Points { file })
            }
            (Some(other), Some(_)) => Err(Error::Invalid(format!(
                "--data-dir holds MNIST files; it goes with --data mnist or stacked-mnist, not --data {other}"
            ))),
            (Some(other), _) => Err(Error::Invalid(format!(
                "unknown dataset `{other}`; choose mnist, stacked-mnist, ring8, grid25, ring8-pacgan, grid25-pacgan, a file of 2-D points (.npy, .csv, .tsv, .txt, .dat), or --data-dir DIR for MNIST files"
            ))),
            (None, None) => Err(Error::Invalid("no data given: use --data mnist|stacked-mnist|ring8|grid25|ring8-pacgan|grid25-pacgan|POINTS.csv or --data-dir DIR".into())),
        }
    }

    pub fn kind(&self) -> DataKind {
        match self {
            DataSource::Mnist { .. } | DataSource::StackedMnist { .. } => DataKind::Images,
            DataSource::Ring8 | DataSource::Grid25 | DataSource::Ring8Pacgan | DataSource::Grid25Pacgan | DataSource::Points { .. } => DataKind::Points2d,
        }
    }

    pub fn toy(&self) -> Option<Toy> {
        match self {
            DataSource::Ring8 => Some(Toy::Ring8),
            DataSource::Grid25 => Some(Toy::Grid25),
            DataSource::Ring8Pacgan => Some(Toy::Ring8Pacgan),
            DataSource::Grid25Pacgan => Some(Toy::Grid25Pacgan),
            DataSource::Mnist { .. } | DataSource::StackedMnist { .. } | DataSource::Points { .. } => None,
        }
    }

    /// Channels of an image (3 for stacked MNIST); 1 for MNIST and for points.
    pub fn channels(&self) -> usize {
        if matches!(self, DataSource::StackedMnist { .. }) { stacked::CHANNELS } else { 1 }
    }

    /// Number of classes of its labels (digits; the mixture's modes; stacked MNIST's modes).
    pub fn classes(&self) -> usize {
        match self {
            DataSource::Mnist { .. } => 10,
            DataSource::StackedMnist { .. } => stacked::MODES,
            DataSource::Points { .. } => 1,
            toy => toy.toy().expect("the rest are toys").centres().len(),
        }
    }

    /// The data with where it lives: `mnist (DIR)`, `ring8`, `points (FILE)`.
    pub fn label(&self) -> String {
        match self {
            DataSource::Mnist { dir } => format!("mnist ({})", dir.display()),
            DataSource::StackedMnist { dir } => format!("stacked-mnist ({})", dir.display()),
            DataSource::Points { file } => format!("points ({})", file.display()),
            other => other.name(),
        }
    }

    /// A short name for tables and run directories: `mnist`, `ring8`, `grid25`, or the point
    /// file's stem.
    pub fn name(&self) -> String {
        match self {
            DataSource::Mnist { .. } => "mnist".into(),
            DataSource::StackedMnist { .. } => "stacked-mnist".into(),
            DataSource::Points { file } => file.file_stem().map_or("points".into(), |s| s.to_string_lossy().into_owned()),
            other => other.toy().expect("the rest are toys").name().into(),
        }
    }
}

/// Examples in host memory, row-major `[n, dim]`, with a class (digit or mode) per example.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub x: Vec<f32>,
    pub dim: usize,
    pub labels: Vec<u8>,
    /// `Some(28)` for images (pictures are drawn as grids), `None` for points.
    pub image_side: Option<usize>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The rows `indices`, flattened.
    pub fn gather(&self, indices: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(indices.len() * self.dim);
        for &i in indices {
            out.extend_from_slice(&self.x[i * self.dim..(i + 1) * self.dim]);
        }
        out
    }

    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            x: self.gather(indices),
            dim: self.dim,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            image_side: self.image_side,
        }
    }

    /// The first `n` examples (all if fewer).
    pub fn head(&self, n: usize) -> Dataset {
        self.select(&(0..n.min(self.len())).collect::<Vec<_>>())
    }
}

/// Loads one split. Toy training sets have `toy_train_size` points drawn with `seed`.
pub fn load(source: &DataSource, split: Split, toy_train_size: usize, seed: u64) -> Result<Dataset> {
    match source {
        DataSource::Mnist { dir } => {
            let (images, labels) = mnist::load(dir, split)?;
            Ok(Dataset {
                x: images.pixels.iter().map(|&p| p as f32 / 255.0).collect(),
                dim: idx::SIDE * idx::SIDE,
                labels,
                image_side: Some(idx::SIDE),
            })
        }
        DataSource::StackedMnist { dir } => stacked::load(dir, split, seed),
        DataSource::Ring8 | DataSource::Grid25 | DataSource::Ring8Pacgan | DataSource::Grid25Pacgan => {
            let toy = source.toy().expect("a toy");
            let (x, labels) = match split {
                Split::Train => toy.sample(toy_train_size, seed, 0),
                Split::Test => toy.sample(TOY_TEST_SIZE, TOY_TEST_SEED, 1),
            };
            Ok(Dataset { x, dim: 2, labels, image_side: None })
        }
        DataSource::Points { file } => {
            let all = samples::read_points(file)?;
            let held_out = |i: &usize| i % 5 == 4;
            let x: Vec<f32> = all.chunks_exact(2).enumerate().filter(|(i, _)| held_out(i) == (split == Split::Test)).flat_map(|(_, p)| p.to_vec()).collect();
            if x.is_empty() {
                return Err(Error::Config { path: file.display().to_string(), problem: format!("too few points for a {split:?} split (every fifth point is held out for testing)") });
            }
            Ok(Dataset { labels: vec![0; x.len() / 2], x, dim: 2, image_side: None })
        }
    }
}

/// A fixed, seeded subset holding the same share of every class: `round(fraction * n_c)` examples
/// of each class `c`, in ascending index order.
pub fn balanced_subset(labels: &[u8], fraction: f64, seed: u64) -> Vec<usize> {
    balanced_draw(labels, fraction, &mut stream(seed, Purpose::Subset, 0))
}

/// The examples of a training set whose labels a semi-supervised model sees: a class-balanced
/// `fraction`, drawn like [`balanced_subset`] from a stream of its own.
pub fn labelled_subset(labels: &[u8], fraction: f64, seed: u64) -> Vec<usize> {
    balanced_draw(labels, fraction, &mut stream(seed, Purpose::Subset, 1))
}

fn balanced_draw(labels: &[u8], fraction: f64, rng: &mut impl Rng) -> Vec<usize> {
    if fraction >= 1.0 {
        return (0..labels.len()).collect();
    }
    let classes = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    let mut chosen = Vec::new();
    for c in 0..classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] as usize == c).collect();
        members.shuffle(rng);
        let take = ((fraction * members.len() as f64).round() as usize).max(1).min(members.len());
        chosen.extend_from_slice(&members[..take]);
    }
    chosen.sort_unstable();
    chosen
}

/// Stochastic binarisation: each pixel becomes 1 with probability equal to its intensity.
pub fn binarize(x: &[f32], rng: &mut impl Rng) -> Vec<f32> {
    x.iter().map(|&p| if rng.random::<f32>() < p { 1.0 } else { 0.0 }).collect()
}

/// The fixed, seeded binarisation of a test set (the same bits for every model and run).
pub fn binarize_test(ds: &Dataset) -> Dataset {
    let mut rng = stream(TEST_BINARIZE_SEED, Purpose::TestBinarize, 0);
    Dataset { x: binarize(&ds.x, &mut rng), ..ds.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_are_class_balanced_and_seed_stable() {
        // 10 classes of unequal size: 100, 110, ..., 190 examples.
        let labels: Vec<u8> = (0..10u8).flat_map(|c| std::iter::repeat_n(c, 100 + 10 * c as usize)).collect();
        let s = balanced_subset(&labels, 0.1, 3);
        for c in 0..10u8 {
            let count = s.iter().filter(|&&i| labels[i] == c).count();
            assert_eq!(count, ((100 + 10 * c as usize) as f64 * 0.1).round() as usize, "class {c}");
        }
        assert_eq!(s, balanced_subset(&labels, 0.1, 3), "same seed, same subset");
        assert_ne!(s, balanced_subset(&labels, 0.1, 4), "another seed, another subset");
        assert_eq!(balanced_subset(&labels, 1.0, 3).len(), labels.len());
        let tiny = balanced_subset(&labels, 0.001, 3);
        assert_eq!(tiny.len(), 10, "at least one example per class");

        // The labelled part of a semi-supervised set: balanced and seed-stable too, and drawn
        // apart from the training subset (the same seed does not pick the same examples).
        let l = labelled_subset(&labels, 0.1, 3);
        for c in 0..10u8 {
            let count = l.iter().filter(|&&i| labels[i] == c).count();
            assert_eq!(count, ((100 + 10 * c as usize) as f64 * 0.1).round() as usize, "labelled, class {c}");
        }
        assert_eq!(l, labelled_subset(&labels, 0.1, 3));
        assert_ne!(l, s);
    }

    #[test]
    fn binarisation_follows_intensity() {
        let x = vec![0.0, 1.0, 0.25];
        let reps = 20_000;
        let mut ones = [0usize; 3];
        let mut rng = stream(1, Purpose::Binarize, 0);
        for _ in 0..reps {
            for (o, v) in ones.iter_mut().zip(binarize(&x, &mut rng)) {
                *o += v as usize;
            }
        }
        assert_eq!(ones[0], 0);
        assert_eq!(ones[1], reps);
        let p = ones[2] as f64 / reps as f64;
        assert!((p - 0.25).abs() < 0.015, "P(1) = {p}");
    }

    #[test]
    fn test_binarisation_is_fixed() {
        let ds = Dataset { x: vec![0.5; 64], dim: 8, labels: vec![0; 8], image_side: None };
        let a = binarize_test(&ds);
        assert_eq!(a, binarize_test(&ds));
        assert!(a.x.iter().all(|&v| v == 0.0 || v == 1.0));
        assert!(a.x.contains(&1.0) && a.x.contains(&0.0));
    }

    #[test]
    fn data_source_errors_say_what_to_do() {
        let e = DataSource::resolve(Some("cifar"), None).unwrap_err().to_string();
        assert!(e.contains("cifar") && e.contains("mnist, ring8, grid25, ring8-pacgan, grid25-pacgan, a file of 2-D points"), "{e}");
        assert_eq!(DataSource::resolve(Some("ring8"), None).unwrap(), DataSource::Ring8);
        let e = DataSource::resolve(Some("/nonexistent/points.csv"), None).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/points.csv") && e.contains("no such file"), "{e}");
        let e = DataSource::resolve(None, None).unwrap_err().to_string();
        assert!(e.contains("--data"), "{e}");
    }

    #[test]
    fn missing_mnist_names_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let e = mnist::load(dir.path(), Split::Test).unwrap_err().to_string();
        assert!(e.contains("t10k-images-idx3-ubyte") && e.contains("unigen data fetch mnist"), "{e}");
    }
}
