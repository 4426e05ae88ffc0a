//! readyloop as an echo server: one task per connection.
//!
//! Run: `cargo run --release -p readyloop-bench --bin echo-readyloop [IP:PORT [BACKEND]]`
//! (BACKEND: a `BackendKind::name()`, default the loop's default).

use core::future::poll_fn;
use readyloop::{Handle, Interest, Loop, Registration};
use readyloop_bench::{announce, bind_addr, readyloop_backend, BUF};
use rustix::net::{sockopt, SocketFlags};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, OwnedFd};

async fn echo(h: Handle, stream: OwnedFd) {
    let reg = Registration::new(&h, stream.as_raw_fd());
    let mut buf = vec![0u8; BUF];
    loop {
        let read = poll_fn(|cx| {
            reg.poll_io(cx, Interest::Readable, || {
                rustix::io::read(&stream, &mut buf)
            })
        });
        let n = match read.await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if n < buf.len() {
            // A short read drained the socket: wait for readiness before the next read.
            reg.set_drained(Interest::Readable);
        }
        let mut done = 0;
        while done < n {
            let write = poll_fn(|cx| {
                reg.poll_io(cx, Interest::Writable, || {
                    rustix::io::write(&stream, &buf[done..n])
                })
            });
            match write.await {
                Ok(k) => done += k,
                Err(_) => return,
            }
        }
    }
}

fn main() {
    let mut builder = Loop::builder();
    if let Some(name) = std::env::args().nth(2) {
        builder = builder.backend(readyloop_backend(&name).expect("unknown backend"));
    }
    let lp = builder.build().expect("loop");
    let h = lp.handle();
    let listener = TcpListener::bind(bind_addr()).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    announce(listener.local_addr().expect("local_addr"));
    lp.block_on(async {
        let reg = Registration::new(&h, listener.as_raw_fd());
        loop {
            let accept = poll_fn(|cx| {
                reg.poll_io(cx, Interest::Readable, || {
                    rustix::net::accept_with(
                        &listener,
                        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
                    )
                })
            });
            let Ok(stream) = accept.await else { continue };
            let _ = sockopt::set_tcp_nodelay(&stream, true);
            h.spawn(echo(h.clone(), stream));
        }
    });
}
