//! Code written once for both transports: a line server generic over `Listener` and a client
//! generic over `StreamSocket`, run on TCP (127.0.0.1 and ::1) and on a Unix path; and
//! `LineReader` on each: a peer leaving mid-line, an endless line, invalid UTF-8, a read
//! cancelled mid-line. Every wait is bounded by `within`.

mod common;

use common::{socket_path, within};
use readyloop::net::{
    LineReader, Listener, Shutdown, StreamSocket, TcpListener, TcpStream, UnixListener, UnixStream,
};
use readyloop::{ErrorKind, Handle, Loop};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(10);

/// The server under test, written once: each line back in upper case.
async fn serve<L: Listener>(listener: L) -> readyloop::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        assert_eq!(stream.peer_addr()?, peer);
        assert_eq!(stream.local_addr()?, listener.local_addr()?);
        listener.handle().spawn(upper_lines(stream));
    }
}

async fn upper_lines<S: StreamSocket>(stream: S) -> readyloop::Result<u64> {
    let mut reader = LineReader::new(&stream);
    let mut line = String::new();
    let mut lines = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(lines);
        }
        stream.send_all(line.to_uppercase().as_bytes()).await?;
        lines += 1;
    }
}

/// The client, written once: `lines` lines, the writing half closed, every answer read.
async fn talk<S: StreamSocket>(client: S, lines: usize) -> Vec<String> {
    let sent: String = (0..lines).map(|i| format!("line {i} é\n")).collect();
    client.send_all(sent.as_bytes()).await.unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut answers = Vec::new();
    let mut reader = LineReader::new(client);
    while let Some(line) = reader.next_line().await.unwrap() {
        answers.push(line);
    }
    answers
}

fn expected(lines: usize) -> Vec<String> {
    (0..lines).map(|i| format!("LINE {i} É")).collect()
}

#[test]
fn one_generic_server_serves_tcp_v4_v6_and_a_unix_path() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let v4 = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let v6 = TcpListener::bind(&h, "[::1]:0").unwrap();
    let path = socket_path("generic-serve");
    let unix = UnixListener::bind(&h, &path).unwrap();
    let (v4_addr, v6_addr) = (v4.local_addr().unwrap(), v6.local_addr().unwrap());
    let servers = [h.spawn(serve(v4)), h.spawn(serve(v6)), h.spawn(serve(unix))];
    lp.block_on(within(&h, LIMIT, "generic server", async {
        // Several clients of each transport at once, each with a few thousand lines, so
        // lines cross receive boundaries.
        let mut clients = Vec::new();
        for _ in 0..4 {
            let c = TcpStream::connect(&h, v4_addr).await.unwrap();
            clients.push(h.spawn(talk(c, 3000)));
            let c = TcpStream::connect(&h, v6_addr).await.unwrap();
            clients.push(h.spawn(talk(c, 3000)));
            let c = UnixStream::connect(&h, &path).await.unwrap();
            clients.push(h.spawn(talk(c, 3000)));
        }
        for c in clients {
            assert_eq!(c.await.unwrap(), expected(3000));
        }
    }));
    for s in servers {
        s.abort();
    }
    std::fs::remove_file(&path).unwrap();
}

