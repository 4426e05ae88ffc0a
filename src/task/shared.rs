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

use super::raw::Header;
use super::state::CAUSE_SHIFT;
use crate::sys::notifier::Notifier;
use alloc::sync::Arc;
use alloc::task::Wake;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, Ordering::*};

/// The loop's cross-thread wake queue, its notifier, and the main future's wake flag.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Top of the intrusive stack of woken tasks; `closed()` once the loop is gone.
    head: AtomicPtr<Header>,
    /// True while the loop is in (or about to enter) a blocking wait.
    parked: AtomicBool,
    /// True once a waker wrote the notifier and the loop has not drained it yet.
    notified: AtomicBool,
    /// The future given to `block_on` was woken (it is not a spawned task).
    main_woken: AtomicBool,
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
            main_woken: AtomicBool::new(true),
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
            // SAFETY: every node in the stack carries a queue reference, so it is alive, and
            // after the swap only this thread reaches these links.
            let next = unsafe { node.as_ref() }.next.swap(reversed, Relaxed);
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

    /// Called by the loop before a wait; true if work arrived and the wait must not block.
    pub(crate) fn park(&self) -> bool {
        self.parked.store(true, SeqCst);
        let head = self.head.load(SeqCst);
        let has_work = (!head.is_null() && head != closed()) || self.main_woken.load(SeqCst);
        if has_work {
            self.parked.store(false, Relaxed);
        }
        has_work
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

/// The waker of the future passed to `block_on`: it sets a flag instead of queueing a task.
impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_main();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wake_main();
    }
}
