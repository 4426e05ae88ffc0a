//! Combining futures and tasks: asyncio's `gather`, `wait`, `wait_for`, plus `select` and
//! `interval`.
//!
//! Everything here works without `std`: what needs a timer (`timeout`, `wait`, `interval`)
//! is a [`Handle`](crate::Handle) method; with `std` the free functions of the same names
//! (`readyloop::timeout`, ...) call it on [`Handle::current`](crate::Handle::current). Joins and
//! selects run their children *in place*, inside the task that awaits them; nothing here
//! spawns. Dropping any of these futures drops every child it still holds and every timer
//! it armed, so an abandoned combinator leaves nothing registered with the loop. Nothing
//! here may block or busy-wait.

mod gather;
mod interval;
mod join_all;
mod join_tuple;
mod maybe_done;
mod select;
mod timeout;
mod wait;

pub use gather::{gather, try_gather, Gather, TryGather};
pub use interval::{Interval, MissedTickBehavior, Tick};
pub use join_all::{join_all, try_join_all, JoinAll, TryJoinAll};
pub use join_tuple::{
    Join1, Join10, Join11, Join12, Join2, Join3, Join4, Join5, Join6, Join7, Join8, Join9,
    TryJoin1, TryJoin10, TryJoin11, TryJoin12, TryJoin2, TryJoin3, TryJoin4, TryJoin5, TryJoin6,
    TryJoin7, TryJoin8, TryJoin9,
};
pub use select::{select, select_all, Either, Select, SelectAll};
pub use timeout::{Elapsed, Timeout};
pub use wait::{Finished, ReturnWhen, TaskOutcome, Wait};
