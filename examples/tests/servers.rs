//! The example servers, run as child processes on ephemeral ports and driven by
//! plain `std::net` clients. No timing assertions: every wait is bounded by a
//! generous timeout so that a broken server fails the test instead of hanging it.

use bytes::BytesMut;
use corio_examples::resp::{parse_frame, Frame};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest any single read or exchange may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(20);

/// A server child process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `exe` on `127.0.0.1:0` and reads the address from the line it
    /// prints when it listens ("... listening on [http://]ADDR").
    fn start(exe: &str) -> Server {
        let mut child = Command::new(exe)
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {exe}: {e}"));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("reading the listening line");
        let addr = line
            .split_whitespace()
            .last()
            .map(|a| a.trim_start_matches("http://"))
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{exe} printed {line:?}, not its address"));
        Server { child, addr }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_write_timeout(Some(PATIENCE)).unwrap();
        stream
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn echo_sends_everything_back() {
    let server = Server::start(env!("CARGO_BIN_EXE_echo"));
    let mut stream = server.connect();
    let message: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let message = message.clone();
        std::thread::spawn(move || stream.write_all(&message))
    };
    let mut reply = vec![0; message.len()];
    stream.read_exact(&mut reply).expect("echoed bytes");
    writer.join().unwrap().expect("write");
    assert!(reply == message, "echo differs from what was sent");
    // A second connection works too.
    let mut other = server.connect();
    other.write_all(b"again").unwrap();
    let mut buf = [0u8; 5];
    other.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"again");
}

/// A RESP client over a blocking socket.
struct Redis {
    stream: TcpStream,
    buf: BytesMut,
}

impl Redis {
    fn new(stream: TcpStream) -> Redis {
        Redis {
            stream,
            buf: BytesMut::new(),
        }
    }

    fn send(&mut self, words: &[&str]) {
        let frame = Frame::Array(
            words
                .iter()
                .map(|w| Frame::Bulk(bytes::Bytes::copy_from_slice(w.as_bytes())))
                .collect(),
        );
        self.stream.write_all(&frame.to_bytes()).unwrap();
    }

