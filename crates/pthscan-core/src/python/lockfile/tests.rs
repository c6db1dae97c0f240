//! The lockfile readers: table-driven unit cases, the `tests/lockfiles/` corpus against its
//! `expected.toml` files, and hostile inputs (garbage, truncation, deep nesting) that must
//! neither panic nor take more than linear time.

use std::path::{Path, PathBuf};

use super::*;

fn req(text: &str) -> Lockfile {
    parse(Format::Requirements, text)
}

fn only_pin(lock: &Lockfile) -> &Pin {
    assert_eq!(lock.pins.len(), 1, "{lock:#?}");
    &lock.pins[0]
}

#[test]
fn file_names_say_the_format() {
    let cases = [
        ("uv.lock", Some(Format::UvLock)),
        ("a/b/poetry.lock", Some(Format::PoetryLock)),
        ("pylock.toml", Some(Format::PyLock)),
        ("pylock.dev.toml", Some(Format::PyLock)),
        ("pylock..toml", None),
        ("pylock.a.b.toml", None),
        ("Pipfile.lock", Some(Format::PipfileLock)),
        ("pdm.lock", Some(Format::PdmLock)),
        ("requirements.txt", Some(Format::Requirements)),
        ("requirements-dev.txt", Some(Format::Requirements)),
        ("dev-requirements.txt", Some(Format::Requirements)),
        ("constraints.txt", Some(Format::Requirements)),
        ("constraints-py3.txt", Some(Format::Requirements)),
        ("pyproject.toml", Some(Format::PyProject)),
        ("notes.txt", None),
        ("Cargo.lock", None),
        ("requirements.in", None),
    ];
    for (name, want) in cases {
        assert_eq!(format_of(name), want, "{name}");
    }
}

#[test]
fn pep503_normalisation() {
    for (name, want) in [
        ("LiteLLM", "litellm"),
        ("zope.interface", "zope-interface"),
        ("a__b-._c", "a-b-c"),
        ("Foo_Bar", "foo-bar"),
    ] {
        assert_eq!(normalize(name), want);
    }
}

#[test]
fn commit_ids_are_full_hex_only() {
    assert!(is_commit_id("0123456789abcdef0123456789abcdef01234567"));
    assert!(is_commit_id(&"a".repeat(64)));
    assert!(!is_commit_id("main"));
    assert!(!is_commit_id("0123456"));
    assert!(!is_commit_id(&"g".repeat(40)));
}

#[test]
fn columns_count_characters_not_bytes() {
    let mut li = LineIndex::new("ab\né\u{1F600}x\n");
    assert_eq!(li.pos(0), Pos { line: 1, column: 1 });
    assert_eq!(li.pos(3), Pos { line: 2, column: 1 });
    // `x` after a 2-byte and a 4-byte character
    assert_eq!(li.pos(3 + 2 + 4), Pos { line: 2, column: 3 });
    // an offset inside a character snaps back to its start
    assert_eq!(li.pos(3 + 1), Pos { line: 2, column: 1 });
    assert_eq!(li.pos(10_000).line, 3);
}

/// A requirement line and what it reads as: name, version, requirement, source kind, hashes.
type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, &'a str, usize);

