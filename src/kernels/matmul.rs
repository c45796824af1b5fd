//! Matrix products through the `gemm` crate (the one burn's CPU backend uses), called directly so
//! that transposed operands are strided views instead of copies and an output can start from a
//! bias. Threads split the output, never the inner dimension, and the inner dimension is cut in
//! blocks no CPU's cache chooses ([`depth_block`]), so each element is summed in the same order
//! on any number of threads and whatever the CPU's caches (tested here and in `kernels::conv`).
//! Small, one-row and one-column products of dot-product layout, which `gemm` would sum across
//! the CPU's vector lanes, are summed here in order ([`Dots`]), so that AVX2 and AVX-512 CPUs
//! agree on them too.

use gemm::{Parallelism, gemm};
use rayon::prelude::*;

/// A buffer of `len` values whose every element its caller writes before anything reads it:
/// zero-filling the large im2col buffers first cost about 7% of a DCGAN iteration.
#[allow(clippy::uninit_vec)]
pub(crate) fn overwritten(len: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(len);
    // SAFETY: every f32 bit pattern is valid, and each caller writes every element before
    // reading it.
    unsafe { v.set_len(len) };
    v
}

/// A row-major `rows × cols` matrix, or the transpose of one.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    transposed: bool,
}

impl<'a> Mat<'a> {
    pub(crate) fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert_eq!(data.len(), rows * cols, "matrix data and shape differ");
        Self { data, rows, cols, transposed: false }
    }

    pub(crate) fn t(self) -> Self {
        Self { transposed: !self.transposed, ..self }
    }

    /// (rows, cols, column stride, row stride) as the product sees it.
    fn view(&self) -> (usize, usize, isize, isize) {
        match self.transposed {
            false => (self.rows, self.cols, 1, self.cols as isize),
            true => (self.cols, self.rows, self.cols as isize, 1),
        }
    }
}

/// `a · b`, row-major, on all cores.
pub(crate) fn matmul(a: Mat, b: Mat) -> Vec<f32> {
    let mut c = overwritten(a.view().0 * b.view().1);
    product(a, b, &mut c, false); // `gemm` does not read `c` when not accumulating
    c
}

/// `a · b + bias` with `bias` added to every row (zeros without one): the bias is the product's
/// starting value, so no second pass adds it.
pub(crate) fn affine(a: Mat, b: Mat, bias: Option<&[f32]>) -> Vec<f32> {
    let (rows, cols) = (a.view().0, b.view().1);
    let mut c = overwritten(rows * cols);
    // On all cores: a batch of 640 decoder rows is a 2 MB copy.
    c.par_chunks_mut(super::rows_per_task(cols) * cols).for_each(|c| match bias {
        Some(bias) => c.chunks_mut(cols).for_each(|row| row.copy_from_slice(bias)),
        None => c.fill(0.0),
    });
    product(a, b, &mut c, true);
    c
}

/// The sum of each column of a row-major matrix `cols` wide: a bias's gradient.
pub(crate) fn column_sums(m: &[f32], cols: usize) -> Vec<f32> {
    let mut sums = vec![0f32; cols];
    m.chunks(cols).for_each(|row| sums.iter_mut().zip(row).for_each(|(s, v)| *s += v));
    sums
}

/// `c = a · b`, or `c += a · b` when `accumulate`, with `c` row-major.
///
/// On several threads the output is split into one block per thread, each block a one-thread
/// `gemm` call. On two threads `gemm`'s own split ran the batch-100 products 0.58-1.09 times the
/// speed of one thread, row blocks 1.45-1.69 times (`examples/gemm_threads.rs`). Each thread
/// reads and packs all of the operand on the side it keeps. Column blocks, where each thread
/// packs only its share of the weights, made the VAE step 9% faster than row blocks; but with a
/// convolution's 32,000 patch rows times 64 filters they had each thread pack all of its 100 MB
/// of patches, and the classifier ran 0.71 times as fast. So columns are split unless `a` is both
/// the longer side and too large to share from cache ([`LARGE`]), and rows then
/// (docs/performance.md). Each element is the same sum in the same order either way
/// ([`blocks`] says when a split could change it, and does not split then).
pub(crate) fn product(a: Mat, b: Mat, c: &mut [f32], accumulate: bool) {
    product_on(threads(), a, b, c, accumulate)
}

