//! The load generators' epoll set: level-triggered, each event tagged with a token (the
//! connection's index). Only the three calls the drivers make; it owns its fd and closes it
//! when dropped.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The load generator's epoll set (level-triggered), tokens are connection indices.
pub struct Epoll(OwnedFd);

impl Epoll {
    /// A new, empty set.
    pub fn new() -> Result<Epoll, String> {
        // SAFETY: plain syscall; the fd it returns is owned here at once.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(format!(
                "epoll_create1: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: a fresh fd nothing else owns.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// `epoll_ctl(op)` for `fd` with `events` (`libc::EPOLLIN`, ...) and `token`.
    pub fn ctl(&self, op: i32, fd: RawFd, events: i32, token: usize) -> Result<(), String> {
        let mut ev = libc::epoll_event {
            events: events as u32,
            u64: token as u64,
        };
        // SAFETY: the event struct is live for the call.
        if unsafe { libc::epoll_ctl(self.0.as_raw_fd(), op, fd, &mut ev) } != 0 {
            return Err(format!("epoll_ctl: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Ready events into `events`; `timeout_ms` 0 polls without blocking.
    pub fn wait(&self, events: &mut [libc::epoll_event], timeout_ms: i32) -> Result<usize, String> {
        // SAFETY: the buffer is live and its length given.
        let n = unsafe {
            libc::epoll_wait(
                self.0.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                timeout_ms,
            )
        };
        match n {
            0.. => Ok(n as usize),
            _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => Ok(0),
            _ => Err(format!("epoll_wait: {}", std::io::Error::last_os_error())),
        }
    }
}
