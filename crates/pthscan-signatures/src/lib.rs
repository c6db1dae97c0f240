//! pthscan's detection engine: known-good start-up hooks, heuristic signals, YARA-X payload
//! rules, IOC tables and the static decoder, read from `signatures/` at build time and compiled
//! once per run.
//!
//! The core never embeds detection data; it asks this crate. Every entry carries an id, a
//! severity, a description, a reference and positive and negative examples, which the tests of
//! this crate run.
#![deny(missing_docs)]

pub mod action;
pub mod behaviour;
pub mod decode;
pub mod ioc;
pub mod known_good;
pub mod payload;
pub mod popular;
pub mod rules;
mod severity;
mod signals;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use action::Fix;
pub use behaviour::{Behaviour, BehaviourHit, Behaviours};
pub use ioc::Iocs;
pub use known_good::{HookEntry, HookKind, KnownGood, LineVerdict};
pub use payload::{PayloadHit, PayloadScan, PayloadScanner, Role};
pub use rules::{PayloadRules, RuleInfo, RuleSource};
pub use severity::Severity;
pub use signals::{Context, SignalHit, Signals};

/// The embedded `signatures/known-good.toml`.
pub const KNOWN_GOOD_TOML: &str = include_str!("../../../signatures/known-good.toml");
/// The embedded `signatures/signals.toml`.
pub const SIGNALS_TOML: &str = include_str!("../../../signatures/signals.toml");
/// The embedded `signatures/ioc.toml`.
pub const IOC_TOML: &str = include_str!("../../../signatures/ioc.toml");

/// Every embedded signature file, by name, in a fixed order: what `pthscan --version`
/// digests to name the rule set a binary carries.
pub fn embedded_sources() -> Vec<(&'static str, &'static str)> {
    let mut out = vec![
        ("known-good.toml", KNOWN_GOOD_TOML),
        ("signals.toml", SIGNALS_TOML),
        ("ioc.toml", IOC_TOML),
        ("behaviours.toml", behaviour::BEHAVIOURS_TOML),
        ("typosquat.toml", popular::TYPOSQUAT_TOML),
        ("popular/top-pypi.txt", popular::TOP_PYPI),
    ];
    out.extend(rules::EMBEDDED_RULES.iter().copied());
    out
}

/// Signature data that could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SignatureError {
    /// A TOML file did not parse or did not have the expected fields.
    #[error("cannot parse `{file}`")]
    Parse {
        /// Which file.
        file: &'static str,
        /// Why.
        #[source]
        source: toml::de::Error,
    },
    /// An entry's regular expression did not compile.
    #[error("entry `{id}`: invalid regular expression")]
    Regex {
        /// The entry.
        id: String,
        /// Why.
        #[source]
        source: regex::Error,
    },
    /// A YARA-X rule did not compile, or lacks its metadata. `message` is the compiler's own.
    #[error("cannot compile rules from `{origin}`:\n{message}")]
    Rules {
        /// The file the rule came from.
        origin: String,
        /// The compiler's report.
        message: String,
    },
    /// A `--rules` directory or file could not be read.
    #[error("cannot read rules from `{}`: {reason}", path.display())]
    UserRules {
        /// The directory or file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// An entry is malformed (missing examples, duplicate id, unknown signal, …).
    #[error("entry `{id}`: {reason}")]
    Invalid {
        /// The entry.
        id: String,
        /// What is wrong.
        reason: String,
    },
}

/// All detection data, compiled.
#[derive(Debug)]
pub struct Signatures {
    /// Known-good hooks.
    pub known_good: KnownGood,
    /// Heuristic signals and their combinations.
    pub signals: Signals,
    /// IOC tables.
    pub iocs: Iocs,
    /// YARA-X payload rules (embedded, IOC-generated, and the user's).
    pub payload: PayloadRules,
    /// Behaviour rules over the facts of code.
    pub behaviours: Behaviours,
}

impl Signatures {
    /// Compiles the embedded signatures plus every rule file under `user_rule_dirs`.
    pub fn load(user_rule_dirs: &[PathBuf]) -> Result<Signatures, SignatureError> {
        Self::with_payload(user_rule_dirs, PayloadRules::compile)
    }

    /// The signatures embedded in this build, loaded on first use; their payload rules compile
    /// in the background from then on ([`PayloadRules::compile_in_background`]: a scan walks
    /// and checks meanwhile, and asks [`PayloadRules::error`] before it reports).
    pub fn embedded() -> Result<&'static Signatures, &'static SignatureError> {
        static EMBEDDED: OnceLock<Result<Signatures, SignatureError>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                Self::with_payload(&[], |sources| {
                    Ok(PayloadRules::compile_in_background(sources))
                })
            })
            .as_ref()
    }

    /// The tables, and the payload rules `payload` makes of the embedded rules, the IOC
    /// network rules and the rule files under `user_rule_dirs`.
    fn with_payload(
        user_rule_dirs: &[PathBuf],
        payload: impl FnOnce(&[RuleSource]) -> Result<PayloadRules, SignatureError>,
    ) -> Result<Signatures, SignatureError> {
        let iocs = Iocs::from_toml(IOC_TOML)?;
        let mut sources = RuleSource::embedded(iocs.network_rules());
        for dir in user_rule_dirs {
            sources.extend(user_sources(dir)?);
        }
        Ok(Signatures {
            known_good: KnownGood::from_toml(KNOWN_GOOD_TOML)?,
            signals: Signals::from_toml(SIGNALS_TOML)?,
            behaviours: Behaviours::from_toml(behaviour::BEHAVIOURS_TOML)?,
            payload: payload(&sources)?,
            iocs,
        })
    }
}

/// A `--rules` argument: a directory of rule files, or one rule file.
fn user_sources(path: &Path) -> Result<Vec<RuleSource>, SignatureError> {
    if path.is_dir() {
        return RuleSource::from_dir(path);
    }
    let text = std::fs::read_to_string(path).map_err(|e| SignatureError::UserRules {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(vec![RuleSource {
        origin: path.display().to_string(),
        family: "user".into(),
        text,
        user: true,
    }])
}

/// Expands the placeholders examples use for long inputs: `{{x:N}}` is N letters `x`,
/// `{{base64:N}}` is N base64 characters.
pub fn expand_example(example: &str) -> String {
    let mut out = String::new();
    let mut rest = example;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let spec = &rest[start + 2..start + len];
        match spec.split_once(':').map(|(k, n)| (k, n.parse::<usize>())) {
            Some(("x", Ok(n))) => out.push_str(&"x".repeat(n)),
            Some(("base64", Ok(n))) => {
                out.extend("aW1wb3J0IG9zOyBwcmludCgxMjMp".chars().cycle().take(n))
            }
            _ => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_signatures_compile() {
        let s = Signatures::embedded().expect("embedded signatures load");
        assert!(s.payload.error().is_none(), "{:?}", s.payload.error());
        assert!(s.payload.all().len() >= 40);
        assert!(s.known_good.entries().len() >= 10);
        assert!(s.signals.ids().count() >= 10);
    }

    #[test]
    fn example_placeholders_expand() {
        assert_eq!(expand_example("a{{x:3}}b"), "axxxb");
        assert_eq!(expand_example("{{base64:5}}"), "aW1wb");
        assert_eq!(expand_example("{{nope}}"), "{{nope}}");
    }
}
