//! The part of a loop that other threads may touch: the wake queue and the notifier.
//!
//! The wake queue is an intrusive lock-free stack (each task header carries its own `next`
//! link, and the SCHEDULED bit keeps a task in it at most once): a push is one CAS and the
//! loop takes the whole stack with one swap, so pushing allocates nothing and ABA cannot
//! happen. The loop reverses what it takes to run tasks in the order they were woken.
//!
//! The lost-wakeup trap lives here. The loop stores `parked = true` and then looks at the
//! stack; a waker pushes and then looks at `parked`. Both use SeqCst, so at least one of them
//! sees the other: either the loop sees the task and does not block, or the waker sees the
//! loop parked and writes the notifier.
//!
//! Leaving the notifier out. Only a waker on another thread ever needs the notifier, so
//! `escaped` counts the wakers that could be on one: every clone of a waker a future is
//! polled with, until it is woken or dropped (and every `ClockHold`, which may also end a
//! wait from anywhere). The copies the loop keeps in its own tables (reactor, timers, join)
//! are "local": they stay on the loop's thread and are not counted. While the count is zero
//! the wait leaves the notifier out of its set (one fd less for poll(2) to set up, every
//! turn), and the loop does not even set `parked`, since no waker could look at it. The
//! count is read after `parked` is set (if it is) and before the queue is looked at, and an
//! escaped waker pushes its task before it leaves the count: if the loop read zero, every
//! escaped waker had already pushed (and the queue shows it), and no new one can appear
//! while the loop waits, since only a poll on the loop's thread can clone one.

use super::raw::Header;
use super::state::CAUSE_SHIFT;
use crate::sys::notifier::Notifier;
use alloc::sync::Arc;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering::*};
use core::task::{RawWaker, RawWakerVTable, Waker};

/// The loop's cross-thread wake queue, its notifier, and the main future's wake flag.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Top of the intrusive stack of woken tasks; `closed()` once the loop is gone.
    head: AtomicPtr<Header>,
    /// True while the loop is in (or about to enter) a blocking wait that a waker on another
    /// thread may have to end (see `park`).
    parked: AtomicBool,
    /// True once a waker wrote the notifier and the loop has not drained it yet.
    notified: AtomicBool,
    /// The future given to `block_on` was woken (it is not a spawned task).
    main_woken: AtomicBool,
    /// Wakers (and clock holds) that another thread could use to wake the loop (module
    /// docs): while there are none, a wait leaves the notifier out.
    escaped: AtomicUsize,
    /// Wakes that came from another thread's write of the notifier (for stats).
    pub(crate) notifications: AtomicU64,
    /// Makes a blocked wait return.
    pub(crate) notifier: Notifier,
    /// Tracing is on: wakes record their cause (set when the loop is built, never changed).
    tracing: bool,
    /// While tracing: the cause a wake on the loop's own thread records now (an encoded
    /// `trace::WakeCause`, set by the loop around each task poll, callback and dispatch).
    cause: AtomicU64,
    /// While tracing: the thread id of the loop's thread (a wake from any other thread is a
    /// cross-thread wake).
    loop_thread: AtomicI32,
    /// While tracing: the cause recorded by the wake that set `main_woken`.
    main_cause: AtomicU64,
}

/// The marker stored in `head` after the loop is dropped: pushes fail from then on.
fn closed() -> *mut Header {
    NonNull::dangling().as_ptr()
}

impl Shared {
    pub(crate) fn new(notifier: Notifier, tracing: bool) -> Self {
        Shared {
            head: AtomicPtr::new(ptr::null_mut()),
            parked: AtomicBool::new(false),
            notified: AtomicBool::new(false),
            // No `block_on` future yet: a flag left set would make every wait non-blocking.
            main_woken: AtomicBool::new(false),
            escaped: AtomicUsize::new(0),
            notifications: AtomicU64::new(0),
            notifier,
            tracing,
            cause: AtomicU64::new(0),
            loop_thread: AtomicI32::new(0),
            main_cause: AtomicU64::new(0),
        }
    }

    /// Pushes a woken task; false if the loop is gone (the caller keeps its reference).
    pub(crate) fn push(&self, task: NonNull<Header>) -> bool {
        // SAFETY: the caller owns a reference to `task`, so its header is alive.
        let header = unsafe { task.as_ref() };
        if self.tracing {
            self.record_cause(header);
        }
        let mut head = self.head.load(Acquire);
        loop {
            if head == closed() {
                return false;
            }
            header.next.store(head, Relaxed);
            match self
                .head
                .compare_exchange_weak(head, task.as_ptr(), SeqCst, Acquire)
            {
                Ok(_) => break,
                Err(now) => head = now,
            }
        }
        self.notify_if_parked();
        true
    }

