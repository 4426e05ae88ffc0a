//! File watching on the loop (feature `fs-watch`, with `std`): inotify(7) events as an
//! async stream.
//!
//! One [`FsWatcher`] owns one inotify fd, registered with the loop like a socket; each
//! [`add`](FsWatcher::add) watches a file or a directory, and
//! [`next_event`](FsWatcher::next_event) yields the events in the kernel's order. When the
//! kernel's queue (`/proc/sys/fs/inotify/max_queued_events` events) fills before the events
//! are read, later events are lost and the kernel says so once: that arrives as
//! [`FsEvent::Overflow`], a distinct variant a program must handle (typically by
//! re-reading what it watches), never silently dropped.
//!
//! A config file is best watched through its directory: editors and deploy tools replace it
//! by writing a temporary file and renaming it over the old one, which a watch on the file
//! itself would see only as `DELETE_SELF`/`IGNORED` of the old inode. On the directory the
//! new version arrives as [`Mask::MOVED_TO`] with the file's name.
//!
//! This module must never block the loop (the fd is non-blocking and read only after poll
//! says so), and never lose an event it has read: one `read(2)` may return many, kept in a
//! buffer until they are handed out. Its syscalls are in `sys/inotify.rs`.

use crate::executor::Handle;
use crate::registration::Registration;
use crate::sys::{inotify as sys, Interest};
use core::fmt;
use core::future::{poll_fn, Future};
use core::task::{Context, Poll};
use rustix::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// A set of inotify event bits (`IN_*`): what to watch for, and what an event reports.
///
/// ```
/// use readyloop::fs_watch::Mask;
/// let m = Mask::CREATE | Mask::MOVED_TO;
/// assert!(m.contains(Mask::CREATE));
/// assert!(!m.contains(Mask::DELETE));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mask(u32);

impl Mask {
    /// A file was read (`IN_ACCESS`).
    pub const ACCESS: Mask = Mask(sys::bits::ACCESS);
    /// Metadata changed: permissions, timestamps, links (`IN_ATTRIB`).
    pub const ATTRIB: Mask = Mask(sys::bits::ATTRIB);
    /// A file opened for writing was closed (`IN_CLOSE_WRITE`): a writer is done.
    pub const CLOSE_WRITE: Mask = Mask(sys::bits::CLOSE_WRITE);
    /// A file opened read-only was closed (`IN_CLOSE_NOWRITE`).
    pub const CLOSE_NOWRITE: Mask = Mask(sys::bits::CLOSE_NOWRITE);
    /// A file or directory was created in a watched directory (`IN_CREATE`).
    pub const CREATE: Mask = Mask(sys::bits::CREATE);
    /// A file or directory was deleted from a watched directory (`IN_DELETE`).
    pub const DELETE: Mask = Mask(sys::bits::DELETE);
    /// The watched file or directory itself was deleted (`IN_DELETE_SELF`).
    pub const DELETE_SELF: Mask = Mask(sys::bits::DELETE_SELF);
    /// A file was written (`IN_MODIFY`).
    pub const MODIFY: Mask = Mask(sys::bits::MODIFY);
    /// The watched file or directory itself was moved (`IN_MOVE_SELF`).
    pub const MOVE_SELF: Mask = Mask(sys::bits::MOVE_SELF);
    /// A file was renamed out of a watched directory (`IN_MOVED_FROM`).
    pub const MOVED_FROM: Mask = Mask(sys::bits::MOVED_FROM);
    /// A file was renamed into a watched directory (`IN_MOVED_TO`): a rename over a config
    /// file arrives as this.
    pub const MOVED_TO: Mask = Mask(sys::bits::MOVED_TO);
    /// A file was opened (`IN_OPEN`).
    pub const OPEN: Mask = Mask(sys::bits::OPEN);
    /// Reported only: the watch was removed (by [`FsWatcher::remove`], or because its file
    /// was deleted or its filesystem unmounted) (`IN_IGNORED`).
    pub const IGNORED: Mask = Mask(sys::bits::IGNORED);
    /// Reported only: the subject of the event is a directory (`IN_ISDIR`).
    pub const ISDIR: Mask = Mask(sys::bits::ISDIR);
    /// Reported only: the filesystem was unmounted (`IN_UNMOUNT`).
    pub const UNMOUNT: Mask = Mask(sys::bits::UNMOUNT);

