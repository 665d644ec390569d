//! RESP2, the Redis serialization protocol: parsing requests, encoding replies.
//!
//! A request is an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an
//! *inline* command, one line of space-separated words (`PING\r\n`), which is what
//! `redis-benchmark` sends for its `PING_INLINE` test. [`parse_frame`] takes one
//! complete frame off the front of the read buffer, or leaves the buffer untouched
//! when the frame is not complete yet, so a server loops over it to answer every
//! pipelined request it has read before writing the replies in one go.
//!
//! The parser is pure (no I/O, no runtime), so corio's `mini_redis` and its tokio
//! twin share it byte for byte.

use bytes::{Buf, Bytes, BytesMut};
use std::fmt;

/// Largest bulk string accepted, as Redis's default `proto-max-bulk-len` (512 MiB).
pub const MAX_BULK_LEN: usize = 512 * 1024 * 1024;
/// Largest array accepted (Redis accepts up to `INT_MAX`; one million keeps a
/// hostile `*2000000000\r\n` from reserving gigabytes up front).
pub const MAX_ARRAY_LEN: usize = 1024 * 1024;
/// Longest inline command line, as Redis's `PROTO_INLINE_MAX_SIZE` (64 KiB).
pub const MAX_INLINE_LEN: usize = 64 * 1024;
/// Deepest nesting of arrays accepted; requests are flat, replies nest at most twice.
const MAX_DEPTH: usize = 8;

/// One RESP2 value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// `+OK\r\n`: a status line (no CR or LF inside).
    Simple(Bytes),
    /// `-ERR message\r\n`.
    Error(String),
    /// `:42\r\n`.
    Integer(i64),
    /// `$5\r\nhello\r\n`: binary-safe string.
    Bulk(Bytes),
    /// `$-1\r\n`: the null bulk string (GET of a missing key).
    Null,
    /// `*2\r\n...`: an array of frames.
    Array(Vec<Frame>),
}

/// The request bytes are not RESP; the server replies with an error and closes the
/// connection, as Redis does, since it cannot find where the next request starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub &'static str);

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Protocol error: {}", self.0)
    }
}

impl std::error::Error for ProtocolError {}

impl ProtocolError {
    /// The error reply sent before closing the connection.
    pub fn to_frame(&self) -> Frame {
        Frame::Error(format!("ERR {self}"))
    }
}

impl Frame {
    /// `+OK`.
    pub fn ok() -> Frame {
        Frame::Simple(Bytes::from_static(b"OK"))
    }

    /// An `-ERR ...` reply.
    pub fn error(msg: impl Into<String>) -> Frame {
        Frame::Error(msg.into())
    }

