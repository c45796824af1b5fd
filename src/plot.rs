//! Pictures written as PNG: grids of images, and scatter plots of 2-D points.

use std::path::Path;

use image::{Rgb, RgbImage};

use crate::error::{Error, Result};

/// `n` images of `side x side` values in [0, 1] (row-major, flattened) in a grid `cols` wide,
/// white on black like MNIST, separated by 2-pixel grey lines.
pub fn image_grid(pixels: &[f32], side: usize, cols: usize) -> RgbImage {
    let n = pixels.len() / (side * side);
    let rows = n.div_ceil(cols).max(1);
    let cell = side + 2;
    let mut img = RgbImage::from_pixel((cols * cell + 2) as u32, (rows * cell + 2) as u32, Rgb([90, 90, 90]));
    for i in 0..n {
        let (gx, gy) = (2 + (i % cols) * cell, 2 + (i / cols) * cell);
        for y in 0..side {
            for x in 0..side {
                let v = (pixels[i * side * side + y * side + x].clamp(0.0, 1.0) * 255.0).round() as u8;
                img.put_pixel((gx + x) as u32, (gy + y) as u32, Rgb([v, v, v]));
            }
        }
    }
    img
}

/// [`image_grid`] for images of three channels stored channel after channel (stacked MNIST):
/// the channels become red, green and blue.
pub fn color_grid(pixels: &[f32], side: usize, cols: usize) -> RgbImage {
    let plane = side * side;
    let n = pixels.len() / (3 * plane);
    let rows = n.div_ceil(cols).max(1);
    let cell = side + 2;
    let mut img = RgbImage::from_pixel((cols * cell + 2) as u32, (rows * cell + 2) as u32, Rgb([90, 90, 90]));
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    for i in 0..n {
        let (gx, gy) = (2 + (i % cols) * cell, 2 + (i / cols) * cell);
        let image = &pixels[i * 3 * plane..(i + 1) * 3 * plane];
        for p in 0..plane {
            let rgb = Rgb([byte(image[p]), byte(image[plane + p]), byte(image[2 * plane + p])]);
            img.put_pixel((gx + p % side) as u32, (gy + p / side) as u32, rgb);
        }
    }
    img
}

/// Point sets drawn in one square panel covering `[-extent, extent]^2`, each in its colour.
pub fn scatter(sets: &[(&[f32], [u8; 3])], extent: f32, size: u32) -> RgbImage {
    let mut img = RgbImage::from_pixel(size, size, Rgb([255, 255, 255]));
    let to_px = |v: f32| ((v + extent) / (2.0 * extent) * (size - 1) as f32).round() as i64;
    // Axes through the origin, light grey.
    let o = to_px(0.0).clamp(0, size as i64 - 1) as u32;
    for i in 0..size {
        img.put_pixel(i, o, Rgb([225, 225, 225]));
        img.put_pixel(o, i, Rgb([225, 225, 225]));
    }
    for (points, colour) in sets {
        for p in points.chunks_exact(2) {
            let (x, y) = (to_px(p[0]), size as i64 - 1 - to_px(p[1]));
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (px, py) = (x + dx, y + dy);
                if (0..size as i64).contains(&px) && (0..size as i64).contains(&py) {
                    img.put_pixel(px as u32, py as u32, Rgb(*colour));
                }
            }
        }
    }
    img
}

/// A scatter's half-width that frames `points` (flattened `[n, 2]`) with room around them: 1.5
/// times their largest coordinate (ring8: 3, grid25: 6), so samples off the data still show.
pub fn extent_around(points: &[f32]) -> f32 {
    let largest = points.iter().fold(0f32, |m, v| m.max(v.abs()));
    if largest > 0.0 { 1.5 * largest } else { 1.0 }
}

/// Panels side by side with a 6-pixel gap.
pub fn side_by_side(panels: &[RgbImage]) -> RgbImage {
    let h = panels.iter().map(|p| p.height()).max().unwrap_or(1);
    let w: u32 = panels.iter().map(|p| p.width() + 6).sum::<u32>().max(7) - 6;
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let mut x0 = 0;
    for p in panels {
        image::imageops::replace(&mut img, p, x0 as i64, 0);
        x0 += p.width() + 6;
    }
    img
}

/// `panel` with `lines` of text written below it, dark on white, in an 8x8 bitmap font (2-pixel
/// line gaps). Characters the font lacks show as `?`.
pub fn with_caption(panel: &RgbImage, lines: &[String]) -> RgbImage {
    use font8x8::UnicodeFonts;
    const LINE: u32 = 11;
    let mut img = RgbImage::from_pixel(panel.width(), panel.height() + 6 + LINE * lines.len() as u32, Rgb([255, 255, 255]));
    image::imageops::replace(&mut img, panel, 0, 0);
    for (row, line) in lines.iter().enumerate() {
        let y0 = panel.height() + 4 + LINE * row as u32;
        for (col, ch) in line.chars().enumerate() {
            let glyph = font8x8::BASIC_FONTS.get(ch).or_else(|| font8x8::LATIN_FONTS.get(ch)).or_else(|| font8x8::BASIC_FONTS.get('?')).expect("ASCII is in the font");
            let x0 = 4 + 8 * col as u32;
            for (dy, bits) in glyph.iter().enumerate() {
                for dx in 0..8 {
                    // Bit 0 is the leftmost pixel.
                    if bits >> dx & 1 == 1 && x0 + dx < img.width() {
                        img.put_pixel(x0 + dx, y0 + dy as u32, Rgb([30, 30, 30]));
                    }
                }
            }
        }
    }
    img
}

/// Saves a PNG atomically (a reader never sees half a picture).
pub fn save_png(img: &RgbImage, path: &Path) -> Result<()> {
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| Error::Invalid(format!("{}: encoding PNG: {e}", path.display())))?;
    crate::atomic::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caption_writes_its_lines_below_the_panel() {
        let panel = RgbImage::from_pixel(120, 50, Rgb([0, 0, 255]));
        let img = with_caption(&panel, &["JSD 0.25 ± 0.01".to_string(), "I".to_string()]);
        assert_eq!((img.width(), img.height()), (120, 50 + 6 + 22));
        assert_eq!(*img.get_pixel(10, 10), Rgb([0, 0, 255]), "the panel is kept");
        let dark = |y0: u32, y1: u32| (y0..y1).flat_map(|y| (0..120).map(move |x| (x, y))).filter(|&(x, y)| img.get_pixel(x, y)[0] < 100).count();
        assert!(dark(54, 65) > 40, "the first line is written");
        assert!(dark(65, 76) > 4 && dark(65, 76) < 20, "the second line holds one letter");
    }

    #[test]
    fn grid_places_images() {
        let mut px = vec![0.0; 3 * 4];
        px[4] = 1.0; // first pixel of the second 2x2 image
        let img = image_grid(&px, 2, 2);
        assert_eq!((img.width(), img.height()), (2 * 4 + 2, 2 * 4 + 2));
        assert_eq!(img.get_pixel(2 + 4, 2).0, [255, 255, 255]);
        assert_eq!(img.get_pixel(2, 2).0, [0, 0, 0]);
    }

    #[test]
    fn scatter_draws_points_where_they_are() {
        let img = scatter(&[(&[1.0, 1.0], [255, 0, 0])], 2.0, 101);
        assert_eq!(img.get_pixel(75, 25).0, [255, 0, 0]);
        assert_eq!(img.get_pixel(25, 75).0, [255, 255, 255]);
    }
}
