//! `unigen report`: the HTML report of one or more runs.

use std::path::PathBuf;

use anyhow::Context;

use unigen::runs::Run;
use unigen::atomic::write_atomic;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Run directories written by `unigen train` (several: their curves are overlaid).
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// The HTML file (default: RUN_DIR/report.html for one run, report.html for several).
    #[arg(long, value_name = "FILE.html")]
    pub out: Option<PathBuf>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let runs: Vec<Run> = a.runs.iter().map(|d| Run::read(d).with_context(|| format!("reading the run in {}", d.display()))).collect::<Result<_, _>>()?;
    let names: Vec<String> = a.runs.iter().map(|d| d.display().to_string()).collect();
    let generated = format!(
        "Written by unigen {} on {} from {}.",
        env!("CARGO_PKG_VERSION"),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        names.join(", ")
    );
    let page = unigen::report::html(&runs, &names, &generated)?;
    let out = a.out.unwrap_or_else(|| if a.runs.len() == 1 { a.runs[0].join("report.html") } else { PathBuf::from("report.html") });
    write_atomic(&out, page.as_bytes())?;
    super::emit(serde_json::json!({ "report": out, "bytes": page.len(), "runs": names }), || println!("{}", out.display()))
}