    /// The next reply, or `None` if the server closed the connection.
    fn reply(&mut self) -> Option<Frame> {
        loop {
            if let Some(frame) = parse_frame(&mut self.buf).expect("server speaks RESP") {
                return Some(frame);
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).expect("read reply");
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn call(&mut self, words: &[&str]) -> Frame {
        self.send(words);
        self.reply().expect("a reply")
    }
}

fn bulk(s: &str) -> Frame {
    Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

fn simple(s: &'static str) -> Frame {
    Frame::Simple(bytes::Bytes::from_static(s.as_bytes()))
}

#[test]
fn mini_redis_answers_the_commands() {
    let server = Server::start(env!("CARGO_BIN_EXE_mini_redis"));
    let mut r = Redis::new(server.connect());
    assert_eq!(r.call(&["PING"]), simple("PONG"));
    assert_eq!(r.call(&["ECHO", "hi there"]), bulk("hi there"));
    assert_eq!(r.call(&["GET", "k"]), Frame::Null);
    assert_eq!(r.call(&["SET", "k", "v1"]), Frame::ok());
    assert_eq!(r.call(&["GET", "k"]), bulk("v1"));
    assert_eq!(r.call(&["INCR", "n"]), Frame::Integer(1));
    assert_eq!(r.call(&["INCR", "n"]), Frame::Integer(2));
    assert!(matches!(r.call(&["INCR", "k"]), Frame::Error(_)));
    assert_eq!(r.call(&["TTL", "k"]), Frame::Integer(-1));
    assert_eq!(r.call(&["EXPIRE", "k", "100"]), Frame::Integer(1));
    match r.call(&["TTL", "k"]) {
        Frame::Integer(ttl) => assert!((1..=100).contains(&ttl), "TTL {ttl}"),
        other => panic!("TTL replied {other:?}"),
    }
    assert_eq!(r.call(&["TTL", "missing"]), Frame::Integer(-2));
    assert_eq!(r.call(&["DEL", "k", "n", "missing"]), Frame::Integer(2));
    assert_eq!(r.call(&["GET", "n"]), Frame::Null);
    assert!(matches!(r.call(&["NOSUCHCOMMAND"]), Frame::Error(e) if e.contains("unknown")));
    assert!(matches!(r.call(&["GET"]), Frame::Error(e) if e.contains("wrong number")));

    // Inline commands, as redis-benchmark's PING_INLINE sends them.
    r.stream.write_all(b"PING\r\n").unwrap();
    assert_eq!(r.reply(), Some(simple("PONG")));

    // Keys with a deadline go away (lazily on read, or by the purge task).
    assert_eq!(r.call(&["SET", "short", "x", "PX", "30"]), Frame::ok());
    let start = Instant::now();
    while r.call(&["GET", "short"]) != Frame::Null {
        assert!(start.elapsed() < PATIENCE, "key with PX 30 never expired");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(r.call(&["SET", "ex", "x", "EX", "1000"]), Frame::ok());
    assert!(matches!(r.call(&["TTL", "ex"]), Frame::Integer(t) if (1..=1000).contains(&t)));
}

#[test]
fn mini_redis_answers_pipelined_requests_in_order() {
    let server = Server::start(env!("CARGO_BIN_EXE_mini_redis"));
    let mut r = Redis::new(server.connect());
    let mut batch = Vec::new();
    for _ in 0..500 {
        Frame::Array(vec![bulk("INCR"), bulk("counter")]).encode(&mut batch);
    }
    batch.extend_from_slice(b"PING\r\n");
    r.stream.write_all(&batch).unwrap();
    for i in 1..=500 {
        assert_eq!(r.reply(), Some(Frame::Integer(i)));
    }
    assert_eq!(r.reply(), Some(simple("PONG")));
}

#[test]
fn mini_redis_bad_input_gets_an_error_and_the_server_lives_on() {
    let server = Server::start(env!("CARGO_BIN_EXE_mini_redis"));
    let mut bad = Redis::new(server.connect());
    bad.stream.write_all(b"*1\r\n$x\r\n").unwrap();
    match bad.reply() {
        Some(Frame::Error(e)) => assert!(e.contains("Protocol error"), "{e}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert_eq!(
        bad.reply(),
        None,
        "the connection is closed after a protocol error"
    );
    let mut good = Redis::new(server.connect());
    assert_eq!(good.call(&["PING"]), simple("PONG"));
}

#[test]
fn mini_redis_serves_many_clients_at_once() {
    let server = Server::start(env!("CARGO_BIN_EXE_mini_redis"));
    let clients: Vec<_> = (0..16)
        .map(|c| {
            let stream = server.connect();
            std::thread::spawn(move || {
                let mut r = Redis::new(stream);
                for i in 0..200 {
                    let key = format!("c{c}:{i}");
                    assert_eq!(r.call(&["SET", &key, &i.to_string()]), Frame::ok());
                    assert_eq!(r.call(&["GET", &key]), bulk(&i.to_string()));
                    r.call(&["INCR", "shared"]);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client thread");
    }
    let mut r = Redis::new(server.connect());
    assert_eq!(r.call(&["GET", "shared"]), bulk("3200"));
}

/// Sends one HTTP/1.1 request and reads one response; returns (status line, body).
fn http_get(stream: &mut TcpStream, reader: &mut BufReader<TcpStream>) -> (String, String) {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header == "\r\n" || header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (
        status.trim_end().to_string(),
        String::from_utf8(body).unwrap(),
    )
}

#[test]
fn http_says_hello_over_keep_alive() {
    let server = Server::start(env!("CARGO_BIN_EXE_http"));
    let mut stream = server.connect();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    for _ in 0..3 {
        let (status, body) = http_get(&mut stream, &mut reader);
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(body, "Hello, World!");
    }
}

/// hyper's client, on corio through corio-hyper, against the example
/// server: three requests over one keep-alive connection, then two
/// connections at once.
#[test]
fn http_answers_a_hyper_client_running_on_corio() {
    use corio_hyper::CorioIo;
    use http_body_util::{BodyExt, Empty};

    let server = Server::start(env!("CARGO_BIN_EXE_http"));
    let addr = server.addr;
    async fn get(
        sender: &mut hyper::client::conn::http1::SendRequest<Empty<bytes::Bytes>>,
    ) -> (u16, String) {
        let req = hyper::Request::get("/")
            .header("host", "localhost")
            .body(Empty::new())
            .unwrap();
        // The connection takes the next request once it is done with the last.
        sender.ready().await.expect("connection ready");
        let resp = sender.send_request(req).await.expect("response");
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }
    let run = async move {
        let mut conns = Vec::new();
        for _ in 0..2 {
            let stream = corio::net::TcpStream::connect(addr).await.expect("connect");
            let (sender, conn) = hyper::client::conn::http1::handshake(CorioIo::new(stream))
                .await
                .expect("handshake");
            conns.push((sender, corio::spawn(conn)));
        }
        for _ in 0..3 {
            assert_eq!(
                get(&mut conns[0].0).await,
                (200, "Hello, World!".to_string())
            );
        }
        let (a, b) = conns.split_at_mut(1);
        let (ra, rb) = corio::gather!(get(&mut a[0].0), get(&mut b[0].0));
        assert_eq!(ra, rb);
        for (sender, conn) in conns {
            drop(sender);
            conn.await.unwrap().expect("clean close");
        }
    };
    corio::run(async move {
        corio::time::wait_for(run, PATIENCE)
            .await
            .expect("the hyper client finished in time")
    });
}

#[test]
fn cpu_io_hashes_requests() {
    let server = Server::start(env!("CARGO_BIN_EXE_cpu_io"));
    let mut stream = server.connect();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    // One small job (inline) and one big one (to_thread), pipelined.
    let big = "y".repeat(200_000);
    write!(stream, "3 hello\n5 {big}\nnot a request\n").unwrap();
    let mut replies = Vec::new();
    for _ in 0..3 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        replies.push(line.trim_end().to_string());
    }
    for hex in &replies[..2] {
        assert_eq!(hex.len(), 16, "{hex:?}");
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{hex:?}");
    }
    assert_ne!(replies[0], replies[1]);
    assert!(replies[2].starts_with("ERR"), "{:?}", replies[2]);
}

/// Runs a client binary to completion (bounded) and returns its stdout.
fn run_to_completion(exe: &str, args: &[&str]) -> String {
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {exe}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).map(|_| out)
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("{exe} did not finish");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap().unwrap();
    assert!(status.success(), "{exe} {args:?} failed: {status}\n{out}");
    out
}

#[test]
fn tour_runs_on_defaults_and_exits_cleanly() {
    let out = run_to_completion(env!("CARGO_BIN_EXE_tour"), &[]);
    assert!(out.contains("hello from corio"), "{out}");
    assert!(out.contains(r#"= "replica""#), "race: {out}");
    assert!(
        out.contains("finished when spawn returned = true"),
        "eager: {out}"
    );
    assert!(
        out.contains("[request 17] in a gather! child"),
        "task-local: {out}"
    );
    assert!(
        out.contains("[no request] in a spawned task"),
        "task-local: {out}"
    );
    assert!(out.contains("tour finished"), "{out}");
}

#[test]
fn fanout_runs_against_its_own_echo_server() {
    let out = run_to_completion(env!("CARGO_BIN_EXE_fanout"), &["-n", "300", "-c", "32"]);
    assert!(out.contains("300 ok, 0 failed"), "{out}");
    assert!(out.contains("p99"), "{out}");
}

#[test]
fn fanout_loads_the_echo_server() {
    let server = Server::start(env!("CARGO_BIN_EXE_echo"));
    let addr = server.addr.to_string();
    let out = run_to_completion(env!("CARGO_BIN_EXE_fanout"), &[&addr, "-n", "200"]);
    assert!(out.contains("200 ok, 0 failed"), "{out}");
}

#[test]
fn cpu_io_demo_runs() {
    let out = run_to_completion(env!("CARGO_BIN_EXE_cpu_io"), &["--demo"]);
    assert!(out.contains("small jobs"), "{out}");
}
