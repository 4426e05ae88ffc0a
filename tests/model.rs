//! Model-based property tests of the scheduler.
//!
//! proptest makes random programs: tasks that sleep until explicit deadlines on a 1 ms grid
//! (so equal deadlines really tie), yield, read a byte from a pipe that another thread writes
//! later, wait for a flag that another thread sets and then wakes, spawn children (awaited,
//! detached or abort-on-drop), and wait forever (only in tasks that get aborted). Top-level
//! handles are awaited, dropped at once, dropped later, aborted, or dropped with
//! abort-on-drop. Two driver threads write the pipes, set the flags and send spurious wakes
//! to random tasks. The program runs on a real loop with real pipes and real timers, and
//! every future is instrumented; the run is then checked against a simple model:
//!
//! - every task is dropped exactly once and either completed or was cancelled; only a task
//!   whose abort was asked (directly or by an abort-on-drop handle) may be cancelled, and
//!   no task is polled after it completed or after its abort was asked;
//! - timers fire in deadline order, FIFO among equal deadlines, never early, at most once,
//!   and never after their sleep was dropped;
//! - no wakeup is lost: the program ends (a watchdog thread kills the process, printing the
//!   program, if a case is wedged for 20 s; the final wait has no timer that could mask a
//!   lost wake);
//! - dropping the loop mid-program (a quarter of the programs) cancels what still runs, each
//!   future dropped once and never polled again, and the drivers' later wakes are no-ops;
//! - no wait outlives its waiter: `fd_waiters()`, `fds_registered`, `timers_armed` and
//!   `tasks_alive` are back to baseline, even though the pipes of aborted readers are still
//!   open and were never written.
//!
//! `PROPTEST_CASES` overrides the case count; under valgrind (`READYLOOP_UNDER_VALGRIND=1`)
//! the default is small.

use proptest::prelude::*;
use readyloop::{yield_now, AsyncRead, Handle, Instant, JoinHandle, Loop, Sleep};
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::future::{poll_fn, Future};
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// The last grid point (ms after the program's start) used for deadlines and thread actions.
const HORIZON_MS: u8 = 10;

// ---- the programs ------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Step {
    /// `Sleep::until(base + ms)`.
    Sleep(u8),
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
enum ChildFate {
    /// The parent awaits the child's handle (dropping it, i.e. detaching, if aborted).
    Await,
    /// The parent drops the handle at once.
    Detach,
    /// The parent awaits an abort-on-drop handle (so aborting the parent aborts the child).
    AwaitAbortOnDrop,
}

#[derive(Clone, Copy, Debug)]
enum Fate {
    Await,
    Detach,
    DetachAt(u8),
    AbortAt(u8),
    AbortOnDropAt(u8),
}

impl Fate {
    fn aborts(self) -> bool {
        matches!(self, Fate::AbortAt(_) | Fate::AbortOnDropAt(_))
    }
}

#[derive(Clone, Debug)]
struct TaskSpec {
    steps: Vec<Step>,
    fate: Fate,
}

#[derive(Clone, Debug)]
struct Program {
    tasks: Vec<TaskSpec>,
    /// (at ms, task number modulo the task count, driver thread) spurious wakes.
    spurious: Vec<(u8, usize, bool)>,
    /// Which driver thread performs each pipe write / flag set (cycled).
    threads: Vec<bool>,
    /// Drop the loop at `base + ms` with whatever is still running (its tasks are cancelled,
    /// and the drivers' later wakes find no loop), instead of waiting for every task.
    drop_loop_at: Option<u8>,
}

fn grid() -> impl Strategy<Value = u8> {
    0..=HORIZON_MS
}