    /// Takes every pushed task, oldest first, calling `f` with the reference each carried.
    #[inline(always)]
    pub(crate) fn take_all(&self, mut f: impl FnMut(NonNull<Header>)) {
        if self.head.load(Relaxed).is_null() {
            return;
        }
        let mut list = self.head.swap(ptr::null_mut(), Acquire);
        debug_assert!(list != closed());
        // Reverse the LIFO list in place so tasks run in wake order.
        let mut reversed: *mut Header = ptr::null_mut();
        while let Some(node) = NonNull::new(list) {
            // The link is read and written apart, not swapped: no other thread reaches it
            // now, and a swap would be a locked instruction per task.
            // SAFETY: every node in the stack carries a queue reference, so it is alive, and
            // after the swap only this thread reaches these links.
            let link = &unsafe { node.as_ref() }.next;
            let next = link.load(Relaxed);
            link.store(reversed, Relaxed);
            reversed = node.as_ptr();
            list = next;
        }
        while let Some(node) = NonNull::new(reversed) {
            // SAFETY: as above; the link is read before `f` may release the node.
            reversed = unsafe { node.as_ref() }.next.load(Relaxed);
            f(node);
        }
    }

    /// Marks the loop gone and hands back the tasks still queued, so their references drop.
    pub(crate) fn close(&self, mut f: impl FnMut(NonNull<Header>)) {
        let mut list = self.head.swap(closed(), AcqRel);
        while let Some(node) = NonNull::new(list) {
            if node.as_ptr() == closed() {
                break;
            }
            // SAFETY: as in `take_all`.
            list = unsafe { node.as_ref() }.next.load(Relaxed);
            f(node);
        }
    }

    /// Called by the loop before a wait: whether work arrived (the wait must not block), or
    /// else whether the wait needs the notifier (module docs).
    pub(crate) fn park(&self) -> Park {
        // No escaped waker: nothing can push while the loop waits, so it need not say it is
        // parked (a locked store less per blocking wait). Every wake made before this read
        // pushed first, so the queue shows it.
        if self.escaped.load(SeqCst) == 0 {
            if self.has_work() {
                return Park::Work;
            }
            return Park::Block { notifier: false };
        }
        self.parked.store(true, SeqCst);
        let notifier = self.escaped.load(SeqCst) != 0;
        if self.has_work() {
            self.parked.store(false, Relaxed);
            return Park::Work;
        }
        Park::Block { notifier }
    }

    /// Whether a task or the main future is queued (SeqCst: read after `escaped`).
    fn has_work(&self) -> bool {
        let head = self.head.load(SeqCst);
        (!head.is_null() && head != closed()) || self.main_woken.load(SeqCst)
    }

    /// One more waker (or clock hold) that may wake the loop from another thread.
    pub(crate) fn escape(&self) {
        let old = self.escaped.fetch_add(1, SeqCst);
        // Like Arc: a count this large means leaked wakers; stop before it wraps.
        assert!(
            old < usize::MAX / 2,
            "readyloop: escaped waker count overflow"
        );
    }

    /// One escaped waker is gone: woken (after its task was queued) or dropped.
    pub(crate) fn unescape(&self) {
        self.escaped.fetch_sub(1, SeqCst);
    }

    /// Called by the loop after a wait.
    pub(crate) fn unpark(&self) {
        self.parked.store(false, Relaxed);
    }

    /// Called by the loop when the notifier fd reported readable.
    pub(crate) fn drain_notifier(&self) {
        self.notified.store(false, SeqCst);
        self.notifier.drain();
    }

    /// Writes the notifier if the loop is blocked in a wait (any thread).
    pub(crate) fn notify_if_parked(&self) {
        if self.parked.load(SeqCst) && !self.notified.swap(true, AcqRel) {
            self.notifications.fetch_add(1, Relaxed);
            self.notifier.notify();
        }
    }

    /// Whether anything is waiting in the wake queue.
    pub(crate) fn has_woken(&self) -> bool {
        let head = self.head.load(Acquire);
        !head.is_null() && head != closed()
    }

    /// Takes the main future's wake flag.
    pub(crate) fn take_main_woken(&self) -> bool {
        self.main_woken.swap(false, AcqRel)
    }

    /// Whether the main future was woken (without taking the flag).
    pub(crate) fn main_woken(&self) -> bool {
        self.main_woken.load(Acquire)
    }

    /// Sets the main future's wake flag (block_on sets it before its first poll).
    pub(crate) fn wake_main(&self) {
        if self.tracing && !self.main_woken.load(Relaxed) {
            self.main_cause.store(self.wake_cause(), Relaxed);
        }
        self.main_woken.store(true, SeqCst);
        self.notify_if_parked();
    }
}

/// Wake causes, recorded only while tracing (see `trace::tracer`).
impl Shared {
    /// Records in `header` what is waking its task (out of line: the wake path stays
    /// small when tracing is off).
    #[cold]
    #[inline(never)]
    fn record_cause(&self, header: &Header) {
        let code = self.wake_cause();
        debug_assert!(
            code >> (64 - CAUSE_SHIFT) == 0,
            "wake cause too wide: {code:#x}"
        );
        // The cause bits are zero: only the wake that set SCHEDULED gets here, and the loop
        // clears them together with SCHEDULED.
        header.state.fetch_or(code << CAUSE_SHIFT, Relaxed);
    }

