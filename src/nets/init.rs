//! DCGAN's initialisation (Radford et al. 2016, "all weights initialised from a zero-centred
//! normal distribution with standard deviation 0.02"; PacGAN's code does the same): every weight
//! of a linear map or convolution from N(0, 0.02²), batch norm's scale from N(1, 0.02²), every
//! bias and shift 0. burn's default instead draws uniformly with a bound of 1/sqrt(fan in), a
//! far wider start for the small first layers (0.25 for a 4x4 one-channel convolution).

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::Tensor;
use rand_chacha::ChaCha8Rng;

use crate::host::{normals, tensor};

/// `module` with DCGAN's initial values, drawn from `rng` in the module's parameter order.
pub fn dcgan<M: Module>(module: M, rng: &mut ChaCha8Rng) -> M {
    struct Draw<'a> {
        rng: &'a mut ChaCha8Rng,
        /// The fields entered, innermost last: (name, the type that holds it).
        path: Vec<(String, String)>,
    }
    impl ModuleMapper for Draw<'_> {
        fn enter_module(&mut self, name: &str, container_type: &str) {
            self.path.push((name.to_string(), container_type.to_string()));
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (name, holder) = self.path.last().cloned().unwrap_or_default();
            let (mean, std) = match (holder.as_str(), name.as_str()) {
                ("Struct:BatchNorm", "gamma") => (1.0, 0.02),
                (_, "weight") => (0.0, 0.02),
                _ => (0.0, 0.0),
            };
            let rng = &mut *self.rng;
            param.map(|t| {
                let (dims, device, grad) = (t.dims(), t.device(), t.is_require_grad());
                let n = dims.iter().product();
                let v = if std > 0.0 { normals(rng, n).into_iter().map(|e| mean + std * e).collect() } else { vec![mean; n] };
                tensor(v, dims, &device).set_require_grad(grad)
            })
        }
    }
    module.map(&mut Draw { rng, path: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};

    #[derive(Module, Debug)]
    struct Net {
        fc: Linear,
        bn: BatchNorm,
    }

    fn net() -> Net {
        let dev = crate::testing::device();
        crate::backend::seeded(0, &dev, || Net { fc: LinearConfig::new(100, 500).init(&dev), bn: BatchNormConfig::new(64).init(&dev) })
    }

    /// Weights spread as N(0, 0.02²), batch norm's scale about 1, biases and shifts exactly 0;
    /// the same stream gives the same values.
    #[test]
    fn dcgan_values_by_kind_of_parameter() {
        let draw = |seed| dcgan(net(), &mut crate::rng::stream(seed, crate::rng::Purpose::Init, 0));
        let (a, b) = (draw(1), draw(1));
        assert_eq!(crate::testing::module_values(&a), crate::testing::module_values(&b));
        assert_ne!(crate::testing::module_values(&a), crate::testing::module_values(&draw(2)));
        let v = |t: Tensor<1>| crate::host::host(t);
        let w = crate::host::host(a.fc.weight.val().reshape([-1]));
        let std = (w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32).sqrt();
        assert!((std - 0.02).abs() < 0.001, "weights' std {std}");
        assert!(v(a.fc.bias.as_ref().unwrap().val()).iter().all(|&x| x == 0.0));
        let gamma = v(a.bn.gamma.val());
        assert!(gamma.iter().all(|&x| (x - 1.0).abs() < 0.1) && gamma.iter().any(|&x| x != 1.0), "{gamma:?}");
        assert!(v(a.bn.beta.val()).iter().all(|&x| x == 0.0));
        // Still trainable.
        assert!(crate::testing::device().is_autodiff() == a.fc.weight.val().is_require_grad());
    }
}
