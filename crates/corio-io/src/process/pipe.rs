//! The parent's ends of a child's standard streams, as `Async` descriptors.
//!
//! std's `ChildStdin`/`ChildStdout`/`ChildStderr` become plain `File`s (a
//! pipe end is just a descriptor) registered with the driver. Only the
//! parent's end is made non-blocking: `pipe(2)` gives each end its own open
//! file description, so the child's end, and the `O_NONBLOCK` flag that
//! lives on the description, are untouched. Handing an end back out
//! ([`ChildStdout::into_owned_fd`], `Stdio::try_from`) clears the flag
//! again, since the next owner (often another child) expects blocking I/O.

use std::fmt;
use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::net::Async;

/// Registers the parent's end of a pipe with the driver.
fn register(fd: OwnedFd) -> io::Result<Async<File>> {
    Async::new(File::from(fd))
}

/// Deregisters `io` and returns its descriptor in blocking mode.
fn release(io: Async<File>) -> io::Result<OwnedFd> {
    let file = io.into_inner()?;
    set_blocking(file.as_raw_fd())?;
    Ok(OwnedFd::from(file))
}

/// Clears `O_NONBLOCK` on `fd`.
fn set_blocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with F_GETFL/F_SETFL only reads and writes the flags of
    // `fd`, which the caller owns; an invalid `fd` yields EBADF, reported.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The child's standard input, written by the parent: an [`AsyncWrite`]
/// (asyncio's `proc.stdin`, a `StreamWriter`).
///
/// `close()` (`AsyncWriteExt::close`, or dropping it) closes
/// the pipe, so the child reads end-of-file, as asyncio's
/// `proc.stdin.close()`. Writes after `close` fail with `BrokenPipe`.
///
/// ```
/// use corio_io::process::{Command, Stdio};
/// use futures_lite::{AsyncReadExt, AsyncWriteExt};
///
/// futures_lite::future::block_on(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()?;
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"hello").await?;
///     stdin.close().await?; // cat sees end-of-file
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await?;
///     assert_eq!(out, "hello");
///     assert!(child.wait().await?.success());
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct ChildStdin {
    /// `None` once closed.
    io: Option<Async<File>>,
}

impl ChildStdin {
    pub(crate) fn new(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            io: Some(register(stdin.into())?),
        })
    }

    fn io(&self) -> io::Result<&Async<File>> {
        self.io.as_ref().ok_or_else(|| {
            io::Error::new(io::ErrorKind::BrokenPipe, "ChildStdin: written after close")
        })
    }

    /// Deregisters the pipe and returns its descriptor in blocking mode, to
    /// hand to another process or to blocking code (asyncio's
    /// `proc.stdin.transport.get_extra_info("pipe")`, detached).
    ///
    /// # Errors
    ///
    /// `BrokenPipe` if the pipe was closed; the OS error if its flags cannot
    /// be changed.
    ///
    /// ```
    /// use corio_io::process::{Command, Stdio};
    /// let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    /// let fd = child.stdin.take().unwrap().into_owned_fd()?;
    /// drop(fd); // cat reads end-of-file and exits
    /// # futures_lite::future::block_on(child.wait())?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn into_owned_fd(mut self) -> io::Result<OwnedFd> {
        match self.io.take() {
            Some(io) => release(io),
            None => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "ChildStdin: already closed",
            )),
        }
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.io() {
            Ok(io) => io.poll_write_with(cx, |mut f| f.write(buf)),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.io() {
            Ok(io) => io.poll_write_with(cx, |mut f| f.write_vectored(bufs)),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe has no user-space buffer.
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Closing the descriptor is what sends end-of-file; a second close
        // finds nothing to do.
        self.io = None;
        Poll::Ready(Ok(()))
    }
}

impl AsRawFd for ChildStdin {
    /// # Panics
    ///
    /// If the pipe was closed with `close()`.
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

impl AsFd for ChildStdin {
    /// # Panics
    ///
    /// If the pipe was closed with `close()`.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io
            .as_ref()
            .expect("ChildStdin::as_fd: the pipe was closed with close()")
            .get_ref()
            .as_fd()
    }
}

