//! Heuristic signals (`signatures/signals.toml`): literal sets matched with one Aho-Corasick
//! automaton, two measured shapes, and combinations that raise the severity further.

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};

use crate::{Severity, SignatureError};

/// Where the judged code runs, which decides how much a signal weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Runs at every interpreter start by itself: an executed `.pth` line, a sitecustomize,
    /// a usercustomize.
    Startup,
    /// A module a start-up hook imports: library code often spawns processes or talks HTTP.
    Module,
}

/// One signal or combination that fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignalHit {
    /// The signal's id.
    pub id: String,
    /// Its severity in the context it was judged in.
    pub severity: Severity,
    /// What matched (the literals, or the measurement).
    pub matched: String,
    /// Byte offset of the first match in the judged text.
    #[serde(skip)]
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Measure {
    LongLine,
    Base64Blob,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignal {
    id: String,
    severity: Severity,
    module_severity: Severity,
    description: String,
    reference: String,
    fix: crate::action::Fix,
    #[serde(default)]
    rotate: Vec<String>,
    #[serde(default)]
    all: Vec<Vec<String>>,
    measure: Option<Measure>,
    threshold: Option<usize>,
    positive: Vec<String>,
    negative: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCombination {
    id: String,
    all: Vec<String>,
    severity: Severity,
    module_severity: Severity,
    description: String,
    reference: String,
    fix: crate::action::Fix,
    #[serde(default)]
    rotate: Vec<String>,
    positive: Vec<String>,
    negative: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    signal: Vec<RawSignal>,
    combination: Vec<RawCombination>,
}

/// A signal or combination as documentation sees it.
#[derive(Debug)]
pub struct SignalDoc {
    /// Id.
    pub id: String,
    /// Severity in start-up code.
    pub severity: Severity,
    /// Severity in an imported module.
    pub module_severity: Severity,
    /// What it means.
    pub description: String,
    /// Where the knowledge comes from.
    pub reference: String,
    /// What to do about code that shows it.
    pub fix: crate::action::Fix,
    /// The credential classes code that shows it can read (to rotate).
    pub rotate: Vec<String>,
    /// Texts that must fire it.
    pub positive: Vec<String>,
    /// Texts that must not.
    pub negative: Vec<String>,
}

#[derive(Debug)]
enum Rule {
    Literals { groups: usize },
    Measure { measure: Measure, threshold: usize },
}

/// The compiled signals.
#[derive(Debug)]
pub struct Signals {
    docs: Vec<SignalDoc>,
    rules: Vec<Rule>,
    combinations: Vec<(usize, Vec<usize>)>,
    automaton: AhoCorasick,
    /// For each automaton pattern: (signal index, group index).
    owners: Vec<(usize, usize)>,
    /// For each automaton pattern: whether it was written `\\b…` — a name that counts only
    /// where it is not the tail of another name or an attribute (`eval(`, not `literal_eval(`
    /// or `re.compile(`).
    bounded: Vec<bool>,
}

impl Signals {
    /// Compiles the TOML table.
    pub fn from_toml(source: &str) -> Result<Signals, SignatureError> {
        let raw: RawFile = toml::from_str(source).map_err(|source| SignatureError::Parse {
            file: "signals.toml",
            source,
        })?;
        let mut docs: Vec<SignalDoc> = Vec::new();
        let mut rules = Vec::new();
        let mut patterns: Vec<String> = Vec::new();
        let mut owners = Vec::new();
        let mut bounded = Vec::new();
        let check =
            |docs: &[SignalDoc], id: &str, pos: &[String], neg: &[String], desc: &str, r: &str| {
                let invalid = |reason: &str| SignatureError::Invalid {
                    id: id.to_owned(),
                    reason: reason.to_owned(),
                };
                if docs.iter().any(|d| d.id == id) {
                    return Err(invalid("duplicate id"));
                }
                if pos.is_empty() || neg.is_empty() {
                    return Err(invalid(
                        "needs at least one positive and one negative example",
                    ));
                }
                if desc.trim().is_empty() || r.trim().is_empty() {
                    return Err(invalid("needs a description and a reference"));
                }
                Ok(())
            };
        for s in raw.signal {
            check(
                &docs,
                &s.id,
                &s.positive,
                &s.negative,
                &s.description,
                &s.reference,
            )?;
            let index = docs.len();
            let rule = match (s.measure, s.threshold, s.all.is_empty()) {
                (Some(measure), Some(threshold), true) => Rule::Measure { measure, threshold },
                (None, None, false) => {
                    for (g, group) in s.all.iter().enumerate() {
                        if group.is_empty() || group.iter().any(String::is_empty) {
                            return Err(SignatureError::Invalid {
                                id: s.id,
                                reason: "empty literal group".into(),
                            });
                        }
                        for literal in group {
                            match literal.strip_prefix("\\b") {
                                Some(name) => {
                                    patterns.push(name.to_owned());
                                    bounded.push(true);
                                }
                                None => {
                                    patterns.push(literal.clone());
                                    bounded.push(false);
                                }
                            }
                            owners.push((index, g));
                        }
                    }
                    Rule::Literals {
                        groups: s.all.len(),
                    }
                }
                _ => {
                    return Err(SignatureError::Invalid {
                        id: s.id,
                        reason: "needs either `all` literal groups or `measure` with `threshold`"
                            .into(),
                    });
                }
            };
            rules.push(rule);
            crate::action::check_rotate(&s.id, &s.rotate)?;
            docs.push(SignalDoc {
                id: s.id,
                severity: s.severity,
                module_severity: s.module_severity,
                description: s.description,
                reference: s.reference,
                fix: s.fix,
                rotate: s.rotate,
                positive: s.positive,
                negative: s.negative,
            });
        }
        let signal_count = docs.len();
        let mut combinations = Vec::new();
        for c in raw.combination {
            check(
                &docs,
                &c.id,
                &c.positive,
                &c.negative,
                &c.description,
                &c.reference,
            )?;
            let mut parts = Vec::new();
            for part in &c.all {
                match docs[..signal_count].iter().position(|d| &d.id == part) {
                    Some(i) => parts.push(i),
                    None => {
                        return Err(SignatureError::Invalid {
                            id: c.id,
                            reason: format!("unknown signal `{part}`"),
                        });
                    }
                }
            }
            combinations.push((docs.len(), parts));
            crate::action::check_rotate(&c.id, &c.rotate)?;
            docs.push(SignalDoc {
                id: c.id,
                severity: c.severity,
                module_severity: c.module_severity,
                description: c.description,
                reference: c.reference,
                fix: c.fix,
                rotate: c.rotate,
                positive: c.positive,
                negative: c.negative,
            });
        }
        let automaton = AhoCorasick::new(&patterns).map_err(|e| SignatureError::Invalid {
            id: "signals".into(),
            reason: e.to_string(),
        })?;
        Ok(Signals {
            docs,
            rules,
            combinations,
            automaton,
            owners,
            bounded,
        })
    }

    /// The ids of every signal and combination.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.docs.iter().map(|d| d.id.as_str())
    }

    /// Every signal and combination, for documentation and example tests.
    pub fn docs(&self) -> &[SignalDoc] {
        &self.docs
    }

    /// Judges `text` (source or raw bytes) and returns the signals that fired at `low` or
    /// above in `context`, most severe first.
    pub fn scan(&self, text: &[u8], context: Context) -> Vec<SignalHit> {
        // first match (start, end) of each (signal, group)
        let mut first: Vec<Vec<Option<(usize, usize)>>> = self
            .rules
            .iter()
            .map(|r| match r {
                Rule::Literals { groups } => vec![None; *groups],
                Rule::Measure { .. } => Vec::new(),
            })
            .collect();
        for m in self.automaton.find_overlapping_iter(text) {
            let pattern = m.pattern().as_usize();
            if self.bounded[pattern]
                && m.start() > 0
                && matches!(text[m.start() - 1], b'_' | b'.' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z')
            {
                continue;
            }
            let (signal, group) = self.owners[pattern];
            let slot = &mut first[signal][group];
            if slot.is_none() {
                *slot = Some((m.start(), m.end()));
            }
        }
        let mut fired: Vec<Option<(String, usize)>> = vec![None; self.docs.len()];
        for (i, rule) in self.rules.iter().enumerate() {
            fired[i] = match rule {
                Rule::Literals { .. } => {
                    let groups: Option<Vec<(usize, usize)>> = first[i].iter().copied().collect();
                    groups.map(|g| {
                        let offset = g.iter().map(|(o, _)| *o).min().unwrap_or(0);
                        let matched = g
                            .iter()
                            .map(|&(start, end)| String::from_utf8_lossy(&text[start..end]))
                            .collect::<Vec<_>>()
                            .join(" + ");
                        (matched, offset)
                    })
                }
                Rule::Measure { measure, threshold } => measure_shape(text, *measure, *threshold),
            };
        }
        for (index, parts) in &self.combinations {
            if parts.iter().all(|&p| fired[p].is_some()) {
                let offset = parts
                    .iter()
                    .filter_map(|&p| fired[p].as_ref().map(|f| f.1))
                    .min();
                let names: Vec<&str> = parts.iter().map(|&p| self.docs[p].id.as_str()).collect();
                fired[*index] = Some((names.join(" + "), offset.unwrap_or(0)));
            }
        }
        let mut hits: Vec<SignalHit> = fired
            .into_iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let (matched, offset) = f?;
                let doc = &self.docs[i];
                let severity = match context {
                    Context::Startup => doc.severity,
                    Context::Module => doc.module_severity,
                };
                (severity > Severity::Info).then(|| SignalHit {
                    id: doc.id.clone(),
                    severity,
                    matched,
                    offset,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.id.cmp(&b.id)));
        hits
    }
}

fn measure_shape(text: &[u8], measure: Measure, threshold: usize) -> Option<(String, usize)> {
    match measure {
        Measure::LongLine => {
            let mut offset = 0;
            let mut best: Option<(usize, usize)> = None;
            for line in text.split(|&b| b == b'\n') {
                let chars = String::from_utf8_lossy(line).chars().count();
                if chars > threshold && best.is_none_or(|(n, _)| chars > n) {
                    best = Some((chars, offset));
                }
                offset += line.len() + 1;
            }
            best.map(|(n, o)| (format!("a line of {n} characters"), o))
        }
        Measure::Base64Blob => {
            let mut best: Option<(usize, usize)> = None;
            let mut start = 0;
            let mut kinds = 0u8;
            for (i, &b) in text.iter().chain(std::iter::once(&b' ')).enumerate() {
                let kind = match b {
                    b'A'..=b'Z' => 1,
                    b'a'..=b'z' => 2,
                    b'0'..=b'9' => 4,
                    b'+' | b'/' | b'=' => 8,
                    _ => 0,
                };
                if kind == 0 {
                    let len = i - start;
                    // a real encoding mixes upper case, lower case and digits
                    if len >= threshold && kinds & 7 == 7 && best.is_none_or(|(n, _)| len > n) {
                        best = Some((len, start));
                    }
                    start = i + 1;
                    kinds = 0;
                } else {
                    kinds |= kind;
                }
            }
            best.map(|(n, o)| (format!("{n} base64 characters"), o))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SIGNALS_TOML, expand_example};

    fn signals() -> Signals {
        Signals::from_toml(SIGNALS_TOML).expect("signals.toml compiles")
    }

    #[test]
    fn every_signal_fires_on_its_positive_examples_and_not_on_its_negative_ones() {
        let s = signals();
        for doc in s.docs() {
            for p in &doc.positive {
                let hits = s.scan(expand_example(p).as_bytes(), Context::Startup);
                assert!(
                    hits.iter().any(|h| h.id == doc.id),
                    "{}: does not fire on: {p}",
                    doc.id
                );
            }
            for n in &doc.negative {
                let hits = s.scan(expand_example(n).as_bytes(), Context::Startup);
                assert!(
                    !hits.iter().any(|h| h.id == doc.id),
                    "{}: fires on: {n}",
                    doc.id
                );
            }
        }
    }

    #[test]
    fn litellm_shape_is_critical_and_names_what_matched() {
        let line = "import os, subprocess, sys; subprocess.Popen([sys.executable, \"-c\", \"import base64; exec(base64.b64decode('aW1wb3J0IHN1YnByb2Nlc3MKaW1wb3J0IHRlbXBmaWxl'))\"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)";
        let hits = signals().scan(line.as_bytes(), Context::Startup);
        assert_eq!(hits[0].severity, Severity::Critical);
        let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        assert!(ids.contains(&"spawn-decoded-interpreter"), "{ids:?}");
        let spawn = hits
            .iter()
            .find(|h| h.id == "spawn-interpreter")
            .expect("spawn-interpreter");
        assert_eq!(spawn.matched, "sys.executable + subprocess");
    }

    #[test]
    fn module_context_weighs_library_habits_lightly() {
        let s = signals();
        let meson = "import subprocess\nsubprocess.run(['ninja'], check=True)\n";
        assert!(s.scan(meson.as_bytes(), Context::Module).is_empty());
        assert_eq!(
            s.scan(meson.as_bytes(), Context::Startup)[0].severity,
            Severity::High
        );
    }

    #[test]
    fn base64_blob_needs_mixed_alphabet() {
        assert!(measure_shape("x".repeat(1000).as_bytes(), Measure::Base64Blob, 256).is_none());
        let blob = expand_example("'{{base64:300}}'");
        assert_eq!(
            measure_shape(blob.as_bytes(), Measure::Base64Blob, 256),
            Some(("300 base64 characters".into(), 1))
        );
    }

    #[test]
    fn combinations_must_name_known_signals() {
        let bad = "[[signal]]\nid = \"a\"\nseverity = \"low\"\nmodule_severity = \"low\"\ndescription = \"d\"\nreference = \"r\"\nall = [[\"x\"]]\npositive = [\"x\"]\nnegative = [\"y\"]\n[[combination]]\nid = \"c\"\nall = [\"a\", \"nope\"]\nseverity = \"high\"\nmodule_severity = \"high\"\ndescription = \"d\"\nreference = \"r\"\npositive = [\"x\"]\nnegative = [\"y\"]\n";
        assert!(Signals::from_toml(bad).is_err());
    }
}
