//! The most downloaded PyPI projects (`signatures/popular/top-pypi.txt`) and the name checks
//! of the typosquat rules: is a distribution name near a popular one ([`Popular::near`], the
//! TYP001 check and what a lockfile pin is judged by), and whose import package is a top-level
//! name ([`Popular::package_owner`], [`Popular::may_ship`], TYP002).
//!
//! The list is read in rank order and never assumed to have a given length; names are
//! normalised (PEP 503). `signatures/typosquat.toml` adds the names people type for popular
//! projects (`pytorch` for `torch`), the honest forks that ship another project's package
//! (`psycopg2-binary`), shared namespace packages, honest near-names and the examples the tests
//! of this module run.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::SignatureError;

/// The embedded `signatures/popular/top-pypi.txt`.
pub const TOP_PYPI: &str = include_str!("../../../signatures/popular/top-pypi.txt");
/// The embedded `signatures/typosquat.toml`.
pub const TYPOSQUAT_TOML: &str = include_str!("../../../signatures/typosquat.toml");

/// How a name is near a popular one, strongest evidence of intent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The same letters with separators added, dropped or moved (`py-torch`).
    Separators,
    /// Letters swapped for look-alikes (`rn` for `m`, `1` or `I` for `l`, `0` for `o`).
    Homoglyph,
    /// Digits appended to a name that ends in a version digit (`jinja22`).
    Digits,
    /// A filler suffix glued on (`coloramapkgs`).
    Affix,
    /// A few letters added, dropped, changed or swapped (Damerau–Levenshtein, optimal string
    /// alignment): `pytorhc`, `aiohappyeyeball`.
    Typo {
        /// The number of edits.
        distance: usize,
    },
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Separators => f.write_str("the same letters with other separators"),
            Kind::Homoglyph => f.write_str("look-alike letters swapped"),
            Kind::Digits => f.write_str("digits appended to its version digit"),
            Kind::Affix => f.write_str("a filler suffix glued on"),
            Kind::Typo { distance: 1 } => f.write_str("one letter off"),
            Kind::Typo { distance } => write!(f, "{distance} letters off"),
        }
    }
}

