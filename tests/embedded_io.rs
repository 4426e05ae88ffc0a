//! `embedded-io-async` on readyloop: protocol code written only against the `Read`/`Write`
//! traits (as a `no_std` crate would be) running over real sockets, plus the error mapping.

use embedded_io_async::{Error, ErrorKind, Read, ReadExactError, Write};
use readyloop::{net, Async, Handle};
use std::os::unix::net::UnixStream;

/// A tiny request/response protocol a `no_std` crate might ship: each message is a one-byte
/// length and the payload; the server answers each with the payload reversed, and stops at
/// an empty message.
async fn serve<S: Read + Write>(io: &mut S) -> Result<usize, ReadExactError<S::Error>> {
    let mut served = 0;
    loop {
        let mut len = [0u8; 1];
        io.read_exact(&mut len).await?;
        if len[0] == 0 {
            return Ok(served);
        }
        let mut payload = [0u8; 255];
        let payload = &mut payload[..usize::from(len[0])];
        io.read_exact(payload).await?;
        payload.reverse();
        io.write_all(&len).await.map_err(ReadExactError::Other)?;
        io.write_all(payload).await.map_err(ReadExactError::Other)?;
        io.flush().await.map_err(ReadExactError::Other)?;
        served += 1;
    }
}

async fn ask<S: Read + Write>(io: &mut S, payload: &[u8]) -> Result<Vec<u8>, S::Error> {
    io.write_all(&[payload.len() as u8]).await?;
    io.write_all(payload).await?;
    let mut len = [0u8; 1];
    read_all(io, &mut len).await?;
    let mut answer = vec![0u8; usize::from(len[0])];
    read_all(io, &mut answer).await?;
    Ok(answer)
}

/// `read` in a loop (so the plain `read` is exercised too, not only `read_exact`).
async fn read_all<S: Read>(io: &mut S, mut buf: &mut [u8]) -> Result<(), S::Error> {
    while !buf.is_empty() {
        let n = io.read(buf).await?;
        assert!(n > 0, "unexpected end of file");
        buf = &mut buf[n..];
    }
    Ok(())
}

fn pair(handle: &Handle) -> (Async<UnixStream>, Async<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    (
        Async::new(handle, a).unwrap(),
        Async::new(handle, b).unwrap(),
    )
}

/// Runs the protocol between two connected streams: four questions, then the stop message.
async fn converse<S: Read + Write + 'static>(handle: &Handle, mut client: S, mut server: S)
where
    S::Error: std::fmt::Debug,
{
    let server = handle.spawn(async move { serve(&mut server).await });
    for payload in [&b"ping"[..], b"a", &[7u8; 255], b"readyloop"] {
        let answer = ask(&mut client, payload).await.unwrap();
        let mut expected = payload.to_vec();
        expected.reverse();
        assert_eq!(answer, expected);
    }
    client.write_all(&[0]).await.unwrap();
    assert_eq!(server.await.unwrap().unwrap(), 4);
}

#[readyloop::test(timeout = "10s")]
async fn a_trait_only_protocol_runs_over_tcp(handle: Handle) {
    let listener = net::TcpListener::bind(&handle, "127.0.0.1:0").unwrap();
    let client = net::TcpStream::connect(&handle, listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    converse(&handle, client, server).await;
}

#[readyloop::test(timeout = "10s")]
async fn a_trait_only_protocol_runs_over_a_unix_stream(handle: Handle) {
    let (client, server) = net::UnixStream::pair(&handle).unwrap();
    converse(&handle, client, server).await;
}

#[readyloop::test(timeout = "10s")]
async fn a_trait_only_protocol_runs_over_an_async_wrapped_fd(handle: Handle) {
    let (client, server) = pair(&handle);
    converse(&handle, client, server).await;
}

#[readyloop::test(timeout = "10s")]
async fn a_peer_gone_mid_message_is_unexpected_eof(handle: Handle) {
    let (mut client, mut server) = net::UnixStream::pair(&handle).unwrap();
    client.write_all(&[10, 1, 2, 3]).await.unwrap(); // promises 10 bytes, sends 3
    drop(client);
    match serve(&mut server).await {
        Err(ReadExactError::UnexpectedEof) => {}
        other => panic!("expected UnexpectedEof, got {other:?}"),
    }
}

#[readyloop::test(timeout = "10s")]
async fn writing_to_a_closed_peer_maps_to_broken_pipe(handle: Handle) {
    let (mut client, server) = net::UnixStream::pair(&handle).unwrap();
    drop(server);
    let err = client.write_all(b"anyone?").await.unwrap_err();
    assert_eq!(err.kind(), readyloop::ErrorKind::BrokenPipe);
    assert_eq!(Error::kind(&err), ErrorKind::BrokenPipe);
}

#[test]
fn every_error_kind_maps_to_an_embedded_kind() {
    use readyloop::ErrorKind as K;
    let cases = [
        (K::ConnectionRefused, ErrorKind::ConnectionRefused),
        (K::ConnectionReset, ErrorKind::ConnectionReset),
        (K::ConnectionAborted, ErrorKind::ConnectionAborted),
        (K::BrokenPipe, ErrorKind::BrokenPipe),
        (K::AddrInUse, ErrorKind::AddrInUse),
        (K::AddrNotAvailable, ErrorKind::AddrNotAvailable),
        (K::InvalidInput, ErrorKind::InvalidInput),
        (K::Blocking, ErrorKind::InvalidInput),
        (K::TimedOut, ErrorKind::TimedOut),
        (K::Cancelled, ErrorKind::Interrupted),
        (K::NotASocket, ErrorKind::Unsupported),
        (K::Closed, ErrorKind::Other),
        (K::NoLoop, ErrorKind::Other),
        (K::NotConnected, ErrorKind::NotConnected),
        (K::Interrupted, ErrorKind::Interrupted),
        (K::PermissionDenied, ErrorKind::PermissionDenied),
        (K::NotFound, ErrorKind::NotFound),
        (K::AlreadyExists, ErrorKind::AlreadyExists),
        (K::OutOfMemory, ErrorKind::OutOfMemory),
        (K::Unsupported, ErrorKind::Unsupported),
    ];
    for (ours, theirs) in cases {
        assert_eq!(
            Error::kind(&readyloop::Error::new(ours, "test")),
            theirs,
            "{ours:?}"
        );
    }
}

#[readyloop::test(timeout = "10s")]
async fn empty_buffers_return_at_once(handle: Handle) {
    let (mut a, _b) = pair(&handle);
    assert_eq!(Read::read(&mut a, &mut []).await.unwrap(), 0);
    assert_eq!(Write::write(&mut a, &[]).await.unwrap(), 0);
    let (mut c, _d) = net::UnixStream::pair(&handle).unwrap();
    assert_eq!(Read::read(&mut c, &mut []).await.unwrap(), 0);
    assert_eq!(Write::write(&mut c, &[]).await.unwrap(), 0);
}
