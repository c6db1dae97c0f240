//! What modules a piece of start-up code imports, read statically.
//!
//! A `.pth` line runs as a module body, so `import _shim` runs `_shim`'s code, and so does an
//! `import` hidden inside an `exec('…\nimport _shim…')` string. This finds `import a.b`,
//! `from a.b import c`, `__import__('a')` and `import_module('a')` anywhere in the text,
//! including inside string literals, with `\n`/`\t` escapes read as the whitespace they become.

use super::start::is_dotted_identifier;

/// An identifier as the parser reads it: NFKC-normalised when not ASCII (`ａｃｍｅ` and `𝐚𝐜𝐦𝐞`
/// are `acme`).
pub fn nfkc_identifier(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    if name.is_ascii() {
        name.to_owned()
    } else {
        name.nfkc().collect()
    }
}

/// Whitespace between tokens: space, tab and form feed.
const BLANK: [char; 3] = [' ', '\t', '\x0c'];

/// The absolute module names `code` imports, in order of first appearance, without duplicates.
pub fn imported_modules(code: &str) -> Vec<String> {
    let text = code.replace("\\n", "\n").replace("\\t", "\t");
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: &str| {
        let name = nfkc_identifier(name);
        if is_dotted_identifier(&name) && !out.contains(&name) {
            out.push(name);
        }
    };
    let bytes = text.as_bytes();
    // where the statement last scanned ends: an `import` before it lies in the same statement,
    // which ends there too (no terminator between) — so a line of a million `import` words
    // is scanned once, not once per word
    let mut stmt_end = 0;
    for (at, _) in text.match_indices("import") {
        let before = text[..at].chars().next_back();
        let is_word_start = before.is_none_or(|c| !(c == '_' || c.is_alphanumeric()));
        let after = &text[at + "import".len()..];
        if is_word_start {
            match from_clause(&text[..at]) {
                // `from m import x`, `from m import*`, `from m import(x)`
                From::Absolute(module)
                    if after.starts_with(BLANK) || after.starts_with(['*', '(']) =>
                {
                    push(module)
                }
                From::Absolute(_) | From::Relative => {}
                From::Plain if !after.starts_with(BLANK) => {}
                From::Plain => {
                    let start = at + "import".len();
                    if start >= stmt_end {
                        stmt_end = start + statement(after).len();
                    }
                    // no real statement names more modules than this
                    for part in text[start..stmt_end].split(',').take(MAX_NAMES) {
                        let name = part.split_whitespace().next().unwrap_or("");
                        push(name.trim_matches(['(', ')']));
                    }
                }
            }
        }
        // `__import__('x')` and `importlib.import_module('x')`
        let call = if text[..at].ends_with("__") && after.starts_with("__(") {
            Some(&after[3..])
        } else if after.starts_with("_module(") && bytes.get(at.wrapping_sub(1)) != Some(&b'_') {
            Some(&after["_module(".len()..])
        } else {
            None
        };
        if let Some(args) = call
            && let Some(name) = string_literal(args.trim_start())
        {
            push(name);
        }
    }
    out
}

/// At most this many names are taken from one `import` statement.
const MAX_NAMES: usize = 256;

/// The rest of the statement after `import`: up to a newline, `;`, or `)` closing a call.
fn statement(after: &str) -> &str {
    let end = after.find(['\n', ';', '\'', '"']).unwrap_or(after.len());
    &after[..end]
}

enum From<'a> {
    Plain,
    Relative,
    Absolute(&'a str),
}

/// For `from a.b import …`, the `a.b` before `import`.
fn from_clause(before: &str) -> From<'_> {
    let before = before.trim_end();
    let start = before
        .rfind(|c: char| !(c == '.' || c == '_' || c.is_alphanumeric()))
        .map_or(0, |i| {
            i + before[i..].chars().next().map_or(1, char::len_utf8)
        });
    let module = &before[start..];
    let head = before[..start].trim_end();
    let is_from = head.ends_with("from")
        && head[..head.len() - 4]
            .chars()
            .next_back()
            .is_none_or(|c| !(c == '_' || c.is_alphanumeric()));
    match (is_from, module.starts_with('.')) {
        (false, _) => From::Plain,
        (true, true) => From::Relative,
        (true, false) => From::Absolute(module),
    }
}

fn string_literal(s: &str) -> Option<&str> {
    let quote = s.chars().next().filter(|c| matches!(c, '\'' | '"'))?;
    let rest = &s[1..];
    rest.find(quote).map(|end| &rest[..end])
}

#[cfg(test)]
mod tests {
    use super::imported_modules;

    #[test]
    fn forms_the_parser_accepts() {
        // found by the red team (CPython's ast agrees on each)
        assert_eq!(imported_modules("from _shim import*"), ["_shim"]);
        assert_eq!(imported_modules("from _shim import(run)"), ["_shim"]);
        assert_eq!(
            imported_modules("import _\u{1d42c}\u{1d421}\u{1d422}\u{1d426}"),
            ["_shim"]
        );
        assert_eq!(
            imported_modules("import os;import\x0c_shim"),
            ["os", "_shim"]
        );
        assert_eq!(imported_modules("import(x)"), Vec::<String>::new());
    }

    #[test]
    fn statements_and_lists() {
        assert_eq!(
            imported_modules("import os, subprocess, sys; subprocess.Popen([])"),
            ["os", "subprocess", "sys"]
        );
        assert_eq!(imported_modules("import a.b as c, d"), ["a.b", "d"]);
        assert_eq!(imported_modules("import\t_virtualenv"), ["_virtualenv"]);
    }

    #[test]
    fn inside_exec_strings_and_from_imports() {
        let coverage = r#"import sys; exec('import os\n\nif os.getenv("X"):\n try:\n  import coverage\n except:\n  pass')"#;
        assert_eq!(imported_modules(coverage), ["sys", "os", "coverage"]);
        let cov = r"exec('try:\n  from pytest_cov.embed import init\nexcept: pass')";
        assert_eq!(imported_modules(cov), ["pytest_cov.embed"]);
        assert_eq!(imported_modules("from . import x"), Vec::<String>::new());
    }

    /// A hook of one statement with hundreds of thousands of `import` words (a few hundred
    /// bytes as a wheel) is read in one pass: it used to take time in the square of its length.
    #[test]
    fn a_statement_of_many_imports_is_read_once() {
        let hook = format!("import os;exec({})", "import ".repeat(300_000));
        assert_eq!(imported_modules(&hook)[0], "os");
    }

    #[test]
    fn dunder_import_and_import_module() {
        let setuptools = "import os; var = 'X'; enabled = os.environ.get(var, 'local') == 'local'; enabled and __import__('_distutils_hack').add_shim(); ";
        assert_eq!(imported_modules(setuptools), ["os", "_distutils_hack"]);
        assert_eq!(
            imported_modules("import importlib; importlib.import_module(\"_shim\")"),
            ["importlib", "_shim"]
        );
    }

    #[test]
    fn words_containing_import_are_not_imports() {
        assert!(imported_modules("reimport x; importer y; x.important").is_empty());
    }
}
