//! Notifications to the service manager (`sd_notify`): `READY=1`, `RELOADING=1`,
//! `STOPPING=1`, `STATUS=...` and the watchdog's `WATCHDOG=1`, as datagrams to
//! `NOTIFY_SOCKET` (a path, or an abstract name written `@name`).
//!
//! It must never send anything the caller did not ask for, nor split one message into two
//! (a newline in a status would start a new assignment, so it is refused).

use crate::error::{Error, ErrorKind};
use crate::sys::systemd as sys;
use alloc::format;
use alloc::rc::Rc;
use core::fmt;
use rustix::fd::OwnedFd;
use rustix::net::SocketAddrUnix;

/// A sender of notifications to the service manager.
///
/// Cloning is cheap (the socket is shared), so the watchdog task and the code that sends
/// `READY=1` can each hold one. Sending blocks for as long as the kernel takes to queue
/// one small datagram on a local socket, as `sd_notify` does.
///
/// ```
/// use readyloop::net::UnixDatagram;
/// use readyloop::systemd::Notifier;
/// let lp = readyloop::Loop::new().unwrap();
/// // A socket standing in for systemd's.
/// let dir = std::env::temp_dir().join(format!("rl-notify-doc-{}", std::process::id()));
/// let _ = std::fs::remove_file(&dir);
/// let manager = UnixDatagram::bind(&lp.handle(), dir.to_str().unwrap()).unwrap();
/// let notifier = Notifier::to_socket(dir.to_str().unwrap()).unwrap();
/// notifier.ready().unwrap();
/// let mut buf = [0u8; 64];
/// let n = lp.block_on(manager.recv(&mut buf)).unwrap();
/// assert_eq!(&buf[..n], b"READY=1");
/// # std::fs::remove_file(&dir).unwrap();
/// ```
#[derive(Clone)]
pub struct Notifier {
    /// The unbound datagram socket notifications are sent from, and where they go.
    inner: Rc<(OwnedFd, SocketAddrUnix)>,
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notifier")
            .field("socket", &self.inner.1)
            .finish()
    }
}

impl Notifier {
    /// The notifier `NOTIFY_SOCKET` asks for, or `None` when it is unset (the process was
    /// not started by systemd, or its unit is not `Type=notify`); the variable stays set.
    ///
    /// Errors: [`ErrorKind::InvalidInput`] for a value that is neither an absolute path nor
    /// `@name`; running out of fds for the socket.
    ///
    /// ```
    /// // `cargo test` has no service manager to tell.
    /// assert!(readyloop::systemd::Notifier::from_env().unwrap().is_none());
    /// ```
    pub fn from_env() -> Result<Option<Notifier>, Error> {
        match sys::var("NOTIFY_SOCKET") {
            None => Ok(None),
            Some(path) => Notifier::to_socket(&path).map(Some),
        }
    }

    /// A notifier sending to `path`, written as `NOTIFY_SOCKET` would be: an absolute path,
    /// or `@name` for a socket in the abstract namespace.
    ///
    /// ```
    /// use readyloop::{systemd::Notifier, ErrorKind};
    /// assert!(Notifier::to_socket("@some-abstract-name").is_ok());
    /// let err = Notifier::to_socket("relative/path").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn to_socket(path: &str) -> Result<Notifier, Error> {
        let addr = sys::notify_address(path)?;
        let fd = sys::notify_socket()?;
        Ok(Notifier {
            inner: Rc::new((fd, addr)),
        })
    }

    /// Sends `message` as it is: one or more `KEY=VALUE` lines (see `sd_notify(3)`).
    ///
    /// Errors: the send failed (no one listens at the path: `ConnectionRefused`; the
    /// socket file is missing: an `Other` with `ENOENT`).
    ///
    /// ```
    /// use readyloop::systemd::Notifier;
    /// let notifier = Notifier::to_socket("@readyloop-doc-nobody-listens").unwrap();
    /// assert!(notifier.send("EXTEND_TIMEOUT_USEC=5000000").is_err());
    /// ```
    pub fn send(&self, message: &str) -> Result<(), Error> {
        sys::send_notification(&self.inner.0, &self.inner.1, message.as_bytes())
    }

    /// `READY=1`: start-up is done (after the listeners are up); also the end of a reload.
    ///
    /// ```
    /// let n = readyloop::systemd::Notifier::to_socket("@readyloop-doc-none").unwrap();
    /// let _ = n.ready(); // an error here: nobody listens
    /// ```
    pub fn ready(&self) -> Result<(), Error> {
        self.send("READY=1")
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` the monotonic clock now, as `Type=notify-reload`
    /// requires; send [`ready`](Notifier::ready) when the reload is done.
    ///
    /// ```
    /// let n = readyloop::systemd::Notifier::to_socket("@readyloop-doc-none").unwrap();
    /// let _ = n.reloading();
    /// ```
    pub fn reloading(&self) -> Result<(), Error> {
        self.send(&format!(
            "RELOADING=1\nMONOTONIC_USEC={}",
            sys::monotonic_micros()
        ))
    }

    /// `STOPPING=1`: shutdown has begun.
    ///
    /// ```
    /// let n = readyloop::systemd::Notifier::to_socket("@readyloop-doc-none").unwrap();
    /// let _ = n.stopping();
    /// ```
    pub fn stopping(&self) -> Result<(), Error> {
        self.send("STOPPING=1")
    }

    /// `STATUS=text`: a one-line status `systemctl status` shows.
    ///
    /// Errors: [`ErrorKind::InvalidInput`] for text with a newline (it would start
    /// another assignment).
    ///
    /// ```
    /// use readyloop::{systemd::Notifier, ErrorKind};
    /// let n = Notifier::to_socket("@readyloop-doc-none").unwrap();
    /// assert_eq!(n.status("a\nREADY=1").unwrap_err().kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn status(&self, text: &str) -> Result<(), Error> {
        if text.contains('\n') {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "systemd: a STATUS= text must be one line",
            ));
        }
        self.send(&format!("STATUS={text}"))
    }

    /// `WATCHDOG=1`: one keep-alive ping. [`Notifier::spawn_watchdog`] sends these from the
    /// loop; call this directly only to feed the watchdog yourself.
    ///
    /// ```
    /// let n = readyloop::systemd::Notifier::to_socket("@readyloop-doc-none").unwrap();
    /// let _ = n.watchdog_ping();
    /// ```
    pub fn watchdog_ping(&self) -> Result<(), Error> {
        self.send("WATCHDOG=1")
    }
}