thread_local! {
    /// The threads this thread's products may split over inside [`side_by_side`] (`None`: all).
    static SHARE: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// The threads a product started here may use.
fn threads() -> usize {
    SHARE.get().unwrap_or_else(rayon::current_num_threads)
}

/// `(f(), g())` side by side, the threads shared between them (each `None` where not wanted,
/// and then the other alone on all threads): a layer's input and weight gradients, products of
/// equal arithmetic. On two threads each product is then one call on its own thread, and no
/// operand is packed by both threads, as it is when each product is split in turn. Products
/// keep their bits whatever the split ([`blocks`]).
pub(crate) fn side_by_side<A: Send, B: Send>(f: Option<impl FnOnce() -> A + Send>, g: Option<impl FnOnce() -> B + Send>) -> (Option<A>, Option<B>) {
    let all = threads();
    let (f, g) = match (f, g) {
        (Some(f), Some(g)) if all > 1 => (f, g),
        (f, g) => return (f.map(|f| f()), g.map(|g| g())),
    };
    fn with_share<T>(share: usize, f: impl FnOnce() -> T) -> T {
        let before = SHARE.replace(Some(share));
        let out = f();
        SHARE.set(before);
        out
    }
    let (a, b) = rayon::join(|| with_share(all / 2, f), || with_share(all - all / 2, g));
    (Some(a), Some(b))
}

/// [`product`] split over `threads`.
fn product_on(threads: usize, a: Mat, b: Mat, c: &mut [f32], accumulate: bool) {
    let ((m, k, a_cs, a_rs), (k2, n, b_cs, b_rs)) = (a.view(), b.view());
    assert_eq!(k, k2, "inner dimensions differ");
    assert_eq!(c.len(), m * n, "product and output differ in size");
    if k > 0 && a_cs == 1 && b_rs == 1 && (m * n <= 256 || m == 1 || n == 1) {
        let dots = Dots { a: a.data, a_rs: a_rs as usize, b: b.data, b_cs: b_cs as usize, k, n, accumulate };
        return dots.compute(threads, c);
    }
    let depth = depth_block(m, k, n);
    // `rows x cols` of the output from `out` (row stride `n`), rows of `a` from `a_ptr`, columns
    // of `b` from `b_ptr`; the inner dimension in blocks of `depth`, each added to the output.
    let call = |rows: usize, cols: usize, out: *mut f32, a_ptr: *const f32, b_ptr: *const f32, par: Parallelism| {
        // One call at least: with `k = 0` it is the call that zeroes (or keeps) the output.
        for d0 in (0..k.max(1)).step_by(depth) {
            let read = accumulate || d0 > 0;
            let alpha = if read { 1.0 } else { 0.0 };
            let (a_ptr, b_ptr) = (a_ptr.wrapping_offset(d0 as isize * a_cs), b_ptr.wrapping_offset(d0 as isize * b_rs));
            // SAFETY: the views describe in-bounds strided matrices of `a.data`, `b.data` (checked
            // lengths in `Mat::new`), `c` holds the `m x n` output (checked) and aliases neither,
            // and every caller below passes a block inside them: rows `r0..` of `a` start
            // `r0 * a_rs` in, columns `j0..` of `b` start `j0 * b_cs` in, block `(r0, j0)` of `c`
            // starts `r0 * n + j0` in, and depth `d0..d0 + depth.min(k - d0)` of both is inside `k`.
            unsafe { gemm(rows, cols, depth.min(k - d0), out, 1, n as isize, read, a_ptr, a_cs, a_rs, b_ptr, b_cs, b_rs, alpha, 1.0, false, false, false, par) }
        }
    };
    let (width, height) = split(m, k, n, threads);
    if let Some(width) = width {
        /// The output's address, shared by the threads that each write their own columns of it.
        #[derive(Clone, Copy)]
        struct Out(*mut f32);
        // SAFETY: each thread writes a disjoint set of columns through it, and `c` outlives them.
        unsafe impl Send for Out {}
        unsafe impl Sync for Out {}
        let out = Out(c.as_mut_ptr());
        (0..n.div_ceil(width)).into_par_iter().for_each(|i| {
            let (out, j0) = (out, i * width);
            let b_ptr = b.data.as_ptr().wrapping_offset(j0 as isize * b_cs);
            call(m, width.min(n - j0), out.0.wrapping_add(j0), a.data.as_ptr(), b_ptr, Parallelism::None)
        });
    } else if let Some(height) = height {
        c.par_chunks_mut(height * n).enumerate().for_each(|(i, c)| {
            let a_ptr = a.data.as_ptr().wrapping_offset((i * height) as isize * a_rs);
            call(c.len() / n, n, c.as_mut_ptr(), a_ptr, b.data.as_ptr(), Parallelism::None)
        });
    } else {
        let par = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
        call(m, n, c.as_mut_ptr(), a.data.as_ptr(), b.data.as_ptr(), par);
    }
}

/// A product whose every element is the dot product of two contiguous rows: row `i` of `a` from
/// `a[i * a_rs]`, column `j` of `b` from `b[j * b_cs]`, each `k` long. `gemm` 0.19 gives such
/// products, when small (at most 256 outputs) or one row or one column wide (a discriminator's
/// last layer), to kernels that split each dot product across the vector's lanes and add the
/// lanes at the end: 8 lanes with AVX2, 16 with AVX-512, so the same build rounded differently on
/// the two kinds of CPU. Here each element is one chain of fused multiply-adds from 0, in order,
/// then added to the output, as `gemm`'s main kernels sum each element: the same bits on every
/// CPU. Four chains run interleaved; these products are small, so a chain's latency is cheap.
#[derive(Clone, Copy)]
struct Dots<'a> {
    a: &'a [f32],
    a_rs: usize,
    b: &'a [f32],
    b_cs: usize,
    k: usize,
    n: usize,
    accumulate: bool,
}

