//! What the system's package manager installed: the files dpkg's lists
//! (`var/lib/dpkg/info/*.list`) and apk's database (`lib/apk/db/installed`) name, read from the
//! system an environment belongs to — the root that holds its `usr/` — wherever that root lies:
//! the host, `--root`, an extracted root filesystem given as a path, an image's assembled tree.
//!
//! Debian's own hooks (`distutils-precedence.pth`, `*-nspkg.pth`, `pytest-cov.pth`) are owned
//! by no RECORD; dpkg's lists own them. RPM's database (`rpmdb.sqlite`, Berkeley DB before it)
//! is not read: files of RPM systems are judged by their RECORDs alone.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::fs::{Kind, Tree};

/// At most this much of one dpkg list is read (python3-numpy's is 300 KB).
const MAX_DPKG_LIST: u64 = 4 << 20;
/// At most this much of apk's database is read (an Alpine image with 1,000 packages: 3 MB).
const MAX_APK_DB: u64 = 64 << 20;
/// At most this many files the package managers own are held (a desktop's Python packages:
/// about 50,000).
const MAX_OWNED: usize = 200_000;

/// The root of the system a site directory belongs to: what lies above its `usr/lib…/python…`
/// (`/` on the host; the mount point of an extracted root filesystem; `/` in an image's tree).
/// `None` for a site directory outside `usr` (a venv, a user site, `/opt`).
pub fn system_root(site: &Path) -> Option<PathBuf> {
    let parts: Vec<Component<'_>> = site.components().collect();
    let at = parts.windows(3).rposition(|w| {
        w[0].as_os_str() == "usr"
            && matches!(w[1].as_os_str().to_str(), Some("lib" | "lib64" | "local"))
    })?;
    let python = parts[at + 1..]
        .iter()
        .any(|c| c.as_os_str().to_string_lossy().starts_with("python"));
    python.then(|| parts[..at].iter().collect())
}

/// The files the package managers of each system root in `roots` installed, as paths of
/// `tree` (each root joined to the live path the database names), and what could not be read.
pub fn owned(tree: &dyn Tree, roots: &[PathBuf]) -> (HashSet<OsString>, Vec<Diagnostic>) {
    let mut out = HashSet::new();
    let mut diagnostics = Vec::new();
    for root in roots {
        let mut add = |live: &str| {
            if live.contains("-packages/") && out.len() < MAX_OWNED {
                let rel = live.trim_start_matches('/');
                out.insert(root.join(rel).into_os_string());
            }
        };
        let info = root.join("var/lib/dpkg/info");
        if let Ok(entries) = tree.list(&info) {
            for e in entries {
                if e.kind != Kind::File || !e.name.ends_with(".list") {
                    continue;
                }
                match tree.read_capped(&e.path, MAX_DPKG_LIST) {
                    Ok(data) => String::from_utf8_lossy(&data.bytes)
                        .lines()
                        .for_each(&mut add),
                    Err(err) => diagnostics.push(Diagnostic::incomplete(
                        &e.path,
                        format!("{err}: files it lists may be reported as unowned"),
                    )),
                }
            }
        }
        let apk = root.join("lib/apk/db/installed");
        if tree.kind(&apk) == Some(Kind::File) {
            match tree.read_capped(&apk, MAX_APK_DB) {
                Ok(data) => apk_files(&String::from_utf8_lossy(&data.bytes))
                    .iter()
                    .for_each(|f| add(f)),
                Err(err) => diagnostics.push(Diagnostic::incomplete(
                    &apk,
                    format!("{err}: files it lists may be reported as unowned"),
                )),
            }
        }
        if out.len() >= MAX_OWNED {
            diagnostics.push(Diagnostic::incomplete(
                root,
                format!("the system's package records name more than {MAX_OWNED} Python files: the rest were not read, and files they own may be reported as unowned"),
            ));
            break;
        }
    }
    (out, diagnostics)
}

/// The files apk's database lists: each package's `F:` directory lines followed by its `R:`
/// file lines, as live paths.
fn apk_files(db: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut dir = String::new();
    for line in db.lines() {
        if let Some(d) = line.strip_prefix("F:") {
            dir = d.to_owned();
        } else if let Some(f) = line.strip_prefix("R:") {
            out.push(if dir.is_empty() {
                format!("/{f}")
            } else {
                format!("/{dir}/{f}")
            });
        } else if line.is_empty() {
            dir.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_root_is_what_lies_above_usr() {
        let root = |s: &str| system_root(Path::new(s));
        assert_eq!(
            root("/usr/lib/python3/dist-packages"),
            Some(PathBuf::from("/"))
        );
        assert_eq!(
            root("/mnt/img/usr/local/lib/python3.11/dist-packages"),
            Some(PathBuf::from("/mnt/img"))
        );
        assert_eq!(
            root("/srv/root/usr/lib64/python3.9/site-packages"),
            Some(PathBuf::from("/srv/root"))
        );
        assert_eq!(root("/opt/venv/lib/python3.12/site-packages"), None);
        assert_eq!(root("/home/u/usr/share/doc"), None);
    }

    #[test]
    fn apk_lists_files_under_their_directories() {
        let db =
            "P:py3-six\nF:usr/lib/python3.12/site-packages\nR:six.py\nR:six.pth\n\nP:x\nR:stray\n";
        assert_eq!(
            apk_files(db),
            [
                "/usr/lib/python3.12/site-packages/six.py",
                "/usr/lib/python3.12/site-packages/six.pth",
                "/stray"
            ]
        );
    }
}
