//! pip's requirements and constraints files, read as pip reads them (`pip/_internal/req/
//! req_file.py`):
//!
//! 1. lines ending in `\` are joined with the next (a comment line ends the join);
//! 2. a comment is `#` at the start or after whitespace (`#egg=` inside a URL is not one);
//! 3. the line splits at its first token starting with `-`: before it the requirement, from it
//!    the options (`--hash` on a requirement; `-r`, `-c`, `-i`, `--extra-index-url`,
//!    `-f`, `-e`, … on a line of their own);
//! 4. a requirement that is a URL or a path is an unnamed requirement (a VCS URL with
//!    `@rev` and `#egg=name`, an archive URL, a local directory or archive); anything else is
//!    PEP 508 (`name[extras] specifiers ; marker`, `name @ URL ; marker`), parsed by
//!    [`super::pep508`].
//!
//! Environment variables (`${VAR}`) are kept as written, never expanded: the scanner's
//! environment is not the installer's, and expanding it could print a secret. Quoting is not
//! shell-parsed: tokens split on whitespace, which every generator of these files writes.

use super::pep508;
use super::{Include, IndexKind, Out, Pin, Source, is_commit_id, normalize, normalize_hash};

/// A logical line: the joined text and, for each joined piece, where it starts in the text.
struct Logical {
    text: String,
    /// (offset in `text`, offset in the file), in order.
    pieces: Vec<(usize, usize)>,
}

impl Logical {
    /// The file offset of an offset in the logical line.
    fn file_offset(&self, at: usize) -> usize {
        let i = self.pieces.partition_point(|&(lo, _)| lo <= at).max(1) - 1;
        let (lo, file) = self.pieces[i];
        file + (at - lo)
    }
}

pub(super) fn parse(text: &str, out: &mut Out<'_>) {
    for line in logical_lines(text) {
        parse_line(&line, out);
    }
}

/// pip's `join_lines`, keeping where each piece came from.
fn logical_lines(text: &str) -> Vec<Logical> {
    let mut lines = Vec::new();
    let mut cur: Option<Logical> = None;
    let mut offset = 0;
    for raw in split_lines_inclusive(text) {
        let start = offset;
        offset += raw.len();
        let line = strip_line_end(raw);
        let is_comment = is_comment_line(line);
        if !line.ends_with('\\') || is_comment {
            let piece = if is_comment { "" } else { line };
            match cur.take() {
                Some(mut l) => {
                    l.pieces.push((l.text.len(), start));
                    l.text.push_str(piece);
                    lines.push(l);
                }
                None => lines.push(Logical {
                    text: piece.to_owned(),
                    pieces: vec![(0, start)],
                }),
            }
        } else {
            // pip's `line.strip("\\")`: backslashes go from both ends of a continued line
            let body = line.trim_end_matches('\\');
            let piece = body.trim_start_matches('\\');
            let lead = body.len() - piece.len();
            let l = cur.get_or_insert_with(|| Logical {
                text: String::new(),
                pieces: Vec::new(),
            });
            l.pieces.push((l.text.len(), start + lead));
            l.text.push_str(piece);
        }
    }
    if let Some(l) = cur {
        lines.push(l);
    }
    lines
}

/// Python's line boundaries (`str.splitlines`, which pip reads requirement files with): `\n`,
/// `\r\n`, `\r`, `\v`, `\f`, `\x1c`–`\x1e`, `\x85`, U+2028 and U+2029 — each line with its end.
fn split_lines_inclusive(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let end = match c {
            '\r' if chars.peek().is_some_and(|&(_, n)| n == '\n') => {
                chars.next();
                i + 2
            }
            '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}'
            | '\u{2029}' => i + c.len_utf8(),
            _ => continue,
        };
        out.push(&text[start..end]);
        start = end;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// A line of [`split_lines_inclusive`] without its end.
fn strip_line_end(line: &str) -> &str {
    if let Some(l) = line.strip_suffix("\r\n") {
        return l;
    }
    match line.chars().next_back() {
        Some(
            '\n' | '\r' | '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}'
            | '\u{2029}',
        ) => &line[..line.len() - line.chars().next_back().map_or(0, char::len_utf8)],
        _ => line,
    }
}

/// Python's `str.isspace` (what `\s` of pip's `COMMENT_RE` matches).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// pip's `COMMENT_RE` matching at the start: `^\s*#` (after a join, pip prefixes a space).
fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// The line without its comment: `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let mut prev: Option<char> = None;
    for (i, c) in line.char_indices() {
        if c == '#' && prev.is_none_or(is_py_space) {
            return &line[..i];
        }
        prev = Some(c);
    }
    line
}

