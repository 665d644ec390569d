//! The hierarchical timing wheel: a pure data structure, driven by the driver.
//!
//! Time is counted in *ticks* of 1 ms since the driver's epoch. The wheel has
//! [`LEVELS`] levels of 64 slots; a slot of level `l` spans `64^l` ticks, so
//! level 0 holds the next 64 ms one tick per slot, level 1 the next ~4 s in
//! 64 ms slots, and so on. Eleven levels of six bits cover every `u64` tick,
//! so no deadline is ever clamped.
//!
//! # Where an entry lives
//!
//! An entry with deadline `d` goes to the level of the highest six-bit group
//! in which `d` differs from `elapsed` (the tick the wheel has been advanced
//! to), at the slot given by `d`'s value in that group. Two facts follow and
//! the code relies on both:
//!
//! - at every level, each occupied slot lies strictly after the slot
//!   `elapsed` points into, so "the next occupied slot" is found with one
//!   rotate and one `trailing_zeros` on the level's occupancy bitmap;
//! - every deadline at level `l` is later than every deadline at a level
//!   below `l`, so the earliest slot is at the lowest non-empty level.
//!
//! When [`TimerWheel::advance`] reaches a slot of level `l > 0`, `elapsed`
//! moves to the slot's start and its entries are re-linked ("cascade") to the
//! lower levels they now belong to; entries whose deadline has come fire.
//!
//! # Entry lifecycle
//!
//! Entries live in a slab (`Vec` plus free list) and each slot is an intrusive
//! doubly linked list of slab indices, so insert, re-arm and cancel are O(1).
//! A [`TimerKey`] names an entry together with a generation; firing or
//! removing an entry frees its slab slot and bumps the generation, so a key
//! held by a `Sleep` after its entry fired simply stops matching. A cancelled
//! (dropped) `Sleep` removes its entry at once: [`TimerWheel::len`] counts only
//! entries still armed.

use std::task::Waker;

/// Number of levels: `6 * 11 = 66 >= 64` bits, so every tick fits.
pub(crate) const LEVELS: usize = 11;
/// Bits of a tick consumed per level (64 slots).
const SLOT_BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << SLOT_BITS;
/// End of a list / of the free list.
const NIL: u32 = u32::MAX;

/// Names one armed entry; stale once the entry fired or was removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

/// One armed timer, or a free slab slot (`live == false`, `next` links the
/// free list).
struct Entry {
    deadline: u64,
    waker: Option<Waker>,
    prev: u32,
    next: u32,
    generation: u32,
    level: u8,
    slot: u8,
    live: bool,
}

/// One level: the list head of each slot and a bitmap of non-empty slots.
struct Level {
    occupied: u64,
    heads: [u32; SLOTS],
}

/// A hierarchical timing wheel of wakers keyed by deadline tick.
pub(crate) struct TimerWheel {
    elapsed: u64,
    levels: [Level; LEVELS],
    entries: Vec<Entry>,
    free: u32,
    len: usize,
}

impl TimerWheel {
    /// An empty wheel at tick 0.
    pub(crate) fn new() -> TimerWheel {
        TimerWheel {
            elapsed: 0,
            levels: std::array::from_fn(|_| Level {
                occupied: 0,
                heads: [NIL; SLOTS],
            }),
            entries: Vec::new(),
            free: NIL,
            len: 0,
        }
    }

    /// Number of armed entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Arms a timer for `deadline`. Returns `None` when the deadline is not
    /// after the tick the wheel has already reached: such a deadline has
    /// passed and the caller completes at once.
    pub(crate) fn insert(&mut self, deadline: u64, waker: Waker) -> Option<TimerKey> {
        if deadline <= self.elapsed {
            return None;
        }
        let index = self.alloc(deadline, waker);
        self.link(index);
        self.len += 1;
        Some(TimerKey {
            index,
            generation: self.entries[index as usize].generation,
        })
    }

