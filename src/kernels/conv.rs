//! 2-D convolution as whole-batch im2col and one matrix product per pass (docs/performance.md).
//!
//! burn's CPU backend lowers a convolution to a tiled im2col and a small `gemm` call per image,
//! and its backward pass to further convolutions over axis-swapped copies: the DCGAN's layers
//! ran at about half the machine's matmul speed. Here every pass is one large product. With
//! `X = patches(x)`, `[N·P, K]` (`P` output positions, `K = C·kh·kw`, taps channels last),
//! `Dy` the output (gradient) channels last, `[N·P, O]`, and the filter `w` as `[O, K]`:
//!
//! - forward:         `y = X · wᵀ`              ([`forward_from`])
//! - input gradient:  `dx = col2im(Dy · w)`     ([`adjoint_from`])
//! - filter gradient: `dw = Dyᵀ · X`            ([`filter_grad_from`])
//!
//! A transposed convolution is the mirror image of the same [`Geometry`]: its forward pass is
//! the adjoint, its input gradient the forward pass, and its filter gradient the same product
//! with input and output swapped. The pieces (`X`, `Dy`) are separate functions so that a
//! backward pass reuses what its forward pass made.
//!
//! Every output element is a sum in a fixed order, whatever the number of threads (tested), so
//! results are reproducible run to run.

use rayon::prelude::*;

use std::borrow::Cow;

use super::matmul::{Mat, affine, column_sums, matmul, overwritten};

/// The shape of a convolution from an input `[N, C, H, W]` to an output `[N, O, Ho, Wo]`
/// with a `kh × kw` filter, stride, zero padding and dilation (groups = 1), and the layout of
/// its activations: `[N, C, H, W]`, or `[N, H, W, C]` when `channels_last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub out: [usize; 2],
    /// Input and output (and their gradients) are `[N, H, W, C]`: the products' own layout,
    /// so no pass transposes them. Networks keep activations this way between layers.
    pub channels_last: bool,
}

impl Geometry {
    /// Output positions per image (`P`).
    pub fn positions(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// Filter taps per output channel (`K = C·kh·kw`).
    pub fn taps(&self) -> usize {
        self.c * self.kernel[0] * self.kernel[1]
    }

    pub fn input_len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }

    pub fn output_len(&self) -> usize {
        self.n * self.o * self.positions()
    }

    /// Input row of filter row `k` at output row `o`, if inside the image.
    #[inline(always)]
    fn source(&self, axis: usize, out: usize, k: usize) -> Option<usize> {
        let i = (out * self.stride[axis] + k * self.dilation[axis]).checked_sub(self.padding[axis])?;
        (i < [self.h, self.w][axis]).then_some(i)
    }
}

/// `x -> [N·P, K]`: row `n·P + p` holds the input values that output position `p` of image `n`
/// sees, taps ordered `(ky, kx, c)` so that each is one contiguous run of `C` channels, zero
/// where the filter hangs over the border. An `[N, C, H, W]` image is first laid out channels
/// last in a scratch buffer that stays in cache.
fn im2col(g: &Geometry, x: &[f32]) -> Vec<f32> {
    let (p, k, [_, kw], c, hw) = (g.positions(), g.taps(), g.kernel, g.c, g.h * g.w);
    let mut col = overwritten(g.n * p * k);
    col.par_chunks_mut(p * k).zip(x.par_chunks(c * hw)).for_each_init(
        || overwritten(c * hw),
        |scratch, (col, x)| {
            let x_last = if g.channels_last {
                x
            } else {
                transpose(x, c, hw, scratch);
                &scratch[..]
            };
            for (pos, row) in col.chunks_mut(k).enumerate() {
                let (oy, ox) = (pos / g.out[1], pos % g.out[1]);
                for (ky, row) in row.chunks_mut(kw * c).enumerate() {
                    let Some(iy) = g.source(0, oy, ky) else {
                        row.fill(0.0);
                        continue;
                    };
                    for (kx, tap) in row.chunks_mut(c).enumerate() {
                        match (g.source(1, ox, kx), c) {
                            // One channel (a network's input image): a plain store, not a memcpy call.
                            (Some(ix), 1) => tap[0] = x_last[iy * g.w + ix],
                            (Some(ix), _) => tap.copy_from_slice(&x_last[(iy * g.w + ix) * c..][..c]),
                            (None, _) => tap.fill(0.0),
                        }
                    }
                }
            }
        },
    );
    col
}