fn leaf_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => grid().prop_map(Step::Sleep),
        1 => Just(Step::Yield),
        2 => (grid(), any::<bool>()).prop_map(|(at, blocking)| Step::Pipe { at, blocking }),
        2 => (grid(), any::<bool>()).prop_map(|(at, by_ref)| Step::Remote { at, by_ref }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
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

fn task() -> impl Strategy<Value = TaskSpec> {
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

fn program() -> impl Strategy<Value = Program> {
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

// ---- what the program touches at run time -------------------------------------------------

/// A flag another thread sets before waking whoever waits.
#[derive(Default)]
struct Remote {
    state: Mutex<(bool, Option<Waker>)>,
}

impl Remote {
    fn fire(&self, by_ref: bool) {
        let waker = {
            let mut s = self.state.lock().unwrap();
            s.0 = true;
            s.1.take()
        };
        match (waker, by_ref) {
            (Some(w), true) => w.wake_by_ref(),
            (Some(w), false) => w.wake(),
            (None, _) => {}
        }
    }
}

struct RemoteWait(Arc<Remote>);

impl Future for RemoteWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.0.state.lock().unwrap();
        if s.0 {
            return Poll::Ready(());
        }
        s.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// What a driver thread does.
enum Action {
    WritePipe(usize),
    Fire(usize, bool),
    Spurious(usize),
}

/// A step with its resources resolved.
enum Op {
    Sleep {
        id: usize,
        deadline: Instant,
    },
    Yield,
    Pipe(usize),
    Remote(usize),
    Forever {
        pipe: bool,
        index: usize,
    },
    Spawn {
        id: usize,
        ops: Vec<Op>,
        fate: ChildFate,
    },
}

#[derive(Debug, Default)]
struct TaskRecord {
    /// Was spawned (a child's parent may never reach its spawn step).
    spawned: bool,
    /// May this task be cancelled? (its own abort, or an abort-on-drop chain)
    abortable: bool,
    /// Has a step that never finishes unless aborted.
    waits_forever: bool,
    polls: u64,
    last_poll_seq: u64,
    ready_seq: Option<u64>,
    drops: u32,
    drop_seq: u64,
    abort_seq: Option<u64>,
}

#[derive(Debug, Default)]
struct SleepRecord {
    deadline: u64,
    armed_seq: Option<u64>,
    completed: bool,
    dropped_seq: Option<u64>,
}

/// Records when a sleep's future is dropped (after which its timer must never fire).
struct SleepDropped<'a>(&'a World, usize);

impl Drop for SleepDropped<'_> {
    fn drop(&mut self) {
        let seq = self.0.next_seq();
        self.0.sleeps.borrow_mut()[self.1].dropped_seq = Some(seq);
    }
}

/// What the loop thread observes (all single-threaded except `seq` and the fire log).
struct World {
    handle: Handle,
    seq: Arc<AtomicU64>,
    tasks: RefCell<Vec<TaskRecord>>,
    sleeps: RefCell<Vec<SleepRecord>>,
    fires: Arc<Mutex<Vec<Fire>>>,
    errors: RefCell<Vec<String>>,
    /// Each task's latest waker, for the drivers' spurious wakes.
    wakers: Vec<Arc<Mutex<Option<Waker>>>>,
    pipes: Vec<(OwnedFd, Arc<OwnedFd>)>,
    forever_pipes: Vec<(OwnedFd, OwnedFd)>,
    remotes: Vec<Arc<Remote>>,
    /// Instrumented futures not yet dropped.
    alive: Cell<usize>,
    main_waker: RefCell<Option<Waker>>,
}

#[derive(Clone, Copy, Debug)]
struct Fire {
    sleep: usize,
    seq: u64,
    now: u64,
}

impl World {
    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, SeqCst)
    }

    fn error(&self, e: String) {
        self.errors.borrow_mut().push(e);
    }
}

fn monotonic_nanos() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

// ---- instrumented futures -----------------------------------------------------------------

/// Wraps a task's future: counts polls, records completion and the one drop.
struct Probe {
    id: usize,
    world: Rc<World>,
    inner: Pin<Box<dyn Future<Output = ()>>>,
    done: bool,
}

impl Future for Probe {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let world = this.world.clone();
        let seq = world.next_seq();
        {
            let mut tasks = world.tasks.borrow_mut();
            let rec = &mut tasks[this.id];
            rec.polls += 1;
            rec.last_poll_seq = seq;
            if this.done {
                drop(tasks);
                world.error(format!("task {} polled after it completed", this.id));
                return Poll::Ready(());
            }
        }
        {
            let mut slot = world.wakers[this.id].lock().unwrap();
            if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *slot = Some(cx.waker().clone());
            }
        }
        match this.inner.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                this.done = true;
                let seq = world.next_seq();
                let mut tasks = world.tasks.borrow_mut();
                if tasks[this.id].ready_seq.replace(seq).is_some() {
                    drop(tasks);
                    world.error(format!("task {} completed twice", this.id));
                }
                Poll::Ready(())
            }
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let seq = self.world.next_seq();
        let mut tasks = self.world.tasks.borrow_mut();
        tasks[self.id].drops += 1;
        tasks[self.id].drop_seq = seq;
        drop(tasks);
        // The wakers the drivers keep would otherwise hold the task until the case ends.
        self.world.wakers[self.id].lock().unwrap().take();
        self.world.alive.set(self.world.alive.get() - 1);
        if let Some(w) = self.world.main_waker.borrow_mut().take() {
            w.wake();
        }
    }
}

