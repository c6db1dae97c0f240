//! `--exclude GLOB`: paths a walk and a directory listing pass over. A glob without `/` is
//! matched against each entry's name (`node_modules`, `*.iso`), one with `/` against the whole
//! path as shown (`/srv/backups/**`; `*` stops at `/`, `**` does not), as ripgrep and
//! `.gitignore` read them. What is passed over is counted, so the summary can say so.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// The compiled `--exclude` globs.
#[derive(Debug)]
pub struct Exclude {
    names: GlobSet,
    paths: GlobSet,
    /// Entries passed over so far.
    pub passed_over: AtomicU64,
}

impl Exclude {
    /// Compiles `globs`; `None` when there are none. An invalid glob is an error naming it.
    pub fn new(globs: &[String]) -> Result<Option<Exclude>, String> {
        if globs.is_empty() {
            return Ok(None);
        }
        let (mut names, mut paths) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        for text in globs {
            let glob = GlobBuilder::new(text)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("--exclude `{text}`: {}", e.kind()))?;
            if text.contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        let built = |b: GlobSetBuilder| b.build().map_err(|e| format!("--exclude: {e}"));
        Ok(Some(Exclude {
            names: built(names)?,
            paths: built(paths)?,
            passed_over: AtomicU64::new(0),
        }))
    }

    /// Whether `path` is excluded; counted when it is.
    pub fn excludes(&self, path: &Path) -> bool {
        let hit = path
            .file_name()
            .is_some_and(|name| self.names.is_match(Path::new(name)))
            || self.paths.is_match(path);
        if hit {
            self.passed_over.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// How many entries were passed over.
    pub fn count(&self) -> u64 {
        self.passed_over.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(globs: &[&str]) -> Exclude {
        Exclude::new(&globs.iter().map(|g| g.to_string()).collect::<Vec<_>>())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn names_and_paths() {
        let e = ex(&["node_modules", "*.iso", "/srv/backups/**", "/home/*/big"]);
        assert!(e.excludes(Path::new("/home/u/app/node_modules")));
        assert!(e.excludes(Path::new("/data/disk.iso")));
        assert!(
            !e.excludes(
                Path::new("/data/disk.iso/inner.pth")
                    .parent()
                    .unwrap()
                    .parent()
                    .unwrap()
            )
        );
        assert!(e.excludes(Path::new("/srv/backups/2026/x.whl")));
        assert!(e.excludes(Path::new("/home/u/big")));
        // `*` stops at `/`
        assert!(!e.excludes(Path::new("/home/u/v/big")));
        assert!(!e.excludes(Path::new("/srv/app/node_modules_old")));
        assert_eq!(e.count(), 4);
        assert!(Exclude::new(&[]).unwrap().is_none());
        assert!(Exclude::new(&["a[".into()]).unwrap_err().contains("a["));
    }
}