#[test]
fn requirement_lines() {
    let cases: &[Case<'_>] = &[
        (
            "requests==2.31.0",
            "requests",
            Some("2.31.0"),
            "==2.31.0",
            "index",
            0,
        ),
        (
            "requests===2.31.0",
            "requests",
            Some("2.31.0"),
            "===2.31.0",
            "index",
            0,
        ),
        ("requests==2.*", "requests", None, "==2.*", "index", 0),
        ("requests>=2,<3", "requests", None, ">=2,<3", "index", 0),
        ("requests", "requests", None, "", "index", 0),
        (
            "requests[socks] (==2.0)",
            "requests",
            Some("2.0"),
            "==2.0",
            "index",
            0,
        ),
        (
            "six==1.16.0 --hash=sha256:AB --hash SHA256:cd",
            "six",
            Some("1.16.0"),
            "==1.16.0",
            "index",
            2,
        ),
        (
            "x @ https://h/x-1.0.tar.gz#sha256=ff",
            "x",
            Some("1.0"),
            "https://h/x-1.0.tar.gz#sha256=ff",
            "url",
            1,
        ),
        ("x @ file:///tmp/x", "x", None, "file:///tmp/x", "path", 0),
        (
            "git+ssh://git@github.com/o/r.git#egg=r",
            "r",
            None,
            "git+ssh://git@github.com/o/r.git#egg=r",
            "vcs",
            0,
        ),
        (
            "https://h/pkg-2.0-py3-none-any.whl",
            "pkg",
            Some("2.0"),
            "https://h/pkg-2.0-py3-none-any.whl",
            "url",
            0,
        ),
        ("./dir", "", None, "./dir", "path", 0),
        ("x@https://h/x.zip", "x", None, "https://h/x.zip", "url", 0),
        ("x [a] @ ./sub", "x", None, "./sub", "path", 0),
        (
            "dist/a-1.0.tar.gz",
            "a",
            Some("1.0"),
            "dist/a-1.0.tar.gz",
            "path",
            0,
        ),
    ];
    for &(line, name, version, requirement, kind, hashes) in cases {
        let lock = req(line);
        assert!(lock.problems.is_empty(), "{line}: {:?}", lock.problems);
        let pin = only_pin(&lock);
        assert_eq!(pin.name, name, "{line}");
        assert_eq!(pin.version.as_deref(), version, "{line}");
        assert_eq!(pin.requirement, requirement, "{line}");
        assert_eq!(source_kind(&pin.source), kind, "{line}");
        assert_eq!(pin.hashes.len(), hashes, "{line}");
    }
    let lock = req("six==1.16.0 --hash=sha256:AB");
    assert_eq!(lock.pins[0].hashes, ["sha256:AB"]);
}

#[test]
fn markers_are_kept_as_written() {
    let cases = [
        ("a==1;python_version<'3.9'", "python_version<'3.9'"),
        (
            "a ; os_name == \"nt\" and extra == 'x'",
            "os_name == \"nt\" and extra == 'x'",
        ),
        (
            "a @ https://h/a;b.zip ; sys_platform == 'linux'",
            "sys_platform == 'linux'",
        ),
        (
            "https://h/a.whl; python_version >= '3'",
            "python_version >= '3'",
        ),
    ];
    for (line, marker) in cases {
        let lock = req(line);
        assert!(lock.problems.is_empty(), "{line}: {:?}", lock.problems);
        assert_eq!(only_pin(&lock).marker.as_deref(), Some(marker), "{line}");
    }
    assert_eq!(
        req("a @ https://h/a;b.zip").pins[0].requirement,
        "https://h/a;b.zip"
    );
}

#[test]
fn the_default_index() {
    assert!(is_default_index("https://pypi.org/simple"));
    assert!(is_default_index("https://PyPI.org/simple/"));
    assert!(!is_default_index("https://pypi.org/simple/../evil"));
    assert!(!is_default_index("https://pypi.org.evil.example/simple"));
    assert!(!is_default_index("http://pypi.org/simple"));
    assert!(!is_default_index("https://pypi.org/Simple"));
    assert!(!is_default_index("héllo"));
}

#[test]
fn vcs_revisions_are_commits_only_when_full() {
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let cases = [
        (format!("git+https://github.com/o/r@{commit}#egg=r"), true),
        ("git+https://github.com/o/r@main#egg=r".to_owned(), false),
        ("git+https://github.com/o/r@v1.2.3#egg=r".to_owned(), false),
        // the `git@` of the authority is no revision
        ("git+ssh://git@github.com/o/r.git#egg=r".to_owned(), false),
        (
            format!("git+ssh://git@github.com/o/r.git@{commit}#egg=r"),
            true,
        ),
        (format!("r @ git+https://github.com/o/r@{commit}"), true),
        (format!("hg+https://h/r@{commit}#egg=r"), true),
    ];
    for (line, pinned) in cases {
        let lock = req(&line);
        let pin = only_pin(&lock);
        let Source::Vcs { commit: c, .. } = &pin.source else {
            panic!("{line}: {:?}", pin.source);
        };
        assert_eq!(c.is_some(), pinned, "{line}");
    }
}

#[test]
fn continuations_comments_and_positions() {
    let text = "# head\r\n  flask==3.0.0 \\\r\n    --hash=sha256:aa \\\n    --hash=sha256:bb  # two\n\
                pkg @ https://h/p.zip#egg=x  # a comment\n\
                \\\n  late==1\n";
    let lock = req(text);
    assert!(lock.problems.is_empty(), "{:?}", lock.problems);
    assert_eq!(lock.pins.len(), 3, "{lock:#?}");
    let flask = &lock.pins[0];
    assert_eq!(flask.pos, Pos { line: 2, column: 3 });
    assert_eq!(flask.hashes, ["sha256:aa", "sha256:bb"]);
    let pkg = &lock.pins[1];
    assert_eq!(pkg.pos, Pos { line: 5, column: 1 });
    assert_eq!(pkg.requirement, "https://h/p.zip#egg=x");
    // a lone `\` joins the next line: the pin is where its text is
    assert_eq!(lock.pins[2].pos, Pos { line: 7, column: 3 });
}

