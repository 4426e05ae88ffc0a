//! `BufferPool`: receive buffers shared by a loop's tasks, so a connection holds one only
//! while it has something to receive. With [`readable`](super::TcpStream::readable) it is
//! the daemon pattern for many idle connections: wait buffer-less, take a buffer, receive
//! and answer, give it back (see [`echo_pooled`](super::echo_pooled)). It is loop-local
//! (`Rc`, not `Send`) and never hands one buffer to two holders.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

#[derive(Debug)]
struct Inner {
    size: usize,
    keep: usize,
    free: RefCell<Vec<Box<[u8]>>>,
}

/// A pool of `size`-byte buffers; up to `keep` returned ones are kept for reuse, the rest
/// freed. Cloning it shares the pool.
///
/// ```
/// use readyloop::net::BufferPool;
/// let pool = BufferPool::new(16 * 1024, 64);
/// let mut a = pool.take();
/// a[0] = 7;
/// assert_eq!(a.len(), 16 * 1024);
/// drop(a); // back to the pool
/// assert_eq!(pool.free(), 1);
/// let b = pool.take(); // the same memory again, no allocation
/// assert_eq!(pool.free(), 0);
/// # drop(b);
/// ```
#[derive(Debug, Clone)]
pub struct BufferPool(Rc<Inner>);

impl BufferPool {
    /// A pool of `size`-byte buffers (at least one byte) keeping up to `keep` free ones.
    ///
    /// ```
    /// let pool = readyloop::net::BufferPool::new(4096, 8);
    /// assert_eq!((pool.buffer_size(), pool.free()), (4096, 0));
    /// ```
    pub fn new(size: usize, keep: usize) -> Self {
        BufferPool(Rc::new(Inner {
            size: size.max(1),
            keep,
            free: RefCell::new(Vec::new()),
        }))
    }

    /// A buffer, from the free ones or newly allocated (zeroed); it goes back on drop.
    ///
    /// ```
    /// let pool = readyloop::net::BufferPool::new(512, 8);
    /// let buf = pool.take();
    /// assert_eq!(buf.len(), 512);
    /// ```
    pub fn take(&self) -> PooledBuffer<'_> {
        let reused = self.0.free.borrow_mut().pop();
        let buf = reused.unwrap_or_else(|| alloc::vec![0u8; self.0.size].into_boxed_slice());
        PooledBuffer {
            buf: Some(buf),
            pool: self,
        }
    }

    /// The size of each buffer.
    ///
    /// ```
    /// assert_eq!(readyloop::net::BufferPool::new(0, 1).buffer_size(), 1);
    /// ```
    pub fn buffer_size(&self) -> usize {
        self.0.size
    }

    /// How many free buffers the pool keeps now (never more than `keep`).
    ///
    /// ```
    /// let pool = readyloop::net::BufferPool::new(64, 1);
    /// let (a, b) = (pool.take(), pool.take());
    /// drop((a, b));
    /// assert_eq!(pool.free(), 1);
    /// ```
    pub fn free(&self) -> usize {
        self.0.free.borrow().len()
    }
}

/// A buffer taken from a [`BufferPool`]; derefs to `[u8]` and returns to the pool on drop.
///
/// ```
/// let pool = readyloop::net::BufferPool::new(8, 4);
/// let mut buf = pool.take();
/// buf[..2].copy_from_slice(b"hi");
/// assert_eq!(&buf[..2], b"hi");
/// ```
#[derive(Debug)]
pub struct PooledBuffer<'a> {
    buf: Option<Box<[u8]>>,
    pool: &'a BufferPool,
}

impl core::ops::Deref for PooledBuffer<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.buf.as_deref().unwrap_or(&[])
    }
}

impl core::ops::DerefMut for PooledBuffer<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.buf.as_deref_mut().unwrap_or(&mut [])
    }
}

impl Drop for PooledBuffer<'_> {
    fn drop(&mut self) {
        let Some(buf) = self.buf.take() else {
            return;
        };
        // (try_borrow_mut: a buffer dropped while the pool's list is borrowed is freed.)
        if let Ok(mut free) = self.pool.0.free.try_borrow_mut() {
            if free.len() < self.pool.0.keep {
                free.push(buf);
            }
        }
    }
}
