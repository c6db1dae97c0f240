//! Payload rules: the YARA-X rules under `signatures/rules/`, the network IOCs of
//! `signatures/ioc.toml` turned into rules, and any user rules (`--rules DIR`), compiled once
//! into one rule set that every worker shares.
//!
//! Rules see three facts measured in Rust as globals, so that no rule needs a regular
//! expression without a literal to anchor on:
//! - `pthscan_layer_depth`: 0 for the file, 1 for a layer decoded from it, and so on;
//! - `pthscan_longest_b64`: the longest run of base64 characters in the scanned bytes;
//! - `pthscan_startup_hook`: whether the file runs at interpreter start (a hook, or a module a
//!   hook imports);
//! - `pthscan_install_hook`: whether the file runs when the package is installed or built (an
//!   sdist's `setup.py`);
//! - `pthscan_code`: whether the bytes are code (Python source or bytecode, a shell or batch
//!   script, a decoded layer) rather than data.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::{Severity, SignatureError};

/// Global: decoding depth of the scanned bytes.
pub const GLOBAL_LAYER_DEPTH: &str = "pthscan_layer_depth";
/// Global: longest base64 run in the scanned bytes.
pub const GLOBAL_LONGEST_B64: &str = "pthscan_longest_b64";
/// Global: the file runs at interpreter start.
pub const GLOBAL_STARTUP_HOOK: &str = "pthscan_startup_hook";
/// Global: the file runs at install or build time (an sdist's `setup.py`).
pub const GLOBAL_INSTALL_HOOK: &str = "pthscan_install_hook";
/// Global: the bytes are code (Python source or bytecode, a script, a decoded layer), not data
/// or an asset that merely names APIs.
pub const GLOBAL_CODE: &str = "pthscan_code";

/// The embedded rule files, in compile order (`common.yar` holds private helper rules the
/// others use).
pub const EMBEDDED_RULES: &[(&str, &str)] = &[
    (
        "common",
        include_str!("../../../signatures/rules/common.yar"),
    ),
    (
        "credentials",
        include_str!("../../../signatures/rules/credentials.yar"),
    ),
    (
        "exfiltration",
        include_str!("../../../signatures/rules/exfiltration.yar"),
    ),
    (
        "install",
        include_str!("../../../signatures/rules/install.yar"),
    ),
    (
        "obfuscation",
        include_str!("../../../signatures/rules/obfuscation.yar"),
    ),
    (
        "persistence",
        include_str!("../../../signatures/rules/persistence.yar"),
    ),
    (
        "dropper",
        include_str!("../../../signatures/rules/dropper.yar"),
    ),
    (
        "kubernetes",
        include_str!("../../../signatures/rules/kubernetes.yar"),
    ),
    (
        "teampcp",
        include_str!("../../../signatures/rules/teampcp.yar"),
    ),
];

/// What a rule says about itself (its `meta:` section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    /// Stable id (`cred-ssh-keys`); for user rules without one, the rule identifier.
    pub id: String,
    /// Severity of a match.
    pub severity: Severity,
    /// One line: what the match means.
    pub description: String,
    /// Where the knowledge comes from.
    pub reference: String,
    /// What to do about a match (a user rule without one: review).
    pub fix: crate::action::Fix,
    /// The credential classes the code it finds reads (to rotate).
    pub rotate: Vec<String>,
    /// The private helper rules its condition names, directly or through other helpers, in
    /// the order written: where a rule without strings of its own matched is where they did.
    pub helpers: Vec<String>,
    /// The rule family (the embedded file's name, `ioc`, or `user`).
    pub family: String,
    /// Where the rule was written (`signatures/rules/credentials.yar`, a user file).
    pub origin: String,
}

/// Compiled payload rules and their metadata, as two rule sets: every rule for code, and for
/// other files only the rules that hold anywhere (`scope = "any-file"`, the IOCs, the user's).
/// Fewer patterns keep the scan of bulky non-code files (extension modules, web assets) fast.
pub struct PayloadRules {
    code: Deferred,
    data: Deferred,
}

