//! START001–START002: PEP 829 `.start` entry points, and `.start` files that disable a `.pth`.

use super::describe_hits;
use super::imported::judge_imports;
use super::{Ctx, EVIDENCE_CHARS, HookFile, RuleDoc};
use crate::diagnostic::Diagnostic;
use crate::finding::{Finding, Location, Severity, excerpt};
use crate::pathfmt::display_path;
use crate::python::Runs;
use crate::python::start::parse;

/// The rules of this detector.
pub const RULES: &[&RuleDoc] = &[
    &RuleDoc {
        id: "START001",
        fix: super::Fix::Review,
        rotate: &[],
        title: "entry point in a .start file",
        what: "A `pkg.mod:callable` line of a PEP 829 `<name>.start` file, which CPython 3.15+ \
               calls with no arguments at every start, and the module it names, resolved in \
               the environment and judged. Medium unless the module raises it; a line CPython \
               rejects (not the strict `pkg.mod:callable` form) is low.",
        why: "`.start` files are the successor of `.pth` import lines: the same power, and the \
              code sits in an ordinary module where a scanner of hook files alone never looks.",
        example: "telemetry.start:1: _telemetry.boot:run → high when `_telemetry/boot.py` harvests credentials",
        references: &[
            "https://peps.python.org/pep-0829/",
            "docs/threats/startup-hooks.md#start-files-pep-829",
        ],
    },
    &RuleDoc {
        id: "START002",
        fix: super::Fix::Remove,
        rotate: &[],
        title: ".start file that disables a .pth file's import lines",
        what: "A `<name>.start` file with no entry points beside a `<name>.pth` that has import \
               lines: on CPython 3.15+ those lines do not run.",
        why: "Harmless by itself, but it changes which start-up code runs: a responder should \
              know that a hook is live on some interpreters and not on others.",
        example: "coverage.start (empty) beside coverage.pth → info",
        references: &["https://peps.python.org/pep-0829/"],
    },
];

/// Judges one `.start` file; `pth_imports` is how many import lines its `.pth` sibling has.
pub fn judge(ctx: &Ctx<'_>, file: &HookFile, pth_imports: usize) -> Vec<Finding> {
    let analysis = parse(&file.data.bytes);
    if !analysis.readable {
        ctx.diagnostics.borrow_mut().push(Diagnostic::note(
            &file.path,
            "`.start` file is not UTF-8: CPython 3.15+ ignores it whole",
        ));
        return Vec::new();
    }
    let runs = if file.name.starts_with('.') {
        Runs::NEVER
    } else {
        Runs::PY315
    };
    let stem = file.name.trim_end_matches(".start");
    let disables = (pth_imports > 0)
        .then(|| format!("disables the {pth_imports} import line(s) of `{stem}.pth` on 3.15+"));
    if analysis.entries.is_empty() {
        return disables
            .map(|note| Finding {
                rule: "START002".into(),
                severity: Severity::Info,
                location: Location {
                    path: file.path.clone(),
                    line: None,
                    column: None,
                },
                environment: Some(ctx.env.root.clone()),
                message: format!("empty .start file {note}"),
                evidence: String::new(),
                signals: Vec::new(),
                known_good: None,
                runs_on: runs,
                sha256: file.data.sha256.clone(),
                notes: Vec::new(),
                ..Default::default()
            })
            .into_iter()
            .collect();
    }
    let mut out = Vec::new();
    for entry in &analysis.entries {
        let mut notes: Vec<String> = disables.iter().cloned().collect();
        if file.name.starts_with('.') {
            notes.push("dot-named: CPython skips it".into());
        }
        let (severity, message) = match &entry.module {
            None => (
                Severity::Low,
                "entry point CPython rejects (not `pkg.mod:callable`): reported, not run"
                    .to_owned(),
            ),
            Some(module) => {
                let via = format!("`{}:{}`", display_path(&file.path), entry.line);
                let modules = judge_imports(
                    ctx,
                    &format!("import {module}"),
                    super::imported::FOLLOW_DEPTH,
                    &via,
                );
                if modules.is_empty() {
                    notes.push(format!("module `{module}` not found in this environment"));
                }
                let mut severity = Severity::Medium;
                let mut worst = None;
                for m in &modules {
                    notes.push(format!(
                        "runs `{}` from `{}`",
                        m.name,
                        display_path(&m.path)
                    ));
                    if m.severity > severity {
                        severity = m.severity;
                        worst = Some(m);
                    }
                }
                let message = match worst {
                    Some(m) => format!(
                        "entry point runs at every 3.15+ start; its module `{}` {}",
                        m.name,
                        describe_hits(&m.hits)
                    ),
                    None => "entry point runs at every 3.15+ start".into(),
                };
                (severity, message)
            }
        };
        out.push(Finding {
            rule: "START001".into(),
            severity,
            location: Location {
                path: file.path.clone(),
                line: Some(entry.line),
                column: None,
            },
            environment: Some(ctx.env.root.clone()),
            message,
            evidence: excerpt(&entry.text, EVIDENCE_CHARS),
            signals: Vec::new(),
            known_good: None,
            runs_on: runs,
            sha256: file.data.sha256.clone(),
            notes,
            ..Default::default()
        });
    }
    out
}
