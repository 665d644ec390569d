//! asyncio's streams: [`open_connection`], [`StreamReader`], [`StreamWriter`].
//!
//! A TCP connection split into owned halves: the read half behind a
//! `BufReader` (so `read_line`, `read_until` and `lines()` work, as on
//! asyncio's `StreamReader`), the write half behind a `BufWriter` whose
//! `flush` is asyncio's `drain()`. The halves are separate values, so one
//! task can read while another writes.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use corio_io::io::{AsyncBufRead, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, BufWriter};
use corio_io::net::{OwnedReadHalf, OwnedWriteHalf, TcpStream, ToSocketAddrs};

/// Connects to `addr` and returns the connection as a buffered reader and
/// a buffered writer: asyncio's `open_connection(host, port)`.
///
/// The socket gets `TCP_NODELAY`, as asyncio sets it: bytes go out when
/// the writer is flushed, not after Nagle's delay.
///
/// ```
/// use corio::io::{AsyncBufReadExt, AsyncWriteExt};
///
/// corio::run(async {
///     let server = corio::net::start_server(
///         |mut reader, mut writer| async move {
///             let mut line = String::new();
///             reader.read_line(&mut line).await?;
///             writer.write_all(line.to_uppercase().as_bytes()).await?;
///             writer.flush().await // asyncio: await writer.drain()
///         },
///         "127.0.0.1:0",
///     )
///     .await?;
///
///     // asyncio: reader, writer = await asyncio.open_connection(host, port)
///     let (mut reader, mut writer) = corio::net::open_connection(server.local_addr()?).await?;
///     writer.write_all(b"hello\n").await?;
///     writer.drain().await?;
///     let mut reply = String::new();
///     reader.read_line(&mut reply).await?; // asyncio: await reader.readline()
///     assert_eq!(reply, "HELLO\n");
///     writer.close().await?;
///     server.shutdown(std::time::Duration::from_secs(1)).await;
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub async fn open_connection<A: ToSocketAddrs>(
    addr: A,
) -> io::Result<(StreamReader, StreamWriter)> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(into_streams(stream))
}

/// Splits a connected stream into the two buffered halves.
pub(crate) fn into_streams(stream: TcpStream) -> (StreamReader, StreamWriter) {
    let (r, w) = stream.into_split();
    (
        StreamReader {
            inner: BufReader::new(r),
        },
        StreamWriter {
            inner: Some(BufWriter::new(w)),
        },
    )
}

/// The reading side of a connection: asyncio's `StreamReader`, a
/// `BufReader` over the socket's read half.
///
/// It is `AsyncRead` and `AsyncBufRead`, so the methods of
/// [`AsyncBufReadExt`](crate::io::AsyncBufReadExt) and
/// [`AsyncReadExt`](crate::io::AsyncReadExt) apply:
///
/// | asyncio                          | corio                                      |
/// |----------------------------------|--------------------------------------------|
/// | `await reader.readline()`        | `reader.read_line(&mut line).await`        |
/// | `await reader.readuntil(b";")`   | `reader.read_until(b';', &mut buf).await`  |
/// | `await reader.readexactly(n)`    | `reader.read_exact(&mut buf[..n]).await`   |
/// | `await reader.read(n)`           | `reader.read(&mut buf[..n]).await`         |
/// | `await reader.read()`            | `corio::io::read_all(&mut reader, &mut buf).await` |
/// | `async for line in reader`       | `reader.lines()` (a `Stream`)              |
/// | `reader.at_eof()`                | `reader.fill_buf().await?.is_empty()`      |
///
/// Lines are not capped in length (asyncio's `limit`); to cap one, read it
/// through `(&mut reader).take(limit)`.
///
/// ```
/// use corio::io::{AsyncBufReadExt, AsyncWriteExt};
/// use futures_lite::StreamExt;
///
/// corio::run(async {
///     let server = corio::net::start_server(
///         |_reader, mut writer| async move {
///             writer.write_all(b"one\ntwo\r\nthree").await?;
///             writer.close().await
///         },
///         "127.0.0.1:0",
///     )
///     .await?;
///     let (reader, _writer) = corio::net::open_connection(server.local_addr()?).await?;
///     // asyncio: async for line in reader
///     let lines: Vec<String> = reader.lines().try_collect().await?;
///     assert_eq!(lines, ["one", "two", "three"]);
///     server.close();
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct StreamReader {
    inner: BufReader<OwnedReadHalf<TcpStream>>,
}

