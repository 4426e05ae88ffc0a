//! Addresses: what the socket constructors accept, and the Unix-domain address type.
//!
//! IP addresses are `core::net`'s, so they work without `std`. Text is parsed as `IP:PORT`
//! (`127.0.0.1:9527`, `[::1]:9527`); text that does not parse is an `InvalidInput` error,
//! never a panic. This module never resolves host names (that is a blocking lookup; see
//! [`open_connection`](crate::net::open_connection) for where it slots in).

use crate::error::{Error, ErrorKind};
use crate::sys::net as sys;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use rustix::net::SocketAddrUnix;

/// The error for a `(host, port)` pair whose host is not an IP address.
const BAD_HOST: Error = Error::new(
    ErrorKind::InvalidInput,
    "host is not an IP address such as 127.0.0.1 or ::1 (names need a resolver: \
     open_connection or resolve)",
);

/// The error for text that is not `IP:PORT`.
pub(crate) const BAD_ADDRESS: Error = Error::new(
    ErrorKind::InvalidInput,
    "address does not parse: expected IP:PORT such as 127.0.0.1:9527 or [::1]:9527",
);

/// Something that names one IP socket address: a `SocketAddr` (or `SocketAddrV4`/`V6`), an
/// `(IpAddr, port)`, `(Ipv4Addr, port)` or `(Ipv6Addr, port)` pair, octets and a port
/// (`([127, 0, 0, 1], 0)`), an IP as text and a port (`("::1", 0)`), or text such as
/// `"127.0.0.1:9527"` or `"[::1]:0"`.
///
/// ```
/// use readyloop::net::ToSocketAddr;
/// use readyloop::ErrorKind;
/// assert_eq!("127.0.0.1:80".to_socket_addr().unwrap().port(), 80);
/// assert_eq!("[::1]:0".to_socket_addr().unwrap().is_ipv6(), true);
/// let e = "localhost:nope".to_socket_addr().unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::InvalidInput);
/// ```
pub trait ToSocketAddr {
    /// The address, or `InvalidInput` if it does not parse.
    ///
    /// ```
    /// use readyloop::net::ToSocketAddr;
    /// assert_eq!("127.0.0.1:80".to_socket_addr().unwrap().port(), 80);
    /// assert!("[::1]:8080".to_socket_addr().unwrap().is_ipv6());
    /// let err = "localhost:80".to_socket_addr().unwrap_err(); // names need resolve()
    /// assert_eq!(err.kind(), readyloop::ErrorKind::InvalidInput);
    /// ```
    fn to_socket_addr(&self) -> Result<SocketAddr, Error>;

    /// For text of the form `HOST:PORT` whose host is not an IP address: the host and port,
    /// for a resolver to look up. Everything else says `None`.
    ///
    /// ```
    /// use readyloop::net::ToSocketAddr;
    /// assert_eq!("example.com:80".host_and_port(), Some(("example.com", 80)));
    /// assert_eq!("127.0.0.1:80".host_and_port(), None);
    /// assert_eq!("1.2.3:80".host_and_port(), None); // a malformed address, not a name
    /// ```
    fn host_and_port(&self) -> Option<(&str, u16)> {
        None
    }
}

impl ToSocketAddr for SocketAddr {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        Ok(*self)
    }
}

impl ToSocketAddr for SocketAddrV4 {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        Ok(SocketAddr::V4(*self))
    }
}

impl ToSocketAddr for SocketAddrV6 {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        Ok(SocketAddr::V6(*self))
    }
}

impl ToSocketAddr for (IpAddr, u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        Ok(SocketAddr::new(self.0, self.1))
    }
}

impl ToSocketAddr for (Ipv4Addr, u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        Ok(SocketAddr::new(IpAddr::V4(self.0), self.1))
    }
}

impl ToSocketAddr for (Ipv6Addr, u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        Ok(SocketAddr::new(IpAddr::V6(self.0), self.1))
    }
}

impl ToSocketAddr for str {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        self.trim().parse::<SocketAddr>().map_err(|_| BAD_ADDRESS)
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        let text = self.trim();
        if text.parse::<SocketAddr>().is_ok() {
            return None;
        }
        let (host, port) = text.rsplit_once(':')?;
        let port = port.parse::<u16>().ok()?;
        is_host_name(host).then_some((host, port))
    }
}

