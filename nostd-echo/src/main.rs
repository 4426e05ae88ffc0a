//! A true `no_std` daemon: an echo server on readyloop with no Rust standard library and no
//! C library. origin starts the program (`_start` → `origin_main`), rustix-dlmalloc is the
//! allocator, panics abort, and every syscall goes through rustix's raw Linux backend.
//!
//! Run: `cd nostd-echo && cargo run --release [PORT]`; it prints `listening on IP:PORT`
//! and echoes every byte of every connection back until it is killed. Before serving it
//! checks that the loop's timers work (a 1 ms sleep) and exits with status 2 if not.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use core::time::Duration;
use readyloop::net::{echo, TcpListener, TcpStream};
use readyloop::{Handle, Loop};
use rustix::fd::BorrowedFd;

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

/// The loop's timers work without std: a 1 ms sleep ends no earlier than 1 ms later.
async fn self_check(h: &Handle) -> bool {
    let start = h.now();
    h.sleep(Duration::from_millis(1)).await;
    h.now() - start >= Duration::from_millis(1)
}

/// Seed 003's handler: echo one connection until it closes or fails.
async fn handle_connection(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; BUF];
    let _ = echo(&stream, &mut buf).await;
}

/// Seed 003's server: accept forever, one echo task per connection.
async fn accept_loop(h: Handle, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => drop(h.spawn(handle_connection(stream))),
            Err(_) => h.sleep(Duration::from_millis(10)).await,
        }
    }
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
    let Ok(listener) = TcpListener::bind(&h, SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)) else {
        write_all(2, b"nostd-echo: cannot listen\n");
        return 1;
    };
    let Ok(SocketAddr::V4(local)) = listener.local_addr() else {
        write_all(2, b"nostd-echo: no local address\n");
        return 1;
    };
    announce(local);
    lp.block_on(accept_loop(h, listener));
    0
}
