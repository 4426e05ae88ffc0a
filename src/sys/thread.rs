//! Thread system calls: the calling thread's kernel id (for traces) and its CPU affinity
//! (for one loop per core, `multi`).
//!
//! Each function is one plain syscall on the calling thread; nothing here spawns, waits or
//! touches another thread.

/// The calling thread's id (`gettid`).
pub(crate) fn current_id() -> i32 {
    rustix::thread::gettid().as_raw_nonzero().get()
}

/// The CPUs the calling thread may run on (`sched_getaffinity`), in ascending order.
#[cfg(feature = "std")]
pub(crate) fn allowed_cpus() -> Result<alloc::vec::Vec<usize>, rustix::io::Errno> {
    use rustix::thread::CpuSet;
    let set = rustix::thread::sched_getaffinity(None)?;
    Ok((0..CpuSet::MAX_CPU)
        .filter(|&cpu| set.is_set(cpu))
        .collect())
}

/// Restricts the calling thread to one CPU (`sched_setaffinity`).
#[cfg(feature = "std")]
pub(crate) fn pin_to_cpu(cpu: usize) -> Result<(), rustix::io::Errno> {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set)
}
