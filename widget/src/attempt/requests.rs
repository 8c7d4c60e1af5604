//! The requests and timers of an attempt on their way, each known by a number unique on the page
//! (`widget/js/effects.js` keeps the request under it and reports its events with it) and kept
//! here with what it is for.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, Ordering};

use super::machine::Wake;
use crate::bindings::xhr;

/// What a request (or a timer) is for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Call {
    /// Signs the files of the attempt's field with this index.
    Sign(usize),
    /// Sends part `part` (1 for a file sent whole) of the attempt's file `file`.
    Send { file: usize, part: u32 },
    /// Asks the signer about the multipart upload of `file`: its part URLs, or with
    /// `complete` its completion.
    Signer { file: usize, complete: bool },
    /// A timer, or the browser coming back online.
    Wake(Wake),
}

impl Call {
    /// The file whose request this is, for a transfer or a request to the signer about it.
    fn file(self) -> Option<usize> {
        match self {
            Call::Send { file, .. } | Call::Signer { file, .. } => Some(file),
            Call::Sign(_) | Call::Wake(_) => None,
        }
    }
}

#[derive(Default)]
pub struct Requests(Vec<(u32, Call)>);

impl Requests {
    /// Keeps `call` under a new number, which it answers.
    pub fn register(&mut self, call: Call) -> u32 {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let number = NEXT.fetch_add(1, Ordering::Relaxed);
        self.0.push((number, call));
        number
    }

    /// Whether request `request` is one of them.
    pub fn owns(&self, request: u32) -> bool {
        self.0.iter().any(|(number, _)| *number == request)
    }

    /// What request `request` is for; when it is `over`, it is forgotten.
    pub fn call(&mut self, request: u32, over: impl FnOnce(Call) -> bool) -> Option<Call> {
        let position = self.0.iter().position(|(number, _)| *number == request)?;
        let (_, call) = *self.0.get(position)?;
        if over(call) {
            self.0.swap_remove(position);
        }
        Some(call)
    }

    /// Stops the requests of `file` (its transfers and its requests to the signer), or with
    /// `None` all of them: nothing of them comes back.
    pub fn stop(&mut self, file: Option<usize>) {
        self.0.retain(|&(number, call)| {
            let keep = file.is_some() && call.file() != file;
            if !keep {
                xhr::stop(number);
            }
            keep
        });
    }
}
