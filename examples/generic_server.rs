//! One line server, written once for any `Listener`, run on TCP and on a Unix path: each
//! line a client sends comes back in upper case. `serve` and `upper_lines` name no
//! transport; only `main` picks one.
//!
//! Run:
//! - `cargo run --example generic_server`: serves TCP on 127.0.0.1 and a Unix socket in the
//!   temp directory at once, sends two lines to each from a client in the same loop, prints
//!   the answers, and exits (the test suite runs this).
//! - `cargo run --example generic_server -- tcp 127.0.0.1:7878`, then
//!   `printf 'hello\nworld\n' | nc -N 127.0.0.1 7878` (Ctrl-C ends the server).
//! - `cargo run --example generic_server -- unix /tmp/upper.sock`, then
//!   `printf 'hello\n' | nc -NU /tmp/upper.sock` (a stale socket file there is removed).
//!
//! A line longer than 4 KiB, or one that is not UTF-8, gets an error line back; the
//! connection goes on with the next line.

use readyloop::net::{
    LineReader, Listener, StreamSocket, TcpListener, TcpStream, UnixListener, UnixStream,
};
use readyloop::{ErrorKind, Handle, Loop};

/// The longest line served, newline included.
const MAX_LINE: usize = 4096;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lp = Loop::new()?;
    let h = lp.handle();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => lp.block_on(demo(h))?,
        ["tcp", addr] => {
            let listener = TcpListener::bind(&h, addr)?;
            println!("serving on tcp {}", listener.local_addr()?);
            lp.block_on(serve(listener))?;
        }
        ["unix", path] => {
            remove_stale_socket(path);
            let listener = UnixListener::bind(&h, path)?;
            println!("serving on unix {path}");
            lp.block_on(serve(listener))?;
        }
        _ => return Err("usage: generic_server [tcp ADDR | unix PATH]".into()),
    }
    Ok(())
}

/// Accepts connections for ever, one task per connection. Any listener will do.
async fn serve<L: Listener>(listener: L) -> readyloop::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        println!("connection from {peer:?}");
        listener.handle().spawn(async move {
            if let Err(e) = upper_lines(stream).await {
                println!("connection from {peer:?} ended: {e}");
            }
        });
    }
}

/// Sends back each line in upper case until the peer closes its writing half. A last line
/// without a newline is answered too (it is data the peer sent).
async fn upper_lines<S: StreamSocket>(stream: S) -> readyloop::Result<()> {
    let mut reader = LineReader::with_max_line(&stream, MAX_LINE);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) => return Ok(()),
            Ok(_) => stream.send_all(line.to_uppercase().as_bytes()).await?,
            Err(e) if matches!(e.kind(), ErrorKind::InvalidData | ErrorKind::LineTooLong) => {
                skip_line(&mut reader).await?;
                stream
                    .send_all(format!("error: {}\n", e.message()).as_bytes())
                    .await?;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Skips the rest of a line that could not be served: what is buffered, then chunks up to
/// the next newline (each at most `MAX_LINE`, so memory stays bounded).
async fn skip_line<S: StreamSocket>(reader: &mut LineReader<S>) -> readyloop::Result<()> {
    loop {
        match reader.buffer().iter().position(|&b| b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                return Ok(());
            }
            None => reader.consume(reader.buffer().len()),
        }
        let mut chunk = Vec::new();
        match reader.read_until(b'\n', &mut chunk).await {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == ErrorKind::LineTooLong => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Serves both transports in this loop and talks to each once.
async fn demo(h: Handle) -> readyloop::Result<()> {
    let tcp = TcpListener::bind(&h, "127.0.0.1:0")?;
    let tcp_addr = tcp.local_addr()?;
    let path = std::env::temp_dir().join(format!("generic-server-{}.sock", std::process::id()));
    remove_stale_socket(&path);
    let unix = UnixListener::bind(&h, &path)?;
    let _tcp_server = h.spawn(serve(tcp));
    let _unix_server = h.spawn(serve(unix));

    let client = TcpStream::connect(&h, tcp_addr).await?;
    println!("tcp answered: {:?}", talk(&client).await?);
    let client = UnixStream::connect(&h, &path).await?;
    println!("unix answered: {:?}", talk(&client).await?);
    let _ = std::fs::remove_file(&path);
    Ok(())
}

/// Sends two lines, closes the writing half, and reads the answers to the end.
async fn talk<S: StreamSocket>(client: &S) -> readyloop::Result<Vec<String>> {
    client.send_all(b"hello\nworld\n").await?;
    client.shutdown(readyloop::net::Shutdown::Write)?;
    let mut answers = Vec::new();
    let mut reader = LineReader::new(client);
    while let Some(line) = reader.next_line().await? {
        answers.push(line);
    }
    Ok(answers)
}

/// Removes a socket file left at `path` by an earlier run (never any other kind of file).
fn remove_stale_socket(path: impl AsRef<std::path::Path>) {
    use std::os::unix::fs::FileTypeExt;
    let path = path.as_ref();
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        let _ = std::fs::remove_file(path);
    }
}
