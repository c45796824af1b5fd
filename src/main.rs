mod cli;

/// burn allocates a fresh buffer for almost every tensor op; glibc's malloc hands the large ones
/// back to the OS and faults them in again (a third of a VAE step's time went to page faults and
/// zeroing). mimalloc keeps them (docs/performance.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    /// mimalloc's `mi_option_set` (`mimalloc.h`, linked in through the `mimalloc` crate).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// mimalloc hands freed memory back to the OS 10 ms later by default, and the next large buffer
/// (an im2col, a product's output) then faults its pages in again, zeroing each: 7-8% of a
/// DCGAN iteration. Never purging keeps the process at its peak size, which a training run
/// reaches in its first step anyway. (DCGAN, alternating: faster in 7 of 9 pairs,
/// docs/performance.md.)
fn keep_freed_memory() {
    const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15; // the enum's 16th entry, in mimalloc v2 and v3
    // SAFETY: a plain setter of an integer option, called before any other thread exists.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// The whole command runs on a worker of the global rayon pool. Called from outside a pool, every
/// parallel op (each matmul, each kernel) hands all its work to sleeping workers and blocks until
/// they finish; called from a worker, it runs a share itself and wakes one thread fewer. On 2
/// cores that was 10-20% of a VAE step (docs/performance.md). The pool is the global one, so
/// threads the command starts itself (the demo's trainings) share its workers. Subnormal numbers
/// are flushed to zero (`fpenv`) from the start, so every thread inherits the mode. The stack is
/// the main thread's 8 MiB.
fn main() -> std::process::ExitCode {
    keep_freed_memory();
    unigen::fpenv::flush_subnormals();
    match unigen::fpenv::pool().stack_size(8 << 20).build_global() {
        // `scope` runs its body on a worker of the global pool.
        Ok(()) => rayon::scope(|_| cli::main()),
        Err(_) => cli::main(),
    }
}