impl Dots<'_> {
    /// `c = a · b`, or `c += a · b`, split by elements over `threads` where the work is large
    /// enough to share (each element is summed alone, so any split keeps the bits).
    fn compute(self, threads: usize, c: &mut [f32]) {
        if threads < 2 || c.len() < 2 || c.len() * self.k < 1 << 16 {
            return self.run(0, c);
        }
        let per = c.len().div_ceil(threads);
        c.par_chunks_mut(per).enumerate().for_each(|(i, c)| self.run(i * per, c));
    }

    /// Elements `first..first + c.len()` (row-major) of the product into `c`, with the CPU's
    /// fused multiply-add instruction when it has one (the same bits as without: `mul_add` is
    /// fused either way).
    fn run(self, first: usize, c: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports FMA, checked just above.
            return unsafe { self.run_fma(first, c) };
        }
        self.run_portable(first, c)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma")]
    unsafe fn run_fma(self, first: usize, c: &mut [f32]) {
        self.run_portable(first, c)
    }

    #[inline(always)]
    fn run_portable(self, first: usize, c: &mut [f32]) {
        let Dots { a, a_rs, b, b_cs, k, n, accumulate } = self;
        let rows = |e: usize| (&a[e / n * a_rs..][..k], &b[e % n * b_cs..][..k]);
        let write = |out: &mut f32, dot: f32| *out = if accumulate { *out + dot } else { dot };
        let done = first + c.len() / 4 * 4;
        let mut fours = c.chunks_exact_mut(4);
        for (t, out) in (&mut fours).enumerate() {
            let p: [(&[f32], &[f32]); 4] = std::array::from_fn(|r| rows(first + 4 * t + r));
            let mut acc = [0f32; 4];
            for d in 0..k {
                for r in 0..4 {
                    acc[r] = p[r].0[d].mul_add(p[r].1[d], acc[r]);
                }
            }
            out.iter_mut().zip(acc).for_each(|(out, dot)| write(out, dot));
        }
        for (t, out) in fours.into_remainder().iter_mut().enumerate() {
            let (x, y) = rows(done + t);
            write(out, x.iter().zip(y).fold(0f32, |acc, (x, y)| x.mul_add(*y, acc)));
        }
    }
}