/// Whitespace-separated tokens with their offsets.
fn tokens(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(st) = start.take() {
                out.push((st, &s[st..i]));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        out.push((st, &s[st..]));
    }
    out
}

/// Options that take a value, by every spelling pip accepts in a requirements file.
const VALUE_OPTIONS: &[(&str, &str)] = &[
    ("-r", "--requirement"),
    ("-c", "--constraint"),
    ("-i", "--index-url"),
    ("", "--extra-index-url"),
    ("-f", "--find-links"),
    ("-e", "--editable"),
    ("", "--hash"),
    ("", "--no-binary"),
    ("", "--only-binary"),
    ("", "--trusted-host"),
    ("", "--use-feature"),
    ("", "--global-option"),
    ("", "--config-settings"),
    ("-C", "--config-setting"),
    ("", "--install-option"),
];

/// Options that are flags.
const FLAG_OPTIONS: &[&str] = &["--no-index", "--pre", "--prefer-binary", "--require-hashes"];

/// One option with its value and the value's offset in the logical line.
struct Opt<'a> {
    long: &'static str,
    at: usize,
    value: Option<(&'a str, usize)>,
}

/// Reads the option tokens; an unknown option or a missing value is a problem.
fn options<'a>(toks: &[(usize, &'a str)], line: &Logical, out: &mut Out<'_>) -> Vec<Opt<'a>> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let (at, tok) = toks[i];
        i += 1;
        if let Some(&flag) = FLAG_OPTIONS.iter().find(|f| **f == tok) {
            opts.push(Opt {
                long: flag,
                at,
                value: None,
            });
            continue;
        }
        let mut matched = None;
        for &(short, long) in VALUE_OPTIONS {
            if tok == long || (!short.is_empty() && tok == short) {
                matched = Some((long, None));
            } else if let Some(v) = tok.strip_prefix(long).and_then(|r| r.strip_prefix('=')) {
                matched = Some((long, Some((v, at + long.len() + 1))));
            } else if !short.is_empty()
                && let Some(v) = tok.strip_prefix(short)
                && !tok.starts_with("--")
            {
                // optparse's `-rfile`
                matched = Some((
                    long,
                    Some((v.trim_start_matches('='), at + tok.len() - v.len())),
                ));
            }
            if matched.is_some() {
                break;
            }
        }
        match matched {
            Some((long, Some(value))) => opts.push(Opt {
                long,
                at,
                value: Some(value),
            }),
            Some((long, None)) => {
                if let Some(&(vat, v)) = toks.get(i) {
                    i += 1;
                    opts.push(Opt {
                        long,
                        at,
                        value: Some((v, vat)),
                    });
                } else {
                    out.problem(line.file_offset(at), format!("`{long}` without a value"));
                }
            }
            None => out.problem(
                line.file_offset(at),
                format!("unknown option `{}`", truncate(tok)),
            ),
        }
    }
    opts
}

