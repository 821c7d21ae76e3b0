//! The mbox format: one file of messages, read one message at a time in constant memory,
//! mboxo and mboxrd (RFC 4155), with `>From ` quoting undone. Scanning an mbox is
//! [`crate::source`]'s job, reading one message back at its offset [`crate::store`]'s; both
//! split the file here.
//!
//! A message starts at a `From ` line that opens the file or follows a blank line and looks
//! like a separator (`From sender date` with a time of day), so an unquoted "From here on"
//! in a body does not split a message. One `>` is removed from `>From `, `>>From `, …
//! (mboxrd); a writer of mboxo loses the difference between `From ` and `>From ` and no
//! reader can get it back.
//!
//! Nothing before the first separator is dropped: text there (a file whose first `From `
//! line is malformed, or that has none) is a message of its own at offset 0, without that
//! `From ` line. A line longer than [`MAX_LINE`] bytes stops the split with [`LineTooLong`]:
//! no mail has one, and `/dev/zero` must not take all memory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

/// The longest line an mbox may have, newline included: 16 MiB. RFC 5322 allows 998
/// characters; the longest lines real mail has (HTML or base64 never wrapped) are a few MB.
pub(crate) const MAX_LINE: u64 = 16 << 20;

/// The error (inside an [`std::io::Error`] of kind `InvalidData`) when a line is longer
/// than [`MAX_LINE`].
#[derive(Debug, thiserror::Error)]
#[error("the line at byte {offset} is longer than {} MiB: not an mbox", MAX_LINE >> 20)]
pub(crate) struct LineTooLong {
    pub offset: u64,
}

/// The message whose `From ` line is at `offset` in an mbox file.
pub(crate) fn message_at(path: &std::path::Path, offset: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut split = Splitter::new(BufReader::new(file));
    match split.next_message()? {
        Some((_, raw)) => Ok(raw),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            format!("no message at offset {offset}"),
        )),
    }
}

/// Splits an mbox stream into messages.
pub(crate) struct Splitter<R> {
    input: R,
    offset: u64,
    line: Vec<u8>,
    /// The separator line already read that starts the next message, and its offset.
    next_start: Option<u64>,
    previous_blank: bool,
}

impl<R: BufRead> Splitter<R> {
    pub(crate) fn new(input: R) -> Self {
        Splitter {
            input,
            offset: 0,
            line: Vec::new(),
            next_start: None,
            previous_blank: true,
        }
    }

    /// The next message (without its `From ` line) and the offset of that line.
    pub(crate) fn next_message(&mut self) -> std::io::Result<Option<(u64, Vec<u8>)>> {
        let mut start = self.next_start.take();
        let mut message = Vec::new();
        loop {
            self.line.clear();
            let read = (&mut self.input)
                .take(MAX_LINE + 1)
                .read_until(b'\n', &mut self.line)?;
            if read as u64 > MAX_LINE {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    LineTooLong {
                        offset: self.offset,
                    },
                ));
            }
            if read == 0 {
                return Ok(match start {
                    Some(offset) => Some((offset, trim_separator_blank(message))),
                    None => preamble(message).map(|text| (0, text)),
                });
            }
            let line_offset = self.offset;
            self.offset += read as u64;
            let content = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
            let content = content.strip_suffix(b"\r").unwrap_or(content);
            let is_separator = self.previous_blank && is_from_line(content);
            self.previous_blank = content.is_empty();
            if is_separator {
                match start {
                    Some(offset) => {
                        self.next_start = Some(line_offset);
                        return Ok(Some((offset, trim_separator_blank(message))));
                    }
                    None => {
                        // Text before the first separator is not a message of an mbox; it is
                        // kept as one all the same, so nothing given to us is dropped.
                        if let Some(text) = preamble(std::mem::take(&mut message)) {
                            self.next_start = Some(line_offset);
                            return Ok(Some((0, trim_separator_blank(text))));
                        }
                        start = Some(line_offset);
                        continue;
                    }
                }
            }
            if is_quoted_from(content) {
                message.extend_from_slice(&self.line[1..]);
            } else {
                message.extend_from_slice(&self.line);
            }
        }
    }
}

/// The text before the first separator as a message, without its first line when that is
/// a `From ` line too malformed to be taken for a separator; `None` when it is blank.
fn preamble(mut text: Vec<u8>) -> Option<Vec<u8>> {
    if text.starts_with(b"From ") {
        let end = memchr::memchr(b'\n', &text).map_or(text.len(), |at| at + 1);
        text.drain(..end);
    }
    (!text.iter().all(u8::is_ascii_whitespace)).then_some(text)
}

/// Removes the blank line that precedes the next separator: it belongs to the mbox format,
/// not to the message.
fn trim_separator_blank(mut message: Vec<u8>) -> Vec<u8> {
    if message.ends_with(b"\r\n\r\n") {
        message.truncate(message.len() - 2);
    } else if message.ends_with(b"\n\n") {
        message.truncate(message.len() - 1);
    }
    message
}