/// The inner dimension's block for an `m x k` by `k x n` product: `gemm` 0.19 sums each element's
/// `k` terms in blocks, each added to the output in turn, and for outputs beyond 64 x 64 (and 256
/// elements) it sizes them from the CPU's L1 cache: blocks of at most 512 terms on the Zen 4 EPYC
/// and on the Xeon with AVX-512 kernels, of 1,024 with AVX2 kernels on the Xeon's 48 KB L1. The
/// same training then rounded differently there (docs/performance.md, "Determinism"). Such
/// products are cut here as `gemm` cuts them for 512, into equal blocks (784 = 392 + 392), each a
/// call that every CPU sums in one block. The rest stay one call: `gemm` gives small outputs
/// fixed blocks (512 terms; 1,024 for the smallest), and a one-row or one-column output goes
/// through its matrix-vector code: [`Dots`] where that would split the sums across vector lanes,
/// otherwise `gemm`'s column-wise code, which adds each term to its element in order with fused
/// multiply-adds, in the vector and in the scalar tail alike (read in gemm-common 0.19).
fn depth_block(m: usize, k: usize, n: usize) -> usize {
    if k <= 512 || m <= 1 || n <= 1 || m * n <= 256 || (m <= 64 && n <= 64) {
        return k.max(1);
    }
    k.div_ceil(k.div_ceil(512))
}

/// How `product` splits an `m x k` by `k x n` product over `threads`: column blocks of `width`
/// or row blocks of `height` (never both), or neither.
fn split(m: usize, k: usize, n: usize, threads: usize) -> (Option<usize>, Option<usize>) {
    match (blocks(n, m, k, threads, 32), blocks(m, n, k, threads, 16)) {
        (Some(_), Some(height)) if m > n && m * k > LARGE => (None, Some(height)),
        (Some(width), _) => (Some(width), None),
        split => split,
    }
}

/// Floats of `a` above which every thread packing all of it costs more than the column split
/// saves: 4 MiB, beyond a core's L2 on both machines this project runs on (the MLP training
/// steps' operands stay below it, the reference classifier's second convolution's patches are
/// about 100 MB).
const LARGE: usize = 1 << 20;

