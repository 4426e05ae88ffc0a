//! Model-based property tests of the scheduler.
//!
//! proptest makes random programs: tasks that sleep until explicit deadlines on a 1 ms grid
//! (so equal deadlines really tie), move a deadline (`Sleep::reset`) while a poll waits on
//! it, yield, read a byte from a pipe that another thread writes
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
use readyloop::{Instant, JoinHandle, Loop};
use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::os::fd::OwnedFd;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

#[path = "model/checks.rs"]
mod checks;
#[path = "model/probes.rs"]
mod probes;
#[path = "model/programs.rs"]
mod programs;

use checks::check;
use probes::*;
use programs::*;

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
            Step::Reset { first, at, to } => {
                let grid = |ms: &u8| base + Duration::from_millis(u64::from(*ms));
                b.sleeps.push(SleepRecord {
                    deadline: grid(first).as_nanos(),
                    ..SleepRecord::default()
                });
                Op::Reset {
                    id: b.sleeps.len() - 1,
                    first: grid(first),
                    at: grid(at),
                    to: grid(to),
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
            world
                .handle
                .sleep_until(base + Duration::from_millis(u64::from(at)))
                .await;
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
            world
                .handle
                .sleep_until(base + Duration::from_millis(u64::from(end)))
                .await;
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
                    Step::Reset {
                        first: 9,
                        at: 4,
                        to: 5,
                    },
                    Step::Reset {
                        first: 5,
                        at: 6,
                        to: 9,
                    },
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
                steps: vec![
                    Step::Yield,
                    Step::Sleep(0),
                    Step::Reset {
                        first: 8,
                        at: 1,
                        to: 0,
                    },
                    Step::Sleep(3),
                ],
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
