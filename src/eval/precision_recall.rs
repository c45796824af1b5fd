//! Precision and recall of a sample distribution (Kynkäänniemi et al. 2019) in a feature space.
//! Each set's manifold is the union of balls around its points, each ball reaching the point's
//! k-th nearest neighbour in the same set. Precision: the share of generated points inside the
//! real manifold (are samples realistic?). Recall: the share of real points inside the generated
//! manifold (is all of the data covered?).

use burn::tensor::{Device, Tensor};

use crate::host::{host, tensor};

/// Neighbours that set a ball's radius, as in the paper.
pub const K: usize = 3;
/// Query rows per distance block: bounds memory to `ROWS x n` distances.
const ROWS: usize = 1000;

/// `(precision, recall)` of `fake` against `real`, both `[n, dim]` row-major.
pub fn precision_recall(real: &[f32], fake: &[f32], dim: usize, k: usize, device: &Device) -> (f64, f64) {
    let real_radii = radii(real, dim, k, device);
    let fake_radii = radii(fake, dim, k, device);
    (inside(fake, real, &real_radii, dim, device), inside(real, fake, &fake_radii, dim, device))
}

/// Squared distances from each row of `a` to each row of `b`, in blocks of rows of `a`.
fn for_each_block(a: &[f32], b: &[f32], dim: usize, device: &Device, mut f: impl FnMut(&[f32], usize)) {
    let nb = b.len() / dim;
    let bt = tensor(b.to_vec(), [nb, dim], device);
    let b_sq = bt.clone().powi_scalar(2).sum_dim(1).reshape([1, nb]);
    let bt = bt.transpose();
    for block in a.chunks(ROWS * dim) {
        let rows = block.len() / dim;
        let at = tensor(block.to_vec(), [rows, dim], device);
        let a_sq = at.clone().powi_scalar(2).sum_dim(1);
        let d: Tensor<2> = a_sq + b_sq.clone() - at.matmul(bt.clone()).mul_scalar(2.0);
        f(&host(d.clamp_min(0.0)), nb);
    }
}

/// The squared distance of each point to its `k`-th nearest other point of the same set.
fn radii(x: &[f32], dim: usize, k: usize, device: &Device) -> Vec<f32> {
    let n = x.len() / dim;
    assert!(n > k, "precision/recall needs more than k = {k} points per set");
    let mut out = Vec::with_capacity(n);
    for_each_block(x, x, dim, device, |d, nb| {
        for row in d.chunks_exact(nb) {
            let mut row = row.to_vec();
            // Index k, not k - 1: the point itself is its own nearest neighbour at distance 0.
            let (_, kth, _) = row.select_nth_unstable_by(k, f32::total_cmp);
            out.push(*kth);
        }
    });
    out
}

/// The share of `query` points inside at least one ball of `set` (centres `set`, squared radii).
fn inside(query: &[f32], set: &[f32], radii: &[f32], dim: usize, device: &Device) -> f64 {
    let mut hits = 0usize;
    for_each_block(query, set, dim, device, |d, nb| {
        hits += d.chunks_exact(nb).filter(|row| row.iter().zip(radii).any(|(dist, r)| dist <= r)).count();
    });
    hits as f64 / (query.len() / dim) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::normals;
    use crate::rng::{Purpose, stream};

    /// `n` points around the centres `modes` (2-D, std 0.05).
    fn cloud(modes: &[[f32; 2]], n: usize, seed: u64) -> Vec<f32> {
        let noise = normals(&mut stream(seed, Purpose::Toy, 0), 2 * n);
        (0..n).flat_map(|i| { let m = modes[i % modes.len()]; [m[0] + 0.05 * noise[2 * i], m[1] + 0.05 * noise[2 * i + 1]] }).collect()
    }

    #[test]
    fn same_distribution_scores_high_and_disjoint_scores_zero() {
        let dev = crate::testing::device();
        let modes = [[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]];
        let (p, r) = precision_recall(&cloud(&modes, 800, 1), &cloud(&modes, 800, 2), 2, K, &dev);
        assert!(p > 0.9 && r > 0.9, "{p} {r}");
        let far = [[50.0, 50.0]];
        let (p, r) = precision_recall(&cloud(&modes, 800, 1), &cloud(&far, 800, 2), 2, K, &dev);
        assert_eq!((p, r), (0.0, 0.0));
    }

    #[test]
    fn dropping_modes_costs_recall_not_precision() {
        let dev = crate::testing::device();
        let modes = [[0.0, 0.0], [5.0, 0.0], [0.0, 5.0], [5.0, 5.0]];
        let (p, r) = precision_recall(&cloud(&modes, 800, 1), &cloud(&modes[..2], 800, 2), 2, K, &dev);
        assert!(p > 0.9, "samples on real modes are precise: {p}");
        assert!((r - 0.5).abs() < 0.06, "half the modes, half the recall: {r}");
    }
}
