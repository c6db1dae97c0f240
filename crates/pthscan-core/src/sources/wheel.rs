//! Wheels (`.whl`), read in memory. Members are placed where an installer puts them: the root
//! and `*.data/purelib|platlib/` in the site directory (so a root-level `.pth` is a start-up
//! hook), `*.data/scripts/` in `bin/`, `*.data/data/` under the prefix — where
//! `lib/pythonX.Y/site-packages/…` lands in the site directory too.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::archive::{Entry, Listing};
use super::memory::{MemFile, Node};
use super::{NOT_KEPT, OpenOptions, Opened};
use crate::discovery::{EnvKind, Environment};

/// Where a wheel's site directory is in its tree.
pub const SITE: &str = "/site-packages";

/// Builds a wheel's tree, shown as `label`, from its zip listing.
pub fn from_listing(label: &str, mut listing: Listing, opts: &OpenOptions) -> Opened {
    let mut opened = Opened::with_label(label, opts);
    opened.hold(&mut listing);
    opened.add_problems(&listing.problems);
    for m in &listing.members {
        let Some(path) = &m.path else { continue };
        let placed = place(path);
        let node = match &m.entry {
            Entry::File { data, size } => Node::File(MemFile {
                member: Some(Arc::from(m.name.as_str())),
                again: m.again.clone(),
                ..MemFile::from_member(data.as_ref(), *size, NOT_KEPT)
            }),
            Entry::Dir => Node::Dir,
            // pip writes a zip symlink member as a plain file holding the target's name
            Entry::Symlink(_) | Entry::Hardlink(_) => Node::Other("link member"),
            Entry::Other(kind) => Node::Other(kind),
        };
        opened.tree.insert(&placed, node);
    }
    opened.nest_members(label, &listing, opts);
    opened.envs.push(Environment {
        root: PathBuf::from("/"),
        kind: EnvKind::Wheel,
        python: python_of_tag(label),
        site_dirs: vec![PathBuf::from(SITE)],
        code_dirs: Vec::new(),
        distributions: 0,
        inventory: Vec::new(),
    });
    // the hooks it would install and what they import are judged, as installed ones are;
    // every file with --deep
    opened.judge_every_file = opts.deep;
    opened.wheel = Some(listing);
    opened
}

/// Where an installer puts a member.
pub fn place(member: &Path) -> PathBuf {
    let mut parts = member.components();
    let first = parts
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    if !first.ends_with(".data") {
        return Path::new(SITE).join(member);
    }
    let rest: PathBuf = parts.clone().skip(1).collect();
    match parts
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
    {
        Some(s) if s == "purelib" || s == "platlib" => Path::new(SITE).join(rest),
        Some(s) if s == "scripts" => Path::new("/bin").join(rest),
        Some(s) if s == "headers" => Path::new("/include").join(rest),
        Some(s) if s == "data" => {
            // data files under the prefix; the site directory's own path lands in it
            let text = rest.to_string_lossy();
            let site_rel = ["site-packages/", "dist-packages/"]
                .iter()
                .find_map(|m| text.find(m).map(|i| &text[i + m.len()..]));
            match site_rel {
                Some(r) if text.starts_with("lib") || text.starts_with("Lib") => {
                    Path::new(SITE).join(r)
                }
                _ => Path::new("/").join(rest),
            }
        }
        _ => Path::new(SITE).join(member),
    }
}

/// `X.Y` from a `cpXY` tag in the file name.
fn python_of_tag(label: &str) -> Option<String> {
    let name = label.rsplit('/').next()?;
    let tag = name.strip_suffix(".whl")?.split('-').nth_back(2)?;
    let digits = tag.strip_prefix("cp")?;
    let (major, minor) = digits.split_at_checked(1)?;
    (!minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{major}.{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_land_where_an_installer_puts_them() {
        for (member, placed) in [
            ("evil.pth", "/site-packages/evil.pth"),
            ("pkg/__init__.py", "/site-packages/pkg/__init__.py"),
            ("x-1.data/purelib/a.pth", "/site-packages/a.pth"),
            ("x-1.data/platlib/b.so", "/site-packages/b.so"),
            ("x-1.data/scripts/tool", "/bin/tool"),
            (
                "x-1.data/data/lib/python3.12/site-packages/c.pth",
                "/site-packages/c.pth",
            ),
            ("x-1.data/data/share/doc/x", "/share/doc/x"),
        ] {
            assert_eq!(place(Path::new(member)), PathBuf::from(placed), "{member}");
        }
        assert_eq!(
            python_of_tag("d/numpy-2.0-cp312-cp312-manylinux_x86_64.whl").as_deref(),
            Some("3.12")
        );
        assert_eq!(python_of_tag("d/six-1.0-py2.py3-none-any.whl"), None);
    }
}
