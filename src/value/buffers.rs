//! The thread's spare string buffers: where results are built and where they go back.
//!
//! A mapping set applied to a record builds a handful of strings (a UPN, a display name, a
//! phone number without its punctuation). Allocating and freeing each one costs more than
//! building it (≈ 180 instructions of malloc and free against ≈ 60 to copy a name), so
//! every place that builds a result takes its buffer here, and every place that is done
//! with a result hands the buffer back: `CompiledSet::apply_each` (and so `run`) after each
//! mapping's value has been used, the generic VM for its intermediate strings, and any
//! caller through [`recycle`]. In the steady state a record then costs no allocation at all.
//!
//! The pool is per thread (no locking) and bounded: at most [`MAX_SPARE`] buffers of at
//! most [`MAX_CAPACITY`] bytes each are kept, so it holds at most 1 MiB per thread however
//! large the input; a larger buffer is freed, a buffer taken when the pool is empty is
//! allocated as usual.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};

use super::Value;

/// The most buffers kept per thread.
pub const MAX_SPARE: usize = 16;

/// The largest buffer kept (bytes of capacity); larger ones are freed.
pub const MAX_CAPACITY: usize = 64 << 10;

thread_local! {
    static SPARE: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    /// How many buffers `SPARE` holds. A plain counter needs no destructor, so reading it is
    /// one load: a caller that never gives buffers back (it drops its results) pays that
    /// instead of borrowing the list to find it empty.
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

/// An empty string with room for at least `capacity` bytes: a spare buffer of this thread
/// when there is one, else a new allocation.
#[inline(always)]
pub fn take(capacity: usize) -> String {
    if COUNT.with(Cell::get) == 0 {
        return String::with_capacity(capacity);
    }
    let spare = SPARE
        .try_with(|s| {
            s.try_borrow_mut().ok().and_then(|mut s| {
                let b = s.pop();
                COUNT.set(s.len());
                b
            })
        })
        .ok()
        .flatten();
    match spare {
        Some(mut s) => {
            s.clear();
            s.reserve(capacity);
            s
        }
        None => String::with_capacity(capacity),
    }
}

/// Keeps `s`'s buffer for a later [`take`] on this thread (or frees it when the pool is
/// full, the buffer is too large, or it holds no memory).
#[inline(always)]
pub fn give(s: String) {
    if !worth_keeping(&s) {
        return;
    }
    let _ = SPARE.try_with(|spare| {
        if let Ok(mut spare) = spare.try_borrow_mut() {
            keep(&mut spare, s);
            COUNT.set(spare.len());
        }
    });
}

/// A buffer the pool keeps: it holds memory, and not more than [`MAX_CAPACITY`].
#[inline(always)]
fn worth_keeping(s: &String) -> bool {
    s.capacity() != 0 && s.capacity() <= MAX_CAPACITY
}

/// Keeps `s` in `pool` when it is worth keeping and the pool has room (else frees it): the
/// bounds of this thread's buffers, also for the pool the generic VM holds during one
/// evaluation (`Env::recycle`).
#[inline(always)]
pub fn keep(pool: &mut Vec<String>, s: String) {
    if pool.len() < MAX_SPARE && worth_keeping(&s) {
        pool.push(s);
    }
}

/// Hands a value that is no longer needed back to this thread's buffers: an owned string's
/// buffer is reused by the next result built on this thread. A caller of
/// [`CompiledSet::apply_with`](crate::CompiledSet::apply_with) or
/// [`Program::eval`](crate::Program::eval) that keeps results only briefly (serializes them,
/// compares them) saves an allocation per built string this way; dropping the value instead
/// is always correct.
#[inline]
pub fn recycle(v: Value<'_>) {
    match v {
        Value::Str(Cow::Owned(s)) => give(s),
        other => other.release(),
    }
}

/// Moves every spare buffer into `pool` (the generic VM keeps them in its environment for
/// one evaluation) and back with [`restore`].
pub fn take_all() -> Vec<String> {
    let all = SPARE
        .try_with(|s| s.try_borrow_mut().map(|mut s| std::mem::take(&mut *s)).ok())
        .ok()
        .flatten()
        .unwrap_or_default();
    COUNT.set(0);
    all
}

/// Gives back the buffers of [`take_all`] (at most [`MAX_SPARE`] are kept).
pub fn restore(mut pool: Vec<String>) {
    pool.truncate(MAX_SPARE);
    let _ = SPARE.try_with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if s.is_empty() {
                *s = pool;
            } else {
                while s.len() < MAX_SPARE {
                    match pool.pop() {
                        Some(b) => s.push(b),
                        None => break,
                    }
                }
            }
            COUNT.set(s.len());
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_is_taken_again_empty_and_with_room() {
        // Drain whatever another test on this thread left.
        drop(take_all());
        let mut s = String::with_capacity(100);
        s.push_str("left over");
        let ptr = s.as_ptr();
        give(s);
        let t = take(10);
        assert_eq!(t, "");
        assert!(t.capacity() >= 100);
        assert_eq!(t.as_ptr(), ptr, "the same buffer comes back");
        // Nothing spare: a fresh buffer of the asked size.
        let u = take(40);
        assert!(u.capacity() >= 40);
        assert_ne!(u.as_ptr(), ptr);
    }

    #[test]
    fn the_pool_is_bounded_in_count_and_size() {
        drop(take_all());
        for _ in 0..MAX_SPARE + 5 {
            give(String::with_capacity(8));
        }
        give(String::with_capacity(MAX_CAPACITY + 1));
        give(String::new());
        let all = take_all();
        assert_eq!(all.len(), MAX_SPARE);
        assert!(
            all.iter()
                .all(|s| s.capacity() >= 8 && s.capacity() <= MAX_CAPACITY)
        );
        restore(all);
        assert_eq!(take_all().len(), MAX_SPARE);
    }

    #[test]
    fn recycling_keeps_only_owned_strings() {
        drop(take_all());
        recycle(Value::str("borrowed"));
        recycle(Value::Int(3));
        recycle(Value::string(String::from("owned")));
        let all = take_all();
        assert_eq!(all.len(), 1);
        restore(all);
        assert_eq!(take(1), "", "taken back empty");
    }
}
