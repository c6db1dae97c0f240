//! Source distributions (`.tar.gz`, `.zip`) and other archives of files, read in memory. An
//! sdist's `setup.py` runs when it is installed or built: it is judged as install-time code.
//! A `.pth` shipped in it (through `data_files`) is judged as the hook it becomes once installed.
//! Every file gets the payload rules. An archive that holds Python environments (an exported
//! root filesystem, a zipped venv) is judged as those environments, the way an image is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::archive::{self, Entry, Listing};
use super::memory::{MemFile, MemTree, Node};
use super::{NOT_KEPT, OpenOptions, Opened};
use crate::discovery::{EnvKind, Environment};

/// Whether a listing is a source distribution: `PKG-INFO`, `setup.py` or `pyproject.toml` at
/// its top or one directory down.
pub fn is_sdist(listing: &Listing) -> bool {
    listing.members.iter().any(|m| {
        m.path.as_deref().is_some_and(|p| {
            p.components().count() <= 2
                && p.file_name()
                    .is_some_and(|n| n == "PKG-INFO" || n == "setup.py" || n == "pyproject.toml")
        })
    })
}

/// Builds the tree of an sdist (or any archive of files) from its listing.
pub fn from_listing(label: &str, mut listing: Listing, opts: &OpenOptions) -> Opened {
    archive::check_links(&mut listing);
    let sdist = is_sdist(&listing);
    let mut opened = Opened::with_label(label, opts);
    opened.hold(&mut listing);
    opened.add_problems(&listing.problems);
    let mut hook_dirs: Vec<PathBuf> = Vec::new();
    for m in &listing.members {
        let Some(path) = &m.path else { continue };
        let at = Path::new("/").join(path);
        let node = match &m.entry {
            Entry::File { data, size } => Node::File(MemFile {
                member: Some(Arc::from(m.name.as_str())),
                again: m.again.clone(),
                ..MemFile::from_member(data.as_ref(), *size, NOT_KEPT)
            }),
            Entry::Dir => Node::Dir,
            Entry::Symlink(target) => Node::Symlink(target.clone()),
            Entry::Hardlink(target) => Node::Symlink(Path::new("/").join(target)),
            Entry::Other(kind) => Node::Other(kind),
        };
        if sdist
            && m.name.ends_with(".pth")
            && let Some(dir) = at.parent()
            && !hook_dirs.iter().any(|d| d == dir)
        {
            hook_dirs.push(dir.to_path_buf());
        }
        opened.tree.insert(&at, node);
    }
    opened.nest_members(label, &listing, opts);
    if sdist {
        opened.install_hooks = install_hooks(&opened.tree);
    } else {
        // an archive of a root filesystem or of a venv (`docker export`, a zipped venv): judged
        // as the environments in it, like an image
        let found = crate::discovery::discover(
            &opened.tree,
            &[PathBuf::from("/")],
            crate::discovery::Depth::All,
        );
        if !found.environments.is_empty() {
            opened.envs = found.environments;
            opened.judge_every_file = false;
            return opened;
        }
    }
    opened.envs.push(Environment {
        root: PathBuf::from("/"),
        kind: if sdist {
            EnvKind::Sdist
        } else {
            EnvKind::Archive
        },
        python: None,
        site_dirs: hook_dirs,
        code_dirs: Vec::new(),
        distributions: 0,
        inventory: Vec::new(),
    });
    opened
}

/// The install-time code of an sdist tree: its `setup.py` (at the top, or in the one
/// directory an sdist unpacks to).
pub fn install_hooks(tree: &MemTree) -> Vec<PathBuf> {
    tree.files()
        .map(|(p, _)| p)
        .filter(|p| p.file_name().is_some_and(|n| n == "setup.py") && p.components().count() <= 3)
        .map(Path::to_path_buf)
        .collect()
}
