//! Sample files: images generated elsewhere (or by `unigen sample --npy`) that `unigen eval`
//! scores. Accepted: a NumPy `.npy` array of shape `[n, 28, 28]` or `[n, 784]` (float pixels in
//! [0, 1], or uint8 in 0..=255), an IDX image file (plain or gzip), or a directory of 28x28 PNGs.
//! Labels (for conditional accuracy): a `.npy` integer vector or an IDX label file.
//! Points in the plane (2-D data, and samples of models trained on it): a `.npy` array `[n, 2]`
//! (float32 or float64), or a text file of two numbers per line.

use std::path::Path;

use npyz::WriterBuilder;

use super::idx::{self, SIDE};
use crate::error::{Error, Result};

const PIXELS: usize = SIDE * SIDE;

fn bad(path: &Path, problem: impl Into<String>) -> Error {
    Error::Config { path: path.display().to_string(), problem: problem.into() }
}

fn is_npy(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy"))
}

/// Images `[n, 784]`, pixels in [0, 1], from a file or directory as described above.
pub fn read_images(path: &Path) -> Result<Vec<f32>> {
    let x = if path.is_dir() {
        read_png_dir(path)?
    } else if is_npy(path) {
        read_npy_images(path)?
    } else {
        idx::read_images(path)?.pixels.iter().map(|&p| p as f32 / 255.0).collect()
    };
    if x.is_empty() {
        return Err(bad(path, "holds no images"));
    }
    if let Some(v) = x.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(bad(path, format!("pixel value {v} is outside [0, 1] (float samples must be scaled to [0, 1])")));
    }
    Ok(x)
}

/// The array in `.npy` bytes. The header is checked first for what a plain array's header holds
/// (one flat dict with a shape tuple): npyz's parser takes exponential time on deeply nested
/// brackets (fuzzing found a 536-byte file that took over 10 s).
fn open_npy<'a>(path: &Path, bytes: &'a [u8]) -> Result<npyz::NpyFile<&'a [u8]>> {
    let header_len = match bytes {
        [0x93, b'N', b'U', b'M', b'P', b'Y', 1, _, a, b, ..] => Some((u16::from_le_bytes([*a, *b]) as usize, 10)),
        [0x93, b'N', b'U', b'M', b'P', b'Y', 2 | 3, _, a, b, c, d, ..] => Some((u32::from_le_bytes([*a, *b, *c, *d]) as usize, 12)),
        _ => None,
    };
    if let Some((len, start)) = header_len {
        let header = &bytes[start..(start + len).min(bytes.len())];
        let count = |c: u8| header.iter().filter(|&&b| b == c).count();
        if count(b'{') > 1 || count(b'(') > 1 || count(b'[') > 0 || len > 4096 {
            return Err(bad(path, "not a valid .npy file: the header does not describe a plain array (nested or structured)"));
        }
    }
    npyz::NpyFile::new(bytes).map_err(|e| bad(path, format!("not a valid .npy file: {e}")))
}

fn read_npy_images(path: &Path) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let npy = open_npy(path, &bytes)?;
    let shape: Vec<u64> = npy.shape().to_vec();
    let ok = matches!(shape.as_slice(), [_, a, b] if *a as usize == SIDE && *b as usize == SIDE)
        || matches!(shape.as_slice(), [_, d] if *d as usize == PIXELS);
    if !ok || npy.order() != npyz::Order::C {
        return Err(bad(path, format!("shape {shape:?} (order {:?}): expected C-order [n, 28, 28] or [n, 784]", npy.order())));
    }
    npy_values(path, npy, true)
}

/// The values of a numeric array as f32: float32 or float64, and (`bytes_as_pixels`) uint8 read as
/// pixels (`/ 255`).
fn npy_values(path: &Path, npy: npyz::NpyFile<&[u8]>, bytes_as_pixels: bool) -> Result<Vec<f32>> {
    let dtype = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => return Err(bad(path, format!("dtype {} is not a plain number type", other.descr()))),
    };
    let read = |e: std::io::Error| bad(path, format!("reading the data: {e}"));
    match &dtype[1..] {
        "u1" if bytes_as_pixels => Ok(npy.into_vec::<u8>().map_err(read)?.into_iter().map(|p| p as f32 / 255.0).collect()),
        "f4" => npy.into_vec::<f32>().map_err(read),
        "f8" => Ok(npy.into_vec::<f64>().map_err(read)?.into_iter().map(|p| p as f32).collect()),
        _ if bytes_as_pixels => Err(bad(path, format!("dtype {dtype}: expected uint8, float32 or float64"))),
        _ => Err(bad(path, format!("dtype {dtype}: expected float32 or float64"))),
    }
}

