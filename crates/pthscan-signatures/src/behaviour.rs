//! Behaviour rules: what code does, judged on the facts `pthscan-analysis` derives from its
//! syntax tree (or its bytecode) — data from a source reaching a sink ("a network read flows
//! into exec"), or a sink call whose folded data says what it runs ("a process fetching with
//! curl"). Read from `signatures/behaviours.toml`; every rule's positive examples must fire and
//! its negative ones must not (`cargo test -p pthscan-signatures`).

use pthscan_analysis::{Analysis, Sink, Source, Span};
use serde::Deserialize;

use crate::{Role, Severity, SignatureError};

/// The embedded `signatures/behaviours.toml`.
pub const BEHAVIOURS_TOML: &str = include_str!("../../../signatures/behaviours.toml");

/// One behaviour rule.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Its id (`flow-network-exec`).
    pub id: String,
    /// Severity in code that runs by itself: start-up and install hooks, what they import.
    pub severity: Severity,
    /// Severity in any other module (`--deep`).
    pub module_severity: Severity,
    /// What it means.
    pub description: String,
    /// Where the behaviour is documented.
    pub reference: String,
    /// What to do about a finding.
    pub fix: crate::action::Fix,
    /// The credential classes code that does this can read (to rotate).
    pub rotate: Vec<String>,
    from: Vec<Source>,
    to: Vec<Sink>,
    seen: Vec<Source>,
    text_any: Vec<String>,
    text_also: Vec<String>,
    text_none: Vec<String>,
    name_any: Vec<String>,
    constant: bool,
    channel: bool,
    /// Code that must fire it.
    pub positive: Vec<String>,
    /// Code that must not.
    pub negative: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    id: String,
    severity: Severity,
    module_severity: Severity,
    description: String,
    reference: String,
    fix: crate::action::Fix,
    #[serde(default)]
    rotate: Vec<String>,
    #[serde(default)]
    from: Vec<String>,
    to: Vec<String>,
    #[serde(default)]
    seen: Vec<String>,
    #[serde(default)]
    text_any: Vec<String>,
    #[serde(default)]
    text_also: Vec<String>,
    #[serde(default)]
    text_none: Vec<String>,
    #[serde(default)]
    name_any: Vec<String>,
    #[serde(default)]
    constant: bool,
    #[serde(default)]
    channel: bool,
    positive: Vec<String>,
    negative: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    behaviour: Vec<Raw>,
}

/// A rule that fired, with its evidence.
#[derive(Debug, Clone)]
pub struct BehaviourHit<'r> {
    /// The rule.
    pub rule: &'r Behaviour,
    /// Where it fired (the sink call).
    pub at: Span,
    /// Where the data came from, for a flow.
    pub from: Option<Span>,
    /// One line: `line 3 \`requests.get(u)\` → line 6 \`exec(p)\``.
    pub evidence: String,
    /// Whether it happens when the module is imported (module level, or a function called
    /// there), not only when some function is called.
    pub top_level: bool,
}

impl BehaviourHit<'_> {
    /// The severity for code of this role.
    pub fn severity(&self, role: Role) -> Severity {
        match role {
            Role::Startup | Role::Install => self.rule.severity,
            // a module's import-time code runs on `import`, as a hook's does
            Role::Other if self.top_level => self.rule.severity,
            Role::Other => self.rule.module_severity,
        }
    }
}

fn lower(texts: &[String]) -> Vec<String> {
    texts.iter().map(|t| t.to_ascii_lowercase()).collect()
}

/// The behaviour rules.
#[derive(Debug)]
pub struct Behaviours {
    rules: Vec<Behaviour>,
}

impl Behaviours {
    /// Reads and checks rules.
    pub fn from_toml(text: &str) -> Result<Behaviours, SignatureError> {
        let file: File = toml::from_str(text).map_err(|source| SignatureError::Parse {
            file: "behaviours.toml",
            source,
        })?;
        let mut rules: Vec<Behaviour> = Vec::new();
        for raw in file.behaviour {
            let invalid = |reason: String| SignatureError::Invalid {
                id: raw.id.clone(),
                reason,
            };
            let sources = |names: &[String]| {
                names
                    .iter()
                    .map(|n| {
                        Source::parse(n).ok_or_else(|| invalid(format!("unknown source `{n}`")))
                    })
                    .collect::<Result<Vec<_>, _>>()
            };
            let from = sources(&raw.from)?;
            let seen = sources(&raw.seen)?;
            let to = raw
                .to
                .iter()
                .map(|n| Sink::parse(n).ok_or_else(|| invalid(format!("unknown sink `{n}`"))))
                .collect::<Result<Vec<_>, _>>()?;
            if to.is_empty() {
                return Err(invalid("`to` names no sink".into()));
            }
            if raw.positive.is_empty() || raw.negative.is_empty() {
                return Err(invalid(
                    "positive and negative examples are required".into(),
                ));
            }
            if !raw.from.is_empty()
                && !(raw.text_any.is_empty()
                    && raw.text_also.is_empty()
                    && raw.text_none.is_empty()
                    && raw.name_any.is_empty()
                    && raw.seen.is_empty()
                    && !raw.constant
                    && !raw.channel)
            {
                return Err(invalid(
                    "a flow rule (`from`) takes no call conditions".into(),
                ));
            }
            if rules.iter().any(|r| r.id == raw.id) {
                return Err(invalid("duplicate id".into()));
            }
            crate::action::check_rotate(&raw.id, &raw.rotate)?;
            rules.push(Behaviour {
                id: raw.id.clone(),
                severity: raw.severity,
                module_severity: raw.module_severity,
                description: raw.description,
                reference: raw.reference,
                fix: raw.fix,
                rotate: raw.rotate,
                from,
                to,
                seen,
                text_any: lower(&raw.text_any),
                text_also: lower(&raw.text_also),
                text_none: lower(&raw.text_none),
                name_any: raw.name_any,
                constant: raw.constant,
                channel: raw.channel,
                positive: raw.positive,
                negative: raw.negative,
            });
        }
        Ok(Behaviours { rules })
    }