    /// The cause a wake made now, on this thread, records.
    pub(crate) fn wake_cause(&self) -> u64 {
        let here = crate::sys::thread::current_id();
        if here == self.loop_thread.load(Relaxed) {
            self.cause.load(Relaxed)
        } else {
            crate::trace::tracer::ENCODED_CROSS_THREAD
        }
    }

    /// Sets the cause that wakes on the loop's thread record from now on; returns the
    /// previous one.
    pub(crate) fn set_cause(&self, code: u64) -> u64 {
        self.cause.swap(code, Relaxed)
    }

    /// Records the calling thread as the loop's thread.
    pub(crate) fn set_loop_thread(&self) {
        let here = crate::sys::thread::current_id();
        self.loop_thread.store(here, Relaxed);
    }

    /// The cause recorded by the wake of the main future.
    pub(crate) fn main_cause(&self) -> u64 {
        self.main_cause.load(Relaxed)
    }
}

/// What `Shared::park` found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Park {
    /// Work is queued: the wait must not block.
    Work,
    /// The wait may block; `notifier`: another thread may wake the loop meanwhile.
    Block { notifier: bool },
}

/// The waker of the future passed to `block_on`: it sets a flag instead of queueing a task.
/// Like a task's wakers it comes in two kinds: `MAIN`, counted in `escaped` (every clone of
/// the one `block_on` polls with), and `MAIN_LOCAL`, uncounted (the loop's own copies, see
/// `local_clone`). Each holds one strong count of the `Arc<Shared>`, except the one
/// `block_on` polls with, which borrows the loop's.
static MAIN: RawWakerVTable =
    RawWakerVTable::new(main_clone, main_wake, main_wake_by_ref, main_drop);
static MAIN_LOCAL: RawWakerVTable = RawWakerVTable::new(
    main_clone,
    main_local_wake,
    main_wake_by_ref,
    main_local_drop,
);

impl Shared {
    /// The waker `block_on` polls its future with, borrowing `shared`'s count: the caller
    /// keeps `shared` alive while it uses the waker and never drops it (`ManuallyDrop`).
    pub(crate) fn main_waker(shared: &Arc<Shared>) -> core::mem::ManuallyDrop<Waker> {
        let data = Arc::as_ptr(shared) as *const ();
        // SAFETY: the data is a live `Shared` for as long as the caller keeps `shared`; the
        // waker is never dropped or woken by value, so it releases no count it does not own.
        core::mem::ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &MAIN)) })
    }
}

/// A copy of `waker` for the loop's own tables (uncounted), if it is the main waker of the
/// loop whose `Shared` is `owner`.
pub(super) fn local_clone(waker: &Waker, owner: *const Shared) -> Option<Waker> {
    if !is_main_waker(waker) || waker.data() != owner as *const () {
        return None;
    }
    // SAFETY: a main waker's data is a live `Arc<Shared>`'s pointer (the waker holds or
    // borrows a count); the count added here is the new waker's.
    unsafe { Arc::increment_strong_count(owner) };
    // SAFETY: as above.
    Some(unsafe { Waker::from_raw(RawWaker::new(waker.data(), &MAIN_LOCAL)) })
}

/// Whether `a` and `b` are both main wakers of the same loop.
pub(super) fn same_main(a: &Waker, b: &Waker) -> bool {
    a.data() == b.data() && is_main_waker(a) && is_main_waker(b)
}

fn is_main_waker(waker: &Waker) -> bool {
    ptr::eq(waker.vtable(), &MAIN) || ptr::eq(waker.vtable(), &MAIN_LOCAL)
}

unsafe fn main_clone(data: *const ()) -> RawWaker {
    let shared = data as *const Shared;
    // SAFETY: `data` is a live `Arc<Shared>`'s pointer (module docs of the vtables above).
    unsafe { Arc::increment_strong_count(shared) };
    // SAFETY: as above.
    unsafe { &*shared }.escape();
    RawWaker::new(data, &MAIN)
}

unsafe fn main_wake(data: *const ()) {
    // SAFETY: this waker owns one strong count, consumed here.
    let shared = unsafe { Arc::from_raw(data as *const Shared) };
    shared.wake_main();
    shared.unescape();
}

unsafe fn main_wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds or borrows a count for the duration of the call.
    unsafe { &*(data as *const Shared) }.wake_main();
}

unsafe fn main_drop(data: *const ()) {
    // SAFETY: this waker owns one strong count, released here.
    let shared = unsafe { Arc::from_raw(data as *const Shared) };
    shared.unescape();
}

unsafe fn main_local_wake(data: *const ()) {
    // SAFETY: this waker owns one strong count, consumed here.
    unsafe { Arc::from_raw(data as *const Shared) }.wake_main();
}

unsafe fn main_local_drop(data: *const ()) {
    // SAFETY: this waker owns one strong count, released here.
    drop(unsafe { Arc::from_raw(data as *const Shared) });
}
