//! `AsFd` and `AsRawFd` for the socket types, written once: each lends the fd of its
//! `socket` field. Lending never moves or closes the fd; only `into_fd` hands it out.

macro_rules! fd_traits {
    ($ty:ident) => {
        impl rustix::fd::AsFd for $ty {
            fn as_fd(&self) -> rustix::fd::BorrowedFd<'_> {
                self.socket.fd()
            }
        }

        impl rustix::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> rustix::fd::RawFd {
                rustix::fd::AsRawFd::as_raw_fd(&self.socket.fd())
            }
        }
    };
}
