//! PTH001–PTH004: executable `.pth` lines, dormant dot-named `.pth` files, known hooks whose
//! content was changed, and hooks no CPython can read as text.

use std::collections::BTreeMap;

use pthscan_signatures::{Context, LineVerdict, SignalHit};

use super::imported::judge_imports;
use super::{Ctx, EVIDENCE_CHARS, HookFile, RuleDoc, line_text, raise};
use crate::finding::{Finding, Location, Severity, excerpt};
use crate::pathfmt::display_path;
use crate::python::Runs;
use crate::python::pth::{PthAnalysis, PthLine};

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "PTH001",
        fix: super::Fix::Remove,
        rotate: &[],
        title: "executable line in a .pth file",
        what: "A `.pth` line that `site.py` executes at every interpreter start (it starts with \
               `import ` or `import\\t`), under the reading of any CPython generation: ≤ 3.12 \
               (universal newlines, BOM kept), 3.13–3.14 (UTF-8 first, `str.splitlines()` \
               separators such as `\\x0c` and `\\u2028`), 3.15+ (lines stripped, so an indented \
               line runs). Known-good hooks are reported at info; unknown ones at medium, raised \
               by the signals the line carries, by the modules it imports, and to high when the \
               line runs on some generations only (split, indented or behind a BOM: hiding from \
               the interpreter a reviewer tries).",
        why: "One line in a `.pth` file is all an attacker needs for code that runs whenever \
              Python starts: LiteLLM 1.82.8's `litellm_init.pth` spawned a new interpreter that \
              decoded and ran a credential stealer.",
        example: "litellm_init.pth:1: import os, subprocess, sys; subprocess.Popen([sys.executable, \
                  \"-c\", \"import base64; exec(base64.b64decode('…'))\"]) → critical",
        references: &[
            "docs/threats/startup-hooks.md#finding-pth-files-in-a-site-directory, docs/threats/litellm.md#execution-and-payload-layering",
            "https://docs.python.org/3/library/site.html",
            "https://peps.python.org/pep-0829/",
        ],
    },
    &RuleDoc {
        id: "PTH002",
        fix: super::Fix::Review,
        rotate: &[],
        title: "dot-named .pth file",
        what: "A `.pth` file whose name starts with `.`: skipped by CPython 3.13+ and by the \
               security releases of 3.8–3.12 (gh-113659), still executed by older 3.8–3.12 \
               releases. Executable lines are high, path lines low.",
        why: "A dot-named hook hides from `ls` and from reviewers, and still runs on the many \
              interpreters that predate the fix.",
        example: ".hidden.pth:1: import _shim → high, runs on <=3.12-unpatched",
        references: &[
            "docs/threats/startup-hooks.md#finding-pth-files-in-a-site-directory",
            "https://github.com/python/cpython/issues/113659",
        ],
    },
    &RuleDoc {
        id: "PTH003",
        fix: super::Fix::Reinstall,
        rotate: &[],
        title: "known hook file with changed content",
        what: "A `.pth` file that bears the name of a known-good hook (`distutils-precedence.pth`, \
               `a1_coverage.pth`, `*-nspkg.pth`, …) holding an executable line that is not that \
               hook's content.",
        why: "Appending one line to a legitimate hook is quieter than adding a file: the name \
              is expected, and a glance at the first line shows the familiar content.",
        example: "distutils-precedence.pth:2: import os; … __import__(\"_distutils_hack_ext\") → high",
        references: &[
            "docs/threats/legitimate-hooks.md#known-shapes",
            "signatures/known-good.toml",
        ],
    },
    &RuleDoc {
        id: "PTH004",
        fix: super::Fix::Review,
        rotate: &[],
        title: "a .pth file that is not text",
        what: "A `.pth` file holding NUL bytes — UTF-16 text or binary data. No CPython runs a line \
               of it (the lines never start with `import `), so it is inert; it is reported so \
               that nothing in a site directory goes unexamined. Low; medium when its UTF-16 text \
               holds an `import` line (shown as evidence): a hook written by a tool that got the \
               encoding wrong, or a test of what scanners read.",
        why: "A hook another reader sees differently from CPython is worth a look, and a scanner \
              that skips what it cannot decode is one an attacker can hide from.",
        example: "wide.pth (UTF-16): import os; os.system('id') → medium, runs on no CPython",
        references: &[
            "docs/threats/startup-hooks.md#finding-pth-files-in-a-site-directory",
            "https://docs.python.org/3/library/site.html",
        ],
    },
];

