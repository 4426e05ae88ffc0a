//! An HTTP/1.1 and HTTP/2 server: hyper on readyloop through the `hyper` feature, with no
//! glue. GET / says hello, POST /echo streams the request body back, GET /ws upgrades to a
//! WebSocket that echoes every message (async-tungstenite over the upgraded connection).
//! Connections are kept alive; a client that takes longer than the header timeout to send
//! its request head is disconnected. SIGTERM or SIGINT stops accepting, lets in-flight
//! requests finish, and exits 0.
//!
//! Run: `cargo run -p readyloop-integration --example http_server -- [ADDR] [--header-timeout SECS]`
//! (ADDR defaults to 127.0.0.1:8080, port 0 picks a free one), then
//! `curl http://127.0.0.1:8080/` or `curl --http2-prior-knowledge http://127.0.0.1:8080/`.

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use async_tungstenite::tungstenite::protocol::Role;
use async_tungstenite::WebSocketStream;
use futures_util::StreamExt;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{header, service::service_fn, Method, Request, Response, StatusCode};
use hyper_util::server::conn::auto;
use readyloop::hyper::{FuturesIo, HyperIo, HyperTimer};
use readyloop::net::{TcpListener, TcpStream};
use readyloop::signal::{Signal, Signals};
use readyloop::{select, sync::Event, Either, Handle};
use std::pin::pin;
use std::time::Duration;

type Body = BoxBody<Bytes, hyper::Error>;

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let body = Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed();
    Response::builder().status(status).body(body).unwrap()
}

async fn route(req: Request<Incoming>) -> Result<Response<Body>, hyper::Error> {
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => text(StatusCode::OK, "hello from readyloop\n"),
        (&Method::POST, "/echo") => Response::new(req.into_body().boxed()),
        (&Method::GET, "/ws") => websocket(req),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    })
}

/// Answers a WebSocket handshake (101) and echoes messages on the upgraded connection.
fn websocket(mut req: Request<Incoming>) -> Response<Body> {
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY) else {
        return text(StatusCode::BAD_REQUEST, "not a WebSocket handshake\n");
    };
    let accept = derive_accept_key(key.as_bytes());
    let upgrade = hyper::upgrade::on(&mut req);
    Handle::current().spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let ws = WebSocketStream::from_raw_socket(FuturesIo::new(upgraded), Role::Server, None);
        let (mut tx, mut rx) = ws.await.split();
        while let Some(Ok(msg)) = rx.next().await {
            if (msg.is_text() || msg.is_binary()) && tx.send(msg).await.is_err() {
                break;
            }
        }
    });
    let mut res = text(StatusCode::SWITCHING_PROTOCOLS, "");
    let headers = res.headers_mut();
    headers.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("upgrade"),
    );
    headers.insert(
        header::UPGRADE,
        header::HeaderValue::from_static("websocket"),
    );
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept.parse().unwrap());
    res
}

/// Serves one connection until it ends, or until `stopping` is set: then hyper finishes the
/// requests in flight and closes.
async fn serve(stream: TcpStream, header_timeout: Duration, stopping: Event) {
    let mut builder = auto::Builder::new(Handle::current());
    builder
        .http1()
        .timer(HyperTimer)
        .header_read_timeout(header_timeout);
    builder.http2().timer(HyperTimer);
    let conn = builder.serve_connection_with_upgrades(HyperIo::new(stream), service_fn(route));
    let mut conn = pin!(conn);
    if let Either::Right(()) = select(conn.as_mut(), stopping.wait()).await {
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut addr, mut header_timeout) = ("127.0.0.1:8080".to_string(), 10.0);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--header-timeout" => header_timeout = args.next().ok_or("a value")?.parse()?,
            _ => addr = arg,
        }
    }
    let header_timeout = Duration::from_secs_f64(header_timeout);
    let lp = readyloop::Loop::new()?;
    let h = lp.handle();
    lp.block_on(async {
        let listener = TcpListener::bind(&h, addr.as_str())?;
        let mut signals = Signals::new(&h, &[Signal::Term, Signal::Int])?;
        println!("listening on {}", listener.local_addr()?);
        let stopping = Event::new();
        let mut connections = Vec::new();
        loop {
            match select(pin!(listener.accept()), pin!(signals.recv())).await {
                Either::Left(Ok((stream, _peer))) => {
                    let _ = stream.set_nodelay(true);
                    connections.retain(|c: &readyloop::JoinHandle<()>| !c.is_finished());
                    connections.push(h.spawn(serve(stream, header_timeout, stopping.clone())));
                }
                Either::Left(Err(e)) => eprintln!("http_server: accept: {e}"),
                Either::Right(_) => break,
            }
        }
        stopping.set();
        readyloop::join_all(connections).await;
        Ok(())
    })
}
