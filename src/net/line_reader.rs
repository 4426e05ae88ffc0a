//! `LineReader`: buffered reading of lines (or of any delimiter) from a stream socket, the
//! native counterpart of `BufReader::new(&stream).lines()`.
//!
//! A line is gathered in the reader's own buffer until its delimiter arrives, and only then
//! moved to the caller: so every operation is cancel-safe, a line that is not UTF-8 is
//! refused without being lost, and memory is bounded by the line limit, whatever the peer
//! sends. This module never grows its buffer past the limit, never drops received bytes,
//! and never waits for more data when a whole line is already buffered.

use super::stream::StreamSocket;
use crate::error::{Error, ErrorKind};
use alloc::string::String;
use alloc::vec::Vec;

/// The longest line a [`LineReader`] takes by default, delimiter included: 64 KiB.
///
/// ```
/// assert_eq!(readyloop::net::DEFAULT_MAX_LINE, 65_536);
/// ```
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// The buffer's first size; it doubles, up to the line limit, only while a line needs it.
const FIRST_CAPACITY: usize = 4 * 1024;

const TOO_LONG: Error = Error::new(
    ErrorKind::LineTooLong,
    "the line is longer than the LineReader's max_line and has no delimiter yet; what came \
     of it is in buffer() (skip it with consume, or raise the limit with with_max_line)",
);

const NOT_UTF8: Error = Error::new(
    ErrorKind::InvalidData,
    "the line is not valid UTF-8; it stays in the LineReader's buffer (take its bytes with \
     read_until, or skip them with consume)",
);

/// Reads lines from a [`StreamSocket`] (a [`TcpStream`](super::TcpStream), a
/// [`UnixStream`](super::UnixStream), or a reference to either), through a buffer.
///
/// - [`read_line`](Self::read_line) appends one line, `\n` included, to a `String`;
/// - [`read_until`](Self::read_until) appends everything up to a delimiter byte to a `Vec`;
/// - [`next_line`](Self::next_line) (and [`lines`](Self::lines)) gives each line without
///   its `\n` or `\r\n`, then `None` at end of file.
///
/// At end of file, a last line without a delimiter is returned as it is (without the
/// delimiter, so `read_line` and `read_until` show it was cut short), and the call after
/// it returns 0 (or `None`). A line longer than the limit ([`DEFAULT_MAX_LINE`], or the
/// one given to [`with_max_line`](Self::with_max_line)) fails with
/// [`ErrorKind::LineTooLong`] once that many bytes are buffered, so a peer sending an
/// endless line costs at most the limit in memory. Every method is cancel-safe: a line
/// moves to the caller only when it is complete, so a dropped read loses nothing.
///
/// Sending while reading: wrap a reference (`LineReader::new(&stream)`) and send on the
/// stream, or reach the stream with [`get_ref`](Self::get_ref).
///
/// ```
/// use readyloop::net::{LineReader, UnixStream};
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = UnixStream::pair(&lp.handle()).unwrap();
/// lp.block_on(async {
///     a.send_all(b"one\r\ntwo\nthree").await.unwrap();
///     drop(a);
///     let mut lines = LineReader::new(&b);
///     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("one"));
///     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("two"));
///     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("three"));
///     assert_eq!(lines.next_line().await.unwrap(), None);
/// });
/// ```
pub struct LineReader<S> {
    stream: S,
    /// Storage; the unread bytes are `buf[pos..end]`, the rest is room to receive into.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    max_line: usize,
}

impl<S: StreamSocket> LineReader<S> {
    /// A reader with the default line limit, [`DEFAULT_MAX_LINE`]. It allocates nothing
    /// until the first read.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (_a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// let reader = readyloop::net::LineReader::new(b);
    /// assert_eq!(reader.max_line(), readyloop::net::DEFAULT_MAX_LINE);
    /// ```
    pub fn new(stream: S) -> Self {
        Self::with_max_line(stream, DEFAULT_MAX_LINE)
    }

    /// A reader whose lines may take at most `max_line` bytes, delimiter included (at
    /// least 1). The buffer never grows past `max(max_line, 4 KiB)`.
    ///
    /// ```
    /// use readyloop::{net::LineReader, ErrorKind};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send_all(b"short\nfar too long for eight\n").await.unwrap();
    ///     let mut reader = LineReader::with_max_line(&b, 8);
    ///     assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("short"));
    ///     let err = reader.next_line().await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::LineTooLong);
    /// });
    /// ```
    pub fn with_max_line(stream: S, max_line: usize) -> Self {
        LineReader {
            stream,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            max_line: max_line.max(1),
        }
    }

