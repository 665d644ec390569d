//! Child processes: [`Command`], [`Child`] and its pipes (asyncio's
//! `create_subprocess_exec` and `Process`).
//!
//! # Why here
//!
//! A child is a few descriptors for the I/O driver: its pipes (`Async`
//! descriptors, like sockets) and the thing that says it exited (a pidfd,
//! or the SIGCHLD listener of [`crate::signal`]). Spawning is std's
//! synchronous `fork`/`exec`, and reaping is done by whoever the driver
//! wakes (`reap.rs`), so nothing here needs a runtime's spawn or blocking
//! pool: it lives in corio-io beside the driver and the signals it uses,
//! works under any executor, and the `corio` facade re-exports it as
//! `corio::process`.
//!
//! # Shape
//!
//! [`Command`] wraps `std::process::Command` and keeps its builder methods;
//! only `spawn`, `output` and `status` change, and `kill_on_drop` is added.
//! [`Child`] keeps std's fields and methods with `wait` and
//! `wait_with_output` as futures; its `stdin`, `stdout` and `stderr` are
//! [`ChildStdin`] (`AsyncWrite`), [`ChildStdout`] and [`ChildStderr`]
//! (`AsyncRead`). Reaping needs no thread per child: see `reap.rs` (a pidfd
//! per child on Linux, else one process-wide SIGCHLD listener). A `Child`
//! dropped before it exited is still reaped when it exits, with no task or
//! thread left behind for it.
//!
//! ```
//! use corio_io::process::Command;
//!
//! futures_lite::future::block_on(async {
//!     // asyncio: proc = await asyncio.create_subprocess_exec("echo", "hi",
//!     //              stdout=PIPE); out, _ = await proc.communicate()
//!     let out = Command::new("echo").arg("hi").output().await?;
//!     assert!(out.status.success());
//!     assert_eq!(out.stdout, b"hi\n");
//!     std::io::Result::Ok(())
//! })
//! .unwrap();
//! ```

mod pipe;
mod reap;

use std::ffi::OsStr;
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::AsyncRead;

pub use pipe::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

use reap::Watch;

/// A process builder: `std::process::Command` with `spawn`, `output` and
/// `status` for async code (asyncio's `create_subprocess_exec` arguments).
///
/// Defaults are std's: `spawn` and `status` inherit the parent's stdin,
/// stdout and stderr; `output` pipes stdout and stderr and gives the child
/// an empty stdin, unless set otherwise.
///
/// ```
/// use corio_io::process::{Command, Stdio};
///
/// futures_lite::future::block_on(async {
///     // asyncio: await asyncio.create_subprocess_exec("sh", "-c", "...",
///     //              env={"GREETING": "hi"}, cwd="/", stdout=PIPE)
///     let out = Command::new("sh")
///         .args(["-c", "echo $GREETING from $(pwd)"])
///         .env("GREETING", "hi")
///         .current_dir("/")
///         .stdout(Stdio::piped())
///         .output()
///         .await?;
///     assert_eq!(out.stdout, b"hi from /\n");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Which of stdin, stdout, stderr the caller set, so that `output` can
    /// apply std's defaults to the others for one spawn only.
    stdio_set: [bool; 3],
}

