//! The task allocation, its reference count, and the raw waker vtable.
//!
//! References are held by: the loop's registry (until the task completes), the
//! `JoinHandle`, each `Waker`, and the wake queue while the task sits in it. The last one
//! frees the memory. Whoever releases it, the future and any output were already dropped on
//! the loop's thread (completion, abort, the `JoinHandle`, or the loop's own drop), so a
//! release on another thread frees plain memory only.

use super::join_error::JoinError;
use super::shared::Shared;
use super::state::{ABORT, CAUSE_SHIFT, COMPLETE, FLAGS, JOIN_GONE, NAMED, SCHEDULED};
use alloc::boxed::Box;
use alloc::sync::Arc;
use core::cell::{Cell, UnsafeCell};
use core::future::Future;
use core::mem::ManuallyDrop;
use core::pin::Pin;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering::*};
use core::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

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

    /// The loop this task belongs to (its wake queue).
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.header().shared
    }

    /// The flag bits of the state word (see `state.rs`).
    pub(crate) fn state(&self) -> u64 {
        self.header().state.load(Acquire) & FLAGS
    }

    /// The task's index in its loop's registry (`NO_SLOT` while not registered).
    pub(crate) fn slot(&self) -> u32 {
        self.header().slot.get()
    }

    /// Only the registry sets the slot (see `registry.rs`).
    pub(super) fn set_slot(&self, slot: u32) {
        self.header().slot.set(slot);
    }

    /// Hands out one more owned reference to this task without counting it: the one the
    /// registry held.
    ///
    /// # Safety
    /// The caller must own one counted reference to this task that nothing else will
    /// release (the registry's, when it removes the task).
    pub(super) unsafe fn adopt_counted(&self) -> TaskRef {
        TaskRef { ptr: self.ptr }
    }

    /// Marks the task as named (its name is in the registry); before it is scheduled.
    pub(super) fn set_named(&self) {
        self.header().state.fetch_or(NAMED, Relaxed);
    }

    /// Whether the task was spawned with a name.
    pub(crate) fn is_named(&self) -> bool {
        self.header().state.load(Relaxed) & NAMED != 0
    }

    /// Whether the `JoinHandle` still exists (if not, an output is dropped at completion).
    pub(crate) fn join_alive(&self) -> bool {
        self.header().state.load(Acquire) & JOIN_GONE == 0
    }

    /// Records that the `JoinHandle` was dropped.
    pub(crate) fn set_join_gone(&self) {
        self.header().state.fetch_or(JOIN_GONE, AcqRel);
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.state() & COMPLETE != 0
    }

    /// Takes the waker to call when the task completes (the caller wakes or drops it).
    pub(crate) fn take_join_waker(&self) -> Option<Waker> {
        self.header().local.join_waker.take()
    }

    /// Stores the waker to call when the task completes; returns the one it replaces, for
    /// the caller to drop once nothing of the task's state is borrowed.
    pub(crate) fn replace_join_waker(&self, waker: Option<Waker>) -> Option<Waker> {
        self.header().local.join_waker.replace(waker)
    }

    /// When the task was last polled (loop clock, ns).
    pub(crate) fn polled_at(&self) -> u64 {
        self.header().local.polled_at.get()
    }

    /// Records the start of a poll (loop clock, ns).
    pub(crate) fn set_polled_at(&self, now: u64) {
        self.header().local.polled_at.set(now);
    }

    /// Queues the task as a wake would (used by spawn and abort).
    pub(crate) fn schedule(&self) {
        schedule(self.ptr);
    }

    /// Asks the loop to drop the future at its next turn.
    pub(crate) fn request_abort(&self) {
        self.header().state.fetch_or(ABORT, AcqRel);
        self.schedule();
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

    /// Drops the future, storing `Cancelled` as the output.
    pub(crate) fn cancel(&self) {
        // SAFETY: loop thread; the future is not being polled (no re-entrant poll exists).
        unsafe { (self.header().vtable.cancel)(self.ptr) }
    }

    /// Marks the task complete (never polled again; wakes become no-ops).
    pub(crate) fn set_complete(&self) {
        self.header().state.fetch_or(COMPLETE, AcqRel);
    }

    /// Moves the output out; `out` must point to a `Poll<Result<T, JoinError>>` of the
    /// task's own output type.
    ///
    /// # Safety
    /// `T` must be the output type of the future this task was created with.
    pub(crate) unsafe fn take_output<T>(&self, out: &mut Poll<Result<T, JoinError>>) {
        // SAFETY: the caller guarantees the type; loop thread only.
        unsafe { (self.header().vtable.take_output)(self.ptr, out as *mut _ as *mut ()) }
    }

    /// Drops whatever the stage holds (future or output).
    pub(crate) fn drop_stage(&self) {
        // SAFETY: loop thread; nothing borrows the stage now.
        unsafe { (self.header().vtable.drop_stage)(self.ptr) }
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

/// Whether `waker` is one of readyloop's task wakers (either kind).
fn is_task_waker(waker: &Waker) -> bool {
    core::ptr::eq(waker.vtable(), &WAKER) || core::ptr::eq(waker.vtable(), &LOCAL)
}

/// Whether `a` and `b` wake the same task (of either kind).
pub(super) fn same_task(a: &Waker, b: &Waker) -> bool {
    a.data() == b.data() && is_task_waker(a) && is_task_waker(b)
}

/// The task id behind a waker, if the waker is one of readyloop's task wakers.
pub(crate) fn task_id_of(waker: &Waker) -> Option<u64> {
    if is_task_waker(waker) {
        // SAFETY: our vtable means the data pointer is a live header (the waker holds a ref).
        Some(unsafe { &*(waker.data() as *const Header) }.id)
    } else {
        None
    }
}

fn increment(header: &Header) {
    let old = header.refs.fetch_add(1, Relaxed);
    // Like Arc: a count this large means leaked wakers in a loop; stop before it wraps.
    assert!(
        old <= i32::MAX as u32,
        "readyloop: task reference count overflow"
    );
}

fn release(ptr: NonNull<Header>) {
    // SAFETY: the caller owned one reference, so the header is alive until we drop it.
    let header = unsafe { ptr.as_ref() };
    if header.refs.fetch_sub(1, Release) == 1 {
        core::sync::atomic::fence(Acquire);
        // SAFETY: that was the last reference; the stage holds no future and no output
        // (see the module docs), so freeing on any thread is sound.
        unsafe { (header.vtable.dealloc)(ptr) }
    }
}

/// Marks the task SCHEDULED; true if this call must queue it (it was neither queued nor
/// finished).
fn claim(header: &Header) -> bool {
    header.state.fetch_or(SCHEDULED, AcqRel) & (SCHEDULED | COMPLETE) == 0
}

/// Queues a claimed task with a reference the queue now owns. If the loop is gone, nothing
/// will run the task, so that reference is returned.
fn enqueue(ptr: NonNull<Header>) {
    // SAFETY: the caller hands the queue a reference, so the header is alive.
    if !unsafe { ptr.as_ref() }.shared.push(ptr) {
        release(ptr);
    }
}

fn schedule(ptr: NonNull<Header>) {
    // SAFETY: callers hold a reference.
    let header = unsafe { ptr.as_ref() };
    if claim(header) {
        increment(header);
        enqueue(ptr);
    }
}

/// Claims the task with the caller's reference: the task, carrying that reference, if this
/// call must queue it; else `None`, the reference released (already queued or finished).
fn claim_taking(ptr: NonNull<Header>) -> Option<TaskRef> {
    // SAFETY: the caller hands over a reference, so the header is alive.
    if claim(unsafe { ptr.as_ref() }) {
        Some(TaskRef { ptr })
    } else {
        release(ptr);
        None
    }
}

/// Like `schedule`, but the queue takes the caller's reference instead of counting its own:
/// a wake by value on the loop's thread costs no reference count traffic.
fn schedule_taking(ptr: NonNull<Header>) {
    if let Some(task) = claim_taking(ptr) {
        // The queue now owns the task's reference (it is not dropped here).
        enqueue(ManuallyDrop::new(task).ptr);
    }
}

/// Wakes `waker` if it is one of the loop's local copies (see `LOCAL`), handing the task
/// to the caller to queue on the loop's own run queue instead of through the wake stack
/// (two locked instructions less): `Ok(Some(task))` if this wake scheduled it (the waker's
/// reference is now the task's), `Ok(None)` if it was already queued or finished. Any other
/// waker comes back as `Err`, for the caller to wake as usual.
pub(crate) fn wake_local(waker: Waker) -> Result<Option<TaskRef>, Waker> {
    if !core::ptr::eq(waker.vtable(), &LOCAL) {
        return Err(waker);
    }
    let waker = ManuallyDrop::new(waker);
    // SAFETY: a LOCAL waker's data is a live header, and it owns one reference, which is
    // taken over here (the waker is not dropped).
    let ptr = unsafe { NonNull::new_unchecked(waker.data() as *mut Header) };
    Ok(claim_taking(ptr))
}

/// Whether `waker` wakes a task of the loop whose `Shared` is `owner` (its clone runs no
/// user code).
pub(super) fn is_own(waker: &Waker, owner: *const Shared) -> bool {
    // SAFETY: a task waker's data is a live header (the waker holds a reference).
    is_task_waker(waker)
        && core::ptr::eq(
            Arc::as_ptr(&unsafe { &*(waker.data() as *const Header) }.shared),
            owner,
        )
}

/// A clone of `waker` for the loop's own tables (uncounted, see `LOCAL`), if `waker` wakes
/// a task of the loop whose `Shared` is `owner`.
pub(super) fn local_clone(waker: &Waker, owner: *const Shared) -> Option<Waker> {
    if !is_task_waker(waker) {
        return None;
    }
    // SAFETY: a task waker's data is a live header (the waker holds a reference).
    let header = unsafe { &*(waker.data() as *const Header) };
    if !core::ptr::eq(Arc::as_ptr(&header.shared), owner) {
        return None;
    }
    increment(header);
    // SAFETY: the reference just counted is this waker's.
    Some(unsafe { Waker::from_raw(RawWaker::new(waker.data(), &LOCAL)) })
}

/// The waker that may travel to any thread: each one is counted in its loop's
/// `Shared::escaped` from its clone to its wake or drop.
static WAKER: RawWakerVTable =
    RawWakerVTable::new(waker_clone, waker_wake, waker_wake_by_ref, waker_drop);

/// The clones of a task's waker that the loop keeps in its own tables (reactor, timers,
/// join): they never leave the loop's thread, so they are not counted. Cloning one makes a
/// counted `WAKER`, since that clone may go anywhere.
static LOCAL: RawWakerVTable =
    RawWakerVTable::new(waker_clone, local_wake, waker_wake_by_ref, local_drop);

unsafe fn waker_clone(data: *const ()) -> RawWaker {
    // SAFETY: `data` is the header of a task this waker holds a reference to.
    let header = unsafe { &*(data as *const Header) };
    increment(header);
    header.shared.escape();
    RawWaker::new(data, &WAKER)
}

unsafe fn waker_wake(data: *const ()) {
    // SAFETY: the waker's own reference is consumed here; it keeps the header alive until
    // `release`.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    schedule(ptr);
    // SAFETY: as above. The task is queued before the count drops (see `Shared::park`).
    unsafe { ptr.as_ref() }.shared.unescape();
    release(ptr);
}

unsafe fn waker_wake_by_ref(data: *const ()) {
    // SAFETY: the waker holds a reference for the duration of the call.
    schedule(unsafe { NonNull::new_unchecked(data as *mut Header) });
}

unsafe fn waker_drop(data: *const ()) {
    // SAFETY: the waker's own reference is released here, after the count drops.
    let ptr = unsafe { NonNull::new_unchecked(data as *mut Header) };
    // SAFETY: as above.
    unsafe { ptr.as_ref() }.shared.unescape();
    release(ptr);
}

unsafe fn local_wake(data: *const ()) {
    // SAFETY: the waker's own reference is consumed here: it becomes the queue's.
    schedule_taking(unsafe { NonNull::new_unchecked(data as *mut Header) });
}

unsafe fn local_drop(data: *const ()) {
    // SAFETY: the waker's own reference is released.
    release(unsafe { NonNull::new_unchecked(data as *mut Header) });
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

/// Drops the future the stage holds, in place (it is pinned: it must not move before its
/// `Drop`), through a raw pointer, so no reference into the stage is held by the loop while
/// that user code runs. Afterwards the stage holds no value: the caller writes one. With
/// `std`, a panic in the future's `Drop` is caught and returned.
///
/// # Safety
/// Loop thread only; the stage is `Running`; no reference into it is live; the task is
/// not COMPLETE (so nothing reads the stage until the caller has written it again).
unsafe fn drop_future_in_place<F: Future>(ptr: NonNull<Header>) -> Result<(), JoinError> {
    let stage = stage::<F>(ptr);
    run_catching(|| {
        // Should the `Drop` unwind (and no `catch_unwind` stop it: without `std`), the stage
        // must not still look `Running`, or the loop's own drop would drop it again.
        let vacated = Vacated(stage);
        // SAFETY: the caller's contract: the stage is a live, pinned `Running` value that is
        // never used again before the caller overwrites it.
        unsafe { core::ptr::drop_in_place(stage) };
        core::mem::forget(vacated);
    })
}

/// Marks a stage `Consumed` if dropped, which only an unwinding `Drop` of its future does
/// (see `drop_future_in_place`).
struct Vacated<F: Future>(*mut Stage<F>);

impl<F: Future> Drop for Vacated<F> {
    fn drop(&mut self) {
        // SAFETY: the stage's value was being dropped and is never used again; writing over
        // it drops nothing.
        unsafe { core::ptr::write(self.0, Stage::Consumed) };
    }
}

/// Runs `f`; with `std`, a panic in it is caught and returned.
#[cfg(feature = "std")]
fn run_catching(f: impl FnOnce()) -> Result<(), JoinError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(JoinError::panicked)
}

#[cfg(not(feature = "std"))]
fn run_catching(f: impl FnOnce()) -> Result<(), JoinError> {
    f();
    Ok(())
}

/// Drops `value`, catching a panic in its `Drop` (see `run_catching`).
fn drop_catching<T>(value: T) -> Result<(), JoinError> {
    run_catching(move || drop(value))
}

#[cfg(feature = "std")]
fn catch_panic<F: Future>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Result<Poll<F::Output>, JoinError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| future.poll(cx)))
        .map_err(JoinError::panicked)
}

