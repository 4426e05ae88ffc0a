//! Reaping children nobody awaits, so that none is ever left a zombie.
//!
//! A [`Child`](super::Child) dropped before its exit was collected hands its pidfd to a
//! detached task on its loop, which reaps the child when the pidfd turns readable: no
//! `SIGCHLD` handler and no thread. If that loop goes away first, the pidfd is parked in a
//! process-wide list that every later spawn (and [`reap_orphans`]) sweeps without blocking.
//! This module must never block, and never reap a process it was not handed.

use super::pidfd::{Parked, PidFd};
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Mutex;

/// Pidfds of children whose loop went away before they exited.
static PARKED: Mutex<Vec<Parked>> = Mutex::new(Vec::new());

/// Reaps `pidfd`'s child now if it has exited, else on its loop once it does.
pub(super) fn reap_later(pidfd: PidFd) {
    if let Ok(Some(_)) = pidfd.try_reap() {
        return;
    }
    let handle = pidfd.handle().clone();
    drop(handle.spawn_named("reap child", Orphan { pidfd: Some(pidfd) }));
}

/// Reaps every parked child that has exited since it was parked, without blocking, and
/// returns how many are still running (each is tried again at the next sweep).
///
/// Children whose [`Child`](super::Child) was dropped are reaped by their loop; only those
/// still running when their loop was dropped are parked. Every
/// [`Handle::spawn_process`](crate::Handle::spawn_process) sweeps first, so a program that
/// keeps spawning never accumulates zombies; a program that stops spawning may call this.
///
/// ```
/// assert_eq!(readyloop::process::reap_orphans(), 0);
/// ```
pub fn reap_orphans() -> usize {
    let mut parked = PARKED.lock().unwrap_or_else(|p| p.into_inner());
    parked.retain(|child| !child.try_reap());
    parked.len()
}

/// The detached task that reaps one dropped child.
struct Orphan {
    /// `None` once reaped.
    pidfd: Option<PidFd>,
}

impl Future for Orphan {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(pidfd) = self.pidfd.as_mut() else {
            return Poll::Ready(());
        };
        match pidfd.poll_reap(cx) {
            Poll::Pending => Poll::Pending,
            // Reaped, or an error that no retry would cure (the pidfd is then useless).
            Poll::Ready(_) => {
                self.pidfd = None;
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Orphan {
    fn drop(&mut self) {
        // The loop dropped this task before the child exited: park the pidfd.
        if let Some(pidfd) = self.pidfd.take() {
            if let Ok(Some(_)) = pidfd.try_reap() {
                return;
            }
            let child = pidfd.into_parked();
            PARKED.lock().unwrap_or_else(|p| p.into_inner()).push(child);
        }
    }
}
