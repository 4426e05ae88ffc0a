//! gather / join_all / try_gather / select: input order, concurrency, cancellation of the
//! children when the join is dropped or one child fails.

use readyloop::{
    gather, join_all, select, select_all, try_gather, try_join_all, yield_now, Either, Handle, Loop,
};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

const MS: Duration = Duration::from_millis(1);

/// Sets its flag when dropped: proves a child future was dropped.
struct DropFlag(Rc<Cell<bool>>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// A child that sleeps `ms` then returns `value`, setting `dropped` when it is dropped.
fn child<T: 'static>(
    h: &Handle,
    ms: u64,
    value: T,
    dropped: &Rc<Cell<bool>>,
) -> impl Future<Output = T> + 'static {
    let h = h.clone();
    let guard = DropFlag(dropped.clone());
    async move {
        let _guard = guard;
        h.sleep(Duration::from_millis(ms)).await;
        value
    }
}

#[test]
fn vec_outputs_in_input_order_and_concurrently() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let start = Instant::now();
    let flag = Rc::new(Cell::new(false));
    let out = lp.block_on(gather(vec![
        Box::pin(child(&h, 60, 'a', &flag)) as Pin<Box<dyn Future<Output = char>>>,
        Box::pin(child(&h, 20, 'b', &flag)),
        Box::pin(child(&h, 40, 'c', &flag)),
    ]));
    assert_eq!(out, vec!['a', 'b', 'c']);
    let el = start.elapsed();
    assert!(el >= 60 * MS, "never early: {el:?}");
    assert!(
        el < common::scaled(110 * MS + Duration::from_millis(400)),
        "ran one after another? {el:?}"
    );
}

#[test]
fn join_all_empty_is_ready_at_once() {
    let lp = Loop::new().unwrap();
    let out: Vec<u8> = lp.block_on(join_all(Vec::<std::future::Ready<u8>>::new()));
    assert!(out.is_empty());
}

#[test]
fn tuples_of_eight_and_twelve_mixed_types() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let f = Rc::new(Cell::new(false));
    let out = lp.block_on(gather((
        child(&h, 8, 1u8, &f),
        child(&h, 1, "two", &f),
        child(&h, 7, 3.0f64, &f),
        child(&h, 2, '4', &f),
        child(&h, 6, String::from("five"), &f),
        child(&h, 3, 6i64, &f),
        child(&h, 5, [7u8], &f),
        child(&h, 4, (8,), &f),
    )));
    assert_eq!(
        out,
        (1u8, "two", 3.0, '4', "five".to_string(), 6i64, [7u8], (8,))
    );
    let twelve = lp.block_on(gather((
        async { 1 },
        async { 2 },
        async { 3 },
        async { 4 },
        async { 5 },
        async { 6 },
        async { 7 },
        async { 8 },
        async { 9 },
        async { 10 },
        async { 11 },
        child(&h, 2, 12, &f),
    )));
    assert_eq!(twelve.11, 12);
    assert_eq!(twelve.0 + twelve.10, 12);
}

#[test]
fn try_gather_first_error_drops_the_rest_at_once() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let slow_dropped = Rc::new(Cell::new(false));
    let h2 = h.clone();
    let start = Instant::now();
    let r = lp.block_on(async {
        let r = try_gather((
            {
                let h = h2.clone();
                async move {
                    h.sleep(10 * MS).await;
                    Err::<u8, &str>("first failure")
                }
            },
            {
                let fut = child(&h2, 5_000, (), &slow_dropped);
                async move {
                    fut.await;
                    Ok(())
                }
            },
            {
                let h = h2.clone();
                async move {
                    h.sleep(30 * MS).await;
                    Err::<(), &str>("later failure")
                }
            },
        ))
        .await;
        // The failing join dropped the 5 s child already: its timer is gone.
        assert!(slow_dropped.get());
        assert_eq!(h2.stats().timers_armed, 0);
        r
    });
    assert_eq!(r, Err("first failure"));
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn try_join_all_reports_the_first_error_in_time_not_in_index() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let futs: Vec<_> = [(50u64, Err("late")), (5, Err("early")), (1, Ok(3))]
        .into_iter()
        .map(|(ms, r)| {
            let h = h.clone();
            async move {
                h.sleep(Duration::from_millis(ms)).await;
                r
            }
        })
        .collect();
    assert_eq!(lp.block_on(try_join_all(futs)), Err("early"));
    let ok: Result<Vec<i32>, ()> = lp.block_on(try_join_all((0..5).map(|n| async move { Ok(n) })));
    assert_eq!(ok, Ok(vec![0, 1, 2, 3, 4]));
}

