//! File watching on real files in a fresh directory under the temp dir: a config file
//! rewritten by rename, new files in a directory, a removed watch, and the kernel's queue
//! overflow surfaced as `FsEvent::Overflow`.

mod common;

use readyloop::fs_watch::{Change, FsEvent, FsWatcher, Mask};
use readyloop::Handle;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A fresh directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("readyloop-fs-watch-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The next event, which must be a change (bounded: 5 s).
async fn next_change(h: &Handle, w: &mut FsWatcher) -> Change {
    match h.timeout(Duration::from_secs(5), w.next_event()).await {
        Ok(Ok(FsEvent::Change(c))) => c,
        other => panic!("expected a change, got {other:?}"),
    }
}

fn named(c: &Change) -> Option<&Path> {
    c.name.as_deref()
}

#[readyloop::test(timeout = "20s")]
async fn config_rewritten_by_rename_is_seen(h: Handle) {
    let dir = TempDir::new("rename");
    let config = dir.0.join("app.conf");
    std::fs::write(&config, b"version = 1\n").unwrap();
    let mut w = FsWatcher::new(&h).unwrap();
    let id = w.add(&dir.0, Mask::MOVED_TO | Mask::CLOSE_WRITE).unwrap();

    // The writer runs later, on the loop, so the watcher really waits in poll(2) first.
    let writer = h.spawn({
        let (h, dir, config) = (h.clone(), dir.0.clone(), config.clone());
        async move {
            h.sleep(Duration::from_millis(30)).await;
            let tmp = dir.join(".app.conf.tmp");
            std::fs::write(&tmp, b"version = 2\n").unwrap();
            std::fs::rename(&tmp, &config).unwrap();
        }
    });
    let written = next_change(&h, &mut w).await;
    assert_eq!(written.watch, id);
    assert!(written.mask.contains(Mask::CLOSE_WRITE));
    assert_eq!(named(&written), Some(Path::new(".app.conf.tmp")));
    let moved = next_change(&h, &mut w).await;
    assert_eq!(moved.watch, id);
    assert!(moved.mask.contains(Mask::MOVED_TO), "{moved:?}");
    assert_eq!(named(&moved), Some(Path::new("app.conf")));
    assert_ne!(moved.cookie, 0, "a move carries a cookie");
    writer.await.unwrap();
    assert_eq!(std::fs::read(&config).unwrap(), b"version = 2\n");
}

#[readyloop::test(timeout = "20s")]
async fn new_files_in_a_directory_are_seen_in_order(h: Handle) {
    let dir = TempDir::new("create");
    let mut w = FsWatcher::new(&h).unwrap();
    w.add(&dir.0, Mask::CREATE | Mask::CLOSE_WRITE).unwrap();
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(dir.0.join(name), name).unwrap();
    }
    std::fs::create_dir(dir.0.join("sub")).unwrap();
    let mut seen = Vec::new();
    for _ in 0..7 {
        let c = next_change(&h, &mut w).await;
        seen.push((c.mask, c.name.unwrap().to_string_lossy().into_owned()));
    }
    let want = [
        (Mask::CREATE, "a.txt"),
        (Mask::CLOSE_WRITE, "a.txt"),
        (Mask::CREATE, "b.txt"),
        (Mask::CLOSE_WRITE, "b.txt"),
        (Mask::CREATE, "c.txt"),
        (Mask::CLOSE_WRITE, "c.txt"),
        (Mask::CREATE | Mask::ISDIR, "sub"),
    ];
    let want: Vec<(Mask, String)> = want.iter().map(|(m, n)| (*m, n.to_string())).collect();
    assert_eq!(seen, want);
}

#[readyloop::test(timeout = "20s")]
async fn removing_a_watch_reports_ignored_and_stops_events(h: Handle) {
    let dir = TempDir::new("remove");
    let mut w = FsWatcher::new(&h).unwrap();
    let id = w.add(&dir.0, Mask::CREATE).unwrap();
    w.remove(id).unwrap();
    std::fs::write(dir.0.join("after.txt"), b"x").unwrap();
    let c = next_change(&h, &mut w).await;
    assert_eq!(c.watch, id);
    assert!(c.mask.contains(Mask::IGNORED));
    // Nothing else comes: the file made after the removal is not reported.
    let more = h.timeout(Duration::from_millis(100), w.next_event()).await;
    assert!(
        more.is_err(),
        "no event after the watch was removed: {more:?}"
    );
}

/// `/proc/sys/fs/inotify/max_queued_events`: how many events the kernel queues per
/// instance before it drops the rest and queues `IN_Q_OVERFLOW`.
fn max_queued_events() -> usize {
    std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Above this the test would take too long; it then says so and stops (the limit is
/// system-wide, so the test never lowers it).
const MAX_EVENTS_TO_MAKE: usize = 100_000;

#[readyloop::test(timeout = "60s")]
async fn queue_overflow_is_surfaced(h: Handle) {
    let limit = max_queued_events();
    if limit > MAX_EVENTS_TO_MAKE {
        eprintln!("max_queued_events is {limit} (> {MAX_EVENTS_TO_MAKE}): overflow not provoked");
        return;
    }
    let dir = TempDir::new("overflow");
    let mut w = FsWatcher::new(&h).unwrap();
    w.add(&dir.0, Mask::CREATE | Mask::DELETE).unwrap();
    // CREATE and DELETE alternate, so the kernel cannot merge an event with the one before
    // it: each makes one queue entry. `limit` + 2 events, none read meanwhile.
    let file = dir.0.join("f");
    for _ in 0..limit / 2 + 1 {
        std::fs::File::create(&file).unwrap();
        std::fs::remove_file(&file).unwrap();
    }
    let mut changes = 0;
    loop {
        match h.timeout(Duration::from_secs(5), w.next_event()).await {
            Ok(Ok(FsEvent::Change(_))) => changes += 1,
            Ok(Ok(FsEvent::Overflow)) => break,
            other => panic!("after {changes} changes: expected the overflow, got {other:?}"),
        }
    }
    eprintln!("max_queued_events {limit}: {changes} changes, then the overflow");
    assert_eq!(changes, limit, "the queue was full, then the overflow");
    // The watcher keeps working after an overflow.
    std::fs::write(dir.0.join("later"), b"x").unwrap();
    let c = next_change(&h, &mut w).await;
    assert_eq!(named(&c), Some(Path::new("later")));
}

/// CPU ticks (utime + stime, in 1/100 s) this thread has used, from /proc/thread-self/stat.
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[readyloop::test(timeout = "20s")]
async fn a_quiet_watch_uses_no_cpu(h: Handle) {
    let dir = TempDir::new("quiet");
    let mut w = FsWatcher::new(&h).unwrap();
    w.add(&dir.0, Mask::CREATE).unwrap();
    let before = thread_cpu_ticks();
    let quiet = h.timeout(Duration::from_millis(500), w.next_event()).await;
    assert!(quiet.is_err(), "no event in a quiet directory: {quiet:?}");
    let used = thread_cpu_ticks() - before;
    // Under valgrind the loop's thread pays for valgrind's own bookkeeping.
    assert!(
        used <= 2 * u64::from(common::slack()),
        "{used} CPU ticks (10 ms each) while waiting 0.5 s"
    );
}
