//! `unigen jobs`: any list of commands (a `reproduce --plan`, a sweep written by hand) run N at a
//! time on this machine, the cores split between them, as `reproduce --jobs` splits them between
//! its runs.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A file of shell commands, one per line (`-`: standard input); blank lines and lines
    /// starting with `#` are skipped.
    #[arg(value_name = "FILE")]
    pub plan: PathBuf,
    /// Commands run at once; each gets `cores / N` threads (RAYON_NUM_THREADS). Default: the
    /// cores, at most 2 (measured on 2 cores: two one-thread runs make 1.22-1.25 times the steps
    /// of one two-thread run, docs/performance.md).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let text = if a.plan.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the commands from standard input")?
    } else {
        std::fs::read_to_string(&a.plan).map_err(|e| unigen::Error::io(&a.plan, e))?
    };
    // (line number, command)
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !l.is_empty() && !l.starts_with('#')).collect();
    ensure_input!(!lines.is_empty(), "{}: no commands in it", a.plan.display());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = a.jobs.unwrap_or(cores.min(2));
    ensure_arg!(jobs >= 1, "--jobs must be at least 1");
    let jobs = jobs.min(lines.len());
    let threads = (cores / jobs).max(1);
    // Ctrl-C reaches the running commands too (one process group): they stop and save; no new
    // command starts after it.
    let interrupt = unigen::interrupt::Interrupt::on_signals()?;
    say!("{} commands, {jobs} at a time, {threads} thread(s) each", lines.len());
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                while interrupt.raised().is_none() {
                    let Some(&(line, command)) = lines.get(next.fetch_add(1, Ordering::SeqCst)) else { break };
                    let started = Instant::now();
                    say!("line {line}: started: {command}");
                    let status = Command::new("sh").args(["-c", command]).env("RAYON_NUM_THREADS", threads.to_string()).status();
                    let secs = started.elapsed().as_secs_f64();
                    let why = match status {
                        Ok(s) if s.success() => {
                            say!("line {line}: done in {secs:.0} s");
                            continue;
                        }
                        Ok(s) => s.to_string(),
                        Err(e) => format!("could not start sh: {e}"),
                    };
                    say!("line {line}: failed ({why}) after {secs:.0} s");
                    failed.lock().expect("no panics while held").push((line, why));
                }
            });
        }
    });
    let mut failed = failed.into_inner().expect("no panics while held");
    failed.sort();
    if let Some(signal) = interrupt.raised() {
        // The commands under way got the signal too and have stopped (training saves first).
        eprintln!("stopped by signal {signal}: no further command started; rerun the list to continue (a reproduce plan skips finished runs)");
        std::process::exit(unigen::error::exit::interrupted(signal) as i32);
    }
    ensure_input!(
        failed.is_empty(),
        "{}: {} of {} commands failed: {}",
        a.plan.display(),
        failed.len(),
        lines.len(),
        failed.iter().map(|(l, why)| format!("line {l} ({why})")).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}
