//! [`Outcome`]: whether a finished future "raised", for `wait`'s
//! `FirstException` (the only condition that needs to know).

/// Tells [`ReturnWhen::FirstException`](crate::ReturnWhen::FirstException) whether an output is a failure,
/// asyncio's "the task raised".
///
/// A `Result` is a failure when it is an `Err`, or when its `Ok` value is
/// itself a failure: so a [`JoinHandle<Result<T, E>>`](crate::task::JoinHandle)
/// whose task panicked, was cancelled, or returned `Err` all count. Plain
/// values (numbers, strings, `()`, collections, tuples, sockets, files, boxes
/// of those) never fail. Implement this for your own output types to use them
/// with `wait`'s `FirstException` (returning `false` is always a valid choice); for a foreign
/// type without an implementation, map the output into a one-element tuple
/// `(value,)`.
///
/// ```
/// use corio::Outcome;
/// assert!(Err::<i32, &str>("boom").is_exception());
/// assert!(Ok::<Result<(), &str>, ()>(Err("inner")).is_exception());
/// assert!(!Ok::<i32, ()>(7).is_exception());
/// assert!(!42u8.is_exception());
/// ```
pub trait Outcome {
    /// Whether this output is a failure.
    fn is_exception(&self) -> bool;
}

impl<T: Outcome, E> Outcome for Result<T, E> {
    fn is_exception(&self) -> bool {
        match self {
            Ok(value) => value.is_exception(),
            Err(_) => true,
        }
    }
}

impl<T: Outcome> Outcome for Option<T> {
    fn is_exception(&self) -> bool {
        self.as_ref().is_some_and(Outcome::is_exception)
    }
}

impl<T: Outcome + ?Sized> Outcome for Box<T> {
    fn is_exception(&self) -> bool {
        (**self).is_exception()
    }
}

/// Types whose values are never failures.
macro_rules! never_fails {
    ($($ty:ty),* $(,)?) => {
        $(impl Outcome for $ty {
            fn is_exception(&self) -> bool {
                false
            }
        })*
    };
}

never_fails!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    str,
    String,
    std::ffi::OsString,
    std::path::PathBuf,
    std::time::Duration,
    std::time::Instant,
    std::time::SystemTime,
    std::net::SocketAddr,
    std::net::IpAddr,
    std::fs::File,
    std::process::ExitStatus,
    std::process::Output,
    std::net::TcpStream,
    std::net::TcpListener,
    std::net::UdpSocket,
    corio_io::net::TcpStream,
    corio_io::net::TcpListener,
    corio_io::net::UdpSocket,
    corio_io::net::UnixStream,
    corio_io::net::UnixListener,
);

/// Generic containers whose values are never failures (their contents are
/// not inspected).
macro_rules! never_fails_generic {
    ($(<$($param:ident $(: ?$sized:ident)?),+> $ty:ty),* $(,)?) => {
        $(impl<$($param $(: ?$sized)?),+> Outcome for $ty {
            fn is_exception(&self) -> bool {
                false
            }
        })*
    };
}

never_fails_generic!(
    <T> Vec<T>,
    <T> std::collections::VecDeque<T>,
    <K, V> std::collections::HashMap<K, V>,
    <T> std::collections::HashSet<T>,
    <K, V> std::collections::BTreeMap<K, V>,
    <T> std::collections::BTreeSet<T>,
    <T> std::collections::BinaryHeap<T>,
    <T: ?Sized> std::sync::Arc<T>,
    <T: ?Sized> std::rc::Rc<T>,
    <T: ?Sized> std::marker::PhantomData<T>,
);

impl<T, const N: usize> Outcome for [T; N] {
    fn is_exception(&self) -> bool {
        false
    }
}

impl<T: Outcome + ?Sized> Outcome for &T {
    fn is_exception(&self) -> bool {
        (**self).is_exception()
    }
}

/// Tuples never fail (their parts are not inspected); wrapping an output in a
/// one-element tuple is the way to use a foreign type with
/// [`wait`](crate::wait)'s `FirstException`.
macro_rules! never_fails_tuple {
    ($(($($name:ident),+))*) => {
        $(impl<$($name),+> Outcome for ($($name,)+) {
            fn is_exception(&self) -> bool {
                false
            }
        })*
    };
}

never_fails_tuple!((A)(A, B)(A, B, C)(A, B, C, D)(A, B, C, D, E)(
    A, B, C, D, E, G
)(A, B, C, D, E, G, H)(A, B, C, D, E, G, H, I));