impl Command {
    /// A command that runs `program` with no arguments, the parent's
    /// environment and working directory (std's `Command::new`).
    ///
    /// ```
    /// let cmd = corio_io::process::Command::new("true");
    /// assert_eq!(cmd.as_std().get_program(), "true");
    /// ```
    pub fn new<S: AsRef<OsStr>>(program: S) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds one argument (one of the `*args` of asyncio's
    /// `create_subprocess_exec(program, *args)`).
    ///
    /// ```
    /// let mut cmd = corio_io::process::Command::new("ls");
    /// cmd.arg("-l").arg("/");
    /// assert_eq!(cmd.as_std().get_args().count(), 2);
    /// ```
    pub fn arg<S: AsRef<OsStr>>(&mut self, arg: S) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments (asyncio's `*args`).
    ///
    /// ```
    /// let mut cmd = corio_io::process::Command::new("ls");
    /// cmd.args(["-l", "/"]);
    /// assert_eq!(cmd.as_std().get_args().count(), 2);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child (an entry of asyncio's
    /// `env=`, on top of the inherited environment).
    ///
    /// ```
    /// let mut cmd = corio_io::process::Command::new("env");
    /// cmd.env("MODE", "test");
    /// assert_eq!(cmd.as_std().get_envs().count(), 1);
    /// ```
    pub fn env<K, V>(&mut self, key: K, val: V) -> &mut Command
    where
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables for the child (asyncio's `env=`
    /// entries).
    ///
    /// ```
    /// let mut cmd = corio_io::process::Command::new("env");
    /// cmd.envs([("A", "1"), ("B", "2")]);
    /// assert_eq!(cmd.as_std().get_envs().count(), 2);
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes one variable from the child's environment (asyncio: an
    /// `env=` dict without that key).
    ///
    /// ```
    /// let mut cmd = corio_io::process::Command::new("env");
    /// cmd.env_remove("HOME");
    /// ```
    pub fn env_remove<K: AsRef<OsStr>>(&mut self, key: K) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment plus what `env` adds
    /// (asyncio's `env={...}`, which replaces the environment).
    ///
    /// ```
    /// let mut cmd = corio_io::process::Command::new("env");
    /// cmd.env_clear().env("ONLY", "this");
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory (asyncio's `cwd=`).
    ///
    /// ```
    /// let mut cmd = corio_io::process::Command::new("pwd");
    /// cmd.current_dir("/tmp");
    /// assert_eq!(cmd.as_std().get_current_dir(), Some(std::path::Path::new("/tmp")));
    /// ```
    pub fn current_dir<P: AsRef<Path>>(&mut self, dir: P) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's stdin: [`Stdio::piped`] gives a [`ChildStdin`] in
    /// [`Child::stdin`] (asyncio's `stdin=PIPE`).
    ///
    /// ```
    /// use corio_io::process::{Command, Stdio};
    /// let mut cmd = Command::new("cat");
    /// cmd.stdin(Stdio::null());
    /// ```
    pub fn stdin<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdin(cfg);
        self.stdio_set[0] = true;
        self
    }

    /// Sets the child's stdout: [`Stdio::piped`] gives a [`ChildStdout`] in
    /// [`Child::stdout`] (asyncio's `stdout=PIPE`).
    ///
    /// ```
    /// use corio_io::process::{Command, Stdio};
    /// let mut cmd = Command::new("echo");
    /// cmd.stdout(Stdio::piped());
    /// ```
    pub fn stdout<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stdout(cfg);
        self.stdio_set[1] = true;
        self
    }

    /// Sets the child's stderr: [`Stdio::piped`] gives a [`ChildStderr`] in
    /// [`Child::stderr`] (asyncio's `stderr=PIPE`).
    ///
    /// ```
    /// use corio_io::process::{Command, Stdio};
    /// let mut cmd = Command::new("ls");
    /// cmd.stderr(Stdio::null());
    /// ```
    pub fn stderr<T: Into<Stdio>>(&mut self, cfg: T) -> &mut Command {
        self.std.stderr(cfg);
        self.stdio_set[2] = true;
        self
    }

    /// Whether a [`Child`] spawned from here is killed (`SIGKILL`) when it
    /// is dropped before it exited. Off by default, as in std, where a
    /// dropped child runs on. Either way a dropped child is reaped when it
    /// exits: it does not linger as a zombie.
    ///
    /// asyncio has no such switch; its nearest is killing the process in a
    /// `finally:` block, which is what this does on drop (and so on task
    /// cancellation).
    ///
    /// ```
    /// use corio_io::process::Command;
    ///
    /// futures_lite::future::block_on(async {
    ///     let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn()?;
    ///     drop(child); // killed now, reaped by the driver
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The wrapped std command, to read its settings (asyncio keeps them as
    /// the call's arguments; here they can be inspected).
    ///
    /// ```
    /// let mut cmd = corio_io::process::Command::new("ls");
    /// cmd.arg("/");
    /// assert_eq!(cmd.as_std().get_args().collect::<Vec<_>>(), ["/"]);
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The wrapped std command, for settings this type does not mirror
    /// (`std::os::unix::process::CommandExt`'s `uid`, `process_group`,
    /// `pre_exec`, ...: asyncio's `user=`, `process_group=`,
    /// `preexec_fn=`).
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    /// let mut cmd = corio_io::process::Command::new("true");
    /// cmd.as_std_mut().process_group(0);
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the child (asyncio's `create_subprocess_exec`, without the
    /// `await`: `fork`/`exec` do not block on the child).
    ///
    /// # Errors
    ///
    /// std's spawn errors (program not found, ...), and the OS error if the
    /// pipes or the exit watch cannot be registered with the driver; in
    /// that case the child, already started, is killed and reaped.
    ///
    /// ```
    /// use corio_io::process::Command;
    ///
    /// futures_lite::future::block_on(async {
    ///     let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn()?;
    ///     assert_eq!(child.wait().await?.code(), Some(3));
    ///     assert!(Command::new("/no/such/program").spawn().is_err());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        Child::new(self.std.spawn()?, self.kill_on_drop)
    }

    /// Runs the child to completion and collects its stdout and stderr
    /// (asyncio's `proc.communicate()` after `create_subprocess_exec` with
    /// `stdout=PIPE, stderr=PIPE`).
    ///
    /// As std's `output`: stdout and stderr are piped and stdin is empty
    /// (`Stdio::null`) unless set on this command; those defaults apply to
    /// this run only. The child is started by this call, before the first
    /// poll; if the returned future is dropped early, the child is left to
    /// run (or killed, with [`kill_on_drop`](Self::kill_on_drop)) and reaped
    /// when it exits.
    ///
    /// ```
    /// use corio_io::process::Command;
    ///
    /// futures_lite::future::block_on(async {
    ///     let out = Command::new("sh").args(["-c", "echo out; echo err >&2; exit 1"]).output().await?;
    ///     assert_eq!(out.status.code(), Some(1));
    ///     assert_eq!(out.stdout, b"out\n");
    ///     assert_eq!(out.stderr, b"err\n");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> + Send + 'static {
        let [stdin_set, stdout_set, stderr_set] = self.stdio_set;
        if !stdin_set {
            self.std.stdin(Stdio::null());
        }
        if !stdout_set {
            self.std.stdout(Stdio::piped());
        }
        if !stderr_set {
            self.std.stderr(Stdio::piped());
        }
        let child = self.spawn();
        // Back to what `spawn` and `status` use by default.
        if !stdin_set {
            self.std.stdin(Stdio::inherit());
        }
        if !stdout_set {
            self.std.stdout(Stdio::inherit());
        }
        if !stderr_set {
            self.std.stderr(Stdio::inherit());
        }
        async move { child?.wait_with_output().await }
    }

    /// Runs the child to completion and returns its exit status (asyncio's
    /// `await proc.wait()` right after creating it). The child inherits the
    /// parent's stdin, stdout and stderr unless set otherwise.
    ///
    /// As with [`output`](Self::output), the child is started by this call.
    ///
    /// ```
    /// use corio_io::process::Command;
    ///
    /// futures_lite::future::block_on(async {
    ///     assert!(Command::new("true").status().await?.success());
    ///     assert!(!Command::new("false").status().await?.success());
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + Send + 'static {
        let child = self.spawn();
        async move {
            let mut child = child?;
            // As std's `status`: the child gets no pipe from us unless the
            // caller asked; one it asked for is closed, not read.
            child.stdin = None;
            child.wait().await
        }
    }
}

impl From<std::process::Command> for Command {
    /// Wraps a std command. Stdio set on it before the conversion is not
    /// visible to this wrapper: `output` applies its defaults (piped stdout
    /// and stderr, empty stdin) over it, so set stdio through this type's
    /// methods when calling `output`.
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdio_set: [false; 3],
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}

/// A running or exited child (asyncio's `Process`).
///
/// The pipes the command asked for are in `stdin`, `stdout` and `stderr`;
/// take them out (`Option::take`) to use them while waiting. Dropping a
/// `Child` does not wait for it, and kills it only with
/// [`Command::kill_on_drop`]; either way the child is reaped once it exits
/// (no zombie is left), without a thread.
///
/// ```
/// use corio_io::process::{Command, Stdio};
/// use futures_lite::AsyncReadExt;
///
/// futures_lite::future::block_on(async {
///     // asyncio: proc = await create_subprocess_exec(..., stdout=PIPE)
///     let mut child = Command::new("echo").arg("hello").stdout(Stdio::piped()).spawn()?;
///     let mut line = String::new();
///     // asyncio: await proc.stdout.read()
///     child.stdout.take().unwrap().read_to_string(&mut line).await?;
///     // asyncio: await proc.wait()
///     let status = child.wait().await?;
///     assert!(status.success());
///     assert_eq!(line, "hello\n");
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct Child {
    /// The child's stdin, if the command asked for `Stdio::piped()`.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if the command asked for `Stdio::piped()`.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if the command asked for `Stdio::piped()`.
    pub stderr: Option<ChildStderr>,
    /// `None` only while `Drop` hands it over.
    inner: Option<Inner>,
}

/// What `Child` owns besides the pipes.
struct Inner {
    child: std::process::Child,
    watch: Watch,
    kill_on_drop: bool,
}

impl Child {
    fn new(mut child: std::process::Child, kill_on_drop: bool) -> io::Result<Child> {
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let watch = match Watch::new(child.id()) {
            Ok(watch) => watch,
            Err(e) => {
                // Without a watch this child cannot be reaped later; it is
                // being killed, so a blocking wait is short.
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let mut this = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            inner: Some(Inner {
                child,
                watch,
                kill_on_drop,
            }),
        };
        let pipes = (|| {
            this.stdin = stdin.map(ChildStdin::new).transpose()?;
            this.stdout = stdout.map(ChildStdout::new).transpose()?;
            this.stderr = stderr.map(ChildStderr::new).transpose()?;
            io::Result::Ok(())
        })();
        if let Err(e) = pipes {
            // Dropping `this` kills the child and hands it to the reaper.
            this.inner_mut().kill_on_drop = true;
            return Err(e);
        }
        Ok(this)
    }

    fn inner_mut(&mut self) -> &mut Inner {
        self.inner
            .as_mut()
            .expect("Child: inner state present until drop")
    }

    fn inner(&self) -> &Inner {
        self.inner
            .as_ref()
            .expect("Child: inner state present until drop")
    }

    /// The child's process id (asyncio's `proc.pid`). After the child was
    /// reaped the id may belong to another process.
    ///
    /// ```
    /// let child = corio_io::process::Command::new("true").spawn()?;
    /// assert!(child.id() > 0);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn id(&self) -> u32 {
        self.inner().child.id()
    }

