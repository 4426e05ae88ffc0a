//! The model: what must hold of a finished run, read from its records.

use super::probes::World;
use std::fmt::Write as _;

pub(crate) fn check(
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
