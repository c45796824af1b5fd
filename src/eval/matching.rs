//! Accuracy of an unsupervised partition as a classifier: the clusters (e.g. InfoGAN's categorical
//! code) are matched one-to-one to classes so as to agree on the most examples (the Hungarian
//! method), and the accuracy is read off that matching.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

/// The fraction of examples whose cluster, mapped to a class by the best one-to-one matching, is
/// their label. `clusters` and `labels` take values below `k`.
pub fn matched_accuracy(clusters: &[u8], labels: &[u8], k: usize) -> f64 {
    assert_eq!(clusters.len(), labels.len(), "one cluster per label");
    if labels.is_empty() {
        return f64::NAN;
    }
    let mut agree = Matrix::new(k, k, 0i64);
    for (&c, &l) in clusters.iter().zip(labels) {
        agree[(c as usize, l as usize)] += 1;
    }
    let (matched, _) = kuhn_munkres(&agree);
    matched as f64 / labels.len() as f64
}

/// Purity: the fraction of examples whose label is the most common one in their cluster (many
/// clusters may share a class, unlike [`matched_accuracy`]). `clusters` below `k`.
pub fn purity(clusters: &[u8], labels: &[u8], k: usize) -> f64 {
    assert_eq!(clusters.len(), labels.len(), "one cluster per label");
    let mut counts = vec![[0usize; 256]; k];
    clusters.iter().zip(labels).for_each(|(&c, &l)| counts[c as usize][l as usize] += 1);
    counts.iter().map(|c| c.iter().max().copied().unwrap_or(0)).sum::<usize>() as f64 / labels.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purity_counts_each_cluster_s_majority_class() {
        // Cluster 0: classes 0, 0, 1 (2 agree); cluster 1: 1, 1 (2); cluster 2: 1 (1).
        assert_eq!(purity(&[0, 0, 0, 1, 1, 2], &[0, 0, 1, 1, 1, 1], 3), 5.0 / 6.0);
        // Splitting a class over several clusters costs nothing.
        assert_eq!(purity(&[0, 1, 2, 3], &[7, 7, 7, 7], 4), 1.0);
    }

    #[test]
    fn a_relabelled_partition_is_perfect_and_a_merged_one_is_not() {
        let labels: Vec<u8> = (0..100).map(|i| (i % 4) as u8).collect();
        let renamed: Vec<u8> = labels.iter().map(|&l| (l + 1) % 4).collect();
        assert_eq!(matched_accuracy(&renamed, &labels, 4), 1.0);
        // Classes 2 and 3 share a cluster: only one of them can be matched to it.
        let merged: Vec<u8> = labels.iter().map(|&l| if l == 3 { 2 } else { l }).collect();
        assert_eq!(matched_accuracy(&merged, &labels, 4), 0.75);
        // A cluster that is half one class, half another, counts its larger half only.
        assert_eq!(matched_accuracy(&[0, 0, 0, 1], &[0, 0, 1, 1], 2), 0.75);
    }
}
