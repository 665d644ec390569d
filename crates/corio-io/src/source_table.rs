//! The driver's table of registered sources, and the keys that name them.
//!
//! A source's poller key is its slot in a `Slab` plus a *generation*: the
//! number of registrations the table had made before this one, truncated
//! to the key's upper bits. Slots are reused as soon as they are freed, so
//! without the generation an event that the poller reported for a source
//! which was deregistered (and its slot given to a new source) between the
//! wait and the dispatch would land on the new source: bump its readiness
//! tick, wake its waiters, mark its read side closed. With it, the stale
//! key no longer matches the slot's source and the event is dropped.
//!
//! On 64-bit targets the slot takes the low 32 bits and the generation the
//! high 32; a stale event could only be mistaken for a new source's if the
//! same slot were registered again exactly a multiple of 2^32 registrations
//! later, within the one turn that holds the stale event. Slot numbers with
//! every index bit set are never used, so no source key equals
//! [`WAKE_KEY`](crate::wait::WAKE_KEY).

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::task::Waker;

use slab::Slab;

use crate::source::{Direction, Source};
use crate::wait::Event;

/// Bits of a key that hold the slot.
const INDEX_BITS: u32 = usize::BITS / 2;
/// The slot part of a key.
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;

/// Registered sources by key.
#[derive(Default)]
pub(crate) struct SourceTable {
    slots: Slab<Arc<Source>>,
    /// Registrations so far; the next one's generation.
    registrations: u64,
}

impl SourceTable {
    /// An empty table.
    pub(crate) fn new() -> SourceTable {
        SourceTable::default()
    }

    /// Creates and stores the source of `fd` under a fresh key.
    pub(crate) fn insert(&mut self, fd: RawFd) -> io::Result<Arc<Source>> {
        let entry = self.slots.vacant_entry();
        let index = entry.key();
        if index >= INDEX_MASK {
            return Err(io::Error::other(
                "corio-io: too many registered sources for this platform's poller keys",
            ));
        }
        // Truncation intended: the generation keeps the key's upper bits.
        let generation = self.registrations as usize & (usize::MAX >> INDEX_BITS);
        self.registrations += 1;
        let key = (generation << INDEX_BITS) | index;
        let source = Arc::new(Source::new(fd, key));
        entry.insert(source.clone());
        Ok(source)
    }

    /// The source registered under `key`, if it is still the slot's.
    pub(crate) fn get(&self, key: usize) -> Option<&Arc<Source>> {
        self.slots.get(key & INDEX_MASK).filter(|s| s.key == key)
    }

    /// Frees `key`'s slot; a key that no longer holds it is ignored.
    pub(crate) fn remove(&mut self, key: usize) -> Option<Arc<Source>> {
        self.get(key)?;
        Some(self.slots.remove(key & INDEX_MASK))
    }

    /// Number of registered sources.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Readiness into `batch`: each event bumps its source's tick in the
    /// reported directions and moves their waiters into `batch` (see
    /// `source.rs`). Events whose key no longer names a source (freed, or
    /// freed and reused) and the wakeup's own key are skipped.
    pub(crate) fn dispatch(&self, events: impl IntoIterator<Item = Event>, batch: &mut Vec<Waker>) {
        for ev in events {
            let Some(source) = self.get(ev.key) else {
                continue;
            };
            if ev.readable {
                source.fire_edge(Direction::Read, ev.read_closed, batch);
            }
            if ev.writable {
                source.fire(Direction::Write, batch);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::CountWake;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll};

    /// A waiter parked on `source`'s read direction, and its wake count.
    fn park_reader(source: &Source) -> Arc<CountWake> {
        let count = Arc::new(CountWake(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        let r: Poll<std::io::Result<()>> = source.poll_io(Direction::Read, &mut cx, || {
            Err(std::io::ErrorKind::WouldBlock.into())
        });
        assert!(r.is_pending());
        count
    }

    fn readable(key: usize) -> Event {
        Event {
            key,
            readable: true,
            writable: false,
            read_closed: true,
        }
    }

    #[test]
    fn a_stale_event_does_not_reach_the_slots_new_source() {
        let mut table = SourceTable::new();
        let old = table.insert(-1).unwrap();
        let stale = readable(old.key);
        assert!(table.remove(old.key).is_some());
        let new = table.insert(-1).unwrap();
        // The slab reuses the slot; only the generation tells them apart.
        assert_eq!(new.key & INDEX_MASK, old.key & INDEX_MASK);
        assert_ne!(new.key, old.key);
        let waiter = park_reader(&new);
        let mut batch = Vec::new();
        table.dispatch([stale], &mut batch);
        assert!(batch.is_empty(), "a stale event woke the new source");
        // A current event for the new key does wake it.
        table.dispatch([readable(new.key)], &mut batch);
        assert_eq!(batch.len(), 1);
        batch.drain(..).for_each(Waker::wake);
        assert_eq!(waiter.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn keys_never_collide_with_the_wake_key_and_removal_is_exact() {
        let mut table = SourceTable::new();
        let a = table.insert(-1).unwrap();
        let b = table.insert(-1).unwrap();
        assert_ne!(a.key, crate::wait::WAKE_KEY);
        assert!(table.get(crate::wait::WAKE_KEY).is_none());
        assert_eq!(table.len(), 2);
        // Removing with a stale key frees nothing.
        table.remove(a.key).unwrap();
        let c = table.insert(-1).unwrap();
        assert!(table.remove(a.key).is_none());
        assert_eq!(table.len(), 2);
        assert!(Arc::ptr_eq(table.get(c.key).unwrap(), &c));
        assert!(Arc::ptr_eq(table.get(b.key).unwrap(), &b));
    }

    #[test]
    fn a_stale_event_from_the_poller_is_dropped() {
        use crate::wait::{Events, Poller};
        use std::io::Write;
        use std::os::fd::{AsFd, AsRawFd};
        use std::time::{Duration, Instant};

        let poller = Poller::new().unwrap();
        let mut table = SourceTable::new();
        let mut events = Events::with_capacity(8);
        let far = Some(Instant::now() + Duration::from_secs(600));

        // A registered socket becomes readable; the wait harvests its event.
        let (a, mut a_peer) = std::os::unix::net::UnixStream::pair().unwrap();
        let old = table.insert(a.as_raw_fd()).unwrap();
        // SAFETY: `a` stays open until it is deleted below.
        unsafe { poller.add(a.as_fd(), old.key).unwrap() };
        a_peer.write_all(b"x").unwrap();
        poller.wait(&mut events, far).unwrap();
        assert!(events.iter().any(|e| e.key == old.key && e.readable));

        // Before the events are dispatched, the socket is deregistered and
        // closed, and a new one registered in its slot.
        poller.delete(a.as_fd()).unwrap();
        table.remove(old.key).unwrap();
        drop(a);
        let (b, _b_peer) = std::os::unix::net::UnixStream::pair().unwrap();
        let new = table.insert(b.as_raw_fd()).unwrap();
        assert_eq!(new.key & INDEX_MASK, old.key & INDEX_MASK);
        // SAFETY: `b` stays open until it is deleted below.
        unsafe { poller.add(b.as_fd(), new.key).unwrap() };
        let waiter = park_reader(&new);

        let mut batch = Vec::new();
        table.dispatch(events.iter(), &mut batch);
        assert!(batch.is_empty(), "the old socket's event woke the new one");
        batch.drain(..).for_each(Waker::wake);
        assert_eq!(waiter.0.load(Ordering::SeqCst), 0);
        poller.delete(b.as_fd()).unwrap();
    }
}
