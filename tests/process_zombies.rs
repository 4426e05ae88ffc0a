//! 1,000 short children (`true`), half awaited and half dropped unawaited: afterwards no
//! zombie whose parent is this process is left in /proc. Alone in its binary so that no
//! other test's children are counted. Under valgrind the children are `sh -c :` (valgrind
//! does not trace `sh`, so each child runs natively; a traced `true` costs 1.5 s).

mod common;

use readyloop::Loop;
use std::process::Command;
use std::time::{Duration, Instant};

const CHILDREN: usize = 1000;

/// Children of this process in state `Z`, from every `/proc/PID/stat`.
fn zombie_children() -> Vec<u32> {
    let me = std::process::id();
    let mut zombies = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue; // gone meanwhile
        };
        // "PID (comm) STATE PPID ...": comm may hold spaces and parentheses; the last ')'
        // ends it.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let mut fields = stat[close + 2..].split(' ');
        let state = fields.next();
        let ppid = fields.next().and_then(|p| p.parse::<u32>().ok());
        if state == Some("Z") && ppid == Some(me) {
            zombies.push(pid);
        }
    }
    zombies
}

/// `true`, or under valgrind `sh -c :`.
fn short_child() -> Command {
    if common::under_valgrind() {
        let mut sh = Command::new("sh");
        sh.args(["-c", ":"]);
        sh
    } else {
        Command::new("true")
    }
}

#[test]
fn a_thousand_children_leave_no_zombie() {
    let fds_before = std::fs::read_dir("/proc/self/fd").unwrap().count();
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let start = Instant::now();
    let statuses = lp
        .block_on_timeout(
            common::sized(Duration::from_secs(60), Duration::from_secs(200)),
            async {
                let mut awaited = Vec::new();
                let mut ok = 0;
                for i in 0..CHILDREN {
                    let child = h.spawn_process(&mut short_child()).unwrap();
                    if i % 2 == 0 {
                        awaited.push(child);
                    } else {
                        drop(child); // nobody awaits it: the loop must reap it
                    }
                    // Await in batches, so at most 50 awaited pidfds are open at once.
                    if awaited.len() == 50 {
                        for mut c in awaited.drain(..) {
                            ok += c.wait().await.unwrap().success() as usize;
                        }
                    }
                }
                for mut c in awaited.drain(..) {
                    ok += c.wait().await.unwrap().success() as usize;
                }
                // The dropped children's reaping tasks finish as each child exits.
                while h.stats().tasks_alive > 0 {
                    h.sleep(Duration::from_millis(5)).await;
                }
                ok
            },
        )
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(statuses, CHILDREN / 2, "every awaited child exited with 0");
    let zombies = zombie_children();
    eprintln!(
        "{CHILDREN} children in {elapsed:?}; zombies left: {}; tasks alive: {}",
        zombies.len(),
        h.stats().tasks_alive
    );
    assert!(zombies.is_empty(), "zombie children left: {zombies:?}");
    drop(h);
    drop(lp);
    let fds = std::fs::read_dir("/proc/self/fd").unwrap().count();
    assert_eq!(fds, fds_before, "every pidfd and pipe closed");
}
