//! Networking: TCP, UDP and Unix sockets, `Async<T>` for any other
//! descriptor, and (here, because they need the runtime) asyncio's
//! stream helpers.
//!
//! Everything in [`corio_io::net`] is re-exported unchanged: the socket types
//! are runtime-agnostic and live there. What needs corio's runtime (spawning
//! a task per connection, the blocking pool) lives in this module's own
//! files, one per concern.
//!
//! - [`start_server`] and [`Server`]: asyncio's `start_server`, a task per
//!   connection, `close`, `shutdown(grace)`, `serve_forever`.
//! - [`open_connection`], [`StreamReader`], [`StreamWriter`]: asyncio's
//!   `open_connection` and its buffered reader and writer.
//!
//! ```
//! use corio::io::{AsyncReadExt, AsyncWriteExt};
//! use corio::net::{TcpListener, TcpStream};
//!
//! corio::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (mut server, _) = listener.accept().await?;
//!     client.write_all(b"ping").await?;
//!     let mut buf = [0u8; 4];
//!     server.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"ping");
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

mod dns;

pub use corio_io::net::*;
pub use dns::lookup_host;

mod server;
mod streams;

pub use server::{start_server, Server};
pub use streams::{open_connection, StreamReader, StreamWriter};
