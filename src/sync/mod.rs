//! Coordination between the tasks of one loop: asyncio's `Future`, `Queue`, `Event`,
//! `Semaphore` and `Lock`.
//!
//! Everything here is for tasks of a single loop on a single thread: the types hold an `Rc`
//! or `RefCell` and are `!Sync` (mostly `!Send`). They need no [`Handle`](crate::Handle),
//! work without `std`, and wait in FIFO lines that allocate nothing per wait once warm.
//! Every hand-off (an item to a getter, a permit, the lock) survives cancellation: a future
//! dropped after something was handed to it passes that thing on, so nothing is lost.
//! Nothing here may call a waker or a user callback while holding one of its borrows.

mod event;
mod mutex;
mod promise;
mod queue;
mod semaphore;
mod waiters;

pub use event::{Event, EventWait};
pub use mutex::{Lock, Mutex, MutexGuard};
pub use promise::{promise, AlreadySet, FutureError, Outcome, Promise, SharedFuture};
pub use queue::{Empty, Full, Get, Put, Queue, QueueJoin, TaskDoneError};
pub use semaphore::{Acquire, Permit, Semaphore};
