//! # From the mini loop to readyloop
//!
//! A chapter to read, not an API: this module has no items. It walks from
//! `examples/mini_loop.rs` (seed 002's `run()` in about 240 lines of Rust on rustix alone) to
//! the loop this crate runs, one production concern at a time, saying what each adds and where
//! it lives. `tests/mini_loop.rs` runs the same programs on both loops and checks that they
//! make the same sequence of waits (the same kinds of fd with the same interest, and the same
//! kind of timeout), so the small loop is a faithful map of the large one.
//!
//! To read the large one, follow `docs/TOUR.md` in the repository: the files to open in order
//! to follow one turn and one fd, each step with its line count and the article's Python (8
//! files, under 1,500 lines; `.ci/checks/31-tour.sh` keeps the counts true).
//!
//! ## What the mini loop already has
//!
//! | the mini loop | readyloop |
//! |---|---|
//! | `ready: Vec<usize>`, tasks polled in a `for` | the fresh queue and run queue, `executor/turn.rs` (`run_ready`) |
//! | `sleepers: BinaryHeap<(deadline, task)>` | `timers.rs` (a heap of deadlines with wakers) |
//! | `readers: HashMap<fd, task>` | `reactor.rs` (fd → waiters, with interest per direction) |
//! | one `poll` with the nearest deadline | `timeout` + `poll_backend` in `executor/turn.rs`, `sys/backend/poll.rs` |
//! | `Command` left in a thread-local before `Pending` | the waker each leaf files with the reactor or the timers |
//! | `Sleep`, `ReadFd`, `AsyncRecv` | `events/sleep.rs`, `events/read.rs`, `events/recv.rs` |
//!
//! Step through the real loop with [`Loop::step`](crate::Loop::step) (`examples/step.rs`):
//! each turn comes back as a [`TurnRecord`](crate::trace::TurnRecord) whose lines read like
//! the mini loop's `--waits` output, with the wake causes the mini loop never needed.
//!
//! ## What each production concern adds
//!
//! **Wakers instead of commands.** The mini loop knows what a task waits on because the task
//! tells it once, on the way out. Real futures wait on things the loop never sees (a channel,
//! another task's output, a thread), so readyloop gives every task a [`Waker`](core::task::Waker)
//! and a task is run again only when something calls it: `task/raw.rs` (the task),
//! `task/raw/waker.rs` (its waker), `task/shared.rs` (the queue wakes land in).
//!
//! **Cross-thread wakes.** A waker may be called from another thread while the loop blocks in
//! `poll`. The wake queue is a lock-free list (`task/shared.rs`), and a blocked loop is woken
//! by writing its notifier, an eventfd in the fd set (`sys/notifier.rs`); the notifier is left
//! out of the set while no waker has left the loop's thread, so a single-threaded program's
//! waits look exactly like the mini loop's (which is why the comparison test can ignore it).
//!
//! **Cancellation.** The mini loop's tasks always run to the end. In readyloop a future can be
//! dropped at any `.await` (a [`timeout`](crate::Handle::timeout), an aborted
//! [`JoinHandle`](crate::JoinHandle), a loop dropped with tasks pending): every leaf removes
//! its waiter from the reactor or its timer from the heap in `Drop` (`reactor.rs`,
//! `timers.rs`, `task/join.rs`), so no stale entry wakes a task that no longer waits.
//!
//! **Fairness.** The mini loop runs every ready task each turn, so a task that is always ready
//! (a socket that never drains) would starve the poll. readyloop polls at most a batch of
//! tasks per turn and gives each poll a budget of leaf operations before the leaf yields
//! (`executor/turn.rs`: `BATCH`; `executor/handle.rs`: `BUDGET`; `executor/leaf_rules.rs`:
//! `poll_budget`); a turn with
//! work left waits with a zero timeout.
//!
//! **Closed fds.** The mini loop trusts each fd to stay open. A real program closes fds under
//! waiters; poll then answers `POLLNVAL`, which readyloop turns into
//! [`ErrorKind::Closed`](crate::ErrorKind::Closed) for the waiter and a dropped registration
//! (`reactor.rs`), instead of a loop that spins on an fd that is always "ready".
//!
//! **epoll.** The mini loop rebuilds its pollfd array every turn: O(fds) per wait. readyloop
//! keeps the array between turns (`sys/backend/poll.rs`) and can use `epoll(7)` instead, whose
//! interest list lives in the kernel (`sys/backend/epoll.rs`; [`BackendKind`](crate::BackendKind)),
//! and `select(2)` for the article's own call (`sys/backend/select.rs`). The turn above them
//! is the same code for all three.
//!
//! **Seeing it.** The mini loop prints its waits; readyloop's trace
//! ([`Builder::trace`](crate::Builder::trace)) reports every step of every turn, and
//! `tools/trace-view` draws a recorded trace (`READYLOOP_TRACE=path` under
//! `#[readyloop::main]` / `#[readyloop::test]`) as an SVG timeline or tells it as a story.
