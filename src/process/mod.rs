//! Child processes on the loop (feature `process`, with `std`): spawn a
//! [`std::process::Command`], talk to it through non-blocking pipes, and await its exit
//! through a pidfd.
//!
//! Linux's pidfd (`pidfd_open(2)`, kernel 5.3; `waitid(P_PIDFD)`, 5.4) turns "a child
//! exited" into an fd that becomes readable, so the loop waits for children exactly as it
//! waits for sockets: no `SIGCHLD` handler to clash with another library's, no helper
//! thread, no `waitpid(-1)` that could steal someone else's child (asyncio's default child
//! watcher took the same road). The API mirrors `std::process`: build a `Command` as usual,
//! then [`Handle::spawn_process`] instead of `Command::spawn`, and [`Handle::command_output`]
//! instead of `Command::output`.
//!
//! ```
//! use readyloop::Loop;
//! use std::process::Command;
//! let lp = Loop::new().unwrap();
//! let h = lp.handle();
//! let out = lp.block_on(h.command_output(Command::new("sh").args(["-c", "echo out; echo err >&2"])))
//!     .unwrap();
//! assert!(out.status.success());
//! assert_eq!((&out.stdout[..], &out.stderr[..]), (&b"out\n"[..], &b"err\n"[..]));
//! ```
//!
//! Without pidfds (Linux before 5.3, valgrind 3.19, seccomp filters that refuse
//! `pidfd_open`), each awaited child is checked with `waitid(P_PID, WNOHANG)` every 10 ms on a
//! loop timer instead: still no handler and no thread, at the cost of those wakeups (CI runs
//! the process tests this way too, with `pidfd_open` made to fail by strace).
//!
//! Zombies: a [`Child`] dropped before its exit was collected is reaped by a small task on
//! its loop when it exits; if that loop is dropped first, the next spawn in the process (or
//! [`reap_orphans`]) reaps it. A program that sets `SIGCHLD` to `SIG_IGN`, or another library
//! that calls `waitpid(-1)`, reaps children behind readyloop's back: [`Child::wait`] then
//! reports the `ECHILD` error instead of a status.
//!
//! This module must never block the loop or reap a process it did not spawn; its syscalls
//! are in `sys/process.rs`.

mod child;
mod pidfd;
mod reaper;

pub use child::{Child, ChildStderr, ChildStdin, ChildStdout};
pub use reaper::reap_orphans;

use crate::executor::Handle;
use core::future::Future;
use std::io;
use std::process::{Command, Output};

impl Handle {
    /// Spawns `command` (as [`Command::spawn`] would: its stdio settings apply, inherited by
    /// default) and puts the child on this loop: its exit is awaited with [`Child::wait`]
    /// and each stream set to [`Stdio::piped`](std::process::Stdio::piped) becomes a
    /// non-blocking pipe on the loop.
    ///
    /// ```
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let mut child = h.spawn_process(&mut std::process::Command::new("true")).unwrap();
    /// assert!(lp.block_on(child.wait()).unwrap().success());
    /// ```
    pub fn spawn_process(&self, command: &mut Command) -> io::Result<Child> {
        Child::spawn_on(self, command)
    }

    /// Runs `command` to completion and collects its status, stdout and stderr, read
    /// concurrently (a child writing a lot to both cannot deadlock): the loop's
    /// [`Command::output`]. Sets the command's stdin to null and its stdout and stderr to
    /// piped. The child is spawned now; the future then waits for it.
    ///
    /// ```
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let out = lp.block_on(h.command_output(std::process::Command::new("echo").arg("hi"))).unwrap();
    /// assert_eq!(out.stdout, b"hi\n");
    /// ```
    pub fn command_output(
        &self,
        command: &mut Command,
    ) -> impl Future<Output = io::Result<Output>> + 'static {
        child::output(self, command)
    }
}

/// [`Handle::spawn_process`] on the loop running on this thread.
///
/// # Panics
/// Outside a running loop.
///
/// ```
/// use readyloop::Loop;
/// let lp = Loop::new().unwrap();
/// let status = lp.block_on(async {
///     let mut child = readyloop::process::spawn_process(&mut std::process::Command::new("true")).unwrap();
///     child.wait().await.unwrap()
/// });
/// assert!(status.success());
/// ```
pub fn spawn_process(command: &mut Command) -> io::Result<Child> {
    Handle::current().spawn_process(command)
}

/// [`Handle::command_output`] on the loop running on this thread.
///
/// # Panics
/// Outside a running loop.
///
/// ```
/// use readyloop::Loop;
/// let lp = Loop::new().unwrap();
/// let out = lp.block_on(async {
///     readyloop::process::command_output(&mut std::process::Command::new("true")).await.unwrap()
/// });
/// assert!(out.status.success());
/// ```
pub fn command_output(command: &mut Command) -> impl Future<Output = io::Result<Output>> + 'static {
    Handle::current().command_output(command)
}
