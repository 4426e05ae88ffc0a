//! `futures-io` on readyloop: the `AsyncRead`/`AsyncWrite` impls driven by `futures-util`'s
//! helpers (`copy`, `read_exact`, `write_all`, `BufReader`, `BufWriter`) over real loopback
//! TCP and Unix sockets, with every byte checked.

use futures_util::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use futures_util::{AsyncRead, AsyncWrite};
use readyloop::{net, Async, Handle};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

/// 16 MiB: bigger than every socket buffer, so both sides wait many times.
const COPY_BYTES: usize = 16 << 20;

/// A deterministic stream of bytes (xorshift64*), so the receiver can check what it got.
struct Bytes(u64);

impl Bytes {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let word = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// FNV-1a over 64-bit words: quick enough for 16 MiB in a debug build.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A connected loopback pair of readyloop's own `TcpStream`s.
async fn net_tcp_pair(handle: &Handle, addr: &str) -> (net::TcpStream, net::TcpStream) {
    let listener = net::TcpListener::bind(handle, addr).unwrap();
    let client = net::TcpStream::connect(handle, listener.local_addr().unwrap());
    let (client, accepted) = futures_util::future::join(client, listener.accept()).await;
    (client.unwrap(), accepted.unwrap().0)
}

/// A connected loopback pair of `Async<std::net::TcpStream>`, both ends on the loop.
fn tcp_pair(handle: &Handle) -> (Async<TcpStream>, Async<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (
        Async::new(handle, client).unwrap(),
        Async::new(handle, server).unwrap(),
    )
}

/// Writes `total` bytes of `Bytes(seed)` in uneven chunks, then closes the writing half.
async fn produce(mut w: impl AsyncWrite + Unpin, seed: u64, total: usize) -> Fnv {
    let mut gen = Bytes(seed);
    let mut hash = Fnv::new();
    let mut buf = vec![0u8; 70_001];
    let mut left = total;
    while left > 0 {
        let n = left.min(buf.len() - (left % 7));
        gen.fill(&mut buf[..n]);
        hash.update(&buf[..n]);
        w.write_all(&buf[..n]).await.unwrap();
        left -= n;
    }
    w.close().await.unwrap();
    hash
}

/// Reads to end of file, hashing.
async fn consume(mut r: impl AsyncRead + Unpin) -> (usize, Fnv) {
    let mut hash = Fnv::new();
    let mut buf = vec![0u8; 50_000];
    let mut total = 0;
    loop {
        let n = r.read(&mut buf).await.unwrap();
        if n == 0 {
            return (total, hash);
        }
        hash.update(&buf[..n]);
        total += n;
    }
}

/// producer -> (a1 => b1) -> `futures::io::copy` -> (a2 => b2) -> consumer, checked by hash.
async fn copy_16_mib<S>(handle: &Handle, what: &str, (a1, b1): (S, S), (a2, b2): (S, S))
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let start = Instant::now();
    let producer = handle.spawn(produce(a1, 7, COPY_BYTES));
    let consumer = handle.spawn(consume(b2));
    let mut from = b1;
    let mut to = a2;
    let copied = futures_util::io::copy(&mut from, &mut to).await.unwrap();
    to.close().await.unwrap();
    let sent = producer.await.unwrap();
    let (received, got) = consumer.await.unwrap();
    assert_eq!(copied, COPY_BYTES as u64);
    assert_eq!(received, COPY_BYTES);
    assert_eq!(got, sent, "the bytes differ");
    eprintln!(
        "copied 16 MiB over {what} in {:?} ({} turns)",
        start.elapsed(),
        handle.stats().turns
    );
}

#[readyloop::test(timeout = "60s")]
async fn copy_moves_16_mib_between_two_loopback_tcp_connections(handle: Handle) {
    let first = net_tcp_pair(&handle, "127.0.0.1:0").await;
    let second = net_tcp_pair(&handle, "127.0.0.1:0").await;
    copy_16_mib(&handle, "readyloop TcpStreams (IPv4)", first, second).await;
}