const DORMANT_PATHS: &str =
    "dot-named .pth file: skipped by patched CPython, read by unpatched <=3.12 (path lines only)";

/// Judges one `.pth` file. `start_sibling` names a readable `<name>.start` beside it, which
/// disables its import lines on 3.15+.
pub fn judge(
    ctx: &Ctx<'_>,
    file: &HookFile,
    analysis: &PthAnalysis,
    start_sibling: Option<&str>,
) -> Vec<Finding> {
    let dot_named = file.name.starts_with('.');
    let mut by_line: BTreeMap<usize, Vec<&PthLine>> = BTreeMap::new();
    for l in &analysis.exec_lines {
        by_line.entry(l.line).or_default().push(l);
    }
    let mut out = Vec::new();
    for (line, variants) in by_line {
        out.push(judge_line(
            ctx,
            file,
            line,
            &variants,
            dot_named,
            start_sibling,
        ));
    }
    if dot_named
        && analysis.exec_lines.is_empty()
        && let Some(first) = analysis.path_lines.first()
    {
        out.push(Finding {
            rule: "PTH002".into(),
            severity: Severity::Low,
            location: Location {
                path: file.path.clone(),
                line: Some(first.line),
                column: None,
            },
            environment: Some(ctx.env.root.clone()),
            message: DORMANT_PATHS.into(),
            evidence: excerpt(&first.text, EVIDENCE_CHARS),
            signals: Vec::new(),
            known_good: None,
            runs_on: Runs::LEGACY_UNPATCHED,
            sha256: file.data.sha256.clone(),
            notes: Vec::new(),
            ..Default::default()
        });
    }
    out.extend(not_text(ctx, file));
    out
}

/// PTH004: NUL bytes, which no CPython generation's reading turns into an executable line.
fn not_text(ctx: &Ctx<'_>, file: &HookFile) -> Option<Finding> {
    let bytes = &file.data.bytes;
    let at = memchr::memchr(0, bytes)?;
    let utf16_le = bytes.starts_with(&[0xff, 0xfe]);
    let utf16 = utf16_le || bytes.starts_with(&[0xfe, 0xff]);
    let mut evidence = String::new();
    let mut line = Some(crate::detectors::line_at(bytes, at));
    if utf16 {
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| {
                if utf16_le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        let text = String::from_utf16_lossy(&units);
        if let Some((n, l)) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.starts_with("import ") || l.starts_with("import\t"))
        {
            evidence = l.to_owned();
            line = Some(n + 1);
        }
    }
    let (severity, message) = if evidence.is_empty() {
        (
            Severity::Low,
            "the .pth file holds NUL bytes (binary or UTF-16): no CPython runs any of it",
        )
    } else {
        (
            Severity::Medium,
            "UTF-16 .pth file with an import line: no CPython runs it as written, another reader might",
        )
    };
    Some(Finding {
        rule: "PTH004".into(),
        severity,
        location: Location {
            path: file.path.clone(),
            line,
            column: None,
        },
        environment: Some(ctx.env.root.clone()),
        message: message.into(),
        evidence: excerpt(&evidence, EVIDENCE_CHARS),
        runs_on: Runs::NEVER,
        sha256: file.data.sha256.clone(),
        ..Default::default()
    })
}