    /// No bits.
    ///
    /// ```
    /// use readyloop::fs_watch::Mask;
    /// assert_eq!(Mask::empty().bits(), 0);
    /// assert!(Mask::CREATE.contains(Mask::empty()));
    /// ```
    pub const fn empty() -> Mask {
        Mask(0)
    }

    /// The raw `IN_*` bits.
    ///
    /// ```
    /// assert_eq!(readyloop::fs_watch::Mask::CREATE.bits(), 0x100);
    /// ```
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set in `self`.
    ///
    /// ```
    /// use readyloop::fs_watch::Mask;
    /// assert!((Mask::CREATE | Mask::ISDIR).contains(Mask::CREATE));
    /// assert!(!Mask::CREATE.contains(Mask::CREATE | Mask::ISDIR));
    /// ```
    pub const fn contains(self, other: Mask) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set in `self`.
    ///
    /// ```
    /// use readyloop::fs_watch::Mask;
    /// assert!((Mask::CREATE | Mask::ISDIR).intersects(Mask::CREATE | Mask::DELETE));
    /// ```
    pub const fn intersects(self, other: Mask) -> bool {
        self.0 & other.0 != 0
    }
}

impl core::ops::BitOr for Mask {
    type Output = Mask;
    fn bitor(self, rhs: Mask) -> Mask {
        Mask(self.0 | rhs.0)
    }
}

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Mask, &str); 15] = [
            (Mask::ACCESS, "ACCESS"),
            (Mask::ATTRIB, "ATTRIB"),
            (Mask::CLOSE_WRITE, "CLOSE_WRITE"),
            (Mask::CLOSE_NOWRITE, "CLOSE_NOWRITE"),
            (Mask::CREATE, "CREATE"),
            (Mask::DELETE, "DELETE"),
            (Mask::DELETE_SELF, "DELETE_SELF"),
            (Mask::MODIFY, "MODIFY"),
            (Mask::MOVE_SELF, "MOVE_SELF"),
            (Mask::MOVED_FROM, "MOVED_FROM"),
            (Mask::MOVED_TO, "MOVED_TO"),
            (Mask::OPEN, "OPEN"),
            (Mask::IGNORED, "IGNORED"),
            (Mask::ISDIR, "ISDIR"),
            (Mask::UNMOUNT, "UNMOUNT"),
        ];
        let mut rest = self.0;
        let mut first = true;
        for (mask, name) in NAMES {
            if self.contains(mask) {
                f.write_str(if first { "" } else { " | " })?;
                f.write_str(name)?;
                rest &= !mask.0;
                first = false;
            }
        }
        if rest != 0 || first {
            write!(f, "{}{:#x}", if first { "" } else { " | " }, rest)?;
        }
        Ok(())
    }
}

/// One watch of an [`FsWatcher`] (the kernel's watch descriptor); events name it.
///
/// ```
/// use readyloop::fs_watch::{FsWatcher, Mask, WatchId};
/// let lp = readyloop::Loop::new().unwrap();
/// let mut watcher = FsWatcher::new(&lp.handle()).unwrap();
/// let id: WatchId = watcher.add(std::env::temp_dir(), Mask::CREATE).unwrap();
/// # drop(id);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WatchId(i32);

/// What [`FsWatcher::next_event`] yields.
///
/// ```
/// use readyloop::fs_watch::FsEvent;
/// fn on_event(event: FsEvent) {
///     match event {
///         FsEvent::Change(change) => println!("{:?} {:?}", change.mask, change.name),
///         FsEvent::Overflow => println!("events were lost: rescan"),
///     }
/// }
/// on_event(FsEvent::Overflow);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsEvent {
    /// Something happened to a watched file or in a watched directory.
    Change(Change),
    /// The kernel's event queue overflowed (`IN_Q_OVERFLOW`): events were lost after the
    /// ones already read. Rescan whatever is watched.
    Overflow,
}