#[readyloop::test(timeout = "60s")]
async fn copy_moves_16_mib_between_unix_stream_pairs(handle: Handle) {
    let first = net::UnixStream::pair(&handle).unwrap();
    let second = net::UnixStream::pair(&handle).unwrap();
    copy_16_mib(&handle, "readyloop UnixStreams", first, second).await;
}

#[readyloop::test(timeout = "60s")]
async fn copy_moves_16_mib_between_two_async_wrapped_std_connections(handle: Handle) {
    let first = tcp_pair(&handle);
    let second = tcp_pair(&handle);
    copy_16_mib(&handle, "Async<std::net::TcpStream>", first, second).await;
}

/// Writes each frame as a 4-byte big-endian length and the payload, through a `BufWriter`.
async fn write_frames(w: impl AsyncWrite + Unpin, frames: &[Vec<u8>]) {
    let mut w = BufWriter::with_capacity(8 * 1024, w);
    for frame in frames {
        w.write_all(&(frame.len() as u32).to_be_bytes())
            .await
            .unwrap();
        w.write_all(frame).await.unwrap();
    }
    w.flush().await.unwrap();
    w.close().await.unwrap();
}

/// Reads frames until a clean end of file between frames; an end of file inside a frame is
/// an error.
async fn read_frames(r: impl AsyncRead + Unpin) -> std::io::Result<Vec<Vec<u8>>> {
    let mut r = BufReader::with_capacity(8 * 1024, r);
    let mut frames = Vec::new();
    loop {
        let mut len = [0u8; 4];
        match r.read_exact(&mut len).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(frames),
            Err(e) => return Err(e),
        }
        let mut frame = vec![0u8; u32::from_be_bytes(len) as usize];
        r.read_exact(&mut frame).await?;
        frames.push(frame);
    }
}

fn sample_frames() -> Vec<Vec<u8>> {
    let mut gen = Bytes(99);
    // Empty frames, tiny ones, and ones larger than the buffers and the socket buffer.
    [
        0usize, 1, 2, 3, 100, 8191, 8192, 8193, 65_536, 300_000, 0, 17,
    ]
    .iter()
    .map(|&n| {
        let mut f = vec![0u8; n];
        gen.fill(&mut f);
        f
    })
    .collect()
}

#[readyloop::test(timeout = "30s")]
async fn length_prefixed_frames_round_trip_over_tcp(handle: Handle) {
    let (a, b) = net_tcp_pair(&handle, "127.0.0.1:0").await;
    let frames = sample_frames();
    let expected = frames.clone();
    let writer = handle.spawn(async move { write_frames(a, &frames).await });
    let got = read_frames(b).await.unwrap();
    writer.await.unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "a frame differs");
}

#[readyloop::test(timeout = "30s")]
async fn length_prefixed_frames_round_trip_over_an_async_wrapped_std_socket(handle: Handle) {
    let (a, b) = tcp_pair(&handle);
    let frames = sample_frames();
    let expected = frames.clone();
    let writer = handle.spawn(async move { write_frames(a, &frames).await });
    let got = read_frames(b).await.unwrap();
    writer.await.unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "a frame differs");
}

#[readyloop::test(timeout = "30s")]
async fn frames_round_trip_over_a_unix_socket_split_by_reference(handle: Handle) {
    // One socket, read and written by two tasks at once through `&Async<T>`: each direction
    // has its own wait.
    let (a, b) = net::UnixStream::pair(&handle).unwrap();
    let a = std::rc::Rc::new(a);
    let echo = handle.spawn({
        let a = a.clone();
        async move {
            // Echo every byte back until end of file, then close.
            let mut reader = &*a;
            let mut writer = &*a;
            futures_util::io::copy(&mut reader, &mut writer)
                .await
                .unwrap();
            writer.close().await.unwrap();
        }
    });
    let frames = sample_frames();
    let expected = frames.clone();
    let (b_read, b_write) = (&b, &b);
    let sent = async { write_frames(b_write, &frames).await };
    let received = read_frames(b_read);
    let ((), got) = futures_util::future::join(sent, received).await;
    echo.await.unwrap();
    assert!(got.unwrap() == expected, "a frame differs after the echo");
}

