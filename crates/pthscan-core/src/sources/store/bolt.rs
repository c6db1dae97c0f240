//! A read-only reader of bbolt database files (containerd's `meta.db`): the newest valid meta
//! page, then buckets and their keys, page by page with positioned reads — no memory map, no
//! file lock (containerd holds its own on a live node; a reader that locked would wait on it),
//! nothing written. Every offset, size, count and depth read from the file is checked before it
//! is used: a damaged or hostile file gives an error, never a panic, a loop or an allocation
//! past the caps.
//!
//! The format (little-endian): every page starts with a 16-byte header (`id` u64, `flags` u16,
//! `count` u16, `overflow` u32) and spans `1 + overflow` pages. Pages 0 and 1 are meta pages
//! (`magic` 0xED0CDAED, `version` 2, `page_size`, `flags`, the root bucket's `root` page and
//! `sequence`, `freelist`, `pgid`, `txid`, then an FNV-1a 64 checksum of the 56 bytes before
//! it); the one with the higher `txid` and a good checksum is current. A branch page holds
//! `count` elements (`pos` u32, `ksize` u32, `pgid` u64), a leaf page `count` elements
//! (`flags` u32 — 1 for a nested bucket —, `pos` u32, `ksize` u32, `vsize` u32), `pos` counted
//! from the element itself. A bucket's value is its header (`root` u64, `sequence` u64); a root
//! of 0 means the bucket is inline: a page follows the header in the value.

use std::fs::File;

const MAGIC: u32 = 0xED0C_DAED;
const HEADER: usize = 16;
const ELEMENT: usize = 16;
const BRANCH: u16 = 0x01;
const LEAF: u16 = 0x02;
const BUCKET: u32 = 0x01;
/// Nested pages deeper than this are not followed (a real tree of millions of keys is a few
/// levels deep).
const MAX_DEPTH: usize = 32;
/// One page (with its overflow) larger than this is not read.
const MAX_PAGE: u64 = 16 << 20;
/// At most this many bytes of pages are read for one bucket's entries (a damaged file whose
/// branch pages name one large page many times would otherwise be read for hours).
const MAX_READ: u64 = 256 << 20;
/// At most this many pages are read for one bucket's entries.
const MAX_PAGES: usize = 100_000;
/// At most this many entries are returned for one bucket.
const MAX_ENTRIES: usize = 1_000_000;
/// At most this many bytes of keys and values are returned for one bucket.
const MAX_BYTES: usize = 64 << 20;

/// What one bucket's walk has read so far.
#[derive(Default)]
struct Walked {
    pages: usize,
    bytes: usize,
    /// Bytes of pages read.
    read: u64,
}

/// An open database file.
pub(crate) struct Bolt {
    file: File,
    len: u64,
    page_size: u64,
    root: u64,
}

/// A bucket: on its own page, or inline in its parent's value.
#[derive(Debug, Clone)]
pub(crate) enum Bucket {
    /// Its root page.
    Page(u64),
    /// An inline bucket's page.
    Inline(Vec<u8>),
}

