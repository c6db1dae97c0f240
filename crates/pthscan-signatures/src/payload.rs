//! Judging a payload: scan the bytes with the payload rules, unwrap encoded layers, scan each
//! layer with the same rules. One [`PayloadScanner`] per worker; the rules are shared.

use std::time::Duration;

use pthscan_analysis::{FileKind, bytecode};

use crate::behaviour::{BehaviourHit, Behaviours};
use crate::decode::{self, Codec, LimitHit, Limits};
use crate::rules::{
    GLOBAL_CODE, GLOBAL_INSTALL_HOOK, GLOBAL_LAYER_DEPTH, GLOBAL_LONGEST_B64, GLOBAL_STARTUP_HOOK,
    PayloadRules, RuleInfo,
};

/// A rule that matched, and where.
#[derive(Debug, Clone)]
pub struct PayloadHit<'r> {
    /// The rule.
    pub rule: &'r RuleInfo,
    /// The decoding steps to the layer it matched in (empty: the file itself).
    pub chain: Vec<Codec>,
    /// Byte offset in the file: of the match, or of the encoded text the layer came from.
    pub offset: usize,
    /// The line around the first match, in the layer it matched (decoded text for a layer).
    pub context: String,
    /// The credential classes to rotate for this match: those of the rule's `rotate` whose
    /// stores the code named (the credential-store helpers that matched), or the rule's whole
    /// list when it names none.
    pub rotate: Vec<String>,
}

impl PayloadHit<'_> {
    /// `base64 → zlib → cred-ssh-keys`, or just the rule id for a match in the file itself.
    pub fn chain_text(&self) -> String {
        let mut parts: Vec<&str> = self.chain.iter().map(|c| c.as_str()).collect();
        parts.push(&self.rule.id);
        parts.join(" → ")
    }
}

/// What scanning one file found.
#[derive(Debug, Default)]
pub struct PayloadScan<'r> {
    /// Matches, one per rule and layer chain, in layer order.
    pub hits: Vec<PayloadHit<'r>>,
    /// Decoding limits that were hit.
    pub limits: Vec<LimitHit>,
    /// Layers decoded.
    pub layers: usize,
    /// Whether a rule scan ran out of time (the rest of that layer was not judged).
    pub timed_out: bool,
    /// Behaviour rules that fired on the code's facts, with the decoding chain to the layer
    /// they fired in.
    pub behaviours: Vec<(Vec<Codec>, usize, BehaviourHit<'r>)>,
    /// Why the code could not be judged as code in full (too large, nested too deep), if so.
    pub not_analysed: Option<String>,
}

/// The largest source the Python analysis parses (its tree takes several times the text).
pub const MAX_ANALYSED_BYTES: usize = 8 << 20;

/// When the scanned file runs, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// At every interpreter start: a hook, or a module a hook imports.
    Startup,
    /// When the package is installed or built: an sdist's `setup.py`.
    Install,
    /// When something imports it, if ever.
    Other,
}

/// Scans files with shared rules; one per worker thread.
pub struct PayloadScanner<'r> {
    rules: &'r PayloadRules,
    /// Over code (every rule) and over other files (the rules that hold anywhere), each made
    /// when first needed: a scan of start-up code alone never compiles the data rules.
    code: Option<yara_x::Scanner<'r>>,
    data: Option<yara_x::Scanner<'r>>,
    timeout: Duration,
    limits: Limits,
    behaviours: Option<&'r Behaviours>,
}

