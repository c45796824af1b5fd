//! The reference classifier and the image metrics, on the committed real-MNIST subset.

use std::path::PathBuf;

use burn::tensor::Device;
use unigen::data::{self, DataSource, Split};
use unigen::eval::classifier::{self, TrainSettings};
use unigen::eval::images;

#[test]
fn the_classifier_learns_digits_and_the_metrics_tell_real_from_noise() {
    let source = DataSource::Mnist { dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/mnist-small") };
    let train = data::load(&source, Split::Train, 0, 0).unwrap();
    let test = data::load(&source, Split::Test, 0, 0).unwrap();
    let device = Device::flex();
    // 1,000 training digits, 4 epochs: a few seconds. The full classifier (60,000 digits) is
    // judged in docs/results.md.
    let model = classifier::train(&train, &TrainSettings { epochs: 4, ..Default::default() }, &device, |_, _| {}).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.safetensors");
    let fingerprint = classifier::save(&model, &path, &Default::default()).unwrap();
    let reference = classifier::load(&path, &device).unwrap();
    assert_eq!(reference.fingerprint, fingerprint);
    let accuracy = reference.classify(&test.x, &device).accuracy(&test.labels);
    assert!(accuracy > 0.7, "test accuracy {accuracy} on 500 digits");

    // Real test digits (two halves) against each other, and against uniform noise.
    let half = test.len() / 2 * 784;
    let (a, b) = (&test.x[..half], &test.x[half..2 * half]);
    let noise: Vec<f32> = (0..half).map(|i| ((i * 7919) % 256) as f32 / 255.0).collect();
    let real = images::score(&reference, a, b, None, &device);
    let fake = images::score(&reference, a, &noise, None, &device);
    assert!(real.inception_score > 2.0 * fake.inception_score, "IS real {} noise {}", real.inception_score, fake.inception_score);
    assert!(real.frechet_distance * 5.0 < fake.frechet_distance, "FD real {} noise {}", real.frechet_distance, fake.frechet_distance);
    assert!(real.recall > 0.5 && fake.recall < 0.1, "recall real {} noise {}", real.recall, fake.recall);
    assert_eq!(real.classifier_fingerprint, fingerprint);
    // Seeded: the same settings give the same weights, so the same fingerprint.
    let again = classifier::train(&train, &TrainSettings { epochs: 4, ..Default::default() }, &device, |_, _| {}).unwrap();
    assert_eq!(classifier::save(&again, &dir.path().join("again.safetensors"), &Default::default()).unwrap(), fingerprint);
    // Conditional accuracy: the true labels of real digits score the classifier's accuracy.
    let labelled = images::score(&reference, a, b, Some(&test.labels[test.len() / 2..]), &device);
    assert!(labelled.conditional_accuracy.unwrap() > 0.7);
}
