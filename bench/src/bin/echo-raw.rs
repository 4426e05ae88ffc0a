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

use readyloop_bench::{announce, bind_addr, BACKLOG, BUF};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, IntoRawFd};

struct Conn {
    buf: Box<[u8]>,
    /// Bytes of `buf[pending..filled]` still to be written back.
    pending: usize,
    filled: usize,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn listen(addr: std::net::SocketAddr) -> (i32, std::net::SocketAddr) {
    let l = TcpListener::bind(addr).expect("bind");
    let fd = l.as_raw_fd();
    // SAFETY: plain syscalls on an fd we own; re-listening only raises the backlog.
    unsafe {
        libc::listen(fd, BACKLOG);
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    let local = l.local_addr().expect("local_addr");
    (l.into_raw_fd(), local)
}

/// Writes `conn.buf[pending..filled]`; true once all of it is out, false on EAGAIN.
/// Err on a dead connection.
fn flush(fd: i32, conn: &mut Conn) -> Result<bool, ()> {
    while conn.pending < conn.filled {
        let rest = &conn.buf[conn.pending..conn.filled];
        // SAFETY: `rest` is a live slice for the length given.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n >= 0 {
            conn.pending += n as usize;
        } else {
            match errno() {
                libc::EAGAIN => return Ok(false),
                libc::EINTR => {}
                _ => return Err(()),
            }
        }
    }
    conn.pending = 0;
    conn.filled = 0;
    Ok(true)
}

/// Reads until drained, echoing each read. Ok(true): keep POLLIN; Ok(false): a write is
/// pending (switch to POLLOUT); Err: close.
fn serve(fd: i32, conn: &mut Conn) -> Result<bool, ()> {
    loop {
        // SAFETY: the buffer is live and `BUF` long.
        let n = unsafe { libc::read(fd, conn.buf.as_mut_ptr().cast(), conn.buf.len()) };
        if n > 0 {
            conn.pending = 0;
            conn.filled = n as usize;
            if !flush(fd, conn)? {
                return Ok(false);
            }
            if (n as usize) < conn.buf.len() {
                return Ok(true);
            }
        } else if n == 0 {
            return Err(());
        } else {
            match errno() {
                libc::EAGAIN => return Ok(true),
                libc::EINTR => {}
                _ => return Err(()),
            }
        }
    }
}

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
                loop {
                    // SAFETY: accept4 with null address pointers is allowed.
                    let c = unsafe {
                        libc::accept4(
                            fd,
                            std::ptr::null_mut(),
                            std::ptr::null_mut(),
                            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                        )
                    };
                    if c < 0 {
                        break;
                    }
                    let one: libc::c_int = 1;
                    // SAFETY: `one` outlives the call; the size matches.
                    unsafe {
                        libc::setsockopt(
                            c,
                            libc::IPPROTO_TCP,
                            libc::TCP_NODELAY,
                            (&one as *const libc::c_int).cast(),
                            4,
                        );
                    }
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
