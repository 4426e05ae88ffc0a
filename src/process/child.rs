//! `Child`: a running child process whose exit is awaited through its pidfd and whose
//! standard streams are non-blocking pipes on the loop.
//!
//! It never blocks the loop (every wait is `WNOHANG` after the pidfd turned readable), and a
//! `Child` dropped before its exit was collected is still reaped (see `reaper.rs`), so it
//! never leaves a zombie.

use super::pidfd::PidFd;
use super::reaper;
use crate::async_fd::Async;
use crate::executor::Handle;
use core::fmt;
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;
use std::io;
use std::process::{Command, ExitStatus, Output, Stdio};

/// The child's standard input: a non-blocking pipe on the loop ([`Async::write`], and
/// `futures_io::AsyncWrite` with the `futures-io` feature). Dropping it closes the pipe.
///
/// ```
/// use readyloop::process::ChildStdin;
/// use std::process::{Command, Stdio};
/// let lp = readyloop::Loop::new().unwrap();
/// let mut child = lp.handle().spawn_process(Command::new("cat").stdin(Stdio::piped())).unwrap();
/// let stdin: ChildStdin = child.stdin.take().unwrap();
/// lp.block_on(stdin.write(b"x")).unwrap();
/// drop(stdin);
/// assert!(lp.block_on(child.wait()).unwrap().success());
/// ```
pub type ChildStdin = Async<std::process::ChildStdin>;
/// The child's standard output: a non-blocking pipe on the loop ([`Async::read`], and
/// `futures_io::AsyncRead` with the `futures-io` feature).
///
/// ```
/// use readyloop::process::ChildStdout;
/// use std::process::{Command, Stdio};
/// let lp = readyloop::Loop::new().unwrap();
/// let mut child = lp.handle().spawn_process(Command::new("echo").arg("a").stdout(Stdio::piped())).unwrap();
/// let stdout: ChildStdout = child.stdout.take().unwrap();
/// let mut buf = [0u8; 8];
/// let n = lp.block_on(stdout.read(&mut buf)).unwrap();
/// assert_eq!(&buf[..n], b"a\n");
/// ```
pub type ChildStdout = Async<std::process::ChildStdout>;
/// The child's standard error, like [`ChildStdout`].
///
/// ```
/// use readyloop::process::ChildStderr;
/// use std::process::{Command, Stdio};
/// let lp = readyloop::Loop::new().unwrap();
/// let mut child = lp.handle()
///     .spawn_process(Command::new("sh").args(["-c", "echo e >&2"]).stderr(Stdio::piped()))
///     .unwrap();
/// let stderr: ChildStderr = child.stderr.take().unwrap();
/// let mut buf = [0u8; 8];
/// let n = lp.block_on(stderr.read(&mut buf)).unwrap();
/// assert_eq!(&buf[..n], b"e\n");
/// ```
pub type ChildStderr = Async<std::process::ChildStderr>;

/// A child process on a loop, made by [`Handle::spawn_process`]; the async counterpart of
/// [`std::process::Child`], with the same public `stdin`, `stdout` and `stderr` fields
/// (present when the `Command` asked for [`Stdio::piped`]).
///
/// Its exit is awaited with [`wait`](Child::wait) through a pidfd: no `SIGCHLD` handler, no
/// helper thread. Dropping a `Child` neither waits nor kills (as with std) unless
/// [`set_kill_on_drop`](Child::set_kill_on_drop) asked for a kill; either way the child is
/// reaped once it exits, by a small task on its loop, so it never stays a zombie.
///
/// ```
/// use readyloop::Loop;
/// use std::process::{Command, Stdio};
/// let lp = Loop::new().unwrap();
/// let h = lp.handle();
/// lp.block_on(async {
///     let mut child = h
///         .spawn_process(Command::new("sh").args(["-c", "read x; echo got $x"])
///             .stdin(Stdio::piped())
///             .stdout(Stdio::piped()))
///         .unwrap();
///     let stdin = child.stdin.take().unwrap();
///     stdin.write(b"hi\n").await.unwrap();
///     drop(stdin); // end of file for the child
///     let mut buf = [0u8; 64];
///     let n = child.stdout.as_ref().unwrap().read(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"got hi\n");
///     assert!(child.wait().await.unwrap().success());
/// });
/// ```
pub struct Child {
    /// The writing end of the child's stdin, if it was piped.
    pub stdin: Option<ChildStdin>,
    /// The reading end of the child's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The reading end of the child's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
    /// The process id (stays meaningful, for logs, after the child is reaped).
    pid: u32,
    /// The pidfd while the child is unreaped; `None` once its status is collected.
    pidfd: Option<PidFd>,
    /// The exit status, once collected.
    status: Option<ExitStatus>,
    /// Send `SIGKILL` on drop if the child has not been reaped.
    kill_on_drop: bool,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.pid)
            .field("status", &self.status)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish_non_exhaustive()
    }
}

