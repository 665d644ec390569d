//! Task-local values: `task_local!`, [`LocalKey::scope`], [`LocalKey::with`]
//! (asyncio's `contextvars`, for one tree of futures).
//!
//! How it works: the value lives in the [`TaskLocalFuture`] that `scope`
//! returns. Each time that future is polled it moves the value into a
//! thread-local slot, polls the wrapped future, and moves the value back out
//! (also when the poll panics). So code running inside that poll, on
//! whichever worker the task happens to be, sees the value through
//! [`LocalKey::with`], and nothing else does. The wrapped future is dropped
//! with the value in place too, so its destructors can read it.
//!
//! How it differs from asyncio: `contextvars` copies the *whole context* into
//! every task at `create_task`, so a child task sees its parent's values.
//! Here a value covers exactly the future passed to `scope`: futures polled
//! inside it (`gather!`, `select!`, `race`, awaited calls) see it, but a task
//! spawned from inside does **not** inherit it, since it runs on its own,
//! possibly on another worker. Hand the value on explicitly:
//! `KEY.scope(KEY.get(), child)` before spawning `child`. There is no `set`:
//! a new value is a nested `scope`, which ends with its future, like
//! `ContextVar.reset(token)` at the end of a `with` block.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread::LocalKey as ThreadLocalKey;

use pin_project_lite::pin_project;

/// Declares task-local keys (asyncio's `ContextVar`):
/// `corio::task_local! { static NAME: T; }`.
///
/// Each key is a [`LocalKey<T>`]; give it a value for the run of one future
/// with [`scope`](LocalKey::scope) and read it with
/// [`with`](LocalKey::with), [`try_with`](LocalKey::try_with) or
/// [`get`](LocalKey::get). Several keys, attributes and `pub` are allowed.
///
/// ```
/// corio::task_local! {
///     /// The id of the request being served.
///     pub static REQUEST_ID: u64;
///     static USER: String;
/// }
///
/// async fn log(message: &str) -> String {
///     REQUEST_ID.with(|id| format!("[{id}] {message}"))
/// }
///
/// # corio::run(async {
/// let line = REQUEST_ID.scope(7, log("hello")).await;
/// assert_eq!(line, "[7] hello");
/// assert!(REQUEST_ID.try_with(|id| *id).is_err()); // outside the scope
/// # let _ = &USER;
/// # });
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $ty:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $ty);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $ty:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $ty);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $ty:ty) => {
        $(#[$attr])*
        $vis const $name: $crate::task::LocalKey<$ty> = {
            ::std::thread_local! {
                static __CORIO_TASK_LOCAL: ::std::cell::RefCell<::std::option::Option<$ty>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey::__new(&__CORIO_TASK_LOCAL)
        };
    };
}

/// A task-local key, declared with [`task_local!`](crate::task_local!).
pub struct LocalKey<T: 'static> {
    slot: &'static ThreadLocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn __new(slot: &'static ThreadLocalKey<RefCell<Option<T>>>) -> LocalKey<T> {
        LocalKey { slot }
    }

    /// Runs `future` with this key set to `value` (asyncio: `var.set(value)`
    /// at the start of a context, `var.reset(token)` at its end).
    ///
    /// Inside a scope of the same key, the inner scope's value hides the
    /// outer one until the inner future ends.
    ///
    /// ```
    /// corio::task_local! { static DEPTH: u32; }
    /// # corio::run(async {
    /// let depths = DEPTH
    ///     .scope(1, async {
    ///         let outer = DEPTH.get();
    ///         let inner = DEPTH.scope(2, async { DEPTH.get() }).await;
    ///         (outer, inner, DEPTH.get())
    ///     })
    ///     .await;
    /// assert_eq!(depths, (1, 2, 1));
    /// # });
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            key: self,
            value: Some(value),
            future: Some(future),
            _pinned: PhantomData,
        }
    }

    /// Runs the closure `f` with this key set to `value`, for synchronous
    /// code (the value is dropped when `f` returns).
    ///
    /// ```
    /// corio::task_local! { static NAME: &'static str; }
    /// assert_eq!(NAME.sync_scope("x", || NAME.get()), "x");
    /// ```
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let mut value = Some(value);
        let _guard = self.enter(&mut value);
        f()
    }

    /// Calls `f` with a reference to the current value (asyncio:
    /// `var.get()`).
    ///
    /// # Panics
    ///
    /// Outside any [`scope`](Self::scope) of this key, with a message naming
    /// the misuse; use [`try_with`](Self::try_with) to check.
    ///
    /// ```
    /// corio::task_local! { static LIMIT: usize; }
    /// # corio::run(async {
    /// LIMIT.scope(10, async {
    ///     assert_eq!(LIMIT.with(|limit| limit * 2), 20);
    /// }).await;
    /// # });
    /// ```
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.try_with(f) {
            Ok(r) => r,
            Err(AccessError(())) => panic!(
                "task-local value read outside its scope: wrap the future in `KEY.scope(value, \
                 future)`, and note that spawned tasks do not inherit task-locals"
            ),
        }
    }

    /// Calls `f` with a reference to the current value, or returns
    /// [`AccessError`] outside any [`scope`](Self::scope) of this key
    /// (asyncio: `var.get()` raising `LookupError`).
    ///
    /// ```
    /// corio::task_local! { static TRACE: bool; }
    /// assert!(TRACE.try_with(|t| *t).is_err());
    /// assert_eq!(TRACE.sync_scope(true, || TRACE.try_with(|t| *t)), Ok(true));
    /// ```
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        // A thread being torn down has no slot any more: not in scope either.
        self.slot
            .try_with(|slot| match slot.try_borrow() {
                Ok(value) => value.as_ref().map(f).ok_or(AccessError(())),
                Err(_) => Err(AccessError(())),
            })
            .unwrap_or(Err(AccessError(())))
    }

    /// A clone of the current value (asyncio: `var.get()`).
    ///
    /// # Panics
    ///
    /// Outside any [`scope`](Self::scope) of this key, like
    /// [`with`](Self::with).
    ///
    /// ```
    /// corio::task_local! { static ID: u64; }
    /// # corio::run(async {
    /// // Hand the value on to a spawned task explicitly: it is not inherited.
    /// let id = ID
    ///     .scope(3, async { corio::spawn(ID.scope(ID.get(), async { ID.get() })).await })
    ///     .await;
    /// assert_eq!(id.unwrap(), 3);
    /// # });
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    /// Moves `value` into this thread's slot until the guard drops, which
    /// moves it (or whatever a nested scope left there: the same value) back.
    fn enter<'a>(&'static self, value: &'a mut Option<T>) -> Entered<'a, T> {
        self.slot.with(|slot| {
            let mut slot = slot.try_borrow_mut().unwrap_or_else(|_| {
                panic!("task-local scope entered inside `with` of the same key")
            });
            std::mem::swap(&mut *slot, value);
        });
        Entered { key: self, value }
    }
}

