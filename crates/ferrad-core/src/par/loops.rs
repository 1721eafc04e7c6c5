//! The runtime of parallel loops in compiled derivatives.
//!
//! A loop that `#[autodiff_reverse]` / `#[autodiff_forward]` compile (with the `ferrad` crate's
//! `parallel` feature), whose iterations are independent except for float sums and whose
//! written buffers are indexed by the loop index only, runs over chunks of [`LOOP_CHUNK`]
//! iterations when its trip count reaches [`loop_in_chunks`]'s threshold. The emitted code cuts
//! the index range and the buffers (`chunks`, `chunks_mut`) into chunks, [`map_chunks`] runs
//! one closure per chunk, each returning its partial sums, and the code adds those in chunk
//! order. The chunk boundaries depend only on the trip count, so the result is bit for bit the
//! same with 1, 2 or 64 threads ([`super::set_threads`], `FERRAD_THREADS`). Below the threshold
//! the loop runs as one sequential loop, as it did before it could run in parallel.

/// Iterations of a compiled loop per chunk: enough work per task (tens of microseconds) that
/// the pool's overhead does not show, small enough that a million iterations feed 60 tasks.
pub const LOOP_CHUNK: usize = 16384;

/// The fewest chunks a compiled loop runs in ([`loop_in_chunks`]): below that, one thread.
pub const LOOP_MIN_CHUNKS: usize = 2;

/// Whether a compiled loop of `trip` iterations runs in chunks of [`LOOP_CHUNK`] (on the pool
/// when there are threads). Depends on `trip` only, never on the thread count: the chunked
/// sums are rounded differently from the one sequential loop, and must be the same at any
/// thread count.
#[inline]
pub fn loop_in_chunks(trip: usize) -> bool {
    trip >= LOOP_MIN_CHUNKS * LOOP_CHUNK
}

/// `f` of every chunk, in chunk order, spread over [`super::threads`] threads (on the calling
/// thread when there is one thread, one chunk, or no `parallel` feature). The chunks carry
/// their own data, `&mut` slices included, so no two tasks share a written element.
///
/// ```
/// use ferrad_core::par::{LOOP_CHUNK, loop_in_chunks, map_chunks};
/// // y = 2x and Σ x², the shape of a compiled loop
/// let x: Vec<f64> = (0..100_000).map(|i| (i as f64).sin()).collect();
/// let mut y = vec![0.0; x.len()];
/// assert!(loop_in_chunks(x.len()));
/// let chunks = x.chunks(LOOP_CHUNK).zip(y.chunks_mut(LOOP_CHUNK));
/// let parts = map_chunks(chunks, |(xc, yc)| {
///     let mut s = -0.0; // the exact identity of IEEE addition
///     for (v, o) in xc.iter().zip(yc) {
///         *o = 2.0 * v;
///         s += v * v;
///     }
///     s
/// });
/// let sum: f64 = parts.iter().fold(0.0, |a, p| a + p); // chunk order
/// let seq: f64 = x.iter().map(|v| v * v).sum(); // one sequential sum: other rounding
/// assert!((sum - seq).abs() < 1e-12 * seq);
/// assert_eq!(y[7], 2.0 * x[7]);
/// ```
pub fn map_chunks<T: Send, R: Send>(
    chunks: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let tasks: Vec<T> = chunks.into_iter().collect();
    let threads = super::threads();
    if tasks.len() <= 1 || threads <= 1 {
        return tasks.into_iter().map(f).collect();
    }
    super::pool::run_vec(threads, tasks, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_two_chunks() {
        assert!(!loop_in_chunks(2 * LOOP_CHUNK - 1));
        assert!(loop_in_chunks(2 * LOOP_CHUNK));
    }

    #[test]
    fn results_come_in_chunk_order() {
        let mut y = vec![0usize; 5 * LOOP_CHUNK + 3];
        let starts = map_chunks(y.chunks_mut(LOOP_CHUNK).enumerate(), |(k, c)| {
            c.iter_mut().for_each(|v| *v = k);
            k * LOOP_CHUNK
        });
        assert_eq!(starts, (0..6).map(|k| k * LOOP_CHUNK).collect::<Vec<_>>());
        assert!(y.iter().enumerate().all(|(i, &k)| k == i / LOOP_CHUNK));
    }
}
