//! k-means clustering of a data set: Lloyd's iterations from k-means++ seeds (Arthur &
//! Vassilvitskii 2007). The clusters are what a GAN conditions on in place of labels it does not
//! have (`clusters = K`, self-conditioning: Liu et al. 2020), so it stays an unconditional model.
//!
//! Distances run on the device as one product `x cᵀ` a pass; the means are summed on the host in
//! f64, in example order, so a seed gives the same clusters every time.

use burn::tensor::{Device, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::host::{argmax_rows, host, tensor};
use crate::kernels::{Act, affine};

/// Lloyd's iterations stop here if the assignment still moves (it settles well before on MNIST).
pub const MAX_ITERATIONS: usize = 50;

/// The most clusters: an example's cluster is stored as its label, a byte.
pub const MAX_CLUSTERS: usize = 256;

/// `k` clusters of examples of `dim` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Clusters {
    pub k: usize,
    /// The clusters' means, `[k, dim]` row-major.
    pub centres: Vec<f32>,
    /// Each example's cluster, `0..k`.
    pub assignment: Vec<u8>,
    /// Lloyd's iterations run; below [`MAX_ITERATIONS`] the assignment stopped moving.
    pub iterations: usize,
}

impl Clusters {
    /// Each cluster's number of examples.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.k];
        self.assignment.iter().for_each(|&c| sizes[c as usize] += 1);
        sizes
    }

    /// Each cluster's share of the examples, `p(c)`.
    pub fn shares(&self) -> Vec<f32> {
        let n = self.assignment.len() as f64;
        self.sizes().into_iter().map(|s| (s as f64 / n) as f32).collect()
    }
}

/// `k` clusters of the `n = x.len() / dim` rows of `x` (1 <= k <= min(n, 256)), seeded by `rng`.
pub fn kmeans(x: &[f32], dim: usize, k: usize, rng: &mut ChaCha8Rng, device: &Device) -> Clusters {
    let n = x.len() / dim;
    assert!((1..=MAX_CLUSTERS.min(n)).contains(&k), "k = {k} clusters of {n} examples (the caller checks)");
    let rows = tensor(x.to_vec(), [n, dim], device);
    let mut centres = seeds(x, dim, k, &rows, rng, device);
    // ---- Lloyd: assign each example to its nearest centre, move each centre to its mean ----
    let mut assignment = Vec::new();
    let mut iterations = 0;
    while iterations < MAX_ITERATIONS {
        let next = nearest_centres(&rows, &centres, dim, device);
        iterations += 1;
        if next == assignment {
            break;
        }
        assignment = next;
        centres = means(x, dim, &assignment, &centres);
    }
    Clusters { k, centres, assignment, iterations }
}

/// k-means++ seeding: the first seed a uniform draw, each next drawn with probability
/// proportional to its squared distance to the nearest seed so far. `[k, dim]`.
fn seeds(x: &[f32], dim: usize, k: usize, rows: &Tensor<2>, rng: &mut ChaCha8Rng, device: &Device) -> Vec<f32> {
    let n = x.len() / dim;
    let mut centres = Vec::with_capacity(k * dim);
    let mut nearest = vec![f64::INFINITY; n];
    let mut pick = rng.random_range(0..n);
    loop {
        let c = &x[pick * dim..(pick + 1) * dim];
        centres.extend_from_slice(c);
        if centres.len() == k * dim {
            return centres;
        }
        let d2 = host((rows.clone() - tensor(c.to_vec(), [1, dim], device)).powi_scalar(2).sum_dim(1));
        nearest.iter_mut().zip(&d2).for_each(|(m, &d)| *m = m.min(d as f64));
        // The draw walks the cumulative mass; rounding that leaves it past the end takes the last.
        let mut u = rng.random::<f64>() * nearest.iter().sum::<f64>();
        pick = nearest
            .iter()
            .position(|&d| {
                u -= d;
                u < 0.0
            })
            .unwrap_or(n - 1);
    }
}

/// The nearest of the `[k, dim]` `centres` to each row: the largest `2 x·c - |c|²` (the squared
/// distance less `|x|²`, which every centre shares).
fn nearest_centres(rows: &Tensor<2>, centres: &[f32], dim: usize, device: &Device) -> Vec<u8> {
    let k = centres.len() / dim;
    let c = tensor(centres.to_vec(), [k, dim], device);
    let norms = c.clone().powi_scalar(2).sum_dim(1).reshape([1, k]);
    argmax_rows(&host(affine(rows.clone(), c.transpose(), None, Act::Identity) * 2.0 - norms), k)
}

