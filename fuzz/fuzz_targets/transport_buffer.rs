//! Fuzzes the Transport's write buffer (`readyloop::net::__fuzz::OutputBuffer`) against a
//! plain model (a `VecDeque` of the pending bytes and a paused flag): arbitrary sequences of
//! set_limits, push (all or nothing against the hard limit), consume, clear and front.
//!
//! Checked after every call, as the buffer's contract states: `front()` is exactly the bytes
//! pushed minus those consumed or cleared, in order; a push that would pass the hard limit
//! fails and changes nothing; `consume(n)` takes `min(n, len)`; the returned `Flow` is
//! `Pause` exactly when the length went above high water from not paused and `Resume`
//! exactly when it fell to low water or below from paused; not paused implies
//! `len <= high`, paused implies `len > low`; `capacity <= 2 x` the largest hard limit set.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use readyloop::net::__fuzz::{Flow, OutputBuffer, HARD_LIMIT_FACTOR};
use std::collections::VecDeque;

#[derive(Arbitrary, Debug)]
enum Op {
    SetLimits { high: u16, low: u16 },
    Push { len: u16, seed: u8 },
    Consume(u32),
    Clear,
    Front,
}

struct Model {
    bytes: VecDeque<u8>,
    high: usize,
    low: usize,
    paused: bool,
    next: u8,
}

impl Model {
    /// What the buffer's `Flow` must be after the length changed.
    fn flow(&mut self) -> Flow {
        let len = self.bytes.len();
        if !self.paused && len > self.high {
            self.paused = true;
            Flow::Pause
        } else if self.paused && len <= self.low {
            self.paused = false;
            Flow::Resume
        } else {
            Flow::Unchanged
        }
    }
}

fuzz_target!(|ops: Vec<Op>| {
    let mut b = OutputBuffer::new();
    let mut m = Model {
        bytes: VecDeque::new(),
        high: b.high_water(),
        low: b.low_water(),
        paused: false,
        next: 0,
    };
    let mut largest_hard = b.hard_limit();
    for op in ops.iter().take(256) {
        match *op {
            Op::SetLimits { high, low } => {
                let (high, low) = (usize::from(high), usize::from(low));
                match b.set_limits(high, low) {
                    Ok(flow) => {
                        assert!(high >= 1 && low <= high, "accepted {high}/{low}");
                        m.high = high;
                        m.low = low;
                        largest_hard = largest_hard.max(high * HARD_LIMIT_FACTOR);
                        assert_eq!(flow, m.flow(), "set_limits({high}, {low})");
                    }
                    Err(_) => assert!(high == 0 || low > high, "refused {high}/{low}"),
                }
            }
            Op::Push { len, seed } => {
                let len = usize::from(len);
                let data: Vec<u8> = (0..len)
                    .map(|i| m.next.wrapping_add(seed).wrapping_add(i as u8))
                    .collect();
                m.next = m.next.wrapping_add(1);
                // An empty push is always fine, even over a lowered hard limit.
                let fits = len == 0 || m.bytes.len() + len <= m.high * HARD_LIMIT_FACTOR;
                match b.push(&data) {
                    Ok(flow) => {
                        assert!(fits, "accepted a push past the hard limit");
                        m.bytes.extend(&data);
                        assert_eq!(flow, m.flow(), "push of {len}");
                    }
                    Err(_) => assert!(!fits, "refused a push that fits"),
                }
            }
            Op::Consume(n) => {
                let (took, flow) = b.consume(n as usize);
                assert_eq!(took, (n as usize).min(m.bytes.len()));
                m.bytes.drain(..took);
                assert_eq!(flow, m.flow(), "consume({n})");
            }
            Op::Clear => {
                let flow = b.clear();
                m.bytes.clear();
                assert_eq!(flow, m.flow(), "clear");
            }
            Op::Front => {
                assert!(
                    b.front().iter().eq(m.bytes.iter()),
                    "front() differs from the model"
                );
            }
        }
        assert_eq!(b.len(), m.bytes.len());
        assert_eq!(b.front().len(), b.len());
        assert_eq!(b.is_empty(), m.bytes.is_empty());
        assert_eq!(b.is_paused(), m.paused);
        assert_eq!((b.high_water(), b.low_water()), (m.high, m.low));
        assert_eq!(b.hard_limit(), m.high * HARD_LIMIT_FACTOR);
        if b.is_paused() {
            assert!(b.len() > b.low_water());
        } else {
            assert!(b.len() <= b.high_water());
        }
        assert!(
            b.capacity() <= 2 * largest_hard,
            "capacity {}",
            b.capacity()
        );
    }
    assert!(b.front().iter().eq(m.bytes.iter()));
});
