//! Splitting a stream into a read half and a write half.
//!
//! A stream's read and write directions have separate readiness ticks and
//! waiter lists in the driver, so the halves can wait at the same time, in
//! one task or in two, without waking each other. The halves just hold `&S`
//! (or `Arc<S>`) and use the stream's `AsyncRead`/`AsyncWrite` impls on `&S`.

use std::error::Error;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use super::TcpStream;

/// The read half of a stream borrowed by `split()`.
#[derive(Debug)]
pub struct ReadHalf<'a, S = TcpStream>(pub(crate) &'a S);

/// The write half of a stream borrowed by `split()`.
#[derive(Debug)]
pub struct WriteHalf<'a, S = TcpStream>(pub(crate) &'a S);

/// The read half of a stream moved into `into_split()`; may go to another
/// task.
#[derive(Debug)]
pub struct OwnedReadHalf<S = TcpStream>(pub(crate) Arc<S>);

/// The write half of a stream moved into `into_split()`; may go to another
/// task. Dropping it does not shut the stream down: call `close()`.
#[derive(Debug)]
pub struct OwnedWriteHalf<S = TcpStream>(pub(crate) Arc<S>);

impl<S> AsRef<S> for ReadHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.0
    }
}

impl<S> AsRef<S> for WriteHalf<'_, S> {
    fn as_ref(&self) -> &S {
        self.0
    }
}

impl<S> AsRef<S> for OwnedReadHalf<S> {
    fn as_ref(&self) -> &S {
        &self.0
    }
}

impl<S> AsRef<S> for OwnedWriteHalf<S> {
    fn as_ref(&self) -> &S {
        &self.0
    }
}

impl<S> OwnedReadHalf<S> {
    /// Puts the stream back together; fails if the halves came from
    /// different streams.
    ///
    /// ```
    /// futures_lite::future::block_on(async {
    ///     let (a, _b) = corio_io::net::UnixStream::pair()?;
    ///     let (r, w) = a.into_split();
    ///     let a = r.reunite(w).expect("same stream");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn reunite(self, other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if Arc::ptr_eq(&self.0, &other.0) {
            drop(other);
            Ok(Arc::try_unwrap(self.0)
                .ok()
                .expect("only the two halves held the stream"))
        } else {
            Err(ReuniteError(self, other))
        }
    }
}

/// The halves given to [`OwnedReadHalf::reunite`] were not from one stream.
pub struct ReuniteError<S>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of different streams")
    }
}

impl<S> Error for ReuniteError<S> {}

impl<'a, S> AsyncRead for ReadHalf<'a, S>
where
    &'a S: AsyncRead,
{
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<'a, S> AsyncWrite for WriteHalf<'a, S>
where
    &'a S: AsyncWrite,
{
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl<S> AsyncRead for OwnedReadHalf<S>
where
    for<'a> &'a S: AsyncRead,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_read(cx, buf)
    }
}

impl<S> AsyncWrite for OwnedWriteHalf<S>
where
    for<'a> &'a S: AsyncWrite,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_close(cx)
    }
}
