//! Graceful shutdown of the example servers (`echo`, `mini_redis`, `http`),
//! end to end: each server runs as
//! a child process, a client has a request in flight, the test sends SIGTERM
//! (or SIGINT) with the `kill` program, and then checks that the server
//! stopped accepting, finished the request, and exited with status 0.
//!
//! Every wait is bounded by [`PATIENCE`] so that a broken server fails the
//! test instead of hanging it; no assertion is about time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Longest any single wait may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(30);

/// A server child process, its address and its stdout lines; killed when
/// dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `exe` on `127.0.0.1:0` with the given grace period and reads
    /// its address from the "listening on" line.
    fn start(exe: &str, grace_ms: u64) -> Server {
        let mut child = Command::new(exe)
            .arg("127.0.0.1:0")
            .env("GRACE_MS", grace_ms.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {exe}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            lines,
        };
        let line = server.expect_line("listening on");
        server.addr = line
            .split_whitespace()
            .last()
            .map(|a| a.trim_start_matches("http://"))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{exe} printed {line:?}, not its address"));
        server
    }

    /// The next stdout line, which must contain `what`.
    fn expect_line(&self, what: &str) -> String {
        let line = self
            .lines
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|e| panic!("no line containing {what:?} from the server: {e}"));
        assert!(line.contains(what), "expected {what:?}, got {line:?}");
        line
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        stream
    }

    /// Sends `signal` ("TERM", "INT") with the `kill` program.
    fn kill(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -s {signal}: {status}");
    }

    /// Waits for the server to exit.
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the server has read everything `stream` sent: the
    /// kernel acknowledged it (the client socket's send queue is empty) and
    /// the server's socket for this connection has nothing left unread.
    /// From then on the server has accepted the connection and holds the
    /// bytes, whatever the scheduling.
    fn wait_until_read(&self, stream: &TcpStream) {
        let client = stream.local_addr().unwrap();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let sent = tcp_queues(client, self.addr).map(|(tx, _)| tx == 0);
            let read = tcp_queues(self.addr, client).map(|(_, rx)| rx == 0);
            if sent == Some(true) && read == Some(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not read the request (sent: {sent:?}, read: {read:?})"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Connects until refused: the listener closes soon after the stop
    /// signal (a connection that slips in before that is just closed).
    fn wait_until_refused(&self) {
        let deadline = Instant::now() + PATIENCE;
        while let Ok(stream) = TcpStream::connect(self.addr) {
            drop(stream);
            assert!(
                Instant::now() < deadline,
                "the server still accepts connections after the stop signal"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The listener is closed: a new connection is refused.
    fn assert_not_accepting(&self) {
        match TcpStream::connect(self.addr) {
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}"),
            Ok(_) => panic!("a connection was accepted after the stop signal"),
        }
    }
}

/// The (send, receive) queue lengths of the IPv4 TCP socket `local` →
/// `remote`, from `/proc/net/tcp`.
fn tcp_queues(local: SocketAddr, remote: SocketAddr) -> Option<(u64, u64)> {
    fn hex(addr: SocketAddr) -> Option<String> {
        match addr {
            // The address as the kernel's u32 in native (little-endian) order,
            // then the port.
            SocketAddr::V4(a) => Some(format!(
                "{:08X}:{:04X}",
                u32::from_ne_bytes(a.ip().octets()),
                a.port()
            )),
            SocketAddr::V6(_) => None,
        }
    }
    let (local, remote) = (hex(local)?, hex(remote)?);
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 4 && f[1] == local && f[2] == remote {
            let (tx, rx) = f[4].split_once(':')?;
            Some((
                u64::from_str_radix(tx, 16).ok()?,
                u64::from_str_radix(rx, 16).ok()?,
            ))
        } else {
            None
        }
    })
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// echo, SIGTERM in the middle of a 1 MB echo: the transfer completes
/// intact, new connections are refused, and the server exits 0 once the
/// client hangs up.
#[test]
fn echo_finishes_a_transfer_in_flight_on_sigterm() {
    let mut server = Server::start(env!("CARGO_BIN_EXE_echo"), 30_000);
    let mut stream = server.connect();
    let message: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let message = message.clone();
        std::thread::spawn(move || stream.write_all(&message))
    };
    // Part of the echo is back: the connection is served and the rest is
    // still in flight (1 MB is more than the socket buffers hold, so the
    // writer waits for us to read).
    let mut reply = vec![0u8; message.len()];
    stream
        .read_exact(&mut reply[..1000])
        .expect("first echoed bytes");

    server.kill("TERM");
    server.expect_line("SIGTERM: no longer accepting");
    server.assert_not_accepting();

    stream
        .read_exact(&mut reply[1000..])
        .expect("the rest of the echo");
    writer.join().unwrap().expect("write");
    assert!(reply == message, "echo differs from what was sent");
    drop(stream);

    server.expect_line("every connection ended");
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "{status}");
}

