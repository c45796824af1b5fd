//! CycleGAN's networks (Zhu et al. 2017, docs/spec.md §2.8): two translators between domain A
//! (MNIST) and domain B (a shifted MNIST), each a GAN generator whose input is an image; their
//! step is `step.rs`, their scores and pictures the [`Model`] impl below.
//!
//! Settings read (`unigen train cyclegan`; the loop's own, `epochs` to `max_steps`, apply to
//! every model; any other is refused, `kind.rs`): `hidden`, `activation`, `d_activation`, `domain_shift`, `cycle_weight`, `identity_weight`.

pub mod step;
pub use step::CycleGanTrainer;

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::Generator;
use super::trained::{Model, OwnScores, from_gan_pixels, to_gan_pixels};
use crate::data::Dataset;
use crate::data::shift::Shift;
use crate::eval::classifier::Reference;
use crate::host::{host, tensor};
use crate::{data, plot};
use crate::run::RunSpec;

/// The two translators, one module (one optimiser: their parameters are disjoint).
#[derive(Module, Debug)]
pub struct Translators {
    pub a_to_b: Generator,
    pub b_to_a: Generator,
}

impl Translators {
    pub fn a_to_b(&self, a: Tensor<2>) -> Tensor<2> {
        self.a_to_b.forward(a, None)
    }

    pub fn b_to_a(&self, b: Tensor<2>) -> Tensor<2> {
        self.b_to_a.forward(b, None)
    }
}

/// CycleGAN's mean round-trip error per pixel (pixels in [0, 1]) on `test` (domain A) and on
/// `test` shifted (domain B): `|G_BA(G_AB(a)) - a|`, `|G_AB(G_BA(b)) - b|`.
pub fn cycle_errors(t: &Translators, test: &Dataset, shift: Shift, device: &Device) -> (f64, f64) {
    let error = |d: &Dataset, there: &dyn Fn(Tensor<2>) -> Tensor<2>, back: &dyn Fn(Tensor<2>) -> Tensor<2>| {
        let round_trip = from_gan_pixels(host(back(there(tensor(to_gan_pixels(&d.x), [d.len(), d.dim], device)))));
        d.x.iter().zip(&round_trip).map(|(p, q)| (p - q).abs() as f64).sum::<f64>() / round_trip.len().max(1) as f64
    };
    let (a_to_b, b_to_a) = (|x| t.a_to_b(x), |x| t.b_to_a(x));
    (error(test, &a_to_b, &b_to_a), error(&shift.apply(test), &b_to_a, &a_to_b))
}

/// Rows of 8 test digits: A, G_AB(A), G_BA(G_AB(A)), then B, G_BA(B), G_AB(G_BA(B)).
pub fn translation_picture(spec: &RunSpec, t: &Translators, test: &Dataset, device: &Device) -> image::RgbImage {
    let a = test.head(8);
    let b = spec.config.domain_shift.apply(&a);
    let as_tensor = |d: &Dataset| tensor(to_gan_pixels(&d.x), [d.len(), d.dim], device);
    let (a, b) = (as_tensor(&a), as_tensor(&b));
    let (ab, ba) = (t.a_to_b(a.clone()), t.b_to_a(b.clone()));
    let rows = vec![a, ab.clone(), t.b_to_a(ab), b, ba.clone(), t.a_to_b(ba)];
    plot::image_grid(&from_gan_pixels(host(burn::tensor::Tensor::cat(rows, 0))), data::idx::SIDE, 8)
}

/// Trained translators: scored by their round trips and, with the reference classifier, by
/// whether a translation keeps its digit.
impl Model for Translators {
    fn own_scores(&self, spec: &RunSpec, test: &Dataset, reference: Option<&Reference>, device: &Device) -> OwnScores {
        if test.is_empty() {
            return OwnScores::default();
        }
        let shift = spec.config.domain_shift;
        let (cycle_a, cycle_b) = cycle_errors(self, test, shift, device);
        let mut s = OwnScores {
            epoch: vec![("cycle_error", cycle_a)],
            eval: vec![("cycle_error_a", cycle_a), ("cycle_error_b", cycle_b)],
            lines: vec![format!("  cycle error per pixel: A->B->A {cycle_a:.4}, B->A->B {cycle_b:.4} (pixels in [0, 1])")],
            ..OwnScores::default()
        };
        let Some(reference) = reference else {
            s.lines.push("  (translated accuracy skipped: no reference classifier)".into());
            return s;
        };
        let b = shift.apply(test);
        let b_to_a = from_gan_pixels(host(self.b_to_a(tensor(to_gan_pixels(&b.x), [b.len(), b.dim], device))));
        let translated = reference.classify(&b_to_a, device).accuracy(&test.labels);
        let untranslated = reference.classify(&b.x, device).accuracy(&test.labels);
        s.eval.extend([("translated_accuracy", translated), ("untranslated_accuracy", untranslated)]);
        s.protocol.extend([
            ("translated_accuracy", format!("reference classifier on G_BA(b), b the test digits {shift:?}, against their labels")),
            ("classifier_fingerprint", reference.fingerprint.clone()),
        ]);
        s.lines.push(format!("  classifier accuracy on B->A translations {translated:.4} (on B untranslated: {untranslated:.4}); classifier {}", reference.short()));
        s
    }

    fn own_pictures(&self, spec: &RunSpec, test: &Dataset, device: &Device) -> Vec<(String, image::RgbImage)> {
        vec![("translations".into(), translation_picture(spec, self, test, device))]
    }
}
