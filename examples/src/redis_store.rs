//! mini-redis's commands and key space, independent of any runtime.
//!
//! A server turns each request [`Frame`] into a [`Command`], asks it for its
//! [`Route`], and then either answers it directly ([`Command::local_reply`]) or
//! locks the shard that owns the key and calls [`Db::apply`]. Which lock guards
//! a [`Db`] is the server's business: corio's `mini_redis` uses `corio::sync::Lock`,
//! its tokio twin `tokio::sync::Mutex`, and both share everything here.
//!
//! Expiry is kept two ways, as Redis does: lazily (a read of an expired key
//! deletes it and reports it missing) and actively (the server runs a timer task
//! that calls [`Db::purge_expired`], which frees expired keys nobody reads again).

use crate::resp::{parse_i64, Frame};
use bytes::Bytes;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// How many shards a server splits its key space into (a power of two).
pub const SHARDS: usize = 16;

/// Most expired keys one [`Db::purge_expired`] call frees, so that a purge
/// holds a shard's lock only briefly.
pub const PURGE_BATCH: usize = 512;

/// Longest a server's purge task sleeps between [`Db::purge_expired`] rounds when
/// no deadline is nearer (keys set meanwhile are still expired lazily on read).
pub const PURGE_IDLE: Duration = Duration::from_millis(100);

/// How long a purge task should sleep after a round whose soonest deadline over
/// all shards was `next` (from [`Db::purge_expired`]).
pub fn purge_wait(next: Option<Instant>, now: Instant) -> Duration {
    next.map_or(PURGE_IDLE, |at| at.saturating_duration_since(now))
        .min(PURGE_IDLE)
}

/// The sooner of two optional deadlines (`None` is "no deadline", not "now").
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The shard (`0..shards`) that owns `key`. FNV-1a: fast on short keys, and the
/// quality is enough to spread `key:000000001234`-style names.
pub fn shard_of(key: &[u8], shards: usize) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % shards as u64) as usize
}

/// A parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `PING [message]`.
    Ping(Option<Bytes>),
    /// `ECHO message`.
    Echo(Bytes),
    /// `SET key value [EX seconds | PX milliseconds] [NX | XX]`.
    Set {
        /// The key.
        key: Bytes,
        /// The value.
        value: Bytes,
        /// Time to live from now, if `EX`/`PX` was given.
        ttl: Option<Duration>,
        /// `NX` (only if missing) or `XX` (only if present).
        condition: Option<SetCondition>,
    },
    /// `GET key`.
    Get(Bytes),
    /// `DEL key [key ...]`.
    Del(Vec<Bytes>),
    /// `INCR key`.
    Incr(Bytes),
    /// `EXPIRE key seconds` (`PEXPIRE key milliseconds` too, in milliseconds).
    Expire(Bytes, i64),
    /// `TTL key` (whole seconds) or `PTTL key` (milliseconds).
    Ttl(Bytes, TtlUnit),
    /// `CONFIG GET parameter`: `redis-benchmark` asks for `save` and `appendonly`.
    ConfigGet(Vec<Bytes>),
    /// `COMMAND ...`: `redis-cli` asks for the command table; we have none to give.
    CommandDocs,
}

/// `SET`'s `NX`/`XX` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCondition {
    /// Only set a key that does not exist.
    IfMissing,
    /// Only set a key that exists.
    IfPresent,
}

/// The unit `TTL`/`PTTL` reply in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtlUnit {
    /// `TTL`.
    Seconds,
    /// `PTTL`.
    Millis,
}

