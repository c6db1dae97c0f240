//! Typosquats and impersonation: a distribution named near a popular project (TYP001), one
//! that installs another popular project's import package (TYP002), and compiled code without
//! its source in a distribution of sources (TYP003). The popular list and the name checks are
//! data of `pthscan-signatures` ([`pthscan_signatures::popular`]); this file reads a
//! distribution's `RECORD`, `top_level.txt` and `WHEEL` and makes findings.
//!
//! Called for every distribution whose metadata [`super::distributions::distributions`] reads.

use std::collections::HashSet;
use std::path::Path;

pub use pthscan_signatures::popular::{Kind, Near, Popular, near_popular};

use super::{Ctx, RuleDoc};
use crate::finding::{Finding, Location, Severity};

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "TYP001",
        fix: super::Fix::Review,
        rotate: &[],
        title: "distribution named near a popular project",
        what: "A distribution (installed, a wheel, a cache entry) whose PEP 503 name is not a \
               popular project's but is near one from the embedded list of the most downloaded \
               PyPI projects: a letter or two off (Damerau–Levenshtein: none for names up to 4 \
               letters, 1 up to 8, 2 from 9), the same letters with other separators \
               (`py-torch`), look-alike letters (`rn`/`m`, `1`/`l`, `0`/`o`), digits appended to \
               a version digit (`jinja22`) or filler glued on (`coloramapkgs`). Honest families \
               (`types-requests`, `pytest-cov`, `azure-mgmt-dns`) and version siblings \
               (`elasticsearch8`) do not count. Medium; high when the same distribution also \
               installs the popular project's package (TYP002).",
        why: "Typosquats wait for a slip of the fingers in `pip install`, a requirements file \
              or an LLM's suggestion; the name is the whole trick, and the code runs at install \
              or import time.",
        example: "…/site-packages/jinja22-1.0.dist-info/METADATA: `jinja22` is named near the popular `jinja2` (rank 37): digits appended to its version digit → medium",
        references: &[
            "https://github.com/hugovk/top-pypi-packages",
            "Vu et al., Typosquatting and Combosquatting Attacks on the Python Ecosystem (2020)",
            "https://peps.python.org/pep-0503/#normalized-names",
        ],
    },
    &RuleDoc {
        id: "TYP002",
        fix: super::Fix::Review,
        rotate: &[],
        title: "distribution installs another popular project's import package",
        what: "A distribution that is not popular itself ships a top-level package or module \
               (from RECORD, or `top_level.txt`) whose name is that of a different popular \
               project or its import name (`bittensor_cli/`, `cv2`, `yaml`), and is not a \
               known variant or fork of it (`psycopg2-binary`, `opencv-*`, `tensorflow-cpu`, \
               `*-nightly`). Vendored copies below another package (`pip/_vendor/requests`) \
               and shared namespaces (`google`, `azure`) do not count. Medium; high with \
               TYP001.",
        why: "Whatever imports the popular package gets the impostor's code instead, and the \
              impostor looks like the real thing to a reader of `pip list` at a glance.",
        example: "…/site-packages/jinja22-1.0.dist-info/RECORD:1: `jinja22` installs `jinja2`, the import package of the popular `jinja2` → high (with TYP001)",
        references: &[
            "https://packaging.python.org/en/latest/specifications/recording-installed-packages/",
        ],
    },
    &RuleDoc {
        id: "TYP003",
        fix: super::Fix::Review,
        rotate: &[],
        title: "sourceless code in a distribution of sources",
        what: "A wheel or installed distribution whose RECORD lists `.py` sources but also a \
               `.pyc` outside `__pycache__` with no `.py` beside it, or an extension module \
               (`.so`, `.pyd`) although its `WHEEL` says `Root-Is-Purelib: true` and every tag \
               is `*-none-any`. Medium.",
        why: "Compiled code cannot be read in review and is how a payload hides beside honest \
              sources; a pure wheel has no honest reason to carry a native module.",
        example: "…/site-packages/foo-1.0.dist-info/RECORD:3: `foo/_impl.pyc` has no source beside it in a distribution of sources → medium",
        references: &[
            "https://packaging.python.org/en/latest/specifications/binary-distribution-format/",
        ],
    },
];

