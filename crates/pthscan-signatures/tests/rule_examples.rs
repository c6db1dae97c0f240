//! Every payload rule runs its examples: positives must match, negatives must not, and a rule
//! without both kinds of example fails the build. Examples go through the whole pipeline
//! (decoding included), as a scanned file would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use pthscan_signatures::{PayloadScanner, Role, Signatures, expand_example};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Examples {
    example: Vec<Example>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Example {
    rule: String,
    #[serde(rename = "match")]
    matches: bool,
    #[serde(default)]
    shape: Option<String>,
    /// Scanned as code (the default) or as a data file (a web asset, a vocabulary).
    #[serde(default = "yes")]
    code: bool,
    /// When the file runs: `install` for an sdist's setup.py, `startup` for a hook; default
    /// neither.
    #[serde(default)]
    role: Option<String>,
    text: String,
}

fn yes() -> bool {
    true
}

fn rule_ids_hit(sigs: &Signatures, text: &str, code: bool, role: Option<&str>) -> BTreeSet<String> {
    let role = match role {
        Some("install") => Role::Install,
        Some("startup") => Role::Startup,
        None => Role::Other,
        Some(other) => panic!("unknown role `{other}` in an example"),
    };
    let mut scanner = PayloadScanner::new(&sigs.payload, Duration::from_secs(10));
    scanner
        .scan(expand_example(text).as_bytes(), role, code)
        .hits
        .iter()
        .map(|h| h.rule.id.clone())
        .collect()
}

#[test]
fn every_rule_has_examples_and_they_behave() {
    let sigs = Signatures::load(&[]).expect("embedded signatures compile");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../signatures/examples");
    // (positives, negatives) per rule id
    let mut seen: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let examples: Examples =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for ex in examples.example {
            let hit = rule_ids_hit(&sigs, &ex.text, ex.code, ex.role.as_deref());
            if hit.contains(&ex.rule) != ex.matches {
                failures.push(format!(
                    "{}: rule {} should{} match{} (hit: {hit:?})\n{}",
                    path.file_name().unwrap().to_string_lossy(),
                    ex.rule,
                    if ex.matches { "" } else { " not" },
                    ex.shape.map(|s| format!(" [{s}]")).unwrap_or_default(),
                    ex.text.trim()
                ));
            }
            let e = seen.entry(ex.rule).or_default();
            if ex.matches { e.0 += 1 } else { e.1 += 1 }
        }
    }
    // network IOCs carry their examples in ioc.toml
    for n in &sigs.iocs.network {
        for (texts, want) in [(&n.positive, true), (&n.negative, false)] {
            for t in texts {
                let hit = rule_ids_hit(&sigs, t, true, None);
                if hit.contains(&n.id) != want {
                    failures.push(format!(
                        "ioc.toml: {} on {t:?}: expected match={want}, hit {hit:?}",
                        n.id
                    ));
                }
                let e = seen.entry(n.id.clone()).or_default();
                if want { e.0 += 1 } else { e.1 += 1 }
            }
        }
    }
    let rules = sigs.payload.all();
    for rule in &rules {
        match seen.get(&rule.id) {
            Some((p, n)) if *p > 0 && *n > 0 => {}
            _ => failures.push(format!(
                "rule {} ({}) lacks a positive or a negative example",
                rule.id, rule.origin
            )),
        }
        for (what, value) in [
            ("description", &rule.description),
            ("reference", &rule.reference),
        ] {
            if value.trim().is_empty() {
                failures.push(format!("rule {} has an empty {what}", rule.id));
            }
        }
    }
    for id in seen.keys() {
        if !rules.iter().any(|r| &r.id == id) {
            failures.push(format!("examples name unknown rule {id}"));
        }
    }
    assert!(rules.len() >= 40, "only {} rules", rules.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn a_bad_user_rule_reports_the_compiler_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yar"),
        "rule broken { condition: $nope }",
    )
    .unwrap();
    let err = Signatures::load(&[dir.path().to_path_buf()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad.yar") && err.contains("$nope"), "{err}");
}

#[test]
fn user_rules_get_defaults_and_may_use_the_helpers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.yar"),
        "rule corp_marker { strings: $a = \"ACME-INTERNAL-TOKEN\" condition: $a and py_http_send }",
    )
    .unwrap();
    let sigs = Signatures::load(&[dir.path().to_path_buf()]).unwrap();
    let mut scanner = PayloadScanner::new(&sigs.payload, Duration::from_secs(10));
    let scan = scanner.scan(
        b"requests.post(u, data='ACME-INTERNAL-TOKEN')",
        Role::Other,
        true,
    );
    let hit = scan
        .hits
        .iter()
        .find(|h| h.rule.id == "corp_marker")
        .expect("user rule matched");
    assert_eq!(hit.rule.family, "user");
    assert_eq!(hit.rule.severity, pthscan_signatures::Severity::High);
}