#[readyloop::test(timeout = "10s")]
async fn a_frame_cut_short_is_an_unexpected_eof_not_a_hang(handle: Handle) {
    let (a, b) = net_tcp_pair(&handle, "127.0.0.1:0").await;
    let writer = handle.spawn(async move {
        let mut a = a;
        a.write_all(&1000u32.to_be_bytes()).await.unwrap();
        a.write_all(&[1u8; 10]).await.unwrap();
        a.close().await.unwrap(); // 990 bytes short
    });
    let err = read_frames(b).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    writer.await.unwrap();
}

#[readyloop::test(timeout = "10s")]
async fn writing_after_close_is_broken_pipe_and_the_peer_reads_end_of_file(handle: Handle) {
    let (mut a, b) = net_tcp_pair(&handle, "127.0.0.1:0").await;
    a.close().await.unwrap();
    let err = a.write_all(b"late").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    // The peer sees a clean end of file.
    let mut b = b;
    let mut buf = [0u8; 8];
    assert_eq!(AsyncReadExt::read(&mut b, &mut buf).await.unwrap(), 0);
}

#[test]
fn polled_outside_its_loop_the_trait_says_no_loop() {
    let lp = readyloop::Loop::new().unwrap();
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    let mut a = Async::new(&lp.handle(), a).unwrap();
    let mut buf = [0u8; 4];
    let err = other_executor_block_on(AsyncReadExt::read(&mut a, &mut buf)).unwrap_err();
    assert!(err.to_string().contains("Loop::block_on"), "{err}");
    let err = other_executor_block_on(AsyncWriteExt::write(&mut a, b"x")).unwrap_err();
    assert!(err.to_string().contains("Loop::block_on"), "{err}");
    let (mut c, _d) = net::UnixStream::pair(&lp.handle()).unwrap();
    let err = other_executor_block_on(AsyncReadExt::read(&mut c, &mut buf)).unwrap_err();
    assert!(err.to_string().contains("Loop::block_on"), "{err}");
    let err = other_executor_block_on(AsyncWriteExt::write(&mut c, b"x")).unwrap_err();
    assert!(err.to_string().contains("Loop::block_on"), "{err}");
}

/// A minimal executor standing for "some other runtime": polls on this thread with a
/// no-op waker until ready (the readyloop future answers on its first poll here).
fn other_executor_block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(futures_util::task::noop_waker_ref());
    for _ in 0..1000 {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("still pending after 1000 polls");
}

#[readyloop::test(timeout = "10s")]
async fn an_empty_read_returns_at_once(handle: Handle) {
    let (mut a, _b) = net::UnixStream::pair(&handle).unwrap();
    assert_eq!(AsyncReadExt::read(&mut a, &mut []).await.unwrap(), 0);
    let (mut c, _d) = net_tcp_pair(&handle, "127.0.0.1:0").await;
    assert_eq!(AsyncReadExt::read(&mut c, &mut []).await.unwrap(), 0);
    assert_eq!(AsyncWriteExt::write(&mut c, &[]).await.unwrap(), 0);
}

/// The futures-io route the crate docs name for lines: `BufReader::new(&stream).lines()`,
/// while the same stream sends.
#[test]
fn buf_reader_lines_over_a_shared_stream() {
    use futures_util::io::AsyncBufReadExt;
    use futures_util::StreamExt;
    let lp = readyloop::Loop::new().unwrap();
    let h = lp.handle();
    let listener = net::TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    lp.block_on(async {
        let client = net::TcpStream::connect(&h, addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.send_all(b"one\r\ntwo\nthree").await.unwrap();
        client.shutdown(net::Shutdown::Write).unwrap();
        let mut lines = BufReader::new(&server).lines();
        let mut got = Vec::new();
        while let Some(line) = lines.next().await {
            let line = line.unwrap();
            server
                .send_all(format!("{line}\n").as_bytes())
                .await
                .unwrap();
            got.push(line);
        }
        assert_eq!(got, ["one", "two", "three"]);
        drop(server);
        let mut echoed = Vec::new();
        client.read_to_end(&mut echoed).await.unwrap();
        assert_eq!(echoed, b"one\ntwo\nthree\n");
    });
}
