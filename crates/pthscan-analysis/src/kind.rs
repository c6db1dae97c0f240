//! What a file is, by its content: an executable, an archive, bytecode, Python source, other
//! text, or other binary data. The name only helps where content cannot tell (a `.py` that does
//! not parse is still Python to the interpreter that imports it).

use std::path::Path;

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// ELF, PE or Mach-O.
    Executable,
    /// zip, gzip, bzip2, xz, zstd, 7z or tar.
    Archive,
    /// A `.pyc` (magic, `\r\n`).
    Bytecode,
    /// Python source.
    Python,
    /// Text that is not Python (metadata, docs, data, other languages).
    Text,
    /// Binary data.
    Binary,
}

const EXECUTABLE: [&[u8]; 7] = [
    b"\x7fELF",
    b"MZ",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
];

const ARCHIVE: [&[u8]; 7] = [
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",
    b"7z\xbc\xaf\x27\x1c",
];

/// Extensions of Python source that the interpreter or a hook runs.
const PYTHON_EXTENSIONS: [&str; 5] = ["py", "pyw", "pth", "start", "pyi"];

/// What `bytes` (the file at `path`) is.
pub fn file_kind(path: &Path, bytes: &[u8]) -> FileKind {
    if EXECUTABLE.iter().any(|m| bytes.starts_with(m)) {
        return FileKind::Executable;
    }
    if ARCHIVE.iter().any(|m| bytes.starts_with(m))
        || bytes.get(257..262) == Some(b"ustar".as_slice())
    {
        return FileKind::Archive;
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if bytes.len() >= 16 && bytes[2..4] == *b"\r\n" && matches!(ext, "pyc" | "pyo" | "") {
        return FileKind::Bytecode;
    }
    let head = &bytes[..bytes.len().min(8192)];
    if memchr_nul(head) {
        return FileKind::Binary;
    }
    if PYTHON_EXTENSIONS.contains(&ext) || is_python_shebang(head) {
        return FileKind::Python;
    }
    if is_metadata(path) {
        return FileKind::Text;
    }
    // other text is Python when it parses as Python and does something
    if let Ok(text) = std::str::from_utf8(bytes)
        && bytes.len() <= 1 << 20
        && looks_like_python(text)
    {
        return FileKind::Python;
    }
    FileKind::Text
}

fn memchr_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
}

fn is_python_shebang(head: &[u8]) -> bool {
    head.starts_with(b"#!")
        && head
            .split(|&b| b == b'\n')
            .next()
            .is_some_and(|l| l.windows(6).any(|w| w == b"python"))
}

/// A distribution's metadata file (`*.dist-info/*`, `*.egg-info/*`, `PKG-INFO`): a README
/// names the very things code rules look for.
fn is_metadata(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "PKG-INFO")
        || path.parent().and_then(Path::file_name).is_some_and(|d| {
            let d = d.to_string_lossy();
            d.ends_with(".dist-info") || d.ends_with(".egg-info")
        })
}

/// Parses without errors and has a statement that imports, defines or calls.
fn looks_like_python(text: &str) -> bool {
    use ruff_python_ast::{Expr, Stmt};
    crate::within_nesting_if_clean(text, || {
        let parsed = ruff_python_parser::parse_module(text);
        let Ok(parsed) = parsed else { return false };
        parsed.syntax().body.iter().any(|s| match s {
            Stmt::Import(_) | Stmt::ImportFrom(_) | Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {
                true
            }
            Stmt::Expr(e) => matches!(e.value.as_ref(), Expr::Call(_)),
            Stmt::Assign(a) => matches!(a.value.as_ref(), Expr::Call(_)),
            _ => false,
        })
    })
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_nested_past_what_python_compiles_is_text_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
        assert_eq!(
            file_kind(Path::new("notes.txt"), deep.as_bytes()),
            FileKind::Text
        );
    }

    #[test]
    fn kinds_by_content() {
        let p = Path::new;
        assert_eq!(
            file_kind(p("bin/uv"), b"\x7fELF\x02\x01"),
            FileKind::Executable
        );
        assert_eq!(
            file_kind(p("x.py"), b"\x7fELF\x02\x01"),
            FileKind::Executable
        );
        assert_eq!(file_kind(p("x.whl"), b"PK\x03\x04rest"), FileKind::Archive);
        assert_eq!(
            file_kind(p("bin/tool"), b"#!/usr/bin/env python3\nimport x\n"),
            FileKind::Python
        );
        assert_eq!(
            file_kind(p("data/notes.txt"), b"import os\nos.system('id')\n"),
            FileKind::Python
        );
        assert_eq!(
            file_kind(p("data/notes.txt"), b"Hello, this is prose.\n"),
            FileKind::Text
        );
        assert_eq!(
            file_kind(
                p("x-1.0.dist-info/METADATA"),
                b"import os\nos.system('id')\n"
            ),
            FileKind::Text
        );
        let mut pyc = vec![0xa7, 0x0d, b'\r', b'\n'];
        pyc.extend([0; 12]);
        assert_eq!(
            file_kind(p("__pycache__/x.cpython-311.pyc"), &pyc),
            FileKind::Bytecode
        );
        assert_eq!(file_kind(p("x.bin"), b"abc\0def"), FileKind::Binary);
    }

    #[test]
    fn the_lexer_screen_refuses_only_what_does_not_parse() {
        let samples = [
            "Hello world, this is prose.\n",
            "#include <stdio.h>\nint main(void) { return 0; }\n",
            "function f(x) { return x; }\nvar y = f(1);\n",
            "{\"a\": [1, 2, {\"b\": null}]}\n",
            "print \"python 2\"\nprint x\n",
            "exec code in ns\n",
            "match command:\n    case [x, *_] if x:\n        pass\n    case _:\n        pass\n",
            "type Alias = list[int]\n",
            "match = re.match(p, s)\ncase = 1\ntype = type(x)\n",
            "x = f\"{value!r:>{width}} {a if b else c}\"\n",
            "@decorator(arg)\nasync def f(a, *, b=1):\n    await g(lambda: not a)\n",
            "import os\nos.system('id')\n",
            "_ = f()\nprint(_)\n",
            "a = (b\n     c)\n",
            "x = 1 $ 2\n",
            "s = 'unterminated\n",
            "it's prose\n",
            "yield from g() if x is not None else None\n",
        ];
        for source in samples {
            let clean = crate::lex_bound(source, crate::MAX_NESTING, true).is_some();
            let parses = ruff_python_parser::parse_module(source).is_ok();
            assert!(clean || !parses, "screened out but parses: {source:?}");
        }
        for prose in ["Hello world", "int main", "var x = 1;", "a ? b : c"] {
            assert_eq!(
                crate::lex_bound(prose, crate::MAX_NESTING, true),
                None,
                "{prose}"
            );
        }
        assert_eq!(
            file_kind(Path::new("include/x.h"), b"/* c */\nint f(int x);\n"),
            FileKind::Text
        );
    }
}