/// A value under a key: a nested bucket or bytes.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// A nested bucket.
    Bucket(Bucket),
    /// Bytes.
    Data(Vec<u8>),
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Bolt {
    /// Opens the database in `file` (`len` bytes): the newest valid meta page.
    pub(crate) fn open(file: File, len: u64) -> Result<Bolt, String> {
        let mut first = [0u8; HEADER + 64];
        crate::fs::read_exact_at(&file, &mut first, 0)
            .map_err(|e| format!("not a bbolt database: {e}"))?;
        let page_size = u64::from(u32_at(&first, HEADER + 8).unwrap_or(0));
        if !(512..=(1 << 20)).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(format!(
                "not a bbolt database: page size {page_size} (real ones are 4096)"
            ));
        }
        let mut best: Option<(u64, u64)> = None;
        for n in 0..2u64 {
            let mut meta = [0u8; HEADER + 64];
            if crate::fs::read_exact_at(&file, &mut meta, n * page_size).is_err() {
                continue;
            }
            let m = &meta[HEADER..];
            let ok = u32_at(m, 0) == Some(MAGIC)
                && u32_at(m, 4) == Some(2)
                && u64_at(m, 56) == Some(fnv1a(&m[..56]));
            if !ok {
                continue;
            }
            let (root, txid) = (u64_at(m, 16).unwrap_or(0), u64_at(m, 48).unwrap_or(0));
            if best.is_none_or(|(_, t)| txid > t) {
                best = Some((root, txid));
            }
        }
        let (root, _) = best.ok_or("not a bbolt database: no valid meta page")?;
        Ok(Bolt {
            file,
            len,
            page_size,
            root,
        })
    }

    /// The root bucket.
    pub(crate) fn root(&self) -> Bucket {
        Bucket::Page(self.root)
    }

    /// Page `id` with its overflow pages.
    fn page(&self, id: u64) -> Result<Vec<u8>, String> {
        let at = id
            .checked_mul(self.page_size)
            .filter(|at| at.saturating_add(self.page_size) <= self.len && id >= 2)
            .ok_or_else(|| format!("page {id} lies outside the file"))?;
        let mut head = [0u8; HEADER];
        crate::fs::read_exact_at(&self.file, &mut head, at)
            .map_err(|e| format!("page {id}: {e}"))?;
        let overflow = u64::from(u32_at(&head, 12).unwrap_or(0));
        let size = (overflow + 1).saturating_mul(self.page_size);
        if size > MAX_PAGE || at.saturating_add(size) > self.len {
            return Err(format!(
                "page {id} spans {size} bytes, past the file or the cap"
            ));
        }
        let mut page = vec![0u8; size as usize];
        crate::fs::read_exact_at(&self.file, &mut page, at)
            .map_err(|e| format!("page {id}: {e}"))?;
        Ok(page)
    }

    /// Every key of `bucket` with its value, in key order.
    pub(crate) fn entries(&self, bucket: &Bucket) -> Result<Vec<(Vec<u8>, Value)>, String> {
        let mut out = Vec::new();
        let mut pages = Walked::default();
        match bucket {
            Bucket::Inline(page) => self.walk(page, 0, &mut pages, &mut out)?,
            Bucket::Page(id) => self.walk_page(*id, 0, &mut pages, &mut out)?,
        }
        Ok(out)
    }

    /// The value under `key` in `bucket`.
    pub(crate) fn get(&self, bucket: &Bucket, key: &[u8]) -> Result<Option<Value>, String> {
        Ok(self
            .entries(bucket)?
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v))
    }

    fn walk_page(
        &self,
        id: u64,
        depth: usize,
        pages: &mut Walked,
        out: &mut Vec<(Vec<u8>, Value)>,
    ) -> Result<(), String> {
        pages.pages += 1;
        if depth > MAX_DEPTH || pages.pages > MAX_PAGES {
            return Err("the bucket's pages nest too deep or are too many: a damaged file".into());
        }
        let page = self.page(id)?;
        pages.read += page.len() as u64;
        if pages.read > MAX_READ {
            return Err(format!(
                "the bucket's pages add up to more than {} MiB: a damaged file",
                MAX_READ >> 20
            ));
        }
        // a branch's children are walked once the branch page is let go: one page held at a
        // time, not one for every level
        if u16_at(&page, 8).is_some_and(|f| f & BRANCH != 0) {
            let children = branch_children(&page)?;
            drop(page);
            for child in children {
                self.walk_page(child, depth + 1, pages, out)?;
            }
            return Ok(());
        }
        self.walk(&page, depth, pages, out)
    }

    /// The entries of one page (a branch's, through its children).
    fn walk(
        &self,
        page: &[u8],
        depth: usize,
        pages: &mut Walked,
        out: &mut Vec<(Vec<u8>, Value)>,
    ) -> Result<(), String> {
        let bad = || "a page's element lies outside it: a damaged file".to_owned();
        let flags = u16_at(page, 8).ok_or_else(bad)?;
        let count = usize::from(u16_at(page, 10).ok_or_else(bad)?);
        for i in 0..count {
            let elem = HEADER + i * ELEMENT;
            if flags & BRANCH != 0 {
                let child = u64_at(page, elem + 8).ok_or_else(bad)?;
                self.walk_page(child, depth + 1, pages, out)?;
            } else if flags & LEAF != 0 {
                let kind = u32_at(page, elem).ok_or_else(bad)?;
                let pos = u32_at(page, elem + 4).ok_or_else(bad)? as usize;
                let ksize = u32_at(page, elem + 8).ok_or_else(bad)? as usize;
                let vsize = u32_at(page, elem + 12).ok_or_else(bad)? as usize;
                let k0 = elem.checked_add(pos).ok_or_else(bad)?;
                let v0 = k0.checked_add(ksize).ok_or_else(bad)?;
                let v1 = v0.checked_add(vsize).ok_or_else(bad)?;
                let key = page.get(k0..v0).ok_or_else(bad)?.to_vec();
                let value = page.get(v0..v1).ok_or_else(bad)?;
                pages.bytes += key.len() + value.len();
                let value = if kind & BUCKET != 0 {
                    let root = u64_at(value, 0).ok_or_else(bad)?;
                    Value::Bucket(if root == 0 {
                        Bucket::Inline(value.get(HEADER..).ok_or_else(bad)?.to_vec())
                    } else {
                        Bucket::Page(root)
                    })
                } else {
                    Value::Data(value.to_vec())
                };
                if pages.bytes > MAX_BYTES {
                    return Err(format!(
                        "a bucket holding more than {MAX_BYTES} bytes: not read"
                    ));
                }
                if out.len() >= MAX_ENTRIES {
                    return Err(format!(
                        "a bucket of more than {MAX_ENTRIES} keys: not read"
                    ));
                }
                out.push((key, value));
            } else {
                return Err(format!(
                    "page of kind {flags:#x} where a bucket's page was expected"
                ));
            }
        }
        Ok(())
    }
}