/// One compiled set and its rules' metadata.
pub struct RuleSet {
    rules: yara_x::Rules,
    /// By (namespace, YARA rule identifier).
    info: HashMap<(String, String), RuleInfo>,
}

/// A rule set compiled where first needed, or on a thread of its own started early: a default
/// scan needs its code rules only once it has read start-up code, and its data rules never.
struct Deferred {
    sources: Arc<[RuleSource]>,
    helpers_everywhere: bool,
    cell: Arc<OnceLock<Result<RuleSet, SignatureError>>>,
}

impl Deferred {
    fn new(sources: Vec<RuleSource>, helpers_everywhere: bool) -> Deferred {
        Deferred {
            sources: sources.into(),
            helpers_everywhere,
            cell: Arc::default(),
        }
    }

    /// The set, compiled by this call or waited for if another thread is compiling it (a
    /// compiler that panicked leaves the cell empty, and this call compiles it again).
    fn get(&self) -> Result<&RuleSet, &SignatureError> {
        self.cell
            .get_or_init(|| RuleSet::compile(&self.sources, self.helpers_everywhere))
            .as_ref()
    }

    /// Starts compiling on a thread of its own.
    fn start(&self) {
        let (sources, cell) = (Arc::clone(&self.sources), Arc::clone(&self.cell));
        let helpers = self.helpers_everywhere;
        std::thread::spawn(move || {
            cell.get_or_init(|| RuleSet::compile(&sources, helpers));
        });
    }
}

impl std::fmt::Debug for PayloadRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // how many rules each set has, once compiled
        let count = |d: &Deferred| {
            d.cell
                .get()
                .and_then(|r| r.as_ref().ok())
                .map(|s| s.info.len())
        };
        f.debug_struct("PayloadRules")
            .field("code_rules", &count(&self.code))
            .field("data_rules", &count(&self.data))
            .finish()
    }
}

/// One source of rules to compile.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// Where it came from, for messages.
    pub origin: String,
    /// The family its rules belong to.
    pub family: String,
    /// YARA-X source text.
    pub text: String,
    /// Written by the user: missing metadata gets defaults instead of failing.
    pub user: bool,
}

impl RuleSource {
    /// The embedded rules, then the rules generated from the network IOCs.
    pub fn embedded(ioc_rules: String) -> Vec<RuleSource> {
        let mut out: Vec<RuleSource> = EMBEDDED_RULES
            .iter()
            .map(|(family, text)| RuleSource {
                origin: format!("signatures/rules/{family}.yar"),
                family: (*family).to_owned(),
                text: (*text).to_owned(),
                user: false,
            })
            .collect();
        out.push(RuleSource {
            origin: "signatures/ioc.toml".into(),
            family: "ioc".into(),
            text: ioc_rules,
            user: false,
        });
        out
    }

