//! A per-thread pool of `Vec<f64>` scratch buffers, so that code called again and again (the
//! derivatives the attributes compile) does not allocate, zero and page-fault its cache and
//! checkpoint buffers on every call.
//!
//! [`take`] returns a buffer of the requested length, reusing the capacity of a pooled buffer
//! when one is large enough; [`give`] returns it to the pool. The contents of a taken buffer are
//! **unspecified** (whatever an earlier user left there, or zeros) but always initialized: this
//! is safe Rust, the buffer is only resized with [`Vec::truncate`] / [`Vec::resize`], which fill
//! just the grown part. Use it only for buffers that are written before they are read; for
//! accumulators that need zeros, allocate `vec![0.0; n]`.
//!
//! What the pool keeps is bounded, per thread: at most [`MAX_BUFFERS`] buffers and
//! [`MAX_BYTES`] bytes of capacity. A buffer given back beyond that is dropped (the smallest
//! pooled buffers go first; a single buffer larger than [`MAX_BYTES`] is never kept). A
//! thread's pool is freed when the thread exits, or at once with [`release`]. Forgetting to
//! [`give`] a buffer back is harmless: it is dropped as any `Vec`.
//!
//! ```
//! use ferrad_core::scratch;
//!
//! let mut cache = scratch::take(1000);
//! assert_eq!(cache.len(), 1000);
//! for (i, c) in cache.iter_mut().enumerate() {
//!     *c = i as f64; // written before read
//! }
//! let total: f64 = cache.iter().sum();
//! assert_eq!(total, 499_500.0);
//! scratch::give(cache);
//!
//! // The next take of at most that size reuses the allocation.
//! let again = scratch::take(500);
//! assert_eq!(again.len(), 500);
//! assert!(again.capacity() >= 1000);
//! scratch::give(again);
//! scratch::release(); // frees this thread's pool
//! assert_eq!(scratch::pooled_bytes(), 0);
//! ```

use std::cell::RefCell;

/// The most buffers one thread's pool keeps.
pub const MAX_BUFFERS: usize = 8;

/// The most bytes of capacity one thread's pool keeps (256 MiB).
pub const MAX_BYTES: usize = 256 << 20;

thread_local! {
    static POOL: RefCell<Vec<Vec<f64>>> = const { RefCell::new(Vec::new()) };
}

fn bytes(v: &Vec<f64>) -> usize {
    v.capacity() * std::mem::size_of::<f64>()
}

/// A buffer of `n` elements with unspecified (but initialized) contents: the smallest pooled
/// buffer whose capacity holds `n`, cut or grown to length `n`, or a fresh zeroed one when
/// none does. Hand it back with [`give`] when done.
pub fn take(n: usize) -> Vec<f64> {
    let pooled = POOL
        .try_with(|p| {
            let mut p = p.borrow_mut();
            let best = p
                .iter()
                .enumerate()
                .filter(|(_, v)| v.capacity() >= n)
                .min_by_key(|(_, v)| v.capacity())
                .map(|(k, _)| k)?;
            Some(p.swap_remove(best))
        })
        .ok()
        .flatten();
    match pooled {
        Some(mut v) => {
            // Within capacity: no reallocation; only the grown part is filled.
            v.truncate(n);
            v.resize(n, 0.0);
            v
        }
        // A fresh allocation: zeroed pages from the allocator, no copy of a smaller buffer.
        None => vec![0.0; n],
    }
}

/// Returns `v` to this thread's pool for a later [`take`], or drops it when the pool would
/// exceed [`MAX_BUFFERS`] buffers or [`MAX_BYTES`] bytes (the smallest buffers are dropped
/// first).
pub fn give(v: Vec<f64>) {
    if v.capacity() == 0 || bytes(&v) > MAX_BYTES {
        return;
    }
    // During thread teardown the pool may be gone: then `v` is simply dropped.
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        p.push(v);
        let mut total: usize = p.iter().map(bytes).sum();
        while p.len() > MAX_BUFFERS || total > MAX_BYTES {
            let smallest = p
                .iter()
                .enumerate()
                .min_by_key(|(_, v)| v.capacity())
                .map(|(k, _)| k)
                .expect("the pool is not empty");
            total -= bytes(&p[smallest]);
            p.swap_remove(smallest);
        }
    });
}

