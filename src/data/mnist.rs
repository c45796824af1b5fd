//! MNIST on disk: where to find it, what its canonical digests are, and `data check`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::idx::{self, IdxImages};
use crate::error::{Error, Result};

/// The four MNIST files with the SHA-256 of their *uncompressed* contents, which identify the
/// canonical data whatever gzip settings a mirror used.
pub const FILES: [(&str, &str); 4] = [
    ("train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    ("train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    ("t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    ("t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
];

/// Which part of MNIST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

/// The environment variable naming a data root holding `mnist/`.
pub const DATA_ENV: &str = "UNIGEN_DATA";

/// The user cache directory unigen downloads into (`~/.cache/unigen/mnist` on Linux).
pub fn cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("unigen").join("mnist"))
}

/// The path of `name` in `dir`, plain or `.gz`, if either exists.
pub fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.gz"))]
        .into_iter()
        .find(|p| p.is_file())
}

fn has_all(dir: &Path) -> bool {
    FILES.iter().all(|(name, _)| find_file(dir, name).is_some())
}

/// Where `--data mnist` looks, in order: `$UNIGEN_DATA/mnist`, then the user cache.
pub fn search_path() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(root) = std::env::var_os(DATA_ENV) {
        dirs.push(PathBuf::from(root).join("mnist"));
    }
    dirs.extend(cache_dir());
    dirs
}

/// The first directory of [`search_path`] holding all four files, or an error that says
/// exactly what to run.
pub fn locate() -> Result<PathBuf> {
    let candidates = search_path();
    if let Some(dir) = candidates.iter().find(|d| has_all(d)) {
        return Ok(dir.clone());
    }
    let looked: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
    Err(Error::NotFound(format!(
        "MNIST not found (looked in: {}; ${DATA_ENV}/mnist is searched first). \
         Download it with `unigen data fetch mnist`, or point at a directory holding the four \
         IDX files with `--data-dir DIR` (e.g. `--data-dir ~/mnist`)",
        if looked.is_empty() { "no cache directory on this system".into() } else { looked.join(", ") }
    )))
}

fn path_of(dir: &Path, name: &str) -> Result<PathBuf> {
    find_file(dir, name).ok_or_else(|| {
        Error::NotFound(format!(
            "{}: missing {name} (or {name}.gz); a MNIST directory holds the four IDX files \
             (`unigen data fetch mnist --dir {}` downloads them)",
            dir.display(),
            dir.display()
        ))
    })
}

/// Images and labels of one split from `dir`.
pub fn load(dir: &Path, split: Split) -> Result<(IdxImages, Vec<u8>)> {
    let (images, labels) = match split {
        Split::Train => (FILES[0].0, FILES[1].0),
        Split::Test => (FILES[2].0, FILES[3].0),
    };
    idx::read_pair(&path_of(dir, images)?, &path_of(dir, labels)?)
}

/// SHA-256 (hex) of a file's uncompressed contents.
pub fn uncompressed_sha256(path: &Path) -> Result<String> {
    let mut reader = idx::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut reader, &mut hasher).map_err(|e| Error::io(path, e))?;
    Ok(hex(&hasher.finalize()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One line of `unigen data check`.
#[derive(Debug, Clone, PartialEq)]
pub struct FileCheck {
    pub path: PathBuf,
    pub items: usize,
    pub canonical: bool,
}

/// Validates all four files (structure, pairing, labels) and compares digests with the canonical
/// ones. A structural problem is an error; a valid but non-canonical file is reported, not refused.
pub fn check(dir: &Path) -> Result<Vec<FileCheck>> {
    let mut out = Vec::new();
    for split in [Split::Train, Split::Test] {
        let (x, _) = load(dir, split)?;
        let names = match split {
            Split::Train => [FILES[0], FILES[1]],
            Split::Test => [FILES[2], FILES[3]],
        };
        for (name, digest) in names {
            let path = path_of(dir, name)?;
            let canonical = uncompressed_sha256(&path)? == digest;
            out.push(FileCheck { path, items: x.n, canonical });
        }
    }
    Ok(out)
}
