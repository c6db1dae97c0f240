//! `--format cyclonedx`: a CycloneDX 1.6 JSON bill of materials of what was scanned. Each
//! environment is a component, its installed distributions nested in it as libraries with a
//! PyPI purl and the SHA-256 of their RECORD; hooks and findings are `pthscan:` properties of
//! the distribution that owns them, else of their environment, else of the scan.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;

use pthscan_core::python::dist::Distribution;
use pthscan_core::{Environment, Finding};
use serde_json::{Value, json};

use super::ReportView;

/// The CycloneDX specification version written.
pub const SPEC_VERSION: &str = "1.6";

/// Writes the bill of materials.
pub fn render(view: &ReportView<'_>, w: &mut dyn Write) -> io::Result<()> {
    let r = view.report;
    let mut refs = BomRefs::default();
    // each finding goes to one place: a distribution, else its environment, else the scan
    let mut placed = vec![false; r.findings.len()];
    let mut components = Vec::with_capacity(r.environments.len());
    for (i, env) in r.environments.iter().enumerate() {
        let env_ref = refs.unique(format!("pthscan:env:{i}"));
        let in_env: Vec<usize> = (0..r.findings.len())
            .filter(|&n| r.findings[n].environment.as_deref() == Some(env.root.as_path()))
            .collect();
        let mut libraries = Vec::with_capacity(env.inventory.len());
        for d in &env.inventory {
            let mut owned: Vec<&Finding> = Vec::new();
            for &n in &in_env {
                if !placed[n] && owns(d, &r.findings[n]) {
                    placed[n] = true;
                    owned.push(&r.findings[n]);
                }
            }
            libraries.push(library(&mut refs, &env_ref, d, &owned));
        }
        let mut properties = vec![property("pthscan:kind", &kind(env))];
        if let Some(python) = &env.python {
            properties.push(property("pthscan:python", python));
        }
        let rest: Vec<&Finding> = in_env
            .iter()
            .filter(|&&n| !std::mem::replace(&mut placed[n], true))
            .map(|&n| &r.findings[n])
            .collect();
        properties.extend(finding_properties(&rest));
        components.push(json!({
            "type": "application",
            "bom-ref": env_ref,
            "name": shown(&env.root),
            "properties": properties,
            "components": libraries,
        }));
    }
    let scanned = super::json::scanned(view);
    let name = if scanned.is_empty() {
        format!("host {}", view.context.host)
    } else {
        scanned.join(" ")
    };
    let mut scan_properties: Vec<Value> = scanned
        .iter()
        .map(|p| property("pthscan:scanned", p))
        .collect();
    scan_properties.push(property("pthscan:scan-id", &view.context.scan_id));
    scan_properties.push(property("pthscan:exit-code", &view.exit_code.to_string()));
    let homeless: Vec<&Finding> = r
        .findings
        .iter()
        .zip(&placed)
        .filter(|(_, p)| !**p)
        .map(|(f, _)| f)
        .collect();
    scan_properties.extend(finding_properties(&homeless));
    let doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": serial_number(&view.context.scan_id),
        "version": 1,
        "metadata": {
            "timestamp": view.context.timestamp,
            "tools": {
                "components": [{
                    "type": "application",
                    "name": "pthscan",
                    "version": env!("CARGO_PKG_VERSION"),
                }],
            },
            "component": {
                "type": "application",
                "bom-ref": refs.unique("pthscan:scan".to_owned()),
                "name": name,
                "properties": scan_properties,
            },
        },
        "components": components,
    });
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

/// Bom-refs handed out so far: each is unique in the document.
#[derive(Default)]
struct BomRefs(HashSet<String>);

impl BomRefs {
    fn unique(&mut self, wanted: String) -> String {
        let mut candidate = wanted.clone();
        let mut n = 1;
        while !self.0.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{wanted}#{n}");
        }
        candidate
    }
}

/// One installed distribution as a library component.
fn library(refs: &mut BomRefs, env_ref: &str, d: &Distribution, owned: &[&Finding]) -> Value {
    let purl = purl(&d.name, &d.version);
    let mut c = json!({
        "type": "library",
        "bom-ref": refs.unique(format!("{env_ref}:{purl}")),
        "name": d.name,
        "version": d.version,
        "purl": purl,
    });
    if let Some(sha) = &d.record_sha256 {
        c["hashes"] = json!([{ "alg": "SHA-256", "content": sha }]);
    }
    let mut properties = vec![property("pthscan:metadata", &shown(&d.metadata))];
    if let Some(installer) = &d.installer {
        properties.push(property("pthscan:installer", installer));
    }
    for name in &d.top_level {
        properties.push(property("pthscan:top-level", name));
    }
    properties.extend(finding_properties(owned));
    c["properties"] = Value::Array(properties);
    c
}

