//! `WaitList`: the FIFO of parked futures behind every primitive in `sync`.
//!
//! Each waiting future owns one node, addressed by a [`WaitKey`] it keeps. Nodes live in a
//! vector with a free list and are chained in arrival order, so parking, unparking and
//! leaving the line are O(1) and allocate nothing once the vector has grown.
//!
//! A node is either *waiting* (in the line, with the task's waker) or *notified* (taken out
//! of the line and handed something: a queue item, a permit, the lock; the `payload`). A
//! notified node stays allocated until its owner collects the payload on its next poll, or
//! gives it back when it is dropped first. That second path is what makes cancellation lose
//! nothing: whoever removes a notified node gets the payload and must pass it on.
//!
//! This module never calls a waker: it hands wakers back so the primitive can call them
//! after releasing its `RefCell` borrow (a waker may run arbitrary code).

use alloc::vec::Vec;
use core::task::Waker;

/// "No node" in the links.
const NIL: u32 = u32::MAX;

/// Identifies one node to the future that owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WaitKey {
    index: u32,
    generation: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// On the free list.
    Vacant,
    /// In the line, waiting.
    Waiting,
    /// Out of the line, holding its payload for its owner.
    Notified,
}

#[derive(Debug)]
struct Node<P> {
    /// Bumped when the node is freed, so a stale key can never reach its successor.
    generation: u32,
    state: State,
    /// The waiting task's waker (taken when the node is notified).
    waker: Option<Waker>,
    /// What a notification handed over.
    payload: Option<P>,
    /// Arrival number, so `notify_all` can stop at nodes that arrived after it began.
    sequence: u64,
    prev: u32,
    next: u32,
}

/// A FIFO of waiting futures, each of which can be handed a `P`.
#[derive(Debug)]
pub(crate) struct WaitList<P> {
    nodes: Vec<Node<P>>,
    /// Head of the free list, chained through `next`.
    free: u32,
    /// Oldest waiting node.
    head: u32,
    /// Newest waiting node.
    tail: u32,
    /// Number of nodes in the line (waiting, not notified).
    waiting: usize,
    /// The next arrival number.
    sequence: u64,
}

impl<P> Default for WaitList<P> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P> WaitList<P> {
    pub(crate) const fn new() -> Self {
        WaitList {
            nodes: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            waiting: 0,
            sequence: 0,
        }
    }

