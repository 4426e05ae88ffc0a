//! `embedded_io_async::Read` and `Write` for [`Async`](crate::Async) (and, with sockets, the
//! stream types), so `no_std` protocol crates written against `embedded-io-async` run on
//! readyloop.
//!
//! `read` and `write` await the types' own futures (each keeps its own wait and is
//! cancel-safe: no bytes move unless the poll that moved them returns them); `flush` has
//! nothing to do, since readyloop keeps no write buffer. [`Error`](crate::Error) implements
//! `embedded_io::Error` by mapping its kind. This file must never make a syscall or register a
//! wait itself, and must build without `std`.

use crate::async_fd::Async;
use crate::error::{Error, ErrorKind};
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
            ErrorKind::Cancelled => EmbeddedKind::Interrupted,
            ErrorKind::NotASocket => EmbeddedKind::Unsupported,
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