/// Whether `host` is a name for a resolver, not an IP address. A name has a letter in it;
/// digits and dots alone are a malformed IPv4 address (which `getaddrinfo` would read in the
/// old `inet_aton` forms, as 1.2.3 = 1.2.0.3).
fn is_host_name(host: &str) -> bool {
    host.bytes().any(|b| b.is_ascii_alphabetic())
        && host.parse::<IpAddr>().is_err()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// `([127, 0, 0, 1], 9527)`: an IPv4 address as its four octets, and a port.
///
/// ```
/// use readyloop::net::ToSocketAddr;
/// let addr = ([127, 0, 0, 1], 0).to_socket_addr().unwrap();
/// assert_eq!(addr, "127.0.0.1:0".parse().unwrap());
/// ```
impl ToSocketAddr for ([u8; 4], u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        Ok(SocketAddr::from(*self))
    }
}

/// `([0, 0, 0, 0, 0, 0, 0, 1], 9527)`: an IPv6 address as eight 16-bit groups, and a port.
///
/// ```
/// use readyloop::net::ToSocketAddr;
/// let addr = ([0u16, 0, 0, 0, 0, 0, 0, 1], 80).to_socket_addr().unwrap();
/// assert_eq!(addr, "[::1]:80".parse().unwrap());
/// ```
impl ToSocketAddr for ([u16; 8], u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        Ok(SocketAddr::from(*self))
    }
}

/// `([0; 16], 9527)`: an IPv6 address as sixteen octets, and a port.
///
/// ```
/// use readyloop::net::ToSocketAddr;
/// let mut octets = [0u8; 16];
/// octets[15] = 1;
/// assert_eq!((octets, 80).to_socket_addr().unwrap(), "[::1]:80".parse().unwrap());
/// ```
impl ToSocketAddr for ([u8; 16], u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        Ok(SocketAddr::from(*self))
    }
}

/// `("127.0.0.1", 9527)` or `("::1", 9527)`: an IP address as text (no brackets), and a
/// port. A host name (`("localhost", 80)`) is not an address: `to_socket_addr` says
/// `InvalidInput`, and [`host_and_port`](ToSocketAddr::host_and_port) hands it to a
/// resolver (as [`open_connection`](crate::net::open_connection) does).
///
/// ```
/// use readyloop::net::ToSocketAddr;
/// assert_eq!(("127.0.0.1", 80).to_socket_addr().unwrap(), "127.0.0.1:80".parse().unwrap());
/// assert_eq!(("::1", 80).to_socket_addr().unwrap(), "[::1]:80".parse().unwrap());
/// assert!(("localhost", 80).to_socket_addr().is_err());
/// assert_eq!(("localhost", 80).host_and_port(), Some(("localhost", 80)));
/// ```
impl ToSocketAddr for (&str, u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        let ip = self.0.trim().parse::<IpAddr>().map_err(|_| BAD_HOST)?;
        Ok(SocketAddr::new(ip, self.1))
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        let host = self.0.trim();
        is_host_name(host).then_some((host, self.1))
    }
}

/// `(String, port)`: as `(&str, port)`.
///
/// ```
/// use readyloop::net::ToSocketAddr;
/// let host = String::from("127.0.0.1");
/// assert_eq!((host, 80).to_socket_addr().unwrap().port(), 80);
/// ```
impl ToSocketAddr for (alloc::string::String, u16) {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        (self.0.as_str(), self.1).to_socket_addr()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        let host = self.0.trim();
        is_host_name(host).then_some((host, self.1))
    }
}

impl ToSocketAddr for alloc::string::String {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        self.as_str().to_socket_addr()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        self.as_str().host_and_port()
    }
}

impl<T: ToSocketAddr + ?Sized> ToSocketAddr for &T {
    fn to_socket_addr(&self) -> Result<SocketAddr, Error> {
        (**self).to_socket_addr()
    }

    fn host_and_port(&self) -> Option<(&str, u16)> {
        (**self).host_and_port()
    }
}

/// The address of a Unix-domain socket: a filesystem path, a Linux abstract name, or
/// unnamed (a socket that never bound, such as most clients).
///
/// ```
/// use readyloop::net::UnixSocketAddr;
/// let a = UnixSocketAddr::from_path_bytes(b"/tmp/demo.sock").unwrap();
/// assert_eq!(a.path_bytes(), Some(&b"/tmp/demo.sock"[..]));
/// let b = UnixSocketAddr::from_abstract_name(b"demo").unwrap();
/// assert_eq!(b.abstract_name(), Some(&b"demo"[..]));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnixSocketAddr {
    /// The kernel's `sockaddr_un`, as rustix keeps it.
    pub(crate) raw: SocketAddrUnix,
}

