//! Errors keep their errno, and every errno means to readyloop what it means to std: the
//! table over every Linux errno against `std::io::Error::from_raw_os_error`, and the
//! `shutdown` on a connection the peer reset, which must say `NotConnected` (futures-io's
//! `poll_close` callers ignore exactly that kind).

use readyloop::net::{Shutdown, TcpListener, TcpStream};
use readyloop::{Errno, Error, ErrorKind, Loop};
use std::io;
use std::time::Duration;

/// readyloop's kinds that have a namesake in `std::io::ErrorKind`. The kinds missing here
/// are readyloop's own (`Closed`, `NotASocket`, `TooManyOpenFiles`, ...), which std files
/// under no kind of its own (EBADF, ENOTSOCK, EMFILE are all `Uncategorized` there).
fn namesake(kind: ErrorKind) -> Option<io::ErrorKind> {
    use io::ErrorKind as K;
    Some(match kind {
        ErrorKind::ConnectionRefused => K::ConnectionRefused,
        ErrorKind::ConnectionReset => K::ConnectionReset,
        ErrorKind::ConnectionAborted => K::ConnectionAborted,
        ErrorKind::BrokenPipe => K::BrokenPipe,
        ErrorKind::AddrInUse => K::AddrInUse,
        ErrorKind::AddrNotAvailable => K::AddrNotAvailable,
        ErrorKind::InvalidInput => K::InvalidInput,
        ErrorKind::NotConnected => K::NotConnected,
        ErrorKind::WouldBlock => K::WouldBlock,
        ErrorKind::Interrupted => K::Interrupted,
        ErrorKind::PermissionDenied => K::PermissionDenied,
        ErrorKind::NotFound => K::NotFound,
        ErrorKind::AlreadyExists => K::AlreadyExists,
        ErrorKind::OutOfMemory => K::OutOfMemory,
        ErrorKind::HostUnreachable => K::HostUnreachable,
        ErrorKind::NetworkUnreachable => K::NetworkUnreachable,
        ErrorKind::NetworkDown => K::NetworkDown,
        ErrorKind::Unsupported => K::Unsupported,
        ErrorKind::TimedOut => K::TimedOut,
        _ => return None,
    })
}

#[test]
fn every_errno_keeps_its_number_and_std_kind_through_io_error() {
    for raw in 1..=133 {
        let std_kind = io::Error::from_raw_os_error(raw).kind();
        let ours = Error::from_errno(Errno::from_raw_os_error(raw));
        assert_eq!(ours.errno().map(|e| e.raw_os_error()), Some(raw));
        let converted = io::Error::from(ours);
        assert_eq!(converted.raw_os_error(), Some(raw), "errno {raw}");
        assert_eq!(converted.kind(), std_kind, "errno {raw}: {ours}");
    }
}

#[test]
fn errno_errors_say_in_words_what_went_wrong() {
    let rlimit = "out of file descriptors (raise RLIMIT_NOFILE or close some)";
    for (errno, message) in [
        (Errno::CONNREFUSED, "connection refused"),
        (Errno::PIPE, "broken pipe (peer gone or writing half shut)"),
        (Errno::MFILE, rlimit),
        (Errno::NFILE, rlimit),
        (Errno::PERM, "permission denied"),
        (Errno::BADF, "file descriptor is not open"),
        (Errno::NOTSOCK, "file descriptor is not a socket"),
        (Errno::IO, "operating system error"),
    ] {
        let e = Error::from_errno(errno);
        assert_eq!(e.message(), message);
        let raw = errno.raw_os_error();
        assert_eq!(e.to_string(), format!("{message} (os error {raw})"));
        assert!(format!("{e:?}").contains(message), "{e:?}");
    }
    for raw in 1..=133 {
        let e = Error::from_errno(Errno::from_raw_os_error(raw));
        assert!(!e.message().is_empty(), "errno {raw}");
    }
    // An error of readyloop's own keeps its message, errno or not.
    let own = Error::new(ErrorKind::Closed, "the peer went away");
    assert_eq!(own.message(), "the peer went away");
    assert_eq!(own.to_string(), "the peer went away");
}