/// Points in the plane, flattened `[n, 2]`: a `.npy` array `[n, 2]`, or a text file (`.csv`,
/// `.txt`, ...) of two numbers per line, separated by a comma, semicolon or white space; blank
/// lines and lines starting with `#` are skipped, and so is a first line that is not numbers (a
/// header). Every value must be finite, and there must be at least one point.
pub fn read_points(path: &Path) -> Result<Vec<f32>> {
    let x = if is_npy(path) {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let npy = open_npy(path, &bytes)?;
        let shape: Vec<u64> = npy.shape().to_vec();
        if !matches!(shape.as_slice(), [_, 2]) || npy.order() != npyz::Order::C {
            return Err(bad(path, format!("shape {shape:?} (order {:?}): expected C-order [n, 2], one point per row", npy.order())));
        }
        npy_values(path, npy, false)?
    } else {
        read_points_text(path)?
    };
    if x.is_empty() {
        return Err(bad(path, "holds no points"));
    }
    if let Some(i) = x.iter().position(|v| !v.is_finite()) {
        return Err(bad(path, format!("point {} has a non-finite coordinate ({})", i / 2 + 1, x[i])));
    }
    Ok(x)
}

fn read_points_text(path: &Path) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| bad(path, format!("not a text file (invalid UTF-8 at byte {}) and not .npy", e.valid_up_to())))?;
    let mut x = Vec::new();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|f| !f.is_empty()).collect();
        let numbers: Vec<f32> = fields.iter().filter_map(|f| f.parse().ok()).collect();
        let header = std::mem::replace(&mut first, false) && numbers.is_empty();
        if numbers.len() == 2 && fields.len() == 2 {
            x.extend(numbers);
        } else if !header {
            return Err(bad(path, format!("line {}: expected two numbers (x, y), got `{}`", i + 1, line.chars().take(60).collect::<String>())));
        }
    }
    Ok(x)
}

fn read_png_dir(dir: &Path) -> Result<Vec<f32>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")))
        .collect();
    files.sort();
    let mut x = Vec::with_capacity(files.len() * PIXELS);
    for f in &files {
        let img = image::open(f).map_err(|e| bad(f, format!("not a readable PNG: {e}")))?.to_luma8();
        if img.dimensions() != (SIDE as u32, SIDE as u32) {
            return Err(bad(f, format!("is {}x{}; samples must be 28x28", img.width(), img.height())));
        }
        x.extend(img.as_raw().iter().map(|&p| p as f32 / 255.0));
    }
    Ok(x)
}

/// Class labels from a `.npy` integer vector or an IDX label file.
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    if !is_npy(path) {
        return idx::read_labels(path);
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let npy = open_npy(path, &bytes)?;
    if npy.shape().len() != 1 {
        return Err(bad(path, format!("labels must be a vector, got shape {:?}", npy.shape())));
    }
    let values: Vec<i64> = match npy.dtype() {
        npyz::DType::Plain(t) if t.to_string().ends_with("u1") => npy.into_vec::<u8>().map(|v| v.into_iter().map(i64::from).collect()),
        npyz::DType::Plain(t) if t.to_string().ends_with("i8") => npy.into_vec::<i64>(),
        npyz::DType::Plain(t) if t.to_string().ends_with("i4") => npy.into_vec::<i32>().map(|v| v.into_iter().map(i64::from).collect()),
        other => return Err(bad(path, format!("label dtype {}: expected uint8, int32 or int64", other.descr()))),
    }
    .map_err(|e| bad(path, format!("reading the labels: {e}")))?;
    values
        .iter()
        .map(|&v| u8::try_from(v).ok().filter(|v| *v < 10).ok_or_else(|| bad(path, format!("label {v} is not a digit 0-9"))))
        .collect()
}

