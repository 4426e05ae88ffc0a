//! The floor: a hand-written poll(2) echo server with no async at all.
//!
//! Run: `cargo run --release -p readyloop-bench --bin echo-raw [IP:PORT]`.
//!
//! It is meant to be the best a plain poll loop can do, so the benchmark's "vs raw" ratios
//! measure only what tasks and wakers cost:
//! - one `pollfd` array handed to the kernel as is, edited in place (never rebuilt);
//! - non-blocking sockets, `accept4` with the flags set (no extra `fcntl`), `TCP_NODELAY`;
//! - a readable socket is read until it is drained: a read that fills the whole buffer is
//!   followed by another, a shorter one means the socket was empty at that moment (poll is
//!   level-triggered, so anything that arrives later is reported by the next poll without
//!   an extra `read` that would only return `EAGAIN`);
//! - data is written back at once from the same buffer; only a short write parks the rest
//!   (interest switches to `POLLOUT` and reading pauses: echo back-pressure);
//! - nothing is allocated per operation: each connection's buffer is allocated once at
//!   accept (the same `BUF` bytes every other server gives a connection).

#[path = "../raw_echo.rs"]
mod raw_echo;

use raw_echo::{accept_nodelay, errno, flush, listen, serve, Conn};
use readyloop_bench::{announce, bind_addr, BUF};

fn main() {
    let (listener, local) = listen(bind_addr());
    announce(local);
    let mut pollfds = vec![libc::pollfd {
        fd: listener,
        events: libc::POLLIN,
        revents: 0,
    }];
    // conns[i] belongs to pollfds[i]; index 0 (the listener) has none.
    let mut conns: Vec<Option<Conn>> = vec![None];
    let mut closed: Vec<usize> = Vec::new();
    loop {
        // SAFETY: the array is live and its length is given.
        let mut ready =
            unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, -1) };
        if ready < 0 {
            assert_eq!(errno(), libc::EINTR, "poll failed");
            continue;
        }
        let count = pollfds.len();
        for i in 0..count {
            if ready == 0 {
                break;
            }
            let revents = pollfds[i].revents;
            if revents == 0 {
                continue;
            }
            ready -= 1;
            let fd = pollfds[i].fd;
            if i == 0 {
                while let Some(c) = accept_nodelay(fd) {
                    pollfds.push(libc::pollfd {
                        fd: c,
                        events: libc::POLLIN,
                        revents: 0,
                    });
                    conns.push(Some(Conn {
                        buf: vec![0u8; BUF].into_boxed_slice(),
                        pending: 0,
                        filled: 0,
                    }));
                }
                continue;
            }
            let conn = conns[i].as_mut().expect("connection slot");
            let result = if pollfds[i].events == libc::POLLOUT {
                match flush(fd, conn) {
                    Ok(true) => serve(fd, conn),
                    other => other,
                }
            } else {
                serve(fd, conn)
            };
            match result {
                Ok(true) => pollfds[i].events = libc::POLLIN,
                Ok(false) => pollfds[i].events = libc::POLLOUT,
                Err(()) => closed.push(i),
            }
        }
        // Remove closed connections, highest index first so swap_remove keeps the others.
        closed.sort_unstable_by(|a, b| b.cmp(a));
        for &i in &closed {
            // SAFETY: the fd is ours and is not used again.
            unsafe { libc::close(pollfds[i].fd) };
            pollfds.swap_remove(i);
            conns.swap_remove(i);
        }
        closed.clear();
    }
}