/// echo, Ctrl-C (SIGINT) with an idle connection that never hangs up: the
/// server waits out the grace period, drops it, and still exits 0.
#[test]
fn echo_exits_0_after_the_grace_period_on_sigint() {
    let mut server = Server::start(env!("CARGO_BIN_EXE_echo"), 300);
    let mut idle = server.connect();
    idle.write_all(b"x").unwrap();
    let mut buf = [0u8; 1];
    idle.read_exact(&mut buf).unwrap();

    server.kill("INT");
    server.expect_line("SIGINT: no longer accepting");
    server.expect_line("grace period over; dropping 1 connection(s)");
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "{status}");
    // The dropped connection is closed (end-of-file or reset), not left
    // hanging until the read timeout.
    match idle.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("the dropped connection is still open: {other:?}"),
    }
}

/// Reads a reply of `len` bytes.
fn read_reply(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut reply = vec![0u8; len];
    stream.read_exact(&mut reply).expect("reply");
    reply
}

/// mini_redis, SIGTERM while a SET is half sent: the rest arrives after the
/// signal and the command is still answered, then the server exits 0.
#[test]
fn mini_redis_answers_a_request_in_flight_on_sigterm() {
    let mut server = Server::start(env!("CARGO_BIN_EXE_mini_redis"), 30_000);
    let mut stream = server.connect();
    // One full exchange first, so the connection is known to be served.
    stream.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    assert_eq!(read_reply(&mut stream, b"+PONG\r\n".len()), b"+PONG\r\n");

    // Half a SET, then the signal.
    stream
        .write_all(b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n")
        .unwrap();
    server.kill("TERM");
    server.expect_line("SIGTERM: no longer accepting");
    server.assert_not_accepting();

    // The other half: the request completes.
    stream.write_all(b"$5\r\nvalue\r\n").unwrap();
    assert_eq!(read_reply(&mut stream, b"+OK\r\n".len()), b"+OK\r\n");
    stream
        .write_all(b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
        .unwrap();
    assert_eq!(
        read_reply(&mut stream, b"$5\r\nvalue\r\n".len()),
        b"$5\r\nvalue\r\n"
    );
    drop(stream);

    server.expect_line("every connection ended");
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "{status}");
}

/// http (hyper through `corio_hyper::serve`), SIGTERM while a request head
/// is half sent: the listener closes while the connection lives on, the
/// rest of the request still gets its response, and the server exits 0.
#[test]
fn http_answers_a_request_in_flight_on_sigterm() {
    let mut server = Server::start(env!("CARGO_BIN_EXE_http"), 30_000);
    // Half a request on a fresh connection, read by the server: hyper
    // counts the connection as busy, so the graceful shutdown lets it
    // finish. (A connection the server has not read from yet is closed at
    // once by hyper's graceful shutdown, which is why the test waits.)
    let mut stream = server.connect();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: corio\r\n")
        .unwrap();
    server.wait_until_read(&stream);

    server.kill("TERM");
    server.expect_line("SIGTERM: no longer accepting");
    server.wait_until_refused();

    stream.write_all(b"\r\n").unwrap();
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the response, then end-of-file");
    // The response, with `connection: close` (the shutdown began before
    // the request was complete), then end-of-file.
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response:?}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{response:?}"
    );
    assert!(response.ends_with("Hello, World!"), "{response:?}");

    server.expect_line("http: bye");
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0), "{status}");
}
