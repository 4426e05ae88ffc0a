//! The crate's one error type: an OS error number or one of readyloop's own kinds.
//!
//! It works without `std` (it is `Copy` and carries no allocation) and converts into
//! `std::io::Error` under `std`. Messages say what went wrong and, where there is one, the fix.
//! This module must never allocate or panic.

use core::fmt;

pub use rustix::io::Errno;

/// What went wrong, as a category a caller can match on.
///
/// ```
/// use readyloop::{Errno, Error, ErrorKind};
/// let e = Error::from_errno(Errno::PIPE);
/// match e.kind() {
///     ErrorKind::BrokenPipe => {} // the peer is gone: stop writing
///     other => panic!("unexpected {other:?}"),
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The peer refused the connection (`ECONNREFUSED`).
    ConnectionRefused,
    /// The peer reset the connection (`ECONNRESET`).
    ConnectionReset,
    /// The connection was aborted (`ECONNABORTED`).
    ConnectionAborted,
    /// Writing to a connection whose other side is gone or whose writing half is shut (`EPIPE`).
    BrokenPipe,
    /// The address is already in use (`EADDRINUSE`).
    AddrInUse,
    /// The address cannot be assigned on this machine (`EADDRNOTAVAIL`).
    AddrNotAvailable,
    /// The process or system ran out of file descriptors (`EMFILE`, `ENFILE`).
    TooManyOpenFiles,
    /// An argument was not valid: an address that does not parse, a bad option value.
    InvalidInput,
    /// The socket is not connected (`ENOTCONN`): a `shutdown` or `peer_addr` after the
    /// connection ended, or before it began.
    NotConnected,
    /// The operation would block (`EAGAIN`); the loop's own operations wait instead, so this
    /// reaches a caller only from a raw syscall it made itself.
    WouldBlock,
    /// A signal interrupted the system call (`EINTR`).
    Interrupted,
    /// The operation is not permitted to this process (`EACCES`, `EPERM`).
    PermissionDenied,
    /// No such file or directory (`ENOENT`): a Unix socket path that does not exist.
    NotFound,
    /// The file or address already exists (`EEXIST`).
    AlreadyExists,
    /// The kernel is out of memory (`ENOMEM`).
    OutOfMemory,
    /// No route to the host (`EHOSTUNREACH`).
    HostUnreachable,
    /// The network is unreachable (`ENETUNREACH`).
    NetworkUnreachable,
    /// The network is down (`ENETDOWN`).
    NetworkDown,
    /// The operation is not supported here (`ENOSYS`, `EOPNOTSUPP`).
    Unsupported,
    /// The stream ended before the requested number of bytes arrived.
    UnexpectedEof,
    /// A deadline passed before the operation finished.
    TimedOut,
    /// The operation or task was cancelled.
    Cancelled,
    /// The file descriptor was closed while a task waited on it (`POLLNVAL`) or is not open (`EBADF`).
    Closed,
    /// A socket operation was given a file descriptor that is not a socket (`ENOTSOCK`).
    NotASocket,
    /// A file descriptor in blocking mode was given where a non-blocking one is required.
    Blocking,
    /// The file descriptor number is too large for the chosen backend (select's `FD_SETSIZE`).
    FdTooLarge,
    /// A readyloop future was polled outside a running readyloop loop.
    NoLoop,
    /// Received data was not what was asked for: a line that is not valid UTF-8.
    InvalidData,
    /// A line grew past its reader's limit before its delimiter came (see
    /// [`LineReader::with_max_line`](crate::net::LineReader::with_max_line)).
    LineTooLong,
    /// Any other operating-system error; see [`Error::errno`].
    Other,
}

/// What a future polled while its loop is not running reports: the message of
/// `ErrorKind::NoLoop`, or of the panic of a future with no error channel (`Sleep`, an
/// interval tick, an unfinished `JoinHandle`): one message, so the rule reads the same.
pub(crate) const LOOP_NOT_RUNNING: &str = "readyloop: this future's loop is not running on this \
    thread: await it inside that loop's Loop::block_on (or a task spawned with Handle::spawn); \
    futures of other runtimes need a bridge (crate docs: Beside other runtimes)";

/// The error readyloop's operations return.
///
/// ```
/// use readyloop::{Error, ErrorKind};
/// let e = Error::from_errno(readyloop::Errno::CONNREFUSED);
/// assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
/// assert!(e.to_string().contains("refused"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    errno: Option<Errno>,
    message: &'static str,
}

