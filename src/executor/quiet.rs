//! The virtual clock's rule for fds: may time skip while tasks wait on these fds?
//!
//! Time may jump to the next deadline only when every fd a task waits on is provably
//! quiet, asked in this order:
//!
//! 1. a zero-timeout poll over every waited fd reports nothing ready;
//! 2. each waited fd is quiet by its kind:
//!    - a listener: quiet (1 showed no pending connection);
//!    - a connected stream socket whose peer is a socket known to this loop: quiet if
//!      SIOCINQ and SIOCOUTQ are 0 on both ends. The peer is found by address (TCP, or Unix
//!      with both ends named: its address is this one's peer address and the other way
//!      round) or, for the unnamed ends of a socketpair, as the other end of a pair this
//!      loop made (`UnixStream::pair` / `UnixDatagram::pair` on a virtual-clock loop); an
//!      accepted Unix socket (the client's end is unnamed) cannot be matched: external;
//!    - a datagram socket: quiet if its queues are empty and it is unconnected (it waits
//!      for anyone, like a listener) or connected to a socket of this loop whose receive
//!      queue is empty;
//!    - anything else (a pipe, a tty, an eventfd, a socket whose peer is another thread's
//!      or process's, a socketpair made elsewhere): external, so
//!      the clock keeps real time, unless a quiet grace was set and nothing has happened in
//!      the loop for that long in real time.
//!
//! Bytes in flight are never overtaken: a send queue not yet drained (SIOCOUTQ > 0, e.g.
//! TCP not yet acknowledged) towards a peer of this loop whose receive queue is empty makes
//! the loop look again after a millisecond of real time; bytes sitting unread in a receive
//! queue (or a send queue towards a peer outside the loop) hold the clock, grace or not,
//! until a task reads them.
//! Only a virtual loop ever gets here, and only when it is about to block: the normal loop
//! pays nothing. Nothing here may call a waker or keep a borrow of the reactor across a
//! syscall that could reach user code (none can).

use super::Core;
use crate::stats::bump;
use crate::sys::clock;
use crate::sys::quiet::{any_ready, describe, SockInfo, SockKind};
use crate::sys::RawFd;
use alloc::vec::Vec;

/// How soon the loop looks again while bytes are in flight between two of its sockets.
const IN_FLIGHT_RECHECK_NS: u64 = 1_000_000;

/// What the rule decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Jump to the next deadline now.
    Now,
    /// Keep real time until the deadline or an event.
    Not,
    /// Keep real time, but look again after this many ns of real time.
    RecheckIn(u64),
}

/// How one waited fd stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FdState {
    Quiet,
    /// Its other end is outside the loop.
    External,
    /// Bytes unread in a queue of this loop: nothing to skip until a task reads them.
    Unread,
    /// Bytes in flight that will land in microseconds.
    InFlight,
}

impl Core {
    /// Whether a virtual clock may jump now (rules 2 and 3 in `loop_clock.rs`; the caller
    /// checked rules 1 and 4).
    pub(crate) fn may_skip_time(&self) -> Skip {
        if !self.clock.is_virtual() || self.clock.is_held() {
            return Skip::Not;
        }
        let mut waited: Vec<(RawFd, bool, bool)> = Vec::new();
        let mut known: Vec<RawFd> = Vec::new();
        {
            let reactor = self.reactor.borrow();
            if reactor.waiter_count() == 0 {
                return Skip::Now;
            }
            reactor.for_each_known_fd(&mut |fd, read, write| {
                known.push(fd);
                if read || write {
                    waited.push((fd, read, write));
                }
            });
        }
        // SAFETY: every number came from the reactor's table of registered fds, whose
        // owners keep them open while registered, and no task runs during this check.
        if unsafe { any_ready(&waited) } {
            return Skip::Not;
        }
        let known: Vec<SockInfo> = known
            .into_iter()
            // SAFETY: as above: registered fds, no task running.
            .map(|fd| unsafe { describe(fd) })
            .collect();
        let mut worst = FdState::Quiet;
        for &(fd, _, _) in &waited {
            let Some(me) = known.iter().find(|k| k.fd == fd) else {
                return Skip::Not;
            };
            let state = fd_state(me, &known, &self.clock.pairs.borrow());
            worst = match (worst, state) {
                (FdState::Unread, _) | (_, FdState::Unread) => FdState::Unread,
                (FdState::InFlight, _) | (_, FdState::InFlight) => FdState::InFlight,
                (FdState::External, _) | (_, FdState::External) => FdState::External,
                _ => FdState::Quiet,
            };
        }
        match worst {
            FdState::Quiet => Skip::Now,
            FdState::Unread => Skip::Not,
            FdState::InFlight => Skip::RecheckIn(IN_FLIGHT_RECHECK_NS),
            FdState::External => match self.clock.grace.get() {
                None => Skip::Not,
                Some(grace) => {
                    let quiet_for = self.quiet_for(clock::monotonic_nanos());
                    if quiet_for >= grace {
                        Skip::Now
                    } else {
                        Skip::RecheckIn(grace - quiet_for)
                    }
                }
            },
        }
    }

