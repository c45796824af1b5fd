//! Checkpoints: one safetensors file holding every network of a model under its part name
//! (`model.*` for a VAE, `generator.*` and `discriminator.*` for a GAN), each part's optimiser
//! state (`optimizer.PART`, burn's own record as bytes), and metadata (step, run spec, running sums).
//!
//! Written atomically (temporary file, fsync, rename) so a kill or a full disk never leaves a
//! half-written checkpoint under the real name; the SHA-256 of the contents is stored in the
//! metadata and checked on load, so a damaged file is refused, never loaded half-way.
//! The random state needs no field: every draw is a function of `(seed, purpose, step)`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::ModuleOptimizer;
use burn::optim::record::OptimizerRecord;
use burn::store::burn_pack::Tensor as PackTensor;
use burn::store::{ModuleSnapshot, bridge};
use burn::tensor::{Bytes, DType, Tensor, TensorData};
use safetensors::tensor::{Dtype, TensorView};
use sha2::{Digest, Sha256};

use crate::atomic::write_atomic;
use crate::error::{Error, Result};

const FORMAT: &str = "unigen-checkpoint/1";
const OPTIMIZER: &str = "optimizer";
const HASH_KEY: &str = "content_sha256";

/// The first parameter id of a discriminator, apart from its model's (GANs' and AA-VAEs').
pub const DISCRIMINATOR_IDS: u64 = 1 << 32;

/// Gives every parameter the id of its position in the module, so that ids (which burn draws at
/// random per process) are the same in every process and the optimiser's state, keyed by id,
/// finds its parameters again after a restart.
/// `first` keeps the ids of the networks of one model apart.
pub fn number_params<M: Module>(module: M, first: u64) -> M {
    struct Renumber(u64);
    impl ModuleMapper for Renumber {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let (_, value, mapper) = param.consume();
            self.0 += 1;
            Param::from_mapped_value(ParamId::from(self.0), value, mapper)
        }
    }
    module.map(&mut Renumber(first))
}

fn bad(path: &Path, problem: impl Into<String>) -> Error {
    Error::Checkpoint { path: path.to_path_buf(), problem: problem.into() }
}

/// SHA-256 over the metadata (but the hash itself) and every tensor, in name order.
fn content_hash(meta: &BTreeMap<String, String>, tensors: &BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)>) -> String {
    let mut h = Sha256::new();
    for (k, v) in meta.iter().filter(|(k, _)| *k != HASH_KEY) {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    for (name, (dtype, shape, bytes)) in tensors {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        h.update(format!("{dtype:?}{shape:?}").as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    crate::data::mnist::hex(&h.finalize())
}

fn st_dtype(d: DType) -> Option<Dtype> {
    Some(match d {
        DType::F32 => Dtype::F32,
        DType::F64 => Dtype::F64,
        DType::I64 => Dtype::I64,
        DType::U8 => Dtype::U8,
        _ => return None,
    })
}

fn burn_dtype(d: Dtype) -> Option<DType> {
    Some(match d {
        Dtype::F32 => DType::F32,
        Dtype::F64 => DType::F64,
        Dtype::I64 => DType::I64,
        Dtype::U8 => DType::U8,
        _ => return None,
    })
}

/// An optimiser record with its tensors in name order. burn lists them in the order of a hash
/// map, which differs between processes, so the same state would give different bytes and
/// identical runs different checkpoints.
fn canonical(record: Bytes) -> std::result::Result<Bytes, burn::store::burn_pack::Error> {
    use burn::store::burn_pack::{Reader, Writer};
    let reader = Reader::from_bytes(record)?;
    let (scalars, metadata) = (reader.scalars().clone(), reader.metadata().clone());
    let mut tensors = reader.into_tensors()?;
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    let mut writer = Writer::new(tensors);
    for (k, v) in &scalars {
        writer = writer.with_scalar(k, *v);
    }
    for (k, v) in &metadata {
        writer = writer.with_metadata(k, v);
    }
    writer.into_bytes()
}

/// A safetensors file with its header's keys in order: `serialize` writes the metadata in the
/// order of a hash map, and the same checkpoint should be the same bytes. The data section is
/// unchanged (its offsets are relative to it); the header is padded to 8 bytes as the format asks.
fn sorted_header(file: &[u8]) -> Vec<u8> {
    let n = u64::from_le_bytes(file[..8].try_into().expect("8-byte length")) as usize;
    let mut header: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&file[8..8 + n]).expect("safetensors wrote JSON");
    if let Some(meta) = header.get_mut("__metadata__") {
        let sorted: BTreeMap<String, String> = serde_json::from_value(meta.take()).expect("metadata is strings");
        *meta = serde_json::to_value(sorted).expect("strings serialise");
    }
    let mut text = serde_json::to_vec(&header).expect("JSON serialises");
    text.resize(text.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + text.len() + file.len() - 8 - n);
    out.extend((text.len() as u64).to_le_bytes());
    out.extend(text);
    out.extend(&file[8 + n..]);
    out
}

/// The step recorded in a checkpoint's metadata (see [`peek_meta`]).
pub fn peek_step(path: &Path) -> Option<u64> {
    peek_meta(path)?.get("step")?.parse().ok()
}

/// A checkpoint's metadata (`step`, `total_steps`, `steps_per_epoch`, ...), read from its header
/// alone: neither its tensors nor its content hash are read (that is [`read`]'s work), so listing
/// many runs stays cheap. Keys added later are absent from older checkpoints.
pub fn peek_meta(path: &Path) -> Option<BTreeMap<String, String>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len).ok()?;
    let len = u64::from_le_bytes(len);
    if len > 100 << 20 {
        return None;
    }
    let mut header = vec![0u8; len as usize];
    f.read_exact(&mut header).ok()?;
    let mut v: serde_json::Value = serde_json::from_slice(&header).ok()?;
    serde_json::from_value(v.get_mut("__metadata__")?.take()).ok()
}

