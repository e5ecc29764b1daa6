//! Ctrl-C. A stopped command may leave work going on at kie.ai: a task being created,
//! generated, or done but not downloaded. The running command keeps its [`Stake`]
//! current, so that when Ctrl-C stops it, it says what goes on and how to take it up,
//! and exits 130.

use std::sync::{Mutex, PoisonError};

use crate::failure::{Failure, Resume};

/// What a Ctrl-C would leave behind now, as the command last set it.
#[derive(Debug, Default)]
pub struct Stake(Mutex<Option<Resume>>);

impl Stake {
    /// From now on, a Ctrl-C leaves `resume` behind.
    pub fn set(&self, resume: Resume) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(resume);
    }

    /// The failure a Ctrl-C makes of the command: what goes on, and how to take it up.
    pub fn interrupted(&self) -> Failure {
        Failure::interrupted(self.0.lock().unwrap_or_else(PoisonError::into_inner).take())
    }
}
