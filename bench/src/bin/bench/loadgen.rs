//! The load generator: ping-pong and windowed streams over loopback, every echoed byte
//! checked against what was sent.
//!
//! It runs in the driver's process, on its own CPU, and is written to cost as little as it
//! can per operation (one epoll set, level-triggered, no allocation per message), since on a
//! two-CPU machine it is the load generator that saturates first. Each measurement has a
//! warm-up, then a timed window: the counts and the server's CPU time are sampled at both
//! ends of that window only.

use crate::procs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Size of a ping-pong message.
pub const MSG: usize = 64;
/// Size of each write in the stream test.
pub const CHUNK: usize = 16 * 1024;

/// What one timed window measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Window {
    /// Round trips (ping-pong) or bytes echoed back (stream) inside the window.
    pub units: u64,
    /// Length of the window.
    pub seconds: f64,
    /// Server CPU time inside the window, in ns.
    pub server_cpu_ns: u64,
    /// Units over the whole run, warm-up included (for whole-process profiles).
    pub total_units: u64,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Opens `n` connections in batches of at most 100; each batch is confirmed by one checked
/// round trip per connection before the next batch starts, so no listen backlog overflows.
/// The sockets come back non-blocking, with TCP_NODELAY.
pub fn connect(addr: SocketAddr, n: usize, pattern: &[u8]) -> Result<Vec<TcpStream>, String> {
    let mut conns: Vec<TcpStream> = Vec::with_capacity(n);
    let mut buf = [0u8; MSG];
    while conns.len() < n {
        let first = conns.len();
        let batch = (n - first).min(100);
        for _ in 0..batch {
            let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                .map_err(|e| format!("connect #{}: {e}", conns.len()))?;
            s.set_nodelay(true).map_err(|e| e.to_string())?;
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .map_err(|e| e.to_string())?;
            conns.push(s);
        }
        for (i, s) in conns[first..].iter_mut().enumerate() {
            let msg = &pattern[(first + i) * 31 % 4096..][..MSG];
            s.write_all(msg).map_err(|e| format!("first write: {e}"))?;
        }
        for (i, s) in conns[first..].iter_mut().enumerate() {
            let msg = &pattern[(first + i) * 31 % 4096..][..MSG];
            s.read_exact(&mut buf)
                .map_err(|e| format!("first echo: {e}"))?;
            if buf != *msg {
                return Err("first echo differs from what was sent".into());
            }
        }
    }
    for s in &conns {
        s.set_nonblocking(true).map_err(|e| e.to_string())?;
    }
    Ok(conns)
}

/// Epoll set over the connections; `data` is the connection index.
struct Epoll {
    fd: i32,
    events: Vec<libc::epoll_event>,
}

impl Epoll {
    fn new(conns: &[TcpStream], interest: u32) -> Epoll {
        // SAFETY: plain syscalls; the event struct is live during each call.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        assert!(fd >= 0, "epoll_create1");
        for (i, s) in conns.iter().enumerate() {
            let mut ev = libc::epoll_event {
                events: interest,
                u64: i as u64,
            };
            // SAFETY: as above.
            let r = unsafe { libc::epoll_ctl(fd, libc::EPOLL_CTL_ADD, s.as_raw_fd(), &mut ev) };
            assert_eq!(r, 0, "epoll_ctl ADD");
        }
        Epoll {
            fd,
            events: vec![libc::epoll_event { events: 0, u64: 0 }; 1024],
        }
    }

    fn modify(&self, conn: &TcpStream, index: usize, interest: u32) {
        let mut ev = libc::epoll_event {
            events: interest,
            u64: index as u64,
        };
        // SAFETY: live struct; fd registered in `new`.
        let r = unsafe { libc::epoll_ctl(self.fd, libc::EPOLL_CTL_MOD, conn.as_raw_fd(), &mut ev) };
        assert_eq!(r, 0, "epoll_ctl MOD");
    }

    /// Polls without blocking (the load generator spins on its own CPU, so it never adds a
    /// wake-up latency of its own to a round trip); returns how many events are in
    /// `self.events`.
    fn wait(&mut self) -> usize {
        // SAFETY: the buffer is live and its length is given.
        let n = unsafe {
            libc::epoll_wait(
                self.fd,
                self.events.as_mut_ptr(),
                self.events.len() as i32,
                0,
            )
        };
        if n < 0 {
            assert_eq!(errno(), libc::EINTR, "epoll_wait");
            return 0;
        }
        n as usize
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        // SAFETY: our fd.
        unsafe { libc::close(self.fd) };
    }
}