    /// The line limit, delimiter included.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (_a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// assert_eq!(readyloop::net::LineReader::with_max_line(b, 80).max_line(), 80);
    /// ```
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Appends bytes up to and including the next `byte` to `out`; resolves to the count
    /// appended. At end of file it appends what is left without a delimiter (0 when
    /// nothing is). Fails with `LineTooLong` when `max_line` bytes come without `byte`.
    ///
    /// Cancellation: safe; `out` is touched only when the call completes.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send_all(b"key\0value\0cut").await.unwrap();
    ///     drop(a);
    ///     let mut reader = readyloop::net::LineReader::new(b);
    ///     let mut out = Vec::new();
    ///     assert_eq!(reader.read_until(0, &mut out).await.unwrap(), 4);
    ///     assert_eq!(reader.read_until(0, &mut out).await.unwrap(), 6);
    ///     assert_eq!(reader.read_until(0, &mut out).await.unwrap(), 3); // no delimiter: cut
    ///     assert_eq!(reader.read_until(0, &mut out).await.unwrap(), 0); // end of file
    ///     assert_eq!(out, b"key\0value\0cut");
    /// });
    /// ```
    pub async fn read_until(&mut self, byte: u8, out: &mut Vec<u8>) -> Result<usize, Error> {
        let len = self.fill_until(byte).await?;
        out.extend_from_slice(&self.buf[self.pos..self.pos + len]);
        self.consume(len);
        Ok(len)
    }

    /// Appends the next line, its `\n` included, to `out`; resolves to the byte count. At
    /// end of file it appends a last line that has no `\n` as it is, then returns 0. A line
    /// that is not valid UTF-8 fails with `InvalidData` and stays in the buffer, so
    /// [`read_until`](Self::read_until) can still take its bytes.
    ///
    /// Cancellation: safe; `out` is touched only when the call completes.
    ///
    /// ```
    /// use readyloop::{net::LineReader, ErrorKind};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send_all(b"caf\xc3\xa9\n\xff\xfe\n").await.unwrap();
    ///     let mut reader = LineReader::new(&b);
    ///     let mut line = String::new();
    ///     reader.read_line(&mut line).await.unwrap();
    ///     assert_eq!(line, "café\n");
    ///     let err = reader.read_line(&mut line).await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::InvalidData);
    ///     let mut raw = Vec::new();
    ///     reader.read_until(b'\n', &mut raw).await.unwrap();
    ///     assert_eq!(raw, b"\xff\xfe\n");
    /// });
    /// ```
    pub async fn read_line(&mut self, out: &mut String) -> Result<usize, Error> {
        let len = self.fill_until(b'\n').await?;
        let line = self.buffered_str(len)?;
        out.push_str(line);
        self.consume(len);
        Ok(len)
    }

    /// The next line without its `\n` (or `\r\n`), or `None` at end of file. Errors as
    /// [`read_line`](Self::read_line)'s.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    ///     let mut reader = readyloop::net::LineReader::new(&b);
    ///     while let Some(line) = reader.next_line().await.unwrap() {
    ///         if line.is_empty() {
    ///             break; // the end of the header
    ///         }
    ///         assert_eq!(line, "GET / HTTP/1.0");
    ///     }
    /// });
    /// ```
    pub async fn next_line(&mut self) -> Result<Option<String>, Error> {
        let len = self.fill_until(b'\n').await?;
        if len == 0 {
            return Ok(None);
        }
        let line = self.buffered_str(len)?;
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = String::from(line.strip_suffix('\r').unwrap_or(line));
        self.consume(len);
        Ok(Some(line))
    }

    /// This reader as a sequence of lines, taken with [`Lines::next_line`].
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send_all(b"a\nb\n").await.unwrap();
    ///     drop(a);
    ///     let mut lines = readyloop::net::LineReader::new(b).lines();
    ///     let mut all = Vec::new();
    ///     while let Some(line) = lines.next_line().await.unwrap() {
    ///         all.push(line);
    ///     }
    ///     assert_eq!(all, ["a", "b"]);
    /// });
    /// ```
    pub fn lines(self) -> Lines<S> {
        Lines { reader: self }
    }

