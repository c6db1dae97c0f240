//! Installed distributions: where their metadata is (`*.dist-info/METADATA`,
//! `*.egg-info/PKG-INFO`, a bare `*.egg-info`), what its header says, and the inventory entry of
//! each — name, version, installer, the hash of its RECORD and its top-level import names.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::fs::{Kind, Tree};
use crate::pathfmt::display_path;
use crate::times::{FileTimes, Timestamp};

/// At most this many top-level import names are kept per distribution (a namespace package
/// can list hundreds; the inventory keeps small strings only).
pub const MAX_TOP_LEVEL: usize = 32;

/// At most this many bytes of `INSTALLER` and `top_level.txt` are read.
const SMALL_FILE: u64 = 4 * 1024;

/// One installed distribution, as the inventory of its environment lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Distribution {
    /// PEP 503-normalised name (`zope-interface`).
    pub normalized: String,
    /// Its name as published (`Name:` in its metadata).
    pub name: String,
    /// `Version:` in its metadata.
    pub version: String,
    /// The metadata file it was read from.
    pub metadata: PathBuf,
    /// The first line of the dist-info's `INSTALLER` (`pip`, `uv`), if any.
    pub installer: Option<String>,
    /// Lowercase hex SHA-256 of its RECORD, if it has one that was read.
    pub record_sha256: Option<String>,
    /// Its top-level import names: `top_level.txt`, else the packages and modules its RECORD
    /// lists at the top of the site directory (at most [`MAX_TOP_LEVEL`]).
    pub top_level: Vec<String>,
    /// When it was installed, as far as the tree keeps times: see [`installed_at`].
    pub installed: Option<Timestamp>,
}

impl Serialize for Distribution {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Distribution", 8)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("normalized", &self.normalized)?;
        st.serialize_field("version", &self.version)?;
        st.serialize_field("metadata", &display_path(&self.metadata))?;
        st.serialize_field("installer", &self.installer)?;
        st.serialize_field("record_sha256", &self.record_sha256)?;
        st.serialize_field("top_level", &self.top_level)?;
        match &self.installed {
            Some(t) => st.serialize_field("installed", t)?,
            None => st.skip_field("installed")?,
        }
        st.end()
    }
}

impl Distribution {
    /// The entry of the distribution whose metadata file `meta` holds `text`; reads the small
    /// files beside it (`INSTALLER`, `top_level.txt`). `None` without a `Name` or `Version`.
    pub fn read(tree: &dyn Tree, meta: &Path, text: &str) -> Option<Distribution> {
        let (name, version) = name_version(text)?;
        let normalized = pthscan_db::normalize(&name);
        let mut d = Distribution {
            normalized,
            name,
            version,
            metadata: meta.to_path_buf(),
            installer: None,
            record_sha256: None,
            top_level: Vec::new(),
            installed: None,
        };
        // the directory's times come with the lookup that says it is one (no link followed)
        let info = meta
            .parent()
            .and_then(|i| Some((i, tree.times(i, false)?)))
            .filter(|(_, (kind, _))| *kind == Kind::Dir);
        let Some((info, (_, info_times))) = info else {
            // a bare `*.egg-info` file has nothing beside it: its own times
            d.installed = tree
                .times(meta, true)
                .and_then(|(_, t)| installed_at(&t, &t));
            return Some(d);
        };
        d.installed = installed_at(&info_times, &FileTimes::default()).or_else(|| {
            // a tree without directory times (an image): the metadata file's
            tree.times(meta, true)
                .and_then(|(_, t)| installed_at(&FileTimes::default(), &t))
        });
        let small = |name: &str| {
            tree.read_capped(&info.join(name), SMALL_FILE)
                .ok()
                .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        };
        d.installer = small("INSTALLER")
            .and_then(|t| {
                t.lines()
                    .next()
                    .map(|l| crate::finding::excerpt(l.trim(), 64))
            })
            .filter(|l| !l.is_empty());
        if let Some(text) = small("top_level.txt") {
            for line in text.lines().map(str::trim).filter(|l| is_identifier(l)) {
                if d.top_level.len() == MAX_TOP_LEVEL {
                    break;
                }
                if !d.top_level.iter().any(|t| t == line) {
                    d.top_level.push(line.to_owned());
                }
            }
        }
        Some(d)
    }

    /// Fills what the distribution's RECORD tells: its hash, and the top-level names when no
    /// `top_level.txt` gave them.
    pub fn add_record(&mut self, sha256: String, top_level: &[String]) {
        self.record_sha256 = Some(sha256);
        if self.top_level.is_empty() {
            self.top_level = top_level.to_vec();
        }
    }
}

