//! Scores generated digits made anywhere (a PyTorch model, another tool) with unigen's image
//! metrics: inception score, Fréchet distance, precision and recall against the MNIST test set,
//! all read off the reference classifier, whose fingerprint is printed with them.
//!
//! `cargo run --release --example score_images -- SAMPLES MNIST_DIR [CLASSIFIER]`
//!
//! SAMPLES: a `.npy` array `[n, 28, 28]` or `[n, 784]` (float in [0, 1], or uint8), an IDX image
//! file, or a directory of 28x28 PNGs. CLASSIFIER: a file written by `unigen classifier train`
//! (default: `$UNIGEN_CLASSIFIER`, else the classifier shipped with unigen). `unigen eval SAMPLES` does the same from
//! the command line.
use std::path::PathBuf;

use unigen::data::{self, DataSource, Split, samples};
use unigen::eval::{classifier, images};

fn main() -> unigen::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [fake_file, mnist, rest @ ..] = args.as_slice() else {
        eprintln!("usage: score_images SAMPLES MNIST_DIR [CLASSIFIER]");
        std::process::exit(2);
    };
    let device = unigen::backend::Backend::Flex.device()?;
    let reference = classifier::reference(rest.first().map(PathBuf::from).as_deref(), &device)?;
    let real = data::load(&DataSource::Mnist { dir: mnist.into() }, Split::Test, 0, 0)?;
    let fake = samples::read_images(fake_file.as_ref())?;
    let s = images::score(&reference, &real.x, &fake, None, &device);
    println!("{} samples against {} real digits, classifier {}", s.n_samples, s.n_real, reference.short());
    println!("inception score   {:.3} ± {:.3}", s.inception_score, s.inception_score_std);
    println!("Fréchet distance  {:.3}", s.frechet_distance);
    println!("precision {:.3}  recall {:.3}", s.precision, s.recall);
    Ok(())
}
