//! Order-preserving parallel work over a list, for decoding and extracting large resource lists:
//! the list is cut into `threads` contiguous chunks, each chunk is handled on its own scoped
//! thread (the first on the caller's), and the results come back in chunk order, so the outcome
//! never depends on the thread count.

/// The one policy for a worker that panics (a bug): the part of the work it had is lost, and
/// that is said as an error naming where (the document is then incomplete: exit 2). Nothing is
/// dropped silently, and the other parts still answer. Every caller of [`map_chunks`], and the
/// bundle's workers, use it.
pub(crate) const LOST: &str = "an internal error (a panic) lost this part; please report it";

/// At most this many threads for one list: a list is a few thousand resources, and cutting it
/// finer only adds thread start-ups (only 2 cores were measured; see docs/performance.md).
pub(crate) const MAX_THREADS: usize = 4;

/// `f` on each contiguous chunk of `items` (with each item's index), results in order with the
/// index of the chunk's first item; `Err` holds the panic of a chunk run on another thread, for
/// the caller to report as [`LOST`].
pub(crate) fn map_chunks<I: Send, R: Send>(
    items: Vec<I>,
    threads: usize,
    f: impl Fn(Vec<(usize, I)>) -> R + Sync,
) -> Vec<(usize, std::thread::Result<R>)> {
    let threads = threads.clamp(1, MAX_THREADS).min(items.len().max(1));
    let per = items.len().div_ceil(threads).max(1);
    let mut chunks: Vec<Vec<(usize, I)>> = Vec::with_capacity(threads);
    for (i, item) in items.into_iter().enumerate() {
        if i % per == 0 {
            chunks.push(Vec::with_capacity(per));
        }
        if let Some(c) = chunks.last_mut() {
            c.push((i, item));
        }
    }
    let start = |c: &Vec<(usize, I)>| c.first().map_or(0, |(i, _)| *i);
    if chunks.len() <= 1 {
        return chunks.into_iter().map(|c| (start(&c), Ok(f(c)))).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = chunks.into_iter();
        let first = chunks.next();
        let others: Vec<_> = chunks
            .map(|c| (start(&c), scope.spawn(move || f(c))))
            .collect();
        let mut results: Vec<(usize, std::thread::Result<R>)> =
            first.into_iter().map(|c| (start(&c), Ok(f(c)))).collect();
        results.extend(others.into_iter().map(|(i, h)| (i, h.join())));
        results
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_order_whatever_the_threads() {
        let items: Vec<u32> = (0..1001).collect();
        let run = |threads| -> Vec<(usize, u32)> {
            let chunks = map_chunks(items.clone(), threads, |c| c);
            chunks.into_iter().flat_map(|(_, r)| r.unwrap()).collect()
        };
        let one = run(1);
        for threads in [2, 3, 4, 7, 5000] {
            // (more than MAX_THREADS is capped, with the same result)
            let many = run(threads);
            assert_eq!(many, one, "{threads} threads");
        }
        assert_eq!(one.len(), 1001);
        assert!(map_chunks(Vec::<u8>::new(), 4, |c| c.len()).is_empty());
        let panicked = map_chunks(items, 2, |c| assert!(c[0].0 == 0, "second chunk"));
        assert!(panicked[0].1.is_ok() && panicked[1].1.is_err());
        assert_eq!(
            (panicked[0].0, panicked[1].0),
            (0, 501),
            "each with its first index"
        );
    }
}
