//! The ecosystem over corio sockets, as a user would plug it in: a WebSocket
//! echo (async-tungstenite) and a TLS echo through a TLS-terminating proxy
//! (futures-rustls, with an rcgen certificate), loopback only.
//!
//! futures-lite's prelude is imported next to `corio::io` in this module, as
//! a user would: the calls to `read_exact`, `write_all`, `flush` and
//! `next()` below each have one candidate, because `corio::io`'s extension
//! traits are futures-lite's own (before, each was error E0034).
//!
//! The last tests show which `split` a `TcpStream` gets: corio's borrowing
//! one, unless futures-util's `AsyncReadExt` is in scope, whose by-value
//! `split` Rust prefers (documented at `TcpStream::split`).

use std::sync::Arc;
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use corio::io::{copy_bidirectional, AsyncReadExt, AsyncWriteExt};
use corio::net::{TcpListener, TcpStream};
use futures_lite::prelude::*;
use futures_rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use futures_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};

/// Longest any one test may take before it counts as hung.
const PATIENCE: Duration = Duration::from_secs(60);

/// Runs `fut` on a corio runtime, failing if it takes longer than PATIENCE.
fn run<F: std::future::Future<Output = ()> + Send + 'static>(fut: F) {
    corio::run(async move {
        corio::time::wait_for(fut, PATIENCE)
            .await
            .expect("the test finished in time")
    });
}

#[test]
fn websocket_echo_with_async_tungstenite() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = corio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = async_tungstenite::accept_async(stream).await.unwrap();
            let mut echoed = 0;
            // futures-lite's StreamExt::next, from the prelude.
            while let Some(msg) = ws.next().await {
                let msg = msg.unwrap();
                if msg.is_text() || msg.is_binary() {
                    ws.send(msg).await.unwrap();
                    echoed += 1;
                }
            }
            echoed
        });

        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut ws, response) = async_tungstenite::client_async(format!("ws://{addr}/"), stream)
            .await
            .unwrap();
        assert_eq!(response.status(), 101);
        ws.send(Message::text("hello, corio")).await.unwrap();
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        ws.send(Message::binary(big.clone())).await.unwrap();
        let text = ws.next().await.unwrap().unwrap();
        assert_eq!(text.into_text().unwrap().as_str(), "hello, corio");
        let bin = ws.next().await.unwrap().unwrap();
        assert!(bin.into_data()[..] == big[..], "binary echo differs");
        ws.close(None).await.unwrap();
        // The server sees the close and ends its loop.
        assert_eq!(server.await.unwrap(), 2);
    });
}

/// A self-signed certificate for "localhost", and a server and a client
/// configuration that trust it (ring as the crypto provider).
fn tls_configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

/// client --TLS--> proxy (TLS off, copy_bidirectional) --TCP--> echo backend.
/// The client checks every byte of 1 MiB, in 64 KiB exchanges, then closes;
/// the close travels through the proxy to the backend and back.
#[test]
fn tls_echo_through_a_tls_terminating_proxy_with_futures_rustls() {
    run(async {
        let (server_config, client_config) = tls_configs();

        // A plain echo backend.
        let backend = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let backend_addr = backend.local_addr().unwrap();
        corio::spawn(async move {
            let (stream, _) = backend.accept().await.unwrap();
            let (mut r, mut w) = stream.split();
            corio::io::copy(&mut r, &mut w).await.unwrap();
            w.close().await.unwrap();
        });

        // The proxy: TLS in front, plain TCP behind.
        let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_addr = proxy.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(server_config);
        let proxied = corio::spawn(async move {
            let (stream, _) = proxy.accept().await.unwrap();
            let mut tls = acceptor.accept(stream).await.unwrap();
            let mut plain = TcpStream::connect(backend_addr).await.unwrap();
            copy_bidirectional(&mut tls, &mut plain).await.unwrap()
        });

        let connector = TlsConnector::from(client_config);
        let stream = TcpStream::connect(proxy_addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, stream).await.unwrap();
        let payload: Vec<u8> = (0..1u32 << 20)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let mut back = vec![0u8; 64 * 1024];
        for chunk in payload.chunks(64 * 1024) {
            // corio::io's write_all/flush/read_exact, futures-lite's prelude
            // in scope too: one candidate each.
            tls.write_all(chunk).await.unwrap();
            tls.flush().await.unwrap();
            tls.read_exact(&mut back[..chunk.len()]).await.unwrap();
            assert!(back[..chunk.len()] == *chunk, "echo through TLS differs");
        }
        tls.close().await.unwrap();
        let mut rest = Vec::new();
        assert_eq!(tls.read_to_end(&mut rest).await.unwrap(), 0);
        let (up, down) = proxied.await.unwrap();
        assert_eq!((up, down), (payload.len() as u64, payload.len() as u64));
    });
}

/// With only corio's and futures-lite's traits in scope, `stream.split()`
/// is corio's: borrowing halves, the stream stays usable.
#[test]
fn split_is_corios_with_futures_lite_in_scope() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (mut r, mut w): (corio::net::ReadHalf<'_>, corio::net::WriteHalf<'_>) = server.split();
        (&client).write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        r.read_exact(&mut buf).await.unwrap();
        w.write_all(&buf).await.unwrap();
        (&client).read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        // Borrowed, not moved: the stream is still here.
        assert!(server.peer_addr().is_ok());
    });
}

/// futures-util's `AsyncReadExt::split(self)` takes the stream by value, and
/// Rust looks for by-value methods (trait ones included) before by-reference
/// ones, so with that trait in scope `stream.split()` is futures-util's, as
/// the type annotations below prove at compile time. `TcpStream::split(&s)`
/// still names corio's.
mod with_futures_util {
    use super::run;
    use corio::net::{TcpListener, TcpStream};
    use futures_util::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn split_is_futures_utils_when_its_trait_is_in_scope() {
        run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();

            // Method syntax: futures-util's lock-based halves; `client` moves.
            let (mut cr, mut cw): (
                futures_util::io::ReadHalf<TcpStream>,
                futures_util::io::WriteHalf<TcpStream>,
            ) = client.split();
            // Path syntax: corio's borrowing halves.
            let (mut sr, mut sw): (corio::net::ReadHalf<'_>, corio::net::WriteHalf<'_>) =
                TcpStream::split(&server);

            cw.write_all(b"both work").await.unwrap();
            let mut buf = [0u8; 9];
            sr.read_exact(&mut buf).await.unwrap();
            sw.write_all(&buf).await.unwrap();
            cr.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"both work");
        });
    }
}
