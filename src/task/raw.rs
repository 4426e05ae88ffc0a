//! The task allocation and its poll: `TaskRef::poll` runs the future with the task's waker.
//! What a wake does (the waker vtables, the reference count, queueing a task once) is
//! `raw/waker.rs`; dropping, cancelling and handing out the stage is `raw/stage.rs`; the
//! registry's, `JoinHandle`'s and reports' bookkeeping is `raw/lifecycle.rs`.
//!
//! References are held by: the loop's registry (until the task completes), the
//! `JoinHandle`, each `Waker`, and the wake queue while the task sits in it. The last one
//! frees the memory. Whoever releases it, the future and any output were already dropped on
//! the loop's thread (completion, abort, the `JoinHandle`, or the loop's own drop), so a
//! release on another thread frees plain memory only.

mod lifecycle;
mod local_copy;
mod stage;
mod waker;

pub(crate) use local_copy::task_id_of;
pub(super) use local_copy::{is_own, local_clone, same_task};
use stage::{
    cancel, catch_panic, dealloc, drop_catching, drop_future_in_place, drop_stage, take_output,
};
pub(crate) use waker::wake_local;
use waker::{increment, release, schedule, WAKER};

use super::join_error::JoinError;
use super::shared::Shared;
use super::state::{CAUSE_SHIFT, FLAGS, SCHEDULED};
use alloc::boxed::Box;
use alloc::sync::Arc;
use core::cell::{Cell, UnsafeCell};
use core::future::Future;
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering::*};
use core::task::{Context, Poll, RawWaker, Waker};

/// The first field of every task allocation; `repr(C)` so a pointer to the allocation is a
/// pointer to its header.
///
/// Every task of a loop pays for its header, so it is kept to 72 bytes (on 64-bit targets):
/// what only some tasks use lives elsewhere (a name in the loop's registry, the wake cause
/// of a traced loop in the upper bits of `state`), and the field order leaves no padding.
#[repr(C)]
pub(crate) struct Header {
    /// Flag bits, and while tracing the cause of the last wake (see `state.rs`).
    pub(crate) state: AtomicU64,
    /// Number of live references (see the module docs).
    refs: AtomicU32,
    /// The task's index in the loop's registry (`u32::MAX` while not registered); loop
    /// thread only.
    slot: Cell<u32>,
    /// Link in the loop's intrusive wake stack.
    pub(crate) next: AtomicPtr<Header>,
    /// The loop this task belongs to: where its wakes go.
    shared: Arc<Shared>,
    /// The functions that know the future's concrete type.
    vtable: &'static TaskVTable,
    /// The task's number, unique within its loop, for traces and reports.
    pub(crate) id: u64,
    /// Touched only on the loop's thread.
    local: Local,
}

/// The loop-thread-only part of a header.
///
/// Plain `Cell`s, never borrowed: a value is moved in or out whole, so no reference into it
/// is live while user code runs (a waker's `Drop` or `wake` may re-enter the loop and read
/// this same task's state, as a stuck-task report does). A waker taken out is dropped or
/// woken by the caller after the slot holds its new value.
struct Local {
    /// Woken when the task completes.
    join_waker: Cell<Option<Waker>>,
    /// When it was last polled (loop clock, ns), for stuck-task reports.
    polled_at: Cell<u64>,
}

// The header's size is what every task pays; keep it from growing unnoticed.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(core::mem::size_of::<Header>() == 72);

/// The registry slot of a task that is not registered.
pub(crate) const NO_SLOT: u32 = u32::MAX;

struct TaskVTable {
    /// Polls the future; on completion stores the output and returns Ready (true if the
    /// future panicked).
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<bool>,
    /// Drops the future and stores `Cancelled` as the output.
    cancel: unsafe fn(NonNull<Header>),
    /// Moves the output into `*out` (a `Poll<Result<T, JoinError>>`).
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops whatever the stage holds.
    drop_stage: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    dealloc: unsafe fn(NonNull<Header>),
}

/// Names the vtable of one future type as a constant, so `&VTABLE` is a `'static` reference.
struct VTableFor<F>(core::marker::PhantomData<F>);

impl<F: Future> VTableFor<F> {
    const VTABLE: TaskVTable = TaskVTable {
        poll: poll::<F>,
        cancel: cancel::<F>,
        take_output: take_output::<F>,
        drop_stage: drop_stage::<F>,
        dealloc: dealloc::<F>,
    };
}

#[repr(C)]
struct TaskCell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// An owned reference to a task (the registry's, the queue's or the JoinHandle's).
pub(crate) struct TaskRef {
    ptr: NonNull<Header>,
}

