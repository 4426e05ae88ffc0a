//! `OutputBuffer`: the bytes a [`Transport`](super::Transport) has accepted but the kernel
//! has not yet taken, with the water marks that drive flow control. Pure bookkeeping: this
//! module never touches a socket, never calls the protocol, never drops or reorders a byte,
//! and never lets the buffer grow past its hard limit.
//!
//! Public (hidden) as `readyloop::net::__fuzz::OutputBuffer` so a fuzz target can drive it
//! with arbitrary operation sequences. Its whole API:
//!
//! | call | what it does |
//! |---|---|
//! | `OutputBuffer::new()` | empty; high water [`DEFAULT_HIGH_WATER`] (64 KiB), low water [`DEFAULT_LOW_WATER`] (16 KiB), hard limit `HARD_LIMIT_FACTOR` (16) x high = 1 MiB |
//! | `set_limits(high, low) -> Result<Flow, Error>` | new marks (`low <= high`, `high >= 1`, hard limit = 16 x high); `InvalidInput` otherwise, nothing changed. May pause or resume at once |
//! | `push(&[u8]) -> Result<Flow, Error>` | appends all of it, or (if `len + data.len()` would pass the hard limit) none of it and returns an error: all or nothing |
//! | `front() -> &[u8]` | every pending byte, oldest first, as one slice (what to hand `send`) |
//! | `consume(n) -> (usize, Flow)` | forgets the first `min(n, len)` bytes (what `send` took); returns how many |
//! | `clear() -> Flow` | forgets everything (abort) |
//! | `len()`, `is_empty()`, `capacity()`, `is_paused()`, `high_water()`, `low_water()`, `hard_limit()` | state |
//!
//! [`Flow`] says whether the call crossed a water mark: `Pause` when the length went above
//! high water (from not paused), `Resume` when it fell to low water or below (from paused),
//! `Unchanged` otherwise. Invariants after every call, whatever the sequence:
//! - `len() <= hard_limit()`, and `front()` is exactly the bytes pushed minus the bytes
//!   consumed or cleared, in order;
//! - not paused implies `len() <= high_water()`; paused implies `len() > low_water()`;
//! - `capacity() <= 2 *` the largest hard limit the buffer has had (consumed space is
//!   reused before the Vec grows, so steady traffic allocates nothing).

use crate::error::{Error, ErrorKind};
use alloc::vec::Vec;

/// The default high-water mark: 64 KiB buffered pauses the protocol.
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// The default low-water mark: the protocol resumes once 16 KiB or less is buffered.
pub const DEFAULT_LOW_WATER: usize = 16 * 1024;

/// The hard limit is this many times the high-water mark: a write that would take the buffer
/// past it fails (none of it is buffered).
pub const HARD_LIMIT_FACTOR: usize = 16;

/// Consumed space at the front is reclaimed by moving the rest down once it is at least this
/// large and at least half the buffer (or at once, if it would save a reallocation).
const COMPACT_AT: usize = 4096;

/// Whether a buffer operation crossed a water mark.
///
/// ```
/// use readyloop::net::__fuzz::{Flow, OutputBuffer};
/// let mut b = OutputBuffer::new();
/// b.set_limits(4, 2).unwrap();
/// assert_eq!(b.push(b"hello").unwrap(), Flow::Pause);
/// assert_eq!(b.consume(3), (3, Flow::Resume));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// No water mark was crossed.
    Unchanged,
    /// The buffer went above high water: the producer should pause.
    Pause,
    /// The buffer fell to low water or below: the producer may resume.
    Resume,
}

/// The write buffer of a transport: a `Vec` with a consumed offset, compacted in place, and
/// high/low water marks with hysteresis. See the module header for the full contract.
///
/// ```
/// use readyloop::net::__fuzz::{Flow, OutputBuffer};
/// let mut b = OutputBuffer::new();
/// assert_eq!(b.push(b"Hello").unwrap(), Flow::Unchanged);
/// assert_eq!(b.front(), b"Hello");
/// assert_eq!(b.consume(2), (2, Flow::Unchanged));
/// assert_eq!(b.front(), b"llo");
/// assert_eq!(b.len(), 3);
/// ```
#[derive(Debug)]
pub struct OutputBuffer {
    /// The storage; live bytes are `bytes[start..]`.
    bytes: Vec<u8>,
    /// How many bytes at the front have already been sent.
    start: usize,
    /// Above this many bytes the buffer pauses.
    high: usize,
    /// At or below this many bytes a paused buffer resumes.
    low: usize,
    /// Whether the buffer is paused (went above high, has not yet fallen to low).
    paused: bool,
}

impl Default for OutputBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl OutputBuffer {
    /// An empty buffer with the default marks (64 KiB high, 16 KiB low, 1 MiB hard limit).
    /// Allocates nothing until the first push.
    ///
    /// ```
    /// let b = readyloop::net::__fuzz::OutputBuffer::new();
    /// assert_eq!(b.hard_limit(), 1024 * 1024);
    /// assert!(b.is_empty() && !b.is_paused());
    /// ```
    pub const fn new() -> Self {
        OutputBuffer {
            bytes: Vec::new(),
            start: 0,
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_LOW_WATER,
            paused: false,
        }
    }