fn parse_line(line: &Logical, out: &mut Out<'_>) {
    let body = strip_comment(&line.text);
    let toks = tokens(body);
    if toks.is_empty() {
        return;
    }
    let split = toks
        .iter()
        .position(|(_, t)| t.starts_with('-'))
        .unwrap_or(toks.len());
    let opts = options(&toks[split..], line, out);
    let mut hashes = Vec::new();
    for o in &opts {
        let Some((value, vat)) = o.value else {
            continue;
        };
        let file_at = line.file_offset(vat);
        match o.long {
            "--requirement" | "--constraint" => {
                let pos = out.pos(line.file_offset(o.at));
                out.lock.includes.push(Include {
                    path: unquote(value).to_owned(),
                    constraint: o.long == "--constraint",
                    pos,
                });
            }
            "--index-url" => out.index(unquote(value), IndexKind::Primary, file_at),
            "--extra-index-url" => out.index(unquote(value), IndexKind::Extra, file_at),
            "--find-links" => out.index(unquote(value), IndexKind::FindLinks, file_at),
            "--hash" => match normalize_hash(unquote(value)) {
                Some(h) => hashes.push(h),
                None => out.problem(file_at, format!("invalid hash `{}`", truncate(value))),
            },
            "--editable" => {
                // pip allows nothing after `-e target` but options; `target` may carry extras
                let target = unquote(value);
                let mut pin = unnamed(target, file_at, out);
                pin.editable = true;
                out.lock.pins.push(pin);
            }
            _ => {}
        }
    }
    if split == 0 {
        if !hashes.is_empty() {
            out.problem(
                line.file_offset(toks[0].0),
                "`--hash` without a requirement",
            );
        }
        return;
    }
    let (req_at, _) = toks[0];
    let req_end = toks[split - 1].0 + toks[split - 1].1.len();
    let req = &body[req_at..req_end];
    let file_at = line.file_offset(req_at);
    let mut pin = if looks_unnamed(req) {
        unnamed(req, file_at, out)
    } else {
        match named(req, file_at, out) {
            Some(pin) => pin,
            None => return,
        }
    };
    pin.hashes.extend(hashes);
    out.lock.pins.push(pin);
}

/// pip's `is_url` (a known scheme before `:`) or a path (a separator, a leading `.`, an
/// archive name): not PEP 508.
fn looks_unnamed(req: &str) -> bool {
    // `name @ URL`, `name[extra]@URL`: a PEP 508 name, then `@`
    let name_len = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let after = req[name_len..].trim_start();
    let after = match after.strip_prefix('[') {
        Some(r) => r.split_once(']').map_or("", |(_, r)| r).trim_start(),
        None => after,
    };
    if name_len > 0 && after.starts_with('@') {
        return false;
    }
    let head = req.split([';', ' ']).next().unwrap_or(req);
    if let Some((scheme, _)) = head.split_once(':') {
        let scheme = scheme.to_ascii_lowercase();
        if matches!(scheme.as_str(), "http" | "https" | "file" | "ftp")
            || vcs_scheme(&scheme).is_some()
        {
            return true;
        }
    }
    head.starts_with('.') || head.contains(['/', '\\']) || is_archive(head)
}

fn is_archive(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    [
        ".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar",
    ]
    .iter()
    .any(|e| s.ends_with(e))
}

/// `git+https` → `git`; `git` alone (`git://`) too.
fn vcs_scheme(scheme: &str) -> Option<&'static str> {
    let vcs = scheme.split_once('+').map_or(scheme, |(v, _)| v);
    let known = ["git", "hg", "svn", "bzr"]
        .into_iter()
        .find(|k| *k == vcs)?;
    // a bare `git:` is `git://`; `hg`, `svn`, `bzr` need their `+transport`
    (scheme.contains('+') || scheme == "git").then_some(known)
}

/// A requirement that is a URL or a path (`-e target`, a bare line), with pip's marker split
/// (`; ` after a URL).
fn unnamed(req: &str, at: usize, out: &mut Out<'_>) -> Pin {
    let (target, marker) = match req.split_once("; ") {
        Some((t, m)) => (t.trim(), Some(m.trim().to_owned())),
        None => (req.trim(), None),
    };
    // `path[extra]`
    let target_no_extras = match target.strip_suffix(']').and_then(|t| t.rsplit_once('[')) {
        Some((t, _)) if !t.contains('#') => t,
        _ => target,
    };
    let mut hashes = Vec::new();
    let mut name = String::new();
    if let Some((_, fragment)) = target_no_extras.split_once('#') {
        for kv in fragment.split('&') {
            if let Some((k, v)) = kv.split_once('=') {
                match k {
                    "egg" => name = v.split('[').next().unwrap_or(v).to_owned(),
                    "sha1" | "sha224" | "sha256" | "sha384" | "sha512" | "md5" => {
                        hashes.push(format!("{k}:{v}"));
                    }
                    _ => {}
                }
            }
        }
    }
    let source = url_source(target_no_extras);
    let mut version = None;
    // a wheel's or an sdist's file name says name and version (`name-1.0-py3-none-any.whl`,
    // `name-1.0.tar.gz`): what the URL installs, whatever the line calls it
    let file = target_no_extras
        .split(['#', '?'])
        .next()
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("");
    if let Some((n, v)) = archive_name_version(file)
        && (name.is_empty() || normalize(&name) == normalize(n))
    {
        name = n.to_owned();
        version = Some(v.to_owned());
    }
    let pos = out.pos(at);
    Pin {
        normalized: normalize(&name),
        name,
        version,
        requirement: target.to_owned(),
        pos,
        hashes,
        source,
        marker,
        editable: false,
    }
}