/// Each cluster's mean; a cluster left empty keeps its centre.
fn means(x: &[f32], dim: usize, assignment: &[u8], centres: &[f32]) -> Vec<f32> {
    let k = centres.len() / dim;
    let mut sums = vec![0f64; k * dim];
    let mut counts = vec![0usize; k];
    for (row, &c) in x.chunks_exact(dim).zip(assignment) {
        let c = c as usize;
        counts[c] += 1;
        sums[c * dim..(c + 1) * dim].iter_mut().zip(row).for_each(|(s, &v)| *s += v as f64);
    }
    (0..k * dim).map(|i| if counts[i / dim] == 0 { centres[i] } else { (sums[i] / counts[i / dim] as f64) as f32 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Purpose, stream};

    /// Three well-separated blobs of different sizes (30, 20, 10 points, std 0.1 around corners
    /// 10 apart) and their index of origin.
    fn blobs() -> (Vec<f32>, Vec<usize>) {
        let corners = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)];
        let mut rng = stream(7, Purpose::Toy, 0);
        let mut x = Vec::new();
        let mut origin = Vec::new();
        for (b, &(cx, cy)) in corners.iter().enumerate() {
            for _ in 0..30 - 10 * b {
                let e = crate::host::normals(&mut rng, 2);
                x.extend([cx + 0.1 * e[0], cy + 0.1 * e[1]]);
                origin.push(b);
            }
        }
        (x, origin)
    }

    /// k-means finds the blobs: every cluster is exactly one blob, whatever its index, its centre
    /// the blob's mean; shares are the blobs' sizes over the total; the same seed, the same clusters.
    #[test]
    fn k_means_finds_separated_blobs_and_their_shares() {
        let dev = crate::testing::device();
        let (x, origin) = blobs();
        let c = kmeans(&x, 2, 3, &mut stream(1, Purpose::Clusters, 0), &dev);
        for b in 0..3 {
            let theirs: Vec<u8> = origin.iter().zip(&c.assignment).filter(|&(&o, _)| o == b).map(|(_, &a)| a).collect();
            assert!(theirs.iter().all(|&a| a == theirs[0]), "blob {b} split over clusters {theirs:?}");
            let mean_x = x.chunks(2).zip(&origin).filter(|&(_, &o)| o == b).map(|(p, _)| p[0] as f64).sum::<f64>() / theirs.len() as f64;
            let centre_x = c.centres[theirs[0] as usize * 2] as f64;
            assert!((mean_x - centre_x).abs() < 1e-5, "blob {b}: mean x {mean_x}, centre x {centre_x}");
        }
        let mut sizes = c.sizes();
        sizes.sort();
        assert_eq!(sizes, vec![10, 20, 30]);
        let mut shares = c.shares();
        shares.sort_by(f32::total_cmp);
        assert_eq!(shares, vec![10.0 / 60.0, 20.0 / 60.0, 30.0 / 60.0]);
        assert!(c.iterations < MAX_ITERATIONS);
        assert_eq!(kmeans(&x, 2, 3, &mut stream(1, Purpose::Clusters, 0), &dev), c, "same seed, same clusters");
    }

    /// Lloyd's steps never raise the within-cluster sum of squares: from k-means++ seeds on
    /// overlapping data its value at the end is at most that of the seeds' own assignment.
    #[test]
    fn lloyd_lowers_the_within_cluster_sum_of_squares() {
        let dev = crate::testing::device();
        let mut rng = stream(3, Purpose::Toy, 0);
        let x = crate::host::normals(&mut rng, 400 * 3);
        let wcss = |centres: &[f32], a: &[u8]| -> f64 {
            x.chunks(3).zip(a).map(|(p, &c)| p.iter().zip(&centres[c as usize * 3..]).map(|(v, m)| ((v - m) as f64).powi(2)).sum::<f64>()).sum()
        };
        let c = kmeans(&x, 3, 5, &mut stream(2, Purpose::Clusters, 0), &dev);
        // The seeds alone: the same draws, stopped before any Lloyd step.
        let mut seeds_rng = stream(2, Purpose::Clusters, 0);
        let rows = tensor(x.clone(), [400, 3], &dev);
        let seeds = seeds(&x, 3, 5, &rows, &mut seeds_rng, &dev);
        let a0 = nearest_centres(&rows, &seeds, 3, &dev);
        assert!(wcss(&c.centres, &c.assignment) < wcss(&seeds, &a0), "Lloyd did not improve on its seeds");
        assert_eq!(c.sizes().iter().sum::<usize>(), 400);
    }
}
