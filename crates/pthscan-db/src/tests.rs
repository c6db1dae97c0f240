//! Records in the real OSV schema, written here: a version list (the LiteLLM record's shape),
//! ranges, a withdrawn record, another ecosystem, a vulnerability advisory, a name list.

use super::*;

fn db(texts: &[&str]) -> Database {
    let mut db = Database::default();
    let mut source = Source::default();
    for (i, t) in texts.iter().enumerate() {
        db.add_json(&format!("test{i}.json"), t.as_bytes(), &mut source)
            .expect("loads");
    }
    db.sources.push(source);
    db
}

const LITELLM: &str = r#"{
  "schema_version": "1.7.4", "id": "MAL-2026-2144", "modified": "2026-03-26T09:53:17Z",
  "aliases": ["PYSEC-2026-2"], "summary": "Malicious code in litellm (PyPI)",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "litellm"}, "versions": ["1.82.7", "1.82.8"]}],
  "database_specific": {"malicious-packages-origins": [{"source": "ossf-package-analysis", "versions": ["1.82.8"]}]}
}"#;

const RANGES: &str = r#"{
  "id": "MAL-2099-1", "modified": "2099-01-01T00:00:00Z", "summary": "Malicious code in evil-pkg (PyPI)",
  "affected": [
    {"package": {"ecosystem": "PyPI", "name": "Evil_Pkg"},
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.3"}]},
                {"type": "ECOSYSTEM", "events": [{"introduced": "3.0a1"}, {"last_affected": "3.1"}]},
                {"type": "GIT", "repo": "https://example.invalid/x", "events": [{"introduced": "0"}]}]},
    {"package": {"ecosystem": "npm", "name": "evil-js"}, "versions": ["1.0.0"]}
  ]
}"#;

const EVERY: &str = r#"{
  "id": "MAL-2099-2", "modified": "2099-01-02T00:00:00Z", "summary": "Malicious code in jinja22 (PyPI)",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja22"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]
}"#;

const WITHDRAWN: &str = r#"{
  "id": "MAL-2099-3", "modified": "2099-01-03T00:00:00Z", "withdrawn": "2099-01-04T00:00:00Z",
  "summary": "Malicious code in requests (PyPI)",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "requests"}, "versions": ["2.32.3"]}]
}"#;

const NPM_ONLY: &str = r#"{
  "id": "MAL-2099-4", "modified": "2099-01-05T00:00:00Z", "summary": "Malicious code in left-pad (npm)",
  "affected": [{"package": {"ecosystem": "npm", "name": "left-pad"}, "versions": ["1.0.0"]}]
}"#;

const ADVISORY: &str = r#"{
  "id": "PYSEC-2099-9", "modified": "2099-01-06T00:00:00Z", "summary": "Path traversal in foo",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "foo"}, "versions": ["1.0"]}]
}"#;

fn ids(db: &Database, name: &str, version: &str) -> Vec<String> {
    db.lookup(name, version)
        .iter()
        .map(|m| m.record.id.clone())
        .collect()
}

#[test]
fn names_compare_pep503_normalised() {
    let db = db(&[LITELLM]);
    for name in [
        "litellm",
        "LiteLLM",
        "lite-llm",
        "lite_llm",
        "Lite.LLM",
        "  litellm ",
    ] {
        let expected: &[&str] = if normalize(name) == "litellm" {
            &["MAL-2026-2144"]
        } else {
            &[]
        };
        assert_eq!(ids(&db, name, "1.82.8"), expected, "{name}");
    }
    assert_eq!(normalize("Lite__LLM..x"), "lite-llm-x");
    assert!(ids(&db, "litellm-proxy", "1.82.8").is_empty());
}

#[test]
fn versions_compare_pep440() {
    let db = db(&[LITELLM]);
    for (v, hit) in [
        ("1.82.8", true),
        ("1.82.7", true),
        ("1.82.8.0", true),
        ("v1.82.8", true),
        ("1.82.8.post0", false),
        ("1.82.8rc1", false),
        ("1.82.8.dev0", false),
        ("1.82.6", false),
        ("1.82.80", false),
        ("1.82", false),
    ] {
        assert_eq!(!ids(&db, "litellm", v).is_empty(), hit, "{v}");
    }
}

#[test]
fn ranges_follow_the_osv_evaluation() {
    let db = db(&[RANGES]);
    for (v, hit) in [
        ("1.9", false),
        ("2.0", true),
        ("2.0rc1", false),
        ("2.2.9", true),
        ("2.3", false),
        ("2.3.post1", false),
        ("3.0a1", true),
        ("3.0", true),
        ("3.1", true),
        ("3.1.post1", false),
        ("3.2", false),
        ("not a version", false),
    ] {
        assert_eq!(!ids(&db, "evil-pkg", v).is_empty(), hit, "{v}");
    }
    // the npm package of the same record is not a PyPI name
    assert!(ids(&db, "evil-js", "1.0.0").is_empty());
}

