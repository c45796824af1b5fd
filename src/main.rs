mod cli;

/// burn allocates a fresh buffer for almost every tensor op; glibc's malloc hands the large ones
/// back to the OS and faults them in again (a third of a VAE step's time went to page faults and
/// zeroing). mimalloc keeps them (docs/performance.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
