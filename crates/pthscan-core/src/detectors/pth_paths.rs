//! PTH010: `.pth` path lines that put a world-writable, hidden or foreign directory on
//! `sys.path`.

use std::path::{Path, PathBuf};

use super::{Ctx, EVIDENCE_CHARS, HookFile, RuleDoc};
use crate::finding::{Finding, Location, Severity, SignalHit, excerpt};
use crate::fs::normalize;
use crate::python::Runs;
use crate::python::pth::PthAnalysis;

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[&RuleDoc {
    id: "PTH010",
    fix: super::Fix::Review,
    rotate: &[],
    title: ".pth path line into a writable or hidden place",
    what: "A `.pth` path line that adds a directory outside the environment to `sys.path` in a \
           world-writable temporary directory (`/tmp`, `/var/tmp`, `/dev/shm`) — high — or in a \
           hidden (dot-named) directory, or (for an environment in one user's home) another user's \
           home — medium. Relative lines are \
           resolved against the site directory first.",
    why: "Whoever can write to a directory on `sys.path` can plant a module that shadows an \
          import, or a `sitecustomize.py` that runs at every start; a path line is the quiet way \
          to put such a directory there.",
    example: "local-paths.pth:1: /tmp/.hidden → high",
    references: &[
        "docs/threats/startup-hooks.md#how-each-pth-line-is-classified (path lines), docs/threats/signals.md#shapes-of-malicious-start-up-code",
    ],
}];

const TEMP_DIRS: &[&str] = &["/tmp", "/var/tmp", "/dev/shm", "/run/shm"];

/// Where a path line points, as `site.py`'s `makepath` computes it (lexically).
pub fn target(site_dir: &Path, text: &str, windows: bool) -> PathBuf {
    if windows {
        // `ntpath.join`: `win32\lib`, `..\Vendor`, `C:\tools` (the drive is the scan's root)
        normalize(&site_dir.join(crate::python::startup::path::windows_path(text)))
    } else {
        normalize(&site_dir.join(text))
    }
}