/// Samples the window's start and end.
struct Clock {
    pid: u32,
    start: Instant,
    warm_until: Instant,
    end: Instant,
    at_warm: Option<(Instant, u64, u64)>,
}

impl Clock {
    fn new(pid: u32, warmup: Duration, duration: Duration) -> Clock {
        let start = Instant::now();
        Clock {
            pid,
            start,
            warm_until: start + warmup,
            end: start + warmup + duration,
            at_warm: None,
        }
    }

    /// Called often; returns the finished window once the end is reached.
    fn tick(&mut self, units: u64) -> Option<Window> {
        let now = Instant::now();
        if self.at_warm.is_none() {
            if now >= self.warm_until {
                self.at_warm = Some((now, units, procs::cpu_ns(self.pid)));
            }
            return None;
        }
        if now < self.end {
            return None;
        }
        let cpu = procs::cpu_ns(self.pid);
        let (t0, u0, c0) = self.at_warm.expect("warm");
        Some(Window {
            units: units - u0,
            seconds: now.duration_since(t0).as_secs_f64(),
            server_cpu_ns: cpu - c0,
            total_units: units,
        })
    }

    fn overdue(&self) -> bool {
        self.start.elapsed() > (self.end - self.start) + Duration::from_secs(10)
    }
}

fn message(pattern: &[u8], conn: usize, seq: u64) -> &[u8] {
    let off = (seq as usize * MSG + conn * 4099) % readyloop_bench::PATTERN_PERIOD;
    &pattern[off..off + MSG]
}

/// Ping-pong: each connection keeps one 64-byte message in flight, checks its echo, sends
/// the next. Counts round trips.
pub fn ping_pong(
    conns: &[TcpStream],
    pid: u32,
    pattern: &[u8],
    warmup: Duration,
    duration: Duration,
) -> Result<Window, String> {
    if conns.len() == 1 {
        return ping_pong_one(&conns[0], pid, pattern, warmup, duration);
    }
    let mut ep = Epoll::new(conns, libc::EPOLLIN as u32);
    let mut seq = vec![0u64; conns.len()];
    let mut got = vec![0usize; conns.len()];
    let mut rbuf = vec![[0u8; MSG]; conns.len()];
    for (i, s) in conns.iter().enumerate() {
        (&*s)
            .write_all(message(pattern, i, 0))
            .map_err(|e| format!("write: {e}"))?;
    }
    let mut total = 0u64;
    let mut clock = Clock::new(pid, warmup, duration);
    loop {
        let n = ep.wait();
        for k in 0..n {
            let i = ep.events[k].u64 as usize;
            let fd = conns[i].as_raw_fd();
            let buf = &mut rbuf[i][got[i]..];
            // SAFETY: the slice is live for its length.
            let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if r <= 0 {
                if r < 0 && matches!(errno(), libc::EAGAIN | libc::EINTR) {
                    continue;
                }
                return Err(format!(
                    "connection {i}: server closed or failed (read {r})"
                ));
            }
            got[i] += r as usize;
            if got[i] < MSG {
                continue;
            }
            if rbuf[i] != *message(pattern, i, seq[i]) {
                return Err(format!(
                    "connection {i}: echo differs at message {}",
                    seq[i]
                ));
            }
            got[i] = 0;
            seq[i] += 1;
            total += 1;
            let msg = message(pattern, i, seq[i]);
            // SAFETY: live slice; 64 bytes into an empty socket buffer always fit.
            let w = unsafe { libc::write(fd, msg.as_ptr().cast(), MSG) };
            if w != MSG as isize {
                return Err(format!("connection {i}: short write {w}"));
            }
        }
        if let Some(w) = clock.tick(total) {
            return Ok(w);
        }
        if clock.overdue() {
            return Err("ping-pong overran its time bound".into());
        }
    }
}