/// What one distribution gives the typosquat rules: its metadata path, name and version, and
/// the texts of its `RECORD`, `top_level.txt` and `WHEEL` where it has them.
#[derive(Debug, Clone, Copy)]
pub struct Dist<'a> {
    /// The metadata file (`METADATA`, `PKG-INFO`): where TYP001 points.
    pub meta: &'a Path,
    /// `Name` from the metadata.
    pub name: &'a str,
    /// `Version` from the metadata.
    pub version: &'a str,
    /// `RECORD` and its path.
    pub record: Option<(&'a Path, &'a str)>,
    /// `top_level.txt` and its path, read when there is no RECORD.
    pub top_level: Option<(&'a Path, &'a str)>,
    /// `WHEEL`.
    pub wheel: Option<&'a str>,
    /// The distributions of the same environment that require this one (PEP 503 names): the
    /// popular project itself among them makes this its own split (griffe → griffelib), no
    /// impostor.
    pub required_by: &'a [String],
}

/// Reads what [`check`] needs beside the metadata (RECORD, or `top_level.txt` without one, and
/// WHEEL) and judges one distribution.
pub fn judge(
    ctx: &Ctx<'_>,
    meta: &Path,
    name: &str,
    version: &str,
    required_by: &[String],
) -> Vec<Finding> {
    let dir = meta.parent().unwrap_or(Path::new(""));
    // what a distribution's top-level names are is said in its first rows: a RECORD larger
    // than this (a million rows is an attack on the integrity check, which reads it streamed)
    // is not held a second time, and the top-level names come from `top_level.txt`
    const MAX_READ: u64 = 4 << 20;
    let read = |file: &str| {
        let path = dir.join(file);
        let data = ctx.tree.read_capped(&path, MAX_READ).ok()?;
        if data.truncated {
            return None;
        }
        Some((path, String::from_utf8_lossy(&data.bytes).into_owned()))
    };
    let is_dist_info = dir.extension().is_some_and(|e| e == "dist-info");
    let record = if is_dist_info { read("RECORD") } else { None };
    let top_level = if record.is_none() {
        read("top_level.txt")
    } else {
        None
    };
    let wheel = if is_dist_info { read("WHEEL") } else { None };
    let mut found = check(
        Popular::embedded(),
        Dist {
            meta,
            name,
            version,
            record: record.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
            top_level: top_level.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
            wheel: wheel.as_ref().map(|(_, t)| t.as_str()),
            required_by,
        },
    );
    for f in &mut found {
        f.environment = Some(ctx.env.root.clone());
    }
    found
}

