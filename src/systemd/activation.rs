//! Socket activation: the listeners systemd opened for this process (`LISTEN_PID`,
//! `LISTEN_FDS`, `LISTEN_FDNAMES`), taken by name or index as readyloop's socket types.
//!
//! It must never adopt an fd the variables do not pass to this very process (the
//! `LISTEN_PID` check), never adopt the same number twice, and never hand out a socket of
//! another kind than asked for: a mismatch is an error and the fd stays where it was.

use crate::error::{Error, ErrorKind};
use crate::executor::Handle;
use crate::net::{TcpListener, UdpSocket, UnixDatagram, UnixListener};
use crate::sys::systemd::{self as sys, PassedKind};
use alloc::string::String;
use alloc::vec::Vec;
use rustix::fd::{AsFd, OwnedFd};

/// Which passed fd to take: by its name (`FileDescriptorName=` in the socket unit,
/// `--fdname=` of `systemd-socket-activate`) or by its index (0 is fd 3).
///
/// ```
/// use readyloop::systemd::Which;
/// assert_eq!(Which::from("web"), Which::Name("web"));
/// assert_eq!(Which::from(0), Which::Index(0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which<'a> {
    /// The first not-yet-taken fd with this name.
    Name(&'a str),
    /// The fd at this position in the passed list (fd `3 + index`).
    Index(usize),
}

impl<'a> From<&'a str> for Which<'a> {
    fn from(name: &'a str) -> Self {
        Which::Name(name)
    }
}

impl From<usize> for Which<'_> {
    fn from(index: usize) -> Self {
        Which::Index(index)
    }
}

/// The sockets systemd passed to this process, each to be taken once.
///
/// [`from_env`](Activation::from_env) reads and removes the variables; the `take_*`
/// methods check the fd's kind and make it non-blocking. A process that was not
/// socket-activated gets an empty `Activation` (and usually binds its own socket then).
///
/// ```
/// use readyloop::systemd::Activation;
/// use readyloop::net::TcpListener;
/// let lp = readyloop::Loop::new().unwrap();
/// let h = lp.handle();
/// let mut passed = Activation::from_env().unwrap();
/// let listener = if passed.is_empty() {
///     TcpListener::bind(&h, "127.0.0.1:0").unwrap()
/// } else {
///     passed.take_tcp_listener(&h, "web").unwrap()
/// };
/// # drop(listener);
/// ```
#[derive(Debug, Default)]
pub struct Activation {
    /// Per passed fd, in order: its name (`"unknown"` when none was given, as systemd says)
    /// and the fd until it is taken.
    passed: Vec<(String, Option<OwnedFd>)>,
    /// Whether the variables were removed from the environment (not possible without std).
    env_cleared: bool,
}

/// The variables socket activation reads (and removes).
const VARIABLES: [&str; 3] = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"];

