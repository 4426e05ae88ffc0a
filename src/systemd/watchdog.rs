//! The service watchdog (`WatchdogSec=`): `WATCHDOG=1` pings sent from a task on the loop,
//! so they stop when the loop stops turning.
//!
//! This is the pattern of systemd's own sd-event: the ping is an ordinary timer event of
//! the loop, not a thread. A task that wedges the loop (a blocking call, an endless
//! computation without an `.await`) keeps the timer from ever firing, the pings stop, and
//! systemd restarts the service after `WATCHDOG_USEC`. It must never ping from anywhere but
//! a turn of the loop it watches: a helper thread would keep pinging for a dead loop.

use super::Notifier;
use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::sys::systemd as sys;
use crate::task::JoinHandle;
use core::time::Duration;

/// The watchdog period systemd asks for (`WATCHDOG_USEC`), or `None` when there is none:
/// unset, or `WATCHDOG_PID` names another process (a child that inherited the variables).
///
/// Errors: [`ErrorKind::InvalidInput`] for a `WATCHDOG_USEC` or `WATCHDOG_PID` that is not
/// a positive number.
///
/// ```
/// // `cargo test` runs without a watchdog.
/// assert_eq!(readyloop::systemd::watchdog_period().unwrap(), None);
/// ```
pub fn watchdog_period() -> Result<Option<Duration>, Error> {
    let Some(usec) = sys::var("WATCHDOG_USEC") else {
        return Ok(None);
    };
    if let Some(pid) = sys::var("WATCHDOG_PID") {
        let pid = positive(&pid).ok_or(Error::new(
            ErrorKind::InvalidInput,
            "systemd: WATCHDOG_PID is not a process id",
        ))?;
        if pid != u64::from(sys::pid()) {
            return Ok(None);
        }
    }
    let usec = positive(&usec).ok_or(Error::new(
        ErrorKind::InvalidInput,
        "systemd: WATCHDOG_USEC is not a positive number of microseconds",
    ))?;
    Ok(Some(Duration::from_micros(usec)))
}

impl Notifier {
    /// Spawns the task that feeds the watchdog: `WATCHDOG=1` every half `period`, sent from
    /// the loop's own turn.
    ///
    /// The pings come only while the loop turns on time: a task that blocks the loop for
    /// longer than half the period delays the next ping by as much, and one that blocks it
    /// for the whole `period` makes systemd declare the service hung. The task runs until
    /// aborted (or the loop is dropped); it ends early, returning the error, only if a ping
    /// cannot be sent.
    ///
    /// ```
    /// use readyloop::net::UnixDatagram;
    /// use readyloop::systemd::Notifier;
    /// use std::time::{Duration, Instant};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let path = std::env::temp_dir().join(format!("rl-watchdog-doc-{}", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let manager = UnixDatagram::bind(&h, path.to_str().unwrap()).unwrap();
    /// let notifier = Notifier::to_socket(path.to_str().unwrap()).unwrap();
    /// let watchdog = notifier.spawn_watchdog(&h, Duration::from_millis(40));
    /// let start = Instant::now();
    /// let mut buf = [0u8; 32];
    /// let n = lp.block_on(manager.recv(&mut buf)).unwrap();
    /// assert_eq!(&buf[..n], b"WATCHDOG=1");
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// watchdog.abort();
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn spawn_watchdog(&self, handle: &Handle, period: Duration) -> JoinHandle<Error> {
        let notifier = self.clone();
        let h = handle.clone();
        let every = period / 2;
        handle.spawn(async move {
            loop {
                h.sleep(every).await;
                if let Err(e) = notifier.watchdog_ping() {
                    return e;
                }
            }
        })
    }

    /// Spawns [`spawn_watchdog`](Notifier::spawn_watchdog) with the period systemd asks
    /// for, if it asks for one ([`watchdog_period`]); `None` without a watchdog.
    ///
    /// ```
    /// use readyloop::systemd::Notifier;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let n = Notifier::to_socket("@readyloop-doc-none").unwrap();
    /// assert!(n.watchdog_from_env(&lp.handle()).unwrap().is_none());
    /// ```
    pub fn watchdog_from_env(&self, handle: &Handle) -> Result<Option<JoinHandle<Error>>, Error> {
        Ok(watchdog_period()?.map(|period| self.spawn_watchdog(handle, period)))
    }
}

/// A decimal number above zero with nothing else around it.
fn positive(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&n| n > 0)
}