impl UnixSocketAddr {
    /// A filesystem path address from bytes (works without `std`). Paths longer than the
    /// kernel's 107 bytes, or holding a NUL byte, are `InvalidInput`.
    ///
    /// ```
    /// use readyloop::net::UnixSocketAddr;
    /// assert!(UnixSocketAddr::from_path_bytes(b"/run/app.sock").is_ok());
    /// assert!(UnixSocketAddr::from_path_bytes(&[b'a'; 200]).is_err());
    /// assert!(UnixSocketAddr::from_path_bytes(b"nul\0inside").is_err());
    /// ```
    pub fn from_path_bytes(path: &[u8]) -> Result<Self, Error> {
        if path.is_empty() || path.contains(&0) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "Unix socket path is empty or contains a NUL byte",
            ));
        }
        sys::unix_addr(path)
            .map(|raw| UnixSocketAddr { raw })
            .map_err(|_| {
                Error::new(
                    ErrorKind::InvalidInput,
                    "Unix socket path is too long (the kernel allows 107 bytes)",
                )
            })
    }

    /// A filesystem path address.
    ///
    /// ```
    /// let a = readyloop::net::UnixSocketAddr::from_pathname("/tmp/x.sock").unwrap();
    /// assert_eq!(a.as_pathname(), Some(std::path::Path::new("/tmp/x.sock")));
    /// ```
    #[cfg(feature = "std")]
    pub fn from_pathname(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        use std::os::unix::ffi::OsStrExt;
        Self::from_path_bytes(path.as_ref().as_os_str().as_bytes())
    }

    /// An address in Linux's abstract namespace (no file is created; the name vanishes with
    /// the socket).
    ///
    /// ```
    /// use readyloop::net::{UnixListener, UnixSocketAddr, UnixStream};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let name = format!("readyloop-doc-{}", std::process::id());
    /// let addr = UnixSocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    /// let listener = UnixListener::bind(&h, addr.clone()).unwrap();
    /// let client = lp.block_on(UnixStream::connect(&h, addr)).unwrap();
    /// # drop((listener, client));
    /// ```
    pub fn from_abstract_name(name: &[u8]) -> Result<Self, Error> {
        sys::unix_abstract_addr(name)
            .map(|raw| UnixSocketAddr { raw })
            .map_err(|_| {
                Error::new(
                    ErrorKind::InvalidInput,
                    "abstract Unix socket name is too long (the kernel allows 107 bytes)",
                )
            })
    }

    /// The filesystem path, as bytes, if this is a path address.
    ///
    /// ```
    /// use readyloop::net::UnixSocketAddr;
    /// let addr = UnixSocketAddr::from_path_bytes(b"/run/app.sock").unwrap();
    /// assert_eq!(addr.path_bytes(), Some(&b"/run/app.sock"[..]));
    /// ```
    pub fn path_bytes(&self) -> Option<&[u8]> {
        self.raw.path_bytes()
    }

    /// The filesystem path, if this is a path address.
    ///
    /// ```
    /// let a = readyloop::net::UnixSocketAddr::from_abstract_name(b"x").unwrap();
    /// assert_eq!(a.as_pathname(), None);
    /// ```
    #[cfg(feature = "std")]
    pub fn as_pathname(&self) -> Option<&std::path::Path> {
        use std::os::unix::ffi::OsStrExt;
        self.path_bytes()
            .map(|b| std::path::Path::new(std::ffi::OsStr::from_bytes(b)))
    }

    /// The name, if this is an abstract address.
    ///
    /// ```
    /// use readyloop::net::UnixSocketAddr;
    /// let addr = UnixSocketAddr::from_abstract_name(b"readyloop-doc").unwrap();
    /// assert_eq!(addr.abstract_name(), Some(&b"readyloop-doc"[..]));
    /// assert_eq!(addr.path_bytes(), None);
    /// ```
    pub fn abstract_name(&self) -> Option<&[u8]> {
        self.raw.abstract_name()
    }

    /// True for the address of a socket that never bound.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn is_unnamed(&self) -> bool {
        self.raw.is_unnamed()
    }
}

impl fmt::Debug for UnixSocketAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.path_bytes() {
            write!(f, "{:?} (pathname)", BytesDisplay(p))
        } else if let Some(n) = self.abstract_name() {
            write!(f, "{:?} (abstract)", BytesDisplay(n))
        } else {
            f.write_str("(unnamed)")
        }
    }
}