impl Activation {
    /// Reads `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES`, adopts the passed fds (made
    /// close-on-exec), and removes the three variables so child processes neither see nor
    /// misread them.
    ///
    /// Not activated (no `LISTEN_FDS` or `LISTEN_PID`, or `LISTEN_PID` names another
    /// process, as a child that inherited the variables sees) is an empty `Activation`, not an error; the
    /// variables are left alone then. Errors, all [`ErrorKind::InvalidInput`] unless said:
    /// a `LISTEN_PID` or `LISTEN_FDS` that is not a number, `LISTEN_FDNAMES` with another
    /// count of names than `LISTEN_FDS`, and ([`ErrorKind::Closed`]) a passed fd that is
    /// not open.
    ///
    /// Call it once, early, before starting threads: with `std` the variables are removed
    /// with `std::env::remove_var`, which races with C code reading the environment in
    /// another thread. Without `std` there is no environment readyloop can change (the
    /// variables are read from `/proc/self/environ`): they stay, which is harmless for the
    /// fds (they are close-on-exec, and a child's `LISTEN_PID` check fails), but a no_std
    /// program that spawns children should leave the three out of the environment it
    /// passes to `execve`. [`env_cleared`](Activation::env_cleared) says which happened.
    ///
    /// ```
    /// let passed = readyloop::systemd::Activation::from_env().unwrap();
    /// // `cargo test` is not socket-activated.
    /// assert!(passed.is_empty());
    /// ```
    pub fn from_env() -> Result<Activation, Error> {
        let Some(count) = sys::var("LISTEN_FDS") else {
            return Ok(Activation::default());
        };
        // Without LISTEN_PID nothing says the fds are ours (sd_listen_fds returns 0 too).
        let Some(pid) = sys::var("LISTEN_PID") else {
            return Ok(Activation::default());
        };
        let pid = parse_number(&pid).ok_or(invalid("systemd: LISTEN_PID is not a process id"))?;
        if pid != u64::from(sys::pid()) {
            return Ok(Activation::default());
        }
        let count = parse_number(&count)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= 4096)
            .ok_or(invalid("systemd: LISTEN_FDS is not a count of fds"))?;
        let names = sys::var("LISTEN_FDNAMES");
        let mut passed = Vec::with_capacity(count);
        let mut name_list = names.as_deref().map(|n| n.split(':'));
        for i in 0..count {
            let name = match name_list.as_mut() {
                Some(names) => names.next().ok_or(invalid(
                    "systemd: LISTEN_FDNAMES has fewer names than LISTEN_FDS has fds",
                ))?,
                None => "unknown",
            };
            // `count` is at most 4096, so this cannot overflow.
            let fd = sys::adopt_passed(sys::LISTEN_FDS_START + i as i32)?;
            passed.push((String::from(name), Some(fd)));
        }
        if name_list.is_some_and(|mut rest| rest.next().is_some()) {
            return Err(invalid(
                "systemd: LISTEN_FDNAMES has more names than LISTEN_FDS has fds",
            ));
        }
        let mut env_cleared = true;
        for variable in VARIABLES {
            env_cleared &= sys::unset_var(variable);
        }
        Ok(Activation {
            passed,
            env_cleared,
        })
    }

    /// How many fds were passed (taken ones included).
    ///
    /// ```
    /// assert_eq!(readyloop::systemd::Activation::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.passed.len()
    }

    /// Whether no fd was passed.
    ///
    /// ```
    /// assert!(readyloop::systemd::Activation::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.passed.is_empty()
    }

    /// The names of the passed fds, in order (taken ones included).
    ///
    /// ```
    /// let passed = readyloop::systemd::Activation::default();
    /// assert_eq!(passed.names().count(), 0);
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.passed.iter().map(|(name, _)| name.as_str())
    }

    /// Whether [`from_env`](Activation::from_env) removed the variables from the
    /// environment (always with `std`; never without, see there).
    ///
    /// ```
    /// assert!(!readyloop::systemd::Activation::default().env_cleared());
    /// ```
    pub fn env_cleared(&self) -> bool {
        self.env_cleared
    }

    /// Takes the passed fd as it is, whatever it is (a FIFO, a netlink socket...):
    /// close-on-exec, in the blocking mode systemd gave it.
    ///
    /// Errors: [`ErrorKind::InvalidInput`] when no untaken fd has that name or index.
    ///
    /// ```
    /// use readyloop::{systemd::Activation, ErrorKind};
    /// let mut passed = Activation::default();
    /// assert_eq!(passed.take_fd("web").unwrap_err().kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn take_fd<'a>(&mut self, which: impl Into<Which<'a>>) -> Result<OwnedFd, Error> {
        let slot = self.find(which.into())?;
        Ok(self.passed[slot]
            .1
            .take()
            .expect("find returns untaken slots"))
    }

    /// Takes a passed listening TCP socket (`ListenStream=` with a port or address).
    ///
    /// Errors ([`ErrorKind::InvalidInput`]): no untaken fd by that name or index, or the fd
    /// is another kind of socket (a Unix listener, UDP, a FIFO...); then it stays here.
    ///
    /// ```
    /// use readyloop::{systemd::Activation, ErrorKind};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let err = Activation::default().take_tcp_listener(&lp.handle(), 0).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn take_tcp_listener<'a>(
        &mut self,
        handle: &Handle,
        which: impl Into<Which<'a>>,
    ) -> Result<TcpListener, Error> {
        let fd = self.take_kind(which.into(), PassedKind::TcpListener)?;
        TcpListener::from_fd(handle, fd)
    }

    /// Takes a passed listening Unix stream socket (`ListenStream=` with a path).
    ///
    /// Errors as for [`take_tcp_listener`](Activation::take_tcp_listener).
    ///
    /// ```
    /// use readyloop::{systemd::Activation, ErrorKind};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let err = Activation::default().take_unix_listener(&lp.handle(), "ctl").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn take_unix_listener<'a>(
        &mut self,
        handle: &Handle,
        which: impl Into<Which<'a>>,
    ) -> Result<UnixListener, Error> {
        let fd = self.take_kind(which.into(), PassedKind::UnixListener)?;
        UnixListener::from_fd(handle, fd)
    }

    /// Takes a passed UDP socket (`ListenDatagram=` with a port or address).
    ///
    /// Errors as for [`take_tcp_listener`](Activation::take_tcp_listener).
    ///
    /// ```
    /// use readyloop::{systemd::Activation, ErrorKind};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let err = Activation::default().take_udp_socket(&lp.handle(), "dns").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn take_udp_socket<'a>(
        &mut self,
        handle: &Handle,
        which: impl Into<Which<'a>>,
    ) -> Result<UdpSocket, Error> {
        let fd = self.take_kind(which.into(), PassedKind::Udp)?;
        UdpSocket::from_fd(handle, fd)
    }

    /// Takes a passed Unix datagram socket (`ListenDatagram=` with a path).
    ///
    /// Errors as for [`take_tcp_listener`](Activation::take_tcp_listener).
    ///
    /// ```
    /// use readyloop::{systemd::Activation, ErrorKind};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let err = Activation::default().take_unix_datagram(&lp.handle(), 1).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// ```
    pub fn take_unix_datagram<'a>(
        &mut self,
        handle: &Handle,
        which: impl Into<Which<'a>>,
    ) -> Result<UnixDatagram, Error> {
        let fd = self.take_kind(which.into(), PassedKind::UnixDatagram)?;
        UnixDatagram::from_fd(handle, fd)
    }

    /// The index of the untaken fd `which` names.
    fn find(&self, which: Which<'_>) -> Result<usize, Error> {
        let found = match which {
            Which::Name(name) => self
                .passed
                .iter()
                .position(|(n, fd)| n == name && fd.is_some()),
            Which::Index(i) => self
                .passed
                .get(i)
                .and_then(|(_, fd)| fd.as_ref())
                .map(|_| i),
        };
        found.ok_or(invalid(
            "systemd: no passed fd with that name or index (or it was taken already)",
        ))
    }

    /// Takes the fd `which` names if it is of kind `want`, made non-blocking.
    fn take_kind(&mut self, which: Which<'_>, want: PassedKind) -> Result<OwnedFd, Error> {
        let slot = self.find(which)?;
        let fd = self.passed[slot]
            .1
            .as_ref()
            .expect("find returns untaken slots");
        if sys::passed_kind(fd.as_fd()) != want {
            return Err(invalid(match want {
                PassedKind::TcpListener => {
                    "systemd: the passed fd is not a listening TCP socket (check the socket \
                     unit: ListenStream= with a port or IP:port)"
                }
                PassedKind::UnixListener => {
                    "systemd: the passed fd is not a listening Unix stream socket (check the \
                     socket unit: ListenStream= with a path)"
                }
                PassedKind::Udp => {
                    "systemd: the passed fd is not a UDP socket (check the socket unit: \
                     ListenDatagram= with a port or IP:port)"
                }
                PassedKind::UnixDatagram | PassedKind::Other => {
                    "systemd: the passed fd is not a Unix datagram socket (check the socket \
                     unit: ListenDatagram= with a path)"
                }
            }));
        }
        sys::set_nonblocking(fd.as_fd())?;
        Ok(self.passed[slot].1.take().expect("checked above"))
    }
}

/// A decimal number with nothing else around it.
fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn invalid(message: &'static str) -> Error {
    Error::new(ErrorKind::InvalidInput, message)
}