/// Judges the path lines of one `.pth` file.
pub fn judge(
    ctx: &Ctx<'_>,
    site_dir: &Path,
    file: &HookFile,
    analysis: &PthAnalysis,
) -> Vec<Finding> {
    let live_site = ctx.live_path(site_dir);
    let env_root = ctx.live_path(&ctx.env.root);
    let env_home = home_of(&env_root);
    let mut out = Vec::new();
    let physical: Vec<&[u8]> = file.data.bytes.split(|&b| b == b'\n').collect();
    let mut targets: Vec<(PathBuf, &crate::python::pth::PthLine, Runs)> = Vec::new();
    for line in &analysis.path_lines {
        // up to 3.14 a path line is only `rstrip()`ed: ` /tmp/x` is `site-packages/ /tmp/x`
        let raw = physical
            .get(line.line.saturating_sub(1))
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .unwrap_or_default();
        let leading = raw.trim_start_matches('\u{feff}');
        let stripped_before_3_15 = line.runs.without(Runs::PY315);
        if leading.starts_with(crate::python::py_isspace)
            && !stripped_before_3_15.is_never()
            && crate::python::py_strip(leading) == line.text
        {
            let legacy = crate::python::startup::makepath(
                &live_site.to_string_lossy(),
                leading.trim_end_matches(crate::python::py_isspace),
            );
            targets.push((PathBuf::from(legacy), line, stripped_before_3_15));
            if line.runs.contains(Runs::PY315) {
                targets.push((
                    target(&live_site, &line.text, ctx.windows()),
                    line,
                    Runs::PY315,
                ));
            }
        } else {
            targets.push((
                target(&live_site, &line.text, ctx.windows()),
                line,
                line.runs,
            ));
        }
    }
    for (target, line, runs) in targets {
        if target.starts_with(&env_root) {
            continue;
        }
        let mut hits = Vec::new();
        if let Some(tmp) = TEMP_DIRS.iter().find(|t| target.starts_with(t)) {
            hits.push(hit(
                "world-writable-dir",
                Severity::High,
                format!("under `{tmp}`"),
            ));
        }
        if let Some(hidden) = target.components().find_map(|c| {
            let s = c.as_os_str().to_string_lossy();
            (s.starts_with('.') && s != "." && s != "..").then(|| s.into_owned())
        }) {
            hits.push(hit(
                "hidden-dir",
                Severity::Medium,
                format!("hidden directory `{hidden}`"),
            ));
        }
        // a path into a home counts only from an environment in another home: an editable
        // install from /opt/venv into /home/dev/project is ordinary
        if let (Some(home), Some(own)) = (home_of(&target), env_home.as_ref())
            && own != &home
        {
            hits.push(hit(
                "foreign-home",
                Severity::Medium,
                format!("another user's home `{}`", home.display()),
            ));
        }
        let Some(severity) = hits.iter().map(|h| h.severity).max() else {
            continue;
        };
        out.push(Finding {
            rule: "PTH010".into(),
            severity,
            location: Location {
                path: file.path.clone(),
                line: Some(line.line),
                column: None,
            },
            environment: Some(ctx.env.root.clone()),
            message: format!(
                "path line adds `{}` to sys.path: {}",
                target.display(),
                hits.iter()
                    .map(|h| h.matched.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            evidence: excerpt(&line.text, EVIDENCE_CHARS),
            signals: hits,
            known_good: None,
            runs_on: if file.name.starts_with('.') {
                runs.for_dot_named_file()
            } else {
                runs
            },
            sha256: file.data.sha256.clone(),
            notes: Vec::new(),
            ..Default::default()
        });
    }
    out
}

fn hit(id: &str, severity: Severity, matched: String) -> SignalHit {
    SignalHit {
        id: id.into(),
        severity,
        matched,
        offset: 0,
    }
}

/// `/home/<user>` or `/root` that `path` lies in.
fn home_of(path: &Path) -> Option<PathBuf> {
    let mut comps = path.components().skip(1);
    match comps.next()?.as_os_str().to_str()? {
        "root" => Some(PathBuf::from("/root")),
        "home" => comps.next().map(|user| Path::new("/home").join(user)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homes() {
        assert_eq!(
            home_of(Path::new("/home/ann/x")),
            Some(PathBuf::from("/home/ann"))
        );
        assert_eq!(home_of(Path::new("/root/.x")), Some(PathBuf::from("/root")));
        assert_eq!(home_of(Path::new("/opt/x")), None);
    }

    #[test]
    fn relative_lines_resolve_against_the_site_dir() {
        let site = Path::new("/v/lib/python3.11/site-packages");
        assert_eq!(
            target(site, "../../../../tmp/x", false),
            PathBuf::from("/tmp/x")
        );
        assert_eq!(target(site, "/abs", false), PathBuf::from("/abs"));
        assert_eq!(target(site, "src", false), site.join("src"));
        // POSIX: a backslash is part of a name; Windows: a separator, and a drive is the root
        assert_eq!(target(site, "win32\\lib", false), site.join("win32\\lib"));
        let win = Path::new("/Python312/Lib/site-packages");
        assert_eq!(target(win, "win32\\lib", true), win.join("win32/lib"));
        assert_eq!(
            target(win, "..\\..\\Tools", true),
            PathBuf::from("/Python312/Tools")
        );
        assert_eq!(
            target(win, "C:\\tools\\hooks", true),
            PathBuf::from("/tools/hooks")
        );
        // a device path to a drive is that drive's path
        for device in [
            "\\\\?\\C:\\ProgramData\\cache",
            "\\\\.\\c:\\ProgramData\\cache",
        ] {
            assert_eq!(
                target(win, device, true),
                PathBuf::from("/ProgramData/cache"),
                "{device}"
            );
        }
    }
}