/// When a distribution was installed: its metadata directory's birth time, else that
/// directory's modification time (an installer writes the directory whole, and nothing but an
/// install or uninstall adds or removes its entries); where a tree keeps no directory times (an
/// image), the creation time of the layer holding its metadata file, else that file's stored
/// time. `None` when nothing says.
pub fn installed_at(dir: &FileTimes, metadata: &FileTimes) -> Option<Timestamp> {
    dir.birth
        .or(dir.modified)
        .or(metadata.layer_created)
        .or(metadata.modified)
}

/// The top-level import names of RECORD rows' paths (relative to the site directory): the
/// first component of a path below it that is a package (`pkg/…`) or a module (`mod.py`,
/// `mod.cpython-312-x86_64-linux-gnu.so`), at most [`MAX_TOP_LEVEL`], in order of appearance.
pub fn record_top_level<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for path in paths {
        if out.len() == MAX_TOP_LEVEL {
            break;
        }
        let name = match path.split_once('/') {
            Some((first, _)) => first,
            None => match path.split_once('.') {
                Some((stem, ext))
                    if ext == "py" || ext.ends_with(".so") || ext == "so" || ext == "pyd" =>
                {
                    stem
                }
                _ => continue,
            },
        };
        if is_identifier(name) && name != "__pycache__" && !out.iter().any(|n| n == name) {
            out.push(name.to_owned());
        }
    }
    out
}

/// Whether `name` can be imported as a top-level name (ASCII identifiers only: cheap, and
/// what `*.dist-info` and `bin` are not).
fn is_identifier(name: &str) -> bool {
    name.len() <= 128
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Installed metadata files in the site directories, with the directory each is in:
/// `*.dist-info/METADATA`, `*.egg-info/PKG-INFO`, a bare `*.egg-info`.
pub fn metadata_files(tree: &dyn Tree, site_dirs: &[PathBuf]) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for dir in site_dirs {
        out.extend(in_site_dir(tree, dir).into_iter().map(|m| (dir.clone(), m)));
    }
    out
}

fn in_site_dir(tree: &dyn Tree, site_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = tree.list(site_dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .into_iter()
        .filter_map(|e| {
            let is_dir = e.kind == Kind::Dir;
            if e.name.ends_with(".dist-info") && is_dir {
                Some(e.path.join("METADATA"))
            } else if e.name.ends_with(".egg-info") {
                Some(if is_dir {
                    e.path.join("PKG-INFO")
                } else {
                    e.path
                })
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

/// An sdist's `PKG-INFO`, at `root` or one directory down, with the directory it is in.
pub fn sdist_metadata(tree: &dyn Tree, root: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    if let Ok(entries) = tree.list(root) {
        dirs.extend(
            entries
                .into_iter()
                .filter(|e| e.kind == Kind::Dir)
                .map(|e| e.path),
        );
    }
    for dir in dirs {
        let pkg_info = dir.join("PKG-INFO");
        if tree.kind(&pkg_info) == Some(Kind::File) {
            out.push((dir, pkg_info));
        }
    }
    out
}

/// The `*.dist-info`/`*.egg-info` directory a metadata file of [`metadata_files`] is in, its
/// name, and the distribution's name from it (PEP 503-normalised).
pub fn info_dir(meta: &Path) -> Option<(&Path, String, String)> {
    let info = meta.parent()?;
    let name = info.file_name()?.to_string_lossy().into_owned();
    let dist = pthscan_db::normalize(name.split_once('-').map_or(name.as_str(), |(n, _)| n));
    Some((info, name, dist))
}

/// `Name` and `Version` from the header block of core metadata.
pub fn name_version(text: &str) -> Option<(String, String)> {
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version = Some(v.trim().to_owned());
        }
    }
    Some((name?, version?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_names_from_record_rows() {
        let rows = [
            "requests/__init__.py",
            "requests/api.py",
            "six.py",
            "_cffi_backend.cpython-312-x86_64-linux-gnu.so",
            "requests-2.32.3.dist-info/RECORD",
            "../../../bin/normalizer",
            "__pycache__/six.cpython-312.pyc",
            "README.txt",
            "zope.interface-7.0-py3.12-nspkg.pth",
        ];
        assert_eq!(record_top_level(rows), ["requests", "six", "_cffi_backend"]);
        let many: Vec<String> = (0..100).map(|i| format!("m{i}.py")).collect();
        assert_eq!(
            record_top_level(many.iter().map(String::as_str)).len(),
            MAX_TOP_LEVEL
        );
    }

    #[test]
    fn name_and_version_from_the_header_block_only() {
        assert_eq!(
            name_version("Name: Zope.Interface\nVersion: 7.0\n\nName: other\n"),
            Some(("Zope.Interface".into(), "7.0".into()))
        );
        assert_eq!(name_version("Name: x\n\nVersion: 1\n"), None);
    }
}
