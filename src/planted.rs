//! CFG001: a scanner configuration planted in the scanned tree.
//!
//! Older pthscan read `pthscan.toml` from the top of the first PATH or of `--root` and obeyed it:
//! one file dropped on an evidence disk, or on the node a fleet sweep reads, silenced every
//! finding. Nothing in the scanned tree configures the scan now (see [`crate::policy`]); a
//! `pthscan.toml` found where one used to be read is reported instead, and never read as
//! configuration. It is looked for at the top of every PATH that is a directory and at the top
//! of the filesystem root a host sweep walks (`/`, or `--root`): high. A sweep under `--root`
//! also reports the scanned system's own operator configs (`etc/pthscan/pthscan.toml`,
//! `root/.config/pthscan/pthscan.toml`, `home/*/.config/pthscan/pthscan.toml`): medium, since
//! that system's operator may have written them, and they decide what its own scans report. The
//! file the operator gave with `--config`, or their own config in use, is never reported.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use pthscan_core::fs::{Disk, Kind, Tree};

use pthscan_core::detectors::RuleDoc;
use pthscan_core::finding::excerpt;
use pthscan_core::{Diagnostic, Finding, Location, Severity};

/// The name older pthscan read as its configuration.
pub const CONFIG_NAME: &str = "pthscan.toml";

/// The rules.
pub const RULES: &[&RuleDoc] = &[&RuleDoc {
    id: "CFG001",
    title: "scanner configuration planted in the scanned tree",
    what: "A `pthscan.toml` at the top of a scanned directory or of the filesystem root a host \
           sweep walks (`/`, `--root`), where pthscan used to read its suppressions: high. Under \
           `--root`, the scanned system's own operator configs (`etc/pthscan/pthscan.toml`, \
           `~/.config/pthscan/pthscan.toml` of root and of every user): medium. Each is \
           reported and never obeyed: suppressions come only from `--config` or the operator's \
           own config.",
    why: "A suppression file decides what a scan does not report. One planted on an evidence \
          disk, in a repository or on the node a fleet sweep reads (`path = \"**\"`) turns every \
          finding, criticals included, into a pass. Someone put it where the scanner would find \
          it.",
    example: "/mnt/evidence/pthscan.toml (2 `[[suppress]]` entries) → high",
    references: &["README.md#suppressions-and-baselines"],
    fix: pthscan_core::action::Fix::Remove,
    rotate: &[],
}];

/// Every rule `pthscan explain` knows that is not a payload rule or IOC: the engine's detectors
/// and this crate's, in id order.
pub fn rules() -> Vec<&'static RuleDoc> {
    let mut all = pthscan_core::detectors::rules();
    all.extend(RULES.iter().copied());
    all.sort_by_key(|r| r.id);
    all
}

/// How much of a planted config is read to hash it and quote it.
const READ_CAP: u64 = 1 << 20;

/// Where a scanner config was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The top of a PATH or of a swept root, where pthscan used to read one: planted.
    Top,
    /// An operator location of the system scanned under `--root`: its own config, perhaps.
    ScannedSystem,
}

/// The operator locations of the system under `root` (`etc/pthscan`, root's and every user's
/// `~/.config/pthscan`), resolved inside it: the directories that exist.
pub fn scanned_system_dirs(tree: &Disk) -> Vec<PathBuf> {
    let mut dirs = vec![
        Path::new("etc/pthscan").to_path_buf(),
        Path::new("root/.config/pthscan").to_path_buf(),
    ];
    if let Ok(entries) = tree.list(&tree.root().join("home")) {
        dirs.extend(
            entries
                .into_iter()
                .map(|e| Path::new("home").join(e.name).join(".config/pthscan")),
        );
    }
    dirs.iter().filter_map(|d| inside_root(tree, d)).collect()
}