    /// Every `*.yar` and `*.yara` file under `dir`, in path order.
    pub fn from_dir(dir: &Path) -> Result<Vec<RuleSource>, SignatureError> {
        let mut files = Vec::new();
        collect_rule_files(dir, &mut files, 0)?;
        files.sort();
        if files.is_empty() {
            return Err(SignatureError::UserRules {
                path: dir.to_path_buf(),
                reason: "holds no *.yar or *.yara file".into(),
            });
        }
        files
            .into_iter()
            .map(|path| {
                let text =
                    std::fs::read_to_string(&path).map_err(|e| SignatureError::UserRules {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                Ok(RuleSource {
                    origin: path.display().to_string(),
                    family: "user".into(),
                    text,
                    user: true,
                })
            })
            .collect()
    }
}

fn collect_rule_files(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    depth: usize,
) -> Result<(), SignatureError> {
    let entries = std::fs::read_dir(dir).map_err(|e| SignatureError::UserRules {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < 8 {
            collect_rule_files(&path, out, depth + 1)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "yar" || e == "yara") {
            out.push(path);
        }
    }
    Ok(())
}

impl PayloadRules {
    /// Compiles `sources` into the code and data rule sets, side by side. Embedded rules must
    /// anchor every pattern on a literal (a slow pattern is an error) and carry complete
    /// metadata.
    pub fn compile(sources: &[RuleSource]) -> Result<PayloadRules, SignatureError> {
        let rules = Self::deferred(sources);
        rules.data.start();
        rules.code.get().map_err(Clone::clone)?;
        rules.data.get().map_err(Clone::clone)?;
        Ok(rules)
    }

    /// The two sets of `sources`, the code rules compiling on a thread of their own from now
    /// on, the data rules where first needed: a scan walks and checks its trees meanwhile.
    /// What cannot be compiled leaves a set without rules and is told by
    /// [`PayloadRules::error`].
    pub fn compile_in_background(sources: &[RuleSource]) -> PayloadRules {
        let rules = Self::deferred(sources);
        rules.code.start();
        rules
    }

    fn deferred(sources: &[RuleSource]) -> PayloadRules {
        let data_sources: Vec<RuleSource> = sources
            .iter()
            .map(|s| RuleSource {
                text: if s.user || s.family == "ioc" {
                    s.text.clone()
                } else {
                    any_file_rules(&s.text)
                },
                ..s.clone()
            })
            .collect();
        PayloadRules {
            code: Deferred::new(sources.to_vec(), true),
            data: Deferred::new(data_sources, false),
        }
    }

    /// The set for code files, or for other files (compiled now if no one has yet; without
    /// rules if it does not compile).
    pub fn set(&self, code: bool) -> &RuleSet {
        let set = if code { &self.code } else { &self.data };
        set.get().unwrap_or_else(|_| RuleSet::empty())
    }

    /// Why a set used so far did not compile (the code set is waited for).
    pub fn error(&self) -> Option<&SignatureError> {
        let data = self.data.cell.get().and_then(|r| r.as_ref().err());
        self.code.get().err().or(data)
    }

    /// Every public rule's metadata, by id.
    pub fn all(&self) -> Vec<&RuleInfo> {
        let mut all: Vec<&RuleInfo> = self.set(true).info.values().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all
    }
}

/// The rules of one of our files that carry `scope = "any-file"` (each rule starts a line with
/// `rule `; the files are written that way).
fn any_file_rules(text: &str) -> String {
    text.split("\nrule ")
        .skip(1)
        .filter(|chunk| chunk.contains("scope = \"any-file\""))
        .map(|chunk| format!("rule {chunk}\n"))
        .collect()
}

/// The namespace of the embedded rules.
const OURS: &str = "pthscan";

/// The names of the rules a rule file declares (`rule NAME`, `private rule NAME`, one per line
/// start, as our files are written).
fn rule_names(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let line = line.trim_start();
        let line = line.strip_prefix("private ").unwrap_or(line);
        let line = line.strip_prefix("global ").unwrap_or(line);
        let rest = line.strip_prefix("rule ")?;
        rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .filter(|n| !n.is_empty())
    })
}

/// Each rule's name and condition text (as our files are written: `rule NAME` starting a line,
/// `condition:` before the condition, `}` alone closing the rule).
fn rule_conditions(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut offset = 0;
    let mut open: Option<(&str, usize)> = None;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let head = line.trim_start();
        let head = head.strip_prefix("private ").unwrap_or(head);
        let head = head.strip_prefix("global ").unwrap_or(head);
        if let Some(rest) = head.strip_prefix("rule ") {
            let name = rest
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .filter(|n| !n.is_empty());
            open = name.map(|n| (n, start));
        } else if line.trim_end() == "}"
            && let Some((name, from)) = open.take()
        {
            // the condition runs from `condition:` to the rule's closing brace
            let body = &text[from..start];
            if let Some(c) = body.find("condition:") {
                out.push((name, &body[c + "condition:".len()..]));
            }
        }
    }
    out
}