#[test]
fn introduced_zero_is_every_version() {
    let db = db(&[EVERY]);
    let m = db.lookup("Jinja22", "0.0.1");
    assert_eq!(m.len(), 1);
    assert_eq!(db.lookup_name("jinja22").len(), 1);
    assert!(db.lookup_name("jinja2").is_empty());
}

#[test]
fn withdrawn_records_never_match_and_are_counted() {
    let db = db(&[WITHDRAWN, LITELLM]);
    assert!(ids(&db, "requests", "2.32.3").is_empty());
    assert_eq!(db.sources[0].withdrawn, 1);
    assert_eq!(db.sources[0].records, 1);
}

#[test]
fn other_ecosystems_and_advisories_are_skipped_and_counted() {
    let db = db(&[NPM_ONLY, ADVISORY]);
    assert!(db.records().is_empty());
    assert_eq!(db.sources[0].skipped, 2);
    assert!(ids(&db, "foo", "1.0").is_empty());
}

#[test]
fn a_name_list_maps_names_to_every_or_some_versions() {
    let db = db(&[r#"{"coloramapkgs": null, "Some.Pkg": ["0.1", "0.2"]}"#]);
    assert_eq!(
        ids(&db, "coloramapkgs", "9.9"),
        ["DATADOG-PYPI:coloramapkgs"]
    );
    assert_eq!(ids(&db, "some-pkg", "0.2.0"), ["DATADOG-PYPI:some-pkg"]);
    assert!(ids(&db, "some-pkg", "0.3").is_empty());
    assert!(db.lookup_name("some_pkg").is_empty());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let mut d = Database::default();
    let mut s = Source::default();
    for bad in [
        "",
        "[",
        "42",
        r#"{"a": 3}"#,
        r#"[{"x": 1}]"#,
        r#"{"id": "MAL-1", "affected": 7}"#,
    ] {
        assert!(
            d.add_json("bad.json", bad.as_bytes(), &mut s).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn a_directory_and_a_zip_load_alike() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("osv/malicious/pypi/litellm");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("MAL-2026-2144.json"), LITELLM).unwrap();
    std::fs::write(sub.join("broken.json"), "{").unwrap();
    std::fs::write(sub.join("README.md"), "not json").unwrap();
    let mut d = Database::default();
    d.load_path(dir.path()).unwrap();
    assert_eq!(ids(&d, "litellm", "1.82.7"), ["MAL-2026-2144"]);
    assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
    assert_eq!(d.sources[0].skipped, 1);

    let zpath = dir.path().join("all.zip");
    {
        let mut z = zip::ZipWriter::new(std::fs::File::create(&zpath).unwrap());
        let o = zip::write::SimpleFileOptions::default();
        z.start_file("MAL-2026-2144.json", o).unwrap();
        std::io::Write::write_all(&mut z, LITELLM.as_bytes()).unwrap();
        z.start_file("MAL-2099-1.json", o).unwrap();
        std::io::Write::write_all(&mut z, RANGES.as_bytes()).unwrap();
        z.finish().unwrap();
    }
    let mut d = Database::default();
    d.load_path(&zpath).unwrap();
    assert_eq!(ids(&d, "litellm", "1.82.8"), ["MAL-2026-2144"]);
    assert_eq!(ids(&d, "evil-pkg", "2.1"), ["MAL-2099-1"]);
    assert!(
        d.records()[0]
            .origin
            .ends_with("all.zip!MAL-2026-2144.json")
    );
}

/// Every embedded record's listed versions are its positive examples; the version after each
/// (`.post999`) and a name no record uses are negative ones.
#[test]
fn the_embedded_records_match_their_own_versions_only() {
    let db = Database::embedded();
    assert!(db.records().len() >= 1000, "{}", db.records().len());
    let mut seen = std::collections::HashSet::new();
    for r in db.records() {
        assert!(seen.insert(&r.id), "duplicate id {}", r.id);
        for a in &r.affected {
            let hits = |v: &str| db.lookup(&a.name, v).iter().any(|m| m.record.id == r.id);
            if r.withdrawn.is_some() {
                for v in &a.versions {
                    assert!(!hits(v), "withdrawn {} matches {} {v}", r.id, a.name);
                }
                continue;
            }
            assert!(a.every_version || !a.versions.is_empty() || !a.ranges.is_empty());
            for v in &a.versions {
                assert!(hits(v), "{} does not match {} {v}", r.id, a.name);
                if !a.every_version {
                    assert!(!hits(&format!("{v}.post999")), "{} matches past {v}", r.id);
                }
            }
            if a.every_version {
                assert!(hits("0.0.1") && hits("99.0"), "{}", r.id);
            }
            let other = format!("{}-not-this-one", a.name);
            assert!(db.lookup(&other, "1.0").iter().all(|m| m.record.id != r.id));
        }
    }
}

#[test]
fn the_embedded_snapshot_has_the_litellm_record() {
    let db = Database::embedded();
    assert!(db.problems.is_empty(), "{:?}", db.problems);
    let m = db.lookup("litellm", "1.82.8");
    assert!(m.iter().any(|m| m.record.id == "MAL-2026-2144"));
    assert!(m[0].record.aliases.contains(&"PYSEC-2026-2".to_owned()));
    assert!(m[0].record.origin.starts_with("embedded:"));
    assert!(db.lookup("litellm", "1.82.6").is_empty());
}

#[test]
fn ranges_pthscan_cannot_order_name_no_release() {
    // SEMVER and GIT ranges do not order PyPI releases: the package is not "every version"
    let semver = r#"{"id": "MAL-2099-5", "modified": "2099-01-01T00:00:00Z", "summary": "Malicious code in rangepkg",
      "affected": [{"package": {"ecosystem": "PyPI", "name": "rangepkg"},
                    "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.1.0"}]}]}]}"#;
    let db = db(&[semver]);
    assert!(ids(&db, "rangepkg", "5.0").is_empty());
    assert!(ids(&db, "rangepkg", "1.0.5").is_empty());
    assert_eq!(db.sources[0].skipped, 1);
}

