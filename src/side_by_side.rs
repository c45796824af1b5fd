//! Independent pieces of work side by side, each piece on one thread.
//!
//! Why: a matrix product split over two threads runs narrower blocks, packs its operands once per
//! block and waits at its end for the slower half; two whole products, one per core, each run at
//! one thread's full speed. Where a job is made of independent pieces (the forward passes of an
//! evaluation), giving each core whole pieces is faster than sharing every piece between the
//! cores (docs/performance.md, "`L_1000`: one pass per core"). A piece computes exactly what it
//! would alone, since unigen's kernels give the same bits on any number of threads, so the
//! results do not depend on how the pieces were shared out.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One-thread pools (workers flushing subnormals, like every thread of the command), as many as
/// the pool current at the first call has threads, or the machine cores if more; built once and
/// kept for the process.
fn pools() -> &'static [rayon::ThreadPool] {
    static POOLS: OnceLock<Vec<rayon::ThreadPool>> = OnceLock::new();
    POOLS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        // A pool that cannot be built leaves fewer (or none): the pieces then run on fewer threads.
        (0..rayon::current_num_threads().max(cores)).map_while(|_| crate::fpenv::pool().num_threads(1).stack_size(8 << 20).build().ok()).collect()
    })
}

/// `[f(0), ..., f(n - 1)]`, the pieces computed side by side on as many threads as the current
/// rayon pool has (`RAYON_NUM_THREADS`), each piece wholly on one of them, its own parallel ops
/// included. With one thread, or one piece, they run here in order.
pub fn map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let pools = pools();
    let threads = rayon::current_num_threads().min(pools.len()).min(n);
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return done;
            }
            done.push((i, f(i)));
        }
    };
    let mut done: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = pools[..threads].iter().map(|pool| s.spawn(|| pool.install(work))).collect();
        // A piece that panicked panics here, as it would have run in order.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pieces come back in order, each computed once, each on a one-thread pool whose worker
    /// flushes subnormals; with one thread they run in order on the caller's.
    #[test]
    fn pieces_come_back_in_order_each_on_one_thread() {
        let pool = crate::fpenv::pool().num_threads(3).build().unwrap();
        let out = pool.install(|| map(40, |i| (i * i, rayon::current_num_threads(), crate::fpenv::flushes_subnormals())));
        assert_eq!(out.iter().map(|o| o.0).collect::<Vec<_>>(), (0..40).map(|i| i * i).collect::<Vec<_>>());
        assert!(out.iter().all(|o| o.1 == 1), "a piece saw a pool of more than one thread");
        if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
            assert!(out.iter().all(|o| o.2), "a piece ran without the flush");
        }
        let one = crate::fpenv::pool().num_threads(1).build().unwrap();
        one.install(|| {
            let here = std::thread::current().id();
            assert!(map(3, |_| std::thread::current().id()).iter().all(|t| *t == here), "one thread: the pieces run on the caller's");
        });
    }
}
