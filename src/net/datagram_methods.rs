//! The methods every datagram socket has, written once and stamped onto `UdpSocket` and
//! `UnixDatagram` (so they are inherent methods: no trait to import), with the fd trait
//! impls.
//!
//! Each method's doc comment comes from the invoking file, so each type keeps its own prose
//! and examples; this file holds only the code, which is the same for both once the header
//! names what differs: the address type, how a kernel address becomes one, and the socket
//! family. The method list must name every method in this order. What takes an address from
//! the caller (binding, `connect`, `send_to`) differs per type and stays in the type's file.
//! Nothing here opens a socket or blocks: each method forwards to the shared `Socket` code or
//! to a future of `datagram_io` or `stream_io`.

macro_rules! datagram_methods {
    (
        $ty:ident {
            addr: $addr:ident,
            family: $family:ident,
            from_kernel: $from_kernel:ident,
        }
        $(#[$from_fd_doc:meta])* fn from_fd;
        $(#[$into_fd_doc:meta])* fn into_fd;
        $(#[$recv_from_doc:meta])* fn recv_from;
        $(#[$poll_recv_from_doc:meta])* fn poll_recv_from;
        $(#[$send_doc:meta])* fn send;
        $(#[$recv_doc:meta])* fn recv;
        $(#[$poll_recv_doc:meta])* fn poll_recv;
        $(#[$poll_send_doc:meta])* fn poll_send;
        $(#[$local_addr_doc:meta])* fn local_addr;
        $(#[$peer_addr_doc:meta])* fn peer_addr;
        $(#[$handle_doc:meta])* fn handle;
    ) => {
        impl $ty {
            fn wrap(handle: &crate::Handle, fd: rustix::fd::OwnedFd) -> $ty {
                $ty {
                    socket: crate::net::socket::Socket::new(handle, fd),
                }
            }

            $(#[$from_fd_doc])*
            pub fn from_fd(
                handle: &crate::Handle,
                fd: rustix::fd::OwnedFd,
            ) -> Result<$ty, crate::Error> {
                use crate::sys::net::{check_adopted, Family, Kind};
                check_adopted(rustix::fd::AsFd::as_fd(&fd), Family::$family, Kind::Datagram)?;
                Ok(Self::wrap(handle, fd))
            }

            $(#[$into_fd_doc])*
            pub fn into_fd(self) -> rustix::fd::OwnedFd {
                self.socket.into_fd()
            }

            $(#[$recv_from_doc])*
            pub fn recv_from<'a>(&'a self, buf: &'a mut [u8]) -> crate::net::RecvFrom<'a, $addr> {
                crate::net::RecvFrom::new(&self.socket, buf)
            }

            $(#[$poll_recv_from_doc])*
            pub fn poll_recv_from(
                &self,
                cx: &mut core::task::Context<'_>,
                buf: &mut [u8],
            ) -> core::task::Poll<Result<(usize, $addr), crate::Error>> {
                crate::net::datagram_io::poll_recv_from(
                    &self.socket,
                    cx,
                    crate::net::socket::Slot::Shared,
                    buf,
                )
            }

            $(#[$send_doc])*
            pub fn send<'a>(&'a self, buf: &'a [u8]) -> crate::net::SendOnce<'a> {
                crate::net::SendOnce::new(&self.socket, buf)
            }

            $(#[$recv_doc])*
            pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> crate::net::Recv<'a> {
                crate::net::Recv::new(&self.socket, buf)
            }

            $(#[$poll_recv_doc])*
            pub fn poll_recv(
                &self,
                cx: &mut core::task::Context<'_>,
                buf: &mut [u8],
            ) -> core::task::Poll<Result<usize, crate::Error>> {
                self.socket
                    .poll_recv(cx, crate::net::socket::Slot::Shared, buf)
            }

            $(#[$poll_send_doc])*
            pub fn poll_send(
                &self,
                cx: &mut core::task::Context<'_>,
                buf: &[u8],
            ) -> core::task::Poll<Result<usize, crate::Error>> {
                self.socket
                    .poll_send(cx, crate::net::socket::Slot::Shared, buf)
            }

            $(#[$local_addr_doc])*
            pub fn local_addr(&self) -> Result<$addr, crate::Error> {
                $from_kernel(Some(crate::sys::net::local_addr(self.socket.fd())?))
            }

            $(#[$peer_addr_doc])*
            pub fn peer_addr(&self) -> Result<$addr, crate::Error> {
                $from_kernel(Some(crate::sys::net::peer_addr(self.socket.fd())?))
            }

            $(#[$handle_doc])*
            pub fn handle(&self) -> &crate::Handle {
                self.socket.handle()
            }
        }

        fd_traits!($ty);
    };
}
