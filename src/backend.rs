//! Which device tensors live on. The pure-Rust CPU backend is the default; GPU backends are
//! cargo features (`cuda`, `wgpu`).

use burn::tensor::Device;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Backend {
    /// burn's pure-Rust CPU backend (always built).
    #[default]
    Flex,
    /// NVIDIA GPU through CUDA (build with `--features cuda`).
    Cuda,
    /// Any GPU through wgpu: Vulkan, Metal or DX12 (build with `--features wgpu`).
    Wgpu,
}

impl Backend {
    /// The plain (inference) device; training adds autodiff with `.autodiff()`.
    pub fn device(self) -> Result<Device> {
        match self {
            Backend::Flex => Ok(Device::flex()),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Ok(Device::cuda(0usize)),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::default())),
            #[allow(unreachable_patterns)]
            other => Err(Error::Invalid(format!(
                "this unigen was built without the {other:?} backend; rebuild with `cargo build --release --features {}`",
                format!("{other:?}").to_lowercase()
            ))),
        }
    }
}

/// Whether `device` (with or without autodiff) is the CPU backend, where unigen runs its fused
/// kernels ([`crate::kernels`]) instead of chains of tensor ops.
pub fn is_cpu(device: &Device) -> bool {
    #[cfg(feature = "flex")]
    if let burn_dispatch::DispatchDevice::Flex(_) = device.as_dispatch().clone().inner() {
        return true;
    }
    let _ = device;
    false
}

/// A module whose initial weights are drawn from `seed`: `init` runs right after seeding the
/// device, and every parameter is drawn before the lock is let go.
///
/// Why both: the device's random generator is one for every thread using the device, and burn
/// draws a parameter lazily, when it is first read. A draw made outside the lock on another
/// thread, even one for weights about to be replaced by a file's, takes numbers from the middle
/// of a seeded stream, and a parameter first read after the lock is gone takes them from
/// whatever stream is current then: either way the initial weights depend on timing (tests
/// running side by side hit both). So every draw from the device's generator goes through here.
pub fn seeded<M: burn::module::Module>(seed: u64, device: &burn::tensor::Device, init: impl FnOnce() -> M) -> M {
    use burn::module::{ModuleVisitor, Param};
    struct DrawNow;
    impl ModuleVisitor for DrawNow {
        fn visit_float<const D: usize>(&mut self, param: &Param<burn::Tensor<D>>) {
            let _ = param.val();
        }
    }
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    let module = init();
    module.visit(&mut DrawNow);
    module
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cpu_backend_is_recognised_with_and_without_autodiff() {
        assert!(super::is_cpu(&burn::tensor::Device::flex()));
        assert!(super::is_cpu(&burn::tensor::Device::flex().autodiff()));
    }
}