/// Which part of the key space a command touches.
#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// None: answer with [`Command::local_reply`].
    Local,
    /// One key: lock its shard and call [`Db::apply`].
    Key(&'a [u8]),
    /// `DEL`'s keys: lock each key's shard in turn, call [`Db::del`], reply with
    /// the count as [`Frame::Integer`].
    Keys(&'a [Bytes]),
}

fn arity_error(name: &str) -> Frame {
    Frame::error(format!(
        "ERR wrong number of arguments for '{}' command",
        name.to_ascii_lowercase()
    ))
}

fn syntax_error() -> Frame {
    Frame::error("ERR syntax error")
}

fn not_an_integer() -> Frame {
    Frame::error("ERR value is not an integer or out of range")
}

impl Command {
    /// Turns a request frame into a command, or into the error reply to send.
    pub fn from_frame(frame: Frame) -> Result<Command, Frame> {
        let Frame::Array(items) = frame else {
            return Err(Frame::error(
                "ERR Protocol error: expected an array of bulk strings",
            ));
        };
        let mut args = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Frame::Bulk(b) | Frame::Simple(b) => args.push(b),
                _ => {
                    return Err(Frame::error(
                        "ERR Protocol error: expected an array of bulk strings",
                    ))
                }
            }
        }
        let Some((name, args)) = args.split_first() else {
            return Err(Frame::error("ERR empty command"));
        };
        let name = std::str::from_utf8(name)
            .unwrap_or("?")
            .to_ascii_uppercase();
        let n = args.len();
        let arity_ok = match name.as_str() {
            "PING" => n <= 1,
            "ECHO" | "GET" | "INCR" | "TTL" | "PTTL" => n == 1,
            "SET" => n >= 2,
            "DEL" => n >= 1,
            "EXPIRE" | "PEXPIRE" => n == 2,
            "CONFIG" | "COMMAND" => true,
            _ => {
                let shown = String::from_utf8_lossy(&name.as_bytes()[..name.len().min(128)])
                    .to_ascii_lowercase();
                return Err(Frame::error(format!("ERR unknown command '{shown}'")));
            }
        };
        if !arity_ok {
            return Err(arity_error(&name));
        }
        let cmd = match name.as_str() {
            "PING" => Command::Ping(args.first().cloned()),
            "ECHO" => Command::Echo(args[0].clone()),
            "GET" => Command::Get(args[0].clone()),
            "INCR" => Command::Incr(args[0].clone()),
            "TTL" => Command::Ttl(args[0].clone(), TtlUnit::Seconds),
            "PTTL" => Command::Ttl(args[0].clone(), TtlUnit::Millis),
            "DEL" => Command::Del(args.to_vec()),
            "EXPIRE" | "PEXPIRE" => {
                let amount = parse_i64(&args[1]).ok_or_else(not_an_integer)?;
                let millis = if name == "EXPIRE" {
                    amount.checked_mul(1000)
                } else {
                    Some(amount)
                };
                let millis = millis.ok_or_else(|| {
                    Frame::error(format!(
                        "ERR invalid expire time in '{}' command",
                        name.to_ascii_lowercase()
                    ))
                })?;
                Command::Expire(args[0].clone(), millis)
            }
            "SET" => Self::parse_set(args)?,
            "CONFIG" => match args.split_first() {
                Some((sub, params)) if sub.eq_ignore_ascii_case(b"GET") && !params.is_empty() => {
                    Command::ConfigGet(params.to_vec())
                }
                _ => return Err(Frame::error("ERR only CONFIG GET is supported")),
            },
            "COMMAND" => Command::CommandDocs,
            _ => unreachable!("arity checked above"),
        };
        Ok(cmd)
    }

    fn parse_set(args: &[Bytes]) -> Result<Command, Frame> {
        let mut ttl = None;
        let mut condition = None;
        let mut opts = args[2..].iter();
        while let Some(opt) = opts.next() {
            let upper = opt.to_ascii_uppercase();
            match upper.as_slice() {
                b"EX" | b"PX" if ttl.is_none() => {
                    let amount = opts.next().ok_or_else(syntax_error)?;
                    let amount = parse_i64(amount).ok_or_else(not_an_integer)?;
                    let millis = if upper == b"EX" {
                        amount.checked_mul(1000)
                    } else {
                        Some(amount)
                    };
                    match millis {
                        Some(ms) if ms > 0 => ttl = Some(Duration::from_millis(ms as u64)),
                        _ => return Err(Frame::error("ERR invalid expire time in 'set' command")),
                    }
                }
                b"NX" if condition.is_none() => condition = Some(SetCondition::IfMissing),
                b"XX" if condition.is_none() => condition = Some(SetCondition::IfPresent),
                _ => return Err(syntax_error()),
            }
        }
        Ok(Command::Set {
            key: args[0].clone(),
            value: args[1].clone(),
            ttl,
            condition,
        })
    }

    /// Which part of the key space this command needs.
    pub fn route(&self) -> Route<'_> {
        match self {
            Command::Ping(_) | Command::Echo(_) | Command::ConfigGet(_) | Command::CommandDocs => {
                Route::Local
            }
            Command::Set { key, .. }
            | Command::Get(key)
            | Command::Incr(key)
            | Command::Expire(key, _)
            | Command::Ttl(key, _) => Route::Key(key),
            Command::Del(keys) => Route::Keys(keys),
        }
    }

    /// The reply to a [`Route::Local`] command.
    pub fn local_reply(&self) -> Frame {
        match self {
            Command::Ping(None) => Frame::Simple(Bytes::from_static(b"PONG")),
            Command::Ping(Some(msg)) | Command::Echo(msg) => Frame::Bulk(msg.clone()),
            Command::ConfigGet(params) => {
                // The two settings redis-benchmark reads; no persistence here.
                let mut pairs = Vec::new();
                for param in params {
                    let value: &'static [u8] = if param.eq_ignore_ascii_case(b"save") {
                        b""
                    } else if param.eq_ignore_ascii_case(b"appendonly") {
                        b"no"
                    } else {
                        continue;
                    };
                    pairs.push(Frame::Bulk(Bytes::copy_from_slice(
                        &param.to_ascii_lowercase(),
                    )));
                    pairs.push(Frame::Bulk(Bytes::from_static(value)));
                }
                Frame::Array(pairs)
            }
            Command::CommandDocs => Frame::Array(Vec::new()),
            _ => Frame::error("ERR internal error: command needs the key space"),
        }
    }
}

