//! Tasks: one allocation each (header, future and output slot together), their wakers, and
//! the handle that awaits their output.
//!
//! This is the one intricate piece of `unsafe` in the crate. The rule that keeps it sound:
//! a `Waker` may travel to any thread, so it touches only the header's atomics and the loop's
//! [`Shared`] queue; the future, the output and the header's `local` part are touched only on
//! the loop's thread (the `Loop`, `Handle` and `JoinHandle` are all `!Send`).

mod join;
mod names;
mod raw;
mod registry;
mod shared;
pub(crate) mod state;

pub use join::{JoinError, JoinHandle};
#[allow(unused_imports)] // the trace and report layer names tasks by their wakers
pub(crate) use raw::{task_id_of, TaskRef};
pub(crate) use registry::Registry;
pub(crate) use shared::Shared;