/// One inotify event.
///
/// ```
/// use readyloop::fs_watch::{FsEvent, FsWatcher, Mask};
/// let dir = std::env::temp_dir().join(format!("readyloop-doc-change-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let lp = readyloop::Loop::new().unwrap();
/// let mut watcher = FsWatcher::new(&lp.handle()).unwrap();
/// let id = watcher.add(&dir, Mask::DELETE).unwrap();
/// std::fs::write(dir.join("gone"), b"").unwrap();
/// std::fs::remove_file(dir.join("gone")).unwrap();
/// let FsEvent::Change(change) = lp.block_on(watcher.next_event()).unwrap() else { panic!() };
/// assert_eq!((change.watch, change.mask), (id, Mask::DELETE));
/// assert_eq!(change.name.unwrap(), std::path::Path::new("gone"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The watch it belongs to.
    pub watch: WatchId,
    /// What happened (may include [`Mask::ISDIR`], [`Mask::IGNORED`]).
    pub mask: Mask,
    /// Pairs a [`Mask::MOVED_FROM`] with its [`Mask::MOVED_TO`] (0 for other events).
    pub cookie: u32,
    /// For an event inside a watched directory, the entry's name within it.
    pub name: Option<PathBuf>,
}

/// An inotify instance on the loop: watches files and directories and yields their events.
///
/// ```
/// use readyloop::fs_watch::{FsEvent, FsWatcher, Mask};
/// use readyloop::Loop;
/// let dir = std::env::temp_dir().join(format!("readyloop-doc-watch-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let lp = Loop::new().unwrap();
/// let mut watcher = FsWatcher::new(&lp.handle()).unwrap();
/// watcher.add(&dir, Mask::CREATE).unwrap();
/// std::fs::write(dir.join("new.txt"), b"x").unwrap();
/// let event = lp.block_on(watcher.next_event()).unwrap();
/// match event {
///     FsEvent::Change(c) => {
///         assert!(c.mask.contains(Mask::CREATE));
///         assert_eq!(c.name.as_deref(), Some(std::path::Path::new("new.txt")));
///     }
///     FsEvent::Overflow => unreachable!(),
/// }
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct FsWatcher {
    /// Dropped first (fields drop in declaration order): the loop forgets the fd before it
    /// closes.
    registration: Registration,
    /// The inotify fd.
    fd: OwnedFd,
    /// Bytes read from the kernel; `buf[start..end]` are events not yet handed out.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl fmt::Debug for FsWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FsWatcher")
            .field("fd", &self.fd.as_raw_fd())
            .field("buffered_bytes", &(self.end - self.start))
            .finish()
    }
}

impl FsWatcher {
    /// A new inotify instance on `handle`'s loop, watching nothing yet.
    ///
    /// ```
    /// let lp = readyloop::Loop::new().unwrap();
    /// let watcher = readyloop::fs_watch::FsWatcher::new(&lp.handle()).unwrap();
    /// # drop(watcher);
    /// ```
    pub fn new(handle: &Handle) -> io::Result<FsWatcher> {
        let fd = sys::init()?;
        Ok(FsWatcher {
            registration: Registration::sealed(handle, fd.as_raw_fd()),
            fd,
            buf: vec![0u8; 16 * sys::MIN_BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
        })
    }

    /// Watches `path` for the events in `mask`. Adding a path watched already replaces its
    /// mask and returns the same [`WatchId`]. A missing path is `NotFound`.
    ///
    /// ```
    /// use readyloop::fs_watch::{FsWatcher, Mask};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let mut watcher = FsWatcher::new(&lp.handle()).unwrap();
    /// let tmp = std::env::temp_dir();
    /// let id = watcher.add(&tmp, Mask::CREATE).unwrap();
    /// assert_eq!(watcher.add(&tmp, Mask::DELETE).unwrap(), id);
    /// let err = watcher.add("/no/such/path", Mask::CREATE).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn add(&mut self, path: impl AsRef<Path>, mask: Mask) -> io::Result<WatchId> {
        Ok(WatchId(sys::add_watch(
            self.fd.as_fd(),
            path.as_ref(),
            mask.0,
        )?))
    }