#[test]
fn options_lines() {
    let text = "-i https://a/simple\n--index-url=https://b/simple\n--extra-index-url https://c\n\
                -f ./wheels\n-rbase.txt\n--requirement=more.txt\n-c cons.txt\n--constraint c2.txt\n\
                --pre\n--no-index\n--trusted-host h\n-e ./local[extra]\n--editable=git+https://h/r#egg=r\n";
    let lock = req(text);
    assert!(lock.problems.is_empty(), "{:?}", lock.problems);
    let urls: Vec<_> = lock
        .indexes
        .iter()
        .map(|i| (i.url.as_str(), i.kind))
        .collect();
    assert_eq!(
        urls,
        [
            ("https://a/simple", IndexKind::Primary),
            ("https://b/simple", IndexKind::Primary),
            ("https://c", IndexKind::Extra),
            ("./wheels", IndexKind::FindLinks),
        ]
    );
    assert_eq!(
        lock.indexes[1].pos,
        Pos {
            line: 2,
            column: 13
        }
    );
    let inc: Vec<_> = lock
        .includes
        .iter()
        .map(|i| (i.path.as_str(), i.constraint, i.pos.line))
        .collect();
    assert_eq!(
        inc,
        [
            ("base.txt", false, 5),
            ("more.txt", false, 6),
            ("cons.txt", true, 7),
            ("c2.txt", true, 8)
        ]
    );
    assert_eq!(lock.pins.len(), 2);
    assert!(lock.pins.iter().all(|p| p.editable));
    assert_eq!(source_kind(&lock.pins[0].source), "path");
    assert_eq!(
        lock.pins[0].pos,
        Pos {
            line: 12,
            column: 4
        }
    );
    assert_eq!(lock.pins[1].name, "r");
    assert_eq!(
        lock.pins[1].pos,
        Pos {
            line: 13,
            column: 12
        }
    );
}

#[test]
fn what_cannot_be_read_is_a_problem() {
    let cases = [
        ("--frobnicate", 1, 1),
        ("-r", 1, 1),
        ("--hash=sha256:aa", 1, 1),
        // a requirement that is not PEP 508: where it stops being so
        ("requests ==", 1, 12),
        ("   !!!", 1, 4),
        ("ok==1\nnot a requirement", 2, 5),
        ("a_ ==1", 1, 3),
        ("a[b_]", 1, 5),
    ];
    for (text, line, column) in cases {
        let lock = req(text);
        assert_eq!(lock.problems.len(), 1, "{text}: {lock:#?}");
        assert_eq!(lock.problems[0].pos, Pos { line, column }, "{text}");
    }
}

#[test]
fn environment_variables_are_not_expanded() {
    let lock = req("x @ https://${TOKEN}@h/x.whl\n--index-url https://${USER}:${PASS}@idx/simple");
    assert_eq!(lock.pins[0].requirement, "https://${TOKEN}@h/x.whl");
    assert_eq!(lock.indexes[0].url, "https://${USER}:${PASS}@idx/simple");
}

#[test]
fn broken_toml_and_json_are_problems_with_positions() {
    let lock = parse(
        Format::UvLock,
        "[[package]]\nname = \"a\"\nversion = \"1\"\n\n[[package]]\nname = \n",
    );
    assert!(!lock.problems.is_empty());
    assert_eq!(lock.problems[0].pos.line, 6, "{:?}", lock.problems);
    // what was read before the error is kept
    assert!(lock.pins.iter().any(|p| p.name == "a"), "{lock:#?}");
    assert_eq!(lock.pins[0].name, "a");

    let lock = parse(Format::PipfileLock, "{\n  \"default\": {\n    \"a\": [\n}");
    assert_eq!(lock.problems.len(), 1);
    assert_eq!(lock.problems[0].pos.line, 4, "{:?}", lock.problems);

    let lock = parse(Format::PoetryLock, "[[package]]\nversion = \"1\"\n");
    assert_eq!(lock.problems.len(), 1, "{lock:#?}");
    assert_eq!(lock.problems[0].pos.line, 1);
}