/// The findings of the three rules for one distribution.
pub fn check(popular: &Popular, dist: Dist<'_>) -> Vec<Finding> {
    let release = format!("{} {}", dist.name, dist.version);
    let own = pthscan_db::normalize(dist.name);
    let finding = |rule: &'static str, at: Location, message: String, evidence: String| Finding {
        rule: rule.into(),
        severity: Severity::Medium,
        location: at,
        distribution: Some(release.clone()),
        message,
        evidence,
        reference: Some("https://github.com/hugovk/top-pypi-packages".into()),
        ..Default::default()
    };
    let as_of = popular
        .header
        .iter()
        .find_map(|h| h.strip_prefix("last_update:"))
        .map(|d| d.trim().split(' ').next().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let mut out = Vec::new();
    let split_of = |project: &str| {
        dist.required_by
            .iter()
            .any(|r| *r == pthscan_db::normalize(project))
    };
    let near = popular.near(dist.name).filter(|n| !split_of(n.project));
    if let Some(n) = near {
        let stands = if n.name == n.project {
            String::new()
        } else {
            format!(", a name of `{}`", n.project)
        };
        let mut f = finding(
            "TYP001",
            Location {
                path: dist.meta.to_path_buf(),
                line: None,
                column: None,
            },
            format!(
                "`{}` is named near the popular `{}` (rank {} by downloads{stands}): {}",
                dist.name, n.name, n.rank, n.kind
            ),
            format!("{own} ~ {}", n.name),
        );
        f.notes.push(format!(
            "popular list: the {} most downloaded PyPI projects as of {as_of}; check that `{}` is the project you meant to install",
            popular.len(),
            dist.name
        ));
        out.push(f);
    }
    if !popular.is_popular(dist.name) {
        for (package, at) in top_levels(&dist) {
            let Some(project) = popular.package_owner(&package) else {
                continue;
            };
            if project == own || popular.may_ship(dist.name, project, &package) || split_of(project)
            {
                continue;
            }
            let mut f = finding(
                "TYP002",
                at,
                format!(
                    "`{}` installs `{package}`, the import package of the popular `{project}`: whatever imports `{package}` gets this distribution's code",
                    dist.name
                ),
                format!("{own} → {package}"),
            );
            f.notes.push(format!(
                "if `{project}` is installed too, the two overwrite each other's files; uninstall `{}` and reinstall `{project}`",
                dist.name
            ));
            out.push(f);
        }
    }
    if let Some((path, text)) = dist.record {
        for (line, file, why) in sourceless(text, dist.wheel) {
            out.push(finding(
                "TYP003",
                Location {
                    path: path.to_path_buf(),
                    line: Some(line),
                    column: None,
                },
                format!("`{file}` {why}"),
                file,
            ));
        }
    }
    let impostor = near.is_some() && out.iter().any(|f| f.rule == "TYP002");
    if impostor {
        for f in out.iter_mut().filter(|f| f.rule != "TYP003") {
            f.severity = Severity::High;
            f.notes
                .push("named near a popular project and installs its package: an impostor".into());
        }
    }
    out
}

/// The path of each RECORD line, unquoted, with its 1-based line number.
fn record_paths(text: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    text.lines().enumerate().filter_map(|(n, line)| {
        let mut fields = line.rsplitn(3, ',');
        let (_size, _hash, path) = (fields.next(), fields.next(), fields.next());
        let path = path?.trim();
        let path = path
            .strip_prefix('"')
            .and_then(|p| p.strip_suffix('"'))
            .map_or_else(|| path.to_owned(), |p| p.replace("\"\"", "\""));
        (!path.is_empty()).then_some((n + 1, path))
    })
}

/// The top-level import names a distribution installs, with where each is listed: RECORD's
/// packages (a first component with an `__init__` below it: a namespace without one is
/// shared) and modules, or `top_level.txt` without a RECORD.
fn top_levels(dist: &Dist<'_>) -> Vec<(String, Location)> {
    let mut out: Vec<(String, Location)> = Vec::new();
    let mut push = |name: &str, path: &Path, line: usize| {
        if !name.is_empty()
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !out.iter().any(|(n, _)| n == name)
        {
            out.push((
                name.to_owned(),
                Location {
                    path: path.to_path_buf(),
                    line: Some(line),
                    column: None,
                },
            ));
        }
    };
    if let Some((path, text)) = dist.record {
        for (line, file) in record_paths(text) {
            let file = file.replace('\\', "/");
            if file.starts_with('/') || file.split('/').any(|c| c == "..") {
                continue;
            }
            match file.split_once('/') {
                Some((top, rest)) => {
                    if !top.ends_with(".dist-info")
                        && !top.ends_with(".data")
                        && rest.split('.').next() == Some("__init__")
                    {
                        push(top, path, line);
                    }
                }
                None => {
                    if let Some((stem, _)) = file.split_once('.')
                        && is_code(&file)
                    {
                        push(stem, path, line);
                    }
                }
            }
        }
    } else if let Some((path, text)) = dist.top_level {
        for (n, line) in text.lines().enumerate() {
            push(line.trim(), path, n + 1);
        }
    }
    out
}

