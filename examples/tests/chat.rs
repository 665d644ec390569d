//! The `chat` example as a child process, driven by plain `std::net` line
//! clients: welcome, join/leave notices, `/nick`, `/who`, a broadcast among
//! 20 clients, the line limit, and Ctrl-C (SIGINT, sent with `kill`):
//! everyone gets the goodbye and end of file, the server exits 0.
//!
//! Every read is bounded by [`PATIENCE`]; no assertion is about time.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(30);

struct Chat {
    child: Child,
    addr: SocketAddr,
    stdout: mpsc::Receiver<String>,
}

impl Chat {
    fn start() -> Chat {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chat"))
            .arg("127.0.0.1:0")
            .env("GRACE_MS", "20000")
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting chat");
        let out = child.stdout.take().unwrap();
        let (tx, stdout) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = stdout.recv_timeout(PATIENCE).expect("the listening line");
        let addr = first
            .split_whitespace()
            .last()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("chat printed {first:?}, not its address"));
        Chat {
            child,
            addr,
            stdout,
        }
    }

    /// Connects and reads the welcome; returns the client and its name.
    fn join(&self) -> (Client, String) {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut client = Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
        };
        let welcome = client.line();
        let name = welcome
            .strip_prefix("* welcome, ")
            .and_then(|rest| rest.split('!').next())
            .unwrap_or_else(|| panic!("not a welcome: {welcome:?}"))
            .to_string();
        (client, name)
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn send(&mut self, line: &str) {
        self.stream.write_all(line.as_bytes()).unwrap();
        self.stream.write_all(b"\n").unwrap();
    }

    /// The next line, without its newline.
    fn line(&mut self) -> String {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).expect("a line in time");
        assert!(n > 0, "connection closed while a line was expected");
        line.trim_end_matches('\n').to_string()
    }

    /// Reads until end of file; returns what came before it.
    fn until_eof(&mut self) -> String {
        let mut rest = String::new();
        self.reader
            .read_to_string(&mut rest)
            .expect("end of file in time");
        rest
    }
}

#[test]
fn chat_room_commands_and_broadcast() {
    let chat = Chat::start();
    let (mut a, a_name) = chat.join();
    let (mut b, b_name) = chat.join();
    assert_eq!(a.line(), format!("* {b_name} joined"));

    a.send("/nick alice");
    assert_eq!(a.line(), "* you are now alice");
    assert_eq!(b.line(), format!("* {a_name} is now alice"));

    b.send("hello, alice");
    assert_eq!(a.line(), format!("<{b_name}> hello, alice"));
    a.send("/who");
    let mut who = ["alice".to_string(), b_name.clone()];
    who.sort();
    assert_eq!(a.line(), format!("* here: {}", who.join(", ")));
    a.send("/nick two words");
    assert_eq!(a.line(), "* usage: /nick NAME (one word)");

    b.send("/quit");
    assert_eq!(b.line(), "* bye");
    assert_eq!(b.until_eof(), "");
    assert_eq!(a.line(), format!("* {b_name} left"));

    // A line over the limit ends that client's connection.
    let (mut c, c_name) = chat.join();
    assert_eq!(a.line(), format!("* {c_name} joined"));
    c.stream.write_all(&[b'x'; 5000]).unwrap();
    assert_eq!(c.line(), "* line too long, bye");
    assert_eq!(c.until_eof(), "");
    assert_eq!(a.line(), format!("* {c_name} left"));
}

/// 20 clients each say one line; each hears the other 19, and not itself.
#[test]
fn every_line_reaches_every_other_client() {
    const N: usize = 20;
    let chat = Chat::start();
    let mut clients = Vec::new();
    for _ in 0..N {
        let (client, name) = chat.join();
        clients.push((client, name));
    }
    // Skip the join notices each client got for those after it.
    for (i, (client, _)) in clients.iter_mut().enumerate() {
        for _ in i + 1..N {
            assert!(client.line().ends_with(" joined"));
        }
    }
    for (i, (client, _)) in clients.iter_mut().enumerate() {
        client.send(&format!("message {i}"));
    }
    let names: Vec<String> = clients.iter().map(|(_, n)| n.clone()).collect();
    for (i, (client, _)) in clients.iter_mut().enumerate() {
        let heard: BTreeSet<String> = (0..N - 1).map(|_| client.line()).collect();
        let expected: BTreeSet<String> = (0..N)
            .filter(|&j| j != i)
            .map(|j| format!("<{}> message {j}", names[j]))
            .collect();
        assert_eq!(heard, expected, "client {i}");
    }
}

#[test]
fn ctrl_c_says_goodbye_to_everyone_and_exits_0() {
    let mut chat = Chat::start();
    let (mut a, _) = chat.join();
    let (mut b, b_name) = chat.join();
    assert_eq!(a.line(), format!("* {b_name} joined"));
    b.send("still here");
    a.line();

    let status = Command::new("kill")
        .args(["-INT", &chat.child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success());

    // Both get the goodbye, then end of file: their connections end, so
    // the server need not wait out its (20 s) grace period.
    assert_eq!(a.line(), "* server shutting down, bye");
    assert_eq!(a.until_eof(), "");
    assert_eq!(b.line(), "* server shutting down, bye");
    assert_eq!(b.until_eof(), "");

    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = chat.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "chat did not exit after Ctrl-C");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "chat exited with {status}");
    // The process is gone: its stdout reaches end of file.
    let said: Vec<String> = chat.stdout.iter().collect();
    assert!(said.iter().any(|l| l.contains("Ctrl-C")), "{said:?}");
    assert_eq!(said.last().map(String::as_str), Some("chat: bye"));
}
