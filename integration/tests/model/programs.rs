//! The random programs the model test runs: steps, fates, and their proptest strategies.

use proptest::prelude::*;

/// The last grid point (ms after the program's start) used for deadlines and thread actions.
pub(crate) const HORIZON_MS: u8 = 10;

#[derive(Clone, Debug)]
pub(crate) enum Step {
    /// `Sleep::until(base + ms)`.
    Sleep(u8),
    /// `Sleep::until(base + first)`, which the same task (a second future it polls, as a
    /// `select` or `join` would) moves with `Sleep::reset` to `base + to` at `base + at`
    /// while the first future waits on it, unless it fired first.
    Reset {
        first: u8,
        at: u8,
        to: u8,
    },
    Yield,
    /// Read one byte from a fresh pipe that a driver thread writes at `base + at`.
    Pipe {
        at: u8,
        blocking: bool,
    },
    /// Wait for a flag that a driver thread sets (then wakes) at `base + at`.
    Remote {
        at: u8,
        by_ref: bool,
    },
    /// Wait on a pipe (or a flag) nobody ever writes: only in tasks that will be aborted.
    Forever {
        pipe: bool,
    },
    /// Spawn a child task running `steps`.
    Spawn {
        steps: Vec<Step>,
        fate: ChildFate,
    },
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum ChildFate {
    /// The parent awaits the child's handle (dropping it, i.e. detaching, if aborted).
    Await,
    /// The parent drops the handle at once.
    Detach,
    /// The parent awaits an abort-on-drop handle (so aborting the parent aborts the child).
    AwaitAbortOnDrop,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Fate {
    Await,
    Detach,
    DetachAt(u8),
    AbortAt(u8),
    AbortOnDropAt(u8),
}

impl Fate {
    pub(crate) fn aborts(self) -> bool {
        matches!(self, Fate::AbortAt(_) | Fate::AbortOnDropAt(_))
    }
}

#[derive(Clone, Debug)]
pub(crate) struct TaskSpec {
    pub(crate) steps: Vec<Step>,
    pub(crate) fate: Fate,
}

#[derive(Clone, Debug)]
pub(crate) struct Program {
    pub(crate) tasks: Vec<TaskSpec>,
    /// (at ms, task number modulo the task count, driver thread) spurious wakes.
    pub(crate) spurious: Vec<(u8, usize, bool)>,
    /// Which driver thread performs each pipe write / flag set (cycled).
    pub(crate) threads: Vec<bool>,
    /// Drop the loop at `base + ms` with whatever is still running (its tasks are cancelled,
    /// and the drivers' later wakes find no loop), instead of waiting for every task.
    pub(crate) drop_loop_at: Option<u8>,
}

pub(crate) fn grid() -> impl Strategy<Value = u8> {
    0..=HORIZON_MS
}

pub(crate) fn leaf_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => grid().prop_map(Step::Sleep),
        2 => (grid(), grid(), grid()).prop_map(|(first, at, to)| Step::Reset { first, at, to }),
        1 => Just(Step::Yield),
        2 => (grid(), any::<bool>()).prop_map(|(at, blocking)| Step::Pipe { at, blocking }),
        2 => (grid(), any::<bool>()).prop_map(|(at, by_ref)| Step::Remote { at, by_ref }),
    ]
}

pub(crate) fn step() -> impl Strategy<Value = Step> {
    let fate = prop_oneof![
        Just(ChildFate::Await),
        Just(ChildFate::Detach),
        Just(ChildFate::AwaitAbortOnDrop)
    ];
    prop_oneof![
        8 => leaf_step(),
        1 => (prop::collection::vec(leaf_step(), 0..4), fate)
            .prop_map(|(steps, fate)| Step::Spawn { steps, fate }),
    ]
}

pub(crate) fn task() -> impl Strategy<Value = TaskSpec> {
    let fate = prop_oneof![
        3 => Just(Fate::Await),
        1 => Just(Fate::Detach),
        1 => grid().prop_map(Fate::DetachAt),
        2 => grid().prop_map(Fate::AbortAt),
        2 => grid().prop_map(Fate::AbortOnDropAt),
    ];
    let forever = prop::option::of((any::<prop::sample::Index>(), any::<bool>()));
    (prop::collection::vec(step(), 0..6), fate, forever).prop_map(|(mut steps, fate, forever)| {
        if let (true, Some((at, pipe))) = (fate.aborts(), forever) {
            let at = at.index(steps.len() + 1);
            steps.insert(at, Step::Forever { pipe });
        }
        TaskSpec { steps, fate }
    })
}

pub(crate) fn program() -> impl Strategy<Value = Program> {
    (
        prop::collection::vec(task(), 1..10),
        prop::collection::vec((grid(), 0usize..64, any::<bool>()), 0..8),
        prop::collection::vec(any::<bool>(), 1..8),
        prop::option::weighted(0.25, grid()),
    )
        .prop_map(|(tasks, spurious, threads, drop_loop_at)| Program {
            tasks,
            spurious,
            threads,
            drop_loop_at,
        })
}
