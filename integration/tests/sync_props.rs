//! Semaphore and Mutex under random interleavings of acquire, release, cancel and abort:
//! permits and the lock are never lost (proptest; a dev-dependency of this crate, so
//! readyloop's own examples never compile it).

use readyloop::sync::{Event, Mutex, Semaphore};
use readyloop::{yield_now, Loop};
use std::cell::Cell;
use std::rc::Rc;

/// One turn of the loop: a `block_on` of a single yield.
fn turn(lp: &Loop) {
    lp.block_on(yield_now());
}
mod random {
    use super::*;
    use proptest::prelude::*;
    use readyloop::JoinHandle;

    #[derive(Clone, Debug)]
    enum Op {
        /// A task takes a permit (or the lock) and holds it until told to let go.
        Spawn,
        /// Abort one task, wherever it is (waiting, handed the permit, or holding it).
        Abort(usize),
        /// The oldest holder lets go.
        Release,
        Turn,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => Just(Op::Spawn),
            2 => any::<usize>().prop_map(Op::Abort),
            2 => Just(Op::Release),
            3 => Just(Op::Turn),
        ]
    }

    /// Runs turns until two in a row poll no task.
    fn settle(lp: &Loop) {
        let h = lp.handle();
        let mut idle = 0;
        while idle < 2 {
            let before = (h.stats().task_polls, h.stats().tasks_alive);
            turn(lp);
            let after = (h.stats().task_polls, h.stats().tasks_alive);
            idle = if after == before { idle + 1 } else { 0 };
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

        /// Permits are conserved and nobody is left waiting while one is free, whatever
        /// is cancelled when.
        #[test]
        fn semaphore_permits_are_never_lost(permits in 1usize..4, ops in proptest::collection::vec(op(), 1..60)) {
            let lp = Loop::new().unwrap();
            let h = lp.handle();
            let sem = Semaphore::new(permits);
            let holding = Rc::new(Cell::new(0usize));
            let mut releases: Vec<Rc<Event>> = Vec::new();
            let mut tasks: Vec<JoinHandle<()>> = Vec::new();
            for op in &ops {
                match op {
                    Op::Spawn => {
                        let (sem, holding, release) = (sem.clone(), holding.clone(), Rc::new(Event::new()));
                        releases.push(release.clone());
                        tasks.push(h.spawn(async move {
                            let _permit = sem.acquire().await;
                            holding.set(holding.get() + 1);
                            struct Left(Rc<Cell<usize>>);
                            impl Drop for Left {
                                fn drop(&mut self) { self.0.set(self.0.get() - 1); }
                            }
                            let _left = Left(holding);
                            release.wait().await;
                        }));
                    }
                    Op::Abort(i) if !tasks.is_empty() => tasks[i % tasks.len()].abort(),
                    Op::Release => {
                        if let Some(r) = releases.iter().find(|r| !r.is_set()) {
                            r.set();
                        }
                    }
                    Op::Turn => turn(&lp),
                    Op::Abort(_) => {}
                }
                prop_assert!(holding.get() <= permits, "more holders than permits");
            }
            settle(&lp);
            let waiting = tasks.iter().filter(|t| !t.is_finished()).count() - holding.get();
            if waiting > 0 {
                prop_assert_eq!(holding.get(), permits, "a waiter is stuck while a permit is free");
            }
            for t in &tasks {
                t.abort();
            }
            settle(&lp);
            prop_assert_eq!(sem.available_permits(), permits, "a permit was lost or made up");
        }

        /// The lock is held by at most one task, is never left held by nobody, and nobody
        /// waits while it is free.
        #[test]
        fn mutex_is_never_lost(ops in proptest::collection::vec(op(), 1..60)) {
            let lp = Loop::new().unwrap();
            let h = lp.handle();
            let m = Rc::new(Mutex::new(()));
            let holding = Rc::new(Cell::new(0usize));
            let mut releases: Vec<Rc<Event>> = Vec::new();
            let mut tasks: Vec<JoinHandle<()>> = Vec::new();
            for op in &ops {
                match op {
                    Op::Spawn => {
                        let (m, holding, release) = (m.clone(), holding.clone(), Rc::new(Event::new()));
                        releases.push(release.clone());
                        tasks.push(h.spawn(async move {
                            let _guard = m.lock().await;
                            holding.set(holding.get() + 1);
                            struct Left(Rc<Cell<usize>>);
                            impl Drop for Left {
                                fn drop(&mut self) { self.0.set(self.0.get() - 1); }
                            }
                            let _left = Left(holding);
                            release.wait().await;
                        }));
                    }
                    Op::Abort(i) if !tasks.is_empty() => tasks[i % tasks.len()].abort(),
                    Op::Release => {
                        if let Some(r) = releases.iter().find(|r| !r.is_set()) {
                            r.set();
                        }
                    }
                    Op::Turn => turn(&lp),
                    Op::Abort(_) => {}
                }
                prop_assert!(holding.get() <= 1, "two tasks hold the lock");
            }
            settle(&lp);
            let alive = tasks.iter().filter(|t| !t.is_finished()).count();
            if alive > 0 {
                prop_assert!(m.is_locked(), "tasks wait while the lock is free");
            }
            for t in &tasks {
                t.abort();
            }
            settle(&lp);
            prop_assert!(!m.is_locked(), "the lock was left held by nobody");
        }
    }
}