/// Name and version from a distribution file name: a wheel's first two fields, an sdist's
/// stem split at the last `-` before a digit.
pub(super) fn archive_name_version(file: &str) -> Option<(&str, &str)> {
    if let Some(stem) = file.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        return Some((parts.next()?, parts.next()?))
            .filter(|(n, v)| !n.is_empty() && !v.is_empty());
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    let at = stem
        .char_indices()
        .filter(|&(i, c)| c == '-' && stem[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i)
        .next_back()?;
    Some((&stem[..at], &stem[at + 1..])).filter(|(n, _)| !n.is_empty())
}

/// What a URL or path points at.
fn url_source(url: &str) -> Source {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme {
        Some(s) if vcs_scheme(&s).is_some() => Source::Vcs {
            url: url.to_owned(),
            commit: vcs_rev(url).filter(|r| is_commit_id(r)).map(str::to_owned),
        },
        Some(s) if matches!(s.as_str(), "http" | "https" | "ftp") => Source::Url(url.to_owned()),
        _ => Source::Path(url.to_owned()),
    }
}

/// pip's `get_url_rev_and_auth`: the `@rev` at the end of the URL's path (after the host, so
/// that `git+ssh://git@host/…` is not read as a revision).
fn vcs_rev(url: &str) -> Option<&str> {
    let url = url.split(['#', '?']).next().unwrap_or(url);
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
        None => url.split_once(':').map_or("", |(_, p)| p),
    };
    path.rsplit_once('@').map(|(_, rev)| rev)
}

/// A PEP 508 requirement, `name @ URL` included.
fn named(req: &str, at: usize, out: &mut Out<'_>) -> Option<Pin> {
    let parsed = match pep508::parse(req) {
        Ok(r) => r,
        Err(e) => {
            out.problem(
                at + e.at.min(req.len()),
                format!("not a PEP 508 requirement: {}", e.message),
            );
            return None;
        }
    };
    let (source, hashes, requirement, version) = match parsed.spec {
        pep508::Spec::Url(url) => {
            let direct = unnamed(url, at, out);
            let source = match direct.source {
                Source::Path(p) if p.is_empty() => Source::Index(None),
                s => s,
            };
            // the file the URL names is the release installed
            let version = direct
                .version
                .filter(|_| direct.normalized == normalize(parsed.name));
            (source, direct.hashes, url.to_owned(), version)
        }
        pep508::Spec::Versions { text, .. } => (
            Source::Index(None),
            Vec::new(),
            text.to_owned(),
            parsed.exact_version().map(str::to_owned),
        ),
    };
    let pos = out.pos(at);
    Some(Pin {
        name: parsed.name.to_owned(),
        normalized: normalize(parsed.name),
        version,
        requirement,
        pos,
        hashes,
        source,
        marker: parsed.marker.map(str::to_owned),
        editable: false,
    })
}

/// A PEP 508 string from `pyproject.toml`: the same reading as a requirement line.
pub(super) fn pep508(req: &str, at: usize, out: &mut Out<'_>) -> Option<Pin> {
    let trimmed = req.trim_start();
    named(trimmed.trim_end(), at + (req.len() - trimmed.len()), out)
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner;
        }
    }
    s
}

/// At most 200 bytes of hostile text in a message.
fn truncate(s: &str) -> &str {
    let mut end = s.len().min(200);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