/// Sees the timer's own wake (the task's waker is only forwarded), so the fire order is
/// observed exactly, whatever spurious wakes the task also gets.
struct SleepProbe {
    id: usize,
    seq: Arc<AtomicU64>,
    fires: Arc<Mutex<Vec<Fire>>>,
    task: Mutex<Option<Waker>>,
}

impl Wake for SleepProbe {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let fire = Fire {
            sleep: self.id,
            seq: self.seq.fetch_add(1, SeqCst),
            now: monotonic_nanos(),
        };
        self.fires.lock().unwrap().push(fire);
        if let Some(w) = self.task.lock().unwrap().as_ref() {
            w.wake_by_ref();
        }
    }
}

async fn probed_sleep(world: Rc<World>, id: usize, deadline: Instant) {
    let probe = Arc::new(SleepProbe {
        id,
        seq: world.seq.clone(),
        fires: world.fires.clone(),
        task: Mutex::new(None),
    });
    let waker = Waker::from(probe.clone());
    let _dropped = SleepDropped(&world, id);
    let mut sleep = std::pin::pin!(Sleep::until(&world.handle, deadline));
    poll_fn(|cx| {
        *probe.task.lock().unwrap() = Some(cx.waker().clone());
        let r = sleep.as_mut().poll(&mut Context::from_waker(&waker));
        let mut sleeps = world.sleeps.borrow_mut();
        let rec = &mut sleeps[id];
        match r {
            Poll::Pending => {
                if rec.armed_seq.is_none() {
                    rec.armed_seq = Some(world.seq.fetch_add(1, SeqCst));
                }
                Poll::Pending
            }
            Poll::Ready(()) => {
                rec.completed = true;
                let now = world.handle.now().as_nanos();
                if now < deadline.as_nanos() {
                    drop(sleeps);
                    world.error(format!(
                        "sleep {id} completed {} ns early",
                        deadline.as_nanos() - now
                    ));
                }
                Poll::Ready(())
            }
        }
    })
    .await;
    // The probe's task waker would otherwise keep the task alive through `sleep`'s slot
    // until the Sleep drops (it drops right here).
    probe.task.lock().unwrap().take();
}

/// Records when an abort-on-drop child handle is dropped (that asks the child's abort).
struct AbortGuard {
    child: usize,
    world: Rc<World>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for AbortGuard {
    fn drop(&mut self) {
        let seq = self.world.next_seq();
        self.world.tasks.borrow_mut()[self.child]
            .abort_seq
            .get_or_insert(seq);
        drop(self.handle.take());
    }
}

fn spawn_probe(world: &Rc<World>, id: usize, ops: Vec<Op>) -> JoinHandle<()> {
    world.alive.set(world.alive.get() + 1);
    world.tasks.borrow_mut()[id].spawned = true;
    let probe = Probe {
        id,
        world: world.clone(),
        inner: run_ops(world.clone(), id, ops),
        done: false,
    };
    world.handle.spawn(probe)
}

fn run_ops(world: Rc<World>, me: usize, ops: Vec<Op>) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(async move {
        for op in ops {
            match op {
                Op::Sleep { id, deadline } => probed_sleep(world.clone(), id, deadline).await,
                Op::Yield => yield_now().await,
                Op::Pipe(index) => {
                    let mut buf = [0u8; 2];
                    let fd = world.pipes[index].0.as_fd();
                    match AsyncRead::new(&world.handle, fd, &mut buf).await {
                        Ok(1) if buf[0] == index as u8 => {}
                        other => world.error(format!(
                            "task {me}: pipe {index} read {other:?}, byte {}",
                            buf[0]
                        )),
                    }
                }
                Op::Remote(index) => RemoteWait(world.remotes[index].clone()).await,
                Op::Forever { pipe: true, index } => {
                    let mut buf = [0u8; 1];
                    let fd = world.forever_pipes[index].0.as_fd();
                    let r = AsyncRead::new(&world.handle, fd, &mut buf).await;
                    world.error(format!("task {me}: a pipe nobody writes gave {r:?}"));
                }
                Op::Forever { pipe: false, .. } => std::future::pending::<()>().await,
                Op::Spawn { id, ops, fate } => {
                    let child = spawn_probe(&world, id, ops);
                    match fate {
                        ChildFate::Detach => drop(child),
                        ChildFate::Await => {
                            if let Err(e) = child.await {
                                world.error(format!("task {me}: child {id} ended with {e:?}"));
                            }
                        }
                        ChildFate::AwaitAbortOnDrop => {
                            let mut guard = AbortGuard {
                                child: id,
                                world: world.clone(),
                                handle: Some(child.abort_on_drop()),
                            };
                            if let Err(e) = guard.handle.as_mut().unwrap().await {
                                world.error(format!("task {me}: child {id} ended with {e:?}"));
                            }
                        }
                    }
                }
            }
        }
    })
}

