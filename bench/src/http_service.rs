//! The one hyper service both HTTP servers run (`http-readyloop`, `http-tokio`), and the
//! request and body the HTTP load generator (`src/bin/http.rs`) sends and checks.
//!
//! Keeping the service here makes the two servers differ only in their runtime (its socket
//! wrapper, timer and accept loop). It must stay a fixed answer: no allocation beyond what
//! hyper itself does per response, no work a real handler would not do.

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;

/// The body of `GET /`: small and fixed, so the rows measure the runtime and hyper's HTTP/1.1
/// machinery, not a handler.
pub const BODY: &[u8] = b"hello\n";

/// The request every load-generator connection sends (keep-alive is HTTP/1.1's default).
pub const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// `GET /` answers 200 with [`BODY`] (hyper adds `content-length` and `date`); anything else
/// 404 with an empty body.
pub async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let found = req.method() == Method::GET && req.uri().path() == "/";
    let (status, body) = if found {
        (StatusCode::OK, Bytes::from_static(BODY))
    } else {
        (StatusCode::NOT_FOUND, Bytes::new())
    };
    let mut res = Response::new(Full::new(body));
    *res.status_mut() = status;
    Ok(res)
}