/// `From sender date`: a second word and a time of day somewhere after it.
fn is_from_line(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"From ") else {
        return false;
    };
    let mut words = rest.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let (Some(_sender), Some(_)) = (words.next(), words.next()) else {
        return false;
    };
    rest.windows(5).any(|w| {
        w[0].is_ascii_digit()
            && w[1].is_ascii_digit()
            && w[2] == b':'
            && w[3].is_ascii_digit()
            && w[4].is_ascii_digit()
    })
}

fn is_quoted_from(line: &[u8]) -> bool {
    let unquoted = line.iter().position(|&b| b != b'>').unwrap_or(line.len());
    unquoted > 0 && line[unquoted..].starts_with(b"From ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8]) -> Vec<(u64, String)> {
        let mut splitter = Splitter::new(input);
        let mut out = Vec::new();
        while let Some((offset, raw)) = splitter.next_message().unwrap() {
            out.push((offset, String::from_utf8(raw).unwrap()));
        }
        out
    }

    #[test]
    fn messages_are_split_at_from_lines_with_offsets() {
        let mbox = b"From a@example.org Mon Jan  1 00:00:00 2024\nSubject: 1\n\none\n\nFrom b@example.org Tue Jan  2 10:00:00 2024\nSubject: 2\n\ntwo\n";
        let messages = split(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], (0, "Subject: 1\n\none\n".to_string()));
        assert_eq!(messages[1].0, 61);
        assert_eq!(messages[1].1, "Subject: 2\n\ntwo\n");
    }

    #[test]
    fn quoted_from_lines_in_a_body_are_unquoted_once() {
        let mbox = b"From a@x Mon Jan  1 00:00:00 2024\nS: 1\n\n>From the start\n>>From deeper\n";
        assert_eq!(split(mbox)[0].1, "S: 1\n\nFrom the start\n>From deeper\n");
    }

    #[test]
    fn an_unquoted_from_in_a_body_does_not_split_the_message() {
        let mbox = b"From a@x Mon Jan  1 00:00:00 2024\nS: 1\n\nhello\n\nFrom here on we talk\n";
        let messages = split(mbox);
        assert_eq!(messages.len(), 1);
        assert!(messages[0].1.ends_with("From here on we talk\n"));
    }

    #[test]
    fn crlf_mboxes_split_too() {
        let mbox = b"From a@x Mon Jan  1 00:00:00 2024\r\nS: 1\r\n\r\nx\r\n\r\nFrom b@x Mon Jan  1 00:00:01 2024\r\nS: 2\r\n\r\ny\r\n";
        let messages = split(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0].1, "S: 1\r\n\r\nx\r\n");
    }

    #[test]
    fn a_file_without_separator_is_kept_as_one_message_and_an_empty_one_gives_none() {
        assert_eq!(
            split(b"Subject: lone\n\nbody\n"),
            [(0, "Subject: lone\n\nbody\n".to_string())]
        );
        assert!(split(b"").is_empty());
        assert!(split(b"\n\n").is_empty());
    }

    #[test]
    fn a_malformed_first_from_line_does_not_lose_the_first_message() {
        let mbox = b"From MAILER-DAEMON\nSubject: first\n\none\n\nFrom b@x Mon Jan  1 00:00:01 2024\nSubject: second\n\ntwo\n";
        let messages = split(mbox);
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert_eq!(messages[0], (0, "Subject: first\n\none\n".to_string()));
        assert_eq!(messages[1].1, "Subject: second\n\ntwo\n");
        let mut again = Splitter::new(&mbox[..]);
        assert_eq!(again.next_message().unwrap().unwrap().0, 0);
    }

    #[test]
    fn text_before_the_first_separator_is_a_message_of_its_own() {
        let messages = split(b"stray words\n\nFrom a@x Mon Jan  1 00:00:00 2024\nS: 1\n\nx\n");
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[0], (0, "stray words\n".to_string()));
        assert_eq!(messages[1], (13, "S: 1\n\nx\n".to_string()));
        assert_eq!(
            split(b"\n\nFrom a@x Mon Jan  1 00:00:00 2024\nS: 1\n").len(),
            1
        );
    }

    #[test]
    fn a_line_longer_than_the_limit_is_an_error_not_an_allocation_without_end() {
        let mut input = b"From a@x Mon Jan  1 00:00:00 2024\nS: 1\n\n".to_vec();
        input.resize(input.len() + MAX_LINE as usize + 10, b'a');
        let error = Splitter::new(&input[..]).next_message().unwrap_err();
        let inner = error
            .get_ref()
            .and_then(|e| e.downcast_ref::<LineTooLong>());
        assert_eq!(inner.map(|e| e.offset), Some(40), "{error}");
        // A line of exactly the limit is still read.
        let mut input = b"From a@x Mon Jan  1 00:00:00 2024\n".to_vec();
        input.resize(input.len() + MAX_LINE as usize - 1, b'a');
        input.push(b'\n');
        assert_eq!(split(&input).len(), 1);
    }
}
