//! The one place that maps a model kind to its code: a fresh [`Trainer`] for a run.

use burn::tensor::Device;

use super::aae::AaeTrainer;
use super::ada::step::AdaTrainer;
use super::cyclegan::step::CycleGanTrainer;
use super::gan::step::GanTrainer;
use super::infogan::step::InfoGanTrainer;
use super::step::Trainer;
use super::vae::step::{Labelled, VaeTrainer};
use super::wake_sleep::WakeSleepTrainer;
use crate::data::Dataset;
use crate::kind::ModelKind;
use crate::run::RunSpec;

/// What some models train on besides the batches: ADA's target domain and CycleGAN's domain B
/// (the training images shifted, drawn apart from the batches, pixels in [-1, 1]), and a
/// semi-supervised model's labelled examples; a GAN conditioned on clusters, their shares.
#[derive(Default)]
pub struct Extra {
    pub shifted: Option<Dataset>,
    pub labelled: Option<Labelled>,
    pub cluster_shares: Option<Vec<f32>>,
}

/// A fresh trainer of `spec`'s model on `device`, its weights drawn from the run's seed (each
/// trainer draws its own with [`crate::backend::seeded`]): the one place that maps a model kind
/// to its code. Without `extra` (inference: loading a checkpoint, the initial model), models that
/// train on more than the batches are built without it.
pub fn trainer(spec: &RunSpec, device: &Device, extra: Option<Extra>) -> Box<dyn Trainer> {
    use ModelKind as M;
    let Extra { shifted, labelled, cluster_shares } = extra.unwrap_or_default();
    match spec.model {
        M::Infogan => Box::new(InfoGanTrainer::new(spec, device)),
        M::Aae => Box::new(AaeTrainer::new(spec, device)),
        M::WakeSleep => Box::new(WakeSleepTrainer::new(spec, device)),
        M::Ada => {
            let t = AdaTrainer::new(spec, device);
            Box::new(match shifted {
                Some(target) => t.with_target(target),
                None => t,
            })
        }
        M::Cyclegan => {
            let t = CycleGanTrainer::new(spec, device);
            Box::new(match shifted {
                Some(target) => t.with_target(target),
                None => t,
            })
        }
        M::Gan | M::Iwgan | M::Cgan | M::Iwcgan => {
            let t = GanTrainer::new(spec, device);
            Box::new(match cluster_shares {
                Some(shares) => t.with_clusters(shares, device),
                None => t,
            })
        }
        M::Vae | M::Iwae | M::Cvae | M::Aavae | M::Aacvae | M::Svae | M::Aasvae => {
            let t = VaeTrainer::new(spec, device);
            Box::new(match labelled {
                Some(l) => t.with_labelled(l),
                None => t,
            })
        }
    }
}