#[cfg(not(feature = "std"))]
fn catch_panic<F: Future>(
    future: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Result<Poll<F::Output>, JoinError> {
    Ok(future.poll(cx))
}

/// Whether the stage still holds the future.
///
/// # Safety
/// Loop thread only; no reference into the stage is live.
unsafe fn is_running<F: Future>(ptr: NonNull<Header>) -> bool {
    // SAFETY: the caller's contract. (A unique borrow, as a poll takes: the future may be
    // self-referential, and a shared one would retag the references it holds.)
    matches!(unsafe { &mut *stage::<F>(ptr) }, Stage::Running(_))
}

/// Moves the output or nothing the stage holds out (never a future: that is pinned),
/// leaving `with` in its place: the caller drops it (an output's `Drop` is user code) with
/// no reference into the stage live.
///
/// # Safety
/// Loop thread only; the stage is not `Running`; no reference into it is live.
unsafe fn replace_stage<F: Future>(ptr: NonNull<Header>, with: Stage<F>) -> Stage<F> {
    // SAFETY: the caller's contract; `stage` points into the live task cell.
    unsafe { core::ptr::replace(stage::<F>(ptr), with) }
}

unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: loop thread only, not during a poll of this task, and not COMPLETE (the
    // loop cancels only unfinished tasks).
    if unsafe { is_running::<F>(ptr) } {
        // SAFETY: as above.
        let dropped = unsafe { drop_future_in_place::<F>(ptr) };
        let output = match dropped {
            Ok(()) => Err(JoinError::Cancelled),
            Err(error) => Err(error),
        };
        // SAFETY: the stage holds no value now.
        unsafe { core::ptr::write(stage::<F>(ptr), Stage::Finished(output)) };
    }
}

unsafe fn take_output<F: Future>(ptr: NonNull<Header>, out: *mut ()) {
    // SAFETY: loop thread only; called for a COMPLETE task, whose stage is not `Running`.
    let taken = unsafe { replace_stage::<F>(ptr, Stage::Consumed) };
    if let Stage::Finished(result) = taken {
        let out = out as *mut Poll<Result<F::Output, JoinError>>;
        // SAFETY: `out` points to a live `Poll<Result<F::Output, JoinError>>` (the caller's
        // promise), borrowed mutably by the caller for this call.
        unsafe { *out = Poll::Ready(result) };
    }
}

unsafe fn drop_stage<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: loop thread only; nothing borrows the stage.
    if unsafe { is_running::<F>(ptr) } {
        // Not reached today (the stage is dropped only once the task is COMPLETE), but a
        // future must be dropped where it is pinned.
        // SAFETY: as above.
        let _ = unsafe { drop_future_in_place::<F>(ptr) };
        // SAFETY: the stage holds no value now.
        unsafe { core::ptr::write(stage::<F>(ptr), Stage::Consumed) };
        return;
    }
    // SAFETY: as above; the stage is not `Running`. The old output is dropped after the
    // stage is `Consumed`.
    let old = unsafe { replace_stage::<F>(ptr, Stage::Consumed) };
    drop(old);
}

unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: this was allocated as a Box<TaskCell<F>> and this is the last reference.
    drop(unsafe { Box::from_raw(ptr.cast::<TaskCell<F>>().as_ptr()) });
}
