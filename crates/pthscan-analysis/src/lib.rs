//! Python judged as Python. A file is parsed with Astral's error-tolerant parser (Python 2 and
//! broken code still give a tree for what parses), then walked once: names resolved through
//! `import … as`, `from … import … as`, `getattr(builtins, "exec")`, `__import__`, assignment
//! and NFKC; string constants folded (concatenation, `chr` lists, `[::-1]`, `bytes.fromhex`,
//! base64 of a constant, f-strings of constants, `join`, `format`); and values followed from
//! where their data comes in (the network, a decoder, a credential file, the environment, the
//! host, the clipboard, a hidden carrier) to where they end (exec, deserialisation, a process,
//! a send, a file write, a persistence place, chmod, the clipboard) — within a module, through
//! variables, containers and the functions it defines.
//!
//! What comes out are facts ([`Flow`], [`CallFact`]) for rules to judge; this crate judges
//! nothing itself. Bytecode gets the same facts from its constants and names ([`bytecode`]).

pub mod bytecode;
mod charmaps;
mod codecs;
mod eval;
pub mod kind;
pub mod names;
pub mod value;

use std::ops::Range;

use ruff_python_ast::Stmt;
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::Ranged;

pub use kind::{FileKind, file_kind};
pub use value::{Sink, Source, Span};

/// Data from a source reaching a sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Where the data came from.
    pub source: Source,
    /// Where it ends.
    pub sink: Sink,
    /// The code that brought it in.
    pub from: Span,
    /// The call it ends in.
    pub to: Span,
    /// Whether the sink runs when the module is imported (module or class level, or a call
    /// made there), not only when a function is called.
    pub top_level: bool,
}

/// A call that is a sink, whatever reaches it: for the rules that look at what runs (a
/// process's command line, a file's path, a constant put on the clipboard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFact {
    /// The kind of call.
    pub sink: Sink,
    /// The callee's canonical dotted name.
    pub name: String,
    /// The call.
    pub at: Span,
    /// The folded text of its data: constants, list items, the path written (space-separated).
    pub text: String,
    /// Whether no argument carries data from a source or a parameter.
    pub constant: bool,
    /// Whether the call runs when the module is imported.
    pub top_level: bool,
}

/// A constant the code executes (`exec("…")`, `exec(b64decode("…"))`), judged as code too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The exec call.
    pub at: Span,
    /// The code it runs.
    pub text: String,
}

/// What the walk found in one file.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Data reaching sinks.
    pub flows: Vec<Flow>,
    /// Sink calls.
    pub calls: Vec<CallFact>,
    /// Every source call seen, whether or not its data reached a sink.
    pub seen: Vec<(Source, Span)>,
    /// Byte ranges that do not run: comments and string statements (docstrings).
    pub inert: Vec<Range<usize>>,
    /// Syntax errors the parser recovered from.
    pub errors: usize,
    /// Top-level statements.
    pub statements: usize,
    /// Whether the code reads its own text (`__file__`, `__doc__`): then its comments and
    /// docstrings are data it may use, and are not inert.
    pub reads_own_source: bool,
    /// Whether nesting went deeper than the walk follows (the rest was not judged).
    pub truncated: bool,
    /// Code executed from constants, analysed in turn (depth-limited).
    pub layers: usize,
}

/// How many executed constants deep the analysis follows.
const MAX_LAYERS: usize = 4;

/// Analyses Python source.
pub fn analyse(source: &str) -> Analysis {
    analyse_at(source, 0)
}

/// Source whose syntax tree may nest deeper than this is not parsed: CPython refuses far less
/// (200 open brackets, 100 indentation levels, a parser stack of 6,000), so such a file cannot
/// run, and a tree a million levels deep would cost gigabytes of stack to build and drop.
pub const MAX_NESTING: usize = 20_000;

/// Stack bytes one level of a syntax tree may need to be built, walked and dropped (a debug
/// build's frames; a release build needs less).
const STACK_PER_LEVEL: usize = 2048;

