//! Names as NTFS matches them, on a tree read from a case-sensitive file system: a Windows
//! disk mounted on Linux keeps each name as it was created (`LIB\Site-Packages`), and Windows
//! opens it by any spelling (`Lib\site-packages`, which is what `site.py` asks for).
//!
//! Only directories are matched this way. A file is looked up by its exact name, as
//! `importlib`'s `FileFinder` does on Windows (it checks the module name against its listing of
//! the directory unless `PYTHONCASEOK` is set) and as `site.py` does for `.pth` files (it keeps
//! the names of the listing that end in `.pth`, case and all).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{DirEntry, Kind, Tree};

/// At most this many directories' listings are kept by a [`CaseIndex`], and at most this many
/// entries in all: past either, a directory is listed again each time it is asked about.
const MAX_INDEXED_DIRS: usize = 256;
const MAX_INDEXED_ENTRIES: usize = 1 << 20;

/// The listings [`fold_dirs`] has read, each directory once: a start-up model asks about many
/// paths of one directory (every path line of a `.pth` of a site directory of 100,000 entries),
/// and listing it for each is quadratic.
#[derive(Default)]
pub struct CaseIndex {
    dirs: Mutex<(HashMap<PathBuf, Arc<Folded>>, usize)>,
}

/// The directories and links of one directory by their lower-cased names, in name order.
type Folded = HashMap<String, Vec<DirEntry>>;

impl CaseIndex {
    /// The directories and links of `dir` by lower-cased name, from the index when it was
    /// listed before.
    fn list(&self, tree: &dyn Tree, dir: &Path) -> Option<Arc<Folded>> {
        let mut dirs = self.dirs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(folded) = dirs.0.get(dir) {
            return Some(Arc::clone(folded));
        }
        let mut folded = Folded::new();
        let mut count = 0;
        for e in tree.list(dir).ok()? {
            if e.kind == Kind::Dir || e.kind == Kind::Symlink {
                count += 1;
                folded.entry(e.name.to_lowercase()).or_default().push(e);
            }
        }
        let folded = Arc::new(folded);
        if dirs.0.len() < MAX_INDEXED_DIRS && dirs.1 + count <= MAX_INDEXED_ENTRIES {
            dirs.1 += count;
            dirs.0.insert(dir.to_path_buf(), Arc::clone(&folded));
        }
        Some(folded)
    }
}

/// `path` (a path of `tree`) with each directory component that is not there by its exact
/// name replaced by the entry of its parent that matches it regardless of case (the first in
/// name order, should several). Components that match nothing, and a last component that is
/// not a directory, are kept as given. A path that is there as written costs one lookup.
pub fn fold_dirs(tree: &dyn Tree, path: &Path) -> PathBuf {
    fold_dirs_with(tree, path, &CaseIndex::default())
}

/// As [`fold_dirs`], each directory listed once for all the calls given `index`.
pub fn fold_dirs_with(tree: &dyn Tree, path: &Path, index: &CaseIndex) -> PathBuf {
    if tree.kind(path).is_some() {
        return path.to_path_buf();
    }
    let Ok(rel) = path.strip_prefix(tree.root()) else {
        return path.to_path_buf();
    };
    let parts: Vec<Component<'_>> = rel.components().collect();
    let mut at = tree.root().to_path_buf();
    for (i, part) in parts.iter().enumerate() {
        let Component::Normal(name) = part else {
            at.push(part);
            continue;
        };
        let exact = at.join(name);
        if tree.kind(&exact).is_some() {
            at = exact;
            continue;
        }
        let wanted = name.to_string_lossy().to_lowercase();
        let found = index.list(tree, &at).and_then(|folded| {
            (folded.get(&wanted)?.iter())
                .find(|e| e.kind == Kind::Dir || tree.kind_followed(&e.path) == Some(Kind::Dir))
                .map(|e| e.path.clone())
        });
        match found {
            Some(entry) => at = entry,
            None => {
                // nothing by that name in any case: the rest as given (it is not there)
                at.extend(&parts[i..]);
                return at;
            }
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_match_regardless_of_case_and_files_only_exactly() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("Py/LIB/Site-Packages")).unwrap();
        std::fs::write(r.join("Py/LIB/Site-Packages/SITECUSTOMIZE.py"), "").unwrap();
        std::fs::write(r.join("Py/LIB/Site-Packages/x.pth"), "").unwrap();
        let tree = crate::fs::Disk::open(r, false, 1 << 20, Default::default()).unwrap();
        let root = tree.root().to_path_buf();
        let fold = |p: &str| fold_dirs(&tree, &root.join(p));
        assert_eq!(
            fold("Py/Lib/site-packages"),
            root.join("Py/LIB/Site-Packages")
        );
        assert_eq!(
            fold("py/lib/site-packages/x.pth"),
            root.join("Py/LIB/Site-Packages/x.pth")
        );
        // a file by its exact name only
        assert_eq!(
            fold("Py/Lib/site-packages/sitecustomize.py"),
            root.join("Py/LIB/Site-Packages/sitecustomize.py")
        );
        assert_eq!(fold("Py/Lib/nothing/x"), root.join("Py/LIB/nothing/x"));
        // there as written: unchanged
        assert_eq!(fold("Py/LIB"), root.join("Py/LIB"));
    }
}
