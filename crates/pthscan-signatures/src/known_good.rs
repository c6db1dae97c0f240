//! Known-good start-up hooks (`signatures/known-good.toml`), matched by content.

use regex::Regex;
use serde::Deserialize;

use crate::SignatureError;

/// What a known-good entry describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookKind {
    /// One executable `.pth` line.
    PthLine,
    /// A whole `sitecustomize`/`usercustomize` source.
    Customize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    kind: HookKind,
    names: Vec<String>,
    description: String,
    reference: String,
    exact: Option<String>,
    regex: Option<String>,
    #[serde(default)]
    same: Vec<String>,
    positive: Vec<String>,
    negative: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    hook: Vec<RawEntry>,
    #[serde(default)]
    no_hooks: Vec<NoHooks>,
}

/// Distributions that ship no start-up hook: a RECORD of one of them that lists a `.pth`,
/// `.start` or customize module means the distribution was rebuilt by someone else.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoHooks {
    /// Stable id (the finding's evidence names it).
    pub id: String,
    /// Normalised distribution names (PEP 503: lower case, `-` for runs of `-_.`).
    pub packages: Vec<String>,
    /// Why they are listed.
    pub description: String,
    /// Where the knowledge comes from.
    pub reference: String,
    /// `dist:file` pairs that must be flagged.
    pub positive: Vec<String>,
    /// `dist:file` pairs that must not be.
    pub negative: Vec<String>,
}

#[derive(Debug)]
enum Matcher {
    Exact(String),
    Regex { regex: Regex, same: Vec<String> },
}

/// One known-good hook shape.
#[derive(Debug)]
pub struct HookEntry {
    /// Stable id, e.g. `setuptools-distutils-precedence`.
    pub id: String,
    /// What it matches.
    pub kind: HookKind,
    /// File names its producer writes (`*` is a wildcard).
    pub names: Vec<String>,
    /// What the hook is for.
    pub description: String,
    /// Where its content comes from.
    pub reference: String,
    /// Texts it must match.
    pub positive: Vec<String>,
    /// Texts it must not match.
    pub negative: Vec<String>,
    matcher: Matcher,
}

impl HookEntry {
    /// Whether `text` (a stripped `.pth` line, or a whole customize source) is this hook.
    pub fn matches(&self, text: &str) -> bool {
        match &self.matcher {
            Matcher::Exact(exact) => text == exact,
            Matcher::Regex { regex, same } => regex.captures(text).is_some_and(|caps| {
                let mut values = same.iter().map(|name| caps.name(name).map(|m| m.as_str()));
                let first = values.next().flatten();
                values.all(|v| v == first)
            }),
        }
    }

    /// Whether its producer writes files named `file_name`.
    pub fn claims_name(&self, file_name: &str) -> bool {
        self.names
            .iter()
            .any(|pattern| glob_match(pattern, file_name))
    }
}