/// Shows bytes as text, escaping what is not printable ASCII.
struct BytesDisplay<'a>(&'a [u8]);

impl fmt::Debug for BytesDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for chunk in self.0.utf8_chunks() {
            for c in chunk.valid().chars() {
                write!(f, "{}", c.escape_debug())?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")
    }
}

/// Something that names a Unix-domain socket address: a [`UnixSocketAddr`], a path as
/// `&str` or bytes, or (with `std`) a `Path`/`PathBuf`.
///
/// ```
/// use readyloop::net::ToUnixAddr;
/// let a = "/tmp/app.sock".to_unix_addr().unwrap();
/// assert_eq!(a.path_bytes(), Some(&b"/tmp/app.sock"[..]));
/// assert!("".to_unix_addr().is_err());
/// ```
pub trait ToUnixAddr {
    /// The address, or `InvalidInput` (empty, too long, or containing NUL).
    ///
    /// ```
    /// use readyloop::net::ToUnixAddr;
    /// let addr = "/tmp/readyloop.sock".to_unix_addr().unwrap();
    /// assert_eq!(addr.path_bytes(), Some(&b"/tmp/readyloop.sock"[..]));
    /// assert!("".to_unix_addr().is_err());
    /// ```
    fn to_unix_addr(&self) -> Result<UnixSocketAddr, Error>;
}

impl ToUnixAddr for UnixSocketAddr {
    fn to_unix_addr(&self) -> Result<UnixSocketAddr, Error> {
        Ok(self.clone())
    }
}

impl ToUnixAddr for str {
    fn to_unix_addr(&self) -> Result<UnixSocketAddr, Error> {
        UnixSocketAddr::from_path_bytes(self.as_bytes())
    }
}

impl ToUnixAddr for [u8] {
    fn to_unix_addr(&self) -> Result<UnixSocketAddr, Error> {
        UnixSocketAddr::from_path_bytes(self)
    }
}

impl ToUnixAddr for alloc::string::String {
    fn to_unix_addr(&self) -> Result<UnixSocketAddr, Error> {
        self.as_str().to_unix_addr()
    }
}

#[cfg(feature = "std")]
impl ToUnixAddr for std::path::Path {
    fn to_unix_addr(&self) -> Result<UnixSocketAddr, Error> {
        UnixSocketAddr::from_pathname(self)
    }
}

#[cfg(feature = "std")]
impl ToUnixAddr for std::path::PathBuf {
    fn to_unix_addr(&self) -> Result<UnixSocketAddr, Error> {
        UnixSocketAddr::from_pathname(self)
    }
}

impl<T: ToUnixAddr + ?Sized> ToUnixAddr for &T {
    fn to_unix_addr(&self) -> Result<UnixSocketAddr, Error> {
        (**self).to_unix_addr()
    }
}

pub(crate) mod sealed {
    /// An address type the kernel's socket addresses convert into: what accept,
    /// `recvfrom`, `getsockname` and `getpeername` give, for either family.
    pub trait FromKernel: Sized {
        /// The kernel's address as this type; `None` when the kernel gave none.
        fn from_kernel(
            addr: Option<rustix::net::SocketAddrAny>,
        ) -> Result<Self, crate::error::Error>;
    }

    impl FromKernel for core::net::SocketAddr {
        fn from_kernel(
            addr: Option<rustix::net::SocketAddrAny>,
        ) -> Result<Self, crate::error::Error> {
            super::inet_from_kernel(addr)
        }
    }

    impl FromKernel for super::UnixSocketAddr {
        fn from_kernel(
            addr: Option<rustix::net::SocketAddrAny>,
        ) -> Result<Self, crate::error::Error> {
            super::unix_from_kernel(addr)
        }
    }
}

/// An IP address out of the kernel's, for accept/recv_from/getsockname results.
pub(crate) fn inet_from_kernel(
    addr: Option<rustix::net::SocketAddrAny>,
) -> Result<SocketAddr, Error> {
    let addr = addr.ok_or(Error::new(
        ErrorKind::Other,
        "the kernel gave no address for an IP socket",
    ))?;
    sys::to_inet(addr).map_err(Error::from_errno)
}

/// A Unix-domain address out of the kernel's (unnamed when it gave none).
pub(crate) fn unix_from_kernel(
    addr: Option<rustix::net::SocketAddrAny>,
) -> Result<UnixSocketAddr, Error> {
    sys::to_unix(addr)
        .map(|raw| UnixSocketAddr { raw })
        .map_err(Error::from_errno)
}
