//! Step mode: `Loop::step` runs one turn and returns what it did; `run_once` runs one turn.

use readyloop::trace::{PendingOn, TraceEvent, WakeCause};
use readyloop::{ErrorKind, Interest, Loop};
use std::cell::RefCell;
use std::os::fd::{AsFd, AsRawFd};
use std::rc::Rc;
use std::time::Duration;

/// A single sleeper driven by hand: each turn waits for its deadline, none spins.
#[test]
fn run_once_blocks_until_the_sleeper_is_due_instead_of_spinning() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let task = h.spawn({
        let h = h.clone();
        async move { h.sleep(Duration::from_millis(50)).await }
    });
    let mut turns = 0;
    while !task.is_finished() && turns < 1000 {
        lp.run_once();
        turns += 1;
    }
    assert!(task.is_finished(), "still pending after {turns} turns");
    assert!(
        turns <= 4,
        "{turns} turns for one 50 ms sleep: the wait did not block"
    );
}

/// `run_forever` on a fresh loop (no `block_on` before it) blocks between timers too.
#[test]
fn run_forever_without_block_on_does_not_spin() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    h.spawn({
        let h = h.clone();
        async move {
            h.sleep(Duration::from_millis(50)).await;
            h.stop();
        }
    });
    lp.run_forever();
    let turns = h.stats().turns;
    assert!(
        turns <= 4,
        "{turns} turns for one 50 ms sleep: the wait did not block"
    );
}

/// The same for `step`: the first turn runs the sleeper and then blocks until its deadline.
#[test]
fn step_waits_with_the_sleepers_timeout() {
    let lp = Loop::builder().stepping().build().unwrap();
    let h = lp.handle();
    h.spawn_named("sleeper", {
        let h = h.clone();
        async move { h.sleep(Duration::from_millis(30)).await }
    });
    let first = lp.step().unwrap();
    assert_eq!(first.turn, 1);
    assert_eq!(first.woken, [(1, WakeCause::Spawn)]);
    assert_eq!(first.polled, [1]);
    assert!(
        matches!(first.pending[..], [(1, ref w)] if matches!(w[..], [PendingOn::Timer { .. }]))
    );
    let wait = first.wait.as_ref().unwrap();
    let timeout = wait.timeout.unwrap();
    assert!(timeout > Duration::from_millis(20), "{first}");
    assert!(wait.blocked >= Duration::from_millis(20), "{first}");
    assert_eq!(first.timers_fired.len(), 1, "{first}");
    assert!(
        first.lines.iter().any(|l| l == "poll task 1 (sleeper)"),
        "{first}"
    );

    let second = lp.step().unwrap();
    assert_eq!(second.woken, [(1, WakeCause::Timer)]);
    assert_eq!(second.completed, [1]);
    assert_eq!(h.stats().tasks_alive, 0);
}

/// An fd wait: the turn's fd set names the pipe, and the wait's revents report it.
#[test]
fn step_reports_the_fd_set_and_revents() {
    let lp = Loop::builder().stepping().build().unwrap();
    let h = lp.handle();
    let (r, w) = std::io::pipe().unwrap();
    let rfd = r.as_raw_fd();
    let reader = h.spawn({
        let h = h.clone();
        async move {
            let mut buf = [0u8; 8];
            readyloop::ReadFd::new(&h, r.as_fd(), &mut buf)
                .await
                .map(|n| buf[..n].to_vec())
        }
    });
    h.spawn({
        let h = h.clone();
        async move {
            h.sleep(Duration::from_millis(20)).await;
            std::io::Write::write_all(&mut &w, b"hi").unwrap();
        }
    });
    // Turn 1: the reader files the pipe, the writer its timer; the wait ends at the timer.
    let first = lp.step().unwrap();
    let reading = PendingOn::Fd {
        fd: rfd,
        interest: Interest::Readable,
    };
    assert!(
        first.pending.iter().any(|(_, w)| w.contains(&reading)),
        "{first}"
    );
    let wait = first.wait.as_ref().unwrap();
    assert!(wait.fds.iter().any(|&(fd, _)| fd == rfd), "{first}");
    assert_eq!(first.timers_fired.len(), 1, "{first}");
    // Turn 2: the writer writes; the wait returns the pipe readable at once.
    let second = lp.step().unwrap();
    let wait = second.wait.as_ref().unwrap();
    assert!(
        wait.revents
            .iter()
            .any(|&(fd, _, woke)| fd == rfd && woke == 1),
        "{second}"
    );
    // Turn 3: the reader runs, woken by its fd.
    let third = lp.step().unwrap();
    assert!(
        matches!(third.woken[..], [(1, WakeCause::Fd { fd, .. })] if fd == rfd),
        "{third}"
    );
    assert!(reader.is_finished());
    assert_eq!(lp.block_on(reader).unwrap().unwrap(), b"hi");
}

/// A loop built without `stepping` or `trace` says so, and runs no turn.
#[test]
fn step_without_stepping_is_an_error() {
    let lp = Loop::new().unwrap();
    let err = lp.step().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("stepping"), "{err}");
    assert_eq!(lp.handle().stats().turns, 0);
}

/// With a user's trace sink too, the sink sees every event the record holds.
#[test]
fn step_and_a_trace_sink_see_the_same_turn() {
    let lines = Rc::new(RefCell::new(Vec::new()));
    let log = lines.clone();
    let lp = Loop::builder()
        .trace(move |_, ev: &TraceEvent<'_>| log.borrow_mut().push(ev.to_string()))
        .build()
        .unwrap();
    lp.handle().spawn(async {});
    let turn = lp.step().unwrap();
    // The spawn came before the turn; the turn's own events are the same in both.
    assert_eq!(lines.borrow()[1..], turn.lines[..]);
    assert_eq!(turn.completed, [1]);
}

/// examples/step.rs with `--auto` walks both programs turn by turn to the end.
#[test]
fn the_step_example_walks_sleepy_and_read_socket() {
    let exe = std::env::current_exe().unwrap();
    let example = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("step");
    for program in ["sleepy", "read_socket"] {
        let out = std::process::Command::new(&example)
            .args([program, "--auto"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {example:?}: {e} (cargo test builds examples)"));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{program}: {text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("--- turn 1 ---"), "{text}");
        // The backend's name leads the wait line (CI also runs the suite on select and epoll).
        let waits = ["wait poll([", "wait select([", "wait epoll(["];
        assert!(waits.iter().any(|w| text.contains(w)), "{text}");
        assert!(text.contains("timer fired"), "{text}");
        assert!(text.contains("all tasks done after"), "{text}");
        if program == "sleepy" {
            assert!(text.contains("poll task 1 (coroutine 0)"), "{text}");
            assert!(
                text.contains("task 3 (coroutine 2) woken by its timer"),
                "{text}"
            );
        } else {
            assert!(text.contains("reader got 2048 B"), "{text}");
            assert!(text.contains("revents IN"), "{text}");
        }
    }
}
