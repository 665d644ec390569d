//! A line-based chat server: asyncio's `start_server` chat room, on corio.
//!
//! `cargo run --release -p corio-examples --bin chat [ADDR]` (default
//! `127.0.0.1:7760`), then `nc 127.0.0.1 7760` in a few terminals. Every line
//! a client sends goes to everybody else as `<name> line`; `/nick NAME`
//! renames, `/who` lists who is here, `/quit` leaves. Ctrl-C stops the
//! server: every client gets a goodbye line and end of file, and the server
//! waits for their connections to end, up to a grace period (`GRACE_MS`,
//! default 10 s), then exits 0.
//!
//! How it is built, all on corio's own pieces:
//! - [`corio::net::start_server`] runs [`client`] in a task per connection,
//!   with a buffered reader and writer.
//! - The broadcast: each client has an outbox, a bounded
//!   [`corio::sync::Queue`]; the room (a [`corio::sync::Lock`] around the
//!   members) puts each message into every other member's outbox, without
//!   waiting. A client that falls [`OUTBOX`] messages behind is disconnected
//!   rather than slowing the room down.
//! - Each client's task reads lines and drains its outbox at once
//!   ([`corio::race`]); shutting an outbox down lets the writer send what is
//!   left and close, which ends the task.
//! - [`corio::signal::ctrl_c`], then `Server::close`, a goodbye to every
//!   outbox, and `Server::shutdown(grace)`.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use corio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use corio::net::{start_server, StreamReader, StreamWriter};
use corio::sync::{Lock, Queue};

/// Messages a client's outbox holds before the client counts as stuck.
const OUTBOX: usize = 256;

/// The longest line a client may send, newline included.
const MAX_LINE: u64 = 4096;

/// A member's outbox: lines waiting to be written to its socket.
type Outbox = Arc<Queue<Arc<str>>>;

/// Who is in the room.
struct Room {
    state: Lock<RoomState>,
    next_id: AtomicU64,
}

struct RoomState {
    members: BTreeMap<u64, Member>,
    /// Set by `close`: whoever joins after it is sent away at once.
    goodbye: Option<Arc<str>>,
}

struct Member {
    name: String,
    outbox: Outbox,
}

impl Room {
    fn new() -> Room {
        Room {
            state: Lock::new(RoomState {
                members: BTreeMap::new(),
                goodbye: None,
            }),
            next_id: AtomicU64::new(1),
        }
    }

    /// Adds a member under a guest name; returns its id and name.
    async fn join(&self, outbox: Outbox) -> (u64, String) {
        // Relaxed: ids only need to be unique.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let name = format!("guest-{id}");
        let mut state = self.state.acquire().await;
        if let Some(goodbye) = &state.goodbye {
            // Accepted just before the server closed.
            let _ = outbox.put_nowait(goodbye.clone());
            outbox.shutdown(false);
        }
        let members = &mut state.members;
        members.insert(
            id,
            Member {
                name: name.clone(),
                outbox,
            },
        );
        broadcast(members, Some(id), &format!("* {name} joined\n"));
        (id, name)
    }

    /// Removes a member and tells the others.
    async fn leave(&self, id: u64) {
        let mut state = self.state.acquire().await;
        if let Some(gone) = state.members.remove(&id) {
            broadcast(&state.members, None, &format!("* {} left\n", gone.name));
        }
    }

    /// Sends `line` from member `from` to everybody else.
    async fn say(&self, from: u64, line: &str) {
        let state = self.state.acquire().await;
        if let Some(me) = state.members.get(&from) {
            let text = format!("<{}> {line}\n", me.name);
            broadcast(&state.members, Some(from), &text);
        }
    }

    /// Renames member `id`; returns the old name.
    async fn rename(&self, id: u64, new: &str) -> Option<String> {
        let mut state = self.state.acquire().await;
        let old = std::mem::replace(&mut state.members.get_mut(&id)?.name, new.to_string());
        broadcast(&state.members, Some(id), &format!("* {old} is now {new}\n"));
        Some(old)
    }

    /// The members' names, sorted.
    async fn names(&self) -> Vec<String> {
        let state = self.state.acquire().await;
        let mut names: Vec<String> = state.members.values().map(|m| m.name.clone()).collect();
        names.sort();
        names
    }

    /// Says goodbye to everyone and shuts every outbox: each writer sends
    /// what is left, closes its connection, and its task ends.
    async fn close(&self, goodbye: &str) {
        let mut state = self.state.acquire().await;
        let goodbye: Arc<str> = Arc::from(goodbye);
        for member in state.members.values() {
            let _ = member.outbox.put_nowait(goodbye.clone());
            member.outbox.shutdown(false);
        }
        state.goodbye = Some(goodbye);
    }
}

