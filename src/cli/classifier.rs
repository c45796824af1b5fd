//! `unigen classifier`: the reference MNIST classifier every image metric reads.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;

use unigen::backend::Backend;
use unigen::data::{self, DataSource, Split};
use unigen::eval::classifier::{self, CLASSES, TrainSettings};
use unigen::eval::inception::{SPLITS, inception_score};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Train your own LeNet-style classifier on MNIST (one ships with unigen: `classifier show`),
    /// report its test accuracy and the real-data inception score (the ceiling for generated
    /// digits), and save it with its fingerprint.
    #[command(after_help = "Examples:\n  \
        unigen classifier train                          # MNIST from --data mnist's search path\n  \
        unigen classifier train --data-dir ~/mnist --seed 0\n\n\
        Its time is proportional to --epochs, each a pass over the 60,000 training digits; every epoch's\n\
        line shows the time so far, so the first tells the whole. Saved to --out, else $UNIGEN_CLASSIFIER,\n\
        else ~/.cache/unigen/classifier/mnist-lenet.safetensors. The metrics use the classifier shipped\n\
        with unigen unless given yours: `--classifier FILE`, or UNIGEN_CLASSIFIER=FILE.")]
    Train {
        /// Directory with the four MNIST IDX files (default: where `--data mnist` looks).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long, default_value_t = TrainSettings::default().epochs)]
        epochs: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output file (default: the cache path above).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the classifier's file, fingerprint, test accuracy and real-data inception score.
    #[command(after_help = "Examples:\n  unigen classifier show\n  unigen classifier show --classifier my-lenet.safetensors --json")]
    Show {
        /// The classifier file (default: $UNIGEN_CLASSIFIER, else the one shipped with unigen).
        #[arg(long, value_name = "FILE")]
        classifier: Option<PathBuf>,
    },
}

pub fn run(c: Command, backend: Backend) -> anyhow::Result<()> {
    let device = backend.device()?;
    match c {
        Command::Train { data_dir, epochs, seed, out } => {
            ensure_arg!(epochs > 0, "--epochs must be at least 1");
            let source = DataSource::resolve(Some("mnist"), data_dir)?;
            let train = data::load(&source, Split::Train, 0, 0)?;
            let test = data::load(&source, Split::Test, 0, 0)?;
            let settings = TrainSettings { epochs, seed, ..TrainSettings::default() };
            let started = std::time::Instant::now();
            let model = classifier::train(&train, &settings, &device, |epoch, loss| {
                say!("epoch {epoch}/{epochs}  train cross-entropy {loss:.4}  ({:.0} s)", started.elapsed().as_secs_f64())
            })?;
            let out = match out {
                Some(p) => p,
                None => classifier::default_path()?,
            };
            // Score before saving, so the file records how good it is.
            let outputs = model.classify(&test.x, &device);
            let accuracy = outputs.accuracy(&test.labels);
            let (is_mean, is_std) = inception_score(&outputs.log_probs, CLASSES, SPLITS);
            let meta: BTreeMap<String, String> = [
                ("test_accuracy", accuracy.to_string()),
                ("real_inception_score", is_mean.to_string()),
                ("real_inception_score_std", is_std.to_string()),
                ("seed", seed.to_string()),
                ("epochs", epochs.to_string()),
                ("train_examples", train.len().to_string()),
                ("train_wall_s", format!("{:.0}", started.elapsed().as_secs_f64())),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            let fingerprint = classifier::save(&model, &out, &meta).with_context(|| format!("saving {}", out.display()))?;
            let value = serde_json::json!({ "file": out, "fingerprint": fingerprint, "meta": meta });
            super::emit(value, || {
                println!("{}", out.display());
                println!("  fingerprint {fingerprint}");
                println!("  test accuracy {:.2}% on {} digits", 100.0 * accuracy, test.len());
                println!("  inception score of the real test digits (the ceiling): {is_mean:.3} ± {is_std:.3}");
            })?;
            if accuracy < 0.99 {
                eprintln!("warning: test accuracy is below 99%; train longer (--epochs) before trusting the metrics");
            }
        }
        Command::Show { classifier } => {
            let r = classifier::reference(classifier.as_deref(), &device)?;
            let meta: BTreeMap<&String, &String> = r.meta.iter().filter(|(k, _)| !["format", "content_sha256"].contains(&k.as_str())).collect();
            super::emit(serde_json::json!({ "file": r.path, "fingerprint": r.fingerprint, "meta": meta }), || {
                println!("{}", r.path.display());
                println!("  fingerprint {}", r.fingerprint);
                for (k, v) in &meta {
                    println!("  {k} {v}");
                }
            })?;
        }
    }
    Ok(())
}