/// One network of a model and its optimiser, under a part name (`model`, `generator`, ...).
pub struct Part<'a> {
    pub name: &'static str,
    pub tensors: Vec<PackTensor>,
    /// `None` for a network saved for inference only (the reference classifier).
    pub optimizer: Option<&'a ModuleOptimizer>,
}

impl<'a> Part<'a> {
    pub fn new<M: Module + ModuleSnapshot>(name: &'static str, module: &M, optimizer: &'a ModuleOptimizer) -> Self {
        Part { name, tensors: current(module), optimizer: Some(optimizer) }
    }

    /// A network without optimiser state.
    pub fn weights<M: Module + ModuleSnapshot>(name: &'static str, module: &M) -> Self {
        Part { name, tensors: current(module), optimizer: None }
    }
}

/// A module's tensors as they are now. Batch norm keeps its latest running statistics pending
/// until a sync, and reading the state gives the value from one update before; `valid()` syncs
/// the (shared) state, so a checkpoint holds exactly what the next step will read.
fn current<M: Module + ModuleSnapshot>(module: &M) -> Vec<PackTensor> {
    let _ = module.valid();
    module.collect(None, None, false)
}

/// Saves every part and `meta` to `path` atomically.
pub fn save(path: &Path, parts: &[Part], meta: &BTreeMap<String, String>) -> Result<()> {
    save_as(path, parts, meta, FORMAT)
}

/// [`save`] under another file format name (the same layout, for other kinds of weight files).
pub fn save_as(path: &Path, parts: &[Part], meta: &BTreeMap<String, String>, format: &str) -> Result<()> {
    let mut tensors = BTreeMap::new();
    for part in parts {
        for t in &part.tensors {
            let data = bridge::to_data(t).map_err(|e| bad(path, format!("reading tensor {}: {e}", t.name)))?;
            let dtype = st_dtype(data.dtype()).ok_or_else(|| bad(path, format!("tensor {} has dtype {:?}", t.name, data.dtype())))?;
            tensors.insert(format!("{}.{}", part.name, t.name), (dtype, data.shape().to_vec(), data.as_bytes().to_vec()));
        }
        if let Some(optimizer) = part.optimizer {
            let opt = optimizer
                .into_bytes()
                .and_then(|b| Ok(canonical(b)?))
                .map_err(|e| bad(path, format!("serialising the {} optimizer: {e}", part.name)))?;
            tensors.insert(format!("{OPTIMIZER}.{}", part.name), (Dtype::U8, vec![opt.len()], opt.to_vec()));
        }
    }
    save_tensors(path, tensors, meta, format)
}

/// Raw tensors (`part.name` -> dtype, shape, bytes) and `meta` in the layout of [`save`], hashed
/// and written atomically: for a run's files that hold data rather than networks.
pub fn save_tensors(path: &Path, tensors: BTreeMap<String, (Dtype, Vec<usize>, Vec<u8>)>, meta: &BTreeMap<String, String>, format: &str) -> Result<()> {
    let mut meta = meta.clone();
    meta.insert("format".into(), format.into());
    let hash = content_hash(&meta, &tensors);
    meta.insert(HASH_KEY.into(), hash);
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .map(|(n, (d, s, b))| (n.clone(), TensorView::new(*d, s.clone(), b).expect("shape matches bytes")))
        .collect();
    let bytes = safetensors::serialize(views, Some(meta.into_iter().collect::<HashMap<_, _>>()))
        .map_err(|e| bad(path, e.to_string()))?;
    write_atomic(path, &sorted_header(&bytes))
}