/// The adjoint of [`im2col`]: `[N·P, K] -> x`, each input position summing what every output
/// position that sees it was given, in a fixed order (channels last, in a scratch buffer that
/// is then transposed for `[N, C, H, W]`).
fn col2im(g: &Geometry, col: &[f32]) -> Vec<f32> {
    let (p, k, [kh, kw], c, hw) = (g.positions(), g.taps(), g.kernel, g.c, g.h * g.w);
    let mut x = overwritten(g.input_len());
    x.par_chunks_mut(c * hw).zip(col.par_chunks(p * k)).for_each_init(
        || overwritten(c * hw),
        |scratch, (x, col)| {
            let x_last = if g.channels_last { &mut x[..] } else { &mut scratch[..] };
            x_last.fill(0.0);
            for (pos, row) in col.chunks(k).enumerate() {
                let (oy, ox) = (pos / g.out[1], pos % g.out[1]);
                for ky in 0..kh {
                    let Some(iy) = g.source(0, oy, ky) else { continue };
                    for kx in 0..kw {
                        let Some(ix) = g.source(1, ox, kx) else { continue };
                        let dst = (iy * g.w + ix) * c;
                        for (d, s) in x_last[dst..dst + c].iter_mut().zip(&row[(ky * kw + kx) * c..][..c]) {
                            *d += s;
                        }
                    }
                }
            }
            if !g.channels_last {
                transpose(scratch, hw, c, x);
            }
        },
    );
    x
}

/// Each `rows × cols` block of `x` transposed: `[B, C, S] -> [B, S, C]` lays channels last,
/// `[B, S, C] -> [B, C, S]` puts them back.
fn transpose_blocks(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = overwritten(x.len());
    t.par_chunks_mut(rows * cols).zip(x.par_chunks(rows * cols)).for_each(|(t, x)| transpose(x, rows, cols, t));
    t
}

/// `dst = srcᵀ` for a row-major `rows × cols` `src`, through 8 × 8 tiles held in registers, so
/// that reads and writes both run along cache lines (element by element, every write touched a
/// new line). A DCGAN iteration transposes about 20 M values.
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32]) {
    const T: usize = 8;
    if rows == 1 || cols == 1 {
        dst.copy_from_slice(src);
        return;
    }
    let (whole_rows, whole_cols) = (rows / T * T, cols / T * T);
    for r0 in (0..whole_rows).step_by(T) {
        for c0 in (0..whole_cols).step_by(T) {
            let mut tile = [[0f32; T]; T];
            for (i, line) in tile.iter_mut().enumerate() {
                line.copy_from_slice(&src[(r0 + i) * cols + c0..][..T]);
            }
            for j in 0..T {
                let line = &mut dst[(c0 + j) * rows + r0..][..T];
                for (i, v) in line.iter_mut().enumerate() {
                    *v = tile[i][j];
                }
            }
        }
    }
    // The ragged right and bottom edges, element by element.
    for r in 0..rows {
        let first_col = if r < whole_rows { whole_cols } else { 0 };
        for c in first_col..cols {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

/// The input side of a convolution as the products read it: `im2col` of `x` channels last,
/// `[N·P, K]`. The forward pass makes it, and the filter gradient reuses it.
pub fn patches(g: &Geometry, x: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), g.input_len(), "convolution input and geometry differ");
    im2col(g, x)
}

/// The output side (`y` or its gradient) channels last, `[N·P, O]`.
pub fn outputs_last<'a>(g: &Geometry, y: &'a [f32]) -> Cow<'a, [f32]> {
    assert_eq!(y.len(), g.output_len(), "convolution output and geometry differ");
    match g.channels_last {
        true => y.into(),
        false => transpose_blocks(y, g.o, g.positions()).into(),
    }
}

/// `y = conv(x, w) + b` from `patches(x)`: `w` `[O, C, kh, kw]`, `b` `[O]` -> `y`.
pub fn forward_from(g: &Geometry, patches: &[f32], w: &[f32], b: Option<&[f32]>) -> Vec<f32> {
    let w_last = filter_taps_last(g, w);
    let (x_mat, w_mat) = (Mat::new(patches, g.n * g.positions(), g.taps()), Mat::new(&w_last, g.o, g.taps()).t());
    if g.channels_last {
        return affine(x_mat, w_mat, b);
    }
    let mut y = transpose_blocks(&matmul(x_mat, w_mat), g.positions(), g.o);
    if let Some(b) = b {
        add_per_channel(&mut y, b, g.positions());
    }
    y
}

