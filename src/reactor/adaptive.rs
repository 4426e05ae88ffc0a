//! The reactor's half of the adaptive backend (the default): moving every interest from
//! poll(2) to epoll(7) or back between two waits. The policy (when to move) is
//! `sys/backend/adaptive.rs`; this file only carries it out, and never loses or repeats a
//! readiness report while doing so.

use super::Reactor;
use crate::sys::backend::adaptive::Adapt;
use crate::sys::backend::{Backend, BackendKind};
use crate::sys::RawFd;

impl Reactor {
    /// Makes the backend adaptive (see [`BackendKind::Adaptive`]): from a registered set of
    /// `epoll_at` fds, a sparse set moves to epoll. Without the epoll backend compiled in it
    /// stays on poll.
    pub(crate) fn make_adaptive(&mut self, epoll_at: usize) {
        self.configured = BackendKind::Adaptive;
        if cfg!(feature = "epoll") && matches!(self.backend, Backend::Poll(_)) {
            self.adapt = Some(Adapt::new(epoll_at));
        }
    }

    /// The backend the loop was built with (`Adaptive` for the adaptive one).
    pub(crate) fn configured(&self) -> BackendKind {
        self.configured
    }

    /// Moves every interest to a new backend of kind `kind`, between two waits (the last
    /// dispatch's interest is flushed already). Each fd with an interest is told to the new
    /// backend, which checks readiness as it registers (poll and level-triggered epoll
    /// alike), so nothing that became ready meanwhile is lost, and nothing is reported twice:
    /// the old backend's results were all dispatched. The old backend is dropped, which
    /// closes an epoll instance with every registration in it. An fd the new backend refuses
    /// (closed under its waiters) is reported invalid by the next wait, as `flush_dirty`
    /// does. If the new backend cannot be made (no fd left for an epoll instance), the loop
    /// stays where it is and the policy may ask again a window later.
    #[cold]
    #[inline(never)]
    pub(super) fn move_backend(&mut self, kind: BackendKind) {
        let Ok(mut new) = Backend::new(kind) else {
            return;
        };
        if new.add_notifier(self.notifier_fd).is_err() {
            return;
        }
        for (index, entry) in self.fds.iter().enumerate() {
            if !entry.wanted.is_empty() && new.set(index as RawFd, entry.wanted).is_err() {
                self.refused.push(index as RawFd);
            }
        }
        self.disarms = new.disarms_on_report();
        self.keeps = new.keeps_armed();
        self.backend = new;
        self.moves += 1;
    }
}