/// A popular name a distribution name is near.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Near<'a> {
    /// The name it is near (normalised): a popular project's name, or a name people type for
    /// it (`pytorch`).
    pub name: &'a str,
    /// The popular project that name stands for (`torch` for `pytorch`).
    pub project: &'a str,
    /// The project's download rank, 1 the most downloaded.
    pub rank: usize,
    /// How it is near.
    pub kind: Kind,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    aliases: HashMap<String, String>,
    forks: Forks,
    packages: Packages,
    near: NearData,
    example: Vec<Example>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Forks {
    suffixes: Vec<String>,
    families: Vec<Family>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Family {
    prefix: String,
    packages: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Packages {
    namespaces: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NearData {
    glued_suffixes: Vec<String>,
    honest: Vec<String>,
}

/// One example of `typosquat.toml`: `name` must be near `near`, or near nothing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// A distribution name.
    pub name: String,
    /// The name TYP001 must report it near, if any.
    pub near: Option<String>,
}

/// A name TYP001 compares against: a popular project's name or one of its aliases.
#[derive(Debug)]
struct Target {
    name: String,
    /// Index of the project in [`Popular::names`].
    project: usize,
    parts: Vec<String>,
}

/// The popular list and the typosquat data, indexed.
#[derive(Debug)]
pub struct Popular {
    /// The `#` header lines of the list (source, commit, date, licence).
    pub header: Vec<String>,
    names: Vec<String>,
    rank: HashMap<String, usize>,
    targets: Vec<Target>,
    by_target: HashMap<String, usize>,
    by_collapsed: HashMap<String, usize>,
    by_glyphs: HashMap<String, usize>,
    fork_suffixes: Vec<String>,
    families: Vec<(String, Vec<String>)>,
    namespaces: HashSet<String>,
    honest: HashSet<String>,
    glued_suffixes: Vec<String>,
    /// The examples of `typosquat.toml`.
    pub examples: Vec<Example>,
}

/// Names shorter than this are never judged: too many honest three-letter names.
const MIN_LEN: usize = 3;

/// The edits a name component may be off its target's component by, by the shorter of the
/// two: none up to 4 letters
/// (`msal`/`mal`, `dns`/`dms`: short names are dense), one up to 8, two from 9 (but never two
/// letters changed in place: `frozendict` is not `frozenlist`).
pub fn max_edits(target_len: usize) -> usize {
    match target_len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

impl Popular {
    /// The embedded list and data. Panics if they do not load: the tests of this crate load
    /// them, so a build that passed its tests cannot.
    pub fn embedded() -> &'static Popular {
        static EMBEDDED: OnceLock<Popular> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            Popular::parse(TOP_PYPI, TYPOSQUAT_TOML)
                .unwrap_or_else(|e| panic!("embedded popular list: {e}"))
        })
    }

    /// Reads a list (`name<TAB>downloads` lines in rank order, `#` header lines) and the
    /// typosquat data.
    pub fn parse(list: &str, data: &str) -> Result<Popular, SignatureError> {
        let file: File = toml::from_str(data).map_err(|source| SignatureError::Parse {
            file: "typosquat.toml",
            source,
        })?;
        let mut header = Vec::new();
        let mut names = Vec::new();
        let mut rank = HashMap::new();
        for line in list.lines() {
            if let Some(h) = line.strip_prefix('#') {
                header.push(h.trim().to_owned());
                continue;
            }
            let Some(name) = line.split('\t').next().map(pthscan_db::normalize) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            if !rank.contains_key(&name) {
                rank.insert(name.clone(), names.len());
                names.push(name);
            }
        }
        if names.is_empty() {
            return Err(SignatureError::Invalid {
                id: "top-pypi.txt".into(),
                reason: "no project names".into(),
            });
        }
        let mut targets: Vec<Target> = names
            .iter()
            .enumerate()
            .map(|(i, n)| Target {
                name: n.clone(),
                project: i,
                parts: n.split('-').map(str::to_owned).collect(),
            })
            .collect();
        let mut aliases: Vec<(String, String)> = file
            .aliases
            .iter()
            .map(|(a, p)| (pthscan_db::normalize(a), pthscan_db::normalize(p)))
            .collect();
        aliases.sort();
        for (alias, project) in aliases {
            // an alias of a project the list does not hold (yet) waits for a longer list
            if let Some(&i) = rank.get(&project)
                && !rank.contains_key(&alias)
            {
                targets.push(Target {
                    parts: alias.split('-').map(str::to_owned).collect(),
                    name: alias,
                    project: i,
                });
            }
        }
        let mut by_target = HashMap::new();
        let mut by_collapsed = HashMap::new();
        let mut by_glyphs = HashMap::new();
        for (i, t) in targets.iter().enumerate() {
            by_target.entry(t.name.clone()).or_insert(i);
            by_collapsed.entry(t.name.replace('-', "")).or_insert(i);
            by_glyphs.entry(glyphs(&t.name)).or_insert(i);
        }
        let norm = |v: &[String]| {
            v.iter()
                .map(|s| pthscan_db::normalize(s))
                .collect::<Vec<_>>()
        };
        Ok(Popular {
            header,
            names,
            rank,
            targets,
            by_target,
            by_collapsed,
            by_glyphs,
            fork_suffixes: norm(&file.forks.suffixes),
            families: file
                .forks
                .families
                .iter()
                .map(|f| (f.prefix.to_lowercase(), norm(&f.packages)))
                .collect(),
            namespaces: norm(&file.packages.namespaces).into_iter().collect(),
            honest: norm(&file.near.honest).into_iter().collect(),
            glued_suffixes: norm(&file.near.glued_suffixes),
            examples: file.example,
        })
    }

    /// The number of projects in the list.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list is empty (never, for the embedded one).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The download rank (1 the most downloaded) of a popular project, by any spelling.
    pub fn rank(&self, name: &str) -> Option<usize> {
        self.rank.get(&pthscan_db::normalize(name)).map(|i| i + 1)
    }

    /// Whether `name` is a popular project, or a name people type for one (`sklearn`).
    pub fn is_popular(&self, name: &str) -> bool {
        self.by_target.contains_key(&pthscan_db::normalize(name))
    }

    /// The popular name `name` is near, if it is not itself popular (TYP001): see [`Kind`] for
    /// the ways. When several popular names are near, the strongest kind wins, then the fewest
    /// edits, then the most downloaded.
    pub fn near(&self, name: &str) -> Option<Near<'_>> {
        let n = pthscan_db::normalize(name);
        if n.len() < MIN_LEN || self.by_target.contains_key(&n) || self.honest.contains(&n) {
            return None;
        }
        let hit = |i: usize, kind: Kind| {
            let t = &self.targets[i];
            Near {
                name: &t.name,
                project: &self.names[t.project],
                rank: t.project + 1,
                kind,
            }
        };
        let collapsed = n.replace('-', "");
        if collapsed.len() > 4
            && let Some(&i) = self.by_collapsed.get(&collapsed)
        {
            return Some(hit(i, Kind::Separators));
        }
        // look-alikes are judged on the name as written: `I` is a look-alike of `l`, `i` not
        let raw: String = name.trim().replace('I', "l");
        let g = glyphs(&pthscan_db::normalize(&raw));
        if g.len() > 3
            && let Some(&i) = self.by_glyphs.get(&g)
            && self.targets[i].name != n
        {
            return Some(hit(i, Kind::Homoglyph));
        }
        let digits = n.len() - n.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        for cut in 1..=digits {
            let base = &n[..n.len() - cut];
            if base.ends_with(|c: char| c.is_ascii_digit())
                && base.len() >= MIN_LEN
                && let Some(&i) = self.by_target.get(base)
            {
                return Some(hit(i, Kind::Digits));
            }
        }
        for suffix in &self.glued_suffixes {
            if let Some(base) = n.strip_suffix(suffix.as_str())
                && base.len() >= 5
                && let Some(&i) = self.by_target.get(base)
            {
                return Some(hit(i, Kind::Affix));
            }
        }
        let parts: Vec<&str> = n.split('-').collect();
        let mut best: Option<(usize, usize)> = None; // (distance, target)
        for (i, t) in self.targets.iter().enumerate() {
            if t.parts.len() != parts.len() {
                continue;
            }
            let mut differ = parts
                .iter()
                .zip(&t.parts)
                .filter(|(a, b)| **a != b.as_str());
            let (Some((a, b)), None) = (differ.next(), differ.next()) else {
                continue;
            };
            let limit = max_edits(a.len().min(b.len()));
            if limit == 0 || a.len().abs_diff(b.len()) > limit || version_sibling(a, b) {
                continue;
            }
            let d = osa_distance(a, b);
            // two letters changed in place make another word (`frozendict`, `frozenlist`);
            // two added, dropped or a swap and a slip are fingers
            if d == 2
                && a.len() == b.len()
                && a.chars().zip(b.chars()).filter(|(x, y)| x != y).count() == 2
            {
                continue;
            }
            if d <= limit
                && best.is_none_or(|(bd, bi)| (d, t.project) < (bd, self.targets[bi].project))
            {
                best = Some((d, i));
            }
        }
        best.map(|(distance, i)| hit(i, Kind::Typo { distance }))
    }

    /// The popular project whose import package a top-level package or module `package` of a
    /// distribution is (`bittensor_cli`, `cv2`), unless it is a namespace many share.
    pub fn package_owner(&self, package: &str) -> Option<&str> {
        let p = pthscan_db::normalize(package);
        if self.namespaces.contains(&p) {
            return None;
        }
        let &i = self.by_target.get(&p)?;
        Some(&self.names[self.targets[i].project])
    }

    /// Whether distribution `dist` may honestly ship the import package `package` of the
    /// popular project `project`: it is that project (or an alias of it), a variant
    /// (`psycopg2-binary`, `tensorflow-cpu`) or a known fork family (`opencv-*` and `cv2`).
    pub fn may_ship(&self, dist: &str, project: &str, package: &str) -> bool {
        let (d, p, pkg) = (
            pthscan_db::normalize(dist),
            pthscan_db::normalize(project),
            pthscan_db::normalize(package),
        );
        if d == p
            || self
                .by_target
                .get(&d)
                .is_some_and(|&i| self.names[self.targets[i].project] == p)
        {
            return true;
        }
        for base in [&p, &pkg] {
            if let Some(rest) = d
                .strip_prefix(base.as_str())
                .and_then(|r| r.strip_prefix('-'))
                && rest
                    .split('-')
                    .all(|s| self.fork_suffixes.iter().any(|f| f == s))
            {
                return true;
            }
        }
        self.families
            .iter()
            .any(|(prefix, packages)| d.starts_with(prefix.as_str()) && packages.contains(&pkg))
    }
}

