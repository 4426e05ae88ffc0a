//! The system calls behind `readyloop::systemd`: the environment, the process id, adopting a
//! passed fd, and one datagram to `NOTIFY_SOCKET`.
//!
//! With `std` the environment is `std::env` (the process's real `environ`, what children
//! inherit). Without `std` there may be no C library at all (an `origin`-started program),
//! so the variables are read from `/proc/self/environ`, the block the kernel handed the
//! program at `exec`, and cannot be removed: [`unset_var`] reports that with `false`. This
//! file must never block on anything but the one notification `sendto` (a datagram to a
//! local socket, as `sd_notify` sends it) and never touch a fd it was not given.

use crate::error::{Error, ErrorKind};
use alloc::string::String;
#[cfg(not(feature = "std"))]
use alloc::vec::Vec;
use rustix::fd::{BorrowedFd, OwnedFd, RawFd};
use rustix::io::{fcntl_getfd, fcntl_setfd, FdFlags};
use rustix::net::{AddressFamily, SendFlags, SocketAddrUnix, SocketFlags, SocketType};

/// The first fd systemd passes (`SD_LISTEN_FDS_START`).
pub(crate) const LISTEN_FDS_START: RawFd = 3;

/// The value of environment variable `name`, if set and valid UTF-8.
#[cfg(feature = "std")]
pub(crate) fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The value of environment variable `name`, if set and valid UTF-8, from the environment
/// the program was started with (`/proc/self/environ`).
#[cfg(not(feature = "std"))]
pub(crate) fn var(name: &str) -> Option<String> {
    let environ = read_proc_environ().ok()?;
    environ.split(|&b| b == 0).find_map(|entry| {
        let value = entry.strip_prefix(name.as_bytes())?.strip_prefix(b"=")?;
        core::str::from_utf8(value).ok().map(String::from)
    })
}

/// The whole of `/proc/self/environ`.
#[cfg(not(feature = "std"))]
fn read_proc_environ() -> Result<Vec<u8>, rustix::io::Errno> {
    use rustix::fs::{open, Mode, OFlags};
    let fd = open(
        "/proc/self/environ",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut all = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match rustix::io::read(&fd, &mut chunk) {
            Ok(0) => return Ok(all),
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Removes `name` from the process's environment, so child processes do not inherit it;
/// `false` when that is impossible (without `std`).
///
/// Thread safety: with `std` this is `std::env::remove_var`, which is safe against other
/// Rust code using `std::env`, but not against C code in another thread reading `environ`
/// at the same moment (`getenv` in a C library, a resolver): call it before starting
/// threads. (Edition 2024 marks `remove_var` unsafe for this reason.)
#[cfg(feature = "std")]
pub(crate) fn unset_var(name: &str) -> bool {
    std::env::remove_var(name);
    true
}

/// Without `std` there is no `environ` readyloop can reach (no C library may be linked):
/// the variables stay, and [`crate::systemd`] documents what that means.
#[cfg(not(feature = "std"))]
pub(crate) fn unset_var(_name: &str) -> bool {
    false
}

/// This process's id.
pub(crate) fn pid() -> u32 {
    rustix::process::getpid().as_raw_nonzero().get() as u32
}

/// Takes ownership of passed fd `fd` after checking it is open, and makes it close-on-exec
/// (systemd passes them inheritable) so a child process does not keep the socket open.
///
/// # Safety
/// Nothing else in the process owns `fd` or will close it: `Activation::from_env`'s
/// contract, passed on (LISTEN_FDS handed the number to this process, and each number is
/// adopted once).
pub(crate) unsafe fn adopt_passed(fd: RawFd) -> Result<OwnedFd, Error> {
    // SAFETY: only borrowed for the two fcntl calls, and nothing else owns it (this fn's
    // contract); a number that is not open makes fcntl say EBADF, reported below.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let flags = fcntl_getfd(borrowed).map_err(|e| match e {
        rustix::io::Errno::BADF => Error::new(
            ErrorKind::Closed,
            "systemd: LISTEN_FDS names an fd that is not open in this process",
        ),
        e => Error::from_errno(e),
    })?;
    fcntl_setfd(borrowed, flags | FdFlags::CLOEXEC)?;
    // SAFETY: the fd is open (fcntl succeeded) and nobody else owns it (this fn's contract).
    Ok(unsafe { rustix::fd::FromRawFd::from_raw_fd(fd) })
}

/// What a passed fd is, as far as taking it as one of readyloop's socket types goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PassedKind {
    /// A listening `AF_INET`/`AF_INET6` stream socket (`ListenStream=` with a port).
    TcpListener,
    /// A listening `AF_UNIX` stream socket (`ListenStream=` with a path).
    UnixListener,
    /// An `AF_INET`/`AF_INET6` datagram socket (`ListenDatagram=` with a port).
    Udp,
    /// An `AF_UNIX` datagram socket (`ListenDatagram=` with a path).
    UnixDatagram,
    /// Anything else: a FIFO, a connected stream, a netlink or packet socket...
    Other,
}

