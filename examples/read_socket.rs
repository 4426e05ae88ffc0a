//! Seed 002 §4 ("Non-Blocking I/O"), the article's last run: one task receives 32 KiB from
//! a localhost socket (non-blocking `recv`, 1 KiB at a time, as `AsyncRecv` with
//! `read_buffer=1024` does) while another reads 32 KiB of /dev/urandom with `AsyncRead`
//! and a background sleeper prints five rounds 0.1 s apart. Their lines interleave: no
//! task blocks the loop. The socket's sender dribbles the data in 4 KiB pieces, 25 ms
//! apart, so the receive spans several of the sleeper's rounds.
//!
//! Run: `cargo run --release --example read_socket`
//! (`READYLOOP_SCALE=0.1` shortens every duration tenfold, as the tests do.)

use readyloop::net::{TcpListener, TcpStream};
use readyloop::{Handle, Loop, ReadFd};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

const AMOUNT: usize = 32 * 1024;

fn scaled(secs: f64) -> Duration {
    let scale: f64 = std::env::var("READYLOOP_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(secs * scale)
}

fn main() -> Result<(), readyloop::Error> {
    let lp = Loop::new()?;
    let h = lp.handle();
    let start = Instant::now();

    // The "localhost:25000" of the article, on a free port.
    let listener = TcpListener::bind(&h, "127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let sender = h.spawn({
        let h = h.clone();
        async move {
            let (stream, _) = listener.accept().await?;
            let piece = [b'x'; 4096];
            for _ in 0..AMOUNT / piece.len() {
                stream.send_all(&piece).await?;
                h.sleep(scaled(0.025)).await;
            }
            Ok::<(), readyloop::Error>(())
        }
    });

    let background = h.spawn(sleepy(h.clone(), "background", 5, start));
    let socket = h.spawn(recv_socket(h.clone(), addr, start));
    let urandom = h.spawn(read_file(h.clone(), "/dev/urandom", start));
    lp.block_on(async {
        background.await.expect("sleeper");
        socket.await.expect("socket reader")?;
        urandom.await.expect("file reader")?;
        sender.await.expect("sender")
    })?;
    Ok(())
}

/// Seed 002's `sleepy`: print a round, sleep 0.1 s, `count` times.
async fn sleepy(h: Handle, id: &'static str, count: u32, start: Instant) {
    for i in 0..count {
        println!("id {id} round {} at {:.3}", i + 1, since(start));
        h.sleep(scaled(0.1)).await;
    }
}

/// Receives AMOUNT bytes from the socket, at most 1 KiB per `recv`.
async fn recv_socket(
    h: Handle,
    addr: std::net::SocketAddr,
    start: Instant,
) -> Result<(), readyloop::Error> {
    println!("read localhost:{} at {:.3}", addr.port(), since(start));
    let stream = TcpStream::connect(&h, addr).await?;
    let mut got = 0;
    let mut buf = [0u8; 1024];
    while got < AMOUNT {
        let n = stream.recv(&mut buf).await?;
        if n == 0 {
            break;
        }
        got += n;
    }
    println!(
        "done localhost:{} at {:.3} got {got} B",
        addr.port(),
        since(start)
    );
    Ok(())
}

/// Seed 002's `ready`: reads AMOUNT bytes of a file with `AsyncRead`.
async fn read_file(h: Handle, path: &str, start: Instant) -> Result<(), readyloop::Error> {
    println!("read {path} at {:.3}", since(start));
    let file = std::fs::File::open(path).map_err(|_| {
        readyloop::Error::new(readyloop::ErrorKind::InvalidInput, "cannot open the file")
    })?;
    let mut data = vec![0u8; AMOUNT];
    let n = ReadFd::exact(&h, file.as_fd(), &mut data).await?;
    println!("done {path} at {:.3} got {n} B", since(start));
    Ok(())
}

fn since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}
