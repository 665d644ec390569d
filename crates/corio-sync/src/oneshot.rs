//! A one-shot channel: one value, sent once, received once (the role an
//! asyncio `Future` plays between two tasks).
//!
//! # Protocol
//!
//! Sender and receiver share one mutex-guarded cell: the value slot, a flag
//! per side saying it is gone, and the receiver's waker. `send` stores the
//! value and takes the waker unless the receiver is gone, in which case the
//! value comes back to the caller. Dropping the sender marks it gone and wakes
//! the receiver, which then reports `RecvError` if no value is there. A value
//! is therefore either received, given back to `send`'s caller, or dropped
//! with the last handle: never lost in between. Values are dropped outside the
//! mutex.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::loom::{Arc, Mutex};

/// The sender was dropped without sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; the sender is still alive.
    Empty,
    /// The sender was dropped without sending (or the value was taken).
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("no value sent yet"),
            TryRecvError::Closed => f.write_str("oneshot channel closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

struct Cell<T> {
    value: Option<T>,
    tx_gone: bool,
    rx_gone: bool,
    rx_waker: Option<Waker>,
}

/// A new channel: the sender sends one value, the receiver awaits it.
///
/// ```
/// # futures_lite::future::block_on(async {
/// let (tx, rx) = corio_sync::oneshot::channel();
/// std::thread::spawn(move || tx.send(42).unwrap());
/// assert_eq!(rx.await, Ok(42));
/// # });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let cell = Arc::new(Mutex::new(Cell {
        value: None,
        tx_gone: false,
        rx_gone: false,
        rx_waker: None,
    }));
    (Sender { cell: cell.clone() }, Receiver { cell })
}

/// The sending half; [`send`](Self::send) consumes it.
pub struct Sender<T> {
    cell: Arc<Mutex<Cell<T>>>,
}

impl<T> Sender<T> {
    /// Sends the value; `Err(value)` if the receiver is already gone.
    ///
    /// ```
    /// let (tx, rx) = corio_sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        let waker = {
            let mut cell = self.cell.lock();
            if cell.rx_gone {
                return Err(value);
            }
            cell.value = Some(value);
            cell.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
        // `Drop` runs next and marks the sender gone; the value is in place.
        Ok(())
    }

    /// True once the receiver was dropped or closed.
    ///
    /// ```
    /// let (tx, rx) = corio_sync::oneshot::channel::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.cell.lock().rx_gone
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut cell = self.cell.lock();
            cell.tx_gone = true;
            cell.rx_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// The receiving half: a future of `Result<T, RecvError>`.
pub struct Receiver<T> {
    cell: Arc<Mutex<Cell<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived.
    ///
    /// ```
    /// use corio_sync::oneshot::{channel, TryRecvError};
    /// let (tx, mut rx) = channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send("x").unwrap();
    /// assert_eq!(rx.try_recv(), Ok("x"));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut cell = self.cell.lock();
        match cell.value.take() {
            Some(v) => Ok(v),
            None if cell.tx_gone => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        }
    }

    /// Refuses the value: a later `send` fails and gives it back. A value
    /// already sent can still be taken with [`try_recv`](Self::try_recv).
    ///
    /// ```
    /// let (tx, mut rx) = corio_sync::oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(5), Err(5));
    /// ```
    pub fn close(&mut self) {
        self.cell.lock().rx_gone = true;
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut cell = self.cell.lock();
        if let Some(v) = cell.value.take() {
            return Poll::Ready(Ok(v));
        }
        if cell.tx_gone {
            return Poll::Ready(Err(RecvError));
        }
        match &mut cell.rx_waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let value = {
            let mut cell = self.cell.lock();
            cell.rx_gone = true;
            cell.rx_waker = None;
            cell.value.take()
        };
        drop(value);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
