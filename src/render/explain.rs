//! `pthscan explain RULE`: a detector's doc, a payload rule's metadata, or an IOC entry.

use std::io::{self, Write};

use pthscan_signatures::Signatures;

/// Prints the doc of `rule` (or every rule's title for `all`); `false` if there is no such rule.
pub fn explain(
    rule: &str,
    sigs: &Signatures,
    db: &pthscan_db::Database,
    w: &mut dyn Write,
) -> io::Result<bool> {
    let rules = crate::planted::rules();
    let payload = sigs.payload.all();
    if rule.eq_ignore_ascii_case("all") {
        writeln!(w, "Detectors (start-up hooks):")?;
        for r in &rules {
            writeln!(w, "  {:<9} {}", r.id, r.title)?;
        }
        let mut family = "";
        for r in &payload {
            if r.family == "ioc" {
                continue;
            }
            if r.family != family {
                family = &r.family;
                writeln!(w, "\nPayload rules, {family} ({}):", r.origin)?;
            }
            writeln!(w, "  {:<28} {:<8} {}", r.id, r.severity, r.description)?;
        }
        writeln!(w, "\nBehaviour rules (signatures/behaviours.toml):")?;
        for b in sigs.behaviours.rules() {
            writeln!(w, "  {:<28} {:<8} {}", b.id, b.severity, b.description)?;
        }
        writeln!(
            w,
            "\nMalicious-package database: {} records (`pthscan db status`; `pthscan explain <record id>` prints one)",
            db.records().len()
        )?;
        writeln!(w, "\nIOCs (signatures/ioc.toml):")?;
        for f in &sigs.iocs.files {
            writeln!(w, "  {:<36} sha256 {}", f.id, f.sha256)?;
        }
        for n in &sigs.iocs.network {
            writeln!(w, "  {:<36} {}", n.id, n.indicator)?;
        }
        for p in &sigs.iocs.paths {
            writeln!(w, "  {:<36} {}", p.id, p.paths.join(", "))?;
        }
        for p in &sigs.iocs.processes {
            writeln!(w, "  {:<36} {}", p.id, process_shape(p))?;
        }
        return Ok(true);
    }
    if let Some(doc) = rules.iter().find(|r| r.id.eq_ignore_ascii_case(rule)) {
        writeln!(w, "{}: {}", doc.id, doc.title)?;
        writeln!(w, "\nWhat it finds\n  {}", doc.what)?;
        writeln!(w, "\nWhy it matters\n  {}", doc.why)?;
        writeln!(w, "\nExample\n  {}", doc.example)?;
        what_to_do(w, doc.fix, doc.rotate)?;
        writeln!(w, "\nReferences")?;
        for r in doc.references {
            writeln!(w, "  - {r}")?;
        }
        return Ok(true);
    }
    if let Some(b) = sigs
        .behaviours
        .rules()
        .iter()
        .find(|b| b.id.eq_ignore_ascii_case(rule))
    {
        writeln!(w, "{}: {}", b.id, b.description)?;
        writeln!(
            w,
            "\nSeverity\n  {} in start-up and install code and at a module's import time; {} in other functions of a module (--deep)",
            b.severity, b.module_severity
        )?;
        writeln!(
            w,
            "\nWhere it looks
  the syntax tree (or bytecode) of every Python file judged: start-up code, what hooks import, an sdist's setup.py; with --deep every file of every distribution"
        )?;
        writeln!(w, "\nExamples")?;
        for p in &b.positive {
            writeln!(w, "  fires:        {}", p.replace('\n', "⏎ "))?;
        }
        for n in &b.negative {
            writeln!(w, "  does not:     {}", n.replace('\n', "⏎ "))?;
        }
        what_to_do(w, b.fix, &b.rotate)?;
        writeln!(w, "\nReferences\n  - {}", b.reference)?;
        return Ok(true);
    }
    if let Some(r) = payload.iter().find(|r| r.id.eq_ignore_ascii_case(rule)) {
        writeln!(w, "{}: {} ({})", r.id, r.description, r.severity)?;
        writeln!(w, "\nFamily\n  {} — written in {}", r.family, r.origin)?;
        writeln!(
            w,
            "\nWhere it looks\n  every file of start-up code and every module a hook imports; with --deep, every file of every distribution; and every layer decoded from them (base64, hex, zlib, …)"
        )?;
        writeln!(
            w,
            "\nExamples\n  signatures/examples/{}.toml (positive and negative, run by the tests)",
            r.family
        )?;
        what_to_do(w, r.fix, &r.rotate)?;
        writeln!(w, "\nReferences\n  - {}", r.reference)?;
        return Ok(true);
    }
    if let Some(r) = db
        .records()
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(rule))
    {
        writeln!(w, "{}: {}", r.id, r.summary)?;
        if !r.aliases.is_empty() {
            writeln!(w, "\nAliases\n  {}", r.aliases.join(", "))?;
        }
        writeln!(w, "\nReleases")?;
        for a in &r.affected {
            let mut what: Vec<String> = a.versions.clone();
            if a.every_version {
                what = vec!["every version".into()];
            } else if !a.ranges.is_empty() {
                what.push(format!("{} range(s)", a.ranges.len()));
            }
            writeln!(w, "  {} {}", a.name, what.join(", "))?;
        }
        what_to_do(
            w,
            pthscan_signatures::Fix::Uninstall,
            crate::planted::rules()
                .iter()
                .find(|d| d.id == "MAL001")
                .map_or(&[][..], |d| d.rotate),
        )?;
        if let Some(wd) = &r.withdrawn {
            writeln!(w, "\nWithdrawn {wd}: matches nothing")?;
        }
        writeln!(w, "\nSource\n  {}", r.origin)?;
        if !r.reporters.is_empty() {
            writeln!(w, "  reported by {}", r.reporters.join(", "))?;
        }
        if !r.references.is_empty() {
            writeln!(w, "\nReferences")?;
            for u in &r.references {
                writeln!(w, "  - {u}")?;
            }
        }
        return Ok(true);
    }
    if let Some(f) = sigs
        .iocs
        .files
        .iter()
        .find(|f| f.id.eq_ignore_ascii_case(rule))
    {
        writeln!(w, "{}: sha256 {} ({})", f.id, f.sha256, f.severity)?;
        what_to_do(w, f.fix, &f.rotate)?;
        writeln!(
            w,
            "\n  {}\n\nReferences\n  - {}",
            f.description, f.reference
        )?;
        return Ok(true);
    }
    if let Some(p) = sigs
        .iocs
        .paths
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(rule))
    {
        writeln!(w, "{}: {} ({})", p.id, p.paths.join(", "), p.severity)?;
        what_to_do(w, p.fix, &p.rotate)?;
        writeln!(
            w,
            "\n  {}\n\nWhere it looks\n  host sweeps (no PATH, --root, or /): `~/` is every user's home\n\nReferences\n  - {}",
            p.description, p.reference
        )?;
        return Ok(true);
    }
    if let Some(p) = sigs
        .iocs
        .processes
        .iter()
        .find(|p| p.id.eq_ignore_ascii_case(rule))
    {
        writeln!(w, "{}: {} ({})", p.id, process_shape(p), p.severity)?;
        what_to_do(w, p.fix, &p.rotate)?;
        writeln!(
            w,
            "\n  {}\n\nWhere it looks\n  this machine's running processes, with --processes (Linux /proc): `~/` is every user's home\n\nExample\n  {}\n\nReferences\n  - {}",
            p.description,
            p.positive.first().map_or("", |e| e.command.as_str()),
            p.reference
        )?;
        return Ok(true);
    }
    Ok(false)
}

