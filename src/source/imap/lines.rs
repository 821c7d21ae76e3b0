//! A bound on the length of the lines an IMAP server sends: the connection is read through
//! [`Bounded`], which fails the read once a line grows past the limit without a newline.
//!
//! The IMAP client re-parses its whole buffer on every read until a response is complete, so
//! a line without end costs time in the square of its length (a 64 MB greeting took minutes of
//! CPU): the bound keeps that cost small, and the limit is one of the config's
//! [`crate::config::Limits`].
//!
//! Message bodies come as literals (`{N}` at the end of a line, then N bytes; RFC 3501 §4.3),
//! which the client takes in one piece without re-parsing, and which may hold lines of any
//! length: their bytes are not counted. A literal is believed only in a FETCH response, the
//! one place missive asks for any, where the client's parser too reads it as a literal (or
//! fails at once); elsewhere `{N}` at a line's end is counted as text, so that a server cannot
//! announce a literal the client would not read as one and slip an endless line past the
//! bound.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The error a read fails with, inside an `std::io::Error`, when a line is too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a line longer than {limit} bytes without a newline")]
pub struct TooLong {
    /// The limit, in bytes.
    pub limit: u64,
}

/// The bytes of a line's start that say whether its response is a FETCH:
/// `* 4294967295 FETCH ` is 19.
const HEAD: usize = 24;
/// The bytes of a line's end that may announce a literal: `{` 20 digits `}` CR is 23.
const TAIL: usize = 24;

/// Follows the lines of what a server sends, literals apart, and measures the current one.
#[derive(Debug)]
pub struct Lines {
    limit: u64,
    /// The bytes of the current line so far, literals not counted.
    length: u64,
    /// The first bytes of the current line.
    head: Vec<u8>,
    /// The last bytes of the current line.
    tail: Vec<u8>,
    /// Bytes of a literal still to pass.
    literal: u64,
    /// The current line continues a FETCH response after a literal.
    in_fetch: bool,
}

impl Lines {
    pub fn new(limit: u64) -> Lines {
        Lines {
            limit,
            length: 0,
            head: Vec::with_capacity(HEAD),
            tail: Vec::with_capacity(TAIL * 2),
            literal: 0,
            in_fetch: false,
        }
    }

    /// Takes the next bytes the server sent; fails once the current line is over the limit.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), TooLong> {
        while !bytes.is_empty() {
            if self.literal > 0 {
                let skipped =
                    usize::try_from(self.literal).map_or(bytes.len(), |n| n.min(bytes.len()));
                self.literal -= skipped as u64;
                bytes = &bytes[skipped..];
                continue;
            }
            match memchr::memchr(b'\n', bytes) {
                Some(end) => {
                    self.extend(&bytes[..end])?;
                    self.end_line();
                    bytes = &bytes[end + 1..];
                }
                None => {
                    self.extend(bytes)?;
                    bytes = &[];
                }
            }
        }
        Ok(())
    }

    /// Counts a piece of the current line, keeping its head and tail.
    fn extend(&mut self, piece: &[u8]) -> Result<(), TooLong> {
        self.length = self.length.saturating_add(piece.len() as u64);
        if self.length > self.limit {
            return Err(TooLong { limit: self.limit });
        }
        let room = HEAD - self.head.len();
        self.head.extend_from_slice(&piece[..room.min(piece.len())]);
        self.tail
            .extend_from_slice(&piece[piece.len().saturating_sub(TAIL)..]);
        if self.tail.len() > TAIL {
            self.tail.drain(..self.tail.len() - TAIL);
        }
        Ok(())
    }

    /// A newline: a literal follows when a FETCH response's line ends by announcing one;
    /// otherwise the response is complete.
    fn end_line(&mut self) {
        let in_fetch = self.in_fetch || is_fetch(&self.head);
        match announced(&self.tail).filter(|_| in_fetch) {
            Some(size) => {
                self.literal = size;
                self.in_fetch = true;
            }
            None => self.in_fetch = false,
        }
        self.length = 0;
        self.head.clear();
        self.tail.clear();
    }
}

