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

#[path = "../raw_echo.rs"]
mod raw_echo;

use raw_echo::{accept_nodelay, errno, flush, listen, serve, Conn};
use readyloop_bench::{announce, bind_addr, BUF};

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
                while let Some(c) = accept_nodelay(fd) {
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
