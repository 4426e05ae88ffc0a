//! The smol stack (async-io's reactor + async-executor's `LocalExecutor`) as an echo server.
//!
//! Run: `cargo run --release -p readyloop-bench --bin echo-smol [IP:PORT]`.

use async_executor::LocalExecutor;
use async_io::Async;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use readyloop_bench::{announce, bind_addr, BUF};
use std::net::TcpListener;

fn main() {
    let ex = LocalExecutor::new();
    async_io::block_on(ex.run(async {
        let listener = Async::<TcpListener>::bind(bind_addr()).expect("bind");
        announce(listener.get_ref().local_addr().expect("local_addr"));
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.get_ref().set_nodelay(true);
            ex.spawn(async move {
                let mut buf = vec![0u8; BUF];
                loop {
                    let n = match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            })
            .detach();
        }
    }));
}