impl Child {
    /// Spawns `command` and puts its pidfd and piped streams on `handle`'s loop.
    pub(super) fn spawn_on(handle: &Handle, command: &mut Command) -> io::Result<Child> {
        reaper::reap_orphans();
        let mut std_child = command.spawn()?;
        let pid = std_child.id();
        // Until it is reaped the pid cannot be reused, so this pidfd names our child. If
        // opening it fails (EMFILE), the child is killed and reaped here rather than leaked.
        let pidfd = match PidFd::open(handle, pid) {
            Ok(pidfd) => pidfd,
            Err(e) => {
                let _ = std_child.kill();
                let _ = std_child.wait();
                return Err(e);
            }
        };
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            pid,
            pidfd: Some(pidfd),
            status: None,
            kill_on_drop: false,
        };
        // Private pipes (not a terminal shared with others): O_NONBLOCK is safe to set. On
        // an error, dropping `child` reaps the process.
        child.stdin = wrap(handle, std_child.stdin.take())?;
        child.stdout = wrap(handle, std_child.stdout.take())?;
        child.stderr = wrap(handle, std_child.stderr.take())?;
        Ok(child)
    }

    /// The child's process id.
    ///
    /// ```
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let child = lp.handle().spawn_process(&mut std::process::Command::new("true")).unwrap();
    /// assert!(child.id() > 0);
    /// ```
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Waits for the child to exit and reaps it; later calls give the same status. Closes
    /// `stdin` first, as `std::process::Child::wait` does, so a child reading its input to
    /// the end can finish. Cancel-safe: dropping the future leaves the child as it was.
    ///
    /// ```
    /// use readyloop::Loop;
    /// use std::process::Command;
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let status = lp.block_on(async {
    ///     let mut child = h.spawn_process(Command::new("sh").args(["-c", "exit 3"])).unwrap();
    ///     child.wait().await.unwrap()
    /// });
    /// assert_eq!(status.code(), Some(3));
    /// ```
    pub fn wait(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + '_ {
        drop(self.stdin.take());
        poll_fn(move |cx| {
            if let Some(status) = self.status {
                return Poll::Ready(Ok(status));
            }
            let Some(pidfd) = self.pidfd.as_mut() else {
                return Poll::Ready(Err(io::Error::other("child has no pidfd")));
            };
            let status = match pidfd.poll_reap(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r?,
            };
            self.collected(status);
            Poll::Ready(Ok(status))
        })
    }

    /// The exit status if the child has exited (reaping it), `None` while it runs; never
    /// blocks.
    ///
    /// ```
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let mut child = lp.handle().spawn_process(&mut std::process::Command::new("sleep").arg("5")).unwrap();
    /// assert!(child.try_wait().unwrap().is_none());
    /// child.kill().unwrap();
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let Some(pidfd) = self.pidfd.as_ref() else {
            return Ok(None);
        };
        let status = pidfd.try_reap()?;
        if let Some(status) = status {
            self.collected(status);
        }
        Ok(status)
    }

    /// Sends `SIGKILL` to the child (through its pidfd, so never to a process that reused
    /// its pid). A child that has already exited is not an error. Await [`wait`](Child::wait)
    /// for its status, or drop the `Child`: it is reaped either way.
    ///
    /// ```
    /// use readyloop::Loop;
    /// use std::os::unix::process::ExitStatusExt;
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let status = lp.block_on(async {
    ///     let mut child = h.spawn_process(std::process::Command::new("sleep").arg("10")).unwrap();
    ///     child.kill().unwrap();
    ///     child.wait().await.unwrap()
    /// });
    /// assert_eq!(status.signal(), Some(9));
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        match self.pidfd.as_ref() {
            Some(pidfd) => pidfd.kill(),
            None => Ok(()),
        }
    }

    /// Whether dropping this `Child` before its exit was collected kills it (`SIGKILL`).
    /// Off by default, as with `std::process::Child`. It is reaped either way.
    ///
    /// ```
    /// use readyloop::Loop;
    /// let lp = Loop::new().unwrap();
    /// let mut child = lp.handle().spawn_process(&mut std::process::Command::new("sleep").arg("10")).unwrap();
    /// child.set_kill_on_drop(true);
    /// drop(child); // killed now, reaped by the loop
    /// ```
    pub fn set_kill_on_drop(&mut self, kill: bool) {
        self.kill_on_drop = kill;
    }

    /// Collects everything the child writes to its piped stdout and stderr, both at once (a
    /// child filling one pipe while the other is read cannot deadlock), then its status:
    /// `std::process::Child::wait_with_output`. Streams that were not piped come back empty.
    ///
    /// ```
    /// use readyloop::Loop;
    /// use std::process::{Command, Stdio};
    /// let lp = Loop::new().unwrap();
    /// let h = lp.handle();
    /// let out = lp.block_on(async {
    ///     let child = h.spawn_process(Command::new("echo").arg("hi").stdout(Stdio::piped())).unwrap();
    ///     child.wait_with_output().await.unwrap()
    /// });
    /// assert_eq!(out.stdout, b"hi\n");
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let mut out = pin!(read_all(stdout));
        let mut err = pin!(read_all(stderr));
        let (mut out_done, mut err_done) = (None, None);
        poll_fn(|cx| {
            if out_done.is_none() {
                if let Poll::Ready(r) = out.as_mut().poll(cx) {
                    out_done = Some(r);
                }
            }
            if err_done.is_none() {
                if let Poll::Ready(r) = err.as_mut().poll(cx) {
                    err_done = Some(r);
                }
            }
            if out_done.is_some() && err_done.is_some() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        let (stdout, stderr) = (
            out_done.unwrap_or(Ok(Vec::new())),
            err_done.unwrap_or(Ok(Vec::new())),
        );
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: stdout?,
            stderr: stderr?,
        })
    }

    /// Records the collected status; the pidfd is no longer needed.
    fn collected(&mut self, status: ExitStatus) {
        self.status = Some(status);
        self.pidfd = None;
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(pidfd) = self.pidfd.take() else {
            return;
        };
        if self.kill_on_drop {
            let _ = pidfd.kill();
        }
        reaper::reap_later(pidfd);
    }
}

/// Puts one piped stream of the child on the loop.
fn wrap<T: rustix::fd::AsFd>(handle: &Handle, pipe: Option<T>) -> io::Result<Option<Async<T>>> {
    pipe.map(|p| Async::new(handle, p).map_err(io::Error::from))
        .transpose()
}

/// Reads a pipe to its end (nothing if there is no pipe).
async fn read_all<T: rustix::fd::AsFd>(pipe: Option<Async<T>>) -> io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let Some(pipe) = pipe else {
        return Ok(all);
    };
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match pipe.read(&mut chunk).await? {
            0 => return Ok(all),
            n => all.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Runs `command` with stdout and stderr piped and stdin empty; the future collects its
/// output. The child is spawned now, before the future is first polled.
pub(super) fn output(
    handle: &Handle,
    command: &mut Command,
) -> impl Future<Output = io::Result<Output>> + 'static {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = Child::spawn_on(handle, command);
    async move { child?.wait_with_output().await }
}