    /// Stops a watch; the kernel then reports a last [`Mask::IGNORED`] event for it.
    ///
    /// ```
    /// use readyloop::fs_watch::{FsWatcher, Mask};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let mut watcher = FsWatcher::new(&lp.handle()).unwrap();
    /// let id = watcher.add(std::env::temp_dir(), Mask::CREATE).unwrap();
    /// watcher.remove(id).unwrap();
    /// assert!(watcher.remove(id).is_err()); // gone already
    /// ```
    pub fn remove(&mut self, watch: WatchId) -> io::Result<()> {
        Ok(sys::remove_watch(self.fd.as_fd(), watch.0)?)
    }

    /// The next event: from the buffer if an earlier read brought several, else waits on
    /// the loop for the inotify fd. Cancel-safe: an event leaves the buffer only in the poll
    /// that returns it.
    ///
    /// ```
    /// use readyloop::fs_watch::{FsEvent, FsWatcher, Mask};
    /// use std::time::Duration;
    /// let lp = readyloop::Loop::new().unwrap();
    /// let h = lp.handle();
    /// let mut watcher = FsWatcher::new(&h).unwrap();
    /// watcher.add(std::env::temp_dir(), Mask::CREATE).unwrap();
    /// // Nothing may happen: bound the wait.
    /// let next = lp.block_on(h.timeout(Duration::from_millis(10), watcher.next_event()));
    /// if let Ok(Ok(FsEvent::Change(c))) = next {
    ///     println!("created: {:?}", c.name);
    /// }
    /// ```
    pub fn next_event(&mut self) -> impl Future<Output = io::Result<FsEvent>> + '_ {
        poll_fn(move |cx| self.poll_next_event(cx))
    }

    /// The poll form of [`next_event`](FsWatcher::next_event).
    ///
    /// ```
    /// use readyloop::fs_watch::{FsWatcher, Mask};
    /// let lp = readyloop::Loop::new().unwrap();
    /// let mut watcher = FsWatcher::new(&lp.handle()).unwrap();
    /// let dir = std::env::temp_dir().join(format!("readyloop-doc-poll-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// watcher.add(&dir, Mask::DELETE_SELF).unwrap();
    /// std::fs::remove_dir(&dir).unwrap();
    /// let event = lp.block_on(core::future::poll_fn(|cx| watcher.poll_next_event(cx)));
    /// assert!(event.is_ok());
    /// ```
    pub fn poll_next_event(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<FsEvent>> {
        if self.start == self.end {
            let (fd, buf) = (self.fd.as_fd(), &mut self.buf[..]);
            let n = match self
                .registration
                .poll_io(cx, Interest::Readable, || sys::read(fd, buf))
            {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r?,
            };
            (self.start, self.end) = (0, n);
        }
        let decoded = sys::decode(&self.buf[self.start..self.end]).map_err(io::Error::from);
        let (raw, len) = match decoded {
            Ok(Some(record)) => record,
            // The kernel writes whole records; anything else is dropped, not re-read forever.
            Ok(None) | Err(_) => {
                self.start = self.end;
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "inotify returned a truncated event record",
                )));
            }
        };
        let event = if raw.mask & sys::bits::Q_OVERFLOW != 0 {
            FsEvent::Overflow
        } else {
            FsEvent::Change(Change {
                watch: WatchId(raw.wd),
                mask: Mask(raw.mask),
                cookie: raw.cookie,
                name: raw.name.map(|n| PathBuf::from(OsStr::from_bytes(n))),
            })
        };
        self.start += len;
        Poll::Ready(Ok(event))
    }
}

impl AsFd for FsWatcher {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