/// One connection: the load generator spins on a non-blocking read (no poll, no sleep of
/// its own), so a round trip costs the server's wake-up and work plus two short syscalls.
fn ping_pong_one(
    conn: &TcpStream,
    pid: u32,
    pattern: &[u8],
    warmup: Duration,
    duration: Duration,
) -> Result<Window, String> {
    let fd = conn.as_raw_fd();
    let mut buf = [0u8; MSG];
    let mut clock = Clock::new(pid, warmup, duration);
    let mut seq = 0u64;
    loop {
        let msg = message(pattern, 0, seq);
        // SAFETY: live slice; 64 bytes into an empty socket buffer always fit.
        let w = unsafe { libc::write(fd, msg.as_ptr().cast(), MSG) };
        if w != MSG as isize {
            return Err(format!("short write {w}"));
        }
        let mut got = 0;
        while got < MSG {
            // SAFETY: live slice.
            let r = unsafe { libc::read(fd, buf[got..].as_mut_ptr().cast(), MSG - got) };
            if r > 0 {
                got += r as usize;
            } else if r == 0 || !matches!(errno(), libc::EAGAIN | libc::EINTR) {
                return Err(format!("server closed or failed (read {r})"));
            } else if clock.overdue() {
                return Err("ping-pong overran its time bound".into());
            }
        }
        if buf != *msg {
            return Err(format!("echo differs at message {seq}"));
        }
        seq += 1;
        if let Some(w) = clock.tick(seq) {
            return Ok(w);
        }
    }
}

/// Streams: each connection writes 16 KiB chunks while fewer than `window` bytes are
/// unechoed, reads and checks the echo. Counts echoed bytes.
pub fn stream(
    conns: &[TcpStream],
    pid: u32,
    pattern: &[u8],
    window: u64,
    warmup: Duration,
    duration: Duration,
) -> Result<Window, String> {
    let period = readyloop_bench::PATTERN_PERIOD as u64;
    let n = conns.len();
    let shift: Vec<u64> = (0..n as u64).map(|i| i * 7919 % period).collect();
    let mut sent = vec![0u64; n];
    let mut recvd = vec![0u64; n];
    let mut blocked = vec![false; n];
    let mut ep = Epoll::new(conns, libc::EPOLLIN as u32);
    let mut rbuf = vec![0u8; 64 * 1024];
    let mut total = 0u64;

    // Writes while the window has room; true if the socket is full (wait for EPOLLOUT).
    let fill = |i: usize, sent: &mut u64, recvd: u64| -> Result<bool, String> {
        let fd = conns[i].as_raw_fd();
        while *sent - recvd + CHUNK as u64 <= window {
            let off = ((*sent + shift[i]) % period) as usize;
            let chunk = &pattern[off..off + CHUNK];
            // SAFETY: live slice.
            let w = unsafe { libc::write(fd, chunk.as_ptr().cast(), CHUNK) };
            if w < 0 {
                return match errno() {
                    libc::EAGAIN => Ok(true),
                    libc::EINTR => continue,
                    e => Err(format!("connection {i}: write failed ({e})")),
                };
            }
            *sent += w as u64;
        }
        Ok(false)
    };
    for i in 0..n {
        if fill(i, &mut sent[i], recvd[i])? {
            blocked[i] = true;
            ep.modify(&conns[i], i, (libc::EPOLLIN | libc::EPOLLOUT) as u32);
        }
    }
    let mut clock = Clock::new(pid, warmup, duration);
    loop {
        let ready = ep.wait();
        for k in 0..ready {
            let i = ep.events[k].u64 as usize;
            let fd = conns[i].as_raw_fd();
            if ep.events[k].events & libc::EPOLLIN as u32 != 0 {
                loop {
                    // SAFETY: live buffer.
                    let r = unsafe { libc::read(fd, rbuf.as_mut_ptr().cast(), rbuf.len()) };
                    if r < 0 {
                        match errno() {
                            libc::EAGAIN => break,
                            libc::EINTR => continue,
                            e => return Err(format!("connection {i}: read failed ({e})")),
                        }
                    }
                    if r == 0 {
                        return Err(format!("connection {i}: server closed"));
                    }
                    let r = r as usize;
                    let off = ((recvd[i] + shift[i]) % period) as usize;
                    if rbuf[..r] != pattern[off..off + r] {
                        return Err(format!(
                            "connection {i}: echo differs near byte {}",
                            recvd[i]
                        ));
                    }
                    recvd[i] += r as u64;
                    total += r as u64;
                    if recvd[i] > sent[i] {
                        return Err(format!("connection {i}: more echoed than sent"));
                    }
                    if r < rbuf.len() {
                        break;
                    }
                }
            }
            let full = fill(i, &mut sent[i], recvd[i])?;
            if full != blocked[i] {
                blocked[i] = full;
                let interest = if full {
                    libc::EPOLLIN | libc::EPOLLOUT
                } else {
                    libc::EPOLLIN
                };
                ep.modify(&conns[i], i, interest as u32);
            }
        }
        if let Some(w) = clock.tick(total) {
            return Ok(w);
        }
        if clock.overdue() {
            return Err("stream overran its time bound".into());
        }
    }
}