    /// Waits for the child to exit and reaps it (asyncio's `await
    /// proc.wait()`). `stdin` is closed first, as in std and asyncio, so a
    /// child that reads its input to the end does not wait for the parent
    /// forever.
    ///
    /// Cancel-safe: dropping the future leaves the child as it was, and a
    /// later `wait` (or `try_wait`) still reports its status. Once reaped,
    /// every `wait` returns the same status at once.
    ///
    /// Beware of the deadlock std warns about: a child blocked writing to a
    /// full `stdout` pipe that nobody reads never exits. Read the pipes
    /// concurrently, or use [`wait_with_output`](Self::wait_with_output).
    ///
    /// ```
    /// use corio_io::process::Command;
    ///
    /// futures_lite::future::block_on(async {
    ///     let mut child = Command::new("sh").args(["-c", "exit 7"]).spawn()?;
    ///     assert_eq!(child.wait().await?.code(), Some(7));
    ///     assert_eq!(child.wait().await?.code(), Some(7));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.stdin = None;
        let inner = self.inner_mut();
        poll_fn(|cx| reap::poll_wait(&mut inner.child, &mut inner.watch, cx)).await
    }

    /// The child's exit status if it has exited (reaping it), `None` if it
    /// still runs; never blocks (asyncio's `proc.returncode`).
    ///
    /// ```
    /// use corio_io::process::Command;
    ///
    /// let mut child = Command::new("sleep").arg("1000").spawn()?;
    /// assert!(child.try_wait()?.is_none());
    /// child.kill()?;
    /// # futures_lite::future::block_on(child.wait())?;
    /// # std::io::Result::Ok(())
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.inner_mut().child.try_wait()
    }

    /// Kills the child with `SIGKILL` (asyncio's `proc.kill()`); does not
    /// wait for it, just as std's `kill` does not. A child that already
    /// exited and was reaped is not signalled (its pid may be reused) and
    /// `Ok(())` is returned.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use corio_io::process::Command;
    ///
    /// futures_lite::future::block_on(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn()?;
    ///     child.kill()?;
    ///     assert_eq!(child.wait().await?.signal(), Some(libc::SIGKILL));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        let child = &mut self.inner_mut().child;
        match child.try_wait()? {
            Some(_) => Ok(()),
            None => child.kill(),
        }
    }

    /// Sends `signal` to the child (asyncio's `proc.send_signal(sig)`;
    /// `SIGTERM` is asyncio's `proc.terminate()`). A child that already
    /// exited and was reaped is not signalled and `Ok(())` is returned.
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use corio_io::process::Command;
    /// use corio_io::signal::SIGTERM;
    ///
    /// futures_lite::future::block_on(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn()?;
    ///     child.send_signal(SIGTERM)?;
    ///     assert_eq!(child.wait().await?.signal(), Some(SIGTERM));
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn send_signal(&mut self, signal: i32) -> io::Result<()> {
        let child = &mut self.inner_mut().child;
        if child.try_wait()?.is_some() {
            return Ok(());
        }
        let pid = libc::pid_t::try_from(child.id())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
        // SAFETY: kill(2) takes plain integers. The pid is our unreaped
        // child (checked just above, and only we reap it), so it cannot
        // have been reused by another process.
        if unsafe { libc::kill(pid, signal) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits for the child to exit while reading all of its stdout and
    /// stderr (asyncio's `await proc.communicate()` with no input). `stdin`
    /// is closed first. A pipe that was not requested (or was taken out)
    /// yields an empty buffer.
    ///
    /// ```
    /// use corio_io::process::{Command, Stdio};
    ///
    /// futures_lite::future::block_on(async {
    ///     let child = Command::new("sh")
    ///         .args(["-c", "echo to-out; echo to-err >&2"])
    ///         .stdout(Stdio::piped())
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let out = child.wait_with_output().await?;
    ///     assert_eq!(out.stdout, b"to-out\n");
    ///     assert_eq!(out.stderr, b"to-err\n");
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        self.stdin = None;
        let mut stdout = self.stdout.take();
        let mut stderr = self.stderr.take();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        poll_fn(|cx| {
            // Both pipes at once: a child that fills one while we wait on
            // the other would otherwise never finish.
            let out_done = poll_drain(&mut stdout, &mut out, cx)?;
            let err_done = poll_drain(&mut stderr, &mut err, cx)?;
            if out_done && err_done {
                Poll::Ready(io::Result::Ok(()))
            } else {
                Poll::Pending
            }
        })
        .await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }
}

