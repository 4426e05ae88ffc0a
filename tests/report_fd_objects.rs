//! The stuck-task report names the OS object behind each fd wait: what it is (TCP, UDP or
//! Unix socket, listener, pipe, eventfd, signal pipe, tty), its addresses, the bytes queued
//! in the kernel, and a TCP socket's state.

use readyloop::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use readyloop::{Async, FdKind, FdObject, Handle, Loop, WaitReport};
use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::time::Duration;

/// Runs `setup`'s task until it waits, then the object its only fd wait names.
fn object_of<F>(lp: &Loop, task: F) -> (FdObject, String)
where
    F: std::future::Future + 'static,
{
    let h = lp.handle();
    let t = h.spawn(task);
    lp.block_on(h.sleep(Duration::from_millis(20)));
    let report = h.pending_report();
    let waits = &report.task(t.id()).expect("the task is pending").waits;
    let object = waits
        .iter()
        .find_map(|w| match w {
            WaitReport::Fd { object, .. } => Some(object.clone()),
            _ => None,
        })
        .expect("an fd wait");
    (object, report.to_string())
}

#[test]
fn tcp_listener_and_connected_socket() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (object, text) = object_of(&lp, async move { listener.accept().await.map(|_| ()) });
    assert_eq!(object.kind, FdKind::TcpListener);
    assert_eq!(object.local, Some(addr.to_string()));
    assert_eq!(object.peer, None);
    assert!(text.contains(&format!("(TCP listener {addr}")), "{text}");
    if cfg!(feature = "signal") {
        assert_eq!(object.tcp_state.unwrap().name(), "LISTEN");
    }

    // A client that filled its send buffer against a peer that never reads: waiting
    // WRITABLE, bytes queued out, ESTABLISHED.
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = std_listener.local_addr().unwrap();
    let client = lp.block_on(TcpStream::connect(&h, server_addr)).unwrap();
    let (_peer, _) = std_listener.accept().unwrap();
    let local = client.local_addr().unwrap();
    let (object, text) = object_of(&lp, async move {
        let chunk = vec![0u8; 1 << 16];
        loop {
            client.send(&chunk).await.unwrap();
        }
    });
    assert_eq!(object.kind, FdKind::TcpSocket);
    assert_eq!(object.local, Some(local.to_string()));
    assert_eq!(object.peer, Some(server_addr.to_string()));
    assert!(object.queued_out.unwrap() > 0, "{object:?}");
    assert!(text.contains("WRITABLE on fd"), "{text}");
    assert!(
        text.contains(&format!("TCP socket {local} -> {server_addr}")),
        "{text}"
    );
    if cfg!(feature = "signal") {
        assert_eq!(object.tcp_state.unwrap().name(), "ESTABLISHED");
        assert!(text.contains("ESTABLISHED"), "{text}");
    }
}

#[test]
fn udp_and_unix_sockets() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let udp = UdpSocket::bind(&h, "127.0.0.1:0").unwrap();
    let addr = udp.local_addr().unwrap();
    let (object, _) = object_of(&lp, async move {
        let mut buf = [0u8; 8];
        udp.recv_from(&mut buf).await.map(|_| ())
    });
    assert_eq!(
        (object.kind, object.local),
        (FdKind::UdpSocket, Some(addr.to_string()))
    );

    let (a, _b) = UnixStream::pair(&h).unwrap();
    let (object, text) = object_of(&lp, async move {
        let mut buf = [0u8; 8];
        a.recv(&mut buf).await.map(|_| ())
    });
    assert_eq!(object.kind, FdKind::UnixStream);
    assert_eq!(object.queued_in, Some(0));
    assert!(
        text.contains("Unix stream socket unnamed -> unnamed, 0 B queued in, 0 B out"),
        "{text}"
    );

    let dir = std::env::temp_dir().join(format!("readyloop-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("l.sock");
    let listener = UnixListener::bind(&h, &path).unwrap();
    let (object, _) = object_of(&lp, async move { listener.accept().await.map(|_| ()) });
    assert_eq!(object.kind, FdKind::UnixListener);
    assert_eq!(object.local.as_deref(), path.to_str());

    let (d, _e) = UnixDatagram::pair(&h).unwrap();
    let (object, _) = object_of(&lp, async move {
        let mut buf = [0u8; 8];
        d.recv(&mut buf).await.map(|_| ())
    });
    assert_eq!(object.kind, FdKind::UnixDatagram);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn reader_on(h: &Handle, file: File) -> impl std::future::Future<Output = ()> + 'static {
    let io = Async::new(h, file).unwrap();
    async move {
        let mut buf = [0u8; 8];
        let _ = io.read(&mut buf).await;
    }
}

#[test]
fn pipe_eventfd_and_tty() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (r, _w) = std::io::pipe().unwrap();
    let (object, text) = object_of(&lp, reader_on(&h, File::from(OwnedFd::from(r))));
    assert_eq!((object.kind, object.queued_in), (FdKind::Pipe, Some(0)));
    assert!(text.contains("(pipe, 0 B queued in)"), "{text}");

    let efd = rustix::event::eventfd(
        0,
        rustix::event::EventfdFlags::NONBLOCK | rustix::event::EventfdFlags::CLOEXEC,
    )
    .unwrap();
    let (object, _) = object_of(&lp, reader_on(&h, File::from(efd)));
    assert_eq!(object.kind, FdKind::EventFd);

    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two fds into the ints; the other pointers may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0);
    // SAFETY: openpty succeeded: both are open fds nothing else owns.
    let (master, _slave) = unsafe { (File::from_raw_fd(master), File::from_raw_fd(slave)) };
    let (object, _) = object_of(&lp, reader_on(&h, master));
    assert_eq!(object.kind, FdKind::Tty);
}

#[cfg(feature = "signal")]
#[test]
fn signal_pipe() {
    use readyloop::signal::{Signal, Signals};
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let mut signals = Signals::new(&h, &[Signal::Usr2]).unwrap();
    let (object, text) = object_of(&lp, async move {
        let _ = signals.recv().await;
    });
    assert_eq!(object.kind, FdKind::SignalPipe);
    assert!(text.contains("(signal pipe"), "{text}");
}