#[derive(Debug)]
struct Entry {
    value: Bytes,
    expires_at: Option<Instant>,
}

/// One shard of the key space: string values with optional expiry.
#[derive(Debug, Default)]
pub struct Db {
    entries: HashMap<Bytes, Entry>,
    /// Keys with a deadline, soonest first, for [`Db::purge_expired`].
    expiring: BTreeSet<(Instant, Bytes)>,
}

impl Db {
    /// An empty shard.
    pub fn new() -> Db {
        Db::default()
    }

    /// Number of keys, expired ones not yet purged included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the shard holds no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The live entry for `key`, deleting it first if it has expired.
    fn live(&mut self, key: &[u8], now: Instant) -> Option<&mut Entry> {
        let expired = match self.entries.get(key) {
            None => return None,
            Some(e) => e.expires_at.is_some_and(|at| at <= now),
        };
        if expired {
            self.remove(key);
            return None;
        }
        self.entries.get_mut(key)
    }

    fn remove(&mut self, key: &[u8]) -> bool {
        match self.entries.remove_entry(key) {
            Some((key, entry)) => {
                if let Some(at) = entry.expires_at {
                    self.expiring.remove(&(at, key));
                }
                true
            }
            None => false,
        }
    }

    fn set_deadline(&mut self, key: &Bytes, deadline: Option<Instant>) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        if let Some(old) = std::mem::replace(&mut entry.expires_at, deadline) {
            self.expiring.remove(&(old, key.clone()));
        }
        if let Some(at) = deadline {
            self.expiring.insert((at, key.clone()));
        }
    }

    /// Deletes `key`; true if it existed (and had not expired).
    pub fn del(&mut self, key: &[u8], now: Instant) -> bool {
        self.live(key, now).is_some() && self.remove(key)
    }

    /// Runs a [`Route::Key`] command against this shard.
    pub fn apply(&mut self, cmd: &Command, now: Instant) -> Frame {
        match cmd {
            Command::Get(key) => match self.live(key, now) {
                Some(e) => Frame::Bulk(e.value.clone()),
                None => Frame::Null,
            },
            Command::Set {
                key,
                value,
                ttl,
                condition,
            } => {
                let exists = self.live(key, now).is_some();
                match condition {
                    Some(SetCondition::IfMissing) if exists => return Frame::Null,
                    Some(SetCondition::IfPresent) if !exists => return Frame::Null,
                    _ => {}
                }
                let deadline = ttl.map(|ttl| now + ttl);
                match self.entries.get_mut(key) {
                    Some(entry) => entry.value = value.clone(),
                    None => {
                        let entry = Entry {
                            value: value.clone(),
                            expires_at: None,
                        };
                        self.entries.insert(key.clone(), entry);
                    }
                }
                // SET without EX/PX clears an old deadline, as in Redis.
                self.set_deadline(key, deadline);
                Frame::ok()
            }
            Command::Incr(key) => {
                let current = match self.live(key, now) {
                    None => 0,
                    Some(e) => match parse_i64(&e.value) {
                        Some(n) => n,
                        None => return not_an_integer(),
                    },
                };
                let Some(next) = current.checked_add(1) else {
                    return Frame::error("ERR increment or decrement would overflow");
                };
                let value = Bytes::from(next.to_string());
                // INCR keeps the key's deadline.
                match self.entries.get_mut(key) {
                    Some(entry) => entry.value = value,
                    None => {
                        let entry = Entry {
                            value,
                            expires_at: None,
                        };
                        self.entries.insert(key.clone(), entry);
                    }
                }
                Frame::Integer(next)
            }
            Command::Expire(key, millis) => {
                if self.live(key, now).is_none() {
                    return Frame::Integer(0);
                }
                if *millis <= 0 {
                    // Redis deletes a key given a deadline in the past.
                    self.remove(key);
                } else {
                    self.set_deadline(key, Some(now + Duration::from_millis(*millis as u64)));
                }
                Frame::Integer(1)
            }
            Command::Ttl(key, unit) => match self.live(key, now) {
                None => Frame::Integer(-2),
                Some(Entry {
                    expires_at: None, ..
                }) => Frame::Integer(-1),
                Some(Entry {
                    expires_at: Some(at),
                    ..
                }) => {
                    let left = at.saturating_duration_since(now).as_millis() as i64;
                    Frame::Integer(match unit {
                        // Rounded to the nearest second, as Redis does.
                        TtlUnit::Seconds => (left + 500) / 1000,
                        TtlUnit::Millis => left,
                    })
                }
            },
            Command::Del(keys) => {
                let n = keys.iter().filter(|k| self.del(k, now)).count();
                Frame::Integer(n as i64)
            }
            other => other.local_reply(),
        }
    }

    /// Frees up to [`PURGE_BATCH`] keys whose deadline has passed, and returns the
    /// next deadline to wake up for (`now` itself when the batch ran out early).
    pub fn purge_expired(&mut self, now: Instant) -> Option<Instant> {
        for _ in 0..PURGE_BATCH {
            let (at, key) = match self.expiring.first() {
                Some((at, _)) if *at > now => return Some(*at),
                Some(_) => self.expiring.pop_first()?,
                None => return None,
            };
            debug_assert!(at <= now);
            self.entries.remove(&key);
        }
        self.expiring.first().map(|(at, _)| (*at).max(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::parse_frame;
    use bytes::BytesMut;

    fn command(line: &str) -> Result<Command, Frame> {
        let mut buf = BytesMut::from(format!("{line}\r\n").as_bytes());
        Command::from_frame(parse_frame(&mut buf).unwrap().unwrap())
    }

    fn run(db: &mut Db, line: &str, now: Instant) -> Frame {
        match command(line) {
            Err(e) => e,
            Ok(cmd) => match cmd.route() {
                Route::Local => cmd.local_reply(),
                Route::Key(_) => db.apply(&cmd, now),
                Route::Keys(keys) => {
                    let n = keys.iter().filter(|k| db.del(k, now)).count();
                    Frame::Integer(n as i64)
                }
            },
        }
    }

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn ping_echo_set_get_del_incr() {
        let now = Instant::now();
        let db = &mut Db::new();
        assert_eq!(
            run(db, "PING", now),
            Frame::Simple(Bytes::from_static(b"PONG"))
        );
        assert_eq!(run(db, "ping hi", now), bulk("hi"));
        assert_eq!(run(db, "ECHO x", now), bulk("x"));
        assert_eq!(run(db, "GET k", now), Frame::Null);
        assert_eq!(run(db, "SET k v", now), Frame::ok());
        assert_eq!(run(db, "get k", now), bulk("v"));
        assert_eq!(run(db, "INCR k", now), not_an_integer());
        assert_eq!(run(db, "INCR n", now), Frame::Integer(1));
        assert_eq!(run(db, "INCR n", now), Frame::Integer(2));
        assert_eq!(run(db, "DEL k n missing", now), Frame::Integer(2));
        assert_eq!(run(db, "GET n", now), Frame::Null);
        assert_eq!(run(db, "SET big 9223372036854775807", now), Frame::ok());
        assert!(matches!(run(db, "INCR big", now), Frame::Error(e) if e.contains("overflow")));
        assert!(db.len() == 1 && !db.is_empty());
    }

    #[test]
    fn set_options() {
        let now = Instant::now();
        let db = &mut Db::new();
        assert_eq!(run(db, "SET k v NX", now), Frame::ok());
        assert_eq!(run(db, "SET k w NX", now), Frame::Null);
        assert_eq!(run(db, "SET k w XX", now), Frame::ok());
        assert_eq!(run(db, "SET other w XX", now), Frame::Null);
        assert_eq!(run(db, "SET k v PX 1500", now), Frame::ok());
        assert_eq!(run(db, "PTTL k", now), Frame::Integer(1500));
        assert_eq!(run(db, "TTL k", now), Frame::Integer(2));
        // A plain SET clears the deadline.
        assert_eq!(run(db, "SET k v", now), Frame::ok());
        assert_eq!(run(db, "TTL k", now), Frame::Integer(-1));
        for bad in [
            "SET k v EX",
            "SET k v EX 0",
            "SET k v EX -1",
            "SET k v EX x",
            "SET k v FOO",
        ] {
            assert!(matches!(run(db, bad, now), Frame::Error(_)), "{bad}");
        }
        assert_eq!(run(db, "SET k v EX 1 PX 1", now), syntax_error());
    }

    #[test]
    fn keys_expire_lazily_and_by_purge() {
        let t0 = Instant::now();
        let db = &mut Db::new();
        assert_eq!(run(db, "SET a 1 EX 10", t0), Frame::ok());
        assert_eq!(run(db, "SET b 1", t0), Frame::ok());
        assert_eq!(run(db, "EXPIRE b 5", t0), Frame::Integer(1));
        assert_eq!(run(db, "EXPIRE missing 5", t0), Frame::Integer(0));
        assert_eq!(run(db, "TTL a", t0), Frame::Integer(10));
        assert_eq!(run(db, "TTL b", t0), Frame::Integer(5));
        assert_eq!(run(db, "TTL missing", t0), Frame::Integer(-2));
        // INCR keeps the deadline.
        assert_eq!(run(db, "INCR b", t0), Frame::Integer(2));
        assert_eq!(run(db, "TTL b", t0), Frame::Integer(5));

        let t6 = t0 + Duration::from_secs(6);
        assert_eq!(run(db, "GET b", t6), Frame::Null, "read of an expired key");
        assert_eq!(run(db, "TTL b", t6), Frame::Integer(-2));
        assert_eq!(db.len(), 1);
        assert_eq!(db.purge_expired(t6), Some(t0 + Duration::from_secs(10)));

        let t11 = t0 + Duration::from_secs(11);
        assert_eq!(db.purge_expired(t11), None);
        assert!(db.is_empty(), "purge freed the key nobody read");

        assert_eq!(run(db, "SET c 1", t0), Frame::ok());
        assert_eq!(run(db, "EXPIRE c 0", t0), Frame::Integer(1));
        assert_eq!(run(db, "GET c", t0), Frame::Null);
    }

    #[test]
    fn purge_works_in_bounded_batches() {
        let t0 = Instant::now();
        let db = &mut Db::new();
        for i in 0..PURGE_BATCH + 10 {
            assert_eq!(run(db, &format!("SET k{i} v PX 5"), t0), Frame::ok());
        }
        let later = t0 + Duration::from_millis(10);
        assert_eq!(db.purge_expired(later), Some(later), "more to do");
        assert_eq!(db.len(), 10);
        assert_eq!(db.purge_expired(later), None);
        assert!(db.is_empty());
    }

    #[test]
    fn errors_are_replies() {
        let now = Instant::now();
        let db = &mut Db::new();
        let cases = [
            ("FLUSHALL", "ERR unknown command 'flushall'"),
            ("GET", "ERR wrong number of arguments for 'get' command"),
            ("GET a b", "ERR wrong number of arguments for 'get' command"),
            ("EXPIRE k x", "ERR value is not an integer or out of range"),
            ("CONFIG SET x y", "ERR only CONFIG GET is supported"),
        ];
        for (line, want) in cases {
            assert_eq!(run(db, line, now), Frame::error(want), "{line}");
        }
        let not_array = Command::from_frame(Frame::Integer(1));
        assert!(matches!(not_array, Err(Frame::Error(_))));
        let nested = Command::from_frame(Frame::Array(vec![Frame::Array(vec![])]));
        assert!(matches!(nested, Err(Frame::Error(_))));
    }

    #[test]
    fn config_get_answers_what_redis_benchmark_asks() {
        let now = Instant::now();
        let db = &mut Db::new();
        assert_eq!(
            run(db, "CONFIG GET save", now),
            Frame::Array(vec![bulk("save"), bulk("")])
        );
        assert_eq!(
            run(db, "config get appendonly", now),
            Frame::Array(vec![bulk("appendonly"), bulk("no")])
        );
        assert_eq!(run(db, "CONFIG GET maxmemory", now), Frame::Array(vec![]));
    }

    #[test]
    fn purge_wait_is_capped() {
        let now = Instant::now();
        assert_eq!(purge_wait(None, now), PURGE_IDLE);
        assert_eq!(purge_wait(Some(now), now), Duration::ZERO);
        let soon = now + Duration::from_millis(3);
        assert_eq!(purge_wait(Some(soon), now), Duration::from_millis(3));
        assert_eq!(
            purge_wait(Some(now + Duration::from_secs(9)), now),
            PURGE_IDLE
        );
        assert_eq!(earliest(None, Some(soon)), Some(soon));
        assert_eq!(earliest(Some(now), Some(soon)), Some(now));
        assert_eq!(earliest(None, None), None);
    }

    #[test]
    fn shards_spread_keys() {
        let mut counts = [0usize; SHARDS];
        for i in 0..16_000 {
            counts[shard_of(format!("key:{i:012}").as_bytes(), SHARDS)] += 1;
        }
        assert!(counts.iter().all(|&c| c > 500), "{counts:?}");
    }
}
