//! reqwless, an embedded HTTP client, on readyloop with the loop's handle as its network
//! stack (feature `embedded-nal-async`: `TcpConnect` and `Dns` for `Handle`), against the
//! example HTTP server: a GET, a POST echoed byte for byte, and a name resolved through
//! `Dns` ("localhost").

mod server;

use readyloop::Loop;
use reqwless::client::HttpClient;
use reqwless::request::{Method, RequestBuilder};
use server::{pattern, Server};
use std::time::Duration;

#[test]
fn reqwless_get_and_post_against_the_example_server() {
    let server = Server::start(&[]);
    let port = server.addr.rsplit_once(':').unwrap().1.to_string();
    let data = pattern(50_000);
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let (hello, echoed) = lp
        .block_on(h.timeout(Duration::from_secs(30), async {
            let mut client = HttpClient::new(&h, &h); // the loop is the TCP stack and the DNS
            let mut rx = vec![0u8; 128 * 1024];
            let url = format!("http://localhost:{port}/");
            let mut req = client.request(Method::GET, &url).await.unwrap();
            let res = req.send(&mut rx).await.unwrap();
            assert_eq!(res.status.0, 200);
            let hello = res.body().read_to_end().await.unwrap().to_vec();
            let url = format!("http://127.0.0.1:{port}/echo");
            let req = client.request(Method::POST, &url).await.unwrap();
            let mut req = req.body(&data[..]);
            let res = req.send(&mut rx).await.unwrap();
            assert_eq!(res.status.0, 200);
            let echoed = res.body().read_to_end().await.unwrap().to_vec();
            (hello, echoed)
        }))
        .expect("reqwless took over 30 s");
    assert_eq!(hello, b"hello from readyloop\n");
    assert!(echoed == data, "the echo differs ({} bytes)", echoed.len());
}
