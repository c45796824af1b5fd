//! An exponential moving average of the generator's weights (`g_ema`; Yazici et al. 2019, "The
//! unusual effectiveness of averaging in GAN training"). The generator the two-player game
//! leaves behind oscillates around its equilibrium; the average of its recent states sits
//! nearer it, so it makes the samples and the scores while the trained generator keeps playing.
//! The game itself is unchanged: the discriminator never sees the average.

use burn::module::Module;
use burn::store::{ModuleSnapshot, bridge};
use burn::tensor::DType;

/// The decay after `t` updates: `min(decay, (1 + t) / (10 + t))`. Early on the average follows
/// the generator closely, so it does not hold on to the random initial weights for the
/// thousands of steps a decay of 0.999 would.
pub fn decay_at(decay: f64, t: u64) -> f64 {
    decay.min((1.0 + t as f64) / (10.0 + t as f64))
}

/// `avg <- d avg + (1 - d) live`, `d = decay_at(decay, t)`, over every float tensor of the
/// network: its weights and its batch-norm statistics, so the average samples in inference mode
/// with statistics of the same recent past.
pub fn update<M: Module + ModuleSnapshot>(avg: &mut M, live: &M, decay: f64, t: u64) {
    let d = decay_at(decay, t) as f32;
    let live = live.collect(None, None, false);
    let mixed = avg
        .collect(None, None, false)
        .into_iter()
        .zip(live)
        .map(|(a, l)| {
            debug_assert_eq!(a.name, l.name, "both networks have the same layout");
            let (a_data, l_data) = (bridge::to_data(&a).expect("a network's tensor"), bridge::to_data(&l).expect("a network's tensor"));
            if a_data.dtype() != DType::F32 {
                return bridge::from_data(l_data, l.name.clone(), None);
            }
            let (a_v, l_v) = (a_data.try_to_vec::<f32>().expect("f32"), l_data.try_to_vec::<f32>().expect("f32"));
            let v: Vec<f32> = a_v.iter().zip(&l_v).map(|(&a, &l)| d * a + (1.0 - d) * l).collect();
            bridge::from_data(burn::tensor::TensorData::new(v, a_data.shape().clone()), a.name.clone(), None)
        })
        .collect();
    let r = avg.apply(mixed, None, None, false);
    debug_assert!(r.errors.is_empty() && r.missing.is_empty() && r.unused.is_empty(), "{r:?}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};

    fn values(m: &Linear) -> Vec<f32> {
        crate::testing::module_values(m)
    }

    /// One update moves every weight to the decayed mix, exactly; the decay warms up.
    #[test]
    fn an_update_mixes_each_weight_by_the_warmed_up_decay() {
        let dev = crate::testing::device();
        let (mut avg, live): (Linear, Linear) = crate::backend::seeded(0, &dev, || (LinearConfig::new(3, 2).init(&dev), LinearConfig::new(3, 2).init(&dev)));
        let (a0, l0) = (values(&avg), values(&live));
        assert!(a0.iter().zip(&l0).any(|(a, l)| a != l));
        assert_eq!(decay_at(0.999, 0), 0.1);
        assert_eq!(decay_at(0.5, 1000), 0.5);
        update(&mut avg, &live, 0.999, 0);
        for ((a, a0), l) in values(&avg).iter().zip(&a0).zip(&l0) {
            assert_eq!(*a, 0.1f32 * a0 + 0.9f32 * l);
        }
        // Many updates towards a fixed network end at it.
        for t in 1..2000 {
            update(&mut avg, &live, 0.99, t);
        }
        for (a, l) in values(&avg).iter().zip(&l0) {
            assert!((a - l).abs() < 1e-5, "{a} vs {l}");
        }
    }
}
