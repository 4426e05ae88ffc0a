//! The echo I/O both raw servers share (`echo-raw` on poll(2), `echo-raw-epoll` on
//! epoll(7)), included by path into each so it compiles as their own code: a listener,
//! accepting a connection, a connection's buffer, read-until-drained and write-back. No allocation per operation.

use readyloop_bench::BACKLOG;
use std::net::TcpListener;
use std::os::fd::{AsRawFd, IntoRawFd};

pub struct Conn {
    pub buf: Box<[u8]>,
    /// Bytes of `buf[pending..filled]` still to be written back.
    pub pending: usize,
    pub filled: usize,
}

pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

pub fn listen(addr: std::net::SocketAddr) -> (i32, std::net::SocketAddr) {
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

/// Accepts one connection from `listener`, non-blocking and close-on-exec, with
/// `TCP_NODELAY` set; `None` once the accept queue is empty (or on any error).
pub fn accept_nodelay(listener: i32) -> Option<i32> {
    // SAFETY: accept4 with null address pointers is allowed.
    let c = unsafe {
        libc::accept4(
            listener,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )
    };
    if c < 0 {
        return None;
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
    Some(c)
}

/// Writes `conn.buf[pending..filled]`; true once all of it is out, false on EAGAIN.
/// Err on a dead connection.
pub fn flush(fd: i32, conn: &mut Conn) -> Result<bool, ()> {
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
pub fn serve(fd: i32, conn: &mut Conn) -> Result<bool, ()> {
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