/// A checkpoint read and verified, not yet applied.
pub struct Loaded {
    pub path: PathBuf,
    pub meta: BTreeMap<String, String>,
    /// Each part's tensors, by name within the part.
    parts: BTreeMap<String, Vec<(String, TensorData)>>,
    optimizers: BTreeMap<String, Vec<u8>>,
}

/// Reads and verifies `path` (format, content hash); nothing is applied yet.
pub fn read(path: &Path) -> Result<Loaded> {
    read_as(path, FORMAT)
}

/// [`read`] for a file written by [`save_as`] with `format`.
pub fn read_as(path: &Path, format: &str) -> Result<Loaded> {
    let buf = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    read_bytes_as(&buf, path, format)
}

/// [`read_as`] on a file's bytes already in memory (`path` names it in errors).
pub fn read_bytes_as(buf: &[u8], path: &Path, format: &str) -> Result<Loaded> {
    let (_, header) = safetensors::SafeTensors::read_metadata(buf).map_err(|e| bad(path, e.to_string()))?;
    let meta: BTreeMap<String, String> = header.metadata().clone().unwrap_or_default().into_iter().collect();
    if meta.get("format").map(String::as_str) != Some(format) {
        return Err(bad(path, format!("format is {:?}, expected {format:?}", meta.get("format"))));
    }
    let st = safetensors::SafeTensors::deserialize(buf).map_err(|e| bad(path, e.to_string()))?;
    let mut tensors = BTreeMap::new();
    for (name, view) in st.tensors() {
        tensors.insert(name, (view.dtype(), view.shape().to_vec(), view.data().to_vec()));
    }
    let stored = meta.get(HASH_KEY).ok_or_else(|| bad(path, "no content hash"))?;
    if *stored != content_hash(&meta, &tensors) {
        return Err(bad(path, "content hash mismatch: the file was modified or damaged; refusing to load it"));
    }
    let mut parts: BTreeMap<String, Vec<(String, TensorData)>> = BTreeMap::new();
    let mut optimizers = BTreeMap::new();
    for (full, (dtype, shape, bytes)) in tensors {
        let (part, name) = full.split_once('.').ok_or_else(|| bad(path, format!("unexpected tensor {full}")))?;
        if part == OPTIMIZER {
            optimizers.insert(name.to_string(), bytes);
            continue;
        }
        let dtype = burn_dtype(dtype).ok_or_else(|| bad(path, format!("tensor {full} has dtype {dtype:?}")))?;
        parts.entry(part.to_string()).or_default().push((name.to_string(), TensorData::from_bytes_vec(bytes, shape, dtype)));
    }
    Ok(Loaded { path: path.to_path_buf(), meta, parts, optimizers })
}

impl Loaded {
    /// The tensors of every part, by full name, in name order.
    pub fn tensors(&self) -> impl Iterator<Item = (String, &TensorData)> {
        self.parts.iter().flat_map(|(part, ts)| ts.iter().map(move |(n, d)| (format!("{part}.{n}"), d)))
    }

    /// One tensor by its full name (`part.name`).
    pub fn tensor(&self, full_name: &str) -> Option<&TensorData> {
        let (part, name) = full_name.split_once('.')?;
        self.parts.get(part)?.iter().find(|(n, _)| n == name).map(|(_, d)| d)
    }

