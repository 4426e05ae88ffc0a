//! Builds the stuck-task report from the loop's tables (the report's types are in
//! `report.rs`, below the executor: data only).
//!
//! The reactor's waiters and the timer heap name the task behind each waker (the loop
//! recognises its own wakers); the task registry gives names and the time of each task's
//! last poll. Building a report allocates; it never changes the loop's state or calls a
//! waker.

use super::Core;
use crate::report::{Report, TaskReport, WaitReport};
use crate::task::task_id_of;
use crate::time::Instant;
use crate::timers::TimerKey;
use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::task::Waker;
use core::time::Duration;

impl Core {
    /// Builds the report of every pending task; `skip` is a timer not to list (the
    /// deadline of `block_on_timeout`), `with_main` lists the `block_on` future even if it
    /// files no wait.
    pub(crate) fn report(&self, skip: Option<TimerKey>, with_main: bool) -> Report {
        let now = self.clock_now();
        let since = |t: u64| Duration::from_nanos(now.saturating_sub(t));
        let mut tasks: BTreeMap<u64, TaskReport> = BTreeMap::new();
        for (task, name) in self.tasks.borrow().iter() {
            tasks.insert(
                task.id(),
                TaskReport {
                    id: task.id(),
                    name: name.cloned(),
                    ready: task.state() & crate::task::state::SCHEDULED != 0,
                    waits: Vec::new(),
                    since_poll: since(task.polled_at()),
                },
            );
        }
        let main_waker_data = alloc::sync::Arc::as_ptr(&self.shared) as *const ();
        let main = |tasks: &mut BTreeMap<u64, TaskReport>| -> TaskReport {
            let mut t = tasks.remove(&0).unwrap_or(TaskReport {
                id: 0,
                name: None,
                ready: false,
                waits: Vec::new(),
                since_poll: since(self.main_polled_at.get()),
            });
            t.ready = false;
            t
        };
        if with_main {
            let t = main(&mut tasks);
            tasks.insert(0, t);
        }
        let mut foreign = Vec::new();
        let mut file = |waker: &Waker, wait: WaitReport| {
            let id = if waker.data() == main_waker_data {
                Some(0)
            } else {
                task_id_of(waker)
            };
            match id {
                Some(0) if !tasks.contains_key(&0) => {
                    let mut t = main(&mut tasks);
                    t.waits.push(wait);
                    tasks.insert(0, t);
                }
                Some(id) => match tasks.get_mut(&id) {
                    Some(t) => t.waits.push(wait),
                    None => foreign.push(wait),
                },
                None => foreign.push(wait),
            }
        };
        self.reactor
            .borrow()
            .for_each_waiter(&mut |fd, interest, waiter| {
                let wait = WaitReport::Fd {
                    fd,
                    interest,
                    waited: since(waiter.since),
                    object: crate::sys::describe::describe_registered(fd),
                };
                file(&waiter.waker, wait);
            });
        self.timers
            .borrow()
            .for_each(&mut |key, deadline, armed_at, waker, origin| {
                if Some(key) == skip {
                    return;
                }
                let wait = WaitReport::Timer {
                    deadline: Instant(deadline),
                    due_in: Duration::from_nanos(deadline.saturating_sub(now)),
                    waited: since(armed_at),
                    origin,
                };
                file(waker, wait);
            });
        Report::new(tasks.into_values().collect(), foreign)
    }
}
