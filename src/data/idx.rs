//! IDX files (LeCun's MNIST format), plain or gzip-compressed, fully validated:
//! a bad file is an [`Error::Idx`] naming the file and the problem, never a panic
//! or a silent partial read.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::error::{Error, IdxProblem, Result};

const IMAGES_MAGIC: u32 = 0x0000_0803;
const LABELS_MAGIC: u32 = 0x0000_0801;
/// MNIST images are 28x28.
pub const SIDE: usize = 28;

/// Images as stored: `n` row-major 28x28 grey-scale images, one byte per pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxImages {
    pub n: usize,
    pub pixels: Vec<u8>,
}

fn idx_err(path: &Path, problem: IdxProblem) -> Error {
    Error::Idx {
        path: path.to_path_buf(),
        problem,
    }
}

/// A reader of `path`'s contents, decompressed if the file starts with the gzip magic bytes
/// (whatever its name says).
pub fn open(path: &Path) -> Result<Box<dyn Read>> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| Error::io(path, e))?;
    if n == 0 {
        return Err(idx_err(path, IdxProblem::Empty));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(MultiGzDecoder::new(std::io::BufReader::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    })
}

/// Like `read_exact` but returns how many bytes were read instead of failing at EOF.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads `header_len` header bytes, then exactly the payload the header promises.
fn read_idx(
    path: &Path,
    magic: u32,
    what: &'static str,
    header_len: usize,
    payload_len: impl Fn(&[u32]) -> Result<usize>,
) -> Result<(Vec<u32>, Vec<u8>)> {
    let gz_err = |e: std::io::Error| {
        // Only the gzip decoder reports these: plain reads stop at EOF without an error.
        use std::io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
        if matches!(e.kind(), InvalidInput | InvalidData | UnexpectedEof) {
            idx_err(path, IdxProblem::Gzip(e.to_string()))
        } else {
            Error::io(path, e)
        }
    };
    let mut r = open(path)?;
    let mut header = vec![0u8; header_len];
    let got = read_up_to(&mut r, &mut header).map_err(gz_err)?;
    if got < 4 {
        let problem = if got == 0 {
            IdxProblem::Empty
        } else {
            IdxProblem::HeaderTruncated { found: got, needed: header_len }
        };
        return Err(idx_err(path, problem));
    }
    let found = u32::from_be_bytes(header[..4].try_into().unwrap());
    if found != magic {
        return Err(idx_err(path, IdxProblem::Magic { found, expected: magic, what }));
    }
    if got < header_len {
        return Err(idx_err(path, IdxProblem::HeaderTruncated { found: got, needed: header_len }));
    }
    let fields: Vec<u32> = header[4..]
        .chunks(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
        .collect();
    let expected = payload_len(&fields)?;
    let mut payload = Vec::with_capacity(expected.min(1 << 28));
    (&mut r)
        .take(expected as u64 + 1)
        .read_to_end(&mut payload)
        .map_err(gz_err)?;
    if payload.len() < expected {
        return Err(idx_err(path, IdxProblem::Truncated { expected, found: payload.len() }));
    }
    if payload.len() > expected {
        // Count what is left so the message says how much (bounded: we stop at 1 MiB).
        let mut rest = Vec::new();
        (&mut r).take(1 << 20).read_to_end(&mut rest).map_err(gz_err)?;
        return Err(idx_err(path, IdxProblem::TrailingBytes { extra: 1 + rest.len() }));
    }
    Ok((fields, payload))
}

/// Reads an image file (`magic 0x803`, n x 28 x 28 bytes).
pub fn read_images(path: &Path) -> Result<IdxImages> {
    let (fields, pixels) = read_idx(path, IMAGES_MAGIC, "IDX images", 16, |f| {
        let (n, rows, cols) = (f[0], f[1], f[2]);
        if rows as usize != SIDE || cols as usize != SIDE {
            return Err(idx_err(path, IdxProblem::Dims { rows, cols }));
        }
        if n == 0 {
            return Err(idx_err(path, IdxProblem::NoItems));
        }
        Ok(n as usize * SIDE * SIDE)
    })?;
    Ok(IdxImages { n: fields[0] as usize, pixels })
}

/// Reads a label file (`magic 0x801`, n bytes, each a class 0..=9).
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    let (_, labels) = read_idx(path, LABELS_MAGIC, "IDX labels", 8, |f| {
        if f[0] == 0 {
            return Err(idx_err(path, IdxProblem::NoItems));
        }
        Ok(f[0] as usize)
    })?;
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > 9) {
        return Err(idx_err(path, IdxProblem::LabelRange { label, index }));
    }
    Ok(labels)
}

/// Images and their labels, checked to pair up.
pub fn read_pair(images: &Path, labels: &Path) -> Result<(IdxImages, Vec<u8>)> {
    let x = read_images(images)?;
    let c = read_labels(labels)?;
    if x.n != c.len() {
        return Err(idx_err(labels, IdxProblem::CountMismatch { images: x.n, labels: c.len() }));
    }
    Ok((x, c))
}

