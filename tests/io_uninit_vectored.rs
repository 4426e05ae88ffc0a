//! The I/O paths a buffer-owning reader and a gather writer want: `poll_recv_uninit`
//! (receives into memory nobody zeroed) and `poll_send_vectored` (one `sendmsg` for several
//! buffers), on TCP and Unix streams, through a full send buffer and partial sends, every
//! byte checked; and futures-io's `poll_write_vectored` on the same path.

use core::future::poll_fn;
use core::mem::MaybeUninit;
use readyloop::net::{StreamSocket, TcpListener, TcpStream, UnixStream};
use readyloop::Loop;
use std::io::IoSlice;
use std::time::Duration;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i % 253) as u8 ^ seed).collect()
}

/// Sends `parts` with vectored sends (advancing across partial sends) while the peer
/// drains with `poll_recv_uninit`; returns what the peer received.
async fn vectored_through<S: StreamSocket + 'static>(
    h: &readyloop::Handle,
    tx: S,
    rx: S,
    parts: Vec<Vec<u8>>,
) -> Vec<u8> {
    let total: usize = parts.iter().map(Vec::len).sum();
    let sender = h.spawn(async move {
        let (mut part, mut offset) = (0, 0);
        let mut calls = 0;
        while part < parts.len() {
            let slices: Vec<IoSlice<'_>> = std::iter::once(&parts[part][offset..])
                .chain(parts[part + 1..].iter().map(|p| &p[..]))
                .map(IoSlice::new)
                .collect();
            let mut n = poll_fn(|cx| tx.poll_send_vectored(cx, &slices))
                .await
                .unwrap();
            calls += 1;
            while n > 0 {
                let left = parts[part].len() - offset;
                if n >= left {
                    n -= left;
                    part += 1;
                    offset = 0;
                } else {
                    offset += n;
                    n = 0;
                }
            }
        }
        calls
    });
    let mut out: Vec<u8> = Vec::with_capacity(total);
    while out.len() < total {
        let spare = out.spare_capacity_mut();
        let window = spare.len().min(70_000);
        let spare: &mut [MaybeUninit<u8>] = &mut spare[..window];
        let n = poll_fn(|cx| rx.poll_recv_uninit(cx, spare)).await.unwrap();
        assert!(n > 0, "end of file after {} of {total} bytes", out.len());
        // SAFETY: poll_recv_uninit initialised the first n bytes of the spare capacity.
        unsafe { out.set_len(out.len() + n) };
    }
    let calls = sender.await.unwrap();
    assert!(calls >= 1);
    out
}

#[test]
fn vectored_send_and_uninit_recv_on_tcp_move_every_byte() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let parts = vec![
        pattern(17, 1),
        pattern(3 << 20, 2),
        Vec::new(),
        pattern(1 << 20, 3),
        pattern(5, 4),
    ];
    let expected: Vec<u8> = parts.concat();
    let got = lp
        .block_on(h.timeout(Duration::from_secs(30), async {
            let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
            let tx = TcpStream::connect(&h, listener.local_addr().unwrap())
                .await
                .unwrap();
            let (rx, _) = listener.accept().await.unwrap();
            vectored_through(&h, tx, rx, parts).await
        }))
        .unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "the bytes differ");
}

#[test]
fn vectored_send_and_uninit_recv_on_unix_move_every_byte() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let parts: Vec<Vec<u8>> = (0..40).map(|i| pattern(1000 + i * 7919, i as u8)).collect();
    let expected: Vec<u8> = parts.concat();
    let got = lp
        .block_on(h.timeout(Duration::from_secs(30), async {
            let (tx, rx) = UnixStream::pair(&h).unwrap();
            vectored_through(&h, tx, rx, parts).await
        }))
        .unwrap();
    assert!(got == expected, "the bytes differ");
}

#[test]
fn empty_buffers_return_zero_at_once() {
    let lp = Loop::new().unwrap();
    let (a, b) = UnixStream::pair(&lp.handle()).unwrap();
    lp.block_on(async {
        let none: [IoSlice<'_>; 2] = [IoSlice::new(b""), IoSlice::new(b"")];
        assert_eq!(
            poll_fn(|cx| a.poll_send_vectored(cx, &none)).await.unwrap(),
            0
        );
        assert_eq!(
            poll_fn(|cx| a.poll_send_vectored(cx, &[])).await.unwrap(),
            0
        );
        let mut empty: [MaybeUninit<u8>; 0] = [];
        assert_eq!(
            poll_fn(|cx| b.poll_recv_uninit(cx, &mut empty))
                .await
                .unwrap(),
            0
        );
    });
}

#[test]
fn vectored_send_to_a_closed_peer_is_broken_pipe_not_sigpipe() {
    let lp = Loop::new().unwrap();
    let (a, b) = UnixStream::pair(&lp.handle()).unwrap();
    drop(b);
    let err = lp
        .block_on(poll_fn(|cx| {
            a.poll_send_vectored(cx, &[IoSlice::new(b"x")])
        }))
        .unwrap_err();
    assert_eq!(err.kind(), readyloop::ErrorKind::BrokenPipe);
}

#[test]
fn futures_io_write_vectored_is_one_gather_write() {
    use futures_io::AsyncWrite;
    let lp = Loop::new().unwrap();
    let (mut a, b) = UnixStream::pair(&lp.handle()).unwrap();
    lp.block_on(async {
        let bufs = [IoSlice::new(b"GET / HTTP/1.1\r\n"), IoSlice::new(b"\r\n")];
        let n = poll_fn(|cx| core::pin::Pin::new(&mut a).poll_write_vectored(cx, &bufs)).await;
        assert_eq!(n.unwrap(), 18); // a default impl would have sent the first buffer only
        let mut got = [0u8; 18];
        b.recv_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"GET / HTTP/1.1\r\n\r\n");
    });
}