/// Reads `pipe` to end-of-file into `buf`; `Ok(true)` when done (the pipe
/// is then dropped), `Ok(false)` when it must wait.
fn poll_drain<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut Vec<u8>,
    cx: &mut Context<'_>,
) -> io::Result<bool> {
    let Some(reader) = pipe else {
        return Ok(true);
    };
    let mut chunk = [0u8; 8192];
    loop {
        match Pin::new(&mut *reader).poll_read(cx, &mut chunk) {
            Poll::Ready(Ok(0)) => {
                *pipe = None;
                return Ok(true);
            }
            Poll::Ready(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Poll::Ready(Err(e)) => return Err(e),
            Poll::Pending => return Ok(false),
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        if let Ok(Some(_)) | Err(_) = inner.child.try_wait() {
            // Reaped (now or earlier), or not ours to reap any more.
            return;
        }
        if inner.kill_on_drop {
            let _ = inner.child.kill();
        }
        reap::orphan(inner.child, inner.watch);
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Child");
        if let Some(inner) = &self.inner {
            d.field("pid", &inner.child.id())
                .field("watch", &inner.watch.kind())
                .field("kill_on_drop", &inner.kill_on_drop);
        }
        d.field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish()
    }
}

/// Makes every child spawned from now on wait for `SIGCHLD` instead of a
/// pidfd: the reaping path of systems without pidfds, for tests on Linux.
/// Children already spawned keep their watch.
#[doc(hidden)]
pub fn force_sigchld_reaping() {
    reap::force_sigchld();
}
