//! Ctrl-C (SIGINT) and SIGTERM during training: the first asks the loop to stop at the next step
//! boundary, save its checkpoint and return [`crate::Error::Interrupted`]; a second one ends the
//! process at once (exit status 130 or 143), for a user who does not want to wait for the save.
//!
//! The handlers only set flags (`signal-hook`, async-signal-safe); the loop reads them between
//! steps, so a checkpoint is never written from inside a signal handler.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::exit;

/// A request to stop, shared between whoever raises it and the training loop that honours it.
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<AtomicUsize>);

impl Interrupt {
    /// A request that is raised only by [`Interrupt::raise`] (library use, tests).
    pub fn new() -> Interrupt {
        Interrupt::default()
    }

    /// The process's request, raised by SIGINT and SIGTERM from now on. Installed once; later
    /// calls return the same request.
    pub fn on_signals() -> std::io::Result<Interrupt> {
        static INSTALLED: OnceLock<Interrupt> = OnceLock::new();
        if let Some(i) = INSTALLED.get() {
            return Ok(i.clone());
        }
        let interrupt = Interrupt::new();
        let seen = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registered first, so it sees the flag as the previous signal left it: the second
            // signal exits at once, the first only sets the flags.
            signal_hook::flag::register_conditional_shutdown(signal, exit::interrupted(signal) as i32, Arc::clone(&seen))?;
            signal_hook::flag::register(signal, Arc::clone(&seen))?;
            signal_hook::flag::register_usize(signal, Arc::clone(&interrupt.0), signal as usize)?;
        }
        Ok(INSTALLED.get_or_init(|| interrupt).clone())
    }

    /// Asks the loop to stop as if `signal` had arrived.
    pub fn raise(&self, signal: i32) {
        self.0.store(signal as usize, Ordering::SeqCst);
    }

    /// The signal that asked to stop, if one did.
    pub fn raised(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s as i32),
        }
    }
}
