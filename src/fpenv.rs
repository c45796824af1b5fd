//! The floating-point environment every computing thread runs in: subnormal numbers flushed to
//! zero.
//!
//! Why: x86 CPUs run arithmetic on subnormal operands (nonzero, below `f32::MIN_POSITIVE`, about
//! 1.2e-38) in microcode, many times slower. Late in a long run some activations and gradients
//! sink that low, and the matrix products' inner kernel slows down: 200 steps of the
//! semi-supervised VAE from step 5,873 took 90.8 s, and 21.5 s with the flush, the weights
//! bit-identical (docs/performance.md). The flush sets values below 1.2e-38 in magnitude to 0,
//! and such a value added to anything of normal size changes nothing.
//!
//! The mode belongs to a thread, and a new thread starts with its creator's (POSIX threads
//! inherit the floating-point environment). So the `unigen` command sets it first thing on its
//! main thread and every thread it starts has it; workers of a [`pool`] set it themselves
//! wherever the pool is built. A program using the library gets the same arithmetic by calling
//! [`flush_subnormals`] before it starts threads, or by building its pools with [`pool`]. On CPUs
//! other than x86-64 and AArch64 nothing is set ([`flushes_subnormals`] says so).

/// Sets this thread to flush subnormal results to zero and to read subnormal operands as zero
/// (x86-64: MXCSR's FTZ and DAZ bits; AArch64: FPCR's FZ bit, which does both).
pub fn flush_subnormals() {
    #[cfg(target_arch = "x86_64")]
    {
        const FTZ: u32 = 1 << 15;
        const DAZ: u32 = 1 << 6;
        let mut csr: u32 = 0;
        // SAFETY: reads and writes this thread's SSE control register, changing only the two
        // flush bits; `_mm_setcsr` is deprecated in favour of exactly this inline assembly.
        unsafe {
            std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack));
            csr |= FTZ | DAZ;
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly));
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        const FZ: u64 = 1 << 24;
        // SAFETY: reads and writes this thread's floating-point control register, changing only
        // the flush bit.
        unsafe {
            let mut fpcr: u64;
            std::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack));
            fpcr |= FZ;
            std::arch::asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack));
        }
    }
}

/// Whether arithmetic on this thread flushes subnormal numbers to zero: measured, not read from
/// the register, so it is false wherever [`flush_subnormals`] cannot set the mode.
pub fn flushes_subnormals() -> bool {
    let tiny = std::hint::black_box(f32::MIN_POSITIVE);
    // Half of the smallest normal number is subnormal: kept as such, or flushed to 0.
    std::hint::black_box(tiny * std::hint::black_box(0.5)) == 0.0
}

/// A rayon pool builder whose workers flush subnormals ([`flush_subnormals`]) before their first
/// job; set the thread count, stack size and the rest on it as usual.
pub fn pool() -> rayon::ThreadPoolBuilder {
    rayon::ThreadPoolBuilder::new().start_handler(|_| flush_subnormals())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh thread keeps subnormals (the default mode: the test harness's threads are not set),
    /// flushes them once set, and every worker of a [`pool`] flushes them from its first job.
    #[test]
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    fn the_flush_is_set_per_thread_and_on_every_pool_worker() {
        std::thread::spawn(|| {
            assert!(!flushes_subnormals(), "a new thread flushes subnormals before being set");
            flush_subnormals();
            assert!(flushes_subnormals(), "set, the thread still produces a subnormal");
            // Operands too: a subnormal input reads as 0 (DAZ on x86-64).
            let sub = std::hint::black_box(f32::from_bits(1));
            assert_eq!(std::hint::black_box(sub * std::hint::black_box(2.0)), 0.0);
        })
        .join()
        .unwrap();
        let pool = pool().num_threads(3).build().unwrap();
        let flushing = pool.broadcast(|_| flushes_subnormals());
        assert_eq!(flushing, vec![true; 3], "a worker of the pool does not flush");
    }
}