#[test]
fn an_imported_record_replaces_the_embedded_one_of_the_same_id() {
    let withdrawn = LITELLM.replacen(
        r#""modified": "2026-03-26T09:53:17Z","#,
        r#""modified": "2026-12-01T00:00:00Z", "withdrawn": "2026-12-01T00:00:00Z","#,
        1,
    );
    let db = Database::with_embedded(db(&[&withdrawn]));
    assert!(
        !ids(&db, "litellm", "1.82.8").contains(&"MAL-2026-2144".to_owned()),
        "the withdrawal must win"
    );
    assert_eq!(
        db.records()
            .iter()
            .filter(|r| r.id == "MAL-2026-2144")
            .count(),
        1
    );
}

#[test]
fn a_source_past_the_record_cap_is_refused() {
    let mut names = String::from("{");
    for i in 0..=MAX_RECORDS {
        if i > 0 {
            names.push(',');
        }
        names.push_str(&format!("\"n{i}\": null"));
    }
    names.push('}');
    let mut d = Database::default();
    let err = d
        .add_json("big.json", names.as_bytes(), &mut Source::default())
        .unwrap_err();
    assert!(
        err.to_string().contains("more than 200000 records"),
        "{err}"
    );
    assert!(d.records().is_empty());
}

#[test]
fn a_range_that_allows_a_listed_release_is_said() {
    let db = db(&[LITELLM]);
    let got = |spec: &str| -> Vec<String> {
        db.admitted("LiteLLM", spec)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    };
    assert_eq!(got(">=1.80"), ["1.82.7", "1.82.8"]);
    assert_eq!(got("==1.82.*"), ["1.82.7", "1.82.8"]);
    assert_eq!(got("~=1.82.8"), ["1.82.8"]);
    assert_eq!(got(">1.82.7,<=1.82.8"), ["1.82.8"]);
    assert!(got(">=1.83").is_empty());
    assert!(got("<1.82.7").is_empty());
    assert!(got("not a specifier").is_empty());
}

#[test]
fn a_range_event_that_is_no_version_is_said_not_dropped() {
    let text = r#"{
      "id": "MAL-2099-7", "modified": "2099-01-07T00:00:00Z", "summary": "Malicious code in oddly (PyPI)",
      "affected": [{"package": {"ecosystem": "PyPI", "name": "oddly"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "v-one"}, {"fixed": "2.0"}]},
                               {"type": "ECOSYSTEM", "events": [{"introduced": "3.0"}, {"since": "3.5"}]}]}]
    }"#;
    let db = db(&[text, RANGES]);
    let said: Vec<String> = db.problems.iter().map(ToString::to_string).collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(
        said[0].contains("MAL-2099-7") && said[0].contains("v-one"),
        "{said:?}"
    );
    assert!(said[1].contains("since"), "{said:?}");
    // the record is kept, and what it cannot order matches nothing
    assert!(ids(&db, "oddly", "1.0").is_empty());
    assert!(ids(&db, "oddly", "3.6").is_empty());
    assert_eq!(ids(&db, "evil-pkg", "2.1"), ["MAL-2099-1"]);
}
