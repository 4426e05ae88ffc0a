//! The Transport's `OutputBuffer` against a `VecDeque` model: random pushes, consumes,
//! clears and limit changes keep the same bytes and the same pause/resume marks (proptest;
//! a dev-dependency of this crate, so readyloop's own examples never compile it).

#[path = "../../tests/common/mod.rs"]
mod common;

use proptest::prelude::*;
use readyloop::net::__fuzz::{Flow, OutputBuffer};
use std::collections::VecDeque;

#[derive(Clone, Debug)]
enum Op {
    Push(Vec<u8>),
    Consume(usize),
    Clear,
    Limits(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => proptest::collection::vec(any::<u8>(), 0..300).prop_map(Op::Push),
        5 => (0usize..400).prop_map(Op::Consume),
        1 => Just(Op::Clear),
        1 => (0usize..200, 0usize..200).prop_map(|(a, b)| Op::Limits(a, b)),
    ]
}

proptest! {
    // 32 cases under valgrind, where 256 take a minute (fuzz/transport_buffer goes further).
    #![proptest_config(ProptestConfig::with_cases(common::sized(256, 32)))]

    #[test]
    fn output_buffer_matches_a_vecdeque(ops in proptest::collection::vec(op(), 1..200)) {
        let mut b = OutputBuffer::new();
        b.set_limits(100, 30).unwrap();
        let mut model: VecDeque<u8> = VecDeque::new();
        let (mut high, mut low) = (100usize, 30usize);
        let mut paused = false;
        let mut largest_hard = b.hard_limit();
        for op in ops {
            let flow = match op {
                Op::Push(data) => {
                    let fits = data.is_empty() || model.len() + data.len() <= high * 16;
                    match b.push(&data) {
                        Ok(flow) => {
                            prop_assert!(fits);
                            model.extend(&data);
                            flow
                        }
                        Err(_) => {
                            prop_assert!(!fits);
                            Flow::Unchanged
                        }
                    }
                }
                Op::Consume(n) => {
                    let (done, flow) = b.consume(n);
                    prop_assert_eq!(done, n.min(model.len()));
                    model.drain(..done);
                    flow
                }
                Op::Clear => {
                    model.clear();
                    b.clear()
                }
                Op::Limits(h, l) => match b.set_limits(h, l) {
                    Ok(flow) => {
                        prop_assert!(h >= 1 && l <= h);
                        high = h;
                        low = l;
                        largest_hard = largest_hard.max(b.hard_limit());
                        flow
                    }
                    Err(_) => {
                        prop_assert!(h == 0 || l > h);
                        Flow::Unchanged
                    }
                },
            };
            // The model of the marks: pause above high, resume at or below low.
            let expected = if !paused && model.len() > high {
                paused = true;
                Flow::Pause
            } else if paused && model.len() <= low {
                paused = false;
                Flow::Resume
            } else {
                Flow::Unchanged
            };
            prop_assert_eq!(flow, expected);
            prop_assert_eq!(b.is_paused(), paused);
            prop_assert_eq!(b.len(), model.len());
            prop_assert!(b.front().iter().eq(model.iter()));
            prop_assert!(b.capacity() <= 2 * largest_hard);
            prop_assert_eq!((b.high_water(), b.low_water()), (high, low));
        }
    }
}