impl StreamReader {
    /// The address of the peer (asyncio: `get_extra_info("peername")`).
    ///
    /// See [`StreamWriter::peer_addr`] for an example.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream().peer_addr()
    }

    /// The local address (asyncio: `get_extra_info("sockname")`).
    ///
    /// ```
    /// # corio::run(async {
    /// # let server = corio::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await?;
    /// let (reader, writer) = corio::net::open_connection(server.local_addr()?).await?;
    /// assert_eq!(reader.local_addr()?, writer.local_addr()?);
    /// assert!(reader.local_addr()?.ip().is_loopback());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream().local_addr()
    }

    /// The bytes read from the socket and not yet consumed.
    ///
    /// ```
    /// use corio::io::{AsyncBufReadExt, AsyncWriteExt};
    /// # corio::run(async {
    /// let server = corio::net::start_server(
    ///     |_r, mut w| async move { w.write_all(b"a\nb\n").await?; w.flush().await },
    ///     "127.0.0.1:0",
    /// )
    /// .await?;
    /// let (mut reader, _writer) = corio::net::open_connection(server.local_addr()?).await?;
    /// let mut line = String::new();
    /// reader.read_line(&mut line).await?;
    /// assert!(b"b\n".starts_with(reader.buffer())); // the rest, if it came along
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn buffer(&self) -> &[u8] {
        self.inner.buffer()
    }

    /// The `BufReader` itself, with whatever it has buffered (see
    /// [`StreamWriter::into_inner`] for putting the connection back
    /// together).
    pub fn into_inner(self) -> BufReader<OwnedReadHalf<TcpStream>> {
        self.inner
    }

    fn stream(&self) -> &TcpStream {
        self.inner.get_ref().as_ref()
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("stream", self.stream())
            .field("buffered", &self.inner.buffer().len())
            .finish()
    }
}

impl AsyncRead for StreamReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read_vectored(cx, bufs)
    }
}

impl AsyncBufRead for StreamReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Pin::new(&mut self.get_mut().inner).poll_fill_buf(cx)
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        Pin::new(&mut self.inner).consume(amt)
    }
}

/// The writing side of a connection: asyncio's `StreamWriter`, a
/// `BufWriter` over the socket's write half.
///
/// It is `AsyncWrite`, so the methods of
/// [`AsyncWriteExt`](crate::io::AsyncWriteExt) apply:
///
/// | asyncio                          | corio                                      |
/// |----------------------------------|--------------------------------------------|
/// | `writer.write(data)`             | `writer.write_all(data).await`             |
/// | `await writer.drain()`           | `writer.flush().await` or [`drain`](Self::drain) |
/// | `writer.write_eof()`             | `writer.close().await` (shuts the write side down) |
/// | `writer.close(); await writer.wait_closed()` | `writer.close().await`, then drop both halves |
/// | `writer.get_extra_info("peername")` | [`writer.peer_addr()`](Self::peer_addr) |
///
/// Written bytes wait in the buffer (8 KiB) until a flush, a `close`, or a
/// write that does not fit. Dropping a writer that still holds bytes makes
/// one attempt, without waiting, to send them (as asyncio's transport sends
/// what was written even without `drain`); only `flush` and `close` make
/// sure and report errors.
///
/// ```
/// use corio::io::{AsyncReadExt, AsyncWriteExt};
///
/// corio::run(async {
///     let server = corio::net::start_server(
///         |mut reader, mut writer| async move {
///             let peer = writer.peer_addr()?;
///             let mut all = Vec::new();
///             reader.read_to_end(&mut all).await?;
///             writer.write_all(format!("{} bytes from {peer}", all.len()).as_bytes()).await?;
///             writer.close().await
///         },
///         "127.0.0.1:0",
///     )
///     .await?;
///     let (mut reader, mut writer) = corio::net::open_connection(server.local_addr()?).await?;
///     let me = writer.local_addr()?;
///     writer.write_all(b"12345").await?;
///     writer.close().await?; // flush, then end of file for the server
///     let mut reply = String::new();
///     reader.read_to_string(&mut reply).await?;
///     assert_eq!(reply, format!("5 bytes from {me}"));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct StreamWriter {
    /// `None` only after `into_inner`, on the way to `Drop`.
    inner: Option<BufWriter<OwnedWriteHalf<TcpStream>>>,
}

