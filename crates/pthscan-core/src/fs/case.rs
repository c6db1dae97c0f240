//! Names as NTFS matches them, on a tree read from a case-sensitive file system: a Windows
//! disk mounted on Linux keeps each name as it was created (`LIB\Site-Packages`), and Windows
//! opens it by any spelling (`Lib\site-packages`, which is what `site.py` asks for).
//!
//! Only directories are matched this way. A file is looked up by its exact name, as
//! `importlib`'s `FileFinder` does on Windows (it checks the module name against its listing of
//! the directory unless `PYTHONCASEOK` is set) and as `site.py` does for `.pth` files (it keeps
//! the names of the listing that end in `.pth`, case and all).

use std::path::{Component, Path, PathBuf};

use super::{Kind, Tree};

/// `path` (a path of `tree`) with each directory component that is not there by its exact
/// name replaced by the entry of its parent that matches it regardless of case (the first in
/// name order, should several). Components that match nothing, and a last component that is
/// not a directory, are kept as given. A path that is there as written costs one lookup.
pub fn fold_dirs(tree: &dyn Tree, path: &Path) -> PathBuf {
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
        let found = tree.list(&at).ok().and_then(|entries| {
            entries.into_iter().find(|e| {
                e.name.to_lowercase() == wanted
                    && (e.kind == Kind::Dir || tree.kind_followed(&e.path) == Some(Kind::Dir))
            })
        });
        match found {
            Some(entry) => at = entry.path,
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
