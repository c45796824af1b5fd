//! Built-in 2-D mixtures, the standard mode-collapse benchmarks (docs/spec.md §3): no download.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::rng::{Purpose, stream};

/// A mixture of equally weighted isotropic Gaussians in the plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toy {
    /// 8 Gaussians on a circle of radius 2, std 0.02.
    Ring8,
    /// A 5x5 grid with spacing 2 centred on the origin, std 0.05.
    Grid25,
    /// PacGAN's ring (Lin et al. 2018, from their code): 8 Gaussians on a circle of radius 1,
    /// std 0.01.
    Ring8Pacgan,
    /// PacGAN's grid: the mixture of `Grid25`, named apart because its preset trains by PacGAN's
    /// protocol ([`Toy::pacgan`]).
    Grid25Pacgan,
}

impl Toy {
    pub const ALL: [Toy; 4] = [Toy::Ring8, Toy::Grid25, Toy::Ring8Pacgan, Toy::Grid25Pacgan];

    pub fn from_name(name: &str) -> Option<Toy> {
        match name {
            "ring8" => Some(Toy::Ring8),
            "grid25" => Some(Toy::Grid25),
            "ring8-pacgan" => Some(Toy::Ring8Pacgan),
            "grid25-pacgan" => Some(Toy::Grid25Pacgan),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Toy::Ring8 => "ring8",
            Toy::Grid25 => "grid25",
            Toy::Ring8Pacgan => "ring8-pacgan",
            Toy::Grid25Pacgan => "grid25-pacgan",
        }
    }

    /// Whether `unigen train` on it defaults to PacGAN's training protocol
    /// (`TrainConfig::for_data`).
    pub fn pacgan(self) -> bool {
        matches!(self, Toy::Ring8Pacgan | Toy::Grid25Pacgan)
    }

    pub fn centres(self) -> Vec<[f32; 2]> {
        let ring = |radius: f32| {
            (0..8)
                .map(|i| {
                    let a = i as f32 * std::f32::consts::TAU / 8.0;
                    [radius * a.cos(), radius * a.sin()]
                })
                .collect()
        };
        match self {
            Toy::Ring8 => ring(2.0),
            Toy::Ring8Pacgan => ring(1.0),
            Toy::Grid25 | Toy::Grid25Pacgan => (0..25)
                .map(|i| [2.0 * (i / 5) as f32 - 4.0, 2.0 * (i % 5) as f32 - 4.0])
                .collect(),
        }
    }

    pub fn std(self) -> f32 {
        match self {
            Toy::Ring8 => 0.02,
            Toy::Grid25 | Toy::Grid25Pacgan => 0.05,
            Toy::Ring8Pacgan => 0.01,
        }
    }

    /// The mixture's exact log density at each point of `x` (flattened `[n, 2]`), in nats:
    /// `log (1/M) sum_m N(x; c_m, std^2 I)`, by log-sum-exp.
    pub fn log_density(self, x: &[f32]) -> Vec<f64> {
        let centres = self.centres();
        let var = (self.std() as f64).powi(2);
        let log_norm = -(std::f64::consts::TAU * var).ln();
        x.chunks_exact(2)
            .map(|p| {
                let e: Vec<f64> = centres
                    .iter()
                    .map(|c| -((p[0] as f64 - c[0] as f64).powi(2) + (p[1] as f64 - c[1] as f64).powi(2)) / (2.0 * var))
                    .collect();
                log_norm + crate::host::log_mean_exp(&e)
            })
            .collect()
    }

    /// `n` points, flattened `[n, 2]`, with the mode index of each; a pure function of
    /// `(seed, split)` so train and test sets are fixed.
    pub fn sample(self, n: usize, seed: u64, split: u64) -> (Vec<f32>, Vec<u8>) {
        let mut rng = stream(seed, Purpose::Toy, split);
        let centres = self.centres();
        let mut x = Vec::with_capacity(2 * n);
        let mut modes = Vec::with_capacity(n);
        for _ in 0..n {
            let m = rng.random_range(0..centres.len());
            for c in centres[m] {
                let e: f32 = StandardNormal.sample(&mut rng);
                x.push(c + self.std() * e);
            }
            modes.push(m as u8);
        }
        (x, modes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_sit_on_their_modes() {
        for toy in Toy::ALL {
            let (x, m) = toy.sample(2000, 1, 0);
            let c = toy.centres();
            let mut counts = vec![0; c.len()];
            for (p, &mi) in x.chunks(2).zip(&m) {
                let d = ((p[0] - c[mi as usize][0]).powi(2) + (p[1] - c[mi as usize][1]).powi(2)).sqrt();
                assert!(d < 6.0 * toy.std(), "{toy:?}: point {p:?} is {d} from its centre");
                counts[mi as usize] += 1;
            }
            assert!(counts.iter().all(|&k| k > 0), "{toy:?}: every mode is used: {counts:?}");
            assert_eq!(toy.sample(2000, 1, 0).0, x, "deterministic");
            assert_ne!(toy.sample(2000, 1, 1).0, x, "splits differ");
        }
        assert!((Toy::Ring8.centres()[2][1] - 2.0).abs() < 1e-6);
        assert_eq!(Toy::Grid25.centres()[0], [-4.0, -4.0]);
        assert_eq!(Toy::Grid25Pacgan.centres(), Toy::Grid25.centres());
        assert!((Toy::Ring8Pacgan.centres()[2][1] - 1.0).abs() < 1e-6);
        for toy in Toy::ALL {
            assert_eq!(Toy::from_name(toy.name()), Some(toy));
        }
    }

    #[test]
    fn the_log_density_is_the_mixture_s() {
        // At a centre: one mode's peak, 1 / (M 2π std²); the other modes add nothing visible.
        for toy in Toy::ALL {
            let m = toy.centres().len() as f64;
            let peak = -(m * std::f64::consts::TAU * (toy.std() as f64).powi(2)).ln();
            assert!((toy.log_density(&toy.centres()[3])[0] - peak).abs() < 1e-4, "{toy:?}");
        }
        // Between two ring modes, far in both tails: finite, and the two tails add.
        let (a, b) = (Toy::Ring8.centres()[0], Toy::Ring8.centres()[1]);
        let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
        let d2 = ((a[0] - mid[0]).powi(2) + (a[1] - mid[1]).powi(2)) as f64;
        let want = 2f64.ln() - 8f64.ln() - (std::f64::consts::TAU * 0.0004f64).ln() - d2 / (2.0 * 0.0004);
        let got = Toy::Ring8.log_density(&mid)[0];
        assert!((got - want).abs() < 1e-3 * want.abs(), "{got} vs {want}");
    }
}