/// Whether a line starts a FETCH response: `* NUMBER FETCH `, in any case.
fn is_fetch(head: &[u8]) -> bool {
    let Some(rest) = head.strip_prefix(b"* ") else {
        return false;
    };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0
        && rest[digits..]
            .get(..7)
            .is_some_and(|word| word.eq_ignore_ascii_case(b" FETCH "))
}

/// The size of the literal a line's end announces: `{N}` before the newline's CR, if any.
fn announced(tail: &[u8]) -> Option<u64> {
    let tail = tail.strip_suffix(b"\r").unwrap_or(tail);
    let inside = tail.strip_suffix(b"}")?;
    let digits = inside
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let (before, number) = inside.split_at(inside.len() - digits);
    if digits == 0 || !before.ends_with(b"{") {
        return None;
    }
    std::str::from_utf8(number).ok()?.parse().ok()
}

/// A connection whose reads fail once the server sends a line over the limit ([`Lines`]).
#[derive(Debug)]
pub struct Bounded<S> {
    inner: S,
    lines: Lines,
}

impl<S> Bounded<S> {
    pub fn new(inner: S, limit: u64) -> Bounded<S> {
        Bounded {
            inner,
            lines: Lines::new(limit),
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Bounded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        this.lines
            .feed(&buf.filled()[before..])
            .map_err(|too_long| std::io::Error::new(std::io::ErrorKind::InvalidData, too_long))?;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Bounded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fed(limit: u64, pieces: &[&[u8]]) -> Result<(), TooLong> {
        let mut lines = Lines::new(limit);
        pieces.iter().try_for_each(|piece| lines.feed(piece))
    }

    #[test]
    fn a_line_over_the_limit_fails_however_it_is_cut() {
        assert_eq!(fed(10, &[b"* OK 12345"]), Ok(()));
        assert_eq!(fed(10, &[b"* OK 123456"]), Err(TooLong { limit: 10 }));
        assert_eq!(
            fed(10, &[b"* OK ", b"12", b"3456"]),
            Err(TooLong { limit: 10 })
        );
    }

    #[test]
    fn each_newline_starts_the_count_again() {
        assert_eq!(
            fed(10, &[b"* OK 1234\r\n* OK 1234\r\n", b"* OK 12345"]),
            Ok(())
        );
    }

    #[test]
    fn a_fetch_literal_is_not_counted_and_the_line_after_it_is() {
        let body = vec![b'x'; 1000];
        let mut lines = Lines::new(40);
        lines.feed(b"* 12 FETCH (UID 7 BODY[] {1000}\r\n").unwrap();
        lines.feed(&body[..500]).unwrap();
        lines.feed(&body[500..]).unwrap();
        lines
            .feed(b" FLAGS (\\Seen))\r\n* 13 fetch (BODY[] {3}\r\nabc)\r\n")
            .unwrap();
        assert_eq!(lines.feed(&[b'y'; 41]), Err(TooLong { limit: 40 }));
    }

    #[test]
    fn a_literal_announced_outside_a_fetch_is_counted_as_text() {
        let mut lines = Lines::new(40);
        lines.feed(b"* OK hello {99999}\r\n").unwrap();
        assert_eq!(lines.feed(&[b'y'; 41]), Err(TooLong { limit: 40 }));
        let mut lines = Lines::new(40);
        lines.feed(b"* 1 EXISTS {99999}\r\n").unwrap();
        assert_eq!(lines.feed(&[b'y'; 41]), Err(TooLong { limit: 40 }));
    }

    #[test]
    fn announcements_are_read_exactly() {
        assert_eq!(announced(b"BODY[] {42}\r"), Some(42));
        assert_eq!(announced(b"BODY[] {42}"), Some(42));
        assert_eq!(announced(b"BINARY[] ~{0}\r"), Some(0));
        assert_eq!(announced(b"BODY[] {}\r"), None);
        assert_eq!(announced(b"BODY[] 42}\r"), None);
        assert_eq!(announced(b"{99999999999999999999}\r"), None);
        assert!(is_fetch(b"* 4294967295 FETCH (BODY"));
        assert!(!is_fetch(b"* FETCH (BODY"));
        assert!(!is_fetch(b"A0001 OK FETCH done"));
    }
}