/// Classifies a passed fd by its socket type, family and listening state.
pub(crate) fn passed_kind(fd: BorrowedFd<'_>) -> PassedKind {
    use rustix::net::sockopt::{socket_acceptconn, socket_domain, socket_type};
    let (Ok(ty), Ok(domain)) = (socket_type(fd), socket_domain(fd)) else {
        return PassedKind::Other;
    };
    let inet = domain == AddressFamily::INET || domain == AddressFamily::INET6;
    let unix = domain == AddressFamily::UNIX;
    let listening = socket_acceptconn(fd).unwrap_or(false);
    match (ty, inet, unix, listening) {
        (SocketType::STREAM, true, _, true) => PassedKind::TcpListener,
        (SocketType::STREAM, _, true, true) => PassedKind::UnixListener,
        (SocketType::DGRAM, true, _, _) => PassedKind::Udp,
        (SocketType::DGRAM, _, true, _) => PassedKind::UnixDatagram,
        _ => PassedKind::Other,
    }
}

/// Puts a passed socket in non-blocking mode (systemd passes them blocking).
pub(crate) fn set_nonblocking(fd: BorrowedFd<'_>) -> Result<(), Error> {
    super::fd::set_nonblocking(fd)
}

/// Where notifications go: `NOTIFY_SOCKET`'s value as a socket address.
pub(crate) fn notify_address(value: &str) -> Result<SocketAddrUnix, Error> {
    let invalid = |_| {
        Error::new(
            ErrorKind::InvalidInput,
            "systemd: NOTIFY_SOCKET is not a Unix socket path or @abstract name",
        )
    };
    match value.as_bytes() {
        [b'@', name @ ..] if !name.is_empty() => {
            SocketAddrUnix::new_abstract_name(name).map_err(invalid)
        }
        [b'/', ..] => {
            // `sun_path` holds at most 108 bytes, so the path is made a `CStr` here, on the
            // stack: handed a `&str`, rustix would also link its heap path for long names.
            let mut buf = [0u8; 109];
            let bytes = value.as_bytes();
            // At most 108 bytes of path, so a NUL always follows.
            buf[..108]
                .get_mut(..bytes.len())
                .ok_or(rustix::io::Errno::NAMETOOLONG)
                .map_err(invalid)?
                .copy_from_slice(bytes);
            let path = core::ffi::CStr::from_bytes_with_nul(&buf[..=bytes.len()])
                .map_err(|_| invalid(rustix::io::Errno::INVAL))?;
            SocketAddrUnix::new(path).map_err(invalid)
        }
        _ => Err(Error::new(
            ErrorKind::InvalidInput,
            "systemd: NOTIFY_SOCKET must be an absolute path or start with @ (abstract name)",
        )),
    }
}

/// A socket to send notifications from: unbound, datagram, close-on-exec, blocking (a
/// notification is one small datagram to a local reader, as `sd_notify` sends it).
pub(crate) fn notify_socket() -> Result<OwnedFd, Error> {
    Ok(rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// Sends `message` as one datagram to `addr`; `MSG_NOSIGNAL` so a gone reader is an error,
/// never a `SIGPIPE`.
pub(crate) fn send_notification(
    fd: &OwnedFd,
    addr: &SocketAddrUnix,
    message: &[u8],
) -> Result<(), Error> {
    loop {
        match rustix::net::sendto(fd, message, SendFlags::NOSIGNAL, addr) {
            Ok(n) if n == message.len() => return Ok(()),
            Ok(_) => {
                return Err(Error::new(
                    ErrorKind::Other,
                    "systemd: the notification was cut short",
                ))
            }
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// `CLOCK_MONOTONIC` in microseconds, what `RELOADING=1` pairs with `MONOTONIC_USEC=`.
pub(crate) fn monotonic_micros() -> u64 {
    super::clock::monotonic_nanos() / 1_000
}
