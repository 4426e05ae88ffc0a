//! A small story for the trace sinks' tests: a sleeper task writes a pipe that a reader task
//! waits on, traced into an in-memory buffer. Shared by tests/trace.rs and
//! integration/tests/trace_json.rs (which parses the JSON lines with serde_json).
#![allow(dead_code)]

use readyloop::{Loop, RawFd, ReadFd};
use std::cell::RefCell;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::rc::Rc;
use std::time::Duration;

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::NONBLOCK | rustix::pipe::PipeFlags::CLOEXEC)
        .unwrap()
}

/// A shared in-memory writer for the std sinks.
#[derive(Clone, Default)]
pub struct Buf(pub Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.borrow().clone()).unwrap()
    }
}

/// How long the sleeper of `sleeper_and_reader` sleeps: 5 ms, or 100 ms under valgrind,
/// whose first turn (code run for the first time) can take longer than 5 ms.
pub fn sleeper_pause() -> Duration {
    super::common::sized(Duration::from_millis(5), Duration::from_millis(100))
}

pub fn sleeper_and_reader(lp: &Loop) -> RawFd {
    let h = lp.handle();
    let (r, w) = pipe();
    let w = Rc::new(w);
    let rfd = r.as_raw_fd();
    let sleeper = h.spawn_named("sleeper", {
        let h = h.clone();
        let w = w.clone();
        async move {
            h.sleep(sleeper_pause()).await;
            rustix::io::write(&w, b"x").unwrap();
        }
    });
    let reader = h.spawn_named("reader", {
        let h = h.clone();
        async move {
            let mut buf = [0u8; 1];
            ReadFd::new(&h, r.as_fd(), &mut buf).await.unwrap()
        }
    });
    lp.block_on(async {
        reader.await.unwrap();
        sleeper.await.unwrap();
    });
    rfd
}