/// The adjoint of the forward pass in `x`, from `dy` channels last (`outputs_last`), plus a
/// per-input-channel `b`: a convolution's input gradient, or a transposed convolution's output.
pub fn adjoint_from(g: &Geometry, dy_last: &[f32], w: &[f32], b: Option<&[f32]>) -> Vec<f32> {
    let dcol = matmul(Mat::new(dy_last, g.n * g.positions(), g.o), Mat::new(&filter_taps_last(g, w), g.o, g.taps()));
    let mut x = col2im(g, &dcol);
    match (b, g.channels_last) {
        (Some(b), true) => x.par_chunks_mut(b.len() * 1024).for_each(|rows| {
            rows.chunks_mut(b.len()).for_each(|row| row.iter_mut().zip(b).for_each(|(v, b)| *v += b))
        }),
        (Some(b), false) => add_per_channel(&mut x, b, g.h * g.w),
        (None, _) => {}
    }
    x
}

/// `dw` (`[O, C, kh, kw]`), the adjoint of the forward pass in `w`, from `patches(x)` and
/// `dy` channels last.
pub fn filter_grad_from(g: &Geometry, patches: &[f32], dy_last: &[f32]) -> Vec<f32> {
    let rows = g.n * g.positions();
    let dw = matmul(Mat::new(dy_last, rows, g.o).t(), Mat::new(patches, rows, g.taps()));
    transpose_blocks(&dw, g.kernel[0] * g.kernel[1], g.c)
}

/// A bias's gradient: the sum over images and positions of each channel of `[N, Ch, S]`, or
/// of `[N, S, Ch]` when `channels_last`.
pub fn channel_sums(y: &[f32], channels: usize, s: usize, channels_last: bool) -> Vec<f32> {
    if channels_last {
        return column_sums(y, channels);
    }
    let mut sums = vec![0f32; channels];
    for image in y.chunks(channels * s) {
        for (sum, plane) in sums.iter_mut().zip(image.chunks(s)) {
            *sum += plane.iter().sum::<f32>();
        }
    }
    sums
}

/// `y[n, ch, s] += b[ch]`.
fn add_per_channel(y: &mut [f32], b: &[f32], s: usize) {
    y.par_chunks_mut(b.len() * s).for_each(|image| {
        for (plane, b) in image.chunks_mut(s).zip(b) {
            plane.iter_mut().for_each(|v| *v += b);
        }
    });
}

