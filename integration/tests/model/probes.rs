//! What a program touches at run time (flags other threads set, the records the checks
//! read) and the instrumented futures that fill those records.

use super::programs::ChildFate;
use readyloop::{yield_now, Handle, Instant, JoinHandle, ReadFd};
use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A flag another thread sets before waking whoever waits.
#[derive(Default)]
pub(crate) struct Remote {
    pub(crate) state: Mutex<(bool, Option<Waker>)>,
}

impl Remote {
    pub(crate) fn fire(&self, by_ref: bool) {
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

pub(crate) struct RemoteWait(pub(crate) Arc<Remote>);

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
pub(crate) enum Action {
    WritePipe(usize),
    Fire(usize, bool),
    Spurious(usize),
}

/// A step with its resources resolved.
pub(crate) enum Op {
    Sleep {
        id: usize,
        deadline: Instant,
    },
    Reset {
        id: usize,
        first: Instant,
        at: Instant,
        to: Instant,
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
pub(crate) struct TaskRecord {
    /// Was spawned (a child's parent may never reach its spawn step).
    pub(crate) spawned: bool,
    /// May this task be cancelled? (its own abort, or an abort-on-drop chain)
    pub(crate) abortable: bool,
    /// Has a step that never finishes unless aborted.
    pub(crate) waits_forever: bool,
    pub(crate) polls: u64,
    pub(crate) last_poll_seq: u64,
    pub(crate) ready_seq: Option<u64>,
    pub(crate) drops: u32,
    pub(crate) drop_seq: u64,
    pub(crate) abort_seq: Option<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct SleepRecord {
    pub(crate) deadline: u64,
    pub(crate) armed_seq: Option<u64>,
    pub(crate) completed: bool,
    pub(crate) dropped_seq: Option<u64>,
}

/// Records when a sleep's future is dropped (after which its timer must never fire).
pub(crate) struct SleepDropped<'a>(&'a World, usize);

impl Drop for SleepDropped<'_> {
    fn drop(&mut self) {
        let seq = self.0.next_seq();
        self.0.sleeps.borrow_mut()[self.1].dropped_seq = Some(seq);
    }
}

/// What the loop thread observes (all single-threaded except `seq` and the fire log).
pub(crate) struct World {
    pub(crate) handle: Handle,
    pub(crate) seq: Arc<AtomicU64>,
    pub(crate) tasks: RefCell<Vec<TaskRecord>>,
    pub(crate) sleeps: RefCell<Vec<SleepRecord>>,
    pub(crate) fires: Arc<Mutex<Vec<Fire>>>,
    pub(crate) errors: RefCell<Vec<String>>,
    /// Each task's latest waker, for the drivers' spurious wakes.
    pub(crate) wakers: Vec<Arc<Mutex<Option<Waker>>>>,
    pub(crate) pipes: Vec<(OwnedFd, Arc<OwnedFd>)>,
    pub(crate) forever_pipes: Vec<(OwnedFd, OwnedFd)>,
    pub(crate) remotes: Vec<Arc<Remote>>,
    /// Instrumented futures not yet dropped.
    pub(crate) alive: Cell<usize>,
    pub(crate) main_waker: RefCell<Option<Waker>>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Fire {
    pub(crate) sleep: usize,
    pub(crate) seq: u64,
    pub(crate) now: u64,
}

impl World {
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, SeqCst)
    }

    pub(crate) fn error(&self, e: String) {
        self.errors.borrow_mut().push(e);
    }
}

pub(crate) fn monotonic_nanos() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

// ---- instrumented futures -----------------------------------------------------------------

/// Wraps a task's future: counts polls, records completion and the one drop.
pub(crate) struct Probe {
    pub(crate) id: usize,
    pub(crate) world: Rc<World>,
    pub(crate) inner: Pin<Box<dyn Future<Output = ()>>>,
    pub(crate) done: bool,
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
pub(crate) struct SleepProbe {
    pub(crate) id: usize,
    pub(crate) seq: Arc<AtomicU64>,
    pub(crate) fires: Arc<Mutex<Vec<Fire>>>,
    pub(crate) task: Mutex<Option<Waker>>,
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

pub(crate) async fn probed_sleep(world: Rc<World>, id: usize, deadline: Instant) {
    probed_timer(world, id, deadline, None).await
}

/// A sleep until `deadline`; with `reset = Some((at, to))`, a second future of the same
/// task moves it to `to` at `at` (`Sleep::reset`) unless it completed first, and then
/// returns `Pending` without the sleep being polled again: only the timer, moved with the
/// waker its last poll registered, can wake the task.
pub(crate) async fn probed_timer(
    world: Rc<World>,
    id: usize,
    deadline: Instant,
    reset: Option<(Instant, Instant)>,
) {
    let probe = Arc::new(SleepProbe {
        id,
        seq: world.seq.clone(),
        fires: world.fires.clone(),
        task: Mutex::new(None),
    });
    let waker = Waker::from(probe.clone());
    let _dropped = SleepDropped(&world, id);
    let mut sleep = std::pin::pin!(world.handle.sleep_until(deadline));
    let mut resetter = reset.map(|(at, to)| (Box::pin(world.handle.sleep_until(at)), to));
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
            }
            Poll::Ready(()) => {
                rec.completed = true;
                let now = world.handle.now().as_nanos();
                let deadline = sleep.deadline().as_nanos();
                if now < deadline {
                    drop(sleeps);
                    world.error(format!("sleep {id} completed {} ns early", deadline - now));
                }
                return Poll::Ready(());
            }
        }
        if let Some((at, to)) = resetter.as_mut() {
            if at.as_mut().poll(cx).is_ready() {
                sleep.as_mut().reset(*to);
                // The record follows: the moved timer is armed again now, for `to`.
                rec.deadline = to.as_nanos();
                rec.armed_seq = Some(world.seq.fetch_add(1, SeqCst));
                resetter = None;
            }
        }
        Poll::Pending
    })
    .await;
    // The probe's task waker would otherwise keep the task alive through `sleep`'s slot
    // until the Sleep drops (it drops right here).
    probe.task.lock().unwrap().take();
}

/// Records when an abort-on-drop child handle is dropped (that asks the child's abort).
pub(crate) struct AbortGuard {
    pub(crate) child: usize,
    pub(crate) world: Rc<World>,
    pub(crate) handle: Option<JoinHandle<()>>,
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

pub(crate) fn spawn_probe(world: &Rc<World>, id: usize, ops: Vec<Op>) -> JoinHandle<()> {
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

pub(crate) fn run_ops(
    world: Rc<World>,
    me: usize,
    ops: Vec<Op>,
) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(async move {
        for op in ops {
            match op {
                Op::Sleep { id, deadline } => probed_sleep(world.clone(), id, deadline).await,
                Op::Reset { id, first, at, to } => {
                    probed_timer(world.clone(), id, first, Some((at, to))).await
                }
                Op::Yield => yield_now().await,
                Op::Pipe(index) => {
                    let mut buf = [0u8; 2];
                    let fd = world.pipes[index].0.as_fd();
                    match ReadFd::new(&world.handle, fd, &mut buf).await {
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
                    let r = ReadFd::new(&world.handle, fd, &mut buf).await;
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