/// A connected pair of each transport, made through the generic `Listener` API.
async fn connected<L: Listener>(
    listener: &L,
    connect: impl std::future::Future<Output = readyloop::Result<L::Stream>>,
) -> (L::Stream, L::Stream) {
    let client = connect.await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Runs `check` on a (client, server) pair over 127.0.0.1, ::1 and a Unix path.
fn on_each_transport<F, G>(tag: &str, check: F)
where
    F: Fn(Handle, Box<dyn StreamSocketPair>) -> G,
    G: std::future::Future<Output = ()>,
{
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    for ip in ["127.0.0.1:0", "[::1]:0"] {
        let l = TcpListener::bind(&h, ip).unwrap();
        let addr = l.local_addr().unwrap();
        let pair = lp.block_on(connected(&l, TcpStream::connect(&h, addr)));
        lp.block_on(within(&h, LIMIT, tag, check(h.clone(), Box::new(pair))));
    }
    let path = socket_path(tag);
    let l = UnixListener::bind(&h, &path).unwrap();
    let pair = lp.block_on(connected(&l, UnixStream::connect(&h, &path)));
    lp.block_on(within(&h, LIMIT, tag, check(h.clone(), Box::new(pair))));
    std::fs::remove_file(&path).unwrap();
}

/// A pair of either transport behind one type, so a check is written once (and so the
/// trait's methods are what the checks call).
trait StreamSocketPair {
    fn client(&self) -> &dyn Sender;
    fn reader(&self, max_line: usize) -> Box<dyn Reader + '_>;
}

trait Sender {
    fn send_all<'a>(&'a self, buf: &'a [u8]) -> readyloop::net::SendAll<'a>;
    fn shutdown_write(&self);
}

impl<S: StreamSocket> Sender for S {
    fn send_all<'a>(&'a self, buf: &'a [u8]) -> readyloop::net::SendAll<'a> {
        StreamSocket::send_all(self, buf)
    }
    fn shutdown_write(&self) {
        StreamSocket::shutdown(self, Shutdown::Write).unwrap();
    }
}

type Fut<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'a>>;

trait Reader {
    fn read_line<'a>(&'a mut self, out: &'a mut String) -> Fut<'a, readyloop::Result<usize>>;
    fn read_until<'a>(&'a mut self, out: &'a mut Vec<u8>) -> Fut<'a, readyloop::Result<usize>>;
    fn next_line(&mut self) -> Fut<'_, readyloop::Result<Option<String>>>;
    fn buffered(&self) -> usize;
    fn consume(&mut self, n: usize);
}

impl<S: StreamSocket> Reader for LineReader<S> {
    fn read_line<'a>(&'a mut self, out: &'a mut String) -> Fut<'a, readyloop::Result<usize>> {
        Box::pin(LineReader::read_line(self, out))
    }
    fn read_until<'a>(&'a mut self, out: &'a mut Vec<u8>) -> Fut<'a, readyloop::Result<usize>> {
        Box::pin(LineReader::read_until(self, b'\n', out))
    }
    fn next_line(&mut self) -> Fut<'_, readyloop::Result<Option<String>>> {
        Box::pin(LineReader::next_line(self))
    }
    fn buffered(&self) -> usize {
        self.buffer().len()
    }
    fn consume(&mut self, n: usize) {
        LineReader::consume(self, n)
    }
}

impl<S: StreamSocket + 'static> StreamSocketPair for (S, S) {
    fn client(&self) -> &dyn Sender {
        &self.0
    }
    fn reader(&self, max_line: usize) -> Box<dyn Reader + '_> {
        Box::new(LineReader::with_max_line(&self.1, max_line))
    }
}

#[test]
fn a_peer_leaving_mid_line_loses_nothing() {
    on_each_transport("generic-mid-line", |h, pair| async move {
        let c = pair.client();
        c.send_all(b"whole\npar").await.unwrap();
        h.sleep(Duration::from_millis(20)).await; // the cut line arrives in two pieces
        c.send_all(b"tial").await.unwrap();
        c.shutdown_write();
        let mut r = pair.reader(1024);
        let mut line = String::new();
        assert_eq!(r.read_line(&mut line).await.unwrap(), 6);
        assert_eq!(line, "whole\n");
        // The cut line comes whole but without its newline: that is how the caller knows.
        line.clear();
        assert_eq!(r.read_line(&mut line).await.unwrap(), 7);
        assert_eq!(line, "partial");
        assert_eq!(r.read_line(&mut line).await.unwrap(), 0);
        assert_eq!(
            r.read_line(&mut line).await.unwrap(),
            0,
            "end of file stays"
        );
        assert_eq!(line, "partial");
    });
    on_each_transport("generic-mid-line-next", |_h, pair| async move {
        let c = pair.client();
        c.send_all(b"a\r\nb\nc").await.unwrap();
        c.shutdown_write();
        let mut r = pair.reader(1024);
        let mut all = Vec::new();
        while let Some(line) = r.next_line().await.unwrap() {
            all.push(line);
        }
        assert_eq!(all, ["a", "b", "c"]);
    });
}