/// `[O, C, kh, kw] -> [O, kh, kw, C]`, the tap order of [`im2col`].
fn filter_taps_last(g: &Geometry, w: &[f32]) -> Vec<f32> {
    assert_eq!(w.len(), g.o * g.taps(), "convolution filter and geometry differ");
    transpose_blocks(w, g.c, g.kernel[0] * g.kernel[1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pattern as values;

    /// Strided, padded, dilated and non-square: every branch of the index arithmetic.
    const ODD: Geometry =
        Geometry { n: 3, c: 5, h: 9, w: 8, o: 4, kernel: [4, 3], stride: [2, 1], padding: [1, 2], dilation: [1, 2], out: [4, 8], channels_last: false };

    /// The definition, summed in f64.
    fn direct(g: &Geometry, x: &[f32], w: &[f32]) -> Vec<f32> {
        let mut y = vec![0f32; g.output_len()];
        for n in 0..g.n {
            for o in 0..g.o {
                for oy in 0..g.out[0] {
                    for ox in 0..g.out[1] {
                        let mut s = 0f64;
                        for c in 0..g.c {
                            for ky in 0..g.kernel[0] {
                                for kx in 0..g.kernel[1] {
                                    if let (Some(iy), Some(ix)) = (g.source(0, oy, ky), g.source(1, ox, kx)) {
                                        let w = w[((o * g.c + c) * g.kernel[0] + ky) * g.kernel[1] + kx];
                                        s += (x[((n * g.c + c) * g.h + iy) * g.w + ix] * w) as f64;
                                    }
                                }
                            }
                        }
                        y[((n * g.o + o) * g.out[0] + oy) * g.out[1] + ox] = s as f32;
                    }
                }
            }
        }
        y
    }

    fn dot(a: &[f32], b: &[f32]) -> f64 {
        a.iter().zip(b).map(|(a, b)| *a as f64 * *b as f64).sum()
    }

    #[test]
    fn transpose_is_the_transpose() {
        for (rows, cols) in [(1, 5), (5, 1), (8, 8), (13, 21), (16, 9), (9, 16), (24, 40)] {
            let src = values(rows * cols, rows);
            let mut dst = vec![f32::NAN; rows * cols];
            transpose(&src, rows, cols, &mut dst);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(dst[c * rows + r], src[r * cols + c], "{rows} x {cols} at ({r}, {c})");
                }
            }
        }
    }

    #[test]
    fn forward_is_the_definition() {
        let (x, w) = (values(ODD.input_len(), 1), values(ODD.o * ODD.taps(), 2));
        let (got, want) = (forward_from(&ODD, &patches(&ODD, &x), &w, None), direct(&ODD, &x, &w));
        for (i, (g, v)) in got.iter().zip(&want).enumerate() {
            assert!((g - v).abs() < 1e-5, "output {i}: {g} vs {v}");
        }
    }

    /// `<conv(x, w), dy> = <x, input_grad(dy, w)> = <w, filter_grad(x, dy)>`: both gradients are
    /// the adjoints of the forward pass.
    #[test]
    fn gradients_are_adjoints_of_the_forward_pass() {
        let (x, w, dy) = (values(ODD.input_len(), 1), values(ODD.o * ODD.taps(), 2), values(ODD.output_len(), 3));
        let y_dy = dot(&forward_from(&ODD, &patches(&ODD, &x), &w, None), &dy);
        let x_dx = dot(&x, &adjoint_from(&ODD, &outputs_last(&ODD, &dy), &w, None));
        let w_dw = dot(&w, &filter_grad_from(&ODD, &patches(&ODD, &x), &outputs_last(&ODD, &dy)));
        assert!(y_dy.abs() > 1.0, "a degenerate check: {y_dy}");
        for other in [x_dx, w_dw] {
            assert!((other - y_dy).abs() < 1e-4 * y_dy.abs(), "{other} vs {y_dy}");
        }
    }

    /// Channels last, every pass gives the channels-first results with their axes moved
    /// (bias included), up to summation order.
    #[test]
    fn channels_last_is_the_same_convolution() {
        let last = Geometry { channels_last: true, ..ODD };
        let (hw, p) = (ODD.h * ODD.w, ODD.positions());
        let (x, w, b, dy) = (values(ODD.input_len(), 1), values(ODD.o * ODD.taps(), 2), values(ODD.o, 4), values(ODD.output_len(), 3));
        let (x_last, dy_last) = (transpose_blocks(&x, ODD.c, hw), transpose_blocks(&dy, ODD.o, p));
        let close = |got: &[f32], want: &[f32]| crate::testing::assert_close(got, want, 1e-5);
        let (col, col_last) = (patches(&ODD, &x), patches(&last, &x_last));
        assert_eq!(col, col_last);
        close(&forward_from(&last, &col_last, &w, Some(&b)), &transpose_blocks(&forward_from(&ODD, &col, &w, Some(&b)), ODD.o, p));
        let b_in = values(ODD.c, 5);
        close(
            &adjoint_from(&last, &outputs_last(&last, &dy_last), &w, Some(&b_in)),
            &transpose_blocks(&adjoint_from(&ODD, &outputs_last(&ODD, &dy), &w, Some(&b_in)), ODD.c, hw),
        );
        close(&filter_grad_from(&last, &col_last, &outputs_last(&last, &dy_last)), &filter_grad_from(&ODD, &col, &outputs_last(&ODD, &dy)));
        close(&channel_sums(&dy_last, ODD.o, p, true), &channel_sums(&dy, ODD.o, p, false));
    }

    /// One thread or two, the same bits: the products split the work by output blocks only.
    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let g = Geometry { n: 4, c: 64, h: 14, w: 14, o: 128, kernel: [4, 4], stride: [2, 2], padding: [1, 1], dilation: [1, 1], out: [7, 7], channels_last: false };
        let (x, w, dy) = (values(g.input_len(), 1), values(g.o * g.taps(), 2), values(g.output_len(), 3));
        let all = || {
            let (col, dy) = (patches(&g, &x), outputs_last(&g, &dy));
            (forward_from(&g, &col, &w, None), adjoint_from(&g, &dy, &w, None), filter_grad_from(&g, &col, &dy))
        };
        let on = |threads: usize| rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(all);
        let bits = |(a, b, c): (Vec<f32>, Vec<f32>, Vec<f32>)| [a, b, c].map(|v| v.into_iter().map(f32::to_bits).collect::<Vec<_>>());
        assert_eq!(bits(on(1)), bits(on(2)));
        assert_eq!(bits(on(1)), bits(on(3)));
    }
}