// ---- running one program ------------------------------------------------------------------

struct Built {
    /// Top-level tasks: (id, ops, fate).
    top: Vec<(usize, Vec<Op>, Fate)>,
    records: Vec<TaskRecord>,
    sleeps: Vec<SleepRecord>,
    pipes: Vec<bool>,
    forever_pipes: usize,
    remotes: usize,
    /// (at ms, driver thread, action).
    actions: Vec<(u8, bool, Action)>,
}

fn resolve(steps: &[Step], me: usize, base: Instant, prog: &Program, b: &mut Built) -> Vec<Op> {
    let mut ops = Vec::new();
    for step in steps {
        let thread = prog.threads[b.actions.len() % prog.threads.len()];
        ops.push(match step {
            Step::Sleep(ms) => {
                let deadline = base + Duration::from_millis(u64::from(*ms));
                b.sleeps.push(SleepRecord {
                    deadline: deadline.as_nanos(),
                    ..SleepRecord::default()
                });
                Op::Sleep {
                    id: b.sleeps.len() - 1,
                    deadline,
                }
            }
            Step::Yield => Op::Yield,
            Step::Pipe { at, blocking } => {
                b.pipes.push(*blocking);
                let index = b.pipes.len() - 1;
                b.actions.push((*at, thread, Action::WritePipe(index)));
                Op::Pipe(index)
            }
            Step::Remote { at, by_ref } => {
                b.remotes += 1;
                b.actions
                    .push((*at, thread, Action::Fire(b.remotes - 1, *by_ref)));
                Op::Remote(b.remotes - 1)
            }
            Step::Forever { pipe } => {
                b.records[me].waits_forever = true;
                let index = if *pipe {
                    b.forever_pipes += 1;
                    b.forever_pipes - 1
                } else {
                    0
                };
                Op::Forever { pipe: *pipe, index }
            }
            Step::Spawn { steps, fate } => {
                // Only its abort-on-drop handle can cancel a child.
                b.records.push(TaskRecord {
                    abortable: matches!(fate, ChildFate::AwaitAbortOnDrop),
                    ..TaskRecord::default()
                });
                let id = b.records.len() - 1;
                let ops = resolve(steps, id, base, prog, b);
                Op::Spawn {
                    id,
                    ops,
                    fate: *fate,
                }
            }
        });
    }
    ops
}

fn build(prog: &Program, base: Instant) -> Built {
    let mut b = Built {
        top: Vec::new(),
        records: Vec::new(),
        sleeps: Vec::new(),
        pipes: Vec::new(),
        forever_pipes: 0,
        remotes: 0,
        actions: Vec::new(),
    };
    for spec in &prog.tasks {
        b.records.push(TaskRecord {
            abortable: spec.fate.aborts(),
            ..TaskRecord::default()
        });
    }
    for (id, spec) in prog.tasks.iter().enumerate() {
        let ops = resolve(&spec.steps, id, base, prog, &mut b);
        b.top.push((id, ops, spec.fate));
    }
    for &(at, task, thread) in &prog.spurious {
        let task = task % b.records.len();
        b.actions.push((at, thread, Action::Spurious(task)));
    }
    b
}

/// Starts a thread that kills the process if the case does not end within the bound: a
/// wedged loop must fail CI, not hang it.
fn watchdog(prog: &Program) -> mpsc::Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    let text = format!("{prog:#?}");
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(20)) {
            eprintln!("model: a program did not finish within 20 s (lost wakeup?):\n{text}");
            std::process::abort();
        }
    });
    tx
}