/// `.npy` bytes of `values` with `shape`.
pub fn npy_bytes<T: npyz::AutoSerialize + Copy>(values: &[T], shape: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = npyz::WriteOptions::new().default_dtype().shape(shape).writer(&mut out).begin_nd().expect("writes to memory");
    w.extend(values.iter().copied()).expect("writes to memory");
    w.finish().expect("writes to memory");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_round_trip_and_clear_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let x: Vec<f32> = (0..2 * PIXELS).map(|i| (i % 7) as f32 / 7.0).collect();
        let p = dir.path().join("s.npy");
        std::fs::write(&p, npy_bytes(&x, &[2, 28, 28])).unwrap();
        assert_eq!(read_images(&p).unwrap(), x);
        let l = dir.path().join("l.npy");
        std::fs::write(&l, npy_bytes(&[3i64, 9], &[2])).unwrap();
        assert_eq!(read_labels(&l).unwrap(), vec![3, 9]);

        std::fs::write(&p, npy_bytes(&x, &[4, 392])).unwrap();
        assert!(read_images(&p).unwrap_err().to_string().contains("expected C-order [n, 28, 28]"));
        let big: Vec<f32> = x.iter().map(|v| v * 255.0).collect();
        std::fs::write(&p, npy_bytes(&big, &[2, 784])).unwrap();
        let e = read_images(&p).unwrap_err().to_string();
        assert!(e.contains("s.npy") && e.contains("outside [0, 1]"), "{e}");
        std::fs::write(&p, b"not numpy").unwrap();
        assert!(read_images(&p).unwrap_err().to_string().contains("not a valid .npy"));
        std::fs::write(&l, npy_bytes(&[12i64], &[1])).unwrap();
        assert!(read_labels(&l).unwrap_err().to_string().contains("label 12"));
    }

    #[test]
    fn points_from_npy_and_text_with_clear_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.npy");
        std::fs::write(&p, npy_bytes(&[1.0f64, 2.0, -3.5, 4.0], &[2, 2])).unwrap();
        assert_eq!(read_points(&p).unwrap(), vec![1.0, 2.0, -3.5, 4.0]);
        std::fs::write(&p, npy_bytes(&[1.0f32; 6], &[2, 3])).unwrap();
        assert!(read_points(&p).unwrap_err().to_string().contains("expected C-order [n, 2]"));
        let t = dir.path().join("p.csv");
        std::fs::write(&t, "x,y\n# a comment\n1.5, -2\n\n3e-1;4\n5\t6\n").unwrap();
        assert_eq!(read_points(&t).unwrap(), vec![1.5, -2.0, 0.3, 4.0, 5.0, 6.0]);
        for (text, want) in [
            ("1,2\n3,4,5\n", "line 2: expected two numbers"),
            ("1,2\nx,y\n", "line 2"),
            ("1,2\n3,nan\n", "point 2 has a non-finite coordinate"),
            ("# nothing\n", "holds no points"),
        ] {
            std::fs::write(&t, text).unwrap();
            let e = read_points(&t).unwrap_err().to_string();
            assert!(e.contains("p.csv") && e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn png_directory() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..3u8 {
            image::GrayImage::from_pixel(28, 28, image::Luma([i * 100])).save(dir.path().join(format!("{i}.png"))).unwrap();
        }
        let x = read_images(dir.path()).unwrap();
        assert_eq!(x.len(), 3 * PIXELS);
        assert!((x[2 * PIXELS] - 200.0 / 255.0).abs() < 1e-6);
        image::GrayImage::new(32, 32).save(dir.path().join("z.png")).unwrap();
        assert!(read_images(dir.path()).unwrap_err().to_string().contains("z.png"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Reads `bytes` as an image file and as a label file named `name`: data, or an error naming it.
        fn read_any(name: &str, bytes: &[u8]) {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            for e in [read_images(&p).err(), read_labels(&p).err(), read_points(&p).err()].into_iter().flatten() {
                assert!(e.to_string().contains(name), "the error does not name the file: {e}");
            }
        }

        /// Valid sample and label arrays of each accepted dtype and shape, as .npy bytes.
        fn valid() -> impl Strategy<Value = Vec<u8>> {
            (1u64..3, 0usize..6).prop_map(|(n, kind)| {
                let count = (n as usize) * PIXELS;
                match kind {
                    0 => npy_bytes(&vec![0.5f32; count], &[n, 28, 28]),
                    1 => npy_bytes(&vec![0.25f64; count], &[n, 784]),
                    2 => npy_bytes(&vec![200u8; count], &[n, 28, 28]),
                    3 => npy_bytes(&vec![7i64; n as usize], &[n]),
                    4 => npy_bytes(&vec![-1.5f32; 2 * n as usize], &[n, 2]),
                    _ => npy_bytes(&vec![3i32; n as usize], &[n]),
                }
            })
        }

        /// The input fuzzing found: a header of nested braces took npyz over 10 s to parse.
        #[test]
        fn nested_headers_are_refused_at_once() {
            let mut bytes = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
            bytes.extend([b'{'; 118]);
            bytes.extend(b"'descr': '<f4', 'fortran_order': False, 'shape': (2, 784), }\n");
            let started = std::time::Instant::now();
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("nested.npy");
            std::fs::write(&p, &bytes).unwrap();
            let e = read_images(&p).unwrap_err().to_string();
            assert!(e.contains("nested.npy") && e.contains("plain array"), "{e}");
            assert!(started.elapsed().as_secs_f64() < 1.0);
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
                read_any("s.npy", &bytes);
                read_any("s.idx", &bytes);
                read_any("s.csv", &bytes);
            }

            #[test]
            fn damaged_arrays_load_or_are_refused(
                file in valid(),
                flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
                cut in any::<prop::sample::Index>(),
            ) {
                read_any("s.npy", &crate::testing::damage(file, &flips, Some(cut)));
            }
        }
    }
}