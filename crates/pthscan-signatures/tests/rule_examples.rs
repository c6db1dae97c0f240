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

/// The literals of the `credential-path` signal: what names a credential store.
fn credential_literals() -> Vec<String> {
    let table: toml::Value = toml::from_str(pthscan_signatures::SIGNALS_TOML).unwrap();
    table["signal"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str() == Some("credential-path"))
        .unwrap()["all"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g.as_array().unwrap().iter())
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

/// Whether `text` names a credential store.
fn reads_credentials(text: &str, literals: &[String]) -> bool {
    let text = expand_example(text);
    literals.iter().any(|l| text.contains(l.as_str()))
}

/// Every rule says what to do (`fix`, a kind the core words for each finding); a rule whose id
/// says it reads credentials, or whose examples that fire it name a credential store, also
/// says which classes to rotate.
#[test]
fn every_rule_says_what_to_do_and_credential_readers_what_to_rotate() {
    let sigs = Signatures::load(&[]).expect("embedded signatures compile");
    let literals = credential_literals();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../signatures/examples");
    let mut positives: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let examples: Examples = toml::from_str(&text).unwrap();
        for e in examples.example.into_iter().filter(|e| e.matches) {
            positives.entry(e.rule).or_default().push(e.text);
        }
    }
    let mut missing = Vec::new();
    let credential_id = |id: &str| id.starts_with("cred-") || id.contains("stealer");
    for r in sigs.payload.all() {
        // the `fix` metadata is required of our rules: a rule without it does not compile
        let reads = credential_id(&r.id)
            || positives
                .get(&r.id)
                .is_some_and(|p| p.iter().any(|t| reads_credentials(t, &literals)));
        if reads && r.rotate.is_empty() {
            missing.push(format!("payload rule {} (reads credentials)", r.id));
        }
    }
    for b in sigs.behaviours.rules() {
        let reads = b.positive.iter().any(|t| reads_credentials(t, &literals))
            || b.description.contains("credential");
        if reads && b.rotate.is_empty() {
            missing.push(format!("behaviour {}", b.id));
        }
    }
    for s in sigs.signals.docs() {
        if s.positive.iter().any(|t| reads_credentials(t, &literals)) && s.rotate.is_empty() {
            missing.push(format!("signal {}", s.id));
        }
    }
    // an indicator of a stealer's campaign: what it stole is to be rotated
    for (id, description, rotate) in sigs
        .iocs
        .files
        .iter()
        .map(|f| (&f.id, &f.description, &f.rotate))
        .chain(
            sigs.iocs
                .paths
                .iter()
                .map(|p| (&p.id, &p.description, &p.rotate)),
        )
        .chain(
            sigs.iocs
                .processes
                .iter()
                .map(|p| (&p.id, &p.description, &p.rotate)),
        )
    {
        let campaign = ["litellm", "TeamPCP", "stealer", "sysmon", "Telnyx"]
            .iter()
            .any(|w| description.contains(w));
        if campaign && rotate.is_empty() {
            missing.push(format!("ioc {id}"));
        }
    }
    assert!(missing.is_empty(), "no `rotate` on: {missing:#?}");
    // and the test's own judgement holds: the sweep of stores lists many classes
    let sweep = sigs
        .payload
        .all()
        .into_iter()
        .find(|r| r.id == "cred-sweep-stores")
        .unwrap();
    assert!(sweep.rotate.len() >= 5, "{:?}", sweep.rotate);
}

/// A rule without strings of its own (a count of credential stores) is shown at the line
/// where its helpers matched, not at the file's first line (`import os` said nothing).
#[test]
fn a_rule_made_of_helpers_shows_the_line_they_matched() {
    let sigs = Signatures::load(&[]).expect("embedded signatures compile");
    let text = "import os, subprocess, tarfile\nimport sys\nHOME = os.path.expanduser('~')\nT = ['.ssh/id_rsa', '.aws/credentials', '.kube/config']\nwith tarfile.open('/tmp/x.tgz', 'w:gz') as t:\n    [t.add(os.path.join(HOME, p)) for p in T]\n";
    let mut scanner = PayloadScanner::new(&sigs.payload, Duration::from_secs(10));
    let scan = scanner.scan(text.as_bytes(), Role::Startup, true);
    let hit = scan
        .hits
        .iter()
        .find(|h| h.rule.id == "cred-sweep-stores")
        .expect("the sweep fires");
    assert!(hit.context.contains(".ssh/id_rsa"), "{}", hit.context);
    assert!(!hit.context.starts_with("import os"), "{}", hit.context);
    // and what to rotate is what the code names, not every class the rule could see
    assert_eq!(hit.rotate, ["ssh", "cloud", "kubernetes"]);
    assert!(
        ["cs_ssh", "cs_aws", "py_http_send", "py_archive"]
            .iter()
            .all(|h| hit.rule.helpers.iter().any(|x| x == h)),
        "{:?}",
        hit.rule.helpers
    );
}

/// A user rule that names an unknown kind of fix or class to rotate is refused.
#[test]
fn a_user_rule_with_an_unknown_fix_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.yar"),
        "rule x { meta: fix = \"nuke\" strings: $a = \"zzz\" condition: $a }",
    )
    .unwrap();
    assert!(Signatures::load(&[dir.path().to_path_buf()]).is_err());
}
