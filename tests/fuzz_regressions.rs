//! Inputs the fuzz targets in `fuzz/` found, replayed as plain tests so they stay fixed.

use readyloop::net::__fuzz::{Flow, OutputBuffer};

/// transport_buffer, crash-def33c1: after the marks are lowered below what is already
/// buffered, a non-empty push is refused and changes nothing, but an empty one is fine (the
/// fuzz model had it wrong; this pins the documented behaviour).
#[test]
fn empty_push_over_a_lowered_hard_limit_is_fine() {
    let mut b = OutputBuffer::new();
    assert_eq!(b.push(&vec![7u8; 58_852 * 6]).unwrap(), Flow::Pause);
    assert_eq!(b.set_limits(18_761, 18_761).unwrap(), Flow::Unchanged);
    assert!(b.len() > b.hard_limit());
    assert!(b.push(&vec![1u8; 18_761 * 2]).is_err());
    assert_eq!(b.len(), 58_852 * 6, "a refused push adds nothing");
    assert_eq!(b.push(&[]).unwrap(), Flow::Unchanged);
    assert_eq!(b.len(), 58_852 * 6);
    assert!(b.front().iter().all(|&x| x == 7));
}
