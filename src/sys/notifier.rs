//! Wakes a blocked wait from another thread: an eventfd, or a pipe where eventfd is missing.
//!
//! It is written only by wakers (any thread) and drained only by the loop. It must never block.

use rustix::event::{eventfd, EventfdFlags};
use rustix::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use rustix::pipe::{pipe_with, PipeFlags};

/// The read end is watched by the loop's wait; a write makes it readable.
#[derive(Debug)]
pub(crate) struct Notifier {
    /// The fd the loop waits on (the eventfd, or a pipe's read end).
    read: OwnedFd,
    /// A pipe's write end, when eventfd was not available.
    write: Option<OwnedFd>,
}

impl Notifier {
    pub(crate) fn new() -> Result<Self, crate::Error> {
        match eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC) {
            Ok(fd) => Ok(Notifier {
                read: fd,
                write: None,
            }),
            Err(_) => {
                let (read, write) = pipe_with(PipeFlags::NONBLOCK | PipeFlags::CLOEXEC)?;
                Ok(Notifier {
                    read,
                    write: Some(write),
                })
            }
        }
    }

    /// The fd the loop registers for readability.
    pub(crate) fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Makes the read end readable. Safe to call from any thread, any number of times.
    pub(crate) fn notify(&self) {
        let fd = self.write.as_ref().unwrap_or(&self.read).as_fd();
        // A full pipe or a saturated counter already means "readable": the error is not needed.
        let _ = rustix::io::write(fd, &1u64.to_ne_bytes());
    }

    /// Empties the read end so the next wait blocks again.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 64];
        while let Ok(n) = rustix::io::read(&self.read, &mut buf) {
            if n < buf.len() || self.write.is_none() {
                break;
            }
        }
    }
}
