//! `--exclude GLOB`: paths a walk and a directory listing pass over. A glob without `/` is
//! matched against each entry's name (`node_modules`, `*.iso`), one with `/` against the whole
//! path as shown (`/srv/backups/**`; `*` stops at `/`, `**` does not), as ripgrep and
//! `.gitignore` read them. What is passed over is counted, so the summary can say so.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// The compiled `--exclude` globs.
#[derive(Debug)]
pub struct Exclude {
    names: GlobSet,
    paths: GlobSet,
    /// Entries passed over so far (each once, however often it is listed).
    passed_over: Mutex<HashSet<PathBuf>>,
}

impl Exclude {
    /// Compiles `globs`; `None` when there are none. An invalid glob is an error naming it.
    /// A path glob is made to match paths as the scan shows them: a relative one (`proj/venv`,
    /// `./build/**`) is taken from `cwd`, an absolute one under `root` (`--root`) inside it; a
    /// trailing `/` is dropped; `**/…` matches anywhere as it is.
    pub fn new(
        globs: &[String],
        cwd: &Path,
        root: Option<&Path>,
    ) -> Result<Option<Exclude>, String> {
        if globs.is_empty() {
            return Ok(None);
        }
        let (mut names, mut paths) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        for given in globs {
            if given.is_empty() {
                return Err("--exclude: an empty glob".into());
            }
            let text = match given.trim_end_matches('/') {
                "" => "/",
                t => t,
            };
            let text = match (text.contains('/'), text.strip_prefix('/'), root) {
                (false, _, _) => text.to_owned(),
                _ if text.starts_with("**") => text.to_owned(),
                (true, Some(inside), Some(root)) => {
                    format!("{}/{inside}", globset::escape(&root.to_string_lossy()))
                }
                (true, Some(_), None) => text.to_owned(),
                (true, None, _) => format!(
                    "{}/{}",
                    globset::escape(&root.unwrap_or(cwd).to_string_lossy()),
                    text.strip_prefix("./").unwrap_or(text)
                ),
            };
            let glob = GlobBuilder::new(&text)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("--exclude `{given}`: {}", e.kind()))?;
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
            passed_over: Mutex::default(),
        }))
    }

    /// Whether `path` is excluded; counted when it is.
    pub fn excludes(&self, path: &Path) -> bool {
        let hit = path
            .file_name()
            .is_some_and(|name| self.names.is_match(Path::new(name)))
            || self.paths.is_match(path);
        if hit {
            self.passed_over
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(path.to_path_buf());
        }
        hit
    }

    /// How many entries were passed over.
    pub fn count(&self) -> u64 {
        self.passed_over
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(globs: &[&str]) -> Exclude {
        let globs: Vec<String> = globs.iter().map(|g| g.to_string()).collect();
        Exclude::new(&globs, Path::new("/work"), None)
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
        let cwd = Path::new("/work");
        assert!(Exclude::new(&[], cwd, None).unwrap().is_none());
        assert!(
            Exclude::new(&["a[".into()], cwd, None)
                .unwrap_err()
                .contains("a[")
        );
        assert!(Exclude::new(&["".into()], cwd, None).is_err());
        // relative to the current folder, a trailing slash dropped, under --root inside it
        let e = ex(&["proj/node_modules/", "./build/**"]);
        assert!(e.excludes(Path::new("/work/proj/node_modules")));
        assert!(e.excludes(Path::new("/work/build/x.whl")));
        let rooted = Exclude::new(&["/srv/cache".into()], cwd, Some(Path::new("/mnt/ev[1]")))
            .unwrap()
            .unwrap();
        assert!(rooted.excludes(Path::new("/mnt/ev[1]/srv/cache")));
        assert!(!rooted.excludes(Path::new("/srv/cache")));
    }
}