    /// True if nobody is waiting in the line.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting == 0
    }

    /// Number of futures waiting in the line.
    pub(crate) fn len(&self) -> usize {
        self.waiting
    }

    /// Puts a new waiter at the back of the line.
    pub(crate) fn push(&mut self, waker: &Waker) -> WaitKey {
        let index = if self.free != NIL {
            let index = self.free;
            self.free = self.nodes[index as usize].next;
            index
        } else {
            self.nodes.push(Node {
                generation: 0,
                state: State::Vacant,
                waker: None,
                payload: None,
                sequence: 0,
                prev: NIL,
                next: NIL,
            });
            u32::try_from(self.nodes.len() - 1).expect("readyloop: more than 4 billion waiters")
        };
        let sequence = self.sequence;
        self.sequence += 1;
        let tail = self.tail;
        let node = &mut self.nodes[index as usize];
        node.state = State::Waiting;
        node.waker = Some(waker.clone());
        node.sequence = sequence;
        node.prev = tail;
        node.next = NIL;
        let key = WaitKey {
            index,
            generation: node.generation,
        };
        if tail == NIL {
            self.head = index;
        } else {
            self.nodes[tail as usize].next = index;
        }
        self.tail = index;
        self.waiting += 1;
        key
    }

    fn node(&mut self, key: WaitKey) -> &mut Node<P> {
        let node = &mut self.nodes[key.index as usize];
        assert!(
            node.generation == key.generation && node.state != State::Vacant,
            "readyloop: wait key used after its node was released"
        );
        node
    }

    /// Takes a waiting node out of the line (its slot stays allocated).
    fn unlink(&mut self, index: u32) {
        let (prev, next) = {
            let n = &self.nodes[index as usize];
            (n.prev, n.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.nodes[next as usize].prev = prev;
        }
        self.waiting -= 1;
    }

    /// Returns a slot to the free list; its waker (if still there) goes to `retired`.
    fn release(&mut self, index: u32, retired: &mut Option<Waker>) -> Option<P> {
        let free = self.free;
        let node = &mut self.nodes[index as usize];
        node.state = State::Vacant;
        node.generation = node.generation.wrapping_add(1);
        *retired = node.waker.take();
        node.next = free;
        node.prev = NIL;
        self.free = index;
        node.payload.take()
    }

    /// The owner's poll: `Some(payload)` (and the node is freed) if it was notified;
    /// otherwise its waker is refreshed and `None` is returned.
    ///
    /// A waker this replaces goes to `retired`, and so do the ones `remove` takes out: the
    /// caller declares `retired` before it borrows the list's `RefCell`, so it is dropped
    /// after that borrow ends (a waker's `Drop` is user code, which may use the same
    /// primitive).
    pub(crate) fn poll(
        &mut self,
        key: WaitKey,
        waker: &Waker,
        retired: &mut Option<Waker>,
    ) -> Option<Option<P>> {
        let node = self.node(key);
        match node.state {
            State::Notified => Some(self.release(key.index, retired)),
            _ => {
                match &node.waker {
                    Some(w) if w.will_wake(waker) => {}
                    _ => *retired = node.waker.replace(waker.clone()),
                }
                None
            }
        }
    }

    /// The owner leaves (it was dropped). Returns `Some(payload)` if it had already been
    /// notified: the caller must pass that notification on, or it is lost. The waker goes to
    /// `retired` (see `poll`).
    pub(crate) fn remove(
        &mut self,
        key: WaitKey,
        retired: &mut Option<Waker>,
    ) -> Option<Option<P>> {
        let state = self.node(key).state;
        if state == State::Waiting {
            self.unlink(key.index);
            self.release(key.index, retired);
            None
        } else {
            Some(self.release(key.index, retired))
        }
    }

    /// Hands `payload` to the oldest waiter and returns its waker (to call once the caller's
    /// borrow ends); gives `payload` back if nobody waits.
    pub(crate) fn notify_one(&mut self, payload: P) -> Result<Option<Waker>, P> {
        let index = self.head;
        if index == NIL {
            return Err(payload);
        }
        self.unlink(index);
        let node = &mut self.nodes[index as usize];
        node.state = State::Notified;
        node.payload = Some(payload);
        Ok(node.waker.take())
    }

    /// The arrival number the next waiter will get: pass it to [`notify_before`] to wake
    /// exactly the waiters already in line now.
    ///
    /// [`notify_before`]: WaitList::notify_before
    pub(crate) fn mark(&self) -> u64 {
        self.sequence
    }

    /// Notifies the oldest waiter if it arrived before `mark`, returning its waker. Callers
    /// loop on this (dropping their borrow between calls) to wake everyone without
    /// collecting wakers in a buffer, and without waking waiters that arrive meanwhile.
    pub(crate) fn notify_before(&mut self, mark: u64, payload: P) -> Option<Option<Waker>> {
        let index = self.head;
        if index == NIL || self.nodes[index as usize].sequence >= mark {
            return None;
        }
        self.notify_one(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_handoff_and_give_back() {
        let w = Waker::noop();
        let mut list = WaitList::<u32>::new();
        let a = list.push(w);
        let b = list.push(w);
        assert_eq!(list.len(), 2);
        assert!(list.notify_one(7).is_ok());
        // `a` got 7; dropping `a` gives it back to whoever removes it.
        assert_eq!(list.remove(a, &mut None), Some(Some(7)));
        assert_eq!(list.poll(b, w, &mut None), None);
        assert!(list.notify_one(8).is_ok());
        assert_eq!(list.poll(b, w, &mut None), Some(Some(8)));
        assert!(list.is_empty());
        assert!(matches!(list.notify_one(9), Err(9)));
        // Slots are reused: no growth in steady state.
        let c = list.push(w);
        assert_eq!(list.nodes.len(), 2);
        assert_eq!(list.remove(c, &mut None), None);
    }

    #[test]
    fn notify_before_skips_late_arrivals() {
        let w = Waker::noop();
        let mut list = WaitList::<()>::new();
        let a = list.push(w);
        let mark = list.mark();
        let late = list.push(w);
        assert!(list.notify_before(mark, ()).is_some());
        assert!(list.notify_before(mark, ()).is_none());
        assert_eq!(list.poll(a, w, &mut None), Some(Some(())));
        assert_eq!(list.poll(late, w, &mut None), None);
        assert_eq!(list.remove(late, &mut None), None);
    }
}
