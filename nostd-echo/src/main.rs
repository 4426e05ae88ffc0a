//! A true `no_std` daemon: an echo server on readyloop with no Rust standard library and no
//! C library. origin starts the program (`_start` → `origin_main`), rustix-dlmalloc is the
//! allocator, panics abort, and every syscall goes through rustix's raw Linux backend.
//!
//! Run: `cd nostd-echo && cargo run --release [PORT]`; it prints `listening on IP:PORT`
//! and echoes every byte of every connection back until it is killed. Before serving it
//! checks the loop end to end once (a timer, a pipe read through the reactor) and exits
//! with status 2 if that fails.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use core::future::poll_fn;
use core::net::{Ipv4Addr, SocketAddrV4};
use core::time::Duration;
use readyloop::{AsyncRead, Handle, Interest, Loop, Registration};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use rustix::net::{AddressFamily, SocketFlags, SocketType};

#[global_allocator]
static GLOBAL: rustix_dlmalloc::GlobalDlmalloc = rustix_dlmalloc::GlobalDlmalloc;

/// Bytes each connection reads (and writes back) at a time.
const BUF: usize = 4096;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    write_all(2, b"nostd-echo: panic\n");
    origin::program::immediate_exit(101)
}

/// Never called with `panic = "abort"`, but stable Rust still wants the symbol to exist.
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

fn write_all(fd: i32, mut bytes: &[u8]) {
    // SAFETY: fds 1 and 2 are open for the life of the process (or writes fail harmlessly).
    let fd = unsafe { BorrowedFd::borrow_raw(fd) };
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(_) => return,
        }
    }
}

/// A line being built in a fixed buffer (core::fmt would cost kilobytes).
struct Line {
    bytes: [u8; 48],
    len: usize,
}

impl Line {
    fn push(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn push_decimal(&mut self, n: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut n = n;
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }
}

/// Prints `listening on A.B.C.D:PORT`.
fn announce(addr: SocketAddrV4) {
    let mut line = Line {
        bytes: [0; 48],
        len: 0,
    };
    line.push(b"listening on ");
    for (i, octet) in addr.ip().octets().iter().enumerate() {
        if i > 0 {
            line.push(b".");
        }
        line.push_decimal(u32::from(*octet));
    }
    line.push(b":");
    line.push_decimal(u32::from(addr.port()));
    line.push(b"\n");
    write_all(1, &line.bytes[..line.len]);
}

/// The port given as the first argument, or 0 (any free port).
///
/// # Safety
/// `argv` must be origin's argument vector with `argc` entries.
unsafe fn port_arg(argc: usize, argv: *mut *mut u8) -> u16 {
    if argc < 2 {
        return 0;
    }
    // SAFETY: argv has argc entries, each a NUL-terminated string (the caller's contract).
    let mut p = unsafe { *argv.add(1) };
    let mut port: u32 = 0;
    // SAFETY: as above; we stop at the NUL.
    while let b @ b'0'..=b'9' = unsafe { *p } {
        port = (port * 10 + u32::from(b - b'0')).min(u32::from(u16::MAX));
        // SAFETY: still inside the string (its NUL has not been reached).
        p = unsafe { p.add(1) };
    }
    port as u16
}

/// A timer and a pipe read through the reactor: the loop works without std.
async fn self_check(h: &Handle) -> bool {
    let start = h.now();
    h.sleep(Duration::from_millis(1)).await;
    if h.now() - start < Duration::from_millis(1) {
        return false;
    }
    let Ok((r, w)) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK) else {
        return false;
    };
    let writer = h.spawn({
        let h = h.clone();
        async move {
            h.sleep(Duration::from_millis(1)).await;
            rustix::io::write(&w, b"ok").is_ok()
        }
    });
    let mut buf = [0u8; 2];
    let read = AsyncRead::exact(h, r.as_fd(), &mut buf).await;
    matches!(writer.await, Ok(true)) && read.is_ok() && buf == *b"ok"
}

/// Echoes one connection until it closes or fails.
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

fn listen(port: u16) -> Result<(OwnedFd, SocketAddrV4), rustix::io::Errno> {
    let fd = rustix::net::socket_with(
        AddressFamily::INET,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
    rustix::net::bind(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
    rustix::net::listen(&fd, 1024)?;
    let local = rustix::net::getsockname(&fd)?;
    let local = SocketAddrV4::try_from(local).map_err(|_| rustix::io::Errno::AFNOSUPPORT)?;
    Ok((fd, local))
}

/// Called by origin after start-up.
///
/// # Safety
/// `argc` and `argv` describe the program's arguments (origin's contract).
#[unsafe(no_mangle)]
unsafe extern "C" fn origin_main(argc: usize, argv: *mut *mut u8, _envp: *mut *mut u8) -> i32 {
    // SAFETY: forwarded from origin.
    let port = unsafe { port_arg(argc, argv) };
    let Ok(lp) = Loop::new() else {
        write_all(2, b"nostd-echo: cannot create the loop\n");
        return 1;
    };
    let h = lp.handle();
    if !lp.block_on(self_check(&h)) {
        write_all(2, b"nostd-echo: loop self-check failed\n");
        return 2;
    }
    let Ok((listener, local)) = listen(port) else {
        write_all(2, b"nostd-echo: cannot listen\n");
        return 1;
    };
    announce(local);
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
            if let Ok(stream) = accept.await {
                let _ = rustix::net::sockopt::set_tcp_nodelay(&stream, true);
                drop(h.spawn(echo(h.clone(), stream)));
            }
        }
    })
}