/// The child page ids of a branch page.
fn branch_children(page: &[u8]) -> Result<Vec<u64>, String> {
    let bad = || "a page's element lies outside it: a damaged file".to_owned();
    let count = usize::from(u16_at(page, 10).ok_or_else(bad)?);
    (0..count)
        .map(|i| u64_at(page, HEADER + i * ELEMENT + 8).ok_or_else(bad))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const PAGE: usize = 4096;

    /// A leaf page of `(flags, key, value)` elements.
    fn leaf(id: u64, items: &[(u32, &[u8], &[u8])]) -> Vec<u8> {
        let mut page = vec![0u8; HEADER];
        page[..8].copy_from_slice(&id.to_le_bytes());
        page[8..10].copy_from_slice(&LEAF.to_le_bytes());
        page[10..12].copy_from_slice(&(items.len() as u16).to_le_bytes());
        let mut data = Vec::new();
        let start = HEADER + items.len() * ELEMENT;
        for (i, (flags, k, v)) in items.iter().enumerate() {
            let elem = HEADER + i * ELEMENT;
            let pos = (start + data.len() - elem) as u32;
            for x in [*flags, pos, k.len() as u32, v.len() as u32] {
                page.extend_from_slice(&x.to_le_bytes());
            }
            data.extend_from_slice(k);
            data.extend_from_slice(v);
        }
        page.extend_from_slice(&data);
        page
    }

    /// A database whose root bucket (page 2) holds `v1`, an inline bucket holding `a` = `b`
    /// and `n` = a bucket on page 3 holding `k` = `v`.
    fn database() -> Vec<u8> {
        let mut file = vec![0u8; 4 * PAGE];
        for (n, txid) in [(0usize, 1u64), (1, 2)] {
            let mut m = Vec::new();
            for x in [MAGIC, 2, PAGE as u32, 0] {
                m.extend_from_slice(&x.to_le_bytes());
            }
            for x in [2u64, 0, 0, 4, txid] {
                m.extend_from_slice(&x.to_le_bytes());
            }
            let sum = fnv1a(&m);
            m.extend_from_slice(&sum.to_le_bytes());
            let at = n * PAGE;
            file[at + 8..at + 10].copy_from_slice(&0x04u16.to_le_bytes());
            file[at + HEADER..at + HEADER + 64].copy_from_slice(&m);
        }
        let mut on_page = 3u64.to_le_bytes().to_vec();
        on_page.extend_from_slice(&[0u8; 8]);
        let mut inline = vec![0u8; 16];
        inline.extend(leaf(0, &[(0, b"a", b"b"), (BUCKET, b"n", &on_page)]));
        let root = leaf(2, &[(BUCKET, b"v1", &inline)]);
        file[2 * PAGE..2 * PAGE + root.len()].copy_from_slice(&root);
        let third = leaf(3, &[(0, b"k", b"v")]);
        file[3 * PAGE..3 * PAGE + third.len()].copy_from_slice(&third);
        file
    }

    fn open(bytes: &[u8]) -> Result<Bolt, String> {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        Bolt::open(f, bytes.len() as u64)
    }

    /// Everything the database holds, as text, or the first error.
    fn dump(db: &Bolt) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let mut todo = vec![(String::new(), db.root())];
        while let Some((at, b)) = todo.pop() {
            for (k, v) in db.entries(&b)? {
                let k = format!("{at}/{}", String::from_utf8_lossy(&k));
                match v {
                    Value::Bucket(b) => todo.push((k, b)),
                    Value::Data(d) => out.push(format!("{k}={}", String::from_utf8_lossy(&d))),
                }
            }
        }
        out.sort();
        Ok(out)
    }

    #[test]
    fn buckets_inline_and_on_pages_are_read() {
        let db = open(&database()).unwrap();
        assert_eq!(dump(&db).unwrap(), ["/v1/a=b", "/v1/n/k=v"]);
    }

    /// Cut at any length, or any byte changed: an error or another reading, never a panic, a
    /// hang or a huge allocation.
    #[test]
    fn a_damaged_database_is_an_error_never_a_panic() {
        let good = database();
        for cut in (0..good.len()).step_by(97) {
            if let Ok(db) = open(&good[..cut]) {
                let _ = dump(&db);
            }
        }
        for at in (0..4 * PAGE).filter(|i| i % PAGE < 200) {
            for byte in [0x00, 0xff, 0x7f] {
                let mut bad = good.clone();
                bad[at] = byte;
                if let Ok(db) = open(&bad) {
                    let _ = dump(&db);
                }
            }
        }
        // a page that names itself as its own child ends at the depth limit
        let mut cycle = good.clone();
        cycle[2 * PAGE + 8..2 * PAGE + 10].copy_from_slice(&BRANCH.to_le_bytes());
        cycle[2 * PAGE + HEADER + 8..2 * PAGE + HEADER + 16].copy_from_slice(&2u64.to_le_bytes());
        let db = open(&cycle).unwrap();
        assert!(dump(&db).is_err());
        assert!(open(b"not a database").is_err());
    }

    #[test]
    fn a_branch_naming_one_large_page_many_times_stops_at_the_read_cap() {
        let mut file = database();
        // page 3 spans 512 pages (2 MiB); page 2 a branch of 255 children, each page 3
        file.resize(3 * PAGE + 512 * PAGE, 0);
        file[3 * PAGE + 12..3 * PAGE + 16].copy_from_slice(&511u32.to_le_bytes());
        file[2 * PAGE + 8..2 * PAGE + 10].copy_from_slice(&BRANCH.to_le_bytes());
        file[2 * PAGE + 10..2 * PAGE + 12].copy_from_slice(&255u16.to_le_bytes());
        for i in 0..255 {
            let elem = 2 * PAGE + HEADER + i * ELEMENT;
            file[elem + 8..elem + 16].copy_from_slice(&3u64.to_le_bytes());
        }
        let db = open(&file).unwrap();
        let err = dump(&db).unwrap_err();
        assert!(err.contains("more than 256 MiB"), "{err}");
    }
}
