//! Play the scheduler: run seed 002's `sleepy` or `read_socket` one turn at a time, as the
//! article walks its loop by hand. Each Enter runs one turn (`Loop::step`) and prints what it
//! did: the tasks it ran and why, what each then waits on, the fd set and timeout handed to
//! the kernel, how long it blocked, the revents, and the timers that fired.
//!
//! Run: `cargo run --example step` (or `-- read_socket`; add `--auto` to run every turn
//! without waiting for Enter, as the tests do)

use readyloop::net::{TcpListener, TcpStream};
use readyloop::{Handle, Loop};
use std::io::BufRead;
use std::time::Duration;

fn main() -> Result<(), readyloop::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let auto = args.iter().any(|a| a == "--auto");
    let program = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or("sleepy", String::as_str);
    let lp = Loop::builder().stepping().build()?;
    let h = lp.handle();
    match program {
        "sleepy" => {
            for j in 0..3 {
                h.spawn_named(format!("coroutine {j}"), sleepy(h.clone(), j, 3));
            }
        }
        "read_socket" => read_socket(&h)?,
        other => {
            eprintln!("unknown program {other:?}: sleepy or read_socket");
            std::process::exit(2);
        }
    }
    println!(
        "{program}: {} tasks spawned; Enter runs one turn (Ctrl-D: run to the end)",
        h.stats().tasks_alive
    );
    let mut stdin = std::io::stdin().lock();
    let mut line = String::new();
    let mut interactive = !auto;
    while h.stats().tasks_alive > 0 {
        if interactive {
            line.clear();
            // End of input: stop asking, run the rest.
            interactive = stdin.read_line(&mut line).is_ok_and(|n| n > 0);
        }
        let turn = lp.step()?;
        println!("{turn}");
        if let Some(wait) = &turn.wait {
            let fds: Vec<String> = wait
                .fds
                .iter()
                .map(|(fd, ev)| format!("{fd}:{ev}"))
                .collect();
            println!(
                "  summary: ran {:?}, waited on [{}] for {:?} (asked {}), {} fd(s) ready, {} timer(s) fired\n",
                turn.polled,
                fds.join(" "),
                wait.blocked,
                wait.timeout.map_or("no timeout".into(), |t| format!("{t:?}")),
                wait.ready,
                turn.timers_fired.len()
            );
        }
    }
    println!("all tasks done after {} turns", h.stats().turns);
    Ok(())
}

/// Seed 002's `sleepy`: print a round, sleep 0.1 s, `count` times.
async fn sleepy(h: Handle, id: u32, count: u32) {
    for i in 0..count {
        println!("  >> coroutine {id} step {}", i + 1);
        h.sleep(Duration::from_millis(100)).await;
    }
}

/// Seed 002 §4, small: a sender writes 2 KiB in two pieces 50 ms apart; a reader receives
/// it 1 KiB per recv; a background sleeper prints two rounds.
fn read_socket(h: &Handle) -> Result<(), readyloop::Error> {
    let listener = TcpListener::bind(h, "127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    h.spawn_named("sender", {
        let h = h.clone();
        async move {
            let (stream, _) = listener.accept().await?;
            for _ in 0..2 {
                h.sleep(Duration::from_millis(50)).await;
                stream.send_all(&[b'x'; 1024]).await?;
            }
            Ok::<(), readyloop::Error>(())
        }
    });
    h.spawn_named("background", sleepy(h.clone(), 0, 2));
    h.spawn_named("reader", {
        let h = h.clone();
        async move {
            let stream = TcpStream::connect(&h, addr).await?;
            let (mut got, mut buf) = (0, [0u8; 1024]);
            while got < 2048 {
                match stream.recv(&mut buf).await? {
                    0 => break, // the sender hung up early
                    n => got += n,
                }
            }
            println!("  >> reader got {got} B");
            Ok::<(), readyloop::Error>(())
        }
    });
    Ok(())
}