impl StreamWriter {
    /// Sends everything buffered: asyncio's `drain()`, the same as
    /// [`flush`](crate::io::AsyncWriteExt::flush).
    ///
    /// ```
    /// # use corio::io::AsyncWriteExt;
    /// # corio::run(async {
    /// # let server = corio::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await?;
    /// let (_reader, mut writer) = corio::net::open_connection(server.local_addr()?).await?;
    /// writer.write_all(b"PING\r\n").await?;
    /// assert_eq!(writer.buffer(), b"PING\r\n");
    /// writer.drain().await?; // asyncio: await writer.drain()
    /// assert!(writer.buffer().is_empty());
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn drain(&mut self) -> io::Result<()> {
        self.writer_mut().flush().await
    }

    /// The address of the peer (asyncio: `get_extra_info("peername")`).
    ///
    /// ```
    /// # corio::run(async {
    /// # let server = corio::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await?;
    /// let (reader, writer) = corio::net::open_connection(server.local_addr()?).await?;
    /// assert_eq!(writer.peer_addr()?, server.local_addr()?);
    /// assert_eq!(reader.peer_addr()?, server.local_addr()?);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream().peer_addr()
    }

    /// The local address (asyncio: `get_extra_info("sockname")`).
    ///
    /// See [`StreamReader::local_addr`] for an example.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream().local_addr()
    }

    /// The bytes written and not yet sent (asyncio:
    /// `transport.get_write_buffer_size()`, as a slice).
    ///
    /// See [`drain`](Self::drain) for an example.
    pub fn buffer(&self) -> &[u8] {
        self.writer().buffer()
    }

    /// The `BufWriter` itself, with whatever it holds unsent (to put the
    /// connection back together: `into_inner` on both halves, then
    /// [`OwnedReadHalf::reunite`]).
    ///
    /// ```
    /// # corio::run(async {
    /// # let server = corio::net::start_server(|_r, _w| async {}, "127.0.0.1:0").await?;
    /// let (reader, writer) = corio::net::open_connection(server.local_addr()?).await?;
    /// let read_half = reader.into_inner().into_inner();
    /// let write_half = writer.into_inner().into_inner();
    /// let stream: corio::net::TcpStream = read_half.reunite(write_half).unwrap();
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn into_inner(mut self) -> BufWriter<OwnedWriteHalf<TcpStream>> {
        self.inner.take().expect("present until into_inner")
    }

    fn writer(&self) -> &BufWriter<OwnedWriteHalf<TcpStream>> {
        self.inner.as_ref().expect("present until into_inner")
    }

    fn writer_mut(&mut self) -> Pin<&mut BufWriter<OwnedWriteHalf<TcpStream>>> {
        Pin::new(self.inner.as_mut().expect("present until into_inner"))
    }

    fn stream(&self) -> &TcpStream {
        self.writer().get_ref().as_ref()
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        let Some(writer) = &self.inner else { return };
        let mut pending = writer.buffer();
        let mut socket: &TcpStream = writer.get_ref().as_ref();
        // One attempt, never waiting: a would-block leaves the rest unsent.
        // Not counted against the dropping task's budget, which would make
        // the attempt a no-op once spent.
        let mut cx = Context::from_waker(Waker::noop());
        corio_io::coop::without_budget(|| {
            while !pending.is_empty() {
                match Pin::new(&mut socket).poll_write(&mut cx, pending) {
                    Poll::Ready(Ok(n)) if n > 0 => pending = &pending[n..],
                    _ => break,
                }
            }
        });
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamWriter")
            .field("stream", self.stream())
            .field("buffered", &self.buffer().len())
            .finish()
    }
}

impl AsyncWrite for StreamWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writer_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.writer_mut().poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writer_mut().poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writer_mut().poll_close(cx)
    }
}