/// The `What to do` section: the kind of fix in general, and the classes to rotate.
fn what_to_do<S: AsRef<str>>(
    w: &mut dyn Write,
    fix: pthscan_signatures::Fix,
    rotate: &[S],
) -> io::Result<()> {
    writeln!(w, "\nWhat to do\n  fix ({fix}): {}", fix.summary())?;
    if !rotate.is_empty() {
        writeln!(
            w,
            "  rotate, because the code it finds reads them (a finding names those its code does):"
        )?;
        for class in rotate {
            let class = class.as_ref();
            writeln!(
                w,
                "    - {class}: {}",
                pthscan_signatures::action::rotate_label(class).unwrap_or(class)
            )?;
        }
    }
    Ok(())
}

/// What a process IOC matches, in one line.
fn process_shape(p: &pthscan_signatures::ioc::ProcessIoc) -> String {
    let mut parts = Vec::new();
    if !p.exe.is_empty() {
        parts.push(format!("executable {}", p.exe.join(" or ")));
    }
    if !p.script.is_empty() {
        parts.push(format!("Python running {}", p.script.join(" or ")));
    }
    if !p.command.is_empty() {
        let who = match (p.parent_python, p.python) {
            (true, _) => "a process with a Python parent",
            (false, true) => "Python",
            (false, false) => "a process",
        };
        parts.push(format!(
            "{who} whose command line holds {}",
            p.command
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    parts.join("; ")
}
