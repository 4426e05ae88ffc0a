//! The I/O seam, both directions: [`HyperIo`] gives hyper a readyloop stream (hyper's
//! `rt::Read`/`rt::Write`), and [`FuturesIo`] bridges futures-io and hyper both ways: a
//! hyper stream (an upgraded connection) as futures-io, for async-tungstenite, and a
//! futures-io stream (futures-rustls' `TlsStream`) as hyper's I/O, for HTTPS.
//!
//! `HyperIo` reads into hyper's uninitialised buffer (`poll_recv_uninit`: no zeroing) and
//! writes hyper's head and body in one `sendmsg` (`poll_send_vectored`). It is `Send`
//! through [`ThreadBound`], because hyper boxes upgraded connections as `dyn Io + Send`.
//! This file must never make a syscall itself: it forwards to the socket's poll methods.

use super::thread_bound::ThreadBound;
use crate::net::StreamSocket;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;

/// What the thread-check panic calls a `HyperIo`.
const WHAT: &str = "a readyloop socket inside hyper (HyperIo)";

/// A readyloop stream ([`TcpStream`](crate::net::TcpStream),
/// [`UnixStream`](crate::net::UnixStream)) as hyper's I/O: what hyper-util's `TokioIo` is
/// for tokio.
///
/// It is `Send` (hyper's upgrades need `dyn Io + Send`) but works only on the loop's
/// thread: polled on another thread it panics, and dropped on another it is leaked rather
/// than closed there (see the module docs of [`crate::hyper`]).
///
/// ```no_run
/// # async fn serve(h: readyloop::Handle) -> Result<(), readyloop::Error> {
/// use readyloop::hyper::HyperIo;
/// let listener = readyloop::net::TcpListener::bind(&h, "127.0.0.1:0")?;
/// let (stream, _peer) = listener.accept().await?;
/// let io = HyperIo::new(stream); // for hyper's `serve_connection(io, service)`
/// # drop(io); Ok(()) }
/// ```
#[derive(Debug)]
pub struct HyperIo<T> {
    /// The stream, usable only on the thread that wrapped it.
    inner: ThreadBound<T>,
}

impl<T: StreamSocket> HyperIo<T> {
    /// Wraps a stream for hyper (on the loop's thread, where the stream lives).
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// let io = readyloop::hyper::HyperIo::new(a);
    /// fn hyper_io(_: impl hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static) {}
    /// hyper_io(io);
    /// ```
    pub fn new(stream: T) -> Self {
        HyperIo {
            inner: ThreadBound::new(stream),
        }
    }

    /// The stream back (for example after `hyper::upgrade::Parts::io` hands this back).
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// let stream = readyloop::hyper::HyperIo::new(a).into_inner();
    /// # drop(stream);
    /// ```
    ///
    /// # Panics
    /// On another thread than the one that made it.
    pub fn into_inner(self) -> T {
        self.inner.into_inner(WHAT)
    }

    /// The stream, borrowed.
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// let mut io = readyloop::hyper::HyperIo::new(a);
    /// assert!(io.inner().peer_addr().is_ok());
    /// ```
    ///
    /// # Panics
    /// On another thread than the one that made it.
    pub fn inner(&mut self) -> &T {
        self.inner.get_mut(WHAT)
    }
}

impl<T: StreamSocket + Unpin> ::hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ::hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let stream = self.get_mut().inner.get_mut(WHAT);
        // SAFETY: `recv` writes only initialised bytes into the slice and never de-initialises
        // any; the slice is not used after this call except through the count it returns.
        let spare = unsafe { buf.as_mut() };
        match stream.poll_recv_uninit(cx, spare) {
            Poll::Ready(Ok(n)) => {
                // SAFETY: `poll_recv_uninit` returned `n`: the kernel wrote the first `n`
                // bytes of the cursor's spare space, so they are initialised.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: StreamSocket + Unpin> ::hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let stream = self.get_mut().inner.get_mut(WHAT);
        stream.poll_send(cx, buf).map_err(io::Error::from)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let stream = self.get_mut().inner.get_mut(WHAT);
        stream.poll_send_vectored(cx, bufs).map_err(io::Error::from)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // No write buffer in readyloop: a write that returned is in the kernel.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let stream = self.get_mut().inner.get_mut(WHAT);
        Poll::Ready(
            stream
                .shutdown(crate::net::Shutdown::Write)
                .map_err(io::Error::from),
        )
    }
}