fn run(prog: &Program) -> Result<(), String> {
    let done = watchdog(prog);
    let lp = Loop::new().map_err(|e| e.to_string())?;
    let h = lp.handle();
    let baseline = h.stats();
    let base = h.now() + Duration::from_millis(1);
    let mut built = build(prog, base);
    let pipes: Vec<(OwnedFd, Arc<OwnedFd>)> = built
        .pipes
        .iter()
        .map(|&blocking| {
            let flags = if blocking {
                rustix::pipe::PipeFlags::CLOEXEC
            } else {
                rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK
            };
            let (r, w) = rustix::pipe::pipe_with(flags).unwrap();
            (r, Arc::new(w))
        })
        .collect();
    let forever_pipes = (0..built.forever_pipes)
        .map(|_| {
            rustix::pipe::pipe_with(
                rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK,
            )
            .unwrap()
        })
        .collect();
    let remotes: Vec<Arc<Remote>> = (0..built.remotes).map(|_| Arc::default()).collect();
    let wakers: Vec<Arc<Mutex<Option<Waker>>>> =
        (0..built.records.len()).map(|_| Arc::default()).collect();
    let world = Rc::new(World {
        handle: h.clone(),
        seq: Arc::new(AtomicU64::new(1)),
        tasks: RefCell::new(std::mem::take(&mut built.records)),
        sleeps: RefCell::new(std::mem::take(&mut built.sleeps)),
        fires: Arc::default(),
        errors: RefCell::default(),
        wakers: wakers.clone(),
        pipes,
        forever_pipes,
        remotes: remotes.clone(),
        alive: Cell::new(0),
        main_waker: RefCell::new(None),
    });

    // Two driver threads, each doing its actions in time order from the program's start.
    let start = std::time::Instant::now() + Duration::from_millis(1);
    let mut per_thread: [Vec<(u8, Action)>; 2] = [Vec::new(), Vec::new()];
    for (at, thread, action) in std::mem::take(&mut built.actions) {
        per_thread[usize::from(thread)].push((at, action));
    }
    let drivers: Vec<_> = per_thread
        .into_iter()
        .map(|mut actions| {
            actions.sort_by_key(|a| a.0);
            let writers: Vec<Arc<OwnedFd>> = world.pipes.iter().map(|p| p.1.clone()).collect();
            let remotes = remotes.clone();
            let wakers = wakers.clone();
            std::thread::spawn(move || {
                for (at, action) in actions {
                    let when = start + Duration::from_millis(u64::from(at));
                    std::thread::sleep(when.saturating_duration_since(std::time::Instant::now()));
                    match action {
                        Action::WritePipe(i) => {
                            assert_eq!(rustix::io::write(&*writers[i], &[i as u8]), Ok(1));
                        }
                        Action::Fire(i, by_ref) => remotes[i].fire(by_ref),
                        Action::Spurious(t) => {
                            let w = wakers[t].lock().unwrap().clone();
                            if let Some(w) = w {
                                w.wake();
                            }
                        }
                    }
                }
            })
        })
        .collect();

    let top = std::mem::take(&mut built.top);
    let w = world.clone();
    lp.block_on(async move {
        let world = w;
        let mut awaited = Vec::new();
        let mut timed: Vec<(u8, usize, Fate, JoinHandle<()>)> = Vec::new();
        for (id, ops, fate) in top {
            let handle = spawn_probe(&world, id, ops);
            match fate {
                Fate::Await => awaited.push((id, handle)),
                Fate::Detach => drop(handle),
                Fate::DetachAt(at) | Fate::AbortAt(at) => timed.push((at, id, fate, handle)),
                Fate::AbortOnDropAt(at) => timed.push((at, id, fate, handle.abort_on_drop())),
            }
        }
        timed.sort_by_key(|t| t.0);
        // With an early loop drop, the actions due from then on do not happen; an
        // abort-on-drop handle among them is dropped on the way out, which asks its abort.
        let end = prog.drop_loop_at.unwrap_or(u8::MAX);
        let late = timed.split_off(timed.partition_point(|t| t.0 < end));
        let mut aborted = Vec::new();
        for (at, id, fate, handle) in timed {
            Sleep::until(&world.handle, base + Duration::from_millis(u64::from(at))).await;
            match fate {
                Fate::AbortAt(_) => {
                    let seq = world.next_seq();
                    world.tasks.borrow_mut()[id].abort_seq = Some(seq);
                    handle.abort();
                    aborted.push((id, handle));
                }
                Fate::AbortOnDropAt(_) => {
                    let seq = world.next_seq();
                    world.tasks.borrow_mut()[id].abort_seq = Some(seq);
                    drop(handle);
                }
                _ => drop(handle),
            }
        }
        if let Some(end) = prog.drop_loop_at {
            // Leave the rest running; the loop is dropped right after this returns.
            Sleep::until(&world.handle, base + Duration::from_millis(u64::from(end))).await;
            for (_, id, fate, handle) in late {
                if let Fate::AbortOnDropAt(_) = fate {
                    let seq = world.next_seq();
                    world.tasks.borrow_mut()[id].abort_seq = Some(seq);
                }
                drop(handle);
            }
            return;
        }
        for (id, handle) in awaited {
            if let Err(e) = handle.await {
                world.error(format!("task {id} (awaited) ended with {e:?}"));
            }
        }
        for (id, handle) in aborted {
            let result = handle.await;
            let completed = world.tasks.borrow()[id].ready_seq.is_some();
            if result.is_ok() != completed {
                world.error(format!(
                    "task {id}: JoinHandle says {result:?}, the future completed: {completed}"
                ));
            }
        }
        // Every instrumented future (detached ones too) must be dropped; no timer is armed
        // here, so a lost wake would hang this wait rather than be rescued by a timeout.
        poll_fn(|cx| {
            if world.alive.get() == 0 {
                Poll::Ready(())
            } else {
                *world.main_waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    });
    let loop_dropped = prog.drop_loop_at.map(|_| {
        let seq = world.next_seq();
        drop(lp);
        seq
    });
    for d in drivers {
        d.join()
            .map_err(|_| "a driver thread panicked".to_string())?;
    }
    let after = h.stats();
    let fd_waiters = h.fd_waiters();
    let _ = done.send(());
    check(&world, baseline, after, fd_waiters, loop_dropped)
}

fn check(
    world: &World,
    baseline: readyloop::Stats,
    after: readyloop::Stats,
    fd_waiters: usize,
    loop_dropped: Option<u64>,
) -> Result<(), String> {
    let mut errors = world.errors.borrow().clone();
    for (id, t) in world.tasks.borrow().iter().enumerate() {
        if !t.spawned {
            continue;
        }
        if t.drops != 1 {
            errors.push(format!("task {id} dropped {} times", t.drops));
        }
        let by_loop_drop = loop_dropped.is_some_and(|l| t.drop_seq > l);
        if loop_dropped.is_some_and(|l| t.polls > 0 && t.last_poll_seq > l) {
            errors.push(format!("task {id} was polled after its loop was dropped"));
        }
        match (t.ready_seq, t.abort_seq) {
            (None, None) if !by_loop_drop => {
                errors.push(format!("task {id} was cancelled without an abort"))
            }
            (Some(_), _) if t.waits_forever => {
                errors.push(format!("task {id} finished a wait that never ends"))
            }
            (None, Some(_)) if !t.abortable && !by_loop_drop => {
                errors.push(format!("task {id} (not abortable) was cancelled"))
            }
            _ => {}
        }
        if let Some(abort) = t.abort_seq {
            if t.polls > 0 && t.last_poll_seq > abort {
                errors.push(format!("task {id} was polled after its abort was asked"));
            }
        }
        if let (Some(ready), Some(abort)) = (t.ready_seq, t.abort_seq) {
            if ready > abort {
                errors.push(format!("task {id} completed after its abort"));
            }
        }
    }

    let sleeps = world.sleeps.borrow();
    let fires = world.fires.lock().unwrap().clone();
    let mut fired = vec![0u32; sleeps.len()];
    for f in &fires {
        fired[f.sleep] += 1;
        let s = &sleeps[f.sleep];
        if f.now < s.deadline {
            errors.push(format!(
                "sleep {} fired {} ns early",
                f.sleep,
                s.deadline - f.now
            ));
        }
        match s.armed_seq {
            None => errors.push(format!("sleep {} fired but was never armed", f.sleep)),
            Some(armed) if armed > f.seq => {
                errors.push(format!("sleep {} fired before it was armed", f.sleep))
            }
            _ => {}
        }
        if s.dropped_seq.is_some_and(|d| d < f.seq) {
            errors.push(format!("sleep {} fired after it was dropped", f.sleep));
        }
    }
    for (id, s) in sleeps.iter().enumerate() {
        if fired[id] > 1 {
            errors.push(format!("sleep {id} fired {} times", fired[id]));
        }
        if s.completed && s.armed_seq.is_some() && fired[id] == 0 {
            errors.push(format!("sleep {id} completed while armed but never fired"));
        }
    }
    // Deadline order, FIFO among equals: when X fires, no timer armed before that moment
    // with a smaller (deadline, arm order) may still be waiting to fire.
    for (i, x) in fires.iter().enumerate() {
        let kx = (sleeps[x.sleep].deadline, sleeps[x.sleep].armed_seq);
        for y in &fires[i + 1..] {
            let sy = &sleeps[y.sleep];
            if sy.armed_seq.is_some_and(|a| a < x.seq) && (sy.deadline, sy.armed_seq) < kx {
                errors.push(format!(
                    "sleep {} (deadline {}, armed {:?}) fired after sleep {} (deadline {}, armed {:?})",
                    y.sleep, sy.deadline, sy.armed_seq, x.sleep, kx.0, kx.1
                ));
            }
        }
    }

    if fd_waiters != 0 {
        errors.push(format!("{fd_waiters} fd waiters left"));
    }
    if after.fds_registered != baseline.fds_registered {
        errors.push(format!(
            "fds_registered {} after, {} before",
            after.fds_registered, baseline.fds_registered
        ));
    }
    if after.timers_armed != 0 {
        errors.push(format!("{} timers still armed", after.timers_armed));
    }
    if after.tasks_alive != 0 {
        errors.push(format!("{} tasks still alive", after.tasks_alive));
    }
    if world.alive.get() != 0 {
        errors.push(format!("{} futures never dropped", world.alive.get()));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        let mut text = String::new();
        for e in errors {
            let _ = writeln!(text, "{e}");
        }
        Err(text)
    }
}

fn cases() -> u32 {
    if let Some(n) = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if std::env::var_os("READYLOOP_UNDER_VALGRIND").is_some() {
        24
    } else {
        96
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 400,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_scheduler_matches_the_model(prog in program()) {
        if let Err(report) = run(&prog) {
            prop_assert!(false, "{}", report);
        }
    }
}

/// A fixed program with every feature in it, so a plain `cargo test` always covers them
/// even if the random ones happen not to.
#[test]
fn a_fixed_program_with_ties_aborts_and_forever_waits() {
    let prog = Program {
        tasks: vec![
            TaskSpec {
                steps: vec![
                    Step::Sleep(3),
                    Step::Sleep(3),
                    Step::Pipe {
                        at: 2,
                        blocking: false,
                    },
                ],
                fate: Fate::Await,
            },
            TaskSpec {
                steps: vec![
                    Step::Sleep(3),
                    Step::Remote {
                        at: 1,
                        by_ref: true,
                    },
                    Step::Spawn {
                        steps: vec![
                            Step::Sleep(5),
                            Step::Pipe {
                                at: 6,
                                blocking: true,
                            },
                        ],
                        fate: ChildFate::AwaitAbortOnDrop,
                    },
                ],
                fate: Fate::Detach,
            },
            TaskSpec {
                steps: vec![Step::Sleep(3), Step::Forever { pipe: true }],
                fate: Fate::AbortAt(6),
            },
            TaskSpec {
                steps: vec![
                    Step::Spawn {
                        steps: vec![Step::Sleep(8)],
                        fate: ChildFate::AwaitAbortOnDrop,
                    },
                    Step::Forever { pipe: false },
                ],
                fate: Fate::AbortOnDropAt(4),
            },
            TaskSpec {
                steps: vec![Step::Yield, Step::Sleep(0), Step::Sleep(3)],
                fate: Fate::DetachAt(2),
            },
        ],
        spurious: vec![(1, 0, false), (3, 1, true), (5, 2, false), (7, 3, true)],
        threads: vec![false, true],
        drop_loop_at: None,
    };
    run(&prog).unwrap();
    // The same, with the loop dropped while most of it is still running.
    run(&Program {
        drop_loop_at: Some(4),
        ..prog
    })
    .unwrap();
}