impl Error {
    /// An error of readyloop's own, with a message for a person.
    ///
    /// ```
    /// use readyloop::{Error, ErrorKind};
    /// const NO_ANSWER: Error = Error::new(ErrorKind::TimedOut, "the server did not answer in time");
    /// assert_eq!(NO_ANSWER.kind(), ErrorKind::TimedOut);
    /// assert_eq!(NO_ANSWER.errno(), None);
    /// ```
    pub const fn new(kind: ErrorKind, message: &'static str) -> Self {
        Error {
            kind,
            errno: None,
            message,
        }
    }

    /// Wraps an OS error number, choosing the matching kind: where `std::io::ErrorKind` has
    /// a kind readyloop also has, the same one std gives that number (and converted into a
    /// `std::io::Error`, the number itself is kept, so the kind is exactly std's).
    ///
    /// ```
    /// use readyloop::{Errno, Error, ErrorKind};
    /// assert_eq!(Error::from_errno(Errno::ADDRINUSE).kind(), ErrorKind::AddrInUse);
    /// assert_eq!(Error::from_errno(Errno::NOTCONN).kind(), ErrorKind::NotConnected);
    /// assert_eq!(Error::from_errno(Errno::IO).kind(), ErrorKind::Other);
    /// ```
    pub fn from_errno(errno: Errno) -> Self {
        // The kind alone: its message is looked up by `message()` (see `os_message`), so
        // a program that never prints an error does not carry the messages.
        let kind = match errno {
            Errno::CONNREFUSED => ErrorKind::ConnectionRefused,
            Errno::CONNRESET => ErrorKind::ConnectionReset,
            Errno::CONNABORTED => ErrorKind::ConnectionAborted,
            Errno::PIPE => ErrorKind::BrokenPipe,
            Errno::ADDRINUSE => ErrorKind::AddrInUse,
            Errno::ADDRNOTAVAIL => ErrorKind::AddrNotAvailable,
            Errno::MFILE | Errno::NFILE => ErrorKind::TooManyOpenFiles,
            Errno::INVAL => ErrorKind::InvalidInput,
            Errno::NOTCONN => ErrorKind::NotConnected,
            Errno::AGAIN => ErrorKind::WouldBlock,
            Errno::INTR => ErrorKind::Interrupted,
            Errno::ACCESS | Errno::PERM => ErrorKind::PermissionDenied,
            Errno::NOENT => ErrorKind::NotFound,
            Errno::EXIST => ErrorKind::AlreadyExists,
            Errno::NOMEM => ErrorKind::OutOfMemory,
            Errno::HOSTUNREACH => ErrorKind::HostUnreachable,
            Errno::NETUNREACH => ErrorKind::NetworkUnreachable,
            Errno::NETDOWN => ErrorKind::NetworkDown,
            Errno::NOSYS | Errno::OPNOTSUPP => ErrorKind::Unsupported,
            Errno::TIMEDOUT => ErrorKind::TimedOut,
            Errno::BADF => ErrorKind::Closed,
            Errno::NOTSOCK => ErrorKind::NotASocket,
            _ => ErrorKind::Other,
        };
        Error {
            kind,
            errno: Some(errno),
            message: "",
        }
    }

    /// The category of this error.
    ///
    /// ```
    /// use readyloop::{Errno, Error, ErrorKind};
    /// assert_eq!(Error::from(Errno::CONNRESET).kind(), ErrorKind::ConnectionReset);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The OS error number, when the error came from a system call.
    ///
    /// ```
    /// use readyloop::{Errno, Error};
    /// assert_eq!(Error::from_errno(Errno::MFILE).errno(), Some(Errno::MFILE));
    /// ```
    pub fn errno(&self) -> Option<Errno> {
        self.errno
    }

    /// The human-readable message, without the error number.
    ///
    /// ```
    /// use readyloop::{Errno, Error};
    /// let e = Error::from_errno(Errno::CONNREFUSED);
    /// assert_eq!(e.message(), "connection refused");
    /// assert_eq!(e.to_string(), "connection refused (os error 111)");
    /// ```
    pub fn message(&self) -> &'static str {
        match (self.message, self.errno) {
            ("", Some(_)) => os_message(self.kind),
            (message, _) => message,
        }
    }

    /// The same error with a message that says what the caller was doing.
    pub(crate) const fn with_message(self, message: &'static str) -> Self {
        Error { message, ..self }
    }

    pub(crate) const fn cancelled() -> Self {
        Error::new(ErrorKind::Cancelled, "cancelled")
    }
}

