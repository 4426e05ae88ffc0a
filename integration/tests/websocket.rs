//! A WebSocket echo with async-tungstenite straight over readyloop's futures-io `TcpStream`
//! (no glue at all): `accept_async` on the server, `client_async` on the client, on one
//! loop; text and binary messages of several sizes, every byte checked.

mod server;

use async_tungstenite::tungstenite::Message;
use futures_util::StreamExt;
use readyloop::net::{TcpListener, TcpStream};
use readyloop::Loop;
use std::time::Duration;

#[test]
fn websocket_echo_checks_every_byte() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    h.spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut ws = async_tungstenite::accept_async(stream).await.unwrap();
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_text() || msg.is_binary() {
                ws.send(msg).await.unwrap();
            }
        }
    });
    lp.block_on(h.timeout(Duration::from_secs(30), async {
        let stream = TcpStream::connect(&h, addr).await.unwrap();
        let url = format!("ws://{addr}/");
        let (mut ws, _) = async_tungstenite::client_async(url, stream).await.unwrap();
        for size in [0usize, 1, 125, 126, 65_535, 65_536, 1 << 20] {
            let data = server::pattern(size);
            ws.send(Message::binary(data.clone())).await.unwrap();
            let back = ws.next().await.unwrap().unwrap().into_data();
            assert!(
                back[..] == data[..],
                "a {size}-byte message came back different"
            );
            let text = "é".repeat(size / 2);
            ws.send(Message::text(text.clone())).await.unwrap();
            assert_eq!(ws.next().await.unwrap().unwrap(), Message::text(text));
        }
        ws.close(None).await.unwrap();
    }))
    .expect("the WebSocket echo took over 30 s");
}