impl<'r> PayloadScanner<'r> {
    /// A scanner that gives up on one rule scan after `timeout`.
    pub fn new(rules: &'r PayloadRules, timeout: Duration) -> PayloadScanner<'r> {
        PayloadScanner {
            rules,
            code: None,
            data: None,
            timeout,
            limits: Limits::default(),
            behaviours: None,
        }
    }

    /// Also judges Python source and bytecode by the behaviour rules ([`Self::scan_kind`]).
    pub fn with_behaviours(mut self, behaviours: &'r Behaviours) -> PayloadScanner<'r> {
        self.behaviours = Some(behaviours);
        self
    }

    /// Scans a file of a known kind: Python source is parsed and judged by the behaviour
    /// rules, and the text rules see its code only (comments and docstrings blanked, unless
    /// the code reads its own text); bytecode is judged by its names and constants; `code`
    /// says whether other kinds are code (a shell script) for the text rules.
    pub fn scan_kind(
        &mut self,
        data: &[u8],
        role: Role,
        kind: FileKind,
        code: bool,
    ) -> PayloadScan<'r> {
        let Some(behaviours) = self.behaviours else {
            return self.scan(
                data,
                role,
                code || matches!(kind, FileKind::Python | FileKind::Bytecode),
            );
        };
        match kind {
            FileKind::Python => {
                if data.len() > MAX_ANALYSED_BYTES {
                    let mut out = self.scan(data, role, true);
                    out.not_analysed = Some(format!(
                        "Python source over {} MiB is judged by text rules only",
                        MAX_ANALYSED_BYTES >> 20
                    ));
                    return out;
                }
                let text = String::from_utf8_lossy(data);
                let facts = pthscan_analysis::analyse(&text);
                let view = pthscan_analysis::code_view(data, &facts.inert);
                let mut out = self.scan(&view, role, true);
                if facts.truncated {
                    out.not_analysed = Some(
                        "code nested deeper than the analysis follows was not judged as code"
                            .into(),
                    );
                }
                out.behaviours.extend(
                    behaviours
                        .judge(&facts)
                        .into_iter()
                        .map(|h| (Vec::new(), h.at.offset, h)),
                );
                out
            }
            FileKind::Bytecode => {
                let mut out = self.scan(data, role, true);
                match bytecode::pyc_code_objects(data) {
                    Some(codes) => {
                        let facts = bytecode::analyse_bytecode(&codes);
                        out.behaviours.extend(
                            behaviours
                                .judge(&facts)
                                .into_iter()
                                .map(|h| (Vec::new(), 0, h)),
                        );
                    }
                    None => {
                        out.not_analysed =
                            Some("bytecode whose code object could not be read".into())
                    }
                }
                out
            }
            _ => self.scan(data, role, code),
        }
    }

    /// The YARA-X scanner over code or over other files.
    fn scanner(&mut self, code: bool) -> &mut yara_x::Scanner<'r> {
        let (rules, timeout) = (self.rules, self.timeout);
        let slot = if code { &mut self.code } else { &mut self.data };
        slot.get_or_insert_with(|| {
            let mut scanner = yara_x::Scanner::new(rules.set(code).yara());
            scanner.set_timeout(timeout);
            scanner.max_matches_per_pattern(64);
            // the globals are declared by `PayloadRules::compile` with these types
            let _ = scanner.set_global(GLOBAL_CODE, code);
            scanner
        })
    }

    /// Runs the rules over `data` alone, without decoding anything (the benchmark's measure of
    /// rule throughput).
    pub fn match_only(&mut self, data: &[u8], code: bool) -> PayloadScan<'r> {
        let mut out = PayloadScan::default();
        self.scan_layer(data, code, &[], None, 0, Role::Other, &mut out);
        out
    }

    /// Scans `data`. `code`: the file is code (Python source or bytecode, a script), so the
    /// capability rules apply and encoded layers are unwrapped and scanned too; data files get
    /// the rules that hold anywhere (IOCs, hard-coded webhooks, campaign markers).
    pub fn scan(&mut self, data: &[u8], role: Role, code: bool) -> PayloadScan<'r> {
        let mut out = PayloadScan::default();
        self.scan_layer(data, code, &[], None, 0, role, &mut out);
        if code {
            let decoded = decode::unwrap(data, &self.limits);
            out.limits = decoded.limits;
            out.layers = decoded.layers.len();
            for layer in &decoded.layers {
                self.scan_layer(
                    &layer.bytes,
                    true,
                    &layer.chain,
                    Some(layer.origin),
                    layer.chain.len(),
                    role,
                    &mut out,
                );
                if let Some(behaviours) = self.behaviours {
                    judge_layer(
                        &layer.bytes,
                        &layer.chain,
                        layer.origin,
                        behaviours,
                        &mut out,
                    );
                }
            }
        }
        out
    }

    #[expect(clippy::too_many_arguments, reason = "one call site per layer kind")]
    fn scan_layer(
        &mut self,
        bytes: &[u8],
        code: bool,
        chain: &[Codec],
        origin: Option<usize>,
        depth: usize,
        role: Role,
        out: &mut PayloadScan<'r>,
    ) {
        let set = self.rules.set(code);
        let scanner = self.scanner(code);
        // the globals are declared by `PayloadRules::compile` with these types: setting them
        // cannot fail. Only code needs the base64 measure (no data rule uses it).
        let longest = if code {
            decode::longest_base64_run(bytes)
        } else {
            0
        };
        let _ = scanner.set_global(GLOBAL_LAYER_DEPTH, depth as i64);
        let _ = scanner.set_global(GLOBAL_LONGEST_B64, longest as i64);
        let _ = scanner.set_global(GLOBAL_STARTUP_HOOK, role == Role::Startup);
        let _ = scanner.set_global(GLOBAL_INSTALL_HOOK, role == Role::Install);
        let results = match scanner.scan(bytes) {
            Ok(results) => results,
            Err(yara_x::ScanError::Timeout) => {
                out.timed_out = true;
                return;
            }
            Err(_) => return,
        };
        // where each helper rule matched first: a rule without strings of its own (a count of
        // credential stores) is shown at its helpers' match, not at the file's first line
        let mut helper_at: Vec<(String, usize)> = Vec::new();
        // and which credential classes the stores the code names belong to
        let mut named: Vec<(String, String)> = Vec::new();
        for rule in results.matching_rules().include_private(true) {
            if !rule.is_private() {
                continue;
            }
            for (key, value) in rule.metadata() {
                if let ("rotate", yara_x::MetaValue::String(class)) = (key, value) {
                    named.push((rule.identifier().to_owned(), class.to_owned()));
                }
            }
            let first = rule
                .patterns()
                .flat_map(|p| p.matches().map(|m| m.range().start).collect::<Vec<_>>())
                .min();
            if let Some(at) = first {
                helper_at.push((rule.identifier().to_owned(), at));
            }
        }
        for rule in results.matching_rules() {
            let Some(info) = set.info(&rule) else {
                continue;
            };
            if out
                .hits
                .iter()
                .any(|h| h.rule.id == info.id && h.chain == chain)
            {
                continue;
            }
            let first = rule
                .patterns()
                .flat_map(|p| p.matches().map(|m| m.range().start).collect::<Vec<_>>())
                .min();
            let at = first
                .or_else(|| {
                    info.helpers.iter().find_map(|h| {
                        helper_at
                            .iter()
                            .find(|(name, _)| name == h)
                            .map(|(_, at)| *at)
                    })
                })
                .unwrap_or(0);
            out.hits.push(PayloadHit {
                rule: info,
                chain: chain.to_vec(),
                offset: origin.unwrap_or(at),
                context: line_around(bytes, at),
                rotate: narrowed(info, &named),
            });
        }
    }
}