#[test]
fn dropping_a_gather_drops_its_children_and_their_timers() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let flags: Vec<_> = (0..3).map(|_| Rc::new(Cell::new(false))).collect();
    let all = gather(
        flags
            .iter()
            .map(|f| child(&h, 10_000, (), f))
            .collect::<Vec<_>>(),
    );
    let winner = lp.block_on(select(all, h.sleep(5 * MS)));
    assert!(matches!(winner, Either::Right(())));
    assert!(
        flags.iter().all(|f| f.get()),
        "every child dropped with the gather"
    );
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn gather_of_abort_on_drop_handles_cancels_the_tasks() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let flags: Vec<_> = (0..3).map(|_| Rc::new(Cell::new(false))).collect();
    let tasks: Vec<_> = flags
        .iter()
        .map(|f| h.spawn(child(&h, 10_000, (), f)).abort_on_drop())
        .collect();
    lp.block_on(async {
        let r = select(gather(tasks), h.sleep(5 * MS)).await;
        assert!(matches!(r, Either::Right(())));
        // The aborted tasks are dropped at the next turn.
        yield_now().await;
        yield_now().await;
    });
    assert!(flags.iter().all(|f| f.get()));
    assert_eq!(h.stats().tasks_alive, 0);
    assert_eq!(h.stats().timers_armed, 0);
}

#[test]
fn gather_of_plain_handles_detaches_on_drop() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let finished = Rc::new(Cell::new(0));
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let (h2, finished) = (h.clone(), finished.clone());
            h.spawn(async move {
                h2.sleep(20 * MS).await;
                finished.set(finished.get() + 1);
            })
        })
        .collect();
    lp.block_on(async {
        let r = select(gather(tasks), h.sleep(2 * MS)).await;
        assert!(matches!(r, Either::Right(())));
        h.sleep(60 * MS).await;
    });
    assert_eq!(finished.get(), 3, "detached tasks ran to the end");
}

#[test]
fn gather_of_spawned_tasks_collects_results_in_order() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let tasks: Vec<_> = [30u64, 10, 20]
        .into_iter()
        .map(|ms| {
            let h2 = h.clone();
            h.spawn(async move {
                h2.sleep(Duration::from_millis(ms)).await;
                ms
            })
        })
        .collect();
    let out: Vec<u64> = lp
        .block_on(gather(tasks))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(out, vec![30, 10, 20]);
}

#[test]
fn select_drops_the_loser() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let loser = Rc::new(Cell::new(false));
    let winner_flag = Rc::new(Cell::new(false));
    let r = lp.block_on(select(
        child(&h, 5_000, "slow", &loser),
        child(&h, 5, 9, &winner_flag),
    ));
    assert_eq!(r, Either::Right(9));
    assert!(loser.get());
    assert_eq!(h.stats().timers_armed, 0);
    // A tie goes to the first.
    assert_eq!(
        lp.block_on(select(async { 1 }, async { 2 })),
        Either::Left(1)
    );
}

#[test]
fn select_all_gives_index_and_output_and_drops_the_others() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let flags: Vec<_> = (0..4).map(|_| Rc::new(Cell::new(false))).collect();
    let racers: Vec<_> = [300u64, 200, 5, 100]
        .iter()
        .zip(&flags)
        .map(|(&ms, f)| child(&h, ms, ms, f))
        .collect();
    assert_eq!(lp.block_on(select_all(racers)), Some((2, 5)));
    assert!(flags.iter().all(|f| f.get()));
    assert_eq!(h.stats().timers_armed, 0);
    let none = lp.block_on(select_all(Vec::<std::future::Pending<()>>::new()));
    assert_eq!(none, None);
}
