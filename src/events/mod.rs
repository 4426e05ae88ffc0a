//! The leaves: hand-written futures that hand the loop the event they wait for.
//!
//! In seed 002 a coroutine `yield`s an event object (`AsyncSleep`, `AsyncRead`, ...) up to
//! the loop, which files it under a deadline or an fd and resumes that coroutine when it
//! fires. Here the same hand-off happens inside `poll`: a leaf that cannot finish registers
//! its event with the loop through the [`Handle`](crate::Handle) it captured when it was made
//! (a deadline in the timer heap, or an fd and [`Interest`](crate::Interest) in the reactor)
//! together with the task's `Waker`, and returns `Pending`. When the event fires the loop
//! calls that waker, which queues exactly the waiting task; its next poll reaches the leaf
//! again, which finishes (or registers again). Dropping a leaf withdraws its registration.
//!
//! Every leaf also spends one unit of its task's budget per completed operation, so a task
//! reading an always-ready fd in a loop yields to the others now and then.

mod read;
mod recv;
mod sleep;
mod yield_now;

pub use read::ReadFd;
pub use recv::AsyncRecv;
pub use sleep::Sleep;
pub use yield_now::{yield_now, YieldNow};
