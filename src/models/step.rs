//! How a model trains, as the training loop sees it: one step, the networks and optimisers a
//! checkpoint holds, and the model in inference mode. Each model implements [`Step`] in its own
//! folder (`vae/step.rs`, `gan/step.rs`, `infogan/step.rs`, `ada/step.rs`, `cyclegan/step.rs`,
//! `aae/`, `wake_sleep/`); `models::dispatch::trainer` is the one place that maps a model kind to
//! that code.

use burn::optim::ModuleOptimizer;
use burn::tensor::Tensor;
use rand_chacha::ChaCha8Rng;

use super::trained::Trained;
use crate::config::TrainConfig;
use crate::error::Result;
use crate::kernels::optimizer as adam;
use crate::objectives::NonFiniteTerm;
use crate::run::checkpoint;

/// The named losses of one step; the first is the one reported as `train_loss`.
pub type StepLosses = Vec<(&'static str, f64)>;

/// One model's update, written as burn's optimisers want it: by value (an optimiser step consumes
/// the network and returns the updated one). Each model implements this; the loop sees it as a
/// [`Trainer`].
pub trait Step: Sized + 'static {
    /// One optimisation step on the prepared batch `x: [B, D]` with its classes `labels` (read by
    /// conditional models only), drawing its noise from `noise`,
    /// the step's own stream. Returns the updated trainer and the step's losses, or the term that
    /// went non-finite; each loss is checked before its own update, and on an error the trainer is
    /// dropped, so the last checkpoint is the state that survives.
    fn step(self, x: Tensor<2>, labels: &[u8], noise: &mut ChaCha8Rng) -> std::result::Result<(Self, StepLosses), NonFiniteTerm>;
    /// The networks and their optimisers, for a checkpoint.
    fn parts(&self) -> Vec<checkpoint::Part<'_>>;
    /// The networks and optimisers of a checkpoint.
    fn load(self, loaded: &checkpoint::Loaded) -> Result<Self>;
    /// The model in inference mode.
    fn trained(&self) -> Trained;
}

/// Any model as the training loop sees it: its networks, their optimisers, and one step. Made by
/// [`super::dispatch::trainer`], the one place that maps a model kind to its code.
pub trait Trainer {
    /// [`Step::step`], behind a box.
    fn step(self: Box<Self>, x: Tensor<2>, labels: &[u8], noise: &mut ChaCha8Rng) -> std::result::Result<(Box<dyn Trainer>, StepLosses), NonFiniteTerm>;
    /// [`Step::parts`].
    fn parts(&self) -> Vec<checkpoint::Part<'_>>;
    /// [`Step::load`], behind a box.
    fn load(self: Box<Self>, loaded: &checkpoint::Loaded) -> Result<Box<dyn Trainer>>;
    /// [`Step::trained`].
    fn trained(&self) -> Trained;
}

impl<T: Step> Trainer for T {
    fn step(self: Box<Self>, x: Tensor<2>, labels: &[u8], noise: &mut ChaCha8Rng) -> std::result::Result<(Box<dyn Trainer>, StepLosses), NonFiniteTerm> {
        let (next, losses) = Step::step(*self, x, labels, noise)?;
        Ok((Box::new(next), losses))
    }
    fn parts(&self) -> Vec<checkpoint::Part<'_>> {
        Step::parts(self)
    }
    fn load(self: Box<Self>, loaded: &checkpoint::Loaded) -> Result<Box<dyn Trainer>> {
        Ok(Box::new(Step::load(*self, loaded)?))
    }
    fn trained(&self) -> Trained {
        Step::trained(self)
    }
}

/// Adam with the run's settings; each network has its own.
pub(crate) fn optimizer(c: &TrainConfig) -> ModuleOptimizer {
    ModuleOptimizer::from(adam::Adam::new(c.beta1 as f32, c.beta2 as f32, c.adam_eps as f32))
}
