//! Beside another runtime: readyloop tasks ask a tokio runtime, running on its own thread,
//! for work that needs tokio's reactor (here its timer), and await the answers on readyloop
//! while a readyloop ticker keeps running. The answers come back on tokio's oneshot channels,
//! ordinary futures that wake the readyloop task from the tokio thread. Takes ~0.3 s.
//!
//! Run: `cargo run -p readyloop-integration --example tokio_bridge` (tokio is a
//! dev-dependency of integration/, which turns on the `macros` feature for
//! `#[readyloop::main]`).

use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// A question for the tokio side and where to send its answer.
type Request = (u64, oneshot::Sender<String>);

/// Starts a tokio current-thread runtime on its own thread, serving requests until every
/// sender is gone.
fn start_tokio() -> (mpsc::UnboundedSender<Request>, std::thread::JoinHandle<()>) {
    let (requests, mut inbox) = mpsc::unbounded_channel::<Request>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            while let Some((ms, reply)) = inbox.recv().await {
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    let _ = reply.send(format!("tokio slept {ms} ms"));
                });
            }
        });
    });
    (requests, thread)
}

#[readyloop::main]
async fn main(handle: readyloop::Handle) -> Result<(), readyloop::Error> {
    let start = Instant::now();
    let (requests, tokio_thread) = start_tokio();

    let ticker = handle.spawn({
        let handle = handle.clone();
        async move {
            for i in 1..=3 {
                handle.sleep(Duration::from_millis(100)).await;
                println!("{:>4} ms  readyloop tick {i}", start.elapsed().as_millis());
            }
        }
    });

    let askers: Vec<_> = [250u64, 50, 150]
        .into_iter()
        .map(|ms| {
            let requests = requests.clone();
            handle.spawn(async move {
                let (reply, answer) = oneshot::channel();
                requests
                    .send((ms, reply))
                    .expect("the tokio thread is gone");
                let text = answer.await.expect("tokio dropped the request");
                println!("{:>4} ms  {text}", start.elapsed().as_millis());
            })
        })
        .collect();
    for asker in askers {
        asker.await?;
    }
    ticker.await?;

    drop(requests); // the tokio loop ends when every sender is gone
    readyloop::spawn_blocking(move || tokio_thread.join())
        .await?
        .expect("the tokio thread panicked");
    println!("{:>4} ms  done", start.elapsed().as_millis());
    Ok(())
}