/// `info`'s classes to rotate that the matched credential-store helpers it is made of name
/// (`named`: helper, class), or all of them when those name none.
fn narrowed(info: &RuleInfo, named: &[(String, String)]) -> Vec<String> {
    let seen: Vec<&str> = named
        .iter()
        .filter(|(helper, _)| info.helpers.contains(helper))
        .map(|(_, class)| class.as_str())
        .collect();
    let kept: Vec<String> = info
        .rotate
        .iter()
        .filter(|c| seen.contains(&c.as_str()))
        .cloned()
        .collect();
    match kept.is_empty() {
        true => info.rotate.clone(),
        false => kept,
    }
}

/// A layer the decoder unwrapped, judged by the behaviour rules when it is Python source or a
/// marshal blob; a rule that already fired on an outer layer is not repeated.
fn judge_layer<'r>(
    bytes: &[u8],
    chain: &[Codec],
    origin: usize,
    behaviours: &'r Behaviours,
    out: &mut PayloadScan<'r>,
) {
    let facts = match std::str::from_utf8(bytes) {
        Ok(text) if bytes.len() <= MAX_ANALYSED_BYTES && text.contains('(') => {
            pthscan_analysis::analyse(text)
        }
        Ok(_) => return,
        Err(_) => match bytecode::code_objects(bytes, None) {
            Some(codes) => bytecode::analyse_bytecode(&codes),
            None => return,
        },
    };
    for hit in behaviours.judge(&facts) {
        if !out
            .behaviours
            .iter()
            .any(|(_, _, o)| o.rule.id == hit.rule.id)
        {
            out.behaviours.push((chain.to_vec(), origin, hit));
        }
    }
}

/// The line holding `offset` (lossy UTF-8), at most 160 characters of it centred on the offset.
fn line_around(bytes: &[u8], offset: usize) -> String {
    let offset = offset.min(bytes.len());
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = bytes[offset..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| offset + i);
    let from = start.max(offset.saturating_sub(60));
    let to = end.min(from + 160);
    let mut text = String::from_utf8_lossy(&bytes[from..to]).trim().to_owned();
    // bytecode or other binary data: its printable strings, not its control bytes
    let unprintable = text
        .chars()
        .filter(|c| (c.is_control() && *c != '\t') || *c == char::REPLACEMENT_CHARACTER)
        .count();
    if unprintable * 10 > text.chars().count() {
        text = text
            .split(|c: char| !(c.is_ascii_graphic() || c == ' '))
            .filter(|run| run.len() >= 4)
            .collect::<Vec<_>>()
            .join(" ");
    }
    if from > start {
        text.insert(0, '…');
    }
    if to < end {
        text.push('…');
    }
    text
}