/// Puts the previous value back into the slot when a poll (or drop) inside a
/// scope ends, also by unwinding.
struct Entered<'a, T: 'static> {
    key: &'static LocalKey<T>,
    value: &'a mut Option<T>,
}

impl<T: 'static> Drop for Entered<'_, T> {
    fn drop(&mut self) {
        // `try_with`: at thread exit the slot may already be gone, and then
        // the value stays with the future, which drops it.
        let _ = self.key.slot.try_with(|slot| {
            if let Ok(mut slot) = slot.try_borrow_mut() {
                std::mem::swap(&mut *slot, self.value);
            }
        });
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalKey { .. }")
    }
}

pin_project! {
    /// The future returned by [`LocalKey::scope`]: the wrapped future, run
    /// with the key set.
    #[must_use = "futures do nothing unless awaited"]
    pub struct TaskLocalFuture<T: 'static, F> {
        key: &'static LocalKey<T>,
        // `None` only while the value is in the thread's slot, during a poll.
        value: Option<T>,
        // `None` once finished, so the future is dropped inside the scope.
        #[pin]
        future: Option<F>,
        #[pin]
        _pinned: PhantomData<F>,
    }

    impl<T: 'static, F> PinnedDrop for TaskLocalFuture<T, F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if this.future.is_some() {
                // Drop the wrapped future with the value in scope, so its
                // destructors may read it.
                let _entered = this.key.enter(this.value);
                this.future.set(None);
            }
        }
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let mut this = self.project();
        let _entered = this.key.enter(this.value);
        let Some(future) = this.future.as_mut().as_pin_mut() else {
            panic!("TaskLocalFuture polled after it completed");
        };
        let output = match future.poll(cx) {
            Poll::Ready(output) => output,
            Poll::Pending => return Poll::Pending,
        };
        this.future.set(None);
        Poll::Ready(output)
    }
}

impl<T: 'static + fmt::Debug, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}

/// The error of [`LocalKey::try_with`]: the key has no value here (not
/// inside a [`scope`](LocalKey::scope) of it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AccessError(());

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessError")
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set: not inside a scope of this key")
    }
}

impl Error for AccessError {}