fn is_code(file: &str) -> bool {
    [".py", ".pyc", ".so", ".pyd"]
        .iter()
        .any(|e| file.ends_with(e))
}

/// Whether a file name is an importable extension module (`_x.cpython-312-x86_64-linux-gnu.so`,
/// `_x.abi3.so`, `_x.so`, `_x.pyd`); shared libraries loaded by path (`libfoo.so.1`) are not.
fn is_extension(file: &str) -> bool {
    file.ends_with(".pyd") || file.ends_with(".so")
}

/// TYP003's entries of a RECORD: (line, file, why).
fn sourceless(record: &str, wheel: Option<&str>) -> Vec<(usize, String, &'static str)> {
    let files: Vec<(usize, String)> = record_paths(record)
        .filter(|(_, f)| !f.split('/').any(|c| c == ".." || c.ends_with(".dist-info")))
        .collect();
    let names: HashSet<&str> = files.iter().map(|(_, f)| f.as_str()).collect();
    if !names.iter().any(|f| f.ends_with(".py")) {
        return Vec::new();
    }
    let pure = wheel.is_some_and(|w| {
        let mut purelib = false;
        let mut tags = 0;
        let mut any = true;
        for line in w.lines() {
            if let Some(v) = line.strip_prefix("Root-Is-Purelib:") {
                purelib = v.trim().eq_ignore_ascii_case("true");
            } else if let Some(v) = line.strip_prefix("Tag:") {
                tags += 1;
                any &= v.trim().ends_with("-none-any");
            }
        }
        purelib && tags > 0 && any
    });
    let mut out = Vec::new();
    for (line, file) in &files {
        if let Some(stem) = file.strip_suffix(".pyc")
            && !file.split('/').any(|c| c == "__pycache__")
            && !names.contains(format!("{stem}.py").as_str())
        {
            out.push((
                *line,
                file.clone(),
                "is compiled code with no source beside it, in a distribution of sources",
            ));
        } else if pure && is_extension(file) {
            out.push((
                *line,
                file.clone(),
                "is a native extension module in a wheel that says it is pure Python (`Root-Is-Purelib: true`, `none-any`)",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, record: Option<&str>, wheel: Option<&str>) -> Vec<(String, Severity)> {
        let meta = Path::new("site/x-1.0.dist-info/METADATA");
        let rec = Path::new("site/x-1.0.dist-info/RECORD");
        check(
            Popular::embedded(),
            Dist {
                meta,
                name,
                version: "1.0",
                record: record.map(|r| (rec, r)),
                top_level: None,
                wheel,
                required_by: &[],
            },
        )
        .into_iter()
        .map(|f| (f.rule.into_owned(), f.severity))
        .collect()
    }

    fn rules(found: &[(String, Severity)]) -> Vec<&str> {
        found.iter().map(|(r, _)| r.as_str()).collect()
    }

    const PURE: &str = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n";

    #[test]
    fn typ001_a_near_name_alone_is_medium() {
        assert_eq!(
            run("pytorhc", None, None),
            vec![("TYP001".into(), Severity::Medium)]
        );
        assert!(run("jinja2-time", None, None).is_empty());
        assert!(run("requests", None, None).is_empty());
    }

    #[test]
    fn typ002_a_popular_package_from_another_distribution() {
        let rec = "jinja2/__init__.py,sha256=x,1\njinja2/ext.py,sha256=x,1\njinja22-1.0.dist-info/RECORD,,\n";
        assert_eq!(
            run("jinja22", Some(rec), Some(PURE)),
            vec![
                ("TYP001".into(), Severity::High),
                ("TYP002".into(), Severity::High)
            ]
        );
        // not near: TYP002 alone is medium
        assert_eq!(
            run("templating-kit", Some(rec), Some(PURE)),
            vec![("TYP002".into(), Severity::Medium)]
        );
        let module = "yaml.py,sha256=x,1\n";
        assert_eq!(rules(&run("easy-config", Some(module), None)), ["TYP002"]);
    }

    #[test]
    fn typ002_honest_shapes_do_not_fire() {
        let cases = [
            ("psycopg2-binary", "psycopg2/__init__.py,,\n"),
            ("opencv-contrib-python-headless", "cv2/__init__.py,,\n"),
            ("pillow", "PIL/__init__.py,,\n"),
            ("tensorflow-cpu", "tensorflow/__init__.py,,\n"),
            ("tf-nightly", "tensorflow/__init__.py,,\n"),
            ("some-tool", "some_tool/_vendor/requests/__init__.py,,\n"),
            ("pip", "pip/_vendor/requests/__init__.py,,\n"),
            ("google-cloud-foo", "google/cloud/foo/__init__.py,,\n"),
            ("my-plugin", "requests/adapters/x.py,,\n"),
            ("my-plugin", "../../bin/requests,,\n"),
        ];
        for (name, rec) in cases {
            assert!(
                run(name, Some(rec), None).is_empty(),
                "{name}: {:?}",
                run(name, Some(rec), None)
            );
        }
    }

    #[test]
    fn a_popular_project_s_own_split_is_no_impostor() {
        // griffe 2 ships its code as `griffelib` and requires it: named near and shipping
        // `griffe/`, but the popular project itself depends on it
        let record = "griffe/__init__.py,sha256=x,1\ngriffelib-2.4.1.dist-info/METADATA,,\n";
        let judge = |required_by: &[String]| {
            check(
                Popular::embedded(),
                Dist {
                    meta: Path::new("site/griffelib-2.4.1.dist-info/METADATA"),
                    name: "griffelib",
                    version: "2.4.1",
                    record: Some((Path::new("site/griffelib-2.4.1.dist-info/RECORD"), record)),
                    top_level: None,
                    wheel: None,
                    required_by,
                },
            )
        };
        let alone = judge(&[]);
        assert!(alone.iter().any(|f| f.rule == "TYP002"), "{alone:?}");
        assert!(judge(&["griffe".to_owned()]).is_empty());
    }

    #[test]
    fn typ002_reads_top_level_without_a_record() {
        let found = check(
            Popular::embedded(),
            Dist {
                meta: Path::new("site/x.egg-info/PKG-INFO"),
                name: "helper",
                version: "1",
                top_level: Some((
                    Path::new("site/x.egg-info/top_level.txt"),
                    "helper\nrequests\n",
                )),
                record: None,
                wheel: None,
                required_by: &[],
            },
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, "TYP002");
        assert_eq!(found[0].location.line, Some(2));
    }

    #[test]
    fn typ003_sourceless_and_native_code_in_a_pure_wheel() {
        let rec = "foo/__init__.py,,\nfoo/_impl.pyc,,\n";
        assert_eq!(rules(&run("foo", Some(rec), Some(PURE))), ["TYP003"]);
        let rec = "foo/__init__.py,,\nfoo/_speed.cpython-312-x86_64-linux-gnu.so,,\n";
        assert_eq!(rules(&run("foo", Some(rec), Some(PURE))), ["TYP003"]);
        // negatives: bytecode beside its source, a platform wheel, a wheel of bytecode only
        let rec = "foo/__init__.py,,\nfoo/__pycache__/__init__.cpython-312.pyc,,\nfoo/a.py,,\nfoo/a.pyc,,\n";
        assert!(run("foo", Some(rec), Some(PURE)).is_empty());
        let platform = "Root-Is-Purelib: false\nTag: cp312-cp312-manylinux_2_17_x86_64\n";
        let rec = "foo/__init__.py,,\nfoo/_speed.cpython-312-x86_64-linux-gnu.so,,\n";
        assert!(run("foo", Some(rec), Some(platform)).is_empty());
        assert!(run("foo", Some("foo/__init__.pyc,,\n"), Some(PURE)).is_empty());
    }
}
