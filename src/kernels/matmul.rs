//! Matrix products through the `gemm` crate (the one burn's CPU backend uses), called directly so
//! that transposed operands are strided views instead of copies and an output can start from a
//! bias. Threads split the output, never the inner dimension, so each element is summed in the
//! same order on any number of threads (tested here and in `kernels::conv`).

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
    match bias {
        Some(bias) => c.chunks_mut(cols).for_each(|row| row.copy_from_slice(bias)),
        None => c.fill(0.0),
    }
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
/// On several threads the rows of `c` are split into one block per thread, each a one-thread
/// `gemm` call. On two threads `gemm`'s own split ran the batch-100 products 0.58-1.09 times the
/// speed of one thread, row blocks 1.45-1.69 times (`examples/gemm_threads.rs`,
/// docs/performance.md). Each element is the same sum in the same order either way
/// ([`row_blocks`] says when a split could change it, and does not split then).
pub(crate) fn product(a: Mat, b: Mat, c: &mut [f32], accumulate: bool) {
    let ((m, k, a_cs, a_rs), (k2, n, b_cs, b_rs)) = (a.view(), b.view());
    assert_eq!(k, k2, "inner dimensions differ");
    assert_eq!(c.len(), m * n, "product and output differ in size");
    let threads = rayon::current_num_threads();
    let alpha = if accumulate { 1.0 } else { 0.0 };
    // SAFETY (both calls): the views describe in-bounds strided matrices of `a.data`, `b.data`
    // (checked lengths in `Mat::new`); `c` (or a block of whole rows of it) is the output's
    // buffer (checked) and aliases neither. A block of rows `r0..` of `a` starts `r0 * a_rs`
    // elements in, inside `a.data`.
    let call = |rows: usize, a_ptr: *const f32, c: &mut [f32], par: Parallelism| unsafe {
        gemm(rows, n, k, c.as_mut_ptr(), 1, n as isize, accumulate, a_ptr, a_cs, a_rs, b.data.as_ptr(), b_cs, b_rs, alpha, 1.0, false, false, false, par)
    };
    match row_blocks(m, n, k, threads) {
        Some(block) => c.par_chunks_mut(block * n).enumerate().for_each(|(i, c)| {
            let a_ptr = a.data.as_ptr().wrapping_offset((i * block) as isize * a_rs);
            call(c.len() / n, a_ptr, c, Parallelism::None)
        }),
        None if threads > 1 => call(m, a.data.as_ptr(), c, Parallelism::Rayon(threads)),
        None => call(m, a.data.as_ptr(), c, Parallelism::None),
    }
}

/// The rows of each block when an `m x k` by `k x n` product is split over `threads`, or `None`
/// to leave it whole. Blocks keep at least 16 rows. A split must not change how `gemm` sums an
/// element, and in gemm 0.19 only one choice depends on the output's shape: products with both
/// sides of the output at most 64 sum the inner dimension in blocks of 512, larger ones in
/// blocks of about equal size (784 = 392 + 392). The two agree when `k <= 512` (one block),
/// and otherwise a split is made only where the blocks stay on the whole product's side of 64.
/// Outputs at most 16 columns wide are not split: `gemm` runs some of them through other
/// kernels, chosen by the rows too, and before this rule 79 of about 10,000 products of a grid of
/// shapes changed bits when split, all 16 columns wide or less (the tests below run a grid).
fn row_blocks(m: usize, n: usize, k: usize, threads: usize) -> Option<usize> {
    const MIN_ROWS: usize = 16;
    let parts = threads.min(m / MIN_ROWS);
    if parts < 2 || n <= 16 {
        return None;
    }
    let block = m.div_ceil(parts);
    let small = |rows: usize| rows <= 64 && n <= 64;
    // The last block is the smallest; every block is at most `block` rows.
    let last = m - block * (m.div_ceil(block) - 1);
    (k <= 512 || (small(m) == small(block) && small(m) == small(last))).then_some(block)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len as u32).map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 2001) as f32 / 1000.0 - 1.0).collect()
    }

    /// Row blocks on several threads give every element the bits of one `gemm` call on one
    /// thread, over a grid of shapes (inner dimensions on both sides of 512, outputs on both
    /// sides of 16 and 64 columns), plain and transposed operands, accumulating and not.
    #[test]
    fn products_split_into_row_blocks_keep_the_bits_of_one_call() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let mut split_seen = 0;
        for m in [32, 50, 65, 100, 129, 500, 10_000] {
            for k in [1, 2, 3, 10, 100, 500, 513, 784, 1000] {
                for n in [1, 2, 10, 16, 17, 32, 65, 100, 784] {
                    for (ta, tb, accumulate) in [(false, false, false), (true, false, true), (false, true, true), (true, true, false)] {
                        let (a_data, b_data) = (values(m * k, 1), values(k * n, 2));
                        let a = if ta { Mat::new(&a_data, k, m).t() } else { Mat::new(&a_data, m, k) };
                        let b = if tb { Mat::new(&b_data, n, k).t() } else { Mat::new(&b_data, k, n) };
                        let start = values(m * n, 3);
                        let (mut whole, mut split) = (start.clone(), start);
                        one.install(|| product(a, b, &mut whole, accumulate));
                        pool.install(|| product(a, b, &mut split, accumulate));
                        split_seen += usize::from(row_blocks(m, n, k, 3).is_some());
                        let same = whole.iter().zip(&split).all(|(x, y)| x.to_bits() == y.to_bits());
                        assert!(same, "{m}x{k}x{n} (transposed {ta}, {tb}; accumulate {accumulate}): the split changed a value");
                    }
                }
            }
        }
        assert!(split_seen >= 500, "too few of the shapes were split ({split_seen}): the test would not test the split");
    }

    /// The rule itself: no block under 16 rows, no output of 16 columns or fewer, and no split that
    /// moves the output across `gemm`'s 64 x 64 line when the inner dimension is summed in more
    /// than one block.
    #[test]
    fn row_blocks_split_only_where_the_sums_stay_the_same() {
        assert_eq!(row_blocks(100, 500, 784, 2), Some(50));
        assert_eq!(row_blocks(100, 500, 784, 1), None);
        assert_eq!(row_blocks(31, 500, 100, 2), None, "blocks of 15 rows");
        assert_eq!(row_blocks(100, 50, 100, 2), Some(50), "k = 100 is one block of the inner dimension");
        assert_eq!(row_blocks(100, 50, 784, 2), None, "100 x 50 sums 784 as 392 + 392, a 50 x 50 block as 512 + 272");
        assert_eq!(row_blocks(40, 50, 784, 2), Some(20), "both small: 512 + 272 either way");
        assert_eq!(row_blocks(1000, 17, 2048, 4), Some(250));
        assert_eq!(row_blocks(1000, 16, 100, 4), None, "16 columns or fewer");
    }
}
