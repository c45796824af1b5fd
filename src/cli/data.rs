//! `unigen data fetch` and `unigen data check`.

use std::path::PathBuf;

use anyhow::Context;

use unigen::data::{fetch, mnist};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Download a data set, verify its SHA-256 digests and store it atomically.
    #[command(after_help = "Example:\n  unigen data fetch mnist                 # into the user cache, where --data mnist looks\n  \
        unigen data fetch mnist --dir data/mnist")]
    Fetch {
        /// The data set (only mnist needs fetching; ring8 and grid25 are built in).
        #[arg(value_parser = ["mnist"])]
        name: String,
        /// Target directory (default: $UNIGEN_DATA/mnist if set, else the user cache).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Mirror base URLs to try, in order (default: the public MNIST mirrors).
        #[arg(long = "mirror", value_name = "URL")]
        mirrors: Vec<String>,
    },
    /// Validate the four MNIST IDX files in a directory and compare them with the canonical digests.
    #[command(after_help = "Example:\n  unigen data check ~/mnist")]
    Check {
        dir: PathBuf,
    },
}

pub fn run(c: Command) -> anyhow::Result<()> {
    match c {
        Command::Fetch { name: _, dir, mirrors } => {
            let dir = match dir {
                Some(d) => d,
                None => mnist::search_path().into_iter().next().context("no cache directory on this system; pass --dir")?,
            };
            let mirrors = if mirrors.is_empty() { fetch::MNIST_MIRRORS.iter().map(|m| m.to_string()).collect() } else { mirrors };
            let got = fetch::fetch(&dir, &mirrors, &fetch::mnist_files(), |url| say!("fetching {url}"))
                .with_context(|| {
                    format!(
                        "fetching MNIST into {} failed; if you have the four IDX files elsewhere, any command reads them with --data-dir DIR",
                        dir.display()
                    )
                })?;
            let rows: Vec<_> = got
                .iter()
                .map(|f| match f {
                    fetch::Fetched::AlreadyPresent(p) => serde_json::json!({ "path": p, "source": "already present" }),
                    fetch::Fetched::Downloaded { path, url } => serde_json::json!({ "path": path, "source": url }),
                })
                .collect();
            super::emit(serde_json::json!(rows), || {
                for r in &rows {
                    println!("ok ({}) {}", r["source"].as_str().unwrap_or(""), r["path"].as_str().unwrap_or(""));
                }
            })
        }
        Command::Check { dir } => {
            let checks = mnist::check(&dir).with_context(|| format!("checking {}", dir.display()))?;
            let rows: Vec<_> = checks.iter().map(|c| serde_json::json!({ "path": c.path, "items": c.items, "canonical": c.canonical })).collect();
            super::emit(serde_json::json!(rows), || {
                for c in &checks {
                    println!(
                        "{:<60} {:>6} items  {}",
                        c.path.display(),
                        c.items,
                        if c.canonical { "canonical MNIST" } else { "valid IDX, but NOT the canonical MNIST digest" }
                    );
                }
            })
        }
    }
}
