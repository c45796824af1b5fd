// Shared by the targets: the readers take paths, so each input is written to a file on a tmpfs
// first (the same code path a user's file takes).
use std::path::PathBuf;

pub fn file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("unigen-fuzz-{}", std::process::id())).join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Every error must name the file it is about.
pub fn names(e: unigen::Error, name: &str) {
    let m = e.to_string();
    assert!(m.contains(name), "the error does not name {name}: {m}");
}
