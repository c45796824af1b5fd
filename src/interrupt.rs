//! Ctrl-C (SIGINT) and SIGTERM during training: the first asks the loop to stop at the next step
//! boundary, save its checkpoint and return [`crate::Error::Interrupted`]; a second one ends the
//! process at once (exit status 130 or 143), for a user who does not want to wait for the save.
//!
//! The handler only records the signal in one atomic step (`signal-hook`, async-signal-safe); the
//! loop reads it between steps, so a checkpoint is never written from inside a signal handler.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

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
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let request = interrupt.clone();
            let code = exit::interrupted(signal) as i32;
            // SAFETY: the handler only does an atomic compare-exchange and `_exit`, both
            // async-signal-safe; it allocates nothing and takes no lock.
            unsafe {
                signal_hook::low_level::register(signal, move || {
                    if !request.record(signal) {
                        signal_hook::low_level::exit(code);
                    }
                })?;
            }
        }
        Ok(INSTALLED.get_or_init(|| interrupt).clone())
    }

    /// Asks the loop to stop as if `signal` had arrived.
    pub fn raise(&self, signal: i32) {
        self.0.store(signal as usize, Ordering::SeqCst);
    }

    /// Records `signal` as the request if none was raised yet, and says whether it did. One
    /// atomic step, so of two signals handled at the same moment (by two threads, or one nested
    /// in the other's handler) exactly one is the first: checking a flag and then setting it let
    /// both pass as first, and the second signal was lost.
    fn record(&self, signal: i32) -> bool {
        self.0.compare_exchange(0, signal as usize, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// The signal that asked to stop, if one did.
    pub fn raised(&self) -> Option<i32> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            s => Some(s as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use signal_hook::consts::{SIGINT, SIGTERM};

    #[test]
    fn the_first_signal_is_the_request_and_a_later_one_is_told_to_exit() {
        let i = Interrupt::new();
        assert_eq!(i.raised(), None);
        assert!(i.record(SIGINT));
        assert!(!i.record(SIGTERM), "a second signal is not a request: it exits");
        assert!(!i.record(SIGINT), "nor is the same signal again");
        assert_eq!(i.raised(), Some(SIGINT), "the first one stays the request");
    }
}
