mod cli;

/// burn allocates a fresh buffer for almost every tensor op; glibc's malloc hands the large ones
/// back to the OS and faults them in again (a third of a VAE step's time went to page faults and
/// zeroing). mimalloc keeps them (docs/performance.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The whole command runs on a worker of its own rayon pool. Called from outside a pool, every
/// parallel op (each matmul, each kernel) hands all its work to sleeping workers and blocks until
/// they finish; called from a worker, it runs a share itself and wakes one thread fewer. On 2
/// cores that was 10-20% of a VAE step (docs/performance.md). The stack is the main thread's 8 MiB.
fn main() -> std::process::ExitCode {
    match rayon::ThreadPoolBuilder::new().stack_size(8 << 20).build() {
        Ok(pool) => pool.install(cli::main),
        Err(_) => cli::main(),
    }
}
