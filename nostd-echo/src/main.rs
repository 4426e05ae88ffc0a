//! A true `no_std` daemon: an echo server on readyloop with no Rust standard library and no
//! C library. origin starts the program (`_start` → `origin_main`), `pool.rs` is the
//! allocator, panics abort, and every syscall goes through rustix's raw Linux backend.
//!
//! Run: `cd nostd-echo && cargo run --release [ADDR]`, ADDR as echo_server takes it:
//! `IPv4:PORT` or `[IPv6]:PORT` (default 127.0.0.1:0, any free port); anything else is
//! refused with a message and status 2. It prints `listening on IP:PORT` and echoes every
//! byte of every connection back. Under systemd (`Type=notify`, NOTIFY_SOCKET set) it says
//! READY=1 once listening and STOPPING=1 on SIGTERM or SIGINT, then exits 0.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use core::future::{poll_fn, Future};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::pin::pin;
use core::sync::atomic::{AtomicI32, Ordering};
use core::task::Poll;
use core::time::Duration;
use origin::signal::{Sigaction, SigactionFlags, Signal};
use readyloop::net::{echo, TcpListener, TcpStream};
use readyloop::systemd::Notifier;
use readyloop::{Handle, Loop, ReadFd};
use rustix::fd::{AsFd, BorrowedFd, IntoRawFd};
use rustix::pipe::PipeFlags;

mod pool;

#[global_allocator]
static GLOBAL: pool::Pool = pool::Pool::new();

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
    bytes: [u8; 80],
    len: usize,
}

