//! The comparison server: hyper on tokio's current-thread runtime with hyper-util's
//! `TokioIo`/`TokioExecutor`/`TokioTimer`, serving GET / and POST /echo like
//! `http_server.rs`, for syscall counts (`.ci/checks/45-http.sh`'s strace step) and a
//! later benchmark. Prints `listening on IP:PORT`; SIGTERM/SIGINT end it.
//!
//! Run: `cargo run -p readyloop-integration --example hyper_tokio_server -- [ADDR]`

use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{service::service_fn, Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;

type Body = BoxBody<Bytes, hyper::Error>;

async fn route(req: Request<Incoming>) -> Result<Response<Body>, hyper::Error> {
    let text = |status, body: &'static str| {
        let body = Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed();
        Response::builder().status(status).body(body).unwrap()
    };
    Ok(match (req.method(), req.uri().path()) {
        (&Method::GET, "/") => text(StatusCode::OK, "hello from readyloop\n"),
        (&Method::POST, "/echo") => Response::new(req.into_body().boxed()),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8081".into());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr.as_str()).await?;
        println!("listening on {}", listener.local_addr()?);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => accepted?,
                _ = term.recv() => return Ok(()),
            };
            stream.set_nodelay(true)?;
            tokio::spawn(async move {
                let mut builder = auto::Builder::new(TokioExecutor::new());
                builder.http1().timer(TokioTimer::new());
                builder.http2().timer(TokioTimer::new());
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service_fn(route))
                    .await;
            });
        }
    })
}
