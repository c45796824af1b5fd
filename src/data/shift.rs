//! A second image domain made from MNIST, for domain adaptation (ADA) and translation (CycleGAN):
//! the same digits, drawn differently. Each shift is a fixed function of the pixels (in [0, 1]),
//! so the target domain's labels are MNIST's and its accuracy can be measured.

use serde::{Deserialize, Serialize};

use super::{Dataset, idx::SIDE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shift {
    /// White background, black strokes: `1 - x`.
    Invert,
    /// Strokes dilated by one pixel: the maximum over each 3x3 neighbourhood.
    Thicken,
}

impl Shift {
    /// One image `[SIDE * SIDE]` shifted.
    pub fn image(self, x: &[f32]) -> Vec<f32> {
        match self {
            Shift::Invert => x.iter().map(|p| 1.0 - p).collect(),
            Shift::Thicken => {
                let at = |r: isize, c: isize| {
                    let inside = (0..SIDE as isize).contains(&r) && (0..SIDE as isize).contains(&c);
                    if inside { x[r as usize * SIDE + c as usize] } else { 0.0 }
                };
                (0..SIDE * SIDE)
                    .map(|i| {
                        let (r, c) = ((i / SIDE) as isize, (i % SIDE) as isize);
                        (-1..=1).flat_map(|dr| (-1..=1).map(move |dc| (dr, dc))).map(|(dr, dc)| at(r + dr, c + dc)).fold(0.0, f32::max)
                    })
                    .collect()
            }
        }
    }

    /// Every image of a data set shifted; labels kept.
    pub fn apply(self, ds: &Dataset) -> Dataset {
        let x = ds.x.chunks(ds.dim).flat_map(|img| self.image(img)).collect();
        Dataset { x, ..ds.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_by_hand() {
        let mut x = vec![0.0; SIDE * SIDE];
        x[5 * SIDE + 5] = 0.8;
        x[0] = 0.5; // a corner: its neighbourhood leaves the image
        let inv = Shift::Invert.image(&x);
        assert_eq!((inv[5 * SIDE + 5], inv[1]), (1.0 - 0.8, 1.0));
        let thick = Shift::Thicken.image(&x);
        for (r, c) in [(4, 4), (4, 6), (6, 5), (5, 5)] {
            assert_eq!(thick[r * SIDE + c], 0.8, "({r}, {c})");
        }
        assert_eq!(thick[7 * SIDE + 5], 0.0, "two pixels away stays blank");
        assert_eq!((thick[1], thick[SIDE + 1], thick[2]), (0.5, 0.5, 0.0));
    }
}