/// An upper bound of how deep the syntax tree of `source` nests, from its tokens (the lexer
/// is a loop, whatever the input): open brackets and indentation, plus, at each bracket level,
/// every operator, keyword and bracket since the last comma — a chain `1+1+1`, `-----x`,
/// `a.b.b`, `f()()` or `lambda: lambda:` nests one level a link. Stops counting past `limit`.
pub fn nesting_bound(source: &str, limit: usize) -> usize {
    lex_bound(source, limit, false).unwrap_or(usize::MAX)
}

/// [`nesting_bound`], or `None` when `clean` is asked for and the tokens alone show that the
/// source does not parse without errors: a token the lexer does not know (an unterminated
/// string, `$`, `?`), or two names in a row (`Hello world`, `int main`, `var x`), which no
/// Python 3 statement has. Judging prose, C headers and web assets by content then costs a
/// lexer's look at their first line, not a parse of the whole file.
fn lex_bound(source: &str, limit: usize, clean: bool) -> Option<usize> {
    use ruff_python_ast::token::TokenKind as T;
    let mut lexer = ruff_python_parser::lexer::lex(source, Mode::Module);
    let mut last = T::Newline;
    // chain links at each open bracket level; their sum, kept as it changes
    let mut chains: Vec<usize> = vec![0];
    let mut links = 0usize;
    let mut indent = 0usize;
    let mut max = 0usize;
    loop {
        let kind = lexer.next_token();
        if clean && (kind == T::Unknown || kind == T::Name && last == T::Name) {
            return None;
        }
        last = kind;
        match kind {
            T::EndOfFile => break,
            T::Newline => {
                chains.clear();
                chains.push(0);
                links = 0;
            }
            T::Indent => indent += 1,
            T::Dedent => indent = indent.saturating_sub(1),
            T::Comma | T::Semi => {
                if let Some(last) = chains.last_mut() {
                    links -= *last;
                    *last = 0;
                }
            }
            T::Lpar | T::Lsqb | T::Lbrace => {
                if let Some(last) = chains.last_mut() {
                    *last += 1;
                    links += 1;
                }
                chains.push(0);
            }
            T::Rpar | T::Rsqb | T::Rbrace if chains.len() > 1 => {
                links -= chains.pop().unwrap_or(0);
            }
            k if k.is_operator() || k.is_keyword() => {
                if let Some(last) = chains.last_mut() {
                    *last += 1;
                    links += 1;
                }
            }
            _ => {}
        }
        max = max.max(indent + chains.len() + links);
        if max > limit {
            return Some(max);
        }
    }
    Some(max)
}

/// Runs `f` — a parse, what reads its tree, and the tree's drop — on a stack that holds
/// `levels` of nesting: the thread's own when it has room, else one allocated for it (virtual
/// memory, touched only as deep as the tree goes).
fn on_deep_stack<R>(levels: usize, f: impl FnOnce() -> R) -> R {
    let need = levels
        .saturating_mul(STACK_PER_LEVEL)
        .saturating_add(1 << 20);
    match stacker::remaining_stack() {
        Some(left) if left > need => f(),
        _ => stacker::grow(need, f),
    }
}

/// Runs `f` on the parse of `source` when its tree nests at most [`MAX_NESTING`] levels, on a
/// stack deep enough for it; `None` when it may nest deeper.
pub(crate) fn within_nesting<R>(source: &str, f: impl FnOnce() -> R) -> Option<R> {
    let levels = nesting_bound(source, MAX_NESTING);
    (levels <= MAX_NESTING).then(|| on_deep_stack(levels, f))
}

/// As [`within_nesting`], and `None` too when the tokens show the source cannot parse without
/// errors (see [`lex_bound`]): for deciding whether text is Python.
pub(crate) fn within_nesting_if_clean<R>(source: &str, f: impl FnOnce() -> R) -> Option<R> {
    let levels = lex_bound(source, MAX_NESTING, true)?;
    (levels <= MAX_NESTING).then(|| on_deep_stack(levels, f))
}