/// Frees every buffer in this thread's pool.
pub fn release() {
    let _ = POOL.try_with(|p| p.borrow_mut().clear());
}

/// The bytes of capacity this thread's pool holds now.
pub fn pooled_bytes() -> usize {
    POOL.try_with(|p| p.borrow().iter().map(bytes).sum())
        .unwrap_or(0)
}

/// How many buffers this thread's pool holds now.
pub fn pooled_buffers() -> usize {
    POOL.try_with(|p| p.borrow().len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each test runs on its own thread, so each sees a fresh pool.

    #[test]
    fn reuses_capacity() {
        let mut a = take(100);
        assert_eq!(a.len(), 100);
        a.iter_mut().for_each(|x| *x = 7.0);
        let ptr = a.as_ptr();
        give(a);
        assert_eq!(pooled_buffers(), 1);
        let b = take(60);
        assert_eq!(b.len(), 60);
        assert_eq!(b.as_ptr(), ptr, "the pooled allocation is reused");
        assert_eq!(pooled_buffers(), 0);
        give(b);
        // grown back within capacity: the old part keeps old values, the grown part is 0
        let c = take(100);
        assert_eq!(c.as_ptr(), ptr);
        assert!(c[..60].iter().all(|&x| x == 7.0));
        assert!(c[60..].iter().all(|&x| x == 0.0));
        give(c);
    }

    #[test]
    fn too_small_pooled_buffer_is_not_grown() {
        give(take(10));
        let big = take(1000);
        assert_eq!(big.len(), 1000);
        assert!(big.iter().all(|&x| x == 0.0), "a fresh buffer is zeroed");
        assert_eq!(pooled_buffers(), 1, "the small one stays pooled");
        give(big);
        assert_eq!(pooled_buffers(), 2);
    }

    #[test]
    fn best_fit_among_sizes() {
        let (a, b, c) = (take(10), take(1000), take(100));
        let (pa, pb, pc) = (a.as_ptr(), b.as_ptr(), c.as_ptr());
        give(a);
        give(b);
        give(c);
        let x = take(50);
        assert_eq!(x.as_ptr(), pc);
        let y = take(5);
        assert_eq!(y.as_ptr(), pa);
        let z = take(500);
        assert_eq!(z.as_ptr(), pb);
        assert_eq!((x.len(), y.len(), z.len()), (50, 5, 500));
        give(x);
        give(y);
        give(z);
    }

    #[test]
    fn nested_takes_get_distinct_buffers() {
        give(take(64));
        let mut outer = take(64);
        let mut inner = take(64);
        assert_ne!(outer.as_ptr(), inner.as_ptr());
        outer.fill(1.0);
        inner.fill(2.0);
        assert!(outer.iter().all(|&x| x == 1.0));
        give(inner);
        give(outer);
        assert_eq!(pooled_buffers(), 2);
    }

    #[test]
    fn bounded_by_count_and_bytes() {
        let bufs: Vec<Vec<f64>> = (1..=MAX_BUFFERS + 3).map(|k| take(k * 16)).collect();
        for b in bufs {
            give(b);
        }
        assert_eq!(pooled_buffers(), MAX_BUFFERS);
        // the smallest went first
        assert!(take(3 * 16).capacity() >= 4 * 16);
        release();
        assert_eq!((pooled_buffers(), pooled_bytes()), (0, 0));

        let elems = MAX_BYTES / 8;
        give(take(elems + 1)); // larger than the cap: not kept
        assert_eq!(pooled_buffers(), 0);
        let (a, b) = (take(elems / 2 + 1), take(elems / 2 + 1));
        give(a);
        give(b); // together over the cap: one is dropped
        assert_eq!(pooled_buffers(), 1);
        assert!(pooled_bytes() <= MAX_BYTES);
        release();
    }

    #[test]
    fn zero_length() {
        let v = take(0);
        assert!(v.is_empty());
        give(v);
        assert_eq!(pooled_buffers(), 0);
    }

    #[test]
    fn pools_are_per_thread() {
        give(take(32));
        std::thread::spawn(|| assert_eq!(pooled_buffers(), 0))
            .join()
            .unwrap();
        assert_eq!(pooled_buffers(), 1);
    }
}