/// The size of each block when the output's side `len` long (its rows or its columns) is split
/// over `threads` and the other side, `other` long, is kept, or `None` to leave it whole. Blocks
/// keep at least `min` along the split side. A split must not change how `gemm` sums an element,
/// and in gemm 0.19 two choices depend on the output's shape. Outputs with both sides at most 64
/// sum the inner dimension in blocks of 512, larger ones in blocks of about equal size
/// (784 = 392 + 392): the two agree when `k <= 512` (one block), and otherwise a split is made
/// only where the blocks stay on the whole product's side of 64. And outputs with a side of 16
/// or less go through other kernels in some cases, chosen by the other side too: before this
/// rule, 79 of about 10,000 products of a grid of shapes changed bits when split into rows, all
/// 16 columns wide or less. So the kept side must be longer than 16, and column blocks are at
/// least 32 wide (the tests below run a grid).
fn blocks(len: usize, other: usize, k: usize, threads: usize, min: usize) -> Option<usize> {
    let parts = threads.min(len / min);
    if parts < 2 || other <= 16 {
        return None;
    }
    let block = len.div_ceil(parts);
    let small = |side: usize| side <= 64 && other <= 64;
    // The last block is the smallest; every block is at most `block` long.
    let last = len - block * (len.div_ceil(block) - 1);
    (k <= 512 || (small(len) == small(block) && small(len) == small(last))).then_some(block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pattern;

    /// Row and column blocks on several threads give every element the bits of one `gemm` call on
    /// one thread, over a grid of shapes (inner dimensions on both sides of 512, outputs on both
    /// sides of 16 and 64 rows and columns), plain and transposed operands, accumulating and not.
    #[test]
    fn products_split_into_blocks_keep_the_bits_of_one_call() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let (mut rows_split, mut cols_split) = (0, 0);
        for m in [1, 2, 10, 16, 17, 32, 50, 65, 100, 129, 500, 2000] {
            for k in [1, 2, 3, 10, 100, 500, 513, 784, 1000] {
                for n in [1, 2, 10, 16, 17, 32, 65, 100, 784] {
                    for (ta, tb, accumulate) in [(false, false, false), (true, false, true), (false, true, true), (true, true, false)] {
                        let (a_data, b_data) = (pattern(m * k, 1), pattern(k * n, 2));
                        let a = if ta { Mat::new(&a_data, k, m).t() } else { Mat::new(&a_data, m, k) };
                        let b = if tb { Mat::new(&b_data, n, k).t() } else { Mat::new(&b_data, k, n) };
                        let start = pattern(m * n, 3);
                        let (mut whole, mut split) = (start.clone(), start);
                        one.install(|| product(a, b, &mut whole, accumulate));
                        pool.install(|| product(a, b, &mut split, accumulate));
                        rows_split += usize::from(blocks(n, m, k, 3, 32).is_none() && blocks(m, n, k, 3, 16).is_some());
                        cols_split += usize::from(blocks(n, m, k, 3, 32).is_some());
                        let same = whole.iter().zip(&split).all(|(x, y)| x.to_bits() == y.to_bits());
                        assert!(same, "{m}x{k}x{n} (transposed {ta}, {tb}; accumulate {accumulate}): the split changed a value");
                    }
                }
            }
        }
        assert!(rows_split >= 100 && cols_split >= 500, "too few of the shapes were split ({rows_split} by rows, {cols_split} by columns): the test would not test the splits");
    }

    /// Side by side, each of two products has the bits of one call on one thread, on any number
    /// of threads (a layer's two gradients: `r · wᵀ` and `xᵀ · r`), and each side gets its share
    /// of the threads, restored after.
    #[test]
    fn products_side_by_side_keep_their_bits_and_share_the_threads() {
        let (m, k, n) = (130, 784, 500);
        let (r, w, x) = (pattern(m * n, 1), pattern(k * n, 2), pattern(m * k, 3));
        let dx = || (threads(), matmul(Mat::new(&r, m, n), Mat::new(&w, k, n).t()));
        let dw = || (threads(), matmul(Mat::new(&x, m, k).t(), Mat::new(&r, m, n)));
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let alone = one.install(|| (dx().1, dw().1));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (threads_in_pool, shares) in [(1, (1, 1)), (2, (1, 1)), (3, (1, 2)), (4, (2, 2))] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads_in_pool).build().unwrap();
            let (Some((share_x, x_grad)), Some((share_w, w_grad))) = pool.install(|| side_by_side(Some(dx), Some(dw))) else { unreachable!() };
            assert!(bits(&x_grad) == bits(&alone.0) && bits(&w_grad) == bits(&alone.1), "{threads_in_pool} threads changed a value");
            assert_eq!((share_x, share_w), shares, "{threads_in_pool} threads");
            assert_eq!(pool.install(threads), threads_in_pool, "the share outlived `side_by_side`");
        }
    }

    /// Every element is the portable sum, which no CPU's cache changes: each block of the inner
    /// dimension a chain of fused multiply-adds from 0, in order, added to the output in turn;
    /// blocks of [`depth_block`], or of 512 where `gemm` fixes them itself (outputs within 64 x 64).
    #[test]
    fn products_sum_in_blocks_no_cpu_chooses() {
        assert_eq!([784, 1000, 2048, 513, 512].map(|k| depth_block(128, k, 512)), [392, 500, 512, 257, 512]);
        assert_eq!(depth_block(50, 784, 50), 784, "gemm sums small outputs in blocks of 512 on every CPU");
        let mut c = vec![7.0; 100 * 100];
        product(Mat::new(&[], 100, 0), Mat::new(&[], 0, 100), &mut c, false);
        assert_eq!(c, vec![0.0; 100 * 100], "no terms: zeros, written");
        for (m, k, n) in [(128, 784, 512), (100, 1000, 100), (300, 600, 65), (640, 2048, 64), (50, 784, 50)] {
            let (a, b, start) = (pattern(m * k, 1), pattern(k * n, 2), pattern(m * n, 3));
            let mut c = start.clone();
            product(Mat::new(&a, m, k), Mat::new(&b, k, n), &mut c, true);
            let block = if m <= 64 && n <= 64 { 512 } else { depth_block(m, k, n) };
            for (i, j) in (0..m).flat_map(|i| (0..n).map(move |j| (i, j))) {
                let sum = (0..k).step_by(block).fold(start[i * n + j], |out, d0| {
                    out + (d0..k.min(d0 + block)).fold(0f32, |acc, d| a[i * k + d].mul_add(b[d * n + j], acc))
                });
                assert_eq!(c[i * n + j].to_bits(), sum.to_bits(), "{m}x{k}x{n}, element ({i}, {j})");
            }
        }
    }

    /// Products whose every element is the dot product of two contiguous rows (`a` as stored, `b`
    /// transposed) and that `gemm` 0.19 would give to its kernels that sum across the CPU's vector
    /// lanes (outputs of at most 256 elements, one row or one column; 8 lanes with AVX2, 16 with
    /// AVX-512): each element is one chain of fused multiply-adds from 0, in order, added to the
    /// output. Through `gemm` it failed on the AVX2-only EPYC at 1 x 300 x 1 (checked before
    /// [`Dots`]).
    #[test]
    fn dot_products_sum_in_order_on_every_cpu() {
        for (m, k, n) in [(1, 3, 1), (1, 300, 1), (100, 200, 1), (64, 4096, 1), (1000, 50, 1), (1, 50, 700), (16, 16, 16), (100, 200, 2), (3, 1500, 5), (2, 2, 2)] {
            for accumulate in [false, true] {
                let (a, b, start) = (pattern(m * k, 1), pattern(n * k, 2), pattern(m * n, 3));
                let mut c = start.clone();
                product(Mat::new(&a, m, k), Mat::new(&b, n, k).t(), &mut c, accumulate);
                for (i, j) in (0..m).flat_map(|i| (0..n).map(move |j| (i, j))) {
                    let dot = (0..k).fold(0f32, |acc, d| a[i * k + d].mul_add(b[j * k + d], acc));
                    let want = if accumulate { start[i * n + j] + dot } else { dot };
                    assert_eq!(c[i * n + j].to_bits(), want.to_bits(), "{m}x{k}x{n} (accumulate {accumulate}), element ({i}, {j})");
                }
            }
        }
    }

    /// Columns, unless `a` is the longer side and too large for both threads to pack it.
    #[test]
    fn a_large_left_operand_is_split_by_rows_not_packed_by_both_threads() {
        assert_eq!(split(128, 784, 512, 2), (Some(256), None), "a batch times a layer's weights");
        assert_eq!(split(784, 128, 512, 2), (Some(256), None), "a weight gradient: `a` is small");
        assert_eq!(split(32_000, 800, 64, 2), (None, Some(16_000)), "the classifier's patches");
        assert_eq!(split(32_000, 800, 20, 2), (None, Some(16_000)), "too narrow for columns");
        assert_eq!(split(2_000, 800, 4_000, 2), (Some(2_000), None), "wider than tall");
        assert_eq!(split(32_000, 800, 64, 1), (None, None), "one thread");
    }

    /// The rule itself: no block under the minimum, no kept side of 16 or fewer, and no split that
    /// moves the output across `gemm`'s 64 x 64 line when the inner dimension is summed in more
    /// than one block.
    #[test]
    fn blocks_split_only_where_the_sums_stay_the_same() {
        assert_eq!(blocks(100, 500, 784, 2, 16), Some(50));
        assert_eq!(blocks(500, 100, 784, 2, 32), Some(250));
        assert_eq!(blocks(100, 500, 784, 1, 16), None);
        assert_eq!(blocks(31, 500, 100, 2, 16), None, "blocks of 15");
        assert_eq!(blocks(100, 50, 100, 2, 16), Some(50), "k = 100 is one block of the inner dimension");
        assert_eq!(blocks(100, 50, 784, 2, 16), None, "100 x 50 sums 784 as 392 + 392, a 50 x 50 block as 512 + 272");
        assert_eq!(blocks(40, 50, 784, 2, 16), Some(20), "both small: 512 + 272 either way");
        assert_eq!(blocks(1000, 17, 2048, 4, 16), Some(250));
        assert_eq!(blocks(1000, 16, 100, 4, 16), None, "a kept side of 16 or fewer");
    }
}
