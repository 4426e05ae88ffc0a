//! The methods every stream socket has, written once and stamped onto `TcpStream` and
//! `UnixStream` (so they are inherent methods: no trait to import).
//!
//! `$setup` is the hidden start of each doc example: it must define `lp` (the loop), `h`
//! (its handle) and two connected streams `a` and `b` inside an `async` block that the
//! examples end with `# });`. This file holds no logic: each method forwards to the
//! [`StreamSocket`](crate::net::StreamSocket) method of the same name, where the code is.

macro_rules! stream_methods {
    ($ty:ident, $addr:ty, $setup:literal) => {
        impl $ty {
            #[doc = "Receives up to `buf.len()` bytes (seed 003's `sock_recv`); 0 means the \
                     peer closed its writing half. Cancel-safe: see [`Recv`](crate::net::Recv)."]
            ///
            /// ```
            #[doc = $setup]
            /// a.send_all(b"ping").await.unwrap();
            /// let mut buf = [0u8; 1024];
            /// let n = b.recv(&mut buf).await.unwrap();
            /// assert_eq!(&buf[..n], b"ping");
            /// # });
            /// ```
            pub fn recv<'a>(&'a self, buf: &'a mut [u8]) -> crate::net::Recv<'a> {
                <Self as crate::net::StreamSocket>::recv(self, buf)
            }

            /// The poll form of [`recv`](Self::recv), using the socket's own read wait (one
            /// task at a time; the shape `futures-io`'s `poll_read` has). Both run the same
            /// code.
            ///
            /// ```
            #[doc = $setup]
            /// a.send_all(b"x").await.unwrap();
            /// let mut buf = [0u8; 4];
            /// let n = core::future::poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
            /// assert_eq!(n, 1);
            /// # });
            /// ```
            pub fn poll_recv(
                &self,
                cx: &mut core::task::Context<'_>,
                buf: &mut [u8],
            ) -> core::task::Poll<Result<usize, crate::Error>> {
                <Self as crate::net::StreamSocket>::poll_recv(self, cx, buf)
            }

            /// Waits until there is something to receive (data, the peer's close, or an
            /// error), without a buffer: a task that idles here holds none, and takes one
            /// only when it has something to receive. The pattern for a daemon with many
            /// idle connections (see `examples/echo_server.rs`). See
            /// [`Readable`](crate::net::Readable).
            ///
            /// ```
            #[doc = $setup]
            /// a.send_all(b"x").await.unwrap();
            /// b.readable().await.unwrap();
            /// let mut buf = [0u8; 4];
            /// assert_eq!(b.recv(&mut buf).await.unwrap(), 1);
            /// # });
            /// ```
            pub fn readable(&self) -> crate::net::Readable<'_> {
                crate::net::Readable::new(crate::net::stream::sealed::HasSocket::socket(self))
            }

            /// Fills `buf` completely, or fails with `UnexpectedEof` if the peer closes
            /// first. See [`RecvExact`](crate::net::RecvExact) for cancellation.
            ///
            /// ```
            #[doc = $setup]
            /// a.send_all(b"0123456789").await.unwrap();
            /// let mut head = [0u8; 4];
            /// b.recv_exact(&mut head).await.unwrap();
            /// assert_eq!(&head, b"0123");
            /// # });
            /// ```
            pub fn recv_exact<'a>(&'a self, buf: &'a mut [u8]) -> crate::net::RecvExact<'a> {
                <Self as crate::net::StreamSocket>::recv_exact(self, buf)
            }

            /// Appends everything until the peer closes its writing half; resolves to the
            /// count appended (seed 004's `reader.read()`). Cancel-safe: see
            /// [`ReadToEnd`](crate::net::ReadToEnd).
            ///
            /// ```
            #[doc = $setup]
            /// a.send_all(b"the end").await.unwrap();
            /// a.shutdown(readyloop::net::Shutdown::Write).unwrap();
            /// let mut all = Vec::new();
            /// b.read_to_end(&mut all).await.unwrap();
            /// assert_eq!(all, b"the end");
            /// # });
            /// ```
            pub fn read_to_end<'a>(
                &'a self,
                out: &'a mut alloc::vec::Vec<u8>,
            ) -> crate::net::ReadToEnd<'a> {
                <Self as crate::net::StreamSocket>::read_to_end(self, out)
            }

            /// Sends some of `buf` (one `send`); resolves to the count sent. Cancel-safe:
            /// see [`SendOnce`](crate::net::SendOnce).
            ///
            /// ```
            #[doc = $setup]
            /// let n = a.send(b"abc").await.unwrap();
            /// assert!(n >= 1 && n <= 3);
            /// # });
            /// ```
            pub fn send<'a>(&'a self, buf: &'a [u8]) -> crate::net::SendOnce<'a> {
                <Self as crate::net::StreamSocket>::send(self, buf)
            }

            /// The poll form of [`send`](Self::send), using the socket's own write wait
            /// (the shape of `futures-io`'s `poll_write`). Both run the same code.
            ///
            /// ```
            #[doc = $setup]
            /// let n = core::future::poll_fn(|cx| a.poll_send(cx, b"hi")).await.unwrap();
            /// assert_eq!(n, 2);
            /// # });
            /// ```
            pub fn poll_send(
                &self,
                cx: &mut core::task::Context<'_>,
                buf: &[u8],
            ) -> core::task::Poll<Result<usize, crate::Error>> {
                <Self as crate::net::StreamSocket>::poll_send(self, cx, buf)
            }

            /// Sends all of `buf` across partial sends (seed 003's `sock_sendall`; seed
            /// 004's `writer.write` + `drain`). See [`SendAll`](crate::net::SendAll) for
            /// cancellation. Sending after `shutdown(Write)`, or to a peer that is gone,
            /// fails with `BrokenPipe` (never a `SIGPIPE`).
            ///
            /// ```
            #[doc = $setup]
            /// let reader = h.spawn(async move {
            ///     let mut all = Vec::new();
            ///     b.read_to_end(&mut all).await.unwrap();
            ///     all.len()
            /// });
            /// a.send_all(&vec![1u8; 300_000]).await.unwrap();
            /// drop(a);
            /// assert_eq!(reader.await.unwrap(), 300_000);
            /// # });
            /// ```
            pub fn send_all<'a>(&'a self, buf: &'a [u8]) -> crate::net::SendAll<'a> {
                <Self as crate::net::StreamSocket>::send_all(self, buf)
            }

            /// Shuts down the reading half, the writing half (the peer then reads end of
            /// file) or both. The fd stays open until the stream drops.
            ///
            /// ```
            #[doc = $setup]
            /// a.shutdown(readyloop::net::Shutdown::Write).unwrap();
            /// let mut buf = [0u8; 8];
            /// assert_eq!(b.recv(&mut buf).await.unwrap(), 0);
            /// let err = a.send_all(b"late").await.unwrap_err();
            /// assert_eq!(err.kind(), readyloop::ErrorKind::BrokenPipe);
            /// # });
            /// ```
            pub fn shutdown(&self, how: crate::net::Shutdown) -> Result<(), crate::Error> {
                <Self as crate::net::StreamSocket>::shutdown(self, how)
            }

            /// Takes the socket's pending error (`SO_ERROR`), if any.
            ///
            /// ```
            #[doc = $setup]
            /// assert!(a.take_error().unwrap().is_none());
            /// # let _ = &b;
            /// # });
            /// ```
            pub fn take_error(&self) -> Result<Option<crate::Error>, crate::Error> {
                <Self as crate::net::StreamSocket>::take_error(self)
            }

            /// The loop this stream is registered with.
            ///
            /// ```
            #[doc = $setup]
            /// assert!(a.handle().stats().tasks_alive <= 1);
            /// # let _ = &b;
            /// # });
            /// ```
            pub fn handle(&self) -> &crate::Handle {
                <Self as crate::net::StreamSocket>::handle(self)
            }

            /// Deregisters the stream from its loop and hands back its fd (still
            /// non-blocking and close-on-exec).
            ///
            /// ```
            #[doc = $setup]
            /// let fd: std::os::fd::OwnedFd = a.into_fd();
            /// # let _ = (&b, fd);
            /// # });
            /// ```
            pub fn into_fd(self) -> rustix::fd::OwnedFd {
                self.socket.into_fd()
            }
        }

        fd_traits!($ty);
        peek_stream_methods!($ty, $setup);

        impl crate::net::stream::sealed::HasSocket for $ty {
            fn socket(&self) -> &crate::net::socket::Socket {
                &self.socket
            }
        }

        impl crate::net::stream::sealed::FromSocket for $ty {
            fn from_socket(socket: crate::net::socket::Socket) -> Self {
                $ty { socket }
            }
        }

        impl crate::net::StreamSocket for $ty {
            type Addr = $addr;
        }
    };
}