#[test]
fn pipfile_positions_follow_the_nesting() {
    // `requests` appears first as a marker string and under `_meta`; the pin is the key
    let text = r#"{"_meta": {"requests": 1, "sources": [{"name": "p", "url": "https://idx/simple"}]},
"default": {"x": {"markers": "\"requests\" in extra", "version": "==1"},
  "requests": {"version": "==2", "index": "p", "hashes": ["sha256:aa"]},
  "g": {"git": "https://h/r.git", "ref": "0123456789abcdef0123456789abcdef01234567"}},
"develop": {"re\u0071": {"version": ">=1"}}}"#;
    let lock = parse(Format::PipfileLock, text);
    assert!(lock.problems.is_empty(), "{:?}", lock.problems);
    let find = |n: &str| lock.pins.iter().find(|p| p.name == n).unwrap();
    assert_eq!(find("requests").pos, Pos { line: 3, column: 4 });
    assert_eq!(
        find("requests").source,
        Source::Index(Some("https://idx/simple".into()))
    );
    assert_eq!(source_kind(&find("g").source), "vcs-commit");
    assert_eq!(
        find("req").pos,
        Pos {
            line: 5,
            column: 14
        }
    );
    assert_eq!(find("req").version, None);
    // an index is where its `url` key is
    assert_eq!(
        lock.indexes[0].pos,
        Pos {
            line: 1,
            column: 53
        }
    );
}

#[test]
fn lock_sources() {
    let text = r#"
[[package]]
name = "a"
version = "1"
source = { url = "https://h/a-1.tar.gz" }
sdist = { hash = "sha256:aa" }

[[package]]
name = "b"
version = "1"
source = { path = "../b" }

[[package]]
name = "c"
version = "1"
source = { registry = "./flat" }
"#;
    let lock = parse(Format::UvLock, text);
    let kinds: Vec<_> = lock.pins.iter().map(|p| source_kind(&p.source)).collect();
    assert_eq!(kinds, ["url", "path", "path"]);
    assert_eq!(lock.pins[0].hashes, ["sha256:aa"]);

    let poetry = r#"
[[package]]
name = "g"
version = "1"
files = []
[package.source]
type = "git"
url = "https://h/g.git"
reference = "main"
resolved_reference = "0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "p"
version = "2"
files = []
[package.source]
type = "legacy"
url = "https://private/simple"
reference = "private"

[[package]]
name = "old"
version = "3"

[metadata.files]
old = [{file = "old-3.tar.gz", hash = "sha256:bb"}]
"#;
    let lock = parse(Format::PoetryLock, poetry);
    let kinds: Vec<_> = lock.pins.iter().map(|p| source_kind(&p.source)).collect();
    assert_eq!(kinds, ["vcs-commit", "index", "index"]);
    assert_eq!(lock.indexes[0].url, "https://private/simple");
    assert_eq!(lock.pins[2].hashes, ["sha256:bb"]);

    let pdm = r#"
[[package]]
name = "g"
version = "1"
git = "https://h/g.git"
ref = "main"
revision = "0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "e"
version = "1"
path = "./e"
editable = true
"#;
    let lock = parse(Format::PdmLock, pdm);
    let kinds: Vec<_> = lock.pins.iter().map(|p| source_kind(&p.source)).collect();
    assert_eq!(kinds, ["vcs-commit", "path"]);
    assert!(lock.pins[1].editable);

    let pylock = r#"
lock-version = "1.0"
[[packages]]
name = "v"
version = "1"
vcs = { type = "git", url = "https://h/v.git", requested-revision = "main", commit-id = "0123456789abcdef0123456789abcdef01234567" }

[[packages]]
name = "a"
archive = { url = "https://h/a.zip", hashes = { sha256 = "cc" } }

[[packages]]
name = "i"
version = "2"
index = "https://private/simple"
wheels = [{ name = "i-2-py3-none-any.whl", hashes = { sha256 = "dd", blake2b = "ee" } }]
"#;
    let lock = parse(Format::PyLock, pylock);
    let kinds: Vec<_> = lock.pins.iter().map(|p| source_kind(&p.source)).collect();
    assert_eq!(kinds, ["vcs-commit", "url", "index"]);
    assert_eq!(lock.pins[1].hashes, ["sha256:cc"]);
    assert_eq!(lock.pins[1].version, None);
    assert_eq!(lock.pins[2].hashes, ["blake2b:ee", "sha256:dd"]);
}

// ---- the corpus ----

/// `source` of `expected.toml`: `index`, `url`, `vcs` (no commit), `vcs-commit`, `path`.
fn source_kind(s: &Source) -> &'static str {
    match s {
        Source::Index(_) => "index",
        Source::Url(_) => "url",
        Source::Vcs { commit: None, .. } => "vcs",
        Source::Vcs {
            commit: Some(_), ..
        } => "vcs-commit",
        Source::Path(_) => "path",
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/lockfiles")
}