fn judge_line(
    ctx: &Ctx<'_>,
    file: &HookFile,
    line: usize,
    variants: &[&PthLine],
    dot_named: bool,
    start_sibling: Option<&str>,
) -> Finding {
    let runs = variants
        .iter()
        .fold(Runs::NEVER, |acc, v| acc.union(v.runs));
    let mut notes = Vec::new();
    let mut effective = if dot_named {
        runs.for_dot_named_file()
    } else {
        runs
    };
    if let Some(start) = start_sibling {
        if effective.contains(Runs::PY315) {
            notes.push(format!(
                "disabled on 3.15+ by `{start}` beside it (PEP 829)"
            ));
        }
        effective = effective.without(Runs::PY315);
    }

    if let Some(locale) = variants.iter().find_map(|v| v.locale) {
        notes.push(format!(
            "the file is not UTF-8: this line is read so where the locale's encoding is {locale} (its line ends and spaces differ from Latin-1's)"
        ));
    }

    let verdicts: Vec<LineVerdict<'_>> = variants
        .iter()
        .map(|v| ctx.sigs.known_good.judge_pth_line(&file.name, &v.text))
        .collect();
    let tampered = verdicts.iter().find_map(|v| match v {
        LineVerdict::TamperedKnown(e) => Some(*e),
        _ => None,
    });
    let known: Option<&pthscan_signatures::HookEntry> =
        if verdicts.iter().all(|v| matches!(v, LineVerdict::Known(_))) {
            verdicts.iter().find_map(|v| match v {
                LineVerdict::Known(e) => Some(*e),
                _ => None,
            })
        } else {
            None
        };

    let mut hits: Vec<SignalHit> = Vec::new();
    for v in variants {
        for h in ctx.sigs.signals.scan(v.text.as_bytes(), Context::Startup) {
            match hits.iter_mut().find(|x| x.id == h.id) {
                Some(x) if x.severity < h.severity => *x = h,
                Some(_) => {}
                None => hits.push(h),
            }
        }
    }
    if known.is_some() {
        // a known-good line is judged by what it is, not by the words it contains
        hits.clear();
    }
    if runs.is_partial() {
        hits.push(SignalHit {
            id: "version-dependent".into(),
            severity: Severity::High,
            matched: format!("executes on {runs} only"),
            offset: 0,
        });
    }
    if hits.iter().any(|h| h.id == "spawn-interpreter")
        && !variants
            .iter()
            .any(|v| v.text.contains("'-S'") || v.text.contains("\"-S\""))
    {
        notes.push("spawns sys.executable without -S: the child interpreter runs this hook again (LiteLLM 1.82.8's fork bomb)".into());
    }

    let (rule, base) = match (dot_named, tampered, known) {
        (true, _, Some(_)) => ("PTH002", Severity::Medium),
        (true, _, None) => ("PTH002", Severity::High),
        (false, Some(_), _) => ("PTH003", Severity::High),
        (false, None, Some(_)) => ("PTH001", Severity::Info),
        (false, None, None) => ("PTH001", Severity::Medium),
    };
    let mut severity = raise(base, &hits);

    let via = format!("`{}:{line}`", display_path(&file.path));
    let depth = if known.is_some() {
        1
    } else {
        super::imported::FOLLOW_DEPTH
    };
    for v in variants {
        for m in judge_imports(ctx, &v.text, depth, &via) {
            severity = severity.max(super::lift(m.severity, known.is_some()));
            notes.push(format!(
                "imports `{}` from `{}`{}",
                m.name,
                display_path(&m.path),
                if m.severity >= Severity::Low {
                    format!(" ({}, see IMP001)", m.severity)
                } else {
                    String::new()
                }
            ));
        }
    }
    notes.dedup();

    let message = match (rule, tampered, known) {
        ("PTH003", Some(entry), _) => format!(
            "`{}` is the file name of the known hook `{}`, but this line is not its content",
            file.name, entry.id
        ),
        ("PTH002", _, _) => "executable line in a dot-named .pth: skipped by patched CPython, run by unpatched <=3.12".into(),
        (_, _, Some(entry)) => format!("known-good hook `{}`: {}", entry.id, entry.description),
        _ => format!(
            "executable .pth line runs at every interpreter start{}",
            if hits.is_empty() { String::new() } else { format!(" and {}", super::describe_hits(&hits)) }
        ),
    };
    let physical = line_text(&file.data.bytes, line);
    let evidence = physical
        .trim_start_matches('\u{feff}')
        .trim_end_matches(['\r', '\n']);
    Finding {
        rule: rule.into(),
        severity,
        location: Location {
            path: file.path.clone(),
            line: Some(line),
            column: None,
        },
        environment: Some(ctx.env.root.clone()),
        message,
        evidence: excerpt(evidence, EVIDENCE_CHARS),
        signals: hits,
        known_good: known.map(|e| e.id.clone()),
        runs_on: effective,
        sha256: file.data.sha256.clone(),
        notes,
        ..Default::default()
    }
}
