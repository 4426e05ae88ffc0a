//! The daemon's allocator: power-of-two size classes with a free list each, carved from
//! 64 KiB chunks of anonymous memory. About 0.5 KiB of code where dlmalloc took 4 KiB,
//! which keeps the daemon under 32 KiB.
//!
//! Freed blocks are reused by later allocations of their class but never returned to the
//! kernel, so the footprint is the peak of each class: right for a daemon whose
//! allocations are connection buffers and task frames of a few fixed sizes. It must never
//! be used from two threads at once: the daemon has one thread, and its signal handler
//! does not allocate.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{null_mut, NonNull};

/// The smallest block is 2^MIN_SHIFT bytes (room for the free list's link).
const MIN_SHIFT: usize = 4;
/// Classes 16 B to 2^(MIN_SHIFT + CLASSES - 1) bytes; anything larger fails.
const CLASSES: usize = 40;
/// Blocks are carved from chunks this large; a larger block gets its own mapping.
const CHUNK: usize = 64 * 1024;
const PAGE: usize = 4096;

struct State {
    /// Per class, the first free block; each free block holds the address of the next.
    free: [*mut u8; CLASSES],
    /// The unused rest of the current chunk.
    next: *mut u8,
    left: usize,
}

/// The global allocator (see the module header).
pub struct Pool(UnsafeCell<State>);

// SAFETY: the program runs one thread and the signal handler never allocates, so the
// state is never touched from two places at once (module header).
unsafe impl Sync for Pool {}

impl Pool {
    pub const fn new() -> Pool {
        Pool(UnsafeCell::new(State {
            free: [null_mut(); CLASSES],
            next: null_mut(),
            left: 0,
        }))
    }
}

/// The class of a layout and its block size; `None` for an alignment above a page or a
/// size beyond the largest class.
fn class(layout: Layout) -> Option<(usize, usize)> {
    if layout.align() > PAGE {
        return None;
    }
    let size = layout
        .size()
        .max(layout.align())
        .checked_next_power_of_two()?;
    let shift = (size.trailing_zeros() as usize).max(MIN_SHIFT);
    let class = shift - MIN_SHIFT;
    (class < CLASSES).then_some((class, 1 << shift))
}

fn map(len: usize) -> *mut u8 {
    use rustix::mm::{mmap_anonymous, MapFlags, ProtFlags};
    let prot = ProtFlags::READ | ProtFlags::WRITE;
    // SAFETY: a fresh private anonymous mapping aliases nothing.
    match unsafe { mmap_anonymous(null_mut(), len, prot, MapFlags::PRIVATE) } {
        Ok(p) => p.cast(),
        Err(_) => null_mut(),
    }
}

// SAFETY: blocks are aligned to min(block size, page) >= the layout's alignment (chunks and
// mappings are page-aligned, and each carve aligns to the block size up to a page); a
// block is handed out once until it is freed; a class's blocks all have the same size.
unsafe impl GlobalAlloc for Pool {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some((class, size)) = class(layout) else {
            return null_mut();
        };
        // SAFETY: one thread, no re-entry (module header).
        let state = unsafe { &mut *self.0.get() };
        if let Some(block) = NonNull::new(state.free[class]) {
            // SAFETY: a free block's first word is the next free block's address.
            state.free[class] = unsafe { *block.as_ptr().cast::<*mut u8>() };
            return block.as_ptr();
        }
        if size >= CHUNK {
            return map(size);
        }
        let pad = state.next.align_offset(size.min(PAGE));
        if state.next.is_null() || pad + size > state.left {
            state.next = map(CHUNK);
            state.left = CHUNK;
            if state.next.is_null() {
                state.left = 0;
                return null_mut();
            }
            return unsafe { self.alloc(layout) };
        }
        // SAFETY: pad + size <= left: inside the current chunk.
        let block = unsafe { state.next.add(pad) };
        state.next = unsafe { block.add(size) };
        state.left -= pad + size;
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some((class, _)) = class(layout) else {
            return;
        };
        // SAFETY: one thread; `ptr` is a block of this class no longer in use, big enough
        // for the link.
        unsafe {
            let state = &mut *self.0.get();
            *ptr.cast::<*mut u8>() = state.free[class];
            state.free[class] = ptr;
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract: `new_size` with `layout.align()` is a valid layout.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // Still the same class: the block already has room.
        if class(new) == class(layout) {
            return ptr;
        }
        // SAFETY: as GlobalAlloc's default realloc does.
        unsafe {
            let fresh = self.alloc(new);
            if !fresh.is_null() {
                core::ptr::copy_nonoverlapping(ptr, fresh, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
            fresh
        }
    }
}
