//! Seed 004's client, `request_google_twice`, without leaving the machine: a tiny HTTP/1.0
//! server on 127.0.0.1:0 runs in the same loop, and two requests are made to it at once
//! (`open_connection`, write + drain, read to the end), joined, and both responses printed.
//! The server takes 0.3 s to answer each one, so the whole run takes about 0.3 s, not 0.6 s:
//! while one request waits, the other proceeds.
//!
//! Run: `cargo run --release --example http_get`
//! (`READYLOOP_SCALE=0.1` shortens every duration tenfold, as the tests do.)

use readyloop::net::{open_connection, TcpListener, TcpStream};
use readyloop::{Handle, Loop};
use std::time::{Duration, Instant};

/// How long the server "thinks" before it answers: 0.3 s, scaled.
fn think() -> Duration {
    let scale: f64 = std::env::var("READYLOOP_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    Duration::from_secs_f64(0.3 * scale)
}

fn main() -> Result<(), readyloop::Error> {
    let lp = Loop::new()?;
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    println!("serving HTTP/1.0 on {addr}");
    let _server = h.spawn(serve(h.clone(), listener));

    let start = Instant::now();
    let (r1, r2) = lp.block_on(request_twice(h.clone(), addr))?;
    println!("Response one: {r1}");
    println!("Response two: {r2}");
    println!(
        "both took {:.2} s together ({:.2} s if made one after the other)",
        start.elapsed().as_secs_f64(),
        2.0 * think().as_secs_f64()
    );
    Ok(())
}

/// `asyncio.gather(request(), request())`: two tasks, then both joined.
async fn request_twice(h: Handle, addr: String) -> Result<(String, String), readyloop::Error> {
    let first = h.spawn(request(h.clone(), addr.clone()));
    let second = h.spawn(request(h.clone(), addr));
    let r1 = first.await??;
    let r2 = second.await??;
    Ok((r1, r2))
}

/// Seed 004's `request_google`: connect, write the request, drain, read the whole reply.
async fn request(h: Handle, addr: String) -> Result<String, readyloop::Error> {
    let stream = open_connection(&h, addr.as_str()).await?;
    let request = format!("GET / HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream.send_all(request.as_bytes()).await?; // writer.write + await writer.drain()
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?; // await reader.read()
    Ok(String::from_utf8_lossy(&response).into_owned())
}

/// The tiny server: one task per connection.
async fn serve(h: Handle, listener: TcpListener) {
    let mut served = 0u32;
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        served += 1;
        let h2 = h.clone();
        h.spawn(async move {
            if let Err(e) = answer(&h2, &stream, served).await {
                eprintln!("http_get server: {peer}: {e}");
            }
        });
    }
}

/// Reads one request head, waits `think()`, answers, and closes.
async fn answer(h: &Handle, stream: &TcpStream, number: u32) -> Result<(), readyloop::Error> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.recv(&mut buf).await?;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    h.sleep(think()).await;
    let body = format!("hello from readyloop: request #{number} was {line:?}\n");
    let reply = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.send_all(reply.as_bytes()).await
}