#[test]
fn readyloop_kinds_agree_with_std_kinds_for_every_errno() {
    let mut agreeing = 0;
    for raw in 1..=133 {
        let std_kind = io::Error::from_raw_os_error(raw).kind();
        let ours = Error::from_errno(Errno::from_raw_os_error(raw)).kind();
        // Our kind never contradicts std's ...
        if let Some(theirs) = namesake(ours) {
            assert_eq!(theirs, std_kind, "errno {raw}: readyloop says {ours:?}");
            agreeing += 1;
        }
        // ... and where std has a kind readyloop also has, readyloop uses it.
        for candidate in ALL_KINDS {
            if namesake(candidate) == Some(std_kind) {
                assert_eq!(ours, candidate, "errno {raw}: std says {std_kind:?}");
            }
        }
    }
    assert!(agreeing >= 20, "only {agreeing} errnos have a shared kind");
}

#[test]
fn an_error_without_errno_converts_to_its_namesake_kind() {
    for kind in ALL_KINDS {
        let converted = io::Error::from(Error::new(kind, "test"));
        assert_eq!(converted.raw_os_error(), None);
        if let Some(theirs) = namesake(kind) {
            assert_eq!(converted.kind(), theirs, "{kind:?}");
        }
    }
}

const ALL_KINDS: [ErrorKind; 28] = [
    ErrorKind::ConnectionRefused,
    ErrorKind::ConnectionReset,
    ErrorKind::ConnectionAborted,
    ErrorKind::BrokenPipe,
    ErrorKind::AddrInUse,
    ErrorKind::AddrNotAvailable,
    ErrorKind::TooManyOpenFiles,
    ErrorKind::InvalidInput,
    ErrorKind::NotConnected,
    ErrorKind::WouldBlock,
    ErrorKind::Interrupted,
    ErrorKind::PermissionDenied,
    ErrorKind::NotFound,
    ErrorKind::AlreadyExists,
    ErrorKind::OutOfMemory,
    ErrorKind::HostUnreachable,
    ErrorKind::NetworkUnreachable,
    ErrorKind::NetworkDown,
    ErrorKind::Unsupported,
    ErrorKind::UnexpectedEof,
    ErrorKind::TimedOut,
    ErrorKind::Cancelled,
    ErrorKind::Closed,
    ErrorKind::NotASocket,
    ErrorKind::Blocking,
    ErrorKind::FdTooLarge,
    ErrorKind::NoLoop,
    ErrorKind::Other,
];

/// A connection whose peer closed with `SO_LINGER 0` (a reset), once the reset has arrived.
async fn reset_by_peer(h: &readyloop::Handle) -> TcpStream {
    let listener = TcpListener::bind(h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let client = TcpStream::connect(h, addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    rustix::net::sockopt::set_socket_linger(&server, Some(Duration::ZERO)).unwrap();
    drop(server);
    let mut buf = [0u8; 16];
    let err = client.recv(&mut buf).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    client
}

#[test]
fn shutdown_after_a_reset_is_not_connected_with_its_errno() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    lp.block_on(async {
        let client = reset_by_peer(&h).await;
        let err = client.shutdown(Shutdown::Write).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotConnected, "{err:?}");
        assert_eq!(err.errno(), Some(Errno::NOTCONN));
        let io_err = io::Error::from(err);
        assert_eq!(io_err.kind(), io::ErrorKind::NotConnected);
        assert_eq!(io_err.raw_os_error(), Some(libc::ENOTCONN));
    });
}

#[test]
fn futures_io_close_after_a_reset_is_not_connected() {
    use futures_io::AsyncWrite;
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    lp.block_on(async {
        let mut client = reset_by_peer(&h).await;
        let err = core::future::poll_fn(|cx| core::pin::Pin::new(&mut client).poll_close(cx))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotConnected, "{err:?}");
        assert_eq!(err.raw_os_error(), Some(libc::ENOTCONN));
    });
}