/// Whether the finding is about a file of the distribution: named by the RECORD that lists it,
/// or in its metadata directory.
fn owns(d: &Distribution, f: &Finding) -> bool {
    f.distribution_name() == Some(d.normalized.as_str())
        || d.metadata
            .parent()
            .is_some_and(|info| f.location.path.starts_with(info))
}

/// `pthscan:hook` for each start-up file among the findings' files (once each), and
/// `pthscan:finding` (`RULE severity path[:line]`) for each finding.
fn finding_properties(findings: &[&Finding]) -> Vec<Value> {
    let mut hooks: Vec<String> = findings
        .iter()
        .filter(|f| is_hook(&f.location.path))
        .map(|f| shown(&f.location.path))
        .collect();
    hooks.sort();
    hooks.dedup();
    let mut out: Vec<Value> = hooks.iter().map(|h| property("pthscan:hook", h)).collect();
    for f in findings {
        let at = match f.location.line {
            Some(line) => format!("{}:{line}", shown(&f.location.path)),
            None => shown(&f.location.path),
        };
        out.push(property(
            "pthscan:finding",
            &format!("{} {} {at}", f.rule, f.severity.as_str()),
        ));
    }
    out
}

/// A start-up file: a `.pth` or `.start` file, or a customize module.
fn is_hook(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy());
    name.is_some_and(|n| {
        n.ends_with(".pth")
            || n.ends_with(".start")
            || ["sitecustomize", "usercustomize"]
                .iter()
                .any(|m| n.strip_prefix(m).is_some_and(|r| r.starts_with('.')))
    })
}

fn property(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}

fn shown(path: &Path) -> String {
    pthscan_core::pathfmt::display_path(path)
}

/// The environment's kind as the JSON report names it (`venv`, `user-site`, …).
fn kind(env: &Environment) -> String {
    match serde_json::to_value(env.kind) {
        Ok(Value::String(s)) => s,
        _ => "unknown".to_owned(),
    }
}

/// The package URL of a PyPI release (purl spec, `pypi` type): the name lower-cased with `_`
/// as `-`, name and version percent-encoded outside the unreserved characters.
pub fn purl(name: &str, version: &str) -> String {
    let name = name.to_ascii_lowercase().replace('_', "-");
    format!("pkg:pypi/{}@{}", encode(&name), encode(version))
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `urn:uuid:` of the scan id's 16 random bytes, marked as a version 4 (random) UUID; a scan
/// id that is not 32 hex digits is hashed into them.
pub fn serial_number(scan_id: &str) -> String {
    let hex: Vec<u8> = if scan_id.len() == 32 && scan_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        scan_id.to_ascii_lowercase().into_bytes()
    } else {
        crate::policy::digest(&[scan_id]).into_bytes()[..32].to_vec()
    };
    let mut h = String::from_utf8(hex).unwrap_or_default();
    // version nibble 4, variant bits 10xx
    h.replace_range(12..13, "4");
    let variant = u8::from_str_radix(&h[16..17], 16).unwrap_or(0) & 0x3 | 0x8;
    h.replace_range(16..17, &format!("{variant:x}"));
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_follow_the_pypi_type() {
        assert_eq!(purl("Foo_Bar", "1.0"), "pkg:pypi/foo-bar@1.0");
        assert_eq!(purl("zope.interface", "7.0"), "pkg:pypi/zope.interface@7.0");
        assert_eq!(purl("x", "1.0+local"), "pkg:pypi/x@1.0%2Blocal");
    }

    #[test]
    fn serial_numbers_are_version_4_uuids() {
        assert_eq!(
            serial_number("0123456789abcdef0123456789abcdef"),
            "urn:uuid:01234567-89ab-4def-8123-456789abcdef"
        );
        let odd = serial_number("");
        assert_eq!(odd.len(), "urn:uuid:".len() + 36);
        assert_eq!(&odd["urn:uuid:".len() + 14..][..1], "4");
    }
}
