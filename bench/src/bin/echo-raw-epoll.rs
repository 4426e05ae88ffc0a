//! The epoll floor: a hand-written level-triggered epoll(7) echo server with no async at
//! all, the raw loop of the idle-heavy rows (issue 17), where poll(2) pays for every idle fd.
//!
//! Run: `cargo run --release -p readyloop-bench --bin echo-raw-epoll [IP:PORT]`.
//!
//! It is written as `echo-raw` is, with epoll in place of poll:
//! - each connection registered once, level-triggered, for its whole life (`EPOLLIN`, or
//!   `EPOLLOUT` while a short write is parked: one `epoll_ctl` per switch), and removed by
//!   its close;
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
    // SAFETY: plain syscalls; every event struct is live during its call.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(ep >= 0, "epoll_create1");
    let ctl = |op: i32, fd: i32, events: u32| {
        let mut ev = libc::epoll_event {
            events,
            u64: fd as u64,
        };
        // SAFETY: as above.
        unsafe { libc::epoll_ctl(ep, op, fd, &mut ev) }
    };
    assert_eq!(ctl(libc::EPOLL_CTL_ADD, listener, libc::EPOLLIN as u32), 0);
    // conns[fd]: the connection on that fd (indexed by fd number).
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut writing: Vec<bool> = Vec::new();
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    loop {
        // SAFETY: the buffer is live and its length is given.
        let n = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, -1) };
        if n < 0 {
            assert_eq!(errno(), libc::EINTR, "epoll_wait failed");
            continue;
        }
        for event in events.iter().take(n as usize) {
            let fd = event.u64 as i32;
            if fd == listener {
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
                    let at = c as usize;
                    if conns.len() <= at {
                        conns.resize_with(at + 1, || None);
                        writing.resize(at + 1, false);
                    }
                    conns[at] = Some(Conn {
                        buf: vec![0u8; BUF].into_boxed_slice(),
                        pending: 0,
                        filled: 0,
                    });
                    writing[at] = false;
                    ctl(libc::EPOLL_CTL_ADD, c, libc::EPOLLIN as u32);
                }
                continue;
            }
            let at = fd as usize;
            let Some(conn) = conns[at].as_mut() else {
                continue;
            };
            let result = if writing[at] {
                match flush(fd, conn) {
                    Ok(true) => serve(fd, conn),
                    other => other,
                }
            } else {
                serve(fd, conn)
            };
            match result {
                Ok(true) if writing[at] => {
                    writing[at] = false;
                    ctl(libc::EPOLL_CTL_MOD, fd, libc::EPOLLIN as u32);
                }
                Ok(false) if !writing[at] => {
                    writing[at] = true;
                    ctl(libc::EPOLL_CTL_MOD, fd, libc::EPOLLOUT as u32);
                }
                Ok(_) => {}
                Err(()) => {
                    conns[at] = None;
                    // SAFETY: the fd is ours and is not used again (close removes it
                    // from the epoll set).
                    unsafe { libc::close(fd) };
                }
            }
        }
    }
}
