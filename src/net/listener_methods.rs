//! The methods every listener has, written once and stamped onto `TcpListener` and
//! `UnixListener` (so they are inherent methods: no trait to import), with the `Accepts`,
//! `Listener` and fd trait impls. The operations shared with generic code (`accept`,
//! `poll_accept`, `local_addr`, `handle`) are written once, in the `Listener` trait; the
//! inherent methods forward there.
//!
//! Each method's doc comment comes from the invoking file, so each type keeps its own prose
//! and examples; this file holds only the code, which is the same for both once the header
//! names what differs: the stream an accept makes, the peer address type, the socket family, and the type's function that makes a bound (not
//! yet listening) socket with the `BindOptions` set. The method list must name every method in this order. Nothing
//! here opens a socket or blocks: opening is the type's own function, waiting is `Accept`'s.

macro_rules! listener_methods {
    (
        $ty:ident {
            stream: $stream:ident,
            addr: $addr:ident,
            family: $family:ident,
            bind: fn $bound:ident($param:ident: impl $to_addr:ident, options),
        }
        $(#[$bind_doc:meta])* fn bind;
        $(#[$bind_with_doc:meta])* fn bind_with;
        $(#[$bind_with_backlog_doc:meta])* fn bind_with_backlog;
        $(#[$from_fd_doc:meta])* fn from_fd;
        $(#[$into_fd_doc:meta])* fn into_fd;
        $(#[$accept_doc:meta])* fn accept;
        $(#[$poll_accept_doc:meta])* fn poll_accept;
        $(#[$local_addr_doc:meta])* fn local_addr;
        $(#[$handle_doc:meta])* fn handle;
    ) => {
        impl $ty {
            $(#[$bind_doc])*
            pub fn bind(
                handle: &crate::Handle,
                $param: impl $to_addr,
            ) -> Result<$ty, crate::Error> {
                Self::bind_with(handle, $param, &crate::net::BindOptions::new())
            }

            $(#[$bind_with_doc])*
            pub fn bind_with(
                handle: &crate::Handle,
                $param: impl $to_addr,
                options: &crate::net::BindOptions,
            ) -> Result<$ty, crate::Error> {
                use rustix::fd::AsFd;
                let fd = $bound($param, options)?;
                crate::sys::net::listen(fd.as_fd(), options.listen_backlog())?;
                Ok(Self::wrap(handle, fd))
            }

            $(#[$bind_with_backlog_doc])*
            pub fn bind_with_backlog(
                handle: &crate::Handle,
                $param: impl $to_addr,
                backlog: u32,
            ) -> Result<$ty, crate::Error> {
                Self::bind_with(handle, $param, &crate::net::BindOptions::new().backlog(backlog))
            }

            fn wrap(handle: &crate::Handle, fd: rustix::fd::OwnedFd) -> $ty {
                $ty {
                    socket: crate::net::socket::Socket::new(handle, fd),
                    backoff: crate::net::socket::AcceptBackoff::new(handle),
                }
            }

            $(#[$from_fd_doc])*
            pub fn from_fd(
                handle: &crate::Handle,
                fd: rustix::fd::OwnedFd,
            ) -> Result<$ty, crate::Error> {
                use crate::sys::net::{self as sys, Family, Kind};
                use rustix::fd::AsFd;
                sys::check_adopted(fd.as_fd(), Family::$family, Kind::Stream)?;
                if !sys::is_listening(fd.as_fd())? {
                    return Err(crate::Error::new(
                        crate::ErrorKind::InvalidInput,
                        concat!(
                            stringify!($ty),
                            "::from_fd: the socket is not listening (call listen first, or \
                             adopt it as a ",
                            stringify!($stream),
                            ")"
                        ),
                    ));
                }
                Ok(Self::wrap(handle, fd))
            }

            $(#[$into_fd_doc])*
            pub fn into_fd(self) -> rustix::fd::OwnedFd {
                let $ty { socket, backoff } = self;
                drop(backoff);
                socket.into_fd()
            }

            $(#[$accept_doc])*
            pub fn accept(&self) -> crate::net::Accept<'_, $ty> {
                <Self as crate::net::Listener>::accept(self)
            }

            $(#[$poll_accept_doc])*
            pub fn poll_accept(
                &self,
                cx: &mut core::task::Context<'_>,
            ) -> core::task::Poll<Result<($stream, $addr), crate::Error>> {
                <Self as crate::net::Listener>::poll_accept(self, cx)
            }

            $(#[$local_addr_doc])*
            pub fn local_addr(&self) -> Result<$addr, crate::Error> {
                <Self as crate::net::Listener>::local_addr(self)
            }

            $(#[$handle_doc])*
            pub fn handle(&self) -> &crate::Handle {
                <Self as crate::net::Listener>::handle(self)
            }
        }

        impl crate::net::accept::sealed::Accepts for $ty {
            fn socket(&self) -> &crate::net::socket::Socket {
                &self.socket
            }

            fn backoff(&self) -> &crate::net::socket::AcceptBackoff {
                &self.backoff
            }
        }

        impl crate::net::Listener for $ty {
            type Stream = $stream;
            type Addr = $addr;
        }

        fd_traits!($ty);
        incoming_method!($ty);
    };
}
