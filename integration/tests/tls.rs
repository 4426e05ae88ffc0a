//! TLS on readyloop with futures-rustls over the futures-io `TcpStream`, and HTTPS with
//! hyper on top: a certificate made at start-up with rcgen, a client that trusts only it,
//! and every byte checked. No glue: the lines here are the ones a user writes.

mod server;

use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use futures_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use futures_util::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use readyloop::hyper::FuturesIo;
use readyloop::net::{TcpListener, TcpStream};
use readyloop::Loop;
use server::pattern;
use std::sync::Arc;
use std::time::Duration;

/// A self-signed certificate for "localhost", and a server and a client config using it.
fn configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let der = CertificateDer::from(cert.cert.der().to_vec());
    let key = PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let provider = Arc::new(futures_rustls::rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(der).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

/// ring's assembly (AES-GCM, its constant-time compare) writes and reads memory that
/// memcheck cannot follow, so under valgrind every TLS record looks uninitialised. The TLS
/// tests run in `cargo test`; under valgrind they would report ring, not readyloop (the
/// vectored send path they use runs under valgrind in tests/io_uninit_vectored.rs).
fn under_valgrind() -> bool {
    std::env::var_os("READYLOOP_UNDER_VALGRIND").is_some()
}

#[test]
fn tls_echo_checks_every_byte() {
    if under_valgrind() {
        return;
    }
    let (server_config, client_config) = configs();
    let data = pattern(4 << 20);
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    h.spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let tls = TlsAcceptor::from(server_config)
            .accept(stream)
            .await
            .unwrap();
        let (mut reader, mut writer) = tls.split();
        futures_util::io::copy(&mut reader, &mut writer)
            .await
            .unwrap();
        writer.close().await.unwrap();
    });
    let echoed = lp
        .block_on(h.timeout(Duration::from_secs(30), async {
            let stream = TcpStream::connect(&h, addr).await.unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let tls = TlsConnector::from(client_config)
                .connect(name, stream)
                .await
                .unwrap();
            let (mut reader, mut writer) = tls.split();
            let send = async {
                writer.write_all(&data).await.unwrap();
                writer.close().await.unwrap(); // close_notify, then the peer closes too
            };
            let mut echoed = Vec::new();
            let recv = reader.read_to_end(&mut echoed);
            let ((), got) = readyloop::gather((send, recv)).await;
            got.unwrap();
            echoed
        }))
        .expect("the TLS echo took over 30 s");
    assert_eq!(echoed.len(), data.len());
    assert!(echoed == data, "the TLS echo differs");
}

#[test]
fn https_server_with_hyper_over_rustls() {
    if under_valgrind() {
        return;
    }
    let (server_config, client_config) = configs();
    let data = pattern(1 << 20);
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let listener = TcpListener::bind(&h, "127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    h.spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let tls = TlsAcceptor::from(server_config)
            .accept(stream)
            .await
            .unwrap();
        let service = hyper::service::service_fn(|req: hyper::Request<Incoming>| async move {
            Ok::<_, hyper::Error>(hyper::Response::new(req.into_body()))
        });
        hyper::server::conn::http1::Builder::new()
            .serve_connection(FuturesIo::new(tls), service)
            .await
            .unwrap();
    });
    let echoed = lp
        .block_on(h.timeout(Duration::from_secs(30), async {
            let stream = TcpStream::connect(&h, addr).await.unwrap();
            let name = ServerName::try_from("localhost").unwrap();
            let tls = TlsConnector::from(client_config)
                .connect(name, stream)
                .await
                .unwrap();
            let io = FuturesIo::new(tls);
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            h.spawn(conn);
            let req = hyper::Request::post("/echo").header("host", "localhost");
            let req = req.body(Full::new(Bytes::from(data.clone()))).unwrap();
            let res = sender.send_request(req).await.unwrap();
            res.into_body().collect().await.unwrap().to_bytes()
        }))
        .expect("HTTPS took over 30 s");
    assert!(
        echoed == data,
        "the HTTPS echo differs ({} bytes)",
        echoed.len()
    );
}
