//! `embedded_io_async::Read` and `Write` for [`Async`](crate::Async) and the stream sockets
//! ([`TcpStream`](crate::net::TcpStream), [`UnixStream`](crate::net::UnixStream)), so
//! `no_std` protocol crates written against `embedded-io-async` run on readyloop.
//!
//! `read` and `write` await the types' own futures (`read`/`write`, `recv`/`send`: each keeps
//! its own wait and is
//! cancel-safe: no bytes move unless the poll that moved them returns them); `flush` has
//! nothing to do, since readyloop keeps no write buffer. [`Error`](crate::Error) implements
//! `embedded_io::Error` by mapping its kind. This file must never make a syscall or register a
//! wait itself, and must build without `std`.

use crate::async_fd::Async;
use crate::error::{Error, ErrorKind};
use crate::net::{TcpStream, UnixStream};
use embedded_io_async::{ErrorKind as EmbeddedKind, ErrorType, Read, Write};
use rustix::fd::AsFd;

impl embedded_io_async::Error for Error {
    fn kind(&self) -> EmbeddedKind {
        match self.kind() {
            ErrorKind::ConnectionRefused => EmbeddedKind::ConnectionRefused,
            ErrorKind::ConnectionReset => EmbeddedKind::ConnectionReset,
            ErrorKind::ConnectionAborted => EmbeddedKind::ConnectionAborted,
            ErrorKind::BrokenPipe => EmbeddedKind::BrokenPipe,
            ErrorKind::AddrInUse => EmbeddedKind::AddrInUse,
            ErrorKind::AddrNotAvailable => EmbeddedKind::AddrNotAvailable,
            ErrorKind::InvalidInput | ErrorKind::Blocking | ErrorKind::FdTooLarge => {
                EmbeddedKind::InvalidInput
            }
            ErrorKind::TimedOut => EmbeddedKind::TimedOut,
            ErrorKind::Cancelled | ErrorKind::Interrupted => EmbeddedKind::Interrupted,
            ErrorKind::NotASocket | ErrorKind::Unsupported => EmbeddedKind::Unsupported,
            ErrorKind::NotConnected => EmbeddedKind::NotConnected,
            ErrorKind::PermissionDenied => EmbeddedKind::PermissionDenied,
            ErrorKind::NotFound => EmbeddedKind::NotFound,
            ErrorKind::AlreadyExists => EmbeddedKind::AlreadyExists,
            ErrorKind::OutOfMemory => EmbeddedKind::OutOfMemory,
            _ => EmbeddedKind::Other,
        }
    }
}

impl<T: AsFd> ErrorType for Async<T> {
    type Error = Error;
}

impl<T: AsFd> Read for Async<T> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        Async::read(self, buf).await
    }
}

impl<T: AsFd> Write for Async<T> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        Async::write(self, buf).await
    }

    async fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// The impls for a stream socket type: its `recv` and `send` futures.
macro_rules! stream_socket {
    ($ty:ty) => {
        impl ErrorType for $ty {
            type Error = Error;
        }

        impl Read for $ty {
            async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
                // The trait promises an empty read returns at once; recv(2) on a Unix stream
                // socket would wait for data instead.
                if buf.is_empty() {
                    return Ok(0);
                }
                self.recv(buf).await
            }
        }

        impl Write for $ty {
            async fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
                self.send(buf).await
            }

            async fn flush(&mut self) -> Result<(), Error> {
                Ok(())
            }
        }
    };
}

stream_socket!(TcpStream);
stream_socket!(UnixStream);