/// `name` near a popular project by the embedded list (see [`Popular::near`]): the check of
/// TYP001, for a lockfile or requirements pin as for an installed distribution.
pub fn near_popular(name: &str) -> Option<Near<'static>> {
    Popular::embedded().near(name)
}

/// Whether `a` and `b` differ only in trailing digits (`elasticsearch8`, `jinja3`): a major
/// version's own distribution, not a typo.
fn version_sibling(a: &str, b: &str) -> bool {
    let digit = |c: char| c.is_ascii_digit();
    a.trim_end_matches(digit) == b.trim_end_matches(digit)
}

/// A name with look-alikes folded: `rn`→`m`, `vv`→`w`, `1`→`l`, `0`→`o`.
fn glyphs(name: &str) -> String {
    name.replace('1', "l")
        .replace('0', "o")
        .replace("rn", "m")
        .replace("vv", "w")
}

/// Damerau–Levenshtein distance, optimal string alignment (each adjacent transposition one
/// edit, no substring edited twice), over characters.
pub fn osa_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(w) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_loads_in_rank_order() {
        let p = Popular::embedded();
        assert!(p.len() >= 500, "{}", p.len());
        assert_eq!(p.rank("boto3"), Some(1));
        assert_eq!(p.rank("Typing_Extensions"), p.rank("typing-extensions"));
        assert!(p.header.iter().any(|h| h.starts_with("commit:")));
        assert!(p.header.iter().any(|h| h.starts_with("source:")));
    }

    #[test]
    fn every_example_is_near_what_it_says() {
        let p = Popular::embedded();
        assert!(p.examples.iter().any(|e| e.near.is_some()));
        assert!(p.examples.iter().any(|e| e.near.is_none()));
        for e in &p.examples {
            let got = p.near(&e.name).map(|n| n.name);
            assert_eq!(
                got,
                e.near.as_deref(),
                "{} near {:?}",
                e.name,
                p.near(&e.name)
            );
        }
    }

    #[test]
    fn no_popular_name_is_near_another() {
        let p = Popular::embedded();
        for n in &p.names {
            assert_eq!(p.near(n), None, "{n}");
        }
    }

    #[test]
    fn osa_counts_a_transposition_as_one_edit() {
        assert_eq!(osa_distance("pytorhc", "pytorch"), 1);
        assert_eq!(osa_distance("aiohappyeyeball", "aiohappyeyeballs"), 1);
        assert_eq!(osa_distance("abc", "abc"), 0);
        assert_eq!(osa_distance("", "abc"), 3);
        assert_eq!(osa_distance("ca", "abc"), 3);
    }

    #[test]
    fn forks_and_families_may_ship_the_package() {
        let p = Popular::embedded();
        assert!(p.may_ship("psycopg2-binary", "psycopg2", "psycopg2"));
        assert!(p.may_ship("opencv-contrib-python-headless", "opencv-python", "cv2"));
        assert!(p.may_ship("pillow", "pillow", "PIL"));
        assert!(!p.may_ship("requests-py", "requests", "requests"));
        assert!(!p.may_ship("jinja22", "jinja2", "jinja2"));
        assert_eq!(p.package_owner("PIL"), Some("pillow"));
        assert_eq!(p.package_owner("google"), None);
        assert_eq!(p.package_owner("bittensor_cli"), None, "not in the list");
    }

    #[test]
    fn a_list_of_any_length_loads() {
        let p = Popular::parse("# h\nfoo\t1\n\nbar-baz\t2\n", TYPOSQUAT_TOML).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.rank("bar_baz"), Some(2));
        assert!(Popular::parse("# only a header\n", TYPOSQUAT_TOML).is_err());
    }

    #[test]
    fn near_popular_finds_the_issue_examples() {
        assert_eq!(near_popular("jinja22").map(|n| n.project), Some("jinja2"));
        assert_eq!(
            near_popular("pytorhc").map(|n| (n.name, n.project)),
            Some(("pytorch", "torch"))
        );
        assert_eq!(near_popular("jinja2"), None);
    }

    /// Measures TYP001 over a list of names, one a line (`PTHSCAN_NAMES=FILE cargo test -p
    /// pthscan-signatures --lib measure_names -- --ignored --nocapture`): prints each name that
    /// is near a popular one, and the count.
    #[test]
    #[ignore = "reads a name list from PTHSCAN_NAMES"]
    #[expect(clippy::print_stderr, reason = "a measurement prints what it found")]
    fn measure_names() {
        let path = std::env::var("PTHSCAN_NAMES").expect("PTHSCAN_NAMES names a file");
        let text = std::fs::read_to_string(&path).expect("name list readable");
        let p = Popular::embedded();
        let (mut total, mut hits) = (0, 0);
        for name in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            total += 1;
            if let Some(n) = p.near(name) {
                hits += 1;
                eprintln!("{name}\t{}\t{}\t{}", n.name, n.rank, n.kind);
            }
        }
        eprintln!(
            "{hits} of {total} names near a popular one ({} popular)",
            p.len()
        );
    }

    /// Leave-one-out over the list: each popular name judged against all the others, as an
    /// honest project just below the list's cut would be. Prints the pairs (`--ignored
    /// --nocapture`).
    #[test]
    #[ignore = "a measurement, prints honest near pairs"]
    #[expect(clippy::print_stderr, reason = "a measurement prints what it found")]
    fn measure_leave_one_out() {
        let lines: Vec<&str> = TOP_PYPI.lines().filter(|l| !l.starts_with('#')).collect();
        let mut hits = 0;
        for (i, line) in lines.iter().enumerate() {
            let rest: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, l)| *l)
                .collect();
            let p = Popular::parse(&rest.join("\n"), TYPOSQUAT_TOML).unwrap();
            let name = line.split('\t').next().unwrap_or_default();
            if let Some(n) = p.near(name) {
                hits += 1;
                eprintln!("{name}\t{}\t{}", n.name, n.kind);
            }
        }
        eprintln!("{hits} of {} popular names near another", lines.len());
    }
}
