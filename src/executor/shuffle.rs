//! `Builder::shuffle`: the order in which a turn runs its fresh tasks, drawn from a seed (a
//! testing aid). Kept out of `turn.rs`, whose `run_ready` calls it only when a seed is set;
//! it must never run a task twice or drop one: it only permutes.

use super::Core;

impl Core {
    /// Puts this turn's fresh tasks in an order drawn from the shuffle seed (each still
    /// runs once). Out of line: a loop without a seed never calls it.
    #[inline(never)]
    pub(super) fn shuffle_fresh(&self) {
        let Some(mut state) = self.shuffle.get() else {
            return;
        };
        let mut fresh = self.fresh.borrow_mut();
        let tasks = fresh.make_contiguous();
        // Fisher-Yates over splitmix64.
        for i in (1..tasks.len()).rev() {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let j = (z % (i as u64 + 1)) as usize;
            tasks.swap(i, j);
        }
        self.shuffle.set(Some(state));
    }
}
