//! The KL directions of any 2-D sample, measured with unigen's estimators: a "model" that covers
//! only half of ring8's modes against one that blurs over all of them.
//!
//! `cargo run --release --example kl_directions`
//!
//! Your own points work the same way: read them with `unigen::data::samples::read_points` (a
//! `.npy [n, 2]` or a text file of `x y` lines) and pass them to `directions::measure_samples`.
use unigen::data::DataSource;
use unigen::data::toy::Toy;
use unigen::eval::directions::{Measured, Protocol, measure_samples};

/// The two samples' divergences from ring8, half the modes first.
fn measure() -> unigen::Result<[(&'static str, Measured); 2]> {
    let protocol = Protocol { samples: 5_000, redraws: 3, ..Protocol::default() };
    let ring = Toy::Ring8;
    // A mode-seeking "model": ring8's own points, from 4 of its 8 modes only.
    let half = |round: usize| {
        let (x, modes) = ring.sample(3 * protocol.samples, 100 + round as u64, 0);
        let kept: Vec<f32> = x.chunks_exact(2).zip(&modes).filter(|(_, m)| **m % 2 == 0).flat_map(|(p, _)| p.to_vec()).collect();
        Ok(kept[..2 * protocol.samples].to_vec())
    };
    // A mode-covering "model": every mode, each blurred 5 times wider than the data's.
    let blurred = |round: usize| {
        let (x, modes) = ring.sample(protocol.samples, 200 + round as u64, 0);
        let centres = ring.centres();
        Ok(x.chunks_exact(2).zip(&modes).flat_map(|(p, &m)| {
            let c = centres[m as usize];
            [c[0] + 5.0 * (p[0] - c[0]), c[1] + 5.0 * (p[1] - c[1])]
        }).collect())
    };
    Ok([("half the modes", measure_samples(&DataSource::Ring8, &protocol, half)?), ("5x blurred", measure_samples(&DataSource::Ring8, &protocol, blurred)?)])
}

fn main() -> unigen::Result<()> {
    println!("{:<20} {:>22} {:>22} {:>16}", "model", "KL(data||model)", "KL(model||data) exact", "JSD");
    for (name, measured) in measure()? {
        let exact = measured.reverse_kl_exact.expect("ring8's density is known");
        println!(
            "{name:<20} {:>13.3} ± {:<6.3} {:>13.3} ± {:<6.3} {:>7.4} ± {:.4}",
            measured.forward_kl.mean, measured.forward_kl.se, exact.mean, exact.se, measured.jsd.mean, measured.jsd.se
        );
    }
    println!("The mode-seeking sample has the lower reverse KL, the mode-covering one the lower forward KL:");
    println!("the two directions the unified view assigns to GANs and VAEs (docs/divergence.md).");
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Run by `cargo test` (`test = true` in Cargo.toml): the example says what it claims.
    #[test]
    fn the_mode_seeking_sample_wins_in_reverse_and_the_covering_one_in_forward() {
        let [(_, half), (_, blurred)] = super::measure().unwrap();
        assert!(half.reverse_kl_exact.unwrap().mean < blurred.reverse_kl_exact.unwrap().mean);
        assert!(blurred.forward_kl.mean < half.forward_kl.mean);
    }
}