impl Line {
    fn push(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// `n` in base `radix` (10 or 16), lower case.
    fn push_number(&mut self, n: u32, radix: u32) {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        let mut n = n;
        loop {
            i -= 1;
            digits[i] = b"0123456789abcdef"[(n % radix) as usize];
            n /= radix;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }
}

/// Prints `listening on A.B.C.D:PORT` or `listening on [IPV6]:PORT`, written as
/// `SocketAddr`'s Display writes it (the longest run of two or more zero groups as `::`).
fn announce(addr: SocketAddr) {
    let mut line = Line {
        bytes: [0; 80],
        len: 0,
    };
    line.push(b"listening on ");
    match addr.ip() {
        IpAddr::V4(ip) => {
            for (i, octet) in ip.octets().iter().enumerate() {
                if i > 0 {
                    line.push(b".");
                }
                line.push_number(u32::from(*octet), 10);
            }
        }
        IpAddr::V6(ip) => {
            let groups = ip.segments();
            // The longest run of zero groups (the first of equals), if at least two long.
            let (mut best, mut best_len, mut run) = (0, 0, 0);
            for (i, g) in groups.iter().enumerate() {
                run = if *g == 0 { run + 1 } else { 0 };
                if run > best_len {
                    (best, best_len) = (i + 1 - run, run);
                }
            }
            line.push(b"[");
            let mut i = 0;
            while i < 8 {
                if best_len >= 2 && i == best {
                    line.push(b"::");
                    i += best_len;
                    continue;
                }
                if i > 0 && !(best_len >= 2 && i == best + best_len) {
                    line.push(b":");
                }
                line.push_number(u32::from(groups[i]), 16);
                i += 1;
            }
            line.push(b"]");
        }
    }
    line.push(b":");
    line.push_number(u32::from(addr.port()), 10);
    line.push(b"\n");
    write_all(1, &line.bytes[..line.len]);
}

/// A decimal or hexadecimal number of 1 to `max_digits` digits, at most `max`.
fn number(text: &[u8], radix: u32, max_digits: usize, max: u32) -> Option<u32> {
    if text.is_empty() || text.len() > max_digits {
        return None;
    }
    let mut n: u32 = 0;
    for &b in text {
        n = n * radix + (b as char).to_digit(radix)?;
    }
    (n <= max).then_some(n)
}

/// `A.B.C.D` exactly: four decimal octets.
fn parse_v4(text: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split(|&b| b == b'.');
    for octet in &mut octets {
        *octet = number(parts.next()?, 10, 3, 255)? as u8;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// An IPv6 address in hex groups, at most one `::` (no embedded IPv4, no zone).
fn parse_v6(text: &[u8]) -> Option<Ipv6Addr> {
    fn groups(text: &[u8], out: &mut [u16; 8]) -> Option<usize> {
        if text.is_empty() {
            return Some(0);
        }
        let mut n = 0;
        for group in text.split(|&b| b == b':') {
            *out.get_mut(n)? = number(group, 16, 4, 0xffff)? as u16;
            n += 1;
        }
        Some(n)
    }
    let (mut head, mut tail) = ([0u16; 8], [0u16; 8]);
    let gap = text.windows(2).position(|w| w == b"::");
    let (h, t) = match gap {
        Some(at) => (
            groups(&text[..at], &mut head)?,
            groups(&text[at + 2..], &mut tail)?,
        ),
        None => (groups(text, &mut head)?, 0),
    };
    // Without `::` all eight groups; with it, at most seven written.
    if (gap.is_none() && h != 8) || (gap.is_some() && h + t > 7) {
        return None;
    }
    head[8 - t..].copy_from_slice(&tail[..t]);
    Some(Ipv6Addr::from(head))
}

/// `IPv4:PORT` or `[IPv6]:PORT`, as echo_server takes it; nothing else.
fn parse_addr(text: &[u8]) -> Option<SocketAddr> {
    let colon = text.iter().rposition(|&b| b == b':')?;
    let (host, port) = (&text[..colon], &text[colon + 1..]);
    let port = number(port, 10, 5, 0xffff)? as u16;
    let ip = match host {
        [b'[', v6 @ .., b']'] => IpAddr::V6(parse_v6(v6)?),
        v4 => IpAddr::V4(parse_v4(v4)?),
    };
    Some(SocketAddr::new(ip, port))
}

/// The address given as the first argument, `127.0.0.1:0` (any free port) without one,
/// or `None` for anything that does not parse (or more than one argument).
///
/// # Safety
/// `argv` must be origin's argument vector with `argc` entries.
unsafe fn addr_arg(argc: usize, argv: *mut *mut u8) -> Option<SocketAddr> {
    match argc {
        0 | 1 => Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)),
        2 => {
            // SAFETY: argv has argc entries, each a NUL-terminated string (the caller's
            // contract), and the string lives as long as the program.
            let arg = unsafe { core::ffi::CStr::from_ptr(*argv.add(1) as *const _) };
            parse_addr(arg.to_bytes())
        }
        _ => None,
    }
}

/// The write end of the pipe the signal handler pokes (-1 before it exists).
static STOP_PIPE: AtomicI32 = AtomicI32::new(-1);

/// SIGTERM/SIGINT: one byte into the pipe, which the loop watches. A write(2) is all a
/// handler may safely do here; a full pipe already says "stop".
extern "C" fn on_stop_signal(_: core::ffi::c_int) {
    let fd = STOP_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        // SAFETY: the pipe's write end stays open for the life of the process.
        let _ = rustix::io::write(unsafe { BorrowedFd::borrow_raw(fd) }, b"x");
    }
}

/// Routes SIGTERM and SIGINT into a pipe and returns its read end.
fn catch_stop_signals() -> Option<rustix::fd::OwnedFd> {
    let (read, write) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK).ok()?;
    STOP_PIPE.store(write.into_raw_fd(), Ordering::Relaxed);
    for signal in [Signal::TERM, Signal::INT] {
        // SAFETY: `KernelSigaction` is plain data; all-zero is an empty mask and no flags.
        let mut action: Sigaction = unsafe { core::mem::zeroed() };
        action.sa_handler_kernel = Some(on_stop_signal);
        action.sa_flags = SigactionFlags::RESTART;
        // SAFETY: the handler only loads an atomic and calls write(2), both async-signal-safe.
        unsafe { origin::signal::sigaction(signal, Some(action)) }.ok()?;
    }
    Some(read)
}

/// Tells systemd, if it asked to be told (NOTIFY_SOCKET); a failure changes nothing here.
fn notify(notifier: &Option<Notifier>, message: &str) {
    if let Some(n) = notifier {
        let _ = n.send(message);
    }
}

/// Seed 003's handler: echo one connection until it closes or fails.
async fn handle_connection(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; BUF];
    let _ = echo(&stream, &mut buf).await;
}