/// The message of an error made by [`Error::from_errno`], by the kind it chose (one
/// message per kind an errno maps to).
fn os_message(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ConnectionRefused => "connection refused",
        ErrorKind::ConnectionReset => "connection reset by peer",
        ErrorKind::ConnectionAborted => "connection aborted",
        ErrorKind::BrokenPipe => "broken pipe (peer gone or writing half shut)",
        ErrorKind::AddrInUse => "address already in use",
        ErrorKind::AddrNotAvailable => "address not available",
        ErrorKind::TooManyOpenFiles => {
            "out of file descriptors (raise RLIMIT_NOFILE or close some)"
        }
        ErrorKind::InvalidInput => "invalid argument",
        ErrorKind::NotConnected => "the socket is not connected",
        ErrorKind::WouldBlock => "the operation would block",
        ErrorKind::Interrupted => "interrupted by a signal",
        ErrorKind::PermissionDenied => "permission denied",
        ErrorKind::NotFound => "no such file or directory",
        ErrorKind::AlreadyExists => "already exists",
        ErrorKind::OutOfMemory => "out of kernel memory",
        ErrorKind::HostUnreachable => "no route to host",
        ErrorKind::NetworkUnreachable => "network is unreachable",
        ErrorKind::NetworkDown => "network is down",
        ErrorKind::Unsupported => "operation not supported",
        ErrorKind::TimedOut => "timed out",
        ErrorKind::Closed => "file descriptor is not open",
        ErrorKind::NotASocket => "file descriptor is not a socket",
        _ => "operating system error",
    }
}

impl From<Errno> for Error {
    fn from(errno: Errno) -> Self {
        Error::from_errno(errno)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind)
            .field("message", &self.message());
        if let Some(e) = self.errno {
            d.field("errno", &e.raw_os_error());
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())?;
        if let Some(e) = self.errno {
            write!(f, " (os error {})", e.raw_os_error())?;
        }
        Ok(())
    }
}

impl core::error::Error for Error {}

#[cfg(feature = "std")]
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        use std::io::ErrorKind as K;
        if let Some(errno) = e.errno {
            // The number decides the kind, exactly as std decides it for its own calls.
            return std::io::Error::from_raw_os_error(errno.raw_os_error());
        }
        let kind = match e.kind {
            ErrorKind::TimedOut => K::TimedOut,
            ErrorKind::UnexpectedEof => K::UnexpectedEof,
            ErrorKind::InvalidData | ErrorKind::LineTooLong => K::InvalidData,
            ErrorKind::ConnectionRefused => K::ConnectionRefused,
            ErrorKind::ConnectionReset => K::ConnectionReset,
            ErrorKind::ConnectionAborted => K::ConnectionAborted,
            ErrorKind::BrokenPipe => K::BrokenPipe,
            ErrorKind::AddrInUse => K::AddrInUse,
            ErrorKind::AddrNotAvailable => K::AddrNotAvailable,
            ErrorKind::InvalidInput | ErrorKind::FdTooLarge | ErrorKind::Blocking => {
                K::InvalidInput
            }
            ErrorKind::NotConnected => K::NotConnected,
            ErrorKind::WouldBlock => K::WouldBlock,
            ErrorKind::Interrupted | ErrorKind::Cancelled => K::Interrupted,
            ErrorKind::PermissionDenied => K::PermissionDenied,
            ErrorKind::NotFound => K::NotFound,
            ErrorKind::AlreadyExists => K::AlreadyExists,
            ErrorKind::OutOfMemory => K::OutOfMemory,
            ErrorKind::HostUnreachable => K::HostUnreachable,
            ErrorKind::NetworkUnreachable => K::NetworkUnreachable,
            ErrorKind::NetworkDown => K::NetworkDown,
            ErrorKind::Unsupported => K::Unsupported,
            _ => K::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// The result type of readyloop's operations.
///
/// ```
/// fn parse_port(text: &str) -> readyloop::Result<u16> {
///     text.parse().map_err(|_| {
///         readyloop::Error::new(readyloop::ErrorKind::InvalidInput, "not a port number")
///     })
/// }
/// assert_eq!(parse_port("8080").unwrap(), 8080);
/// assert!(parse_port("http").is_err());
/// ```
pub type Result<T, E = Error> = core::result::Result<T, E>;