    /// SHA-256 of one part's weights (names, dtypes, shapes and bytes, in name order): the
    /// fingerprint of a network, independent of the file's metadata.
    pub fn weights_sha256(&self, part: &str) -> Option<String> {
        let tensors = self.parts.get(part)?;
        let mut h = Sha256::new();
        for (name, d) in tensors {
            h.update((name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update(format!("{:?}{:?}", d.dtype(), d.shape()).as_bytes());
            h.update(d.as_bytes());
        }
        Some(crate::data::mnist::hex(&h.finalize()))
    }

    /// SHA-256 of the training state: every part's weights and every optimiser's state, without
    /// the metadata (which holds wall time). Two runs that end bit-identical have the same digest.
    pub fn state_sha256(&self) -> String {
        let mut h = Sha256::new();
        for part in self.parts.keys() {
            h.update(self.weights_sha256(part).expect("the part exists").as_bytes());
        }
        for (part, bytes) in &self.optimizers {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        crate::data::mnist::hex(&h.finalize())
    }

    /// A part's optimiser state, serialised.
    pub fn optimizer_bytes(&self, part: &str) -> Option<&[u8]> {
        self.optimizers.get(part).map(Vec::as_slice)
    }

    /// Loads the weights of `part` into `module`, which must have exactly its tensors and shapes.
    pub fn apply<M: ModuleSnapshot>(&self, part: &str, module: &mut M) -> Result<()> {
        let path = &self.path;
        let stored = self.parts.get(part).ok_or_else(|| bad(path, format!("no `{part}` in this checkpoint (is it the same model?)")))?;
        let tensors = stored.iter().map(|(n, d)| bridge::from_data(d.clone(), n.clone(), None)).collect();
        let r = module.apply(tensors, None, None, false);
        if !r.errors.is_empty() || !r.missing.is_empty() || !r.unused.is_empty() {
            return Err(bad(
                path,
                format!(
                    "`{part}` does not fit this model (is the config the same?): errors {:?}, missing {:?}, unexpected {:?}",
                    r.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                    r.missing.iter().map(|m| &m.0).collect::<Vec<_>>(),
                    r.unused
                ),
            ));
        }
        Ok(())
    }

    /// `optim` with the saved state of `part`'s optimiser.
    /// [`Loaded::apply`] and [`Loaded::optimizer`] together: a trained network and its optimiser.
    pub fn restore<M: ModuleSnapshot>(&self, part: &str, module: &mut M, optim: ModuleOptimizer) -> Result<ModuleOptimizer> {
        self.apply(part, module)?;
        self.optimizer(part, optim)
    }

    pub fn optimizer(&self, part: &str, optim: ModuleOptimizer) -> Result<ModuleOptimizer> {
        let bytes = self.optimizer_bytes(part).ok_or_else(|| bad(&self.path, format!("no optimizer state for `{part}`")))?;
        let record = OptimizerRecord::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
            .map_err(|e| bad(&self.path, format!("optimizer state of `{part}`: {e}")))?;
        Ok(optim.load_record(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Activation;
    use crate::nets::{Mlp, MlpConfig};
    use proptest::prelude::*;

    /// A checkpoint of a small network and its optimiser, after one step, as bytes.
    fn checkpoint_bytes() -> (Vec<u8>, String) {
        use burn::optim::GradientsParams;
        let dev = crate::testing::device();
        let net: Mlp = crate::backend::seeded(3, &dev, || MlpConfig::new(4, vec![5], 2, Activation::Relu).init(&dev));
        let net = number_params(net, 0);
        let mut optim = crate::models::step::optimizer(&crate::config::TrainConfig::default_for(crate::config::DataKind::Points2d, crate::models::ModelKind::Vae));
        let loss = net.forward(crate::testing::t2(&crate::testing::pattern(12, 1), [3, 4])).tanh().sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let net = optim.step(1e-3, net, grads);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.safetensors");
        let meta: BTreeMap<String, String> = [("step".to_string(), "1".to_string())].into();
        save(&path, &[Part::new("model", &net, &optim)], &meta).unwrap();
        let state = read(&path).unwrap().state_sha256();
        (std::fs::read(&path).unwrap(), state)
    }

    #[test]
    fn saving_the_same_state_twice_gives_the_same_bytes() {
        // burn lists an optimiser's tensors in hash-map order; `canonical` sorts them.
        let (a, state_a) = checkpoint_bytes();
        let (b, state_b) = checkpoint_bytes();
        assert_eq!(state_a, state_b);
        assert!(a == b, "two saves of the same state differ");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any change to a checkpoint's bytes is refused with the file named, or (where it only
        /// touched the header's layout) loads the very same state: never a half-loaded model.
        #[test]
        fn a_changed_checkpoint_is_refused_or_loads_the_same_state(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
            cut in proptest::option::of(any::<prop::sample::Index>()),
        ) {
            static ORIGINAL: std::sync::OnceLock<(Vec<u8>, String)> = std::sync::OnceLock::new();
            let (original, state) = ORIGINAL.get_or_init(checkpoint_bytes);
            let bytes = crate::testing::damage(original.clone(), &flips, cut);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("changed.safetensors");
            std::fs::write(&path, &bytes).unwrap();
            match read(&path) {
                Ok(loaded) => prop_assert_eq!(&loaded.state_sha256(), state),
                Err(e) => prop_assert!(e.to_string().contains("changed.safetensors"), "{}", e),
            }
        }
    }
}
