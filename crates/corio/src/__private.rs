//! Items the macros and doctests need; not part of the public API.

pub use crate::combinators::maybe_done::MaybeDone;

/// Runs a future to completion on the current thread, parking between polls.
///
/// Only for doctests and tests of the runtime-free combinators; real code uses
/// [`crate::run`] or a runtime's `block_on`.
pub fn block_on_simple<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }

    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // A spurious unpark only costs one extra poll.
        std::thread::park();
    }
}