    /// Appends this frame's wire form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Simple(s) => {
                out.push(b'+');
                out.extend_from_slice(s);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Error(e) => {
                out.push(b'-');
                out.extend_from_slice(e.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            Frame::Integer(n) => {
                out.push(b':');
                push_decimal(out, *n);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Bulk(b) => {
                out.push(b'$');
                push_decimal(out, b.len() as i64);
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Frame::Null => out.extend_from_slice(b"$-1\r\n"),
            Frame::Array(items) => {
                out.push(b'*');
                push_decimal(out, items.len() as i64);
                out.extend_from_slice(b"\r\n");
                for item in items {
                    item.encode(out);
                }
            }
        }
    }

    /// This frame's wire form as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Appends `n` in decimal without going through `fmt` (every reply has one).
fn push_decimal(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

/// Takes one complete frame off the front of `buf`.
///
/// - `Ok(Some(frame))`: the frame's bytes were removed from `buf`.
/// - `Ok(None)`: `buf` holds only part of a frame (or nothing); it is left as it
///   was, except that blank inline lines, which Redis ignores, are dropped.
/// - `Err(_)`: the bytes are not RESP; the connection cannot be resynchronised.
pub fn parse_frame(buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
    loop {
        // Redis skips empty inline requests (a bare "\r\n" or "\n", as telnet sends).
        let blank = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if let Some(last_lf) = buf[..blank].iter().rposition(|&b| b == b'\n') {
            buf.advance(last_lf + 1);
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let parsed = if is_type_byte(buf[0]) {
            parse_at(buf, 0, 0)?
        } else {
            parse_inline(buf)?
        };
        match parsed {
            None => return Ok(None),
            // A line of only spaces is blank too.
            Some((Frame::Array(words), end)) if words.is_empty() && !is_type_byte(buf[0]) => {
                buf.advance(end);
            }
            Some((frame, end)) => {
                buf.advance(end);
                return Ok(Some(frame));
            }
        }
    }
}

fn is_type_byte(b: u8) -> bool {
    matches!(b, b'*' | b'$' | b'+' | b'-' | b':')
}

/// The line starting at `pos`, without its CRLF, and the index after the CRLF.
fn line(buf: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(pos..)?;
    let cr = rest.windows(2).position(|w| w == b"\r\n")?;
    Some((&rest[..cr], pos + cr + 2))
}

/// Parses a signed decimal integer, strictly (no sign-only, no spaces, no overflow).
pub fn parse_i64(digits: &[u8]) -> Option<i64> {
    let (negative, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?;
        let d = i64::from(d - b'0');
        n = if negative {
            n.checked_sub(d)?
        } else {
            n.checked_add(d)?
        };
    }
    Some(n)
}

type Parsed = Option<(Frame, usize)>;

fn parse_at(buf: &[u8], pos: usize, depth: usize) -> Result<Parsed, ProtocolError> {
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let Some((body, next)) = line(buf, pos + 1) else {
        // A header line longer than any valid one will never complete.
        if buf.len() - pos > MAX_INLINE_LEN {
            return Err(ProtocolError("too big header line"));
        }
        return Ok(None);
    };
    match kind {
        b'+' => Ok(Some((Frame::Simple(Bytes::copy_from_slice(body)), next))),
        b'-' => {
            let text = String::from_utf8_lossy(body).into_owned();
            Ok(Some((Frame::Error(text), next)))
        }
        b':' => {
            let n = parse_i64(body).ok_or(ProtocolError("invalid integer"))?;
            Ok(Some((Frame::Integer(n), next)))
        }
        b'$' => {
            let len = parse_i64(body).ok_or(ProtocolError("invalid bulk length"))?;
            if len == -1 {
                return Ok(Some((Frame::Null, next)));
            }
            let len = usize::try_from(len)
                .ok()
                .filter(|&len| len <= MAX_BULK_LEN)
                .ok_or(ProtocolError("invalid bulk length"))?;
            let end = next + len;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(ProtocolError("bulk string not terminated by CRLF"));
            }
            let data = Bytes::copy_from_slice(&buf[next..end]);
            Ok(Some((Frame::Bulk(data), end + 2)))
        }
        b'*' => {
            if depth >= MAX_DEPTH {
                return Err(ProtocolError("arrays nested too deep"));
            }
            let len = parse_i64(body).ok_or(ProtocolError("invalid multibulk length"))?;
            if len == -1 {
                return Ok(Some((Frame::Null, next)));
            }
            let len = usize::try_from(len)
                .ok()
                .filter(|&len| len <= MAX_ARRAY_LEN)
                .ok_or(ProtocolError("invalid multibulk length"))?;
            // Reserve for what the buffer can hold at most (a frame is >= 3 bytes),
            // not for what the header claims.
            let mut items = Vec::with_capacity(len.min((buf.len() - next) / 3 + 1));
            let mut pos = next;
            for _ in 0..len {
                match parse_at(buf, pos, depth + 1)? {
                    Some((item, end)) => {
                        items.push(item);
                        pos = end;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Frame::Array(items), pos)))
        }
        _ => Err(ProtocolError("unexpected type byte")),
    }
}

/// An inline command: one line (LF or CRLF terminated) of whitespace-separated
/// words, returned as an array of bulk strings like a multibulk request.
fn parse_inline(buf: &[u8]) -> Result<Parsed, ProtocolError> {
    let Some(lf) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > MAX_INLINE_LEN {
            return Err(ProtocolError("too big inline request"));
        }
        return Ok(None);
    };
    let text = buf[..lf].strip_suffix(b"\r").unwrap_or(&buf[..lf]);
    let words = text
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| Frame::Bulk(Bytes::copy_from_slice(w)))
        .collect();
    Ok(Some((Frame::Array(words), lf + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(Bytes::copy_from_slice(s.as_bytes()))
    }

    fn cmd(words: &[&str]) -> Frame {
        Frame::Array(words.iter().map(|w| bulk(w)).collect())
    }

    fn buf(bytes: &[u8]) -> BytesMut {
        BytesMut::from(bytes)
    }

    #[test]
    fn parses_a_multibulk_command() {
        let mut b = buf(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n");
        assert_eq!(parse_frame(&mut b), Ok(Some(cmd(&["SET", "k", "hello"]))));
        assert!(b.is_empty());
    }

    #[test]
    fn parses_every_type() {
        let mut b =
            buf(b"+OK\r\n-ERR no\r\n:-42\r\n$-1\r\n*-1\r\n$0\r\n\r\n*2\r\n*1\r\n:1\r\n+x\r\n");
        let want = [
            Frame::ok(),
            Frame::error("ERR no"),
            Frame::Integer(-42),
            Frame::Null,
            Frame::Null,
            bulk(""),
            Frame::Array(vec![
                Frame::Array(vec![Frame::Integer(1)]),
                Frame::Simple(Bytes::from_static(b"x")),
            ]),
        ];
        for frame in want {
            assert_eq!(parse_frame(&mut b), Ok(Some(frame)));
        }
        assert_eq!(parse_frame(&mut b), Ok(None));
    }

    #[test]
    fn bulk_strings_are_binary_safe() {
        let mut b = buf(b"$4\r\n\r\n\0\xff\r\n");
        assert_eq!(
            parse_frame(&mut b),
            Ok(Some(Frame::Bulk(Bytes::from_static(b"\r\n\0\xff"))))
        );
    }

    #[test]
    fn every_prefix_of_a_frame_is_incomplete_and_consumes_nothing() {
        let whole: &[u8] = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\n0123456789\r\n";
        for cut in 0..whole.len() {
            let mut b = buf(&whole[..cut]);
            assert_eq!(parse_frame(&mut b), Ok(None), "prefix of {cut} bytes");
            assert_eq!(&b[..], &whole[..cut], "prefix of {cut} bytes was consumed");
        }
        // Fed byte by byte, as a slow client would.
        let mut b = BytesMut::new();
        for (i, &byte) in whole.iter().enumerate() {
            b.extend_from_slice(&[byte]);
            let got = parse_frame(&mut b).unwrap();
            assert_eq!(got.is_some(), i == whole.len() - 1);
        }
    }

    #[test]
    fn pipelined_frames_come_out_one_by_one_in_order() {
        let mut b = BytesMut::new();
        for i in 0..100 {
            cmd(&["INCR", &format!("k{i}")]).encode_into(&mut b);
        }
        b.extend_from_slice(b"PING\r\n*1\r\n$4\r\nPI"); // an inline command, then a partial frame
        for i in 0..100 {
            assert_eq!(
                parse_frame(&mut b),
                Ok(Some(cmd(&["INCR", &format!("k{i}")])))
            );
        }
        assert_eq!(parse_frame(&mut b), Ok(Some(cmd(&["PING"]))));
        assert_eq!(parse_frame(&mut b), Ok(None));
        b.extend_from_slice(b"NG\r\n");
        assert_eq!(parse_frame(&mut b), Ok(Some(cmd(&["PING"]))));
        assert!(b.is_empty());
    }

    #[test]
    fn inline_commands_split_on_whitespace_and_skip_blank_lines() {
        let mut b = buf(b"\r\n\n  SET  k\tv \r\nECHO hi\nPI");
        assert_eq!(parse_frame(&mut b), Ok(Some(cmd(&["SET", "k", "v"]))));
        assert_eq!(parse_frame(&mut b), Ok(Some(cmd(&["ECHO", "hi"]))));
        assert_eq!(parse_frame(&mut b), Ok(None));
        assert_eq!(&b[..], b"PI");
        let mut b = buf(b"\r\n \t \r\n");
        assert_eq!(parse_frame(&mut b), Ok(None));
        assert!(b.is_empty());
        // A lone CR may be the start of a CRLF: kept until the LF arrives.
        let mut b = buf(b"\r\n\r");
        assert_eq!(parse_frame(&mut b), Ok(None));
        assert_eq!(&b[..], b"\r");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let bad: &[&[u8]] = &[
            b"*x\r\n",
            b"*-2\r\n",
            b"*99999999999\r\n",
            b"$-2\r\n",
            b"$abc\r\n",
            b"$3\r\nabcde\r\n",
            b":12a\r\n",
            b":\r\n",
            b":-\r\n",
            b":99999999999999999999\r\n",
            b"*1\r\n!oops\r\n",
            b"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n",
        ];
        for input in bad {
            let mut b = buf(input);
            assert!(
                parse_frame(&mut b).is_err(),
                "{:?} parsed",
                String::from_utf8_lossy(input)
            );
        }
        // Unterminated lines longer than any valid request are rejected too.
        let mut b = BytesMut::from(&vec![b'a'; MAX_INLINE_LEN + 1][..]);
        assert!(parse_frame(&mut b).is_err());
        let mut long_header = BytesMut::from(&b"*"[..]);
        long_header.extend_from_slice(&vec![b'1'; MAX_INLINE_LEN + 1]);
        assert!(parse_frame(&mut long_header).is_err());
    }

    #[test]
    fn a_huge_array_header_does_not_allocate_up_front() {
        let mut b = buf(b"*1000000\r\n$1\r\na\r\n");
        assert_eq!(parse_frame(&mut b), Ok(None));
    }

    #[test]
    fn encodes_what_it_parses() {
        let frames = [
            Frame::ok(),
            Frame::error("ERR x"),
            Frame::Integer(i64::MIN),
            Frame::Integer(0),
            Frame::Integer(1234567890),
            Frame::Null,
            bulk("hello"),
            Frame::Array(vec![bulk("a"), Frame::Integer(-1), Frame::Array(vec![])]),
        ];
        for frame in frames {
            let mut b = BytesMut::from(&frame.to_bytes()[..]);
            assert_eq!(parse_frame(&mut b), Ok(Some(frame)));
            assert!(b.is_empty());
        }
        assert_eq!(Frame::Integer(-7).to_bytes(), b":-7\r\n");
        assert_eq!(bulk("hi").to_bytes(), b"$2\r\nhi\r\n");
    }

    #[test]
    fn parse_i64_is_strict() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        for bad in [&b""[..], b"-", b"+1", b" 1", b"1 ", b"1.0"] {
            assert_eq!(parse_i64(bad), None);
        }
    }

    impl Frame {
        fn encode_into(&self, b: &mut BytesMut) {
            b.extend_from_slice(&self.to_bytes());
        }
    }
}
