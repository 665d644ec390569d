//! `select!`: the first of several futures of different types to finish,
//! and a branch of code for each.

/// Waits on several futures at once and runs the branch of the first to
/// finish; the other futures are dropped before that branch runs.
///
/// ```text
/// corio::select! {
///     pattern = future => expression,
///     ...
/// }
/// ```
///
/// Each `future` (any `IntoFuture`) is evaluated first, left to right; they
/// then run together inside the current task. The first to finish has its
/// output bound to its `pattern` and its `expression` evaluated, and that
/// value is the value of the whole `select!`; every other future is dropped
/// (cancelled) before the expression runs. Branches are polled in order on
/// every poll, so if several are ready at once the first listed wins: put a
/// shutdown or timeout branch first if it must win over a busy stream.
///
/// The expressions run outside the polling, in the enclosing `async` block:
/// they may `.await`, `return`, `break` or use `?`. Patterns must be
/// irrefutable (`x`, `(a, b)`, `_`); match on the value in the expression
/// instead. A block expression needs no trailing comma.
///
/// asyncio has no direct equivalent: it is `asyncio.wait(...,
/// return_when=FIRST_COMPLETED)`, cancelling the pending tasks and then
/// dispatching on which task finished. For two futures of one output type,
/// [`race`](crate::race()) is simpler.
///
/// ```
/// use std::time::Duration;
/// # corio::run(async {
/// let queue = corio::sync::Queue::<String>::new(0);
/// queue.put_nowait("job".to_string()).unwrap();
/// let message = corio::select! {
///     _ = corio::time::sleep(Duration::from_secs(60)) => None,
///     item = queue.get() => Some(item.unwrap().len()),
/// };
/// assert_eq!(message, Some(3));
/// # });
/// ```
#[macro_export]
macro_rules! select {
    ($($branches:tt)+) => {
        $crate::__select_impl!(@parse [] $($branches)+)
    };
}

/// The body of [`select!`]: parses the branches, gives each future and each
/// output a variable of its own (fresh names through macro hygiene, as in
/// `gather!`), then polls until one is done.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_impl {
    // A branch whose expression is a block: the comma is optional.
    (@parse [$($done:tt)*] $pat:pat = $future:expr => $body:block, $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$($done)* (fut out ($pat) ($future) ($body))] $($rest)*)
    };
    (@parse [$($done:tt)*] $pat:pat = $future:expr => $body:block $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$($done)* (fut out ($pat) ($future) ($body))] $($rest)*)
    };
    // A branch whose expression is not a block: a comma ends it.
    (@parse [$($done:tt)*] $pat:pat = $future:expr => $body:expr, $($rest:tt)*) => {
        $crate::__select_impl!(@parse [$($done)* (fut out ($pat) ($future) ($body))] $($rest)*)
    };
    // The last branch, without a trailing comma.
    (@parse [$($done:tt)*] $pat:pat = $future:expr => $body:expr) => {
        $crate::__select_impl!(@parse [$($done)* (fut out ($pat) ($future) ($body))])
    };
    (@parse [$(($fut:ident $out:ident ($pat:pat) ($future:expr) ($body:expr)))+]) => {{
        // The futures live in this inner block, so the losers are dropped
        // when it ends, before the winning branch's expression runs.
        let ($($out,)+) = {
            $(
                let mut $fut = ::core::pin::pin!(::core::future::IntoFuture::into_future($future));
                let mut $out = ::core::option::Option::None;
            )+
            ::core::future::poll_fn(|cx| {
                $(
                    if let ::core::task::Poll::Ready(output) =
                        ::core::future::Future::poll($fut.as_mut(), cx)
                    {
                        $out = ::core::option::Option::Some(output);
                        return ::core::task::Poll::Ready(());
                    }
                )+
                ::core::task::Poll::Pending
            })
            .await;
            ($($out,)+)
        };
        $crate::__select_impl!(@dispatch $(($out ($pat) ($body)))+)
    }};
    (@dispatch ($out:ident ($pat:pat) ($body:expr)) $($rest:tt)*) => {
        if let ::core::option::Option::Some(output) = $out {
            let $pat = output;
            $body
        } else {
            $crate::__select_impl!(@dispatch $($rest)*)
        }
    };
    (@dispatch) => {
        ::core::unreachable!("select!: one branch finished")
    };
}
