//! Churn is clean (issue 17, point 4): connections open and close by the hundred beside a
//! few busy ones, while the adaptive backend moves the registered set between poll(2) and
//! epoll(7) and back, and while fd numbers are reused (client and server ends live in this
//! one process, and the kernel hands out the lowest free number). Checked for real:
//!
//! - no lost wake-up: every busy round trip and every idle connection's first echo comes
//!   back within a bound (a blocking client read with a timeout);
//! - no wake of the wrong task: a server task woken by `readable()` always finds its own
//!   socket readable (a non-blocking `MSG_PEEK` never says `EAGAIN`), and every echo carries
//!   its connection's own bytes;
//! - no stale registration: afterwards the process's fd count, the loop's registered fds,
//!   and the kernel's own list of the epoll instance's registrations
//!   (`/proc/self/fdinfo/EPFD`, one `tfd:` line each) are back to the baseline.
//!
//! One test in its own file, so no other test opens fds or epoll instances meanwhile.
//! Bounded: a few seconds per backend, loopback only, under 600 fds.

mod common;

use common::{open_fds, within};
use readyloop::net::{BufferPool, TcpListener, TcpStream};
use readyloop::{BackendKind, Handle, Loop};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The registrations the kernel holds for each epoll instance of this process.
fn epoll_registrations() -> Vec<usize> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = std::fs::read_link(entry.path()) else {
            continue;
        };
        if target.to_string_lossy() != "anon_inode:[eventpoll]" {
            continue;
        }
        let name = entry.file_name();
        let info = format!("/proc/self/fdinfo/{}", name.to_string_lossy());
        if let Ok(text) = std::fs::read_to_string(info) {
            out.push(text.lines().filter(|l| l.starts_with("tfd:")).count());
        }
    }
    out
}

