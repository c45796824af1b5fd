//! The library's error type: every variant names what the user must fix
//! (the file, the field, what was expected and what was found).

use std::path::PathBuf;

/// Errors from unigen's library code. The CLI adds context with `anyhow`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The OS error is part of the message, not a separate cause, so it is printed once.
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },

    #[error("{path}: {problem}")]
    Idx { path: PathBuf, problem: IdxProblem },

    #[error("{path}: {problem}")]
    Config { path: String, problem: String },

    /// Something needed is missing: the data set, the reference classifier.
    #[error("{0}")]
    NotFound(String),

    #[error("{dir} is not a run directory (it has no run.toml): give a directory written by `unigen train`")]
    NotARun { dir: PathBuf },

    /// Another process writes into the directory (see [`crate::run::lock`]).
    #[error("{dir} is in use by another unigen process ({holder}); wait for it to end, or choose another directory")]
    Locked { dir: PathBuf, holder: String },

    /// A resumed run's flag contradicts what its run.toml records.
    #[error("{flag} {given} contradicts the run in {dir}, which records {recorded} ({file}); --resume takes it from there, so drop the flag or choose another --out")]
    ResumeConflict { dir: PathBuf, file: &'static str, flag: &'static str, given: String, recorded: String },

    /// SIGINT or SIGTERM stopped training at a step boundary, after saving the checkpoint.
    #[error("interrupted by {} at step {step} of {total}; the checkpoint of step {step} is saved in {}", signal_name(*.signal), .dir.display())]
    Interrupted { signal: i32, step: u64, total: u64, dir: PathBuf },

    #[error("{path}: SHA-256 {found} does not match the expected {expected}")]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },

    #[error("download of {url} failed: {reason}")]
    Download { url: String, reason: String },

    #[error("{path}: not a valid unigen checkpoint: {problem}")]
    Checkpoint { path: PathBuf, problem: String },

    #[error("writing the checkpoint of step {step} to {path} failed: {cause}; the previous checkpoint is intact")]
    CheckpointWrite { path: PathBuf, step: u64, cause: std::io::Error },

    #[error(
        "non-finite loss at step {step} (epoch {epoch}): {term} = {value}; \
         the last good checkpoint is kept"
    )]
    NonFinite {
        step: u64,
        epoch: usize,
        term: String,
        value: f64,
    },

    #[error("{0}")]
    Invalid(String),
}

/// What is wrong with an IDX file; each case is distinct so tests (and users) can tell them apart.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IdxProblem {
    #[error("file is empty")]
    Empty,
    #[error("not gzip data or a corrupt gzip stream: {0}")]
    Gzip(String),
    #[error("magic number {found:#010x}, expected {expected:#010x} ({what})")]
    Magic {
        found: u32,
        expected: u32,
        what: &'static str,
    },
    #[error("header truncated: {found} bytes, need {needed}")]
    HeaderTruncated { found: usize, needed: usize },
    #[error("image size {rows}x{cols}, expected 28x28")]
    Dims { rows: u32, cols: u32 },
    #[error("truncated: header promises {expected} bytes of data, found {found}")]
    Truncated { expected: usize, found: usize },
    #[error("{extra} unexpected bytes after the data")]
    TrailingBytes { extra: usize },
    #[error("label {label} at index {index} is out of range 0..=9")]
    LabelRange { label: u8, index: usize },
    #[error("{images} images but {labels} labels in the paired label file")]
    CountMismatch { images: usize, labels: usize },
    #[error("zero items")]
    NoItems,
}

/// The exit status of `unigen` for each kind of failure (also in the README and `unigen --help`).
pub mod exit {
    /// Anything else (a bug, or an error outside these kinds).
    pub const FAILURE: u8 = 1;
    /// Bad command line (clap's own status for usage errors).
    pub const USAGE: u8 = 2;
    /// A file or setting was refused: config, data file, checkpoint, sample file, checksum.
    pub const BAD_INPUT: u8 = 3;
    /// Something needed is missing: the data set, a run, the classifier.
    pub const NOT_FOUND: u8 = 4;
    /// Training stopped on a NaN or infinite loss (the last good checkpoint is kept).
    pub const NON_FINITE: u8 = 5;
    /// Reading or writing failed: disk full, permissions.
    pub const IO: u8 = 6;
    /// A download failed.
    pub const NETWORK: u8 = 7;

    /// Stopped by a signal (SIGINT 130, SIGTERM 143), as a shell reports a process it killed.
    pub fn interrupted(signal: i32) -> u8 {
        (128 + signal).clamp(0, 255) as u8
    }

    /// The status of a failed read or write: missing, or anything else that stopped the I/O.
    pub fn of_io(e: &std::io::Error) -> u8 {
        if e.kind() == std::io::ErrorKind::NotFound { NOT_FOUND } else { IO }
    }
}

impl Error {
    /// The process exit status for this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Io { cause, .. } => exit::of_io(cause),
            Error::CheckpointWrite { .. } => exit::IO,
            Error::NotFound(_) | Error::NotARun { .. } => exit::NOT_FOUND,
            Error::Interrupted { signal, .. } => exit::interrupted(*signal),
            Error::NonFinite { .. } => exit::NON_FINITE,
            Error::Download { .. } => exit::NETWORK,
            Error::Idx { .. } | Error::Config { .. } | Error::Checksum { .. } | Error::Checkpoint { .. } | Error::Invalid(_) => exit::BAD_INPUT,
            Error::Locked { .. } | Error::ResumeConflict { .. } => exit::BAD_INPUT,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), cause: source }
    }
}

/// `SIGINT`, `SIGTERM`, or the number.
pub fn signal_name(signal: i32) -> String {
    match signal {
        2 => "SIGINT (Ctrl-C)".into(),
        15 => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
