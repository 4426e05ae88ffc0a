//! `futures_io::AsyncRead` and `AsyncWrite` for [`Async`](crate::Async) and the stream
//! sockets ([`TcpStream`](crate::net::TcpStream), [`UnixStream`](crate::net::UnixStream)), by
//! forwarding to their `poll_read`/`poll_recv`-style methods (`poll_write_vectored` of the
//! stream sockets is one `sendmsg`).
//!
//! `poll_flush` has nothing to do (readyloop keeps no write buffer: a write that returned is
//! in the kernel); `poll_close` shuts the writing half, so the peer reads end of file. The
//! impls exist for `&T` too, so one task may read while another writes through a shared
//! reference. This file must never make a syscall or register a wait itself.

use crate::async_fd::Async;
use crate::net::{Shutdown, StreamSocket, TcpStream, UnixStream};
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_io::{AsyncRead, AsyncWrite};
use rustix::fd::AsFd;
use std::io;

impl<T: AsFd> AsyncRead for Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Async::poll_read(&*self, cx, buf).map_err(io::Error::from)
    }
}

impl<T: AsFd> AsyncRead for &Async<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Async::poll_read(*self, cx, buf).map_err(io::Error::from)
    }
}

impl<T: AsFd> AsyncWrite for Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Async::poll_write(&*self, cx, buf).map_err(io::Error::from)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write().map_err(io::Error::from))
    }
}

impl<T: AsFd> AsyncWrite for &Async<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Async::poll_write(*self, cx, buf).map_err(io::Error::from)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown_write().map_err(io::Error::from))
    }
}

/// The impls for a stream socket type and for a shared reference to it: `poll_recv`,
/// `poll_send` and `shutdown(Write)`, the same code its `recv`/`send` futures run.
macro_rules! stream_socket {
    ($ty:ty) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                if buf.is_empty() {
                    return Poll::Ready(Ok(0)); // recv(2) on a Unix stream would wait
                }
                <$ty>::poll_recv(&*self, cx, buf).map_err(io::Error::from)
            }
        }

        impl AsyncRead for &$ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                if buf.is_empty() {
                    return Poll::Ready(Ok(0)); // recv(2) on a Unix stream would wait
                }
                <$ty>::poll_recv(*self, cx, buf).map_err(io::Error::from)
            }
        }

        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                <$ty>::poll_send(&*self, cx, buf).map_err(io::Error::from)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                StreamSocket::poll_send_vectored(&*self, cx, bufs).map_err(io::Error::from)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.shutdown(Shutdown::Write).map_err(io::Error::from))
            }
        }

        impl AsyncWrite for &$ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                <$ty>::poll_send(*self, cx, buf).map_err(io::Error::from)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                StreamSocket::poll_send_vectored(*self, cx, bufs).map_err(io::Error::from)
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(self.shutdown(Shutdown::Write).map_err(io::Error::from))
            }
        }
    };
}

stream_socket!(TcpStream);
stream_socket!(UnixStream);
