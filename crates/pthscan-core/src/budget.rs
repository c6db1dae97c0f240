//! The memory budget of a scan (`--max-memory`): one shared count of the bytes that artifacts
//! hold in memory — members' content, the paths of in-memory trees, manifests — against a
//! limit that no input can raise. A reader reserves before it keeps bytes and holds the
//! reservation ([`Held`]) as long as the bytes live; what does not fit is not kept, and the
//! reader says so. The other memory knobs are derived from the one limit ([`Caps`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The default `--max-memory`: 256 MiB.
pub const DEFAULT_MAX_MEMORY: u64 = 256 << 20;

/// The smallest `--max-memory` a scan runs with (the process itself needs about this much).
pub const MIN_MAX_MEMORY: u64 = 64 << 20;

/// A shared count of bytes held, against a limit.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    used: AtomicU64,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            used: AtomicU64::new(0),
        })
    }

    /// The budget for what artifacts hold of a process allowed `max_memory` bytes: half of it
    /// (the rest is the process's own: compiled rules, each thread's scanner and windows, the
    /// copy of the file being judged).
    pub fn for_process(max_memory: u64) -> Arc<Budget> {
        Budget::new(Caps::new(max_memory).held)
    }

    /// The limit.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes held now.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Reserves `bytes` if they fit; `None` when they do not (nothing is reserved then).
    pub fn try_reserve(self: &Arc<Self>, bytes: u64) -> Option<Held> {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let after = used.checked_add(bytes).filter(|&a| a <= self.limit)?;
            match self
                .used
                .compare_exchange_weak(used, after, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    return Some(Held {
                        budget: Some(Arc::clone(self)),
                        bytes,
                    });
                }
                Err(now) => used = now,
            }
        }
    }

    /// Counts `bytes` that are held already, whether they fit or not (bytes kept alive past
    /// the tree that reserved them: the archives nested in it, still to open).
    pub fn force(self: &Arc<Self>, bytes: u64) -> Held {
        self.used.fetch_add(bytes, Ordering::AcqRel);
        Held {
            budget: Some(Arc::clone(self)),
            bytes,
        }
    }
}

/// Bytes reserved from a [`Budget`], given back when dropped. Reservations merge.
#[derive(Debug, Default)]
pub struct Held {
    budget: Option<Arc<Budget>>,
    bytes: u64,
}

impl Held {
    /// The bytes reserved.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Takes over `other`'s bytes (of the same budget).
    pub fn absorb(&mut self, mut other: Held) {
        if self.budget.is_none() {
            self.budget = other.budget.take();
        } else if let Some(b) = other.budget.take() {
            debug_assert!(self.budget.as_ref().is_some_and(|s| Arc::ptr_eq(s, &b)));
        }
        self.bytes += std::mem::take(&mut other.bytes);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(b) = &self.budget {
            b.used.fetch_sub(self.bytes, Ordering::AcqRel);
        }
    }
}

/// The memory knobs, all derived from `--max-memory`.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// What artifacts may hold in memory at once, all together.
    pub held: u64,
    /// At most this many bytes of one archive member are kept (before `--max-file-size`).
    pub member: u64,
    /// Manifests, configs and indexes of an image larger than this are not read.
    pub json: u64,
    /// Artifacts larger than this on disk are opened and judged one at a time.
    pub large_artifact: u64,
}

impl Caps {
    /// The caps of a process allowed `max_memory` bytes.
    pub fn new(max_memory: u64) -> Caps {
        let m = max_memory.max(MIN_MAX_MEMORY);
        Caps {
            held: m / 2,
            member: m / 8,
            json: m / 256,
            large_artifact: m / 32,
        }
    }
}

/// Member names, link targets and PAX paths longer than this are cut (Linux's `PATH_MAX`).
pub const MAX_NAME: usize = 4096;

/// A PAX extended header or GNU long-name member larger than this is not read.
pub const MAX_EXTENSION_HEADER: u64 = 64 << 10;

/// What one node of an in-memory tree costs besides its path's bytes.
pub const NODE_OVERHEAD: u64 = 96;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_fit_the_limit_and_are_given_back() {
        let b = Budget::new(100);
        let a = b.try_reserve(60).unwrap();
        assert!(b.try_reserve(41).is_none());
        let mut c = b.try_reserve(40).unwrap();
        assert_eq!(b.used(), 100);
        drop(a);
        c.absorb(b.try_reserve(50).unwrap());
        assert_eq!((b.used(), c.bytes()), (90, 90));
        drop(c);
        let forced = b.force(500);
        assert_eq!(b.used(), 500);
        drop(forced);
        assert_eq!(b.used(), 0);
    }
}