    /// Replaces the waker of a still-armed entry (only if it would wake a
    /// different task). Returns `false` when the key is stale.
    pub(crate) fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> bool {
        match self.entry_mut(key) {
            Some(e) => {
                match &e.waker {
                    Some(old) if old.will_wake(waker) => {}
                    _ => e.waker = Some(waker.clone()),
                }
                true
            }
            None => false,
        }
    }

    /// Disarms an entry. Returns `false` when the key is stale (the entry
    /// already fired or was removed).
    pub(crate) fn remove(&mut self, key: TimerKey) -> bool {
        self.take(key).is_some()
    }

    /// Disarms an entry and hands back its waker, to re-arm it at another
    /// deadline. `None` when the key is stale.
    pub(crate) fn take(&mut self, key: TimerKey) -> Option<Waker> {
        let waker = self.entry_mut(key)?.waker.take();
        self.unlink(key.index);
        self.release(key.index);
        self.len -= 1;
        waker
    }

    /// The tick at which [`advance`](Self::advance) next has work: the
    /// earliest deadline if it sits on level 0, otherwise the start of the
    /// earliest higher-level slot, which must be cascaded then.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_slot().map(|(_, _, start)| start)
    }

    /// Advances the wheel to tick `now`, moving the wakers of every entry
    /// whose deadline is `<= now` into `fired` and freeing those entries.
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Waker>) {
        while let Some((level, slot, start)) = self.next_slot() {
            if start > now {
                break;
            }
            // `start` is the earliest pending slot, so moving `elapsed` there
            // keeps every other entry where it belongs (see the module doc).
            self.elapsed = start;
            let lvl = &mut self.levels[level];
            let mut cur = std::mem::replace(&mut lvl.heads[slot], NIL);
            lvl.occupied &= !(1u64 << slot);
            while cur != NIL {
                let next = self.entries[cur as usize].next;
                let entry = &mut self.entries[cur as usize];
                if entry.deadline <= start {
                    if let Some(w) = entry.waker.take() {
                        fired.push(w);
                    }
                    self.release(cur);
                    self.len -= 1;
                } else {
                    self.link(cur);
                }
                cur = next;
            }
        }
        if now > self.elapsed {
            self.elapsed = now;
        }
    }

    /// The earliest occupied slot: `(level, slot, start tick)`.
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let shift = SLOT_BITS * level as u32;
            let pos = ((self.elapsed >> shift) as usize) & (SLOTS - 1);
            // Occupied slots lie strictly after `pos`; rotating puts `pos` at
            // bit 0, so the distance to the next one is the trailing zeros.
            let dist = lvl.occupied.rotate_right(pos as u32).trailing_zeros() as usize;
            let slot = (pos + dist) & (SLOTS - 1);
            debug_assert!(slot > pos, "wheel invariant: slots lie after elapsed");
            let span_bits = shift + SLOT_BITS;
            let base = if span_bits >= 64 {
                0
            } else {
                self.elapsed & !((1u64 << span_bits) - 1)
            };
            return Some((level, slot, base | ((slot as u64) << shift)));
        }
        None
    }

    /// Links the (unlinked) entry `index` into the slot its deadline belongs
    /// to relative to `elapsed`. Requires `deadline > elapsed`.
    fn link(&mut self, index: u32) {
        let deadline = self.entries[index as usize].deadline;
        debug_assert!(deadline > self.elapsed);
        let differing = (self.elapsed ^ deadline) | (SLOTS as u64 - 1);
        let top_bit = 63 - differing.leading_zeros();
        let level = (top_bit / SLOT_BITS) as usize;
        let slot = ((deadline >> (SLOT_BITS * level as u32)) as usize) & (SLOTS - 1);
        let lvl = &mut self.levels[level];
        let head = lvl.heads[slot];
        lvl.heads[slot] = index;
        lvl.occupied |= 1u64 << slot;
        if head != NIL {
            self.entries[head as usize].prev = index;
        }
        let e = &mut self.entries[index as usize];
        e.prev = NIL;
        e.next = head;
        e.level = level as u8;
        e.slot = slot as u8;
    }

    /// Removes the entry `index` from its slot's list.
    fn unlink(&mut self, index: u32) {
        let (prev, next, level, slot) = {
            let e = &self.entries[index as usize];
            (e.prev, e.next, e.level as usize, e.slot as usize)
        };
        if prev == NIL {
            let lvl = &mut self.levels[level];
            lvl.heads[slot] = next;
            if next == NIL {
                lvl.occupied &= !(1u64 << slot);
            }
        } else {
            self.entries[prev as usize].next = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        }
    }

    fn alloc(&mut self, deadline: u64, waker: Waker) -> u32 {
        if self.free != NIL {
            let index = self.free;
            let e = &mut self.entries[index as usize];
            self.free = e.next;
            e.deadline = deadline;
            e.waker = Some(waker);
            e.live = true;
            index
        } else {
            let index = u32::try_from(self.entries.len()).expect("too many timers");
            assert!(index != NIL, "too many timers");
            self.entries.push(Entry {
                deadline,
                waker: Some(waker),
                prev: NIL,
                next: NIL,
                generation: 0,
                level: 0,
                slot: 0,
                live: true,
            });
            index
        }
    }

    /// Frees an unlinked entry, dropping its waker and invalidating its key.
    fn release(&mut self, index: u32) {
        let e = &mut self.entries[index as usize];
        e.waker = None;
        e.live = false;
        e.generation = e.generation.wrapping_add(1);
        e.next = self.free;
        self.free = index;
    }

    fn entry_mut(&mut self, key: TimerKey) -> Option<&mut Entry> {
        self.entries
            .get_mut(key.index as usize)
            .filter(|e| e.live && e.generation == key.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    /// A waker that records its id into a shared log when woken.
    struct Recorder {
        id: u64,
        log: Arc<parking_lot::Mutex<Vec<u64>>>,
    }
    impl Wake for Recorder {
        fn wake(self: Arc<Self>) {
            self.log.lock().push(self.id);
        }
    }

    fn waker(id: u64, log: &Arc<parking_lot::Mutex<Vec<u64>>>) -> Waker {
        Waker::from(Arc::new(Recorder {
            id,
            log: log.clone(),
        }))
    }

    fn fire(wheel: &mut TimerWheel, now: u64) {
        let mut fired = Vec::new();
        wheel.advance(now, &mut fired);
        fired.into_iter().for_each(Waker::wake);
    }

    #[test]
    fn fires_at_deadline_not_before() {
        let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let mut w = TimerWheel::new();
        for d in [1u64, 5, 63, 64, 65, 100, 4095, 4096, 5000, 300_000] {
            w.insert(d, waker(d, &log)).unwrap();
        }
        let mut now = 0;
        while let Some(next) = w.next_expiration() {
            assert!(next > now);
            // Stepping to just before the next expiration fires nothing new.
            let before = log.lock().len();
            fire(&mut w, next - 1);
            assert_eq!(log.lock().len(), before);
            fire(&mut w, next);
            for &d in log.lock().iter() {
                assert!(d <= next, "fired {d} at {next}");
            }
            now = next;
        }
        assert_eq!(
            *log.lock(),
            vec![1, 5, 63, 64, 65, 100, 4095, 4096, 5000, 300_000]
        );
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn big_jump_fires_everything_due() {
        let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let mut w = TimerWheel::new();
        for d in (1..2000u64).step_by(7) {
            w.insert(d, waker(d, &log));
        }
        w.insert(10_000, waker(10_000, &log));
        fire(&mut w, 1999);
        let fired = log.lock().clone();
        assert_eq!(fired, (1..2000u64).step_by(7).collect::<Vec<_>>());
        assert_eq!(w.len(), 1);
        assert_eq!(w.next_expiration().map(|t| t <= 10_000), Some(true));
        fire(&mut w, 10_000);
        assert_eq!(log.lock().last(), Some(&10_000));
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn remove_frees_and_stales_key() {
        let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let mut w = TimerWheel::new();
        let keys: Vec<_> = (1..=1000u64)
            .map(|d| w.insert(d * 3, waker(d, &log)).unwrap())
            .collect();
        assert_eq!(w.len(), 1000);
        for k in &keys {
            assert!(w.remove(*k));
        }
        assert_eq!(w.len(), 0);
        assert!(!w.remove(keys[0]), "a removed key is stale");
        assert_eq!(w.next_expiration(), None);
        fire(&mut w, 10_000);
        assert!(log.lock().is_empty());
        // Freed slots are reused; old keys stay stale.
        let k = w.insert(20_000, waker(1, &log)).unwrap();
        assert!(!w.set_waker(keys[999], &waker(2, &log)));
        assert!(w.set_waker(k, &waker(3, &log)));
        fire(&mut w, 20_000);
        assert_eq!(*log.lock(), vec![3]);
        assert!(!w.remove(k), "a fired key is stale");
    }

    #[test]
    fn past_deadline_is_refused() {
        let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let mut w = TimerWheel::new();
        fire(&mut w, 50);
        assert!(w.insert(50, waker(0, &log)).is_none());
        assert!(w.insert(49, waker(0, &log)).is_none());
        assert!(w.insert(51, waker(0, &log)).is_some());
    }

    #[test]
    fn far_deadlines_use_top_levels() {
        let count = Arc::new(AtomicUsize::new(0));
        struct Count(Arc<AtomicUsize>);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                // Relaxed: woken and read on this one thread.
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let mut w = TimerWheel::new();
        let far = [1u64 << 40, 1 << 50, u64::MAX - 1, u64::MAX];
        for d in far {
            w.insert(d, Waker::from(Arc::new(Count(count.clone()))))
                .unwrap();
        }
        fire(&mut w, (1 << 40) - 1);
        assert_eq!(count.load(Ordering::Relaxed), 0);
        fire(&mut w, 1 << 40);
        assert_eq!(count.load(Ordering::Relaxed), 1);
        fire(&mut w, u64::MAX - 1);
        assert_eq!(count.load(Ordering::Relaxed), 3);
        fire(&mut w, u64::MAX);
        assert_eq!(count.load(Ordering::Relaxed), 4);
        assert_eq!(w.len(), 0);
    }

    /// Random inserts, removals and advances against a sorted reference.
    #[test]
    fn matches_reference_model() {
        let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let mut w = TimerWheel::new();
        let mut live: Vec<(u64, u64, TimerKey)> = Vec::new(); // (deadline, id, key)
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next_rand = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut now = 0u64;
        let mut id = 0u64;
        for _ in 0..20_000 {
            match next_rand() % 4 {
                0 | 1 => {
                    let span = [70u64, 5000, 300_000][(next_rand() % 3) as usize];
                    let d = now + 1 + next_rand() % span;
                    id += 1;
                    let k = w.insert(d, waker(id, &log)).unwrap();
                    live.push((d, id, k));
                }
                2 if !live.is_empty() => {
                    let i = (next_rand() as usize) % live.len();
                    let (_, _, k) = live.swap_remove(i);
                    assert!(w.remove(k));
                }
                _ => {
                    now += next_rand() % 3000;
                    log.lock().clear();
                    fire(&mut w, now);
                    let mut expect: Vec<u64> = live
                        .iter()
                        .filter(|(d, _, _)| *d <= now)
                        .map(|(_, id, _)| *id)
                        .collect();
                    live.retain(|(d, _, _)| *d > now);
                    let mut got = log.lock().clone();
                    expect.sort_unstable();
                    got.sort_unstable();
                    assert_eq!(got, expect);
                }
            }
            assert_eq!(w.len(), live.len());
        }
    }
}
