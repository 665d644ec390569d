//! `Event`: asyncio's `Event`, a flag that tasks can wait to become set.
//!
//! # Protocol
//!
//! The flag and the FIFO of waiters sit under one mutex; an `AtomicBool`
//! mirror of the flag lets `is_set()` and an already-set `wait()` skip it.
//! `set()` raises the flag and pops *every* waiter, marking each node
//! `notified` before waking it. A waiter completes when its node says
//! `notified`, whatever the flag says by then, so a `clear()` right after
//! `set()` cannot strand a waiter that was already released. A waiter dropped
//! while still in line unlinks its node; one dropped after `set()` has nothing
//! to pass on, since `set()` releases everyone.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::{AtomicBool, Mutex, Ordering};
use crate::waiters::{Key, WaiterList, WakeList};

/// A flag tasks can wait on: [`set`](Self::set) releases every waiter and the
/// flag stays up until [`clear`](Self::clear).
///
/// ```
/// use corio_sync::Event;
/// # futures_lite::future::block_on(async {
/// let ev = Event::new();
/// assert!(!ev.is_set());
/// ev.set();
/// ev.wait().await; // returns at once: already set
/// # });
/// ```
pub struct Event {
    /// Mirror of `state.set` for lock-free reads; written only under `state`.
    flag: AtomicBool,
    state: Mutex<State>,
}

struct State {
    set: bool,
    /// `true` in a node means "released by `set()`".
    waiters: WaiterList<bool>,
}

impl Event {
    /// A new, clear event.
    ///
    /// ```
    /// assert!(!corio_sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            flag: AtomicBool::new(false),
            state: Mutex::new(State {
                set: false,
                waiters: WaiterList::new(),
            }),
        }
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// ```
    /// let ev = corio_sync::Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    pub fn set(&self) {
        let mut wakes = WakeList::new();
        {
            let mut st = self.state.lock();
            st.set = true;
            // Release: a reader that sees `true` without the mutex also sees
            // everything written before `set()`.
            self.flag.store(true, Ordering::Release);
            while let Some((key, waker)) = st.waiters.pop_front() {
                *st.waiters.data_mut(key) = true;
                wakes.push(waker);
            }
        }
        wakes.wake_all();
    }

    /// Lowers the flag. Waiters already released by `set()` still return.
    ///
    /// ```
    /// let ev = corio_sync::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    pub fn clear(&self) {
        let mut st = self.state.lock();
        st.set = false;
        // Relaxed: written under the mutex, which orders it against `set()`;
        // a lock-free reader seeing a stale `true` just returns early, which
        // is the same as having raced ahead of `clear()`.
        self.flag.store(false, Ordering::Relaxed);
    }

    /// True while the flag is set.
    ///
    /// ```
    /// let ev = corio_sync::Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        // Acquire: pairs with the Release in `set()`.
        self.flag.load(Ordering::Acquire)
    }

    /// Waits until the flag is set; returns at once if it already is.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// use std::sync::Arc;
    /// let ev = Arc::new(corio_sync::Event::new());
    /// let setter = ev.clone();
    /// let t = std::thread::spawn(move || setter.set());
    /// ev.wait().await;
    /// t.join().unwrap();
    /// # });
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            key: None,
            done: false,
        }
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}

/// Future of [`Event::wait`]; dropping it leaves no trace.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct EventWait<'a> {
    event: &'a Event,
    key: Option<Key>,
    done: bool,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        assert!(!this.done, "EventWait polled after completion");
        if this.key.is_none() && this.event.is_set() {
            this.done = true;
            return Poll::Ready(());
        }
        let mut st = this.event.state.lock();
        match this.key {
            None if st.set => {}
            None => {
                this.key = Some(st.waiters.push_back(false, cx.waker().clone()));
                return Poll::Pending;
            }
            Some(key) if *st.waiters.data(key) => {
                st.waiters.remove(key);
                this.key = None;
            }
            Some(key) => {
                st.waiters.set_waker(key, cx.waker());
                return Poll::Pending;
            }
        }
        this.done = true;
        Poll::Ready(())
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.event.state.lock().waiters.remove(key);
        }
    }
}