/// Every directory under `tests/lockfiles` with an `expected.toml`, and its one input file.
fn corpus_cases() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![corpus_dir()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        let expected = dir.join("expected.toml");
        for p in &entries {
            if p.is_dir() {
                stack.push(p.clone());
            } else if expected.exists() && p.file_name().unwrap() != "expected.toml" {
                out.push((p.clone(), expected.clone()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn lockfile_corpus() {
    let cases = corpus_cases();
    assert!(cases.len() >= 11, "{cases:?}");
    for (input, expected) in cases {
        let name = input.file_name().unwrap().to_str().unwrap();
        let format = format_of(name).unwrap_or_else(|| panic!("{name}: no format"));
        let text = std::fs::read_to_string(&input).unwrap();
        let lock = parse(format, &text);
        let want: toml::Table = toml::from_str(&std::fs::read_to_string(&expected).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
        let at = input.display().to_string();
        let count = |k: &str| want.get(k).and_then(toml::Value::as_integer);
        assert_eq!(
            Some(lock.pins.len() as i64),
            count("pin_count"),
            "{at}: {lock:#?}"
        );
        for (key, got) in [
            ("indexes", lock.indexes.len()),
            ("includes", lock.includes.len()),
            ("problems", lock.problems.len()),
        ] {
            if let Some(n) = count(key) {
                assert_eq!(got as i64, n, "{at}: {key}: {lock:#?}");
            }
        }
        if want
            .get("all_exact_hashed_default")
            .and_then(toml::Value::as_bool)
            == Some(true)
        {
            for p in &lock.pins {
                assert!(p.version.is_some() && !p.hashes.is_empty(), "{at}: {p:?}");
                assert!(
                    matches!(&p.source, Source::Index(None))
                        || matches!(&p.source, Source::Index(Some(u)) if is_default_index(u)),
                    "{at}: {p:?}"
                );
            }
            for i in &lock.indexes {
                assert!(is_default_index(&i.url), "{at}: {i:?}");
            }
        }
        let pins = want.get("pin").and_then(toml::Value::as_array);
        for w in pins.into_iter().flatten() {
            check_pin(&at, &lock, w.as_table().unwrap());
        }
    }
}

fn check_pin(at: &str, lock: &Lockfile, w: &toml::Table) {
    let s = |k: &str| w.get(k).and_then(toml::Value::as_str);
    let i = |k: &str| w.get(k).and_then(toml::Value::as_integer);
    let name = s("name").unwrap();
    let line = i("line").unwrap() as u32;
    let pin = lock
        .pins
        .iter()
        .find(|p| p.name == name && p.pos.line == line)
        .unwrap_or_else(|| panic!("{at}: no pin {name:?} on line {line}: {lock:#?}"));
    assert_eq!(pin.version.as_deref(), s("version"), "{at}: {name}");
    assert_eq!(Some(i64::from(pin.pos.column)), i("column"), "{at}: {name}");
    assert_eq!(
        !pin.hashes.is_empty(),
        w["has_hashes"].as_bool().unwrap(),
        "{at}: {name}"
    );
    assert_eq!(
        source_kind(&pin.source),
        s("source").unwrap(),
        "{at}: {name}"
    );
    assert_eq!(
        pin.normalized,
        s("normalized").map_or_else(|| normalize(name), str::to_owned),
        "{at}: {name}"
    );
    if let Some(r) = s("requirement") {
        assert_eq!(pin.requirement, r, "{at}: {name}");
    }
    if let Some(m) = s("marker") {
        assert_eq!(pin.marker.as_deref(), Some(m), "{at}: {name}");
    }
    if let Some(url) = s("index") {
        assert_eq!(
            pin.source,
            Source::Index(Some(url.to_owned())),
            "{at}: {name}"
        );
    }
    if let Some(n) = i("hash_count") {
        assert_eq!(pin.hashes.len() as i64, n, "{at}: {name}");
    }
    let editable = w.get("editable").and_then(toml::Value::as_bool);
    assert_eq!(pin.editable, editable == Some(true), "{at}: {name}");
}

// ---- hostile inputs ----

const FORMATS: [Format; 7] = [
    Format::UvLock,
    Format::PoetryLock,
    Format::PyLock,
    Format::PipfileLock,
    Format::PdmLock,
    Format::Requirements,
    Format::PyProject,
];

/// xorshift: deterministic garbage without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn no_input_panics() {
    // every corpus file cut at many points, as every format
    for (input, _) in corpus_cases() {
        let text = std::fs::read_to_string(&input).unwrap();
        let step = (text.len() / 60).max(1);
        for cut in (0..text.len()).step_by(step) {
            if !text.is_char_boundary(cut) {
                continue;
            }
            for f in FORMATS {
                let _ = parse(f, &text[..cut]);
            }
        }
    }
    // random strings over the formats' syntax characters
    let alphabet: Vec<char> =
        "[]{}\"'=,.:;@#\\/\n\r\t -_+<>!~*()abcgitsha256é0123456789\u{feff}\u{2028}"
            .chars()
            .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..3000 {
        let len = (rng.next() % 200) as usize;
        let s: String = (0..len)
            .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
            .collect();
        for f in FORMATS {
            let _ = parse(f, &s);
        }
    }
    // fragments that look like each format, shuffled together
    let pieces = [
        "[[package]]\n",
        "[[packages]]\n",
        "name = \"a\"\n",
        "version = \"1\"\n",
        "source = { git = \"https://h/r?rev=x#",
        "wheels = [{ hash = \"sha256:",
        "hashes = {sha256 = 1}\n",
        "{\"default\": {\"a\": {\"version\": \"==",
        "\"_meta\": {\"sources\": [{\"url\": ",
        "-e ",
        "--hash=",
        "git+https://h/r@",
        "a @ ",
        " ; python_version < \"3\"",
        "\\\n",
        "[project]\ndependencies = [\"",
        "[metadata.files]\n",
    ];
    for _ in 0..3000 {
        let n = (rng.next() % 12) as usize;
        let s: String = (0..n)
            .map(|_| pieces[(rng.next() % pieces.len() as u64) as usize])
            .collect();
        for f in FORMATS {
            let _ = parse(f, &s);
        }
    }
}

#[test]
fn deep_nesting_and_long_lines_stay_bounded() {
    let deep_arrays = "[".repeat(200_000);
    let deep_json = format!("{}{}", "{\"a\":".repeat(100_000), "1");
    let deep_toml = format!("a = {}", "[".repeat(100_000));
    let backslashes = "\\\n".repeat(100_000);
    for text in [&deep_arrays, &deep_json, &deep_toml, &backslashes] {
        for f in FORMATS {
            let _ = parse(f, text);
        }
    }
    // a one-line, non-ASCII Pipfile.lock with many pins: positions stay linear
    let mut one_line = String::from("{\"_meta\": {\"x\": \"é\"}, \"default\": {");
    for i in 0..20_000 {
        if i > 0 {
            one_line.push(',');
        }
        one_line.push_str(&format!("\"pkgé{i}\": {{\"version\": \"==1\"}}"));
    }
    one_line.push_str("}}");
    let started = std::time::Instant::now();
    let lock = parse(Format::PipfileLock, &one_line);
    assert_eq!(lock.pins.len(), 20_000);
    assert!(lock.pins.iter().all(|p| p.pos.line == 1));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    // many requirement lines and many registries: no quadratic dedup
    let many: String = (0..20_000)
        .map(|i| format!("--extra-index-url https://i{i}/simple\npkg{i}==1 --hash=sha256:aa\n"))
        .collect();
    let lock = req(&many);
    assert_eq!(lock.pins.len(), 20_000);
    assert_eq!(lock.indexes.len(), 20_000);
}

#[test]
fn requirement_lines_end_where_python_s_splitlines_ends_them() {
    // pip reads the file with `str.splitlines()`: a form feed or U+2028 after a comment ends
    // the comment, and a no-break space before `#` starts one
    for text in [
        "# deps\x0clitellm==1.82.8\n",
        "# deps\u{2028}litellm==1.82.8\n",
        "# deps\u{85}litellm==1.82.8\n",
        "requests==2.31.0\rlitellm==1.82.8\r",
        "litellm==1.82.8\u{a0}# pinned\n",
        "litellm==1.82.8,<2\n",
    ] {
        let lock = parse(Format::Requirements, text);
        assert!(
            lock.pins
                .iter()
                .any(|p| p.normalized == "litellm" && p.version.as_deref() == Some("1.82.8")),
            "{text:?}: {:?} {:?}",
            lock.pins,
            lock.problems
        );
    }
}

#[test]
fn pyproject_build_requirements_and_tool_groups_are_pins() {
    let text = r#"[build-system]
requires = ["setuptools>=61", "litellm==1.82.8"]

[tool.uv]
dev-dependencies = ["a==1"]
constraint-dependencies = ["b==2"]
override-dependencies = ["c==3"]

[tool.pdm.dev-dependencies]
test = ["d==4"]
"#;
    let lock = parse(Format::PyProject, text);
    let got: Vec<(&str, Option<&str>, u32)> = lock
        .pins
        .iter()
        .map(|p| (p.normalized.as_str(), p.version.as_deref(), p.pos.line))
        .collect();
    assert_eq!(
        got,
        [
            ("setuptools", None, 2),
            ("litellm", Some("1.82.8"), 2),
            ("a", Some("1"), 5),
            ("b", Some("2"), 6),
            ("c", Some("3"), 7),
            ("d", Some("4"), 10),
        ]
    );
}

#[test]
fn a_direct_url_s_file_name_says_the_release() {
    for text in [
        "litellm @ https://files.pythonhosted.org/packages/x/litellm-1.82.8-py3-none-any.whl\n",
        "https://files.pythonhosted.org/packages/x/litellm-1.82.8.tar.gz\n",
        "LiteLLM @ https://example.com/litellm-1.82.8.zip#sha256=00\n",
    ] {
        let lock = parse(Format::Requirements, text);
        assert!(
            lock.pins
                .iter()
                .any(|p| p.normalized == "litellm" && p.version.as_deref() == Some("1.82.8")),
            "{text:?}: {:?}",
            lock.pins
        );
    }
    // another project's file under a name: the name is not given that version
    let lock = parse(Format::Requirements, "a @ https://x/b-1.0.tar.gz\n");
    assert_eq!(lock.pins[0].version, None);
}

#[test]
fn pipfile_lock_categories_beyond_default_and_develop_are_read() {
    let text = r#"{"_meta": {"sources": []},
 "default": {"a": {"version": "==1.0"}},
 "tests": {"litellm": {"version": "==1.82.8", "hashes": ["sha256:00"]}}}"#;
    let lock = parse(Format::PipfileLock, text);
    let got: Vec<(&str, Option<&str>, u32)> = lock
        .pins
        .iter()
        .map(|p| (p.normalized.as_str(), p.version.as_deref(), p.pos.line))
        .collect();
    assert_eq!(got, [("a", Some("1.0"), 2), ("litellm", Some("1.82.8"), 3)]);
}

#[test]
fn a_uv_lock_is_read_a_package_at_a_time_with_its_positions() {
    let text = "version = 1\n\n[[package]]\nname = \"a\"\nversion = \"1\"\n\
                sdist = { url = \"https://h/a.tar.gz\", hash = \"sha256:aa\" }\n\
                [package.optional-dependencies]\nx = [{ name = \"c\" }]\n\n\
                  [[package]]\nname = \"b\"\nversion = \"2\"\n\
                source = { registry = \"https://idx/simple\" }\n";
    let lock = parse(Format::UvLock, text);
    assert!(lock.problems.is_empty(), "{:?}", lock.problems);
    let pins: Vec<_> = lock
        .pins
        .iter()
        .map(|p| (p.name.as_str(), p.pos.line, p.pos.column))
        .collect();
    assert_eq!(pins, [("a", 4, 1), ("b", 11, 1)]);
    assert_eq!(lock.pins[0].hashes, ["sha256:aa"]);
    // the index's column is the URL's first character, in the second part
    assert_eq!(
        lock.indexes[0].pos,
        Pos {
            line: 13,
            column: 24
        }
    );
}

#[test]
fn a_package_table_too_large_to_read_is_said_and_the_others_are_read() {
    let wheels: String = (0..12_000)
        .map(|i| format!("  {{ url = \"https://h/w{i}.whl\", hash = \"sha256:{i:064x}\" }},\n"))
        .collect();
    let text = format!(
        "[[package]]\nname = \"big\"\nversion = \"1\"\nwheels = [\n{wheels}]\n\n\
         [[package]]\nname = \"small\"\nversion = \"1\"\n"
    );
    let lock = parse(Format::UvLock, &text);
    let names: Vec<_> = lock.pins.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["small"]);
    assert_eq!(lock.problems.len(), 1, "{:?}", lock.problems);
    assert!(lock.problems[0].unread);
    assert_eq!(lock.problems[0].pos.line, 1);
}

#[test]
fn a_header_inside_a_multi_line_string_is_not_passed_over_unsaid() {
    let text = "[[package]]\nname = \"a\"\nversion = \"1\"\nnote = \"\"\"\n[[package]]\n\"\"\"\n";
    let lock = parse(Format::UvLock, text);
    assert!(!lock.problems.is_empty(), "{lock:#?}");
}

#[test]
fn a_continued_line_loses_its_leading_backslashes_as_in_pip() {
    // pip's join_lines strips `\` from both ends of a line that continues
    let lock = req("\\\\litellm==1.82.8 \\\n    --hash=sha256:aa\n");
    assert!(lock.problems.is_empty(), "{:?}", lock.problems);
    let pin = only_pin(&lock);
    assert_eq!(pin.name, "litellm");
    assert_eq!(pin.version.as_deref(), Some("1.82.8"));
    assert_eq!(pin.hashes, ["sha256:aa"]);
    assert_eq!(pin.pos, Pos { line: 1, column: 3 });
}

#[test]
fn poetrys_own_dependency_tables_are_pins_as_the_constraints_mean() {
    let text = r#"[tool.poetry.dependencies]
python = "^3.9"
litellm = "1.82.8"
requests = "^2.31"
zero = "^0.2.3"
tilde = { version = "~1.2", optional = true }
spaced = ">= 1.0, < 2.0"
either = "^1.0 || ^3.0"
repo = { git = "https://h/repo.git", rev = "0123456789abcdef0123456789abcdef01234567" }
local = { path = "../local" }
split = [{ version = "<2", python = "<3.8" }, { version = ">=2", python = ">=3.8" }]

[tool.poetry.group.dev.dependencies]
pytest = "*"

[[tool.poetry.source]]
name = "internal"
url = "https://idx.example/simple"
priority = "supplemental"
"#;
    let lock = parse(Format::PyProject, text);
    assert!(lock.problems.is_empty(), "{:?}", lock.problems);
    let got: Vec<(&str, &str, Option<&str>, u32)> = lock
        .pins
        .iter()
        .map(|p| {
            (
                p.normalized.as_str(),
                p.requirement.as_str(),
                p.version.as_deref(),
                p.pos.line,
            )
        })
        .collect();
    assert_eq!(
        got[..7],
        [
            ("litellm", "==1.82.8", Some("1.82.8"), 3),
            ("requests", ">=2.31,<3", None, 4),
            ("zero", ">=0.2.3,<0.3", None, 5),
            ("tilde", ">=1.2,<1.3", None, 6),
            ("spaced", ">=1.0,<2.0", None, 7),
            ("either", ">=1.0,<2", None, 8),
            ("either", ">=3.0,<4", None, 8),
        ]
    );
    assert_eq!(source_kind(&got_pin(&lock, "repo").source), "vcs-commit");
    assert!(lock.pins.iter().all(|p| p.normalized != "local"));
    let split: Vec<_> = lock.pins.iter().filter(|p| p.name == "split").collect();
    assert_eq!(split.len(), 2);
    let pytest = got_pin(&lock, "pytest");
    assert_eq!((pytest.requirement.as_str(), pytest.pos.line), ("", 14));
    assert_eq!(lock.indexes.len(), 1);
    assert_eq!(lock.indexes[0].kind, IndexKind::Extra);
    assert_eq!(
        lock.indexes[0].pos,
        Pos {
            line: 18,
            column: 8
        }
    );
}

fn got_pin<'l>(lock: &'l Lockfile, name: &str) -> &'l Pin {
    lock.pins.iter().find(|p| p.name == name).unwrap()
}

#[test]
fn a_pylock_package_without_a_version_takes_its_files_version() {
    let text = r#"lock-version = "1.0"
created-by = "x"

[[packages]]
name = "LiteLLM"
wheels = [{ name = "litellm-1.82.8-py3-none-any.whl", url = "https://h/litellm-1.82.8-py3-none-any.whl", hashes = { sha256 = "aa" } }]

[[packages]]
name = "other"
sdist = { url = "https://h/evil-2.0.tar.gz", hashes = { sha256 = "bb" } }

[[packages]]
name = "third"
archive = { url = "https://h/third-3.1.tar.gz", hashes = { sha256 = "cc" } }
"#;
    let lock = parse(Format::PyLock, text);
    assert!(lock.problems.is_empty(), "{:?}", lock.problems);
    let got: Vec<_> = lock
        .pins
        .iter()
        .map(|p| (p.normalized.as_str(), p.version.as_deref()))
        .collect();
    // a file of another project's name gives no version
    assert_eq!(
        got,
        [
            ("litellm", Some("1.82.8")),
            ("other", None),
            ("third", Some("3.1"))
        ]
    );
}