/// One server task per connection: waits buffer-less, checks the wake was for its own
/// socket, then echoes what is there (the daemon pattern, one receive per wake).
async fn serve(stream: TcpStream, pool: BufferPool, wrong_wakes: Rc<Cell<u64>>) {
    loop {
        if stream.readable().await.is_err() {
            return;
        }
        let mut probe = [0u8; 1];
        let peek = rustix::net::recv(
            &stream,
            &mut probe,
            rustix::net::RecvFlags::PEEK | rustix::net::RecvFlags::DONTWAIT,
        );
        if peek.is_err_and(|e| e == rustix::io::Errno::AGAIN) {
            wrong_wakes.set(wrong_wakes.get() + 1);
            continue;
        }
        let mut buf = pool.take();
        match stream.recv(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.send_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn accept_loop(h: Handle, listener: TcpListener, wrong_wakes: Rc<Cell<u64>>) {
    let pool = BufferPool::new(4096, 16);
    loop {
        if let Ok((stream, _)) = listener.accept().await {
            drop(h.spawn(serve(stream, pool.clone(), wrong_wakes.clone())));
        }
    }
}

fn connect(addr: SocketAddr) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Sends a message unique to (`id`, `seq`) and checks its echo: a lost wake-up is a timeout.
fn round_trip(s: &mut std::net::TcpStream, id: u64, seq: u64) {
    let msg = [id.to_le_bytes(), seq.to_le_bytes()].concat();
    s.write_all(&msg).unwrap();
    let mut back = [0u8; 16];
    s.read_exact(&mut back).unwrap_or_else(|e| {
        panic!("connection {id} round trip {seq}: no echo ({e}): lost wake-up")
    });
    assert_eq!(back[..], msg[..], "connection {id} got another's bytes");
}

/// The clients: cycles of ~130 idle connections opened beside 3 busy ones (a large,
/// sparse set), then closed (half of them reset) while the busy ones keep going, then the
/// busy ones alone (a small set).
fn clients(addr: SocketAddr, cycles: u32) {
    let mut next_id = 0u64;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut random = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    for _ in 0..cycles {
        let mut busy: Vec<(u64, std::net::TcpStream)> = (0..3)
            .map(|_| {
                next_id += 1;
                (next_id, connect(addr))
            })
            .collect();
        let mut seq = 0u64;
        let mut work = |busy: &mut Vec<(u64, std::net::TcpStream)>, for_ms: u64| {
            let until = Instant::now() + Duration::from_millis(for_ms);
            while Instant::now() < until {
                seq += 1;
                for (id, s) in busy.iter_mut() {
                    round_trip(s, *id, seq);
                }
            }
        };
        let mut idle = Vec::new();
        for i in 0..(100 + random(60)) {
            next_id += 1;
            let mut s = connect(addr);
            // Every fourth one proves its task is woken before it falls idle.
            if i % 4 == 0 {
                round_trip(&mut s, next_id, 0);
            }
            idle.push(s);
        }
        work(&mut busy, 150);
        while !idle.is_empty() {
            let s = idle.swap_remove(random(idle.len() as u64) as usize);
            if random(2) == 0 {
                // A reset (SO_LINGER 0): the server's task gets ECONNRESET.
                let fd = std::os::fd::AsRawFd::as_raw_fd(&s);
                let linger = libc::linger {
                    l_onoff: 1,
                    l_linger: 0,
                };
                // SAFETY: a live fd and a live struct of the size given.
                unsafe {
                    libc::setsockopt(
                        fd,
                        libc::SOL_SOCKET,
                        libc::SO_LINGER,
                        (&linger as *const libc::linger).cast(),
                        std::mem::size_of::<libc::linger>() as u32,
                    );
                }
            }
            drop(s);
            if idle.len() % 8 == 0 {
                work(&mut busy, 1);
            }
        }
        work(&mut busy, 150);
    }
}

fn churn(kind: BackendKind, cycles: u32) {
    let fds_before = open_fds();
    let lp = Loop::builder()
        .backend(kind)
        .adaptive_threshold(64)
        .build()
        .unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let wrong_wakes = Rc::new(Cell::new(0));
    let server = h.spawn(accept_loop(h.clone(), listener, wrong_wakes.clone()));
    lp.block_on(readyloop::yield_now());
    let base = h.stats();
    let base_fds = open_fds();
    let base_epoll = epoll_registrations();
    let done = Arc::new(AtomicBool::new(false));
    let client = std::thread::spawn({
        let done = done.clone();
        move || {
            // `done` even if a check fails, so the loop stops waiting and the failure shows.
            let result = std::panic::catch_unwind(|| clients(addr, cycles));
            done.store(true, Ordering::Release);
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        }
    });
    lp.block_on(within(&h, Duration::from_secs(60), "churn", async {
        while !done.load(Ordering::Acquire) {
            h.sleep(Duration::from_millis(5)).await;
        }
    }));
    client.join().expect("a client check failed");
    // Let the server tasks see their peers' closes, then let the policy look at the small
    // set for a few windows (each wait here is one turn).
    lp.block_on(within(&h, Duration::from_secs(10), "settle", async {
        while h.stats().tasks_alive > base.tasks_alive {
            h.sleep(Duration::from_millis(2)).await;
        }
        for _ in 0..1000 {
            readyloop::yield_now().await;
        }
    }));
    let end = h.stats();
    let name = kind.name();
    assert_eq!(wrong_wakes.get(), 0, "{name}: tasks woken for another's fd");
    assert_eq!(
        end.tasks_alive, base.tasks_alive,
        "{name}: connection tasks left"
    );
    assert_eq!(
        end.fds_registered, base.fds_registered,
        "{name}: registrations left"
    );
    assert_eq!(
        h.backend_in_use(),
        kind_at_rest(kind),
        "{name}: not back on its backend"
    );
    assert_eq!(open_fds(), base_fds, "{name}: fds left");
    assert_eq!(
        epoll_registrations(),
        base_epoll,
        "{name}: stale epoll registrations"
    );
    if kind == BackendKind::Epoll {
        // The notifier and the listener, nothing else.
        assert_eq!(base_epoll, [2], "{name}: the kernel's registrations");
    }
    if kind == BackendKind::Adaptive {
        assert!(
            end.backend_moves >= 2 * u64::from(cycles),
            "{name}: moved {} times in {cycles} cycles (each should move up and down)",
            end.backend_moves
        );
    }
    server.abort();
    let _ = lp.block_on(server);
    drop((h, lp));
    assert_eq!(
        open_fds(),
        fds_before,
        "{name}: the loop's own fds not closed"
    );
}

/// Where each backend is with a small set: adaptive on poll.
fn kind_at_rest(kind: BackendKind) -> BackendKind {
    match kind {
        BackendKind::Adaptive => BackendKind::Poll,
        other => other,
    }
}

#[test]
fn churn_is_clean_while_the_backend_moves_and_fds_are_reused() {
    churn(BackendKind::Adaptive, 6);
    churn(BackendKind::Epoll, 2);
    churn(BackendKind::Poll, 2);
}
