//! `unigen data fetch`: download, verify SHA-256, and move into place atomically.
//!
//! Each file goes to a hidden temporary file in the target directory, is verified against the
//! SHA-256 of its uncompressed contents, fsynced, and only then renamed to its final name.
//! A failed or interrupted download leaves no file under the final name (a rerun restarts it),
//! and a file with the wrong checksum is deleted.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::mnist;
use crate::atomic::sync_dir;
use crate::error::{Error, Result};

/// Public mirrors of the original MNIST files, tried in order.
pub const MNIST_MIRRORS: [&str; 3] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
];

/// No MNIST file is near this size; a larger body is refused rather than filling the disk.
const MAX_BYTES: u64 = 64 << 20;

/// A file to fetch: `{name}.gz` from a mirror, whose uncompressed contents hash to `sha256`.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub name: String,
    pub sha256: String,
}

pub fn mnist_files() -> Vec<Wanted> {
    mnist::FILES
        .iter()
        .map(|(name, sha)| Wanted { name: name.to_string(), sha256: sha.to_string() })
        .collect()
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    AlreadyPresent(PathBuf),
    Downloaded { path: PathBuf, url: String },
}

/// Fetches every wanted file into `dir` from the first mirror that serves it correctly.
/// `report` is told which URL is being tried. On failure the error names every mirror's
/// failure, and directories this call created are removed again if they hold nothing.
pub fn fetch(dir: &Path, mirrors: &[String], files: &[Wanted], report: impl FnMut(&str)) -> Result<Vec<Fetched>> {
    let created: Vec<PathBuf> = dir.ancestors().take_while(|d| !d.as_os_str().is_empty() && !d.exists()).map(Path::to_path_buf).collect();
    let result = fetch_into(dir, mirrors, files, report);
    if result.is_err() {
        // Deepest first; remove_dir removes only empty directories, so a fetched file stays.
        created.iter().for_each(|d| drop(std::fs::remove_dir(d)));
    }
    result
}

fn fetch_into(dir: &Path, mirrors: &[String], files: &[Wanted], mut report: impl FnMut(&str)) -> Result<Vec<Fetched>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for want in files {
        let target = dir.join(format!("{}.gz", want.name));
        if target.is_file() && mnist::uncompressed_sha256(&target)? == want.sha256 {
            out.push(Fetched::AlreadyPresent(target));
            continue;
        }
        let mut errors = Vec::new();
        for mirror in mirrors {
            let url = format!("{}{}.gz", mirror, want.name);
            report(&url);
            match download_verified(&url, &target, &want.sha256) {
                Ok(()) => {
                    out.push(Fetched::Downloaded { path: target.clone(), url });
                    errors.clear();
                    break;
                }
                Err(e) => errors.push(e),
            }
        }
        // One mirror: its own error. Several: each one's, so no failure hides behind the last.
        match errors.len() {
            0 => {}
            1 => return Err(errors.pop().expect("one")),
            _ => {
                let reasons: Vec<String> = errors.iter().map(|e| format!("\n  {e}")).collect();
                return Err(Error::Download { url: format!("{}.gz", want.name), reason: format!("every mirror failed:{}", reasons.concat()) });
            }
        }
    }
    Ok(out)
}