#[test]
fn an_endless_line_stops_at_the_limit_without_growing() {
    on_each_transport("generic-endless", |h, pair| async move {
        const MAX: usize = 64 * 1024;
        // The peer sends 'a's and never a newline nor an end: the reader must not wait
        // for the line to end, nor hold more than the limit.
        let mut r = pair.reader(MAX);
        let sender = async {
            let chunk = [b'a'; 16 * 1024];
            loop {
                pair.client().send_all(&chunk).await.unwrap();
                h.sleep(Duration::from_millis(1)).await;
            }
        };
        let mut line = String::new();
        let err = match readyloop::select(Box::pin(sender), r.read_line(&mut line)).await {
            readyloop::Either::Right(result) => result.unwrap_err(),
            readyloop::Either::Left(()) => unreachable!("the sender never stops"),
        };
        assert_eq!(err.kind(), ErrorKind::LineTooLong);
        assert!(err.message().contains("max_line"), "{err}");
        assert!(line.is_empty());
        assert_eq!(r.buffered(), MAX, "the buffer holds exactly the limit");
        // Skipping what was buffered leaves the reader usable, the error again at the next
        // limit's worth: never a busy loop, never more memory.
        r.consume(MAX);
        assert_eq!(r.buffered(), 0);
    });
}

#[test]
fn a_long_line_under_the_limit_is_whole_and_one_past_it_is_refused() {
    on_each_transport("generic-limit", |_h, pair| async move {
        let mut r = pair.reader(100);
        let c = pair.client();
        let exact = format!("{}\n", "x".repeat(99));
        let over = format!("{}\n", "y".repeat(100));
        c.send_all(exact.as_bytes()).await.unwrap();
        c.send_all(over.as_bytes()).await.unwrap();
        c.send_all(b"after\n").await.unwrap();
        c.shutdown_write();
        let mut out = Vec::new();
        assert_eq!(r.read_until(&mut out).await.unwrap(), 100);
        assert_eq!(out, exact.as_bytes());
        let err = r.read_until(&mut out).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LineTooLong);
        assert_eq!(out, exact.as_bytes(), "out untouched by a failed read");
        r.consume(101);
        assert_eq!(r.next_line().await.unwrap().as_deref(), Some("after"));
        assert_eq!(r.next_line().await.unwrap(), None);
    });
}

#[test]
fn invalid_utf8_is_a_clear_error_and_its_bytes_stay() {
    on_each_transport("generic-utf8", |h, pair| async move {
        let c = pair.client();
        // "é" split across two sends is still one valid character.
        c.send_all(b"caf\xc3").await.unwrap();
        h.sleep(Duration::from_millis(20)).await;
        c.send_all(b"\xa9\nbad \xff\xfe line\nok\n").await.unwrap();
        let mut r = pair.reader(1024);
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        assert_eq!(line, "café\n");
        let err = r.read_line(&mut line).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert!(err.message().contains("not valid UTF-8"), "{err}");
        assert_eq!(line, "café\n", "out untouched by a failed read");
        let err = r.next_line().await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidData,
            "still there, still refused"
        );
        let mut raw = Vec::new();
        r.read_until(&mut raw).await.unwrap();
        assert_eq!(raw, b"bad \xff\xfe line\n");
        assert_eq!(r.next_line().await.unwrap().as_deref(), Some("ok"));
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    });
}

#[test]
fn a_read_cancelled_mid_line_loses_nothing() {
    on_each_transport("generic-cancel", |h, pair| async move {
        let c = pair.client();
        let mut r = pair.reader(1024);
        c.send_all(b"first half, ").await.unwrap();
        let mut line = String::new();
        let cut = h
            .timeout(Duration::from_millis(30), r.read_line(&mut line))
            .await;
        assert!(cut.is_err(), "no newline yet: the read times out");
        assert!(line.is_empty());
        c.send_all(b"second half\n").await.unwrap();
        r.read_line(&mut line).await.unwrap();
        assert_eq!(line, "first half, second half\n");
    });
}

#[test]
fn trait_methods_and_inherent_methods_are_one_path() {
    // On a concrete type the inherent method is found without an import; through the
    // trait (and through a reference) it is the same operation on the same socket.
    let lp = Loop::new().unwrap();
    let (a, b) = UnixStream::pair(&lp.handle()).unwrap();
    lp.block_on(within(&lp.handle(), LIMIT, "one path", async {
        a.send_all(b"in").await.unwrap();
        StreamSocket::send_all(&a, b"her").await.unwrap();
        StreamSocket::send_all(&&a, b"ent").await.unwrap();
        let mut buf = [0u8; 8];
        <&UnixStream as StreamSocket>::recv_exact(&&b, &mut buf)
            .await
            .unwrap();
        assert_eq!(&buf, b"inherent");
        assert_eq!(
            StreamSocket::local_addr(&&a).unwrap(),
            a.local_addr().unwrap()
        );
    }));
}
