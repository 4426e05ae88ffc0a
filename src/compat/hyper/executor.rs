//! hyper's `rt::Executor` for [`Handle`]: the tasks hyper starts (HTTP/2 streams, a client
//! connection's background work) are spawned on the loop, so `http2::Builder::new(h.clone())`
//! needs no adapter type. The futures need not be `Send`. This file must never run a
//! future itself.

use crate::executor::Handle;
use core::future::Future;

/// Spawns hyper's background futures as detached tasks of this loop: pass the loop's
/// handle where hyper asks for an executor (`http2::Builder::new(h.clone())`).
impl<F: Future + 'static> ::hyper::rt::Executor<F> for Handle {
    fn execute(&self, future: F) {
        drop(self.spawn(future)); // detached: the task runs on; hyper never joins it
    }
}