impl TryFrom<ChildStdin> for Stdio {
    type Error = io::Error;

    /// The pipe as another child's stdio (see
    /// [`ChildStdin::into_owned_fd`]).
    fn try_from(stdin: ChildStdin) -> io::Result<Stdio> {
        stdin.into_owned_fd().map(Stdio::from)
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.io.as_ref().map(|io| io.as_raw_fd());
        f.debug_struct("ChildStdin").field("fd", &fd).finish()
    }
}

/// Defines a read end: `ChildStdout` and `ChildStderr` differ only in name.
macro_rules! read_end {
    ($(#[$doc:meta])* $name:ident, $std:ty, $field:ident) => {
        $(#[$doc])*
        pub struct $name {
            io: Async<File>,
        }

        impl $name {
            pub(crate) fn new(end: $std) -> io::Result<$name> {
                Ok($name {
                    io: register(end.into())?,
                })
            }

            /// Deregisters the pipe and returns its descriptor in blocking
            /// mode, to hand to another process (see also
            /// `Stdio::try_from`) or to blocking code (asyncio's
            /// `transport.get_extra_info("pipe")`, detached).
            ///
            /// ```
            /// use corio_io::process::{Command, Stdio};
            /// use std::io::Read;
            ///
            /// let mut child = Command::new("sh")
            ///     .args(["-c", "echo x; echo x >&2"])
            #[doc = concat!("    .", stringify!($field), "(Stdio::piped())")]
            ///     .spawn()?;
            #[doc = concat!("let fd = child.", stringify!($field), ".take().unwrap().into_owned_fd()?;")]
            /// let mut text = String::new();
            /// std::fs::File::from(fd).read_to_string(&mut text)?; // blocking is fine now
            /// assert_eq!(text, "x\n");
            /// # futures_lite::future::block_on(child.wait())?;
            /// # std::io::Result::Ok(())
            /// ```
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                release(self.io)
            }
        }

        impl AsyncRead for $name {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read_with(cx, |mut f| f.read(buf))
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                self.io.poll_read_with(cx, |mut f| f.read_vectored(bufs))
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.io.as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }

        impl TryFrom<$name> for Stdio {
            type Error = io::Error;

            /// The pipe as another child's stdio: a shell pipeline.
            fn try_from(end: $name) -> io::Result<Stdio> {
                end.into_owned_fd().map(Stdio::from)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("fd", &self.io.as_raw_fd())
                    .finish()
            }
        }
    };
}

read_end!(
    /// The child's standard output, read by the parent: an [`AsyncRead`]
    /// (asyncio's `proc.stdout`, a `StreamReader`). End-of-file (`Ok(0)`)
    /// once the child (and every process it passed the pipe to) closed it.
    ///
    /// It converts into a [`Stdio`] to feed another child, as a shell
    /// pipeline does:
    ///
    /// ```
    /// use corio_io::process::{Command, Stdio};
    ///
    /// futures_lite::future::block_on(async {
    ///     let mut echo = Command::new("echo").arg("pipeline").stdout(Stdio::piped()).spawn()?;
    ///     let stdout: Stdio = echo.stdout.take().unwrap().try_into()?;
    ///     let out = Command::new("tr").args(["a-z", "A-Z"]).stdin(stdout).output().await?;
    ///     assert_eq!(out.stdout, b"PIPELINE\n");
    ///     echo.wait().await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    ChildStdout,
    std::process::ChildStdout,
    stdout
);

read_end!(
    /// The child's standard error, read by the parent: an [`AsyncRead`]
    /// (asyncio's `proc.stderr`).
    ///
    /// ```
    /// use corio_io::process::{Command, Stdio};
    /// use futures_lite::AsyncReadExt;
    ///
    /// futures_lite::future::block_on(async {
    ///     let mut child = Command::new("sh")
    ///         .args(["-c", "echo oops >&2"])
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let mut err = String::new();
    ///     child.stderr.take().unwrap().read_to_string(&mut err).await?;
    ///     assert_eq!(err, "oops\n");
    ///     child.wait().await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    ChildStderr,
    std::process::ChildStderr,
    stderr
);