/// Seed 003's server: accept, one echo task per connection, until SIGTERM or SIGINT puts
/// a byte in the `stop` pipe; then STOPPING=1 and exit 0 (the connections close with the
/// process: a minimal daemon has no drain). One task waits on both: a second task would
/// cost a kilobyte of code.
async fn accept_loop(
    h: Handle,
    listener: TcpListener,
    stop: BorrowedFd<'_>,
    notifier: Option<Notifier>,
) {
    let mut byte = [0u8; 1];
    let mut stopped = pin!(ReadFd::new(&h, stop, &mut byte));
    loop {
        let accepted = poll_fn(|cx| {
            if stopped.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        match accepted {
            Some(Ok((stream, _peer))) => drop(h.spawn(handle_connection(stream))),
            Some(Err(_)) => h.sleep(Duration::from_millis(10)).await,
            None => {
                notify(&notifier, "STOPPING=1");
                origin::program::immediate_exit(0)
            }
        }
    }
}

/// `NOTIFY_SOCKET` from the environment origin passes (readyloop's own `from_env` would
/// read /proc/self/environ instead: the same answer for more code).
///
/// # Safety
/// `envp` must be origin's NULL-terminated environment vector.
unsafe fn notifier_from_env(mut envp: *mut *mut u8) -> Option<Notifier> {
    loop {
        // SAFETY: envp is NULL-terminated and each entry a NUL-terminated string.
        let entry = unsafe { *envp };
        if entry.is_null() {
            return None;
        }
        // SAFETY: as above.
        let var = unsafe { core::ffi::CStr::from_ptr(entry as *const _) }.to_bytes();
        if let Some(path) = var.strip_prefix(b"NOTIFY_SOCKET=") {
            // A bad NOTIFY_SOCKET is as good as none: the echo still works. Only ASCII
            // paths are taken (systemd's is /run/systemd/notify): the check is a few
            // bytes where UTF-8 validation is a few hundred (and a byte loop, where
            // `is_ascii`'s word-at-a-time scan is two hundred).
            if path.iter().any(|b| !b.is_ascii()) {
                return None;
            }
            // SAFETY: ASCII is valid UTF-8.
            let path = unsafe { core::str::from_utf8_unchecked(path) };
            return Notifier::to_socket(path).ok();
        }
        // SAFETY: not yet at the NULL entry.
        envp = unsafe { envp.add(1) };
    }
}

/// Called by origin after start-up.
///
/// # Safety
/// `argc` and `argv` describe the program's arguments (origin's contract).
#[unsafe(no_mangle)]
unsafe extern "C" fn origin_main(argc: usize, argv: *mut *mut u8, envp: *mut *mut u8) -> i32 {
    // SAFETY: forwarded from origin.
    let Some(addr) = (unsafe { addr_arg(argc, argv) }) else {
        write_all(
            2,
            b"nostd-echo: expected one ADDR, IPv4:PORT or [IPv6]:PORT (e.g. 127.0.0.1:9527)\n",
        );
        return 2;
    };
    let Some(stop) = catch_stop_signals() else {
        write_all(2, b"nostd-echo: cannot catch SIGTERM\n");
        return 1;
    };
    // Never dropped: the process ends while it runs (exit or immediate_exit), and the
    // kernel closes its fds. Leaving out the teardown saves half a kilobyte.
    let Ok(lp) = Loop::new().map(core::mem::ManuallyDrop::new) else {
        write_all(2, b"nostd-echo: cannot create the loop\n");
        return 1;
    };
    let h = lp.handle();
    let Ok(listener) = TcpListener::bind(&h, addr) else {
        write_all(2, b"nostd-echo: cannot listen\n");
        return 1;
    };
    let Ok(local) = listener.local_addr() else {
        write_all(2, b"nostd-echo: no local address\n");
        return 1;
    };
    // SAFETY: forwarded from origin.
    let notifier = unsafe { notifier_from_env(envp) };
    announce(local);
    notify(&notifier, "READY=1");
    lp.block_on(accept_loop(h.clone(), listener, stop.as_fd(), notifier));
    0
}