    /// The rules.
    pub fn rules(&self) -> &[Behaviour] {
        &self.rules
    }

    /// The rules that fire on a file's facts: one hit per rule, at its first place.
    pub fn judge<'r>(&'r self, facts: &Analysis) -> Vec<BehaviourHit<'r>> {
        let mut hits = Vec::new();
        for rule in &self.rules {
            if let Some(hit) = rule.fires(facts) {
                hits.push(hit);
            }
        }
        hits
    }
}

impl Behaviour {
    fn fires(&self, facts: &Analysis) -> Option<BehaviourHit<'_>> {
        if !self.from.is_empty() {
            let matching = |f: &&pthscan_analysis::Flow| {
                self.from.contains(&f.source) && self.to.contains(&f.sink)
            };
            // an import-time place first: it decides the severity in a module
            let flow = facts
                .flows
                .iter()
                .filter(matching)
                .find(|f| f.top_level)
                .or_else(|| facts.flows.iter().find(matching))?;
            return Some(BehaviourHit {
                rule: self,
                at: flow.to.clone(),
                from: Some(flow.from.clone()),
                evidence: format!("{} → {}", flow.from, flow.to),
                top_level: flow.top_level,
            });
        }
        if !self.seen.is_empty()
            && !self
                .seen
                .iter()
                .all(|s| facts.seen.iter().any(|(seen, _)| seen == s))
        {
            return None;
        }
        let matching = |c: &&pthscan_analysis::CallFact| {
            let text = c.text.to_ascii_lowercase();
            self.to.contains(&c.sink)
                && (!self.constant || c.constant)
                && (self.text_any.is_empty() || self.text_any.iter().any(|t| text.contains(t)))
                && (self.text_also.is_empty() || self.text_also.iter().any(|t| text.contains(t)))
                && !self.text_none.iter().any(|t| text.contains(t))
                && (!self.channel || pthscan_analysis::names::is_exfil_channel(&text))
                && (self.name_any.is_empty()
                    || self
                        .name_any
                        .iter()
                        .any(|n| c.name == *n || c.name.ends_with(&format!(".{n}"))))
        };
        let call = facts
            .calls
            .iter()
            .filter(matching)
            .find(|c| c.top_level)
            .or_else(|| facts.calls.iter().find(matching))?;
        let shown: String = call.text.chars().take(80).collect();
        Some(BehaviourHit {
            rule: self,
            at: call.at.clone(),
            from: None,
            evidence: if shown.is_empty() {
                call.at.to_string()
            } else {
                format!("{} (runs/writes: {shown})", call.at)
            },
            // a co-occurrence in one file is not one place: it never takes import-time severity
            top_level: call.top_level && self.seen.is_empty(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_fires_on_its_positives_and_not_on_its_negatives() {
        let rules = Behaviours::from_toml(BEHAVIOURS_TOML).expect("behaviours.toml loads");
        assert!(rules.rules().len() >= 8);
        for rule in rules.rules() {
            for example in &rule.positive {
                let facts = pthscan_analysis::analyse(example);
                assert!(
                    rules.judge(&facts).iter().any(|h| h.rule.id == rule.id),
                    "{}: positive example did not fire:\n{example}\n{facts:#?}",
                    rule.id
                );
            }
            for example in &rule.negative {
                let facts = pthscan_analysis::analyse(example);
                assert!(
                    !rules.judge(&facts).iter().any(|h| h.rule.id == rule.id),
                    "{}: negative example fired:\n{example}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn malformed_rules_are_refused() {
        let no_examples = "[[behaviour]]\nid='x'\nseverity='high'\nmodule_severity='high'\ndescription='d'\nreference='r'\nto=['exec']\npositive=[]\nnegative=[]\n";
        assert!(Behaviours::from_toml(no_examples).is_err());
        let bad_sink = no_examples
            .replace("['exec']", "['nowhere']")
            .replace("positive=[]", "positive=['x']")
            .replace("negative=[]", "negative=['y']");
        assert!(Behaviours::from_toml(&bad_sink).is_err());
    }
}