/// Downloads `url` and renames it to `target` only if its uncompressed SHA-256 is `sha256`.
fn download_verified(url: &str, target: &Path, sha256: &str) -> Result<()> {
    let dir = target.parent().expect("target has a directory");
    let tmp = dir.join(format!(
        ".{}.part-{}",
        target.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        download(url, &tmp)?;
        let found = mnist::uncompressed_sha256(&tmp).map_err(|e| match e {
            Error::Io { cause: source, .. } => Error::Download {
                url: url.to_string(),
                reason: format!("not a valid gzip file: {source}"),
            },
            other => other,
        })?;
        if found != sha256 {
            return Err(Error::Checksum { path: PathBuf::from(url), expected: sha256.into(), found });
        }
        std::fs::rename(&tmp, target).map_err(|e| Error::io(target, e))?;
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn download(url: &str, tmp: &Path) -> Result<()> {
    let fail = |reason: String| Error::Download { url: url.to_string(), reason };
    let response = ureq::get(url).call().map_err(|e| fail(e.to_string()))?;
    let mut body = response.into_body().into_reader().take(MAX_BYTES + 1);
    let mut file = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = body.read(&mut buf).map_err(|e| fail(e.to_string()))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > MAX_BYTES {
            return Err(fail(format!("body larger than {MAX_BYTES} bytes")));
        }
        file.write_all(&buf[..n]).map_err(|e| Error::io(tmp, e))?;
    }
    file.sync_all().map_err(|e| Error::io(tmp, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::idx;
    use sha2::{Digest, Sha256};
    use std::collections::HashMap;
    use std::net::TcpListener;

    /// A one-thread HTTP/1.1 server on 127.0.0.1 that serves `files` for at most `max` requests.
    fn serve(files: HashMap<String, Vec<u8>>, max: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(max) {
                let mut stream = stream.unwrap();
                let mut req = Vec::new();
                let mut byte = [0u8; 1];
                while !req.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    req.push(byte[0]);
                }
                let line = String::from_utf8_lossy(&req);
                let path = line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/');
                let (status, body) = match files.get(path) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"missing".to_vec()),
                };
                let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        format!("http://{addr}/")
    }

    fn sha(bytes: &[u8]) -> String {
        mnist::hex(&Sha256::digest(bytes))
    }

    #[test]
    fn downloads_verify_and_land_atomically() {
        let labels = idx::encode_labels(&[3, 1, 4]);
        let files = HashMap::from([("labels.gz".to_string(), idx::gzip(&labels))]);
        let base = serve(files, 4);
        let dir = tempfile::tempdir().unwrap();
        let want = [Wanted { name: "labels".into(), sha256: sha(&labels) }];
        let got = fetch(dir.path(), std::slice::from_ref(&base), &want, |_| {}).unwrap();
        assert!(matches!(&got[0], Fetched::Downloaded { .. }));
        assert_eq!(idx::read_labels(&dir.path().join("labels.gz")).unwrap(), vec![3, 1, 4]);
        // A second run verifies and keeps the file without downloading.
        let again = fetch(dir.path(), &[base], &want, |_| {}).unwrap();
        assert!(matches!(&again[0], Fetched::AlreadyPresent(_)));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary files left");
    }

    #[test]
    fn wrong_checksum_is_rejected_and_leaves_nothing() {
        let labels = idx::encode_labels(&[3, 1, 4]);
        let files = HashMap::from([("labels.gz".to_string(), idx::gzip(&idx::encode_labels(&[3, 1, 5])))]);
        let base = serve(files, 2);
        let dir = tempfile::tempdir().unwrap();
        let want = [Wanted { name: "labels".into(), sha256: sha(&labels) }];
        let err = fetch(dir.path(), &[base], &want, |_| {}).unwrap_err();
        assert!(matches!(err, Error::Checksum { .. }), "{err}");
        assert!(err.to_string().contains("labels.gz"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left behind");
    }

    #[test]
    fn falls_back_to_the_next_mirror() {
        let labels = idx::encode_labels(&[7]);
        let bad = serve(HashMap::new(), 2);
        let good = serve(HashMap::from([("l.gz".to_string(), idx::gzip(&labels))]), 2);
        let dir = tempfile::tempdir().unwrap();
        let want = [Wanted { name: "l".into(), sha256: sha(&labels) }];
        let mut tried = Vec::new();
        fetch(dir.path(), &[bad, good.clone()], &want, |u| tried.push(u.to_string())).unwrap();
        assert_eq!(tried.len(), 2);
        assert!(tried[1].starts_with(&good));
        // A server answering 404 everywhere is a download error naming the URL.
        let dir2 = tempfile::tempdir().unwrap();
        let err = fetch(dir2.path(), &[serve(HashMap::new(), 1)], &want, |_| {}).unwrap_err().to_string();
        assert!(err.contains("l.gz") && err.contains("404"), "{err}");
        assert_eq!(std::fs::read_dir(dir2.path()).unwrap().count(), 0);
    }

    #[test]
    fn every_mirrors_failure_is_shown_and_no_empty_directory_is_left() {
        let want = [Wanted { name: "l".into(), sha256: sha(&idx::encode_labels(&[7])) }];
        let (a, b) = (serve(HashMap::new(), 1), serve(HashMap::new(), 1));
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cache/unigen/mnist");
        let err = fetch(&dir, &[a.clone(), b.clone()], &want, |_| {}).unwrap_err();
        let text = err.to_string();
        // Each mirror's own line names its URL and its status (the URLs' random ports may
        // themselves contain "404", so the status is looked for in what follows the URL).
        for mirror in [&a, &b] {
            let url = format!("{mirror}l.gz");
            let line = text.lines().find(|l| l.contains(&url)).unwrap_or_else(|| panic!("no line for {url}: {text}"));
            assert!(line.split(&url).nth(1).is_some_and(|rest| rest.contains("404")), "{text}");
        }
        assert_eq!(err.exit_code(), crate::error::exit::NETWORK);
        assert!(!root.path().join("cache").exists(), "the directories made for the download are gone");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }
}