/// The rules `rule`'s condition names among `conditions`, then theirs, in the order written.
fn helpers_of(conditions: &HashMap<&str, &str>, rule: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut stack = vec![rule.to_owned()];
    while let Some(name) = stack.pop() {
        let Some(condition) = conditions.get(name.as_str()) else {
            continue;
        };
        let named: Vec<&str> = condition
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.as_bytes().first().is_some_and(u8::is_ascii_alphabetic))
            .filter(|w| *w != rule && conditions.contains_key(w))
            .collect();
        for w in named.into_iter().rev() {
            if !out.iter().any(|o| o == w) {
                stack.push(w.to_owned());
            }
        }
        if name != rule && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

impl RuleSet {
    /// `helpers_everywhere`: add `common.yar` to every namespace (code), or only to user
    /// namespaces, whose rules may use the helpers (data).
    fn compile(
        sources: &[RuleSource],
        helpers_everywhere: bool,
    ) -> Result<RuleSet, SignatureError> {
        let mut compiler = yara_x::Compiler::new();
        compiler
            .define_global(GLOBAL_LAYER_DEPTH, 0i64)
            .and_then(|c| c.define_global(GLOBAL_LONGEST_B64, 0i64))
            .and_then(|c| c.define_global(GLOBAL_STARTUP_HOOK, false))
            .and_then(|c| c.define_global(GLOBAL_INSTALL_HOOK, false))
            .and_then(|c| c.define_global(GLOBAL_CODE, true))
            .map_err(|e| SignatureError::Rules {
                origin: "globals".into(),
                message: e.to_string(),
            })?;
        // Our own files share one namespace, with `common.yar`'s private helper rules compiled
        // once (their rule names are unique; a rule's file is found by its name). A user's file
        // gets a namespace of its own, with its own copy of the helpers, so that its names
        // cannot collide with ours.
        let common = EMBEDDED_RULES[0].1;
        let add = |compiler: &mut yara_x::Compiler<'_>, text: &str, origin: &str| {
            compiler
                .add_source(yara_x::SourceCode::from(text).with_origin(origin))
                .map(|_| ())
                .map_err(|e| SignatureError::Rules {
                    origin: origin.to_owned(),
                    message: e.to_string(),
                })
        };
        let mut ours: HashMap<&str, usize> = HashMap::new();
        let mut helpers_in_ours = false;
        for (index, source) in sources.iter().enumerate() {
            // our own rules must be fast; a user's slow rule is their call
            compiler.error_on_slow_pattern(!source.user);
            compiler.error_on_slow_loop(!source.user);
            if source.user {
                compiler.new_namespace(&format!("s{index}"));
                add(&mut compiler, common, "signatures/rules/common.yar")?;
            } else {
                compiler.new_namespace(OURS);
                if helpers_everywhere && !helpers_in_ours {
                    add(&mut compiler, common, "signatures/rules/common.yar")?;
                    helpers_in_ours = true;
                }
                if source.text == common {
                    ours.extend(rule_names(common).map(|n| (n, index)));
                    continue;
                }
                ours.extend(rule_names(&source.text).map(|n| (n, index)));
            }
            if !source.text.trim().is_empty() {
                add(&mut compiler, &source.text, &source.origin)?;
            }
        }
        let rules = compiler.build();
        let conditions: HashMap<&str, &str> = std::iter::once(common)
            .chain(sources.iter().map(|s| s.text.as_str()))
            .flat_map(rule_conditions)
            .collect();
        let mut info = HashMap::new();
        let mut ids: HashMap<String, String> = HashMap::new();
        for rule in rules.iter() {
            if rule.is_private() {
                continue;
            }
            let index = if rule.namespace() == OURS {
                ours.get(rule.identifier()).copied()
            } else {
                rule.namespace()
                    .strip_prefix('s')
                    .and_then(|i| i.parse::<usize>().ok())
            };
            let Some(source) = index.and_then(|i| sources.get(i)) else {
                return Err(SignatureError::Rules {
                    origin: rule.namespace().to_owned(),
                    message: format!("rule `{}` is in no known file", rule.identifier()),
                });
            };
            let ident = rule.identifier().to_owned();
            let mut meta: HashMap<&str, String> = HashMap::new();
            for (key, value) in rule.metadata() {
                if let yara_x::MetaValue::String(s) = value {
                    meta.insert(key, s.to_owned());
                }
            }
            let missing = |key: &str| SignatureError::Rules {
                origin: source.origin.clone(),
                message: format!("rule `{ident}` has no `{key}` in its meta section"),
            };
            let get = |key: &str, default: Option<String>| -> Result<String, SignatureError> {
                match (meta.get(key), source.user) {
                    (Some(v), _) => Ok(v.clone()),
                    (None, true) => Ok(default.unwrap_or_default()),
                    (None, false) => Err(missing(key)),
                }
            };
            let id = get("id", Some(ident.clone()))?;
            let sev_word = get("severity", Some("high".into()))?;
            let severity = Severity::parse(&sev_word).ok_or_else(|| SignatureError::Rules {
                origin: source.origin.clone(),
                message: format!(
                    "rule `{ident}`: severity `{sev_word}` is not one of info, low, medium, high, critical"
                ),
            })?;
            let description = get("description", Some(format!("user rule {ident}")))?;
            let reference = get("reference", Some(source.origin.clone()))?;
            let fix_word = get("fix", Some("review".into()))?;
            let fix =
                crate::action::Fix::parse(&fix_word).ok_or_else(|| SignatureError::Rules {
                    origin: source.origin.clone(),
                    message: format!(
                        "rule `{ident}`: fix `{fix_word}` is not one of {}",
                        crate::action::Fix::ALL.map(|f| f.as_str()).join(", ")
                    ),
                })?;
            // optional: only a rule whose code reads credentials names classes to rotate
            let rotate_text = meta.get("rotate").cloned().unwrap_or_default();
            let rotate =
                crate::action::parse_rotate(&rotate_text).map_err(|bad| SignatureError::Rules {
                    origin: source.origin.clone(),
                    message: format!("rule `{ident}`: rotate names `{bad}`, no credential class"),
                })?;
            if let Some(other) = ids.insert(id.clone(), ident.clone()) {
                return Err(SignatureError::Rules {
                    origin: source.origin.clone(),
                    message: format!("rules `{other}` and `{ident}` share the id `{id}`"),
                });
            }
            info.insert(
                (rule.namespace().to_owned(), ident),
                RuleInfo {
                    id,
                    severity,
                    description,
                    reference,
                    fix,
                    rotate,
                    helpers: helpers_of(&conditions, rule.identifier()),
                    family: source.family.clone(),
                    origin: source.origin.clone(),
                },
            );
        }
        Ok(RuleSet { rules, info })
    }

    /// A set without rules: what stands in for one that did not compile.
    fn empty() -> &'static RuleSet {
        static EMPTY: OnceLock<RuleSet> = OnceLock::new();
        EMPTY.get_or_init(|| RuleSet {
            rules: yara_x::Compiler::new().build(),
            info: HashMap::new(),
        })
    }

    /// The compiled rules.
    pub fn yara(&self) -> &yara_x::Rules {
        &self.rules
    }

    /// Metadata of a public rule that matched.
    pub fn info(&self, rule: &yara_x::Rule<'_, '_>) -> Option<&RuleInfo> {
        self.info
            .get(&(rule.namespace().to_owned(), rule.identifier().to_owned()))
    }
}