    /// How long (real ns) nothing has happened in the loop: no task polled, no fd ready
    /// (measured from the first time it is asked after the last activity: the loop asks
    /// each time it is about to block on an outside peer, so that is when it went quiet).
    fn quiet_for(&self, real_now: u64) -> u64 {
        let activity = self.counters.task_polls.get() + self.counters.wakeups_fd.get();
        let (since, seen) = self.clock.quiet_since.get();
        if seen != activity || since == 0 {
            self.clock.quiet_since.set((real_now, activity));
            return 0;
        }
        real_now.saturating_sub(since)
    }

    /// Jumps a virtual clock from `now` to `deadline`.
    pub(crate) fn skip_to(&self, now: u64, deadline: u64) {
        self.clock.skip(deadline - now);
        bump(&self.counters.clock_jumps, 1);
    }

    /// The wait of a virtual clock's turn (out of line: a real clock never calls it).
    #[inline(never)]
    pub(super) fn virtual_timeout(&self, now: u64, deadline: u64) -> u64 {
        match self.may_skip_time() {
            Skip::Now => {
                self.skip_time(now, deadline);
                0
            }
            Skip::Not => deadline - now,
            Skip::RecheckIn(ns) => (deadline - now).min(ns.max(1)),
        }
    }

    /// Jumps a virtual clock from `now` to `deadline` (and traces the jump).
    fn skip_time(&self, now: u64, deadline: u64) {
        self.skip_to(now, deadline);
        self.trace(|| crate::trace::TraceEvent::ClockJump {
            from: crate::time::Instant(now),
            to: crate::time::Instant(deadline),
        });
    }
}

/// How the waited fd `me` stands, given every fd the loop knows and the socketpairs it
/// made (inode pairs).
fn fd_state(me: &SockInfo, known: &[SockInfo], pairs: &[(u64, u64)]) -> FdState {
    let kind = match me.kind {
        SockKind::Other => return FdState::External,
        SockKind::Listener => return FdState::Quiet,
        kind => kind,
    };
    if me.inq > 0 {
        return FdState::Unread;
    }
    let peer = if me.connected {
        peer_in_loop(me, known, pairs)
    } else {
        None
    };
    if me.outq > 0 {
        // Sent and not yet taken: in flight for microseconds if the peer is ours and
        // reading; held up for as long as a peer (ours with a full queue, or outside)
        // does not read.
        return match peer {
            Some(p) if p.inq == 0 => FdState::InFlight,
            _ => FdState::Unread,
        };
    }
    if !me.connected {
        // A stream socket not connected (yet) may be connecting anywhere; a datagram
        // socket not connected waits for anyone, like a listener.
        return match kind {
            SockKind::Datagram => FdState::Quiet,
            _ => FdState::External,
        };
    }
    match peer {
        Some(other) => ends_state(other),
        None => FdState::External,
    }
}

/// The socket of this loop at the other end of the connected socket `me`, if there is one:
/// by address (TCP and UDP, and Unix sockets with both ends named: its address is my
/// peer's, and for a stream, its peer is me), else by the socketpairs this loop made.
fn peer_in_loop<'a>(
    me: &SockInfo,
    known: &'a [SockInfo],
    pairs: &[(u64, u64)],
) -> Option<&'a SockInfo> {
    if let Some(peer) = &me.peer {
        return known.iter().find(|k| {
            k.kind == me.kind
                && k.local.as_ref() == Some(peer)
                && (me.kind == SockKind::Datagram || k.peer.is_some() && k.peer == me.local)
        });
    }
    let other = pairs.iter().find_map(|&(a, b)| {
        if a == me.ino {
            Some(b)
        } else if b == me.ino {
            Some(a)
        } else {
            None
        }
    })?;
    known.iter().find(|k| k.ino == other && k.kind == me.kind)
}

/// The far end, found in this loop: quiet only with both of its queues empty.
fn ends_state(other: &SockInfo) -> FdState {
    if other.inq > 0 {
        FdState::Unread
    } else if other.outq > 0 {
        FdState::InFlight
    } else {
        FdState::Quiet
    }
}