fn analyse_at(source: &str, depth: usize) -> Analysis {
    within_nesting(source, || analyse_tree(source, depth)).unwrap_or_else(|| Analysis {
        // said as code the analysis did not follow
        truncated: true,
        errors: 1,
        ..Analysis::default()
    })
}

fn analyse_tree(source: &str, depth: usize) -> Analysis {
    let parsed = parse_unchecked(source, ParseOptions::from(Mode::Module));
    let errors = parsed.errors().len();
    let mut inert: Vec<Range<usize>> = parsed
        .tokens()
        .iter()
        .filter(|t| t.kind().is_comment())
        .map(|t| t.range().start().into()..t.range().end().into())
        .collect();
    let module = parsed.into_syntax();
    let Some(module) = module.as_module() else {
        return Analysis {
            errors,
            ..Analysis::default()
        };
    };
    docstrings(&module.body, &mut inert);
    inert.sort_by_key(|r| r.start);
    let mut walker = eval::Walker::new(source);
    // twice: the second pass knows every function and download the first found — needed only
    // when the first found a sink a rule can judge (most modules only write files, if that)
    walker.body(&module.body);
    if walker.calls.iter().any(|c| c.sink != Sink::Write) {
        walker.restart();
        walker.body(&module.body);
    }
    let mut out = Analysis {
        flows: std::mem::take(&mut walker.flows),
        calls: std::mem::take(&mut walker.calls),
        seen: std::mem::take(&mut walker.seen),
        inert,
        errors,
        statements: module.body.len(),
        reads_own_source: walker.reads_own_source,
        truncated: walker.truncated,
        layers: 0,
    };
    if out.reads_own_source {
        out.inert.clear();
    }
    // code the file executes from a constant, or carries as a constant: its facts count,
    // placed at the exec call or the constant
    let mut layers = std::mem::take(&mut walker.layers);
    layers.extend(std::mem::take(&mut walker.embedded));
    for layer in layers {
        if depth >= MAX_LAYERS {
            out.truncated = true;
            break;
        }
        if layer.text.len() > eval::MAX_TEXT {
            continue;
        }
        let inner = analyse_at(&layer.text, depth + 1);
        out.layers += 1 + inner.layers;
        let place = |span: &Span| Span {
            offset: layer.at.offset,
            line: layer.at.line,
            text: format!("{} (in code at line {})", span.text, layer.at.line),
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
        out.seen
            .extend(inner.seen.iter().map(|(s, at)| (*s, place(at))));
        out.truncated |= inner.truncated;
    }
    out
}

/// String statements: evaluated and thrown away, whatever their place.
fn docstrings(body: &[Stmt], out: &mut Vec<Range<usize>>) {
    for stmt in body {
        match stmt {
            Stmt::Expr(e) if e.value.is_string_literal_expr() => {
                out.push(e.range().start().into()..e.range().end().into());
            }
            Stmt::FunctionDef(d) => docstrings(&d.body, out),
            Stmt::ClassDef(c) => docstrings(&c.body, out),
            Stmt::If(i) => {
                docstrings(&i.body, out);
                for clause in &i.elif_else_clauses {
                    docstrings(&clause.body, out);
                }
            }
            Stmt::For(f) => {
                docstrings(&f.body, out);
                docstrings(&f.orelse, out);
            }
            Stmt::While(w) => {
                docstrings(&w.body, out);
                docstrings(&w.orelse, out);
            }
            Stmt::With(w) => docstrings(&w.body, out),
            Stmt::Try(t) => {
                docstrings(&t.body, out);
                for handler in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = handler;
                    docstrings(&h.body, out);
                }
                docstrings(&t.orelse, out);
                docstrings(&t.finalbody, out);
            }
            _ => {}
        }
    }
}

/// The source with its inert ranges blanked (spaces, newlines kept): what text rules should
/// see of code, with offsets and lines unchanged.
pub fn code_view(source: &[u8], inert: &[Range<usize>]) -> Vec<u8> {
    let mut out = source.to_vec();
    for range in inert {
        let end = range.end.min(out.len());
        for b in out.get_mut(range.start.min(end)..end).into_iter().flatten() {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
