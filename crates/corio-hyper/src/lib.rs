//! hyper 1.x on corio.
//!
//! hyper does no I/O, spawning or timing of its own; a runtime plugs in
//! through `hyper::rt`. This crate is that plug for corio, and a small server
//! loop on top:
//!
//! - [`CorioExecutor`] (`rt::Executor`): hyper's background futures become
//!   corio tasks.
//! - [`CorioIo`] (`rt::Read` + `rt::Write`): any futures-io stream, such as
//!   `corio::net::TcpStream`, for hyper's servers and clients.
//! - [`CorioTimer`] (`rt::Timer`): hyper's timeouts on corio's timing wheel.
//! - [`serve`]: HTTP/1.1 on a `corio::net::TcpListener`, one task per
//!   connection, with graceful shutdown
//!   ([`Serve::with_graceful_shutdown`]`(signal).`[`grace`](WithGracefulShutdown::grace)`(d)`).
//!
//! ```
//! use std::convert::Infallible;
//! use std::time::Duration;
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use hyper::{body::Incoming, service::service_fn, Request, Response};
//!
//! async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from_static(b"Hello, World!"))))
//! }
//!
//! corio::run(async {
//!     let listener = corio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     println!("listening on http://{}", listener.local_addr()?);
//!     // In a real server the signal would be `corio::signal::ctrl_c()`.
//!     let signal = corio::time::sleep(Duration::from_millis(10));
//!     corio_hyper::serve(listener, service_fn(hello))
//!         .with_graceful_shutdown(signal)
//!         .grace(Duration::from_secs(10))
//!         .await
//! })
//! .unwrap();
//! ```
//!
//! The server side speaks HTTP/1.1 (hyper's `http1` feature); hyper's client
//! runs over [`CorioIo`] too (see its example).
#![warn(missing_docs)]

mod rt;
mod serve;

pub use rt::{CorioExecutor, CorioIo, CorioTimer};
pub use serve::{serve, Serve, WithGracefulShutdown};