/// The bridge between futures-io and hyper's I/O traits, both ways (as hyper-util's
/// `TokioIo` is for tokio's): a hyper stream (`hyper::upgrade::Upgraded`, any
/// `hyper::rt::Read + Write`) becomes `futures_io::AsyncRead + AsyncWrite`, so
/// async-tungstenite runs over a connection hyper upgraded; and a futures-io stream
/// (futures-rustls' `TlsStream` over a readyloop `TcpStream`) becomes hyper's I/O, for
/// HTTPS. For a plain readyloop socket use [`HyperIo`], which reads without zeroing.
///
/// With hyper, `FuturesIo::new(hyper::upgrade::on(req).await?)` is the upgraded
/// connection as futures-io. Any `hyper::rt` stream works, a [`HyperIo`] among them:
///
/// ```
/// use futures_io::{AsyncRead, AsyncWrite};
/// use readyloop::hyper::{FuturesIo, HyperIo};
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// let (mut a, mut b) = (FuturesIo::new(HyperIo::new(a)), FuturesIo::new(HyperIo::new(b)));
/// lp.block_on(async {
///     let sent = core::future::poll_fn(|cx| core::pin::Pin::new(&mut a).poll_write(cx, b"ws"));
///     assert_eq!(sent.await.unwrap(), 2);
///     let mut buf = [0u8; 2];
///     let got = core::future::poll_fn(|cx| core::pin::Pin::new(&mut b).poll_read(cx, &mut buf));
///     assert_eq!(got.await.unwrap(), 2);
///     assert_eq!(&buf, b"ws");
/// });
/// ```
#[derive(Debug)]
pub struct FuturesIo<T> {
    /// The hyper stream.
    inner: T,
}

impl<T> FuturesIo<T> {
    /// Wraps a hyper stream (see the type's example).
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// let io = readyloop::hyper::FuturesIo::new(readyloop::hyper::HyperIo::new(a));
    /// # drop(io);
    /// ```
    pub fn new(inner: T) -> Self {
        FuturesIo { inner }
    }

    /// The hyper stream back.
    ///
    /// ```
    /// # let lp = readyloop::Loop::new().unwrap();
    /// # let (a, _b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// use readyloop::hyper::{FuturesIo, HyperIo};
    /// let io: HyperIo<_> = FuturesIo::new(HyperIo::new(a)).into_inner();
    /// # drop(io);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: ::hyper::rt::Read + Unpin> futures_io::AsyncRead for FuturesIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read_buf = ::hyper::rt::ReadBuf::new(buf);
        match Pin::new(&mut self.inner).poll_read(cx, read_buf.unfilled()) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read_buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: ::hyper::rt::Write + Unpin> futures_io::AsyncWrite for FuturesIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<T: futures_io::AsyncRead + Unpin> ::hyper::rt::Read for FuturesIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ::hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // futures-io reads into initialised memory: zero the spare space (once; hyper's
        // cursor remembers what is initialised).
        let spare = buf.initialize_unfilled();
        match futures_io::AsyncRead::poll_read(Pin::new(&mut self.inner), cx, spare) {
            Poll::Ready(Ok(n)) => {
                // SAFETY: the first `n` bytes of the spare space were initialised above (and
                // now hold data); `n <= spare.len()` by `poll_read`'s contract.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: futures_io::AsyncWrite + Unpin> ::hyper::rt::Write for FuturesIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
