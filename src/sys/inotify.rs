//! inotify(7) syscalls and the decoding of the event records `read(2)` returns.
//!
//! The fd is made non-blocking and close-on-exec; the reading itself goes through the loop
//! like any other fd. Decoding is plain byte slicing (no pointer casts), and a record cut
//! short is refused rather than read past the buffer's end.

use rustix::fd::{BorrowedFd, OwnedFd};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;
use std::path::Path;

/// The event bits, as the kernel spells them (`IN_*`).
pub(crate) mod bits {
    use super::{ReadFlags, WatchFlags};
    pub(crate) const ACCESS: u32 = WatchFlags::ACCESS.bits();
    pub(crate) const ATTRIB: u32 = WatchFlags::ATTRIB.bits();
    pub(crate) const CLOSE_WRITE: u32 = WatchFlags::CLOSE_WRITE.bits();
    pub(crate) const CLOSE_NOWRITE: u32 = WatchFlags::CLOSE_NOWRITE.bits();
    pub(crate) const CREATE: u32 = WatchFlags::CREATE.bits();
    pub(crate) const DELETE: u32 = WatchFlags::DELETE.bits();
    pub(crate) const DELETE_SELF: u32 = WatchFlags::DELETE_SELF.bits();
    pub(crate) const MODIFY: u32 = WatchFlags::MODIFY.bits();
    pub(crate) const MOVE_SELF: u32 = WatchFlags::MOVE_SELF.bits();
    pub(crate) const MOVED_FROM: u32 = WatchFlags::MOVED_FROM.bits();
    pub(crate) const MOVED_TO: u32 = WatchFlags::MOVED_TO.bits();
    pub(crate) const OPEN: u32 = WatchFlags::OPEN.bits();
    pub(crate) const IGNORED: u32 = ReadFlags::IGNORED.bits();
    pub(crate) const ISDIR: u32 = ReadFlags::ISDIR.bits();
    pub(crate) const Q_OVERFLOW: u32 = ReadFlags::QUEUE_OVERFLOW.bits();
    pub(crate) const UNMOUNT: u32 = ReadFlags::UNMOUNT.bits();
}

/// The size of `struct inotify_event` before its name.
pub(crate) const HEADER_LEN: usize = 16;

/// Room for at least one record with the longest name (`NAME_MAX` 255 + NUL).
pub(crate) const MIN_BUFFER: usize = HEADER_LEN + 256;

/// `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`.
pub(crate) fn init() -> Result<OwnedFd, Errno> {
    inotify::init(CreateFlags::NONBLOCK | CreateFlags::CLOEXEC)
}

/// `inotify_add_watch(2)`: the watch descriptor.
pub(crate) fn add_watch(fd: BorrowedFd<'_>, path: &Path, mask: u32) -> Result<i32, Errno> {
    inotify::add_watch(fd, path, WatchFlags::from_bits_retain(mask))
}

/// `inotify_rm_watch(2)`.
pub(crate) fn remove_watch(fd: BorrowedFd<'_>, wd: i32) -> Result<(), Errno> {
    inotify::remove_watch(fd, wd)
}

/// `read(2)`: as many whole event records as fit in `buf` (`EAGAIN` when none is queued).
pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    rustix::io::read(fd, buf)
}

/// One decoded record; `name` borrows the read buffer, without its NUL padding.
#[derive(Debug)]
pub(crate) struct RawEvent<'a> {
    pub(crate) wd: i32,
    pub(crate) mask: u32,
    pub(crate) cookie: u32,
    pub(crate) name: Option<&'a [u8]>,
}

/// Decodes the record at the start of `buf`: the record and its length in bytes, or `None`
/// if `buf` is empty. A record cut short (which the kernel never writes) is `EINVAL`.
pub(crate) fn decode(buf: &[u8]) -> Result<Option<(RawEvent<'_>, usize)>, Errno> {
    if buf.is_empty() {
        return Ok(None);
    }
    let header = buf.get(..HEADER_LEN).ok_or(Errno::INVAL)?;
    let word = |i: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&header[i * 4..i * 4 + 4]);
        b
    };
    let wd = i32::from_ne_bytes(word(0));
    let mask = u32::from_ne_bytes(word(1));
    let cookie = u32::from_ne_bytes(word(2));
    let len = u32::from_ne_bytes(word(3)) as usize;
    let total = HEADER_LEN.checked_add(len).ok_or(Errno::INVAL)?;
    let padded = buf.get(HEADER_LEN..total).ok_or(Errno::INVAL)?;
    let name = match padded.iter().position(|&b| b == 0) {
        Some(0) => None,
        Some(end) => Some(&padded[..end]),
        None if padded.is_empty() => None,
        None => Some(padded),
    };
    Ok(Some((
        RawEvent {
            wd,
            mask,
            cookie,
            name,
        },
        total,
    )))
}