/// The `CFG001` findings for the directories in `tops`, each with the kind of place it is, read
/// inside `root` (`--root`), or each inside itself. `in_use` is the suppression file this run
/// obeys, never reported.
pub fn find(
    root: Option<&Disk>,
    tops: &[(PathBuf, Place)],
    in_use: Option<&Path>,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    // the file in use by its identity (device, inode), or where the platform gives none
    // (Windows) by its canonical path
    let in_use_id = in_use
        .and_then(|p| std::fs::metadata(p).ok())
        .and_then(|m| pthscan_core::fs::file_id(&m));
    let in_use_path = in_use.and_then(|p| pthscan_core::fs::canonicalize(p).ok());
    let mut findings = Vec::new();
    let mut diagnostics = Vec::new();
    let mut seen = Vec::new();
    for (top, place) in tops {
        let own;
        let root = match root {
            Some(r) => r,
            None => match Disk::open(top, false, READ_CAP + 1, Arc::default()) {
                Ok(r) => {
                    own = r;
                    &own
                }
                Err(_) => continue,
            },
        };
        let file = top.join(CONFIG_NAME);
        // the name itself, never what a link in its place points at
        let Ok(st) = root.confinement().stat(&file, false) else {
            continue;
        };
        let id = match in_use_id {
            Some(_) => Ok(st.id),
            None => Err(pthscan_core::fs::canonicalize(&file).unwrap_or_else(|_| file.clone())),
        };
        if st.kind == Kind::Dir || seen.contains(&id) {
            continue;
        }
        let obeyed = match (&id, in_use_id) {
            (Ok(id), Some(u)) => *id == u,
            (Err(path), _) => in_use_path.as_ref() == Some(path),
            _ => false,
        };
        seen.push(id);
        if obeyed {
            continue;
        }
        let (severity, message) = match place {
            Place::Top => (
                Severity::High,
                "a scanner configuration planted in the scanned tree: not obeyed (suppressions come only from `--config` or the operator's own config)",
            ),
            Place::ScannedSystem => (
                Severity::Medium,
                "the scanned system's own scanner configuration: not obeyed here; it decides what that system's own scans report",
            ),
        };
        let mut f = Finding {
            rule: "CFG001".into(),
            severity,
            location: Location {
                path: file.clone(),
                line: None,
                column: None,
            },
            message: message.into(),
            ..Finding::default()
        };
        pthscan_core::action::apply(&mut f, RULES[0].fix, None, false);
        if st.kind == Kind::Symlink {
            let target = root
                .confinement()
                .read_link(&file)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            f.evidence = excerpt(&format!("-> {target}"), 200);
            f.notes
                .push("a symbolic link: not followed, and not read".into());
            findings.push(f);
            continue;
        }
        match read_capped(root, &file) {
            Ok((bytes, whole)) => {
                let text = String::from_utf8_lossy(&bytes);
                let entries = text
                    .lines()
                    .filter(|l| {
                        let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
                        l.starts_with("[[suppress]]")
                    })
                    .count();
                // the first key of the first entry says most about its intent
                let first = text
                    .lines()
                    .map(str::trim)
                    .find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['));
                f.evidence = excerpt(
                    &match first {
                        Some(l) => format!("{entries} `[[suppress]]` entries; {l}"),
                        None => format!("{entries} `[[suppress]]` entries"),
                    },
                    200,
                );
                if whole {
                    f.sha256 = pthscan_core::fs::sha256_hex(&bytes);
                } else {
                    f.notes.push(format!(
                        "larger than {READ_CAP} bytes: only its head was read, and not hashed"
                    ));
                }
                findings.push(f);
            }
            Err(reason) => {
                diagnostics.push(Diagnostic::note(
                    &file,
                    format!("a planted scanner configuration that cannot be read: {reason}"),
                ));
                findings.push(f);
            }
        }
    }
    (findings, diagnostics)
}

/// Reads the head of a regular file inside `root` (never a FIFO or device), and whether that
/// is all of it.
fn read_capped(tree: &Disk, file: &Path) -> Result<(Vec<u8>, bool), String> {
    let data = tree
        .read_capped(file, READ_CAP + 1)
        .map_err(|e| e.to_string())?;
    let mut bytes = data.bytes;
    let whole = bytes.len() as u64 <= READ_CAP;
    bytes.truncate(READ_CAP as usize);
    Ok((bytes, whole))
}

/// `rel` (a PATH given with `--root`) inside `root`, its links resolved inside it (as
/// `RESOLVE_IN_ROOT` does), when it is a directory.
pub fn inside_root(tree: &Disk, rel: &Path) -> Option<PathBuf> {
    let root = tree.confinement();
    let at = root
        .resolve(
            &root.path().join(rel.strip_prefix("/").unwrap_or(rel)),
            true,
        )
        .ok()?;
    let st = root.stat(&at, false).ok()?;
    (st.kind == Kind::Dir).then_some(at)
}

/// `path` with `.` dropped and `..` taken lexically (stopping at the top), resolving nothing.
pub fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() && !path.is_absolute() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether `rel` names the root itself once `.` and `..` are taken lexically, as inside
/// `--root` (`/`, `//`, `/.`, `..`, `.`).
pub fn names_the_root(rel: &Path) -> bool {
    let mut depth: usize = 0;
    for c in rel.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => depth = depth.saturating_sub(1),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_across_crates() {
        let all = rules();
        for w in all.windows(2) {
            assert_ne!(w[0].id, w[1].id);
        }
        assert!(all.iter().any(|r| r.id == "CFG001"));
        assert!(all.iter().any(|r| r.id == "PTH001"));
    }

    #[test]
    fn what_names_the_root() {
        for p in ["/", "//", "/.", "/..", ".", "..", "/a/..", "a/../.."] {
            assert!(names_the_root(Path::new(p)), "{p}");
        }
        for p in ["/a", "a", "/a/b/..", "./a"] {
            assert!(!names_the_root(Path::new(p)), "{p}");
        }
    }

    #[test]
    fn lexical_resolves_nothing() {
        assert_eq!(lexical(Path::new("/mnt/ev/./x/..")), Path::new("/mnt/ev"));
        assert_eq!(lexical(Path::new("/..")), Path::new("/"));
        assert_eq!(lexical(Path::new("//mnt//ev/")), Path::new("/mnt/ev"));
    }

    #[test]
    fn inside_root_resolves_links_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let r = &std::fs::canonicalize(dir.path()).unwrap();
        let root = Disk::open(r, true, 1, Arc::default()).unwrap();
        std::fs::create_dir_all(r.join("srv/dist")).unwrap();
        std::os::unix::fs::symlink("/", r.join("esc")).unwrap();
        assert_eq!(
            inside_root(&root, Path::new("/srv/dist")),
            Some(r.join("srv/dist"))
        );
        assert_eq!(
            inside_root(&root, Path::new("../../srv/./dist")),
            Some(r.join("srv/dist"))
        );
        // `esc -> /` means the root itself: its `srv/dist` is the evidence's
        assert_eq!(
            inside_root(&root, Path::new("/esc/srv/dist")),
            Some(r.join("srv/dist"))
        );
        assert_eq!(inside_root(&root, Path::new("/esc/etc")), None);
        assert_eq!(inside_root(&root, Path::new("/missing")), None);
    }
}