impl TaskRef {
    /// Allocates a task for `future`; it starts unscheduled with one reference (this one).
    pub(crate) fn new<F: Future + 'static>(future: F, shared: Arc<Shared>, id: u64) -> TaskRef {
        let cell = Box::new(TaskCell {
            header: Header {
                state: AtomicU64::new(0),
                refs: AtomicU32::new(1),
                slot: Cell::new(NO_SLOT),
                next: AtomicPtr::new(core::ptr::null_mut()),
                shared,
                vtable: &VTableFor::<F>::VTABLE,
                id,
                local: Local {
                    join_waker: Cell::new(None),
                    polled_at: Cell::new(0),
                },
            },
            stage: UnsafeCell::new(Stage::Running(future)),
        });
        TaskRef {
            ptr: NonNull::from(Box::leak(cell)).cast(),
        }
    }

    /// Adopts a reference that was counted elsewhere (a queue entry).
    ///
    /// # Safety
    /// `ptr` must carry one counted reference, now owned by the result.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> TaskRef {
        TaskRef { ptr }
    }

    fn header(&self) -> &Header {
        // SAFETY: this reference keeps the allocation alive.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn id(&self) -> u64 {
        self.header().id
    }

    /// Queues the task as a wake would (used by spawn and abort).
    pub(crate) fn schedule(&self) {
        schedule(self.ptr);
    }

    /// Clears SCHEDULED (and the wake cause with it) before a poll (a wake during the poll
    /// schedules again); returns the flags as they were.
    pub(crate) fn unschedule(&self) -> u64 {
        self.header().state.fetch_and(FLAGS & !SCHEDULED, AcqRel) & FLAGS
    }

    /// While tracing: the encoded cause of the wake that queued the task (read before the
    /// loop unschedules it).
    pub(crate) fn woken_by(&self) -> u64 {
        self.header().state.load(Relaxed) >> CAUSE_SHIFT
    }

    /// Polls the future with this task's waker; `Ready(true)` means it panicked. The waker
    /// is borrowed, so it is not counted as escaped, but every clone made of it is (see
    /// `Shared::escaped`).
    pub(crate) fn poll(&self) -> Poll<bool> {
        let waker = ManuallyDrop::new(
            // SAFETY: the vtable's functions expect a header pointer with a counted
            // reference per Waker; this one is borrowed (ManuallyDrop) while `self` holds one,
            // and never dropped or woken by value, so it takes no part in the escaped count.
            unsafe { Waker::from_raw(RawWaker::new(self.ptr.as_ptr() as *const (), &WAKER)) },
        );
        let mut cx = Context::from_waker(&waker);
        // SAFETY: only the loop thread polls, and never after COMPLETE.
        unsafe { (self.header().vtable.poll)(self.ptr, &mut cx) }
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> Self {
        increment(self.header());
        TaskRef { ptr: self.ptr }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        release(self.ptr);
    }
}

impl core::fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Task").field("id", &self.id()).finish()
    }
}

fn stage<F: Future>(ptr: NonNull<Header>) -> *mut Stage<F> {
    // SAFETY (for callers): `ptr` came from a `TaskCell<F>` (the vtable is per F).
    let cell = ptr.cast::<TaskCell<F>>().as_ptr();
    // SAFETY: computing a field address of a live allocation.
    unsafe { (*cell).stage.get() }
}

unsafe fn poll<F: Future>(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<bool> {
    let stage = stage::<F>(ptr);
    // SAFETY: loop thread only; no other reference to the stage is live during a poll (the
    // future can reach its own task only through its JoinHandle, which touches the stage
    // only once the task is COMPLETE).
    let Stage::Running(future) = (unsafe { &mut *stage }) else {
        return Poll::Ready(false);
    };
    // SAFETY: the future lives in a heap cell that is never moved until it is dropped.
    let future = unsafe { Pin::new_unchecked(future) };
    let result = match catch_panic(future, cx) {
        Ok(Poll::Pending) => return Poll::Pending,
        Ok(Poll::Ready(output)) => Ok(output),
        Err(error) => Err(error),
    };
    // SAFETY: the future's pinned borrow ended with its poll; the stage holds it still.
    let dropped = unsafe { drop_future_in_place::<F>(ptr) };
    let (panicked, result) = match dropped {
        Ok(()) => (result.is_err(), result),
        // Its `Drop` panicked: the task panicked after all (the output goes).
        Err(error) => {
            let _ = drop_catching(result);
            (true, Err(error))
        }
    };
    // SAFETY: the stage holds no value now (its future was dropped in place).
    unsafe { core::ptr::write(stage, Stage::Finished(result)) };
    Poll::Ready(panicked)
}