/// Puts `line` into every outbox but `except`'s, without waiting. A full
/// outbox means its client stopped reading: it is shut at once (dropping
/// what it holds), which disconnects that client. An outbox already shut
/// (its client is leaving, or the server closing) refuses the line too, but
/// keeps what it holds for its writer to send.
fn broadcast(members: &BTreeMap<u64, Member>, except: Option<u64>, line: &str) {
    let line: Arc<str> = Arc::from(line);
    for (id, member) in members {
        if Some(*id) != except
            && member.outbox.put_nowait(line.clone()).is_err()
            && !member.outbox.is_shut_down()
        {
            member.outbox.shutdown(true);
        }
    }
}

/// Takes a member out of the room when its connection's task ends, however
/// it ends (the room's lock is async, so the removal runs as a task).
struct Membership {
    room: Arc<Room>,
    id: u64,
}

impl Drop for Membership {
    fn drop(&mut self) {
        let (room, id) = (self.room.clone(), self.id);
        drop(corio::spawn(async move { room.leave(id).await }));
    }
}

/// One client's connection, from welcome to goodbye.
async fn client(
    room: Arc<Room>,
    mut reader: StreamReader,
    mut writer: StreamWriter,
) -> io::Result<()> {
    let outbox: Outbox = Arc::new(Queue::new(OUTBOX));
    let (id, name) = room.join(outbox.clone()).await;
    let _membership = Membership {
        room: room.clone(),
        id,
    };
    let _ = outbox.put_nowait(Arc::from(format!(
        "* welcome, {name}! /nick NAME to rename, /who to list, /quit to leave\n"
    )));

    // Reads the client's lines; when it is done, it shuts the outbox and
    // leaves the ending to the writer, so that the last lines still go out.
    let read_side = async {
        let mut line = String::new();
        loop {
            line.clear();
            // asyncio's StreamReader `limit`: read at most MAX_LINE bytes.
            let n = (&mut reader).take(MAX_LINE).read_line(&mut line).await?;
            if n == 0 {
                break;
            }
            if !line.ends_with('\n') && n as u64 == MAX_LINE {
                let _ = outbox.put_nowait(Arc::from("* line too long, bye\n"));
                break;
            }
            let text = line.trim_end_matches(['\r', '\n']);
            match text.split_once(' ').unwrap_or((text, "")) {
                ("/quit", _) => {
                    let _ = outbox.put_nowait(Arc::from("* bye\n"));
                    break;
                }
                ("/who", _) => {
                    let names = room.names().await.join(", ");
                    let _ = outbox.put_nowait(Arc::from(format!("* here: {names}\n")));
                }
                ("/nick", new) if !new.trim().is_empty() && !new.contains(char::is_whitespace) => {
                    room.rename(id, new).await;
                    let _ = outbox.put_nowait(Arc::from(format!("* you are now {new}\n")));
                }
                ("/nick", _) => {
                    let _ = outbox.put_nowait(Arc::from("* usage: /nick NAME (one word)\n"));
                }
                _ if text.is_empty() => {}
                _ => room.say(id, text).await,
            }
        }
        outbox.shutdown(false);
        std::future::pending::<io::Result<()>>().await
    };

    // Writes the outbox to the socket, flushing whenever it runs dry, until
    // the outbox is shut down and empty.
    let write_side = async {
        while let Ok(line) = outbox.get().await {
            writer.write_all(line.as_bytes()).await?;
            if outbox.empty() {
                writer.flush().await?; // asyncio: await writer.drain()
            }
        }
        writer.close().await
    };

    corio::race(read_side, write_side).await
}

#[corio::main]
async fn main() -> io::Result<()> {
    // Installed now: a Ctrl-C from here on starts the shutdown.
    let ctrl_c = corio::signal::ctrl_c();
    let addr = corio_examples::listen_addr("127.0.0.1:7760");
    let room = Arc::new(Room::new());
    let server = start_server(
        {
            let room = room.clone();
            move |reader, writer| {
                let room = room.clone();
                async move {
                    if let Err(e) = client(room, reader, writer).await {
                        eprintln!("chat: a client's connection failed: {e}");
                    }
                }
            }
        },
        addr,
    )
    .await?;
    println!("chat (corio) listening on {}", server.local_addr()?);

    corio::race(ctrl_c, server.serve_forever()).await?;

    let grace = corio_examples::shutdown::grace_period();
    println!(
        "chat: Ctrl-C: no longer accepting; saying goodbye to {} client(s), waiting up to {grace:?}",
        server.connections()
    );
    server.close();
    room.close("* server shutting down, bye\n").await;
    server.shutdown(grace).await;
    println!("chat: bye");
    Ok(())
}