    /// The stream, for sending (receiving on it directly would skip what is buffered).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// let reader = readyloop::net::LineReader::new(b);
    /// lp.block_on(reader.get_ref().send_all(b"reply\n")).unwrap();
    /// # drop(a);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The bytes received and not yet read.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send_all(b"head\nbody").await.unwrap();
    ///     let mut reader = readyloop::net::LineReader::new(&b);
    ///     reader.next_line().await.unwrap();
    ///     // "body" came with the first receive (a pair delivers it in one piece).
    ///     assert_eq!(reader.buffer(), b"body");
    /// });
    /// ```
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Marks `n` buffered bytes as read (all of them if `n` is larger): the way past a line
    /// that failed with `LineTooLong` or `InvalidData`.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send_all(b"0123456789\nok\n").await.unwrap();
    ///     let mut reader = readyloop::net::LineReader::with_max_line(&b, 4);
    ///     assert!(reader.next_line().await.is_err());
    ///     let long = reader.buffer().iter().position(|&c| c == b'\n').unwrap();
    ///     reader.consume(long + 1);
    ///     assert_eq!(reader.next_line().await.unwrap().as_deref(), Some("ok"));
    /// });
    /// ```
    pub fn consume(&mut self, n: usize) {
        self.pos += n.min(self.end - self.pos);
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
    }

    /// The stream and the bytes received but not yet read, so nothing is lost when the
    /// protocol leaves lines (a body after a header, say).
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// lp.block_on(async {
    ///     a.send_all(b"LEN 3\nabc").await.unwrap();
    ///     let mut reader = readyloop::net::LineReader::new(b);
    ///     reader.next_line().await.unwrap();
    ///     let (_stream, rest) = reader.into_parts();
    ///     assert_eq!(rest, b"abc");
    /// });
    /// ```
    pub fn into_parts(mut self) -> (S, Vec<u8>) {
        self.buf.truncate(self.end);
        self.buf.drain(..self.pos);
        (self.stream, self.buf)
    }

    /// The first `len` unread bytes as text, or `InvalidData` (they stay unread).
    fn buffered_str(&self, len: usize) -> Result<&str, Error> {
        core::str::from_utf8(&self.buf[self.pos..self.pos + len]).map_err(|_| NOT_UTF8)
    }

    /// Buffers until `byte` is buffered, or end of file, or `max_line` bytes without it;
    /// resolves to the length of the line at `pos` (delimiter included; what is left at end
    /// of file; 0 at end of file with nothing left).
    async fn fill_until(&mut self, byte: u8) -> Result<usize, Error> {
        let mut scanned = 0;
        loop {
            let unread = &self.buf[self.pos..self.end];
            if let Some(i) = unread[scanned..].iter().position(|&b| b == byte) {
                let len = scanned + i + 1;
                return if len > self.max_line {
                    Err(TOO_LONG)
                } else {
                    Ok(len)
                };
            }
            scanned = unread.len();
            if scanned >= self.max_line {
                return Err(TOO_LONG);
            }
            self.make_room();
            let n = self.stream.recv(&mut self.buf[self.end..]).await?;
            if n == 0 {
                return Ok(self.end - self.pos);
            }
            self.end += n;
        }
    }

    /// Room after `end` to receive into: moves the unread bytes to the front, and grows the
    /// storage (doubling, up to the limit) only when they fill it. Called only while fewer
    /// than `max_line` bytes are unread, so there is always room afterwards.
    fn make_room(&mut self) {
        if self.end < self.buf.len() {
            return;
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            let limit = self.max_line.max(FIRST_CAPACITY);
            let size = (self.buf.len() * 2).clamp(FIRST_CAPACITY, limit);
            self.buf.resize(size, 0);
        }
    }
}

impl<S: core::fmt::Debug> core::fmt::Debug for LineReader<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LineReader")
            .field("stream", &self.stream)
            .field("buffered", &(self.end - self.pos))
            .field("max_line", &self.max_line)
            .finish()
    }
}

/// The lines of a [`LineReader`]; made by [`LineReader::lines`].
///
/// ```
/// let lp = readyloop::Loop::new().unwrap();
/// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
/// let mut lines = readyloop::net::LineReader::new(b).lines();
/// lp.block_on(async {
///     a.send_all(b"x\n").await.unwrap();
///     assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("x"));
/// });
/// ```
#[derive(Debug)]
pub struct Lines<S> {
    reader: LineReader<S>,
}

impl<S: StreamSocket> Lines<S> {
    /// The next line without its `\n` (or `\r\n`), or `None` at end of file; see
    /// [`LineReader::next_line`].
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// drop(a);
    /// let mut lines = readyloop::net::LineReader::new(b).lines();
    /// assert_eq!(lp.block_on(lines.next_line()).unwrap(), None);
    /// ```
    pub async fn next_line(&mut self) -> Result<Option<String>, Error> {
        self.reader.next_line().await
    }

    /// The reader back, with whatever it has buffered.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let (_a, b) = readyloop::net::UnixStream::pair(&lp.handle()).unwrap();
    /// let reader = readyloop::net::LineReader::new(b).lines().into_inner();
    /// assert!(reader.buffer().is_empty());
    /// ```
    pub fn into_inner(self) -> LineReader<S> {
        self.reader
    }
}
