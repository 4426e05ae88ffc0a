//! `StreamSocket`: the sealed trait naming the stream sockets, so helpers such as
//! [`echo`](super::echo) work on TCP and Unix streams alike. It adds no methods of its own
//! (the streams' methods are inherent); it must never grow an implementation outside
//! readyloop.

pub(crate) mod sealed {
    /// Access to the shared socket core.
    pub trait HasSocket {
        /// The stream's socket.
        fn socket(&self) -> &crate::net::socket::Socket;
    }
}

/// A connected stream socket: [`TcpStream`](super::TcpStream) or
/// [`UnixStream`](super::UnixStream). Sealed: implemented only by readyloop.
///
/// ```
/// fn takes<S: readyloop::net::StreamSocket>(_: &S) {}
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// takes(&a);
/// ```
pub trait StreamSocket: sealed::HasSocket {}