/// The verdict on one executable `.pth` line.
#[derive(Debug, Clone, Copy)]
pub enum LineVerdict<'a> {
    /// A known-good hook.
    Known(&'a HookEntry),
    /// The file bears a known hook's name but this line is not that hook.
    TamperedKnown(&'a HookEntry),
    /// Not a known hook.
    Unknown,
}

/// The known-good table.
#[derive(Debug)]
pub struct KnownGood {
    entries: Vec<HookEntry>,
    no_hooks: Vec<NoHooks>,
}

impl KnownGood {
    /// Compiles the TOML table.
    pub fn from_toml(source: &str) -> Result<KnownGood, SignatureError> {
        let raw: RawFile = toml::from_str(source).map_err(|source| SignatureError::Parse {
            file: "known-good.toml",
            source,
        })?;
        let mut entries: Vec<HookEntry> = Vec::new();
        for e in raw.hook {
            let invalid = |reason: &str| SignatureError::Invalid {
                id: e.id.clone(),
                reason: reason.to_owned(),
            };
            if entries.iter().any(|x| x.id == e.id) {
                return Err(invalid("duplicate id"));
            }
            if e.positive.is_empty() || e.negative.is_empty() {
                return Err(invalid(
                    "needs at least one positive and one negative example",
                ));
            }
            if e.description.trim().is_empty() || e.reference.trim().is_empty() {
                return Err(invalid("needs a description and a reference"));
            }
            let matcher = match (e.exact, e.regex) {
                (Some(exact), None) => Matcher::Exact(exact),
                (None, Some(pattern)) => {
                    let regex = Regex::new(&format!("^(?:{pattern})$")).map_err(|source| {
                        SignatureError::Regex {
                            id: e.id.clone(),
                            source,
                        }
                    })?;
                    if let Some(missing) = e
                        .same
                        .iter()
                        .find(|n| !regex.capture_names().any(|c| c == Some(n.as_str())))
                    {
                        return Err(invalid(&format!("`same` names unknown group `{missing}`")));
                    }
                    Matcher::Regex {
                        regex,
                        same: e.same,
                    }
                }
                _ => return Err(invalid("needs exactly one of `exact` and `regex`")),
            };
            entries.push(HookEntry {
                id: e.id,
                kind: e.kind,
                names: e.names,
                description: e.description,
                reference: e.reference,
                positive: e.positive,
                negative: e.negative,
                matcher,
            });
        }
        for n in &raw.no_hooks {
            if n.positive.is_empty() || n.negative.is_empty() {
                return Err(SignatureError::Invalid {
                    id: n.id.clone(),
                    reason: "needs positive and negative examples".into(),
                });
            }
        }
        Ok(KnownGood {
            entries,
            no_hooks: raw.no_hooks,
        })
    }

    /// Every entry.
    /// The entry that says `dist` ships no start-up hook, if one does; `file` is the hook its
    /// RECORD lists (a `.pth`, `.start` or customize module).
    pub fn ships_no_hooks(&self, dist: &str, file: &str) -> Option<&NoHooks> {
        let is_hook = file.ends_with(".pth")
            || file.ends_with(".start")
            || file.starts_with("sitecustomize")
            || file.starts_with("usercustomize");
        if !is_hook {
            return None;
        }
        let name = pthscan_db::normalize(dist);
        self.no_hooks.iter().find(|n| n.packages.contains(&name))
    }

    /// The "ships no hooks" tables.
    pub fn no_hooks(&self) -> &[NoHooks] {
        &self.no_hooks
    }

    /// The entries.
    pub fn entries(&self) -> &[HookEntry] {
        &self.entries
    }

    /// Judges one executable line of the `.pth` file `file_name`. If an entry claims the file
    /// name, only that entry's shapes count: `distutils-precedence.pth` must hold setuptools'
    /// line and nothing else.
    pub fn judge_pth_line(&self, file_name: &str, line: &str) -> LineVerdict<'_> {
        let pth = || self.entries.iter().filter(|e| e.kind == HookKind::PthLine);
        let claimants: Vec<&HookEntry> = pth().filter(|e| e.claims_name(file_name)).collect();
        if let Some(first) = claimants.first() {
            return match claimants.iter().find(|e| e.matches(line)) {
                Some(entry) => LineVerdict::Known(entry),
                None => LineVerdict::TamperedKnown(first),
            };
        }
        match pth().find(|e| e.matches(line)) {
            Some(entry) => LineVerdict::Known(entry),
            None => LineVerdict::Unknown,
        }
    }

    /// The known-good customize module `source` is, if any.
    pub fn judge_customize(&self, source: &str) -> Option<&HookEntry> {
        self.entries
            .iter()
            .filter(|e| e.kind == HookKind::Customize)
            .find(|e| e.matches(source))
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            if !tail.contains('*') {
                return rest.len() >= tail.len() && rest.ends_with(tail);
            }
            (0..=rest.len())
                .filter(|&i| rest.is_char_boundary(i))
                .any(|i| glob_match(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KNOWN_GOOD_TOML, expand_example};

    #[test]
    fn no_hooks_tables_flag_their_examples() {
        let t = table();
        assert!(!t.no_hooks().is_empty());
        for n in t.no_hooks() {
            for p in &n.positive {
                let (dist, file) = p.split_once(':').expect("dist:file");
                assert!(t.ships_no_hooks(dist, file).is_some(), "{}: {p}", n.id);
            }
            for p in &n.negative {
                let (dist, file) = p.split_once(':').expect("dist:file");
                assert!(t.ships_no_hooks(dist, file).is_none(), "{}: {p}", n.id);
            }
        }
    }

    fn table() -> KnownGood {
        KnownGood::from_toml(KNOWN_GOOD_TOML).expect("known-good.toml compiles")
    }

    #[test]
    fn every_entry_matches_its_positive_examples_and_no_negative_one() {
        for e in table().entries() {
            for p in &e.positive {
                assert!(
                    e.matches(&expand_example(p)),
                    "{}: positive example does not match: {p}",
                    e.id
                );
            }
            for n in &e.negative {
                assert!(
                    !e.matches(&expand_example(n)),
                    "{}: negative example matches: {n}",
                    e.id
                );
            }
        }
    }

    #[test]
    fn no_negative_example_is_known_good_under_any_entry_of_its_kind() {
        let t = table();
        for e in t.entries().iter().filter(|e| e.kind == HookKind::PthLine) {
            for n in &e.negative {
                assert!(
                    matches!(t.judge_pth_line("unrelated.pth", n), LineVerdict::Unknown),
                    "{}: negative example is known-good elsewhere: {n}",
                    e.id
                );
            }
        }
    }

    #[test]
    fn a_known_name_with_other_content_is_tampered() {
        let t = table();
        assert!(matches!(
            t.judge_pth_line("distutils-precedence.pth", "import _virtualenv"),
            LineVerdict::TamperedKnown(e) if e.id == "setuptools-distutils-precedence"
        ));
        assert!(matches!(
            t.judge_pth_line("anything.pth", "import _virtualenv"),
            LineVerdict::Known(e) if e.id == "virtualenv-distutils-patch"
        ));
        assert!(matches!(
            t.judge_pth_line("google-nspkg.pth", "import os"),
            LineVerdict::TamperedKnown(_)
        ));
    }

    #[test]
    fn malformed_tables_are_rejected() {
        let base = "[[hook]]\nid = \"a\"\nkind = \"pth-line\"\nnames = []\ndescription = \"d\"\nreference = \"r\"\n";
        let no_examples =
            format!("{base}exact = \"import a\"\npositive = []\nnegative = [\"x\"]\n");
        assert!(KnownGood::from_toml(&no_examples).is_err());
        let both =
            format!("{base}exact = \"a\"\nregex = \"a\"\npositive = [\"a\"]\nnegative = [\"x\"]\n");
        assert!(KnownGood::from_toml(&both).is_err());
        let good =
            format!("{base}exact = \"import a\"\npositive = [\"import a\"]\nnegative = [\"x\"]\n");
        let dup = format!("{good}{good}");
        assert!(KnownGood::from_toml(&good).is_ok());
        assert!(
            matches!(KnownGood::from_toml(&dup), Err(SignatureError::Invalid { reason, .. }) if reason == "duplicate id")
        );
    }

    #[test]
    fn globs() {
        assert!(glob_match(
            "*-nspkg.pth",
            "google_api_core-1.34.1-py3.9-nspkg.pth"
        ));
        assert!(glob_match(
            "__editable__.*.pth",
            "__editable__.demo-0.1.pth"
        ));
        assert!(!glob_match("__editable__.*.pth", "__editable__.pth.bak"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a", "ab"));
    }
}