    /// Sets the water marks (asyncio's `set_write_buffer_limits`); the hard limit becomes
    /// `HARD_LIMIT_FACTOR * high`. Fails with `InvalidInput`, changing nothing, unless
    /// `1 <= high`, `low <= high`, and the hard limit fits in a `usize`. Already buffered
    /// bytes stay even if they now exceed the new hard limit (only new pushes are refused).
    ///
    /// ```
    /// use readyloop::net::__fuzz::{Flow, OutputBuffer};
    /// let mut b = OutputBuffer::new();
    /// b.push(&[0; 100]).unwrap();
    /// assert_eq!(b.set_limits(50, 10).unwrap(), Flow::Pause);
    /// assert!(b.set_limits(10, 50).is_err());
    /// ```
    pub fn set_limits(&mut self, high: usize, low: usize) -> Result<Flow, Error> {
        if high == 0 || low > high || high.checked_mul(HARD_LIMIT_FACTOR).is_none() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "write buffer limits: need 1 <= high, low <= high, and 16 x high to fit in usize",
            ));
        }
        self.high = high;
        self.low = low;
        Ok(self.update_flow())
    }

    /// Appends all of `data`, or none of it: if the buffer would pass
    /// [`hard_limit`](Self::hard_limit), nothing is added and the error (kind `Other`)
    /// says so. An empty `data` is always fine and changes nothing.
    ///
    /// ```
    /// use readyloop::net::__fuzz::OutputBuffer;
    /// let mut b = OutputBuffer::new();
    /// b.set_limits(1, 0).unwrap(); // hard limit 16
    /// b.push(&[1; 10]).unwrap();
    /// assert!(b.push(&[2; 7]).is_err());
    /// assert_eq!(b.len(), 10);
    /// ```
    pub fn push(&mut self, data: &[u8]) -> Result<Flow, Error> {
        if data.len() > self.hard_limit() - self.len().min(self.hard_limit()) {
            return Err(Error::new(
                ErrorKind::Other,
                "Transport::write: the write buffer would pass its hard limit (16 x the \
                 high-water mark); nothing was written: wait for resume_writing",
            ));
        }
        if data.is_empty() {
            return Ok(Flow::Unchanged);
        }
        let spare = self.bytes.capacity() - self.bytes.len();
        if self.start > 0
            && (data.len() > spare
                || (self.start >= COMPACT_AT && self.start * 2 >= self.bytes.len()))
        {
            self.bytes.drain(..self.start);
            self.start = 0;
        }
        self.bytes.extend_from_slice(data);
        Ok(self.update_flow())
    }

    /// Every pending byte, oldest first.
    ///
    /// ```
    /// let mut b = readyloop::net::__fuzz::OutputBuffer::new();
    /// b.push(b"ab").unwrap();
    /// b.push(b"cd").unwrap();
    /// assert_eq!(b.front(), b"abcd");
    /// ```
    pub fn front(&self) -> &[u8] {
        &self.bytes[self.start..]
    }

    /// Forgets the first `min(n, len)` bytes (the kernel took them); returns how many, and
    /// whether that resumed the buffer. Emptying it resets the offset, so the storage is
    /// reused from the start without moving anything.
    ///
    /// ```
    /// let mut b = readyloop::net::__fuzz::OutputBuffer::new();
    /// b.push(b"abc").unwrap();
    /// assert_eq!(b.consume(10).0, 3);
    /// assert!(b.is_empty());
    /// ```
    pub fn consume(&mut self, n: usize) -> (usize, Flow) {
        let n = n.min(self.len());
        self.start += n;
        if self.start == self.bytes.len() {
            self.bytes.clear();
            self.start = 0;
        }
        (n, self.update_flow())
    }

    /// Forgets everything (what `abort` does); keeps the storage.
    ///
    /// ```
    /// let mut b = readyloop::net::__fuzz::OutputBuffer::new();
    /// b.push(b"abc").unwrap();
    /// b.clear();
    /// assert_eq!(b.len(), 0);
    /// ```
    pub fn clear(&mut self) -> Flow {
        self.bytes.clear();
        self.start = 0;
        self.update_flow()
    }

    /// How many bytes are pending (asyncio's `get_write_buffer_size`).
    ///
    /// ```
    /// assert_eq!(readyloop::net::__fuzz::OutputBuffer::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.bytes.len() - self.start
    }

    /// Whether nothing is pending.
    ///
    /// ```
    /// assert!(readyloop::net::__fuzz::OutputBuffer::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The storage allocated, in bytes (at most twice the largest hard limit set).
    ///
    /// ```
    /// assert_eq!(readyloop::net::__fuzz::OutputBuffer::new().capacity(), 0);
    /// ```
    pub fn capacity(&self) -> usize {
        self.bytes.capacity()
    }

    /// Whether the buffer is paused: it went above high water and has not yet fallen to low
    /// water.
    ///
    /// ```
    /// let mut b = readyloop::net::__fuzz::OutputBuffer::new();
    /// b.set_limits(2, 1).unwrap();
    /// b.push(b"abc").unwrap();
    /// assert!(b.is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// The high-water mark.
    ///
    /// ```
    /// assert_eq!(readyloop::net::__fuzz::OutputBuffer::new().high_water(), 64 * 1024);
    /// ```
    pub fn high_water(&self) -> usize {
        self.high
    }

    /// The low-water mark.
    ///
    /// ```
    /// assert_eq!(readyloop::net::__fuzz::OutputBuffer::new().low_water(), 16 * 1024);
    /// ```
    pub fn low_water(&self) -> usize {
        self.low
    }

    /// The most the buffer accepts: `HARD_LIMIT_FACTOR` (16) times high water.
    ///
    /// ```
    /// assert_eq!(readyloop::net::__fuzz::OutputBuffer::new().hard_limit(), 1 << 20);
    /// ```
    pub fn hard_limit(&self) -> usize {
        self.high * HARD_LIMIT_FACTOR
    }

    /// Re-evaluates the pause state against the marks.
    fn update_flow(&mut self) -> Flow {
        let len = self.len();
        if !self.paused && len > self.high {
            self.paused = true;
            Flow::Pause
        } else if self.paused && len <= self.low {
            self.paused = false;
            Flow::Resume
        } else {
            Flow::Unchanged
        }
    }
}