/// Serialises images to IDX bytes (uncompressed): used for fixtures and exporting samples.
pub fn encode_images(n: usize, pixels: &[u8]) -> Vec<u8> {
    assert_eq!(pixels.len(), n * SIDE * SIDE, "pixels must hold n 28x28 images");
    let mut out = Vec::with_capacity(16 + pixels.len());
    for v in [IMAGES_MAGIC, n as u32, SIDE as u32, SIDE as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// Serialises labels to IDX bytes (uncompressed).
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    for v in [LABELS_MAGIC, labels.len() as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(labels);
    out
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(n: usize) -> Vec<u8> {
        encode_images(n, &(0..n * 784).map(|i| (i % 251) as u8).collect::<Vec<_>>())
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn problem(r: Result<impl std::fmt::Debug>) -> IdxProblem {
        match r {
            Err(Error::Idx { problem, .. }) => problem,
            other => panic!("expected an IDX error, got {other:?}"),
        }
    }

    #[test]
    fn plain_and_gzip_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let raw = images(3);
        let a = read_images(&write(dir.path(), "a", &raw)).unwrap();
        let b = read_images(&write(dir.path(), "a.gz", &gzip(&raw))).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.n, 3);
        assert_eq!(a.pixels[785], (785 % 251) as u8);
    }

    #[test]
    fn every_corruption_is_a_distinct_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let raw = images(2);
        assert_eq!(problem(read_images(&write(d, "empty", &[]))), IdxProblem::Empty);
        let mut bad_magic = raw.clone();
        bad_magic[3] = 0x01;
        assert!(matches!(
            problem(read_images(&write(d, "magic", &bad_magic))),
            IdxProblem::Magic { found: 0x801, expected: 0x803, .. }
        ));
        assert_eq!(
            problem(read_images(&write(d, "header", &raw[..10]))),
            IdxProblem::HeaderTruncated { found: 10, needed: 16 }
        );
        let mut dims = raw.clone();
        dims[11] = 32;
        assert_eq!(problem(read_images(&write(d, "dims", &dims))), IdxProblem::Dims { rows: 32, cols: 28 });
        assert_eq!(
            problem(read_images(&write(d, "trunc", &raw[..16 + 784 + 5]))),
            IdxProblem::Truncated { expected: 2 * 784, found: 789 }
        );
        let mut long = raw.clone();
        long.extend_from_slice(&[0; 7]);
        assert_eq!(problem(read_images(&write(d, "long", &long))), IdxProblem::TrailingBytes { extra: 7 });
        let gz = gzip(&raw);
        assert!(matches!(
            problem(read_images(&write(d, "cut.gz", &gz[..gz.len() / 2]))),
            IdxProblem::Gzip(_) | IdxProblem::Truncated { .. }
        ));
        let mut garbled = gz.clone();
        for b in garbled[12..40].iter_mut() {
            *b ^= 0x5a;
        }
        assert!(matches!(
            problem(read_images(&write(d, "garbled.gz", &garbled))),
            IdxProblem::Gzip(_) | IdxProblem::Magic { .. } | IdxProblem::Truncated { .. }
        ));
        assert_eq!(problem(read_images(&write(d, "zero", &encode_images(0, &[])))), IdxProblem::NoItems);
        let labels = encode_labels(&[1, 2, 10]);
        assert_eq!(
            problem(read_labels(&write(d, "lab", &labels))),
            IdxProblem::LabelRange { label: 10, index: 2 }
        );
        let img = write(d, "img2", &raw);
        let lab = write(d, "lab3", &encode_labels(&[1, 2, 3]));
        assert_eq!(problem(read_pair(&img, &lab)), IdxProblem::CountMismatch { images: 2, labels: 3 });
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "train-images-idx3-ubyte", &[0, 0, 8]);
        let msg = read_images(&p).unwrap_err().to_string();
        assert!(msg.contains("train-images-idx3-ubyte") && msg.contains("truncated"), "{msg}");
        let missing = read_images(&dir.path().join("nope")).unwrap_err().to_string();
        assert!(missing.contains("nope"), "{missing}");
    }

    #[test]
    fn huge_header_counts_do_not_allocate() {
        // A header promising 2^32-1 images must fail as truncated, not abort on allocation.
        let dir = tempfile::tempdir().unwrap();
        let mut raw = images(1);
        raw[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            problem(read_images(&write(dir.path(), "big", &raw))),
            IdxProblem::Truncated { .. }
        ));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Every outcome of reading `bytes` as an IDX file: data, or an error naming the file.
        fn read_any(bytes: &[u8]) -> Result<(), String> {
            let dir = tempfile::tempdir().unwrap();
            let p = write(dir.path(), "x-idx3-ubyte", bytes);
            let named = |e: Error| {
                let m = e.to_string();
                assert!(m.contains("x-idx3-ubyte"), "the error does not name the file: {m}");
                m
            };
            let images = read_images(&p).map_err(named);
            let labels = read_labels(&p).map_err(named);
            images.and(labels).map(|_| ())
        }

        /// A valid image file, a valid label file, and each compressed.
        fn valid() -> impl Strategy<Value = Vec<u8>> {
            (1usize..4, any::<bool>(), any::<bool>()).prop_map(|(n, labels, gz)| {
                let bytes = if labels { encode_labels(&(0..n as u8).collect::<Vec<_>>()) } else { images(n) };
                if gz { gzip(&bytes) } else { bytes }
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn arbitrary_bytes_are_refused_with_the_file_named(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let _ = read_any(&bytes);
            }

            #[test]
            fn damaged_files_load_or_are_refused_never_panic(
                file in valid(),
                flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
                cut in any::<prop::sample::Index>(),
            ) {
                let _ = read_any(&crate::testing::damage(file, &flips, Some(cut)));
            }

            #[test]
            fn a_header_promising_any_size_is_checked_against_the_data(n in any::<u32>(), extra in 0usize..64) {
                let mut bytes = vec![0, 0, 8, 3];
                bytes.extend(n.to_be_bytes());
                bytes.extend(28u32.to_be_bytes());
                bytes.extend(28u32.to_be_bytes());
                bytes.extend(vec![0u8; extra * 784 / 8]);
                let r = read_any(&bytes);
                prop_assert!(r.is_err() || (n as usize * 784 == extra * 784 / 8));
            }
        }
    }
}