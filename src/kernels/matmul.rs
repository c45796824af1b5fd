//! Matrix products through the `gemm` crate (the one burn's CPU backend uses), called directly so
//! that transposed operands are strided views instead of copies and an output can start from a
//! bias. `gemm` splits the output, never the inner dimension, across threads, so each element
//! is summed in the same order on any number of threads (tested in `kernels::conv`).

use gemm::{Parallelism, gemm};

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
pub(crate) fn product(a: Mat, b: Mat, c: &mut [f32], accumulate: bool) {
    let ((m, k, a_cs, a_rs), (k2, n, b_cs, b_rs)) = (a.view(), b.view());
    assert_eq!(k, k2, "inner dimensions differ");
    assert_eq!(c.len(), m * n, "product and output differ in size");
    let threads = rayon::current_num_threads();
    let par = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
    let alpha = if accumulate { 1.0 } else { 0.0 };
    // SAFETY: the views describe in-bounds strided matrices of `a.data`, `b.data` (checked
    // lengths in `Mat::new`), and `c` is an `m × n` buffer (checked) that aliases neither.
    unsafe {
        gemm(
            m, n, k, c.as_mut_ptr(), 1, n as isize, accumulate, a.data.as_ptr(), a_cs, a_rs, b.data.as_ptr(), b_cs, b_rs,
            alpha, 1.0, false, false, false, par,
        )
    };
}
