//! The walk: statements in order, each expression evaluated to a [`Val`] — names resolved
//! through imports and assignments, constants folded, labels carried — and every call checked
//! for a source it brings in or a sink its arguments end in.

use std::collections::HashMap;

use base64::Engine as _;
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};

use crate::names::{
    canonical, is_credential_path, is_credential_suffix, is_environ_path, is_exfil_channel,
    is_network, is_persistence_path, sink_of_call, source_of_call,
};
use crate::value::{Labels, Params, SPAN_CHARS, Sink, Source, Span, Val};
use crate::{CallFact, Flow, Layer};

/// How deep expressions and function bodies are followed.
const MAX_DEPTH: usize = 100;
/// The longest text folding builds.
pub(crate) const MAX_TEXT: usize = 4 << 20;
/// The name a lambda's value carries: calling it gives its body's sources.
const LAMBDA: &str = "<lambda>";
/// What stands for an unknown part of a text built from constants and values.
const HOLE: &str = "{}";
/// Code constants analysed per file.
const MAX_EMBEDDED: usize = 64;
/// Parameters whose flow into sinks a function summary records.
const MAX_PARAMS: usize = 8;

/// Loops nested up to this deep get a second round of their body (see `Walker::loop_body`):
/// at most 2^2 walks of any statement per pass.
const MAX_LOOP_ROUNDS: usize = 2;

/// A parameter (by position) that reached a sink, and where.
type Reached = (usize, Sink, Span);

/// A function's summary: what it returns, and which parameters reach which sinks.
#[derive(Debug, Clone, Default)]
struct Function {
    returns: Val,
    /// Parameter names by position, for keyword arguments.
    names: Vec<String>,
    params: Vec<(usize, Sink, Span)>,
    /// Parameters that name a file it writes network data (or a dropped program) to, and
    /// whether that looks like a dropper's.
    downloads: Vec<(usize, bool)>,
    /// Flows and sink calls inside it (indices), run when it is called.
    flows: Vec<usize>,
    calls: Vec<usize>,
}

#[derive(Default)]
pub(crate) struct Walker<'s> {
    source: &'s str,
    line_starts: Vec<usize>,
    scopes: Vec<HashMap<String, Val>>,
    functions: HashMap<String, Function>,
    /// Parameters of the function being walked, by name, and the sinks they reached.
    params: Vec<(Vec<String>, Vec<Reached>)>,
    /// For each function being walked: its parameters that downloads were written to.
    downloaded: Vec<Vec<(usize, bool)>>,
    returns: Vec<Val>,
    depth: usize,
    /// Enclosing function definitions: 0 at module and class level.
    functions_deep: usize,
    /// Enclosing loop bodies.
    loops_deep: usize,
    /// How many times a name gained a source: a loop body is walked again when its first
    /// round made it grow.
    grew: u64,
    /// For each function being walked: the flows and calls found in it so far.
    inside: Vec<(Vec<usize>, Vec<usize>)>,
    /// Paths network data was written to, and whether the download looks like a dropped
    /// program (by its name, its place or where it came from).
    /// Each with the call that wrote it.
    downloads: Vec<(String, bool, Span)>,
    pub(crate) flows: Vec<Flow>,
    pub(crate) calls: Vec<CallFact>,
    pub(crate) seen: Vec<(Source, Span)>,
    pub(crate) layers: Vec<Layer>,
    /// String constants that are code.
    pub(crate) embedded: Vec<Layer>,
    pub(crate) truncated: bool,
    pub(crate) reads_own_source: bool,
}

impl<'s> Walker<'s> {
    pub(crate) fn new(source: &'s str) -> Walker<'s> {
        let mut line_starts = vec![0];
        line_starts.extend(memchr_lines(source));
        Walker {
            source,
            line_starts,
            scopes: vec![HashMap::new()],
            ..Walker::default()
        }
    }

    pub(crate) fn span(&self, range: TextRange) -> Span {
        let start = usize::from(range.start()).min(self.source.len());
        let end = usize::from(range.end()).clamp(start, self.source.len());
        let line = self.line_starts.partition_point(|&s| s <= start);
        let raw = self.source.get(start..end).unwrap_or("");
        Span {
            offset: start,
            line,
            text: one_line(raw),
        }
    }

    /// A string constant that is a Python module (a dropper writes it to a file, a bundler
    /// embeds it): analysed as code too, a bounded number per file.
    fn embedded_code(&mut self, text: &str, range: TextRange) {
        // several statements: lines of a module, or a one-liner joined with `;`
        if text.len() < 40 || !(text.contains('\n') || text.contains(';')) {
            return;
        }
        self.code_constant(text, range);
    }

    /// Code the file carries (a constant, a `python -c` argument): analysed as code too.
    fn code_constant(&mut self, text: &str, range: TextRange) {
        if self.embedded.len() >= MAX_EMBEDDED
            || !(text.contains("import ") && text.contains('('))
            || self.embedded.iter().any(|l| l.text == text)
        {
            return;
        }
        let at = self.span(range);
        self.embedded.push(Layer {
            at,
            text: text.to_owned(),
        });
    }

    pub(crate) fn body(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    /// A loop's body, walked again when its first round gave a name a new source: what a
    /// later statement binds reaches the earlier ones on the next iteration (`final.append(
    /// lines)` before `lines.append(line)`). Loops nested deeper than [`MAX_LOOP_ROUNDS`]
    /// are walked once per walk of the loop around them, so a file's cost stays bounded.
    fn loop_body(&mut self, body: &[Stmt]) {
        let before = self.grew;
        self.loops_deep += 1;
        self.body(body);
        if self.grew != before && self.loops_deep <= MAX_LOOP_ROUNDS {
            self.body(body);
        }
        self.loops_deep -= 1;
    }

    fn lookup(&self, name: &str) -> Option<&Val> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    fn bind(&mut self, name: String, val: Val) {
        let scope = self.scopes.last_mut().expect("a scope");
        match scope.get_mut(&name) {
            // a name assigned twice keeps the sources of both (the walk does not follow order
            // within branches), and the newer text and reference
            Some(old) => {
                let mut labels = old.labels.clone();
                if labels.merge(&val.labels) {
                    self.grew += 1;
                }
                *old = Val { labels, ..val };
            }
            None => {
                if !val.labels.is_empty() {
                    self.grew += 1;
                }
                scope.insert(name, val);
            }
        }
    }

    /// Binds an assignment target to a value.
    fn assign(&mut self, target: &Expr, val: Val) {
        match target {
            Expr::Name(n) => self.bind(canonical_ident(n.id.as_str()), val),
            Expr::Tuple(ast::ExprTuple { elts, .. }) | Expr::List(ast::ExprList { elts, .. }) => {
                for elt in elts {
                    let item = Val {
                        labels: val.labels.clone(),
                        param: val.param,
                        ..Val::default()
                    };
                    self.assign(elt, item);
                }
            }
            Expr::Starred(s) => self.assign(&s.value, val),
            // `self.x = v`, `d["k"] = v`, `obj.attr = v`: the container carries the data
            Expr::Attribute(a) => {
                if let Some(key) = target_key(target) {
                    self.bind(key, val.clone());
                }
                self.taint_base(&a.value, &val);
            }
            Expr::Subscript(s) => {
                let _ = self.eval(&s.slice);
                self.taint_base(&s.value, &val);
            }
            _ => {}
        }
    }

    /// Adds a value's labels to the variable at the base of `expr` (`d` of `d["k"].x`).
    fn taint_base(&mut self, expr: &Expr, val: &Val) {
        if val.labels.is_empty() {
            return;
        }
        if let Some(key) = target_key(expr) {
            let mut base = self.lookup(&key).cloned().unwrap_or_default();
            base.labels.merge(&val.labels);
            self.bind(key, base);
        }
        match expr {
            Expr::Attribute(a) => self.taint_base(&a.value, val),
            Expr::Subscript(s) => self.taint_base(&s.value, val),
            _ => {}
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        if self.depth > MAX_DEPTH {
            self.truncated = true;
            return;
        }
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    let module = canonical_ident(alias.name.as_str());
                    match &alias.asname {
                        Some(asname) => {
                            self.bind(canonical_ident(asname.as_str()), Val::named(module))
                        }
                        None => {
                            let top = module.split('.').next().unwrap_or(&module).to_owned();
                            self.bind(top.clone(), Val::named(top));
                        }
                    }
                }
            }
            Stmt::ImportFrom(import) => {
                let module = import
                    .module
                    .as_ref()
                    .map(|m| canonical_ident(m.as_str()))
                    .unwrap_or_default();
                for alias in &import.names {
                    let name = canonical_ident(alias.name.as_str());
                    if name == "*" {
                        continue;
                    }
                    let full = if module.is_empty() {
                        name.clone()
                    } else {
                        format!("{module}.{name}")
                    };
                    let local = alias
                        .asname
                        .as_ref()
                        .map_or(name, |a| canonical_ident(a.as_str()));
                    self.bind(local, Val::named(full));
                }
            }
            Stmt::Assign(assign) => {
                let val = self.eval(&assign.value);
                for target in &assign.targets {
                    self.assign(target, val.clone());
                }
            }
            Stmt::AugAssign(assign) => {
                let val = self.eval(&assign.value);
                let old = self.eval(&assign.target);
                let text = match (&old.text, &val.text, assign.op) {
                    (Some(a), Some(b), ast::Operator::Add) if a.len() + b.len() <= MAX_TEXT => {
                        Some(format!("{a}{b}"))
                    }
                    _ => None,
                };
                let mut new = old.taint(&val);
                new.text = text;
                self.assign(&assign.target, new);
            }
            Stmt::AnnAssign(assign) => {
                if let Some(value) = &assign.value {
                    let val = self.eval(value);
                    self.assign(&assign.target, val);
                }
            }
            // a string statement (a docstring) is never run: its examples are not code
            Stmt::Expr(e) if e.value.is_string_literal_expr() => {}
            Stmt::Expr(e) => {
                let _ = self.eval(&e.value);
            }
            Stmt::Return(r) => {
                if let Some(value) = &r.value {
                    let val = self.eval(value);
                    if let Some(ret) = self.returns.last_mut() {
                        let labels = {
                            let mut l = ret.labels.clone();
                            l.merge(&val.labels);
                            l
                        };
                        *ret = Val { labels, ..val };
                    }
                }
            }
            Stmt::FunctionDef(def) => {
                stacker::maybe_grow(256 * 1024, 4 << 20, || self.function(def));
            }
            Stmt::ClassDef(class) => {
                for base in class.bases() {
                    let _ = self.eval(base);
                }
                self.depth += 1;
                self.body(&class.body);
                self.depth -= 1;
            }
            Stmt::For(f) => {
                let iter = self.eval(&f.iter);
                let item = Val {
                    labels: iter.labels.clone(),
                    text: possible_texts(&iter),
                    param: iter.param,
                    ..Val::default()
                };
                self.assign(&f.target, item);
                self.loop_body(&f.body);
                self.body(&f.orelse);
            }
            Stmt::While(w) => {
                let _ = self.eval(&w.test);
                self.loop_body(&w.body);
                self.body(&w.orelse);
            }
            Stmt::If(i) => {
                let _ = self.eval(&i.test);
                // `if __name__ == "__main__":` runs as a script, not on import
                if is_main_guard(&i.test) {
                    self.functions_deep += 1;
                    self.inside.push((Vec::new(), Vec::new()));
                    self.body(&i.body);
                    self.inside.pop();
                    self.functions_deep -= 1;
                } else {
                    self.body(&i.body);
                }
                for clause in &i.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        let _ = self.eval(test);
                    }
                    self.body(&clause.body);
                }
            }
            Stmt::With(w) => {
                for item in &w.items {
                    let val = self.eval(&item.context_expr);
                    if let Some(vars) = &item.optional_vars {
                        self.assign(vars, val);
                    }
                }
                self.body(&w.body);
            }
            Stmt::Try(t) => {
                self.body(&t.body);
                for handler in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    self.body(&h.body);
                }
                self.body(&t.orelse);
                self.body(&t.finalbody);
            }
            Stmt::Match(m) => {
                let _ = self.eval(&m.subject);
                for case in &m.cases {
                    self.body(&case.body);
                }
            }
            Stmt::Raise(r) => {
                if let Some(exc) = &r.exc {
                    let _ = self.eval(exc);
                }
            }
            Stmt::Assert(a) => {
                let _ = self.eval(&a.test);
            }
            Stmt::Delete(_)
            | Stmt::TypeAlias(_)
            | Stmt::Global(_)
            | Stmt::Nonlocal(_)
            | Stmt::Pass(_)
            | Stmt::Break(_)
            | Stmt::Continue(_)
            | Stmt::IpyEscapeCommand(_) => {}
        }
    }

    /// Walks a function's body with its parameters as placeholders, and keeps a summary
    /// (what it returns, which parameters reach which sinks) for its calls.
    fn function(&mut self, def: &ast::StmtFunctionDef) {
        for decorator in &def.decorator_list {
            let _ = self.eval(&decorator.expression);
        }
        let names: Vec<String> = def
            .parameters
            .iter_non_variadic_params()
            .map(|p| canonical_ident(p.parameter.name.as_str()))
            .chain(
                def.parameters
                    .vararg
                    .iter()
                    .chain(def.parameters.kwarg.iter())
                    .map(|p| canonical_ident(p.name.as_str())),
            )
            .take(MAX_PARAMS)
            .collect();
        self.depth += 1;
        self.functions_deep += 1;
        self.inside.push((Vec::new(), Vec::new()));
        self.scopes.push(HashMap::new());
        self.params.push((names.clone(), Vec::new()));
        self.downloaded.push(Vec::new());
        self.returns.push(Val::default());
        for (i, name) in names.iter().enumerate() {
            let val = Val {
                param: Params::of(i),
                ..Val::default()
            };
            self.bind(name.clone(), val);
        }
        self.body(&def.body);
        let returns = self.returns.pop().unwrap_or_default();
        let (_, params) = self.params.pop().unwrap_or_default();
        let downloads = self.downloaded.pop().unwrap_or_default();
        self.scopes.pop();
        self.depth -= 1;
        self.functions_deep -= 1;
        let (flows, calls) = self.inside.pop().unwrap_or_default();
        let name = canonical_ident(def.name.as_str());
        self.functions.insert(
            name.clone(),
            Function {
                returns: Val {
                    labels: returns.labels,
                    text: returns.text,
                    name: returns.name,
                    ..Val::default()
                },
                params,
                names,
                downloads,
                flows,
                calls,
            },
        );
        self.bind(name.clone(), Val::named(format!("<def>.{name}")));
    }

    pub(crate) fn eval(&mut self, expr: &Expr) -> Val {
        if self.depth > MAX_DEPTH {
            self.truncated = true;
            return Val::default();
        }
        self.depth += 1;
        // debug builds spend far more stack per level than release: grow it on demand
        let val = stacker::maybe_grow(256 * 1024, 4 << 20, || self.eval_inner(expr));
        self.depth -= 1;
        val
    }

    fn eval_inner(&mut self, expr: &Expr) -> Val {
        match expr {
            Expr::StringLiteral(s) => {
                let text = s.value.to_str();
                self.embedded_code(text, s.range);
                Val::text(text)
            }
            Expr::BytesLiteral(b) => {
                let bytes: Vec<u8> = b.value.bytes().collect();
                let text = latin1(&bytes);
                self.embedded_code(&text, b.range);
                Val::text(text)
            }
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => match i.as_i64() {
                    Some(v) => Val {
                        int: Some(v),
                        ..Val::text(v.to_string())
                    },
                    None => Val::text(i.to_string()),
                },
                _ => Val::default(),
            },
            Expr::FString(f) => {
                let mut text = Some(String::new());
                let mut out = Val::default();
                for part in f.value.iter() {
                    match part {
                        ast::FStringPart::Literal(l) => {
                            if let Some(t) = &mut text {
                                t.push_str(&l.value);
                            }
                        }
                        ast::FStringPart::FString(fs) => {
                            for element in &fs.elements {
                                match element {
                                    ast::InterpolatedStringElement::Literal(l) => {
                                        if let Some(t) = &mut text {
                                            t.push_str(&l.value);
                                        }
                                    }
                                    ast::InterpolatedStringElement::Interpolation(i) => {
                                        let v = self.eval(&i.expression);
                                        out.labels.merge(&v.labels);
                                        // an unknown part is a hole: the known text around it
                                        // still says what a command or path is
                                        if let Some(t) = &mut text {
                                            t.push_str(v.text.as_deref().unwrap_or(HOLE));
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                out.text = text.filter(|t| t.len() <= MAX_TEXT);
                out
            }
            Expr::Name(n) => {
                let id = canonical_ident(n.id.as_str());
                if id == "__file__" || id == "__doc__" {
                    self.reads_own_source = true;
                }
                match self.lookup(&id) {
                    Some(v) => v.clone(),
                    None => Val::named(id),
                }
            }
            Expr::Attribute(a) => {
                let base = self.eval(&a.value);
                let attr = canonical_ident(a.attr.as_str());
                if attr == "__doc__" || attr == "__file__" {
                    self.reads_own_source = true;
                }
                if let Some(key) = target_key(expr)
                    && let Some(v) = self.lookup(&key)
                {
                    return v.clone();
                }
                let name = base.name.as_ref().and_then(|n| dotted(n, &attr));
                let mut labels = base.labels.clone();
                if name.as_deref().map(canonical).as_deref() == Some("os.environ") {
                    labels.add(Source::Environ, self.span(a.range));
                }
                Val {
                    labels,
                    name,
                    file: base.file.clone(),
                    param: base.param,
                    ..Val::default()
                }
            }
            Expr::Subscript(s) => {
                let base = self.eval(&s.value);
                let index = self.eval(&s.slice);
                // `text[::-1]` and other constant slices of a constant
                if let (Some(text), Expr::Slice(slice)) = (&base.text, s.slice.as_ref()) {
                    return Val {
                        text: fold_slice(self, text, slice),
                        labels: base.labels.clone(),
                        ..Val::default()
                    };
                }
                let name = match (&base.name, &index.text) {
                    // `__builtins__["exec"]`, `globals()["__builtins__"]`, `vars(x)["y"]`
                    (Some(n), Some(key)) if is_identifier(key) => dotted(n, key),
                    _ => None,
                };
                let environ = base.name.as_deref().map(canonical).as_deref() == Some("os.environ");
                let mut labels = if environ {
                    Labels::default()
                } else {
                    base.labels.clone()
                };
                labels.merge(&index.labels);
                if environ {
                    return Val {
                        labels,
                        text: index.text.as_ref().map(|k| format!("${k}")),
                        ..Val::default()
                    };
                }
                let text = match (&base.items, &base.text, index.int) {
                    (Some(items), _, Some(i)) => usize::try_from(i)
                        .ok()
                        .and_then(|i| items.get(i))
                        .and_then(|v| v.text.clone()),
                    // `"abc"[1]`, `"abc"[-1]`
                    (None, Some(t), Some(i)) => {
                        let chars: Vec<char> = t.chars().collect();
                        let at = if i < 0 { chars.len() as i64 + i } else { i };
                        usize::try_from(at)
                            .ok()
                            .and_then(|a| chars.get(a))
                            .map(|c| c.to_string())
                    }
                    _ => None,
                };
                Val {
                    labels,
                    name,
                    text,
                    param: base.param,
                    ..Val::default()
                }
            }
            Expr::Call(call) => self.call(call),
            Expr::BinOp(b) => {
                let left = self.eval(&b.left);
                let right = self.eval(&b.right);
                if let (Some(l), Some(r)) = (left.int, right.int) {
                    let v = match b.op {
                        ast::Operator::Add => l.checked_add(r),
                        ast::Operator::Sub => l.checked_sub(r),
                        ast::Operator::Mult => l.checked_mul(r),
                        ast::Operator::FloorDiv => l.checked_div_euclid(r),
                        ast::Operator::Mod => l.checked_rem_euclid(r),
                        ast::Operator::LShift => {
                            u32::try_from(r).ok().and_then(|r| l.checked_shl(r))
                        }
                        ast::Operator::RShift => {
                            u32::try_from(r).ok().and_then(|r| l.checked_shr(r))
                        }
                        ast::Operator::BitOr => Some(l | r),
                        ast::Operator::BitAnd => Some(l & r),
                        ast::Operator::BitXor => Some(l ^ r),
                        _ => None,
                    };
                    return match v {
                        Some(v) => Val {
                            int: Some(v),
                            ..Val::text(v.to_string())
                        },
                        None => Val::default(),
                    };
                }
                let text = match (b.op, &left.text, &right.text) {
                    (ast::Operator::Add, Some(l), Some(r)) if l.len() + r.len() <= MAX_TEXT => {
                        Some(format!("{l}{r}"))
                    }
                    (ast::Operator::Add, Some(l), None) if left.int.is_none() => {
                        Some(format!("{l}{HOLE}"))
                    }
                    (ast::Operator::Add, None, Some(r)) if right.int.is_none() => {
                        Some(format!("{HOLE}{r}"))
                    }
                    (ast::Operator::Div, Some(l), Some(r)) => Some(format!("{l}/{r}")),
                    (ast::Operator::Mod, Some(l), Some(r)) => Some(l.replacen("%s", r, 1)),
                    (ast::Operator::Mult, Some(l), Some(r)) => r
                        .parse::<usize>()
                        .ok()
                        .filter(|n| l.len().saturating_mul(*n) <= MAX_TEXT)
                        .map(|n| l.repeat(n)),
                    _ => None,
                };
                let mut val = Val {
                    text,
                    param: left.param.or(right.param),
                    ..Val::default()
                }
                .taint(&left)
                .taint(&right);
                // `b ^ k` over data is how payloads are XOR-obfuscated
                if b.op == ast::Operator::BitXor && (left.text.is_none() || right.text.is_none()) {
                    val.labels.add(Source::Decoded, self.span(b.range));
                }
                if let (Some(path), ast::Operator::Div) = (&left.file, b.op) {
                    val.file = Some(path.clone());
                }
                val
            }
            Expr::BoolOp(b) => {
                let mut out = Val::default();
                for v in &b.values {
                    let v = self.eval(v);
                    out = merge_alt(out, v);
                }
                out
            }
            Expr::If(i) => {
                let _ = self.eval(&i.test);
                let body = self.eval(&i.body);
                let orelse = self.eval(&i.orelse);
                merge_alt(body, orelse)
            }
            Expr::Named(n) => {
                let val = self.eval(&n.value);
                self.assign(&n.target, val.clone());
                val
            }
            Expr::List(l) => self.sequence(&l.elts),
            Expr::Tuple(t) => self.sequence(&t.elts),
            Expr::Set(s) => self.sequence(&s.elts),
            Expr::Dict(d) => {
                let mut out = Val::default();
                for item in &d.items {
                    if let Some(key) = &item.key {
                        let k = self.eval(key);
                        out = out.taint(&k);
                    }
                    let v = self.eval(&item.value);
                    out = out.taint(&v);
                    out.param = out.param.or(v.param);
                }
                out
            }
            Expr::ListComp(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::SetComp(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::Generator(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::DictComp(c) => match &c.key {
                Some(key) => self.comprehension(&c.generators, &[key, &c.value]),
                None => self.comprehension(&c.generators, &[&c.value]),
            },
            Expr::Lambda(l) => {
                // what the body gives is what a call of the lambda gives
                let body = self.eval(&l.body);
                Val {
                    labels: body.labels,
                    name: Some(LAMBDA.into()),
                    ..Val::default()
                }
            }
            Expr::Await(a) => self.eval(&a.value),
            Expr::Starred(s) => self.eval(&s.value),
            Expr::Yield(y) => y.value.as_ref().map(|v| self.eval(v)).unwrap_or_default(),
            Expr::YieldFrom(y) => self.eval(&y.value),
            Expr::UnaryOp(u) => {
                let v = self.eval(&u.operand);
                // `-i64::MIN` does not fit: left unknown, as every other fold that overflows
                if let (Some(i), ast::UnaryOp::USub) = (v.int.and_then(i64::checked_neg), u.op) {
                    return Val {
                        int: Some(i),
                        ..Val::text(i.to_string())
                    };
                }
                Val {
                    labels: v.labels,
                    param: v.param,
                    ..Val::default()
                }
            }
            Expr::Compare(c) => {
                let _ = self.eval(&c.left);
                for comparator in &c.comparators {
                    let _ = self.eval(comparator);
                }
                Val::default()
            }
            Expr::Slice(s) => {
                for part in [&s.lower, &s.upper, &s.step].into_iter().flatten() {
                    let _ = self.eval(part);
                }
                Val::default()
            }
            Expr::TString(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::EllipsisLiteral(_)
            | Expr::IpyEscapeCommand(_) => Val::default(),
        }
    }

    fn sequence(&mut self, elts: &[Expr]) -> Val {
        let mut out = Val::default();
        let mut items = Vec::with_capacity(elts.len());
        for elt in elts {
            let v = self.eval(elt);
            out.labels.merge(&v.labels);
            out.param = out.param.or(v.param);
            items.push(Val {
                text: v.text.clone(),
                int: v.int,
                ..Val::default()
            });
        }
        out.items = Some(items.into());
        out
    }

    fn comprehension(&mut self, generators: &[ast::Comprehension], elts: &[&Expr]) -> Val {
        self.scopes.push(HashMap::new());
        let mut out = Val::default();
        for generator in generators {
            let iter = self.eval(&generator.iter);
            out.labels.merge(&iter.labels);
            let item = Val {
                labels: iter.labels.clone(),
                param: iter.param,
                text: possible_texts(&iter),
                ..Val::default()
            };
            self.assign(&generator.target, item);
            for cond in &generator.ifs {
                let _ = self.eval(cond);
            }
        }
        for elt in elts {
            let v = self.eval(elt);
            out.labels.merge(&v.labels);
            out.param = out.param.or(v.param);
        }
        // `[chr(c) for c in (104, 105)]`: the items fold when the iterable is a constant list
        self.scopes.pop();
        out
    }

    fn call(&mut self, call: &ast::ExprCall) -> Val {
        let at = self.span(call.range());
        // the receiver of a method call, evaluated once
        // `self.decode(x)`: a method of a class of this module, its `self` bound by the call
        let mut bound_self = false;
        let (callee, receiver) = match call.func.as_ref() {
            Expr::Attribute(a) => {
                let receiver = self.eval(&a.value);
                let attr = canonical_ident(a.attr.as_str());
                let local = target_key(&call.func).and_then(|k| self.lookup(&k).cloned());
                let own_method = matches!(a.value.as_ref(), Expr::Name(n) if matches!(n.id.as_str(), "self" | "cls"))
                    && self.functions.contains_key(&attr);
                let callee = local.unwrap_or_else(|| {
                    if own_method {
                        bound_self = true;
                        return Val::named(format!("<def>.{attr}"));
                    }
                    Val {
                        name: receiver.name.as_ref().and_then(|n| dotted(n, &attr)),
                        ..Val::default()
                    }
                });
                (callee, Some((receiver, attr)))
            }
            func => (self.eval(func), None),
        };
        let mut args: Vec<Val> = Vec::with_capacity(call.arguments.args.len());
        for arg in &call.arguments.args {
            args.push(self.eval(arg));
        }
        let mut keywords: Vec<(String, Val)> = Vec::new();
        for kw in &call.arguments.keywords {
            let v = self.eval(&kw.value);
            let key = kw
                .arg
                .as_ref()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_default();
            keywords.push((key, v));
        }
        let name = callee.name.as_deref().map(canonical).unwrap_or_default();
        let all_args = || args.iter().chain(keywords.iter().map(|(_, v)| v));

        // the result: sources the callee brings in, the data its arguments carry
        let mut result = Val {
            name: callee.name.as_ref().map(|n| format!("{n}()")),
            ..Val::default()
        };
        if let Some((recv, _)) = &receiver {
            result.labels.merge(&recv.labels);
            result.param = recv.param;
        }
        for a in all_args() {
            result.labels.merge(&a.labels);
            result.param = result.param.or(a.param);
        }
        if callee.name.as_deref() == Some(LAMBDA) {
            result.labels.merge(&callee.labels);
            result.name = None;
        }
        // characters from a list of codes the file carries (`chr(c) for c in [105, …]`): a
        // string decoded from numbers
        if name == "chr"
            && args.first().is_some_and(|a| {
                a.int.is_none()
                    && a.text.as_deref().is_some_and(|t| {
                        t.contains('\n') && t.bytes().all(|b| b.is_ascii_digit() || b == b'\n')
                    })
            })
        {
            result.labels.add(Source::Decoded, at.clone());
        }
        // a container filled with data carries it: `found.append(open(p).read())`
        if let (Some((_, m)), Expr::Attribute(a)) = (&receiver, call.func.as_ref())
            && matches!(
                m.as_str(),
                "append"
                    | "extend"
                    | "insert"
                    | "add"
                    | "update"
                    | "put"
                    | "setdefault"
                    | "appendleft"
            )
        {
            let mut added = Val::default();
            for arg in args.iter().chain(keywords.iter().map(|(_, v)| v)) {
                added.labels.merge(&arg.labels);
            }
            self.taint_base(&a.value, &added);
        }
        if let Some(mut source) = source_of_call(&name) {
            // decoding what a caller passed in (a model file's bytes, a message) is a decoder
            // function; what it decodes is judged where it is called
            let from_caller = args
                .first()
                .or(receiver.as_ref().map(|(r, _)| r))
                // data of unknown origin (a parameter, an attribute, a command-line argument):
                // not a blob the file carries nor data it fetched
                // (or a local file's content: a cache, a model, a data file)
                .is_some_and(|a| {
                    a.labels
                        .sources()
                        .all(|(s, _)| matches!(s, Source::DecodedArg | Source::File))
                        && !is_blob(a)
                });
            if source == Source::Decoded && from_caller {
                source = Source::DecodedArg;
            }
            result.labels.add(source, at.clone());
            self.seen.push((source, at.clone()));
        }
        let first_text = args.first().and_then(|a| a.text.clone());
        let method = receiver.as_ref().map(|(_, m)| m.as_str()).unwrap_or("");
        let recv_text = receiver.as_ref().and_then(|(r, _)| r.text.clone());

        // folding and resolution
        match name.as_str() {
            "__import__" | "importlib.import_module" => {
                if let Some(module) = &first_text {
                    result.name = Some(module.clone());
                }
            }
            "getattr" => {
                if let (Some(obj), Some(attr)) =
                    (args.first(), args.get(1).and_then(|a| a.text.as_ref()))
                {
                    result.name = obj.name.as_ref().and_then(|n| dotted(n, attr));
                    if obj.name.is_none() && is_identifier(attr) {
                        result.name = Some(attr.clone());
                    }
                }
            }
            "vars" | "dict" if args.len() == 1 => {
                result.name = args[0].name.clone();
                if args[0].name.as_deref().map(canonical).as_deref() == Some("os.environ") {
                    result.labels.add(Source::Environ, at.clone());
                }
            }
            "globals" | "locals" => result.name = Some("builtins".into()),
            "map" if args.len() == 2 => {
                // `map(chr, [104, 105])`: the characters
                let chr = args[0].name.as_deref().map(canonical).as_deref() == Some("chr");
                if chr && let Some(items) = &args[1].items {
                    result.items = items
                        .iter()
                        .map(|i| {
                            i.int
                                .and_then(|n| u32::try_from(n).ok())
                                .and_then(char::from_u32)
                                .map(|c| Val::text(c.to_string()))
                        })
                        .collect::<Option<Vec<_>>>()
                        .map(Into::into);
                }
            }
            "chr" => {
                result.text = args
                    .first()
                    .and_then(|a| a.int)
                    .and_then(|n| u32::try_from(n).ok())
                    .and_then(char::from_u32)
                    .map(String::from);
            }
            "int" if args.len() == 1 => {
                result.int = first_text
                    .as_deref()
                    .and_then(|t| t.trim().parse::<i64>().ok());
                result.text = result.int.map(|i| i.to_string());
            }
            "str" | "bytes" | "bytearray" | "repr" if args.len() <= 2 => {
                result.text = first_text.clone();
                result.items = args.first().and_then(|a| a.items.clone());
                if result.text.is_none()
                    && let Some(items) = &result.items
                {
                    result.text = items
                        .iter()
                        .map(|i| {
                            i.text
                                .as_deref()
                                .and_then(|t| t.parse::<u32>().ok())
                                .and_then(char::from_u32)
                        })
                        .collect::<Option<String>>();
                }
            }
            "bytes.fromhex" | "bytearray.fromhex" | "binascii.unhexlify" | "binascii.a2b_hex" => {
                result.text = first_text.as_deref().and_then(unhex);
            }
            "codecs.decode" => {
                let codec = args.get(1).and_then(|a| a.text.as_deref()).unwrap_or("");
                result.text = first_text.as_deref().and_then(|t| decode_codec(t, codec));
            }
            "os.path.join" | "posixpath.join" | "ntpath.join" => {
                // unknown parts are holes: `join(home, ".ssh", "id_rsa")` is still a key path
                let parts: Vec<&str> = args
                    .iter()
                    .map(|a| a.text.as_deref().unwrap_or(HOLE))
                    .collect();
                if parts.iter().any(|p| *p != HOLE) {
                    result.text = Some(parts.join("/"));
                }
            }
            "os.path.expanduser" | "os.path.expandvars" | "os.path.abspath"
            | "os.path.realpath" | "os.path.normpath" | "pathlib.Path" | "Path"
            | "pathlib.PurePath" | "os.fsencode" | "os.fsdecode" => {
                result.text = first_text.clone();
                result.file = Some((first_text.clone(), false, Labels::default()));
            }
            "tempfile.gettempdir" | "tempfile.mkdtemp" | "tempfile.mktemp" => {
                result.text = Some("$TMP".into());
            }
            "pathlib.Path.home" | "Path.home" | "os.path.expanduser.home" => {
                result.text = Some("~".into());
                result.file = Some((Some("~".into()), false, Labels::default()));
            }
            "os.getenv" | "os.environ.get" | "os.environ.setdefault" | "os.environ.pop" => {
                result.labels = Labels::default();
                result.text = first_text.as_deref().map(|v| format!("${v}"));
            }
            _ => {}
        }
        if name.starts_with("base64.") || name == "binascii.a2b_base64" {
            result.text = first_text.as_deref().and_then(|t| decode_base64(t, &name));
        }
        // methods of a constant or of a value
        match method {
            "join" if recv_text.is_some() => {
                let sep = recv_text.clone().unwrap_or_default();
                result.text = args.first().and_then(|a| {
                    a.items.as_ref().and_then(|items| {
                        items
                            .iter()
                            .map(|i| i.text.clone())
                            .collect::<Option<Vec<_>>>()
                            .map(|p| p.join(&sep))
                    })
                });
            }
            "decode" | "encode" => {
                let codec = first_text.as_deref().unwrap_or("utf-8");
                if let Some(t) = &recv_text {
                    let folded = match method {
                        // a code page's bytes of a text (`"exec".encode("cp500")`)
                        "encode" => crate::codecs::encode(t, codec),
                        _ => None,
                    };
                    result.text = folded
                        .or_else(|| decode_codec(t, codec))
                        .or_else(|| Some(t.clone()));
                }
                if matches!(
                    codec.to_ascii_lowercase().as_str(),
                    "base64" | "hex" | "rot13" | "rot_13" | "zlib" | "bz2" | "uu"
                ) && method == "decode"
                {
                    // Python 2's `.decode("hex")`: a blob the file carries, or data fetched, is
                    // decoded; anything else is of unknown origin
                    let known = receiver.as_ref().is_some_and(|(r, _)| {
                        is_blob(r)
                            || r.labels
                                .sources()
                                .any(|(s, _)| !matches!(s, Source::DecodedArg | Source::File))
                    });
                    let source = if known {
                        Source::Decoded
                    } else {
                        Source::DecodedArg
                    };
                    result.labels.add(source, at.clone());
                }
            }
            "strip" | "lstrip" | "rstrip" | "lower" | "upper" | "title" | "casefold" => {
                result.text = recv_text.as_deref().map(|t| match method {
                    "strip" => t.trim().to_owned(),
                    "lstrip" => t.trim_start().to_owned(),
                    "rstrip" => t.trim_end().to_owned(),
                    "lower" | "casefold" => t.to_lowercase(),
                    "upper" => t.to_uppercase(),
                    _ => t.to_owned(),
                });
            }
            "replace" => {
                if let (Some(t), Some(a), Some(b)) = (
                    &recv_text,
                    args.first().and_then(|a| a.text.as_ref()),
                    args.get(1).and_then(|a| a.text.as_ref()),
                ) && !a.is_empty()
                    && t.len() <= MAX_TEXT
                {
                    result.text = Some(t.replace(a.as_str(), b)).filter(|t| t.len() <= MAX_TEXT);
                }
            }
            "format" => {
                if let Some(t) = &recv_text {
                    let mut out = t.clone();
                    for a in &args {
                        if let (Some(start), Some(text)) = (out.find('{'), &a.text)
                            && let Some(end) = out[start..].find('}')
                        {
                            out.replace_range(start..start + end + 1, text);
                        }
                    }
                    result.text = Some(out).filter(|t| t.len() <= MAX_TEXT);
                }
            }
            "joinpath" | "expanduser" | "resolve" | "absolute" => {
                if let Some((r, _)) = &receiver {
                    let mut parts: Vec<String> = r.text.iter().cloned().collect();
                    parts.extend(args.iter().filter_map(|a| a.text.clone()));
                    result.text = Some(parts.join("/"));
                    result.file = Some((result.text.clone(), false, Labels::default()));
                }
            }
            _ => {}
        }
        // `name.endswith(".session")`: a listing filtered for credential files — the names kept,
        // and the paths made of them, are credentials
        if method == "endswith"
            && let Expr::Attribute(a) = call.func.as_ref()
        {
            let suffixes = args.first().map(|a| {
                a.text
                    .iter()
                    .cloned()
                    .chain(
                        a.items
                            .iter()
                            .flat_map(|i| i.iter())
                            .filter_map(|i| i.text.clone()),
                    )
                    .collect::<Vec<_>>()
            });
            if suffixes.is_some_and(|s| s.iter().any(|t| is_credential_suffix(t))) {
                let val = Val {
                    labels: Labels::of(Source::Credential, at.clone()),
                    ..Val::default()
                };
                self.taint_base(&a.value, &val);
                self.seen.push((Source::Credential, at.clone()));
            }
        }
        // a path constant read: a credential or the process environment
        let reads_path = matches!(
            name.as_str(),
            "open"
                | "io.open"
                | "codecs.open"
                | "os.open"
                | "glob.glob"
                | "glob.iglob"
                | "os.listdir"
                | "os.walk"
                | "os.scandir"
                | "shutil.copy"
                | "shutil.copyfile"
                | "shutil.copy2"
                | "shutil.copytree"
                | "shutil.make_archive"
                | "sqlite3.connect"
        ) || matches!(
            method,
            "read_text" | "read_bytes" | "open" | "glob" | "rglob" | "iterdir" | "write" | "add"
        );
        if reads_path {
            let path_texts: Vec<String> = receiver
                .iter()
                .filter_map(|(r, _)| {
                    r.text
                        .clone()
                        .or_else(|| r.file.as_ref().and_then(|f| f.0.clone()))
                })
                .chain(all_args().filter_map(|a| a.text.clone()))
                .collect();
            // `zip.write(path)` and `tar.add(path)` pack the file: the archive carries it
            if path_texts.iter().any(|p| is_credential_path(p)) {
                result.labels.add(Source::Credential, at.clone());
                self.seen.push((Source::Credential, at.clone()));
                if let Some((_, _)) = &receiver
                    && matches!(method, "write" | "add")
                    && let Expr::Attribute(a) = call.func.as_ref()
                {
                    let val = Val {
                        labels: Labels::of(Source::Credential, at.clone()),
                        ..Val::default()
                    };
                    self.taint_base(&a.value, &val);
                }
            }
            if matches!(method, "read_text" | "read_bytes")
                && !result.labels.has(Source::Credential)
            {
                result.labels.add(Source::File, at.clone());
            }
            if path_texts.iter().any(|p| is_environ_path(p)) {
                result.labels.add(Source::Environ, at.clone());
                self.seen.push((Source::Environ, at.clone()));
            }
        }
        if matches!(name.as_str(), "open" | "io.open" | "codecs.open") {
            let mode = args
                .get(1)
                .and_then(|a| a.text.clone())
                .or_else(|| {
                    keywords
                        .iter()
                        .find(|(k, _)| k == "mode")
                        .and_then(|(_, v)| v.text.clone())
                })
                .unwrap_or_default();
            let writes = mode.contains(['w', 'a', 'x', '+']);
            let path = args.first().cloned().unwrap_or_default();
            result.path_var = call.arguments.args.first().and_then(target_key);
            if !writes
                && !result.labels.has(Source::Credential)
                && !result.labels.has(Source::Environ)
            {
                result.labels.add(Source::File, at.clone());
            }
            result.file = Some((path.text.clone(), writes, path.labels.clone()));
        }
        if name == "winreg.OpenKey"
            || name == "winreg.CreateKey"
            || name == "winreg.OpenKeyEx"
            || name == "_winreg.OpenKey"
            || name == "_winreg.CreateKey"
        {
            let key = args.get(1).and_then(|a| a.text.clone());
            result.file = Some((key, true, Labels::default()));
        }

        // a request object made here: its URL is where the send that takes it goes
        if (name == "Request" || name.ends_with(".Request"))
            && let Some(url) = keywords
                .iter()
                .find(|(k, _)| k == "url")
                .map(|(_, v)| v)
                .or(args.first())
        {
            self.endpoint(url, &at);
        }
        // where data ends
        let mut sink = sink_of_call(&name);
        let mut data: Vec<Val> = all_args().cloned().collect();
        if matches!(
            name.as_str(),
            "getattr" | "__import__" | "importlib.import_module"
        ) {
            sink = None;
        }
        // a file or registry write: the data goes to the path the file was opened with
        let mut written: Option<(Option<String>, Labels)> = None;
        if let Some((recv, _)) = &receiver
            && matches!(
                method,
                "write" | "writelines" | "write_text" | "write_bytes"
            )
        {
            let path = recv
                .file
                .as_ref()
                .map(|(p, _, l)| (p.clone(), l.clone()))
                .or_else(|| recv.text.clone().map(|t| (Some(t), Labels::default())));
            if let Some(path) = path {
                written = Some(path);
            }
        }
        if matches!(
            name.as_str(),
            "winreg.SetValueEx" | "_winreg.SetValueEx" | "winreg.SetValue"
        ) {
            written = args
                .first()
                .and_then(|k| k.file.as_ref())
                .map(|(p, _, l)| (p.clone(), l.clone()));
        }
        // `copyfileobj(response.raw, f)`: the source's data goes to the file `f` was opened on
        if name == "shutil.copyfileobj"
            && let Some(dst) = args.get(1)
            && let Some((path, _, labels)) = &dst.file
        {
            written = Some((path.clone(), labels.clone()));
            data.truncate(1);
            if data.iter().any(|d| d.labels.has(Source::Network)) {
                let dropped = dropped(path.as_deref(), &data);
                if let Some(p) = path {
                    self.downloads.push((p.clone(), dropped, at.clone()));
                }
                if let Some(f) = call.arguments.args.get(1) {
                    self.mark_download_file(f, &at, dropped);
                }
            }
        }
        if matches!(
            name.as_str(),
            "shutil.copy"
                | "shutil.copyfile"
                | "shutil.copy2"
                | "shutil.move"
                | "os.rename"
                | "os.replace"
                | "os.symlink"
                | "os.link"
        ) {
            written = args.get(1).map(|d| (d.text.clone(), Labels::default()));
            data.truncate(1);
        }
        if matches!(
            name.as_str(),
            "urllib.request.urlretrieve" | "urllib.urlretrieve" | "wget.download"
        ) {
            if let Some(dest) = args.get(1)
                && let Some(t) = &dest.text
            {
                let from = args.first().cloned().unwrap_or_default();
                let dropped = dropped(Some(t), &[from])
                    || args
                        .first()
                        .and_then(|u| u.text.as_deref())
                        .is_some_and(is_exfil_channel);
                self.downloads.push((t.clone(), dropped, at.clone()));
            }
            written = args.get(1).map(|d| (d.text.clone(), Labels::default()));
            data = vec![Val {
                labels: Labels::of(Source::Network, at.clone()),
                ..Val::default()
            }];
            sink = None;
        }
        if let Some((path, _)) = &written {
            let persist = path.as_deref().is_some_and(is_persistence_path);
            sink = Some(if persist { Sink::Persist } else { Sink::Write });
            // network data written to a file: the file is a download
            if data.iter().any(|d| d.labels.has(Source::Network)) && receiver.is_some() {
                let dropped = dropped(path.as_deref(), &data);
                if let Some(p) = path {
                    self.downloads.push((p.clone(), dropped, at.clone()));
                }
                if let Expr::Attribute(a) = call.func.as_ref() {
                    self.mark_download_file(&a.value, &at, dropped);
                }
            } else if receiver.is_some() {
                // a program the file carries (decoded from a blob, or code in a constant)
                // written where droppers put theirs: run from there, it is a dropped program
                let decoded = data.iter().any(|d| d.labels.has(Source::Decoded));
                let program = data
                    .iter()
                    .any(|d| d.text.as_deref().is_some_and(looks_like_program));
                if decoded || program && dropped(path.as_deref(), &[]) {
                    if let Some(p) = path {
                        self.downloads.push((p.clone(), true, at.clone()));
                    }
                    if let Expr::Attribute(a) = call.func.as_ref() {
                        self.mark_download_file(&a.value, &at, true);
                    }
                }
            }
        }
        if let Some(sink) = sink {
            // a process or chmod on a downloaded file
            if matches!(sink, Sink::Process | Sink::Chmod | Sink::Exec) {
                for d in &mut data {
                    let text = d.text.clone().or_else(|| {
                        d.items.as_ref().map(|items| {
                            items
                                .iter()
                                .filter_map(|i| i.text.clone())
                                .collect::<Vec<_>>()
                                .join(" ")
                        })
                    });
                    if let Some(t) = text
                        && let Some((path, dropped, written_at)) =
                            self.downloads.iter().find(|(p, _, _)| runs_file(&t, p))
                    {
                        let origin = Span {
                            text: format!("file written to {path}"),
                            ..written_at.clone()
                        };
                        if *dropped {
                            d.labels.add(Source::Dropped, origin.clone());
                        }
                        d.labels.add(Source::Download, origin);
                    }
                }
            }
            let text = fold_args(&data, written.as_ref().and_then(|(p, _)| p.as_deref()));
            // a process that fetches (curl, wget, PowerShell) sends what its command line holds
            let mut sinks = vec![sink];
            if sink == Sink::Process && fetches(&text) {
                sinks.push(Sink::Send);
            }
            if sinks.contains(&Sink::Send) && is_exfil_channel(&text) {
                sinks.push(Sink::Channel);
            }
            // where a send goes: data that chose the destination (a URL decoded from a blob)
            if sink == Sink::Send
                && let Some(dest) = endpoint_arg(&name, &args, &keywords)
            {
                self.endpoint(dest, &at);
            }
            // `python -c CODE`: the code is executed
            if sink == Sink::Process
                && data
                    .first()
                    .and_then(|d| d.items.as_ref())
                    .is_some_and(|items| items.iter().any(|i| i.text.as_deref() == Some("-c")))
            {
                sinks.push(Sink::Exec);
            }
            if sink == Sink::Process {
                if let Some(code) = python_c(&data, &text) {
                    self.code_constant(&code, call.range());
                }
                if reads_host(&text) {
                    result.labels.add(Source::Host, at.clone());
                    self.seen.push((Source::Host, at.clone()));
                }
            }
            for d in &data {
                for (source, origin) in d.labels.sources() {
                    for &sink in &sinks {
                        self.flows.push(Flow {
                            source,
                            sink,
                            from: origin.clone(),
                            to: at.clone(),
                            top_level: self.functions_deep == 0,
                        });
                        if let Some((flows, _)) = self.inside.last_mut() {
                            flows.push(self.flows.len() - 1);
                        }
                    }
                }
                if let Some((_, reached)) = self.params.last_mut() {
                    reached.extend(d.param.iter().map(|i| (i, sink, at.clone())));
                }
            }
            if sink == Sink::Exec
                && let Some(code) = data.first().and_then(|d| d.text.clone())
            {
                self.layers.push(Layer {
                    at: at.clone(),
                    text: code,
                });
            }
            self.calls.push(CallFact {
                sink,
                at: at.clone(),
                text,
                constant: data
                    .iter()
                    .all(|d| d.labels.is_empty() && d.param.is_none()),
                name: name.clone(),
                top_level: self.functions_deep == 0,
            });
            if let Some((_, calls)) = self.inside.last_mut() {
                calls.push(self.calls.len() - 1);
            }
        }
        // a function of this module passed as an argument (a thread's target, a callback) runs
        // from here, as far as import time is concerned
        for arg in args.iter().chain(keywords.iter().map(|(_, v)| v)) {
            if let Some(def) = arg
                .name
                .as_deref()
                .and_then(|n| n.strip_prefix("<def>."))
                .and_then(|n| self.functions.get(n))
                .cloned()
            {
                self.runs_here(&def);
            }
        }
        // a call of a function defined here: its summary
        if let Some(def) = callee
            .name
            .as_deref()
            .and_then(|n| n.strip_prefix("<def>."))
            .and_then(|n| self.functions.get(n))
            .cloned()
        {
            self.runs_here(&def);
            result.labels.merge(&def.returns.labels);
            if result.text.is_none() {
                result.text = def.returns.text.clone();
            }
            if def.returns.name.is_some() {
                result.name = def.returns.name.clone();
            }
            let shift = usize::from(
                bound_self && def.names.first().is_some_and(|n| n == "self" || n == "cls"),
            );
            // the argument for a parameter: by position, or by keyword (`request(url=u, data=d)`)
            let arg_for = |i: usize| {
                i.checked_sub(shift).and_then(|p| args.get(p)).or_else(|| {
                    let name = def.names.get(i)?;
                    keywords.iter().find(|(k, _)| k == name).map(|(_, v)| v)
                })
            };
            // a decoder called on a blob this file carries (`b64("aW1wb3J0…")`): what it
            // returns is decoded from the file's own data
            if def.returns.labels.has(Source::DecodedArg)
                && args
                    .iter()
                    .chain(keywords.iter().map(|(_, v)| v))
                    .any(is_blob)
            {
                result.labels.add(Source::Decoded, at.clone());
            }
            // a parameter the function downloads to, given a path here: the path is a download
            for &(i, was_dropped) in &def.downloads {
                if let Some(path) = arg_for(i).and_then(|a| a.text.clone()) {
                    let dropped = was_dropped || dropped(Some(&path), &[]);
                    self.downloads.push((path, dropped, at.clone()));
                } else if let Some(arg) = arg_for(i)
                    && let Some(d) = self.downloaded.last_mut()
                {
                    d.extend(arg.param.iter().map(|p| (p, was_dropped)));
                }
            }
            for (i, sink, inner) in &def.params {
                let Some(arg) = arg_for(*i) else { continue };
                let mut arg = arg.clone();
                // a parameter the function runs, given a downloaded file here
                if matches!(sink, Sink::Process | Sink::Chmod | Sink::Exec)
                    && let Some(t) = &arg.text
                    && let Some((path, dropped, written_at)) =
                        self.downloads.iter().find(|(p, _, _)| runs_file(t, p))
                {
                    let origin = Span {
                        text: format!("file written to {path}"),
                        ..written_at.clone()
                    };
                    if *dropped {
                        arg.labels.add(Source::Dropped, origin.clone());
                    }
                    arg.labels.add(Source::Download, origin);
                }
                for (source, origin) in arg.labels.sources() {
                    if *sink == Sink::Endpoint && source == Source::Decoded && !is_address(&arg) {
                        continue;
                    }
                    self.flows.push(Flow {
                        source,
                        sink: *sink,
                        from: origin.clone(),
                        to: Span {
                            text: format!("{} (called at line {})", inner.text, at.line),
                            ..inner.clone()
                        },
                        top_level: self.functions_deep == 0,
                    });
                    if let Some((flows, _)) = self.inside.last_mut() {
                        flows.push(self.flows.len() - 1);
                    }
                }
                if let Some((_, reached)) = self.params.last_mut() {
                    reached.extend(arg.param.iter().map(|p| (p, *sink, inner.clone())));
                }
            }
        }
        let _ = is_network;
        result
    }

    /// Data choosing where a send goes (the URL of a request, the address of a connection).
    fn endpoint(&mut self, dest: &Val, at: &Span) {
        for (source, origin) in dest.labels.sources() {
            // decoded data chose the address only when the address itself is what was decoded
            // (a URL folded from a blob), not an object that a decoded key signed
            if source == Source::Decoded && !is_address(dest) {
                continue;
            }
            self.flows.push(Flow {
                source,
                sink: Sink::Endpoint,
                from: origin.clone(),
                to: at.clone(),
                top_level: self.functions_deep == 0,
            });
            if let Some((flows, _)) = self.inside.last_mut() {
                flows.push(self.flows.len() - 1);
            }
        }
        if let Some((_, reached)) = self.params.last_mut() {
            reached.extend(dest.param.iter().map(|i| (i, Sink::Endpoint, at.clone())));
        }
    }

    /// What a function of this module does runs where it is called: at import when called at
    /// module level, else as part of the function calling it.
    fn runs_here(&mut self, def: &Function) {
        match self.inside.last_mut() {
            None => {
                for &i in &def.flows {
                    if let Some(f) = self.flows.get_mut(i) {
                        f.top_level = true;
                    }
                }
                for &i in &def.calls {
                    if let Some(c) = self.calls.get_mut(i) {
                        c.top_level = true;
                    }
                }
            }
            Some((flows, calls)) => {
                flows.extend(&def.flows);
                calls.extend(&def.calls);
            }
        }
    }

    /// Forgets the facts of a first pass, keeping what it learnt of names, functions and
    /// downloads: the second pass sees a function defined (or a file downloaded) below the code
    /// that uses it.
    pub(crate) fn restart(&mut self) {
        self.flows.clear();
        self.calls.clear();
        self.seen.clear();
        self.layers.clear();
        self.embedded.clear();
        for f in self.functions.values_mut() {
            f.flows.clear();
            f.calls.clear();
        }
    }

    /// The variable holding an open file that network data was written to: its path is a
    /// download.
    fn mark_download_file(&mut self, file: &Expr, at: &Span, dropped: bool) {
        let Some(v) = target_key(file).and_then(|k| self.lookup(&k).cloned()) else {
            return;
        };
        if let Some((Some(path), _, _)) = &v.file {
            self.downloads.push((path.clone(), dropped, at.clone()));
        }
        // the variable holding the path now names a downloaded file
        if let Some(var) = &v.path_var {
            let mut path = self.lookup(var).cloned().unwrap_or_default();
            // a parameter: the caller's path is the download
            if let Some(d) = self.downloaded.last_mut() {
                d.extend(path.param.iter().map(|i| (i, dropped)));
            }
            let origin = Span {
                text: format!("file written to `{var}`"),
                ..at.clone()
            };
            if dropped {
                path.labels.add(Source::Dropped, origin.clone());
            }
            path.labels.add(Source::Download, origin);
            self.bind(var.clone(), path);
        }
    }
}

/// The argument of a send that names where it goes: a request's URL, a connection's address.
fn endpoint_arg<'v>(name: &str, args: &'v [Val], keywords: &'v [(String, Val)]) -> Option<&'v Val> {
    let last = name.rsplit('.').next().unwrap_or(name);
    let keyword = |k: &str| keywords.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    match last {
        // a request object carries its body too: its URL was judged where it was made
        "urlopen" => keyword("url")
            .or_else(|| args.first())
            .filter(|a| !a.name.as_deref().is_some_and(|n| n.ends_with("Request()"))),
        "get" | "post" | "put" | "patch" | "delete" | "head" | "options" | "urlretrieve"
        | "stream" | "ws_connect" | "create_connection" | "connect" | "gethostbyname"
        | "gethostbyname_ex" | "getaddrinfo" | "resolve" | "query" => {
            keyword("url").or_else(|| args.first())
        }
        "request" | "fetch" => keyword("url").or_else(|| args.get(1)),
        "sendto" => args.get(1),
        _ => None,
    }
}

/// Whether a value's text is an address: a URL, or a host name.
fn is_address(v: &Val) -> bool {
    v.text.as_deref().is_some_and(|t| {
        t.contains("://") || (t.contains('.') && !t.trim().contains(char::is_whitespace))
    })
}

/// Whether a value is a blob the file carries: constant text of 8 characters or more, not an
/// environment variable's placeholder nor a text with holes (an empty default filled later is
/// no payload).
fn is_blob(v: &Val) -> bool {
    v.text
        .as_deref()
        .is_some_and(|t| t.len() >= 8 && !t.starts_with('$') && !t.contains(HOLE))
}

/// Whether a download looks like a dropped program: named like a Windows program or script,
/// put in a temporary or shared place, or fetched from a channel or a public IP address.
fn dropped(path: Option<&str>, data: &[Val]) -> bool {
    const DROPPED: [&str; 13] = [
        ".exe",
        ".scr",
        ".bat",
        ".cmd",
        ".ps1",
        ".vbs",
        ".msi",
        ".dll",
        "tmp",
        "temp",
        "appdata",
        "programdata",
        "public",
    ];
    let by_path = path.is_some_and(|p| {
        let p = p.to_ascii_lowercase();
        DROPPED.iter().any(|d| p.contains(d))
    });
    let by_origin = data.iter().any(|d| {
        d.labels
            .sources()
            .any(|(s, at)| s == Source::Network && is_exfil_channel(&at.text))
    });
    by_path || by_origin
}

/// Whether a command line or path runs the file at `path`: names it whole, or (after a
/// `chdir`) by its file name as the program, a launcher's argument or a word of a shell line.
fn runs_file(command: &str, path: &str) -> bool {
    // a path with an unknown part names no one file: two such paths are not the same file
    if path.is_empty() || path.contains(HOLE) {
        return false;
    }
    if command.contains(path) {
        return true;
    }
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    // a name that says what it is, not a hole nor a bare word
    if base.len() < 5 || !base.contains('.') || base.contains(HOLE) {
        return false;
    }
    command
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '/' | '\\' | '&' | ';'))
        .any(|word| word.eq_ignore_ascii_case(base))
}

/// Whether a constant is a program or script: Python, a shell or batch script, VBScript,
/// PowerShell.
fn looks_like_program(text: &str) -> bool {
    if text.len() < 20 {
        return false;
    }
    let t = text.to_ascii_lowercase();
    t.starts_with("#!")
        || t.contains("import ") && t.contains('(')
        || t.contains("@echo off")
        || t.contains("\nstart ")
        || t.contains("createobject(")
        || t.contains("invoke-expression")
        || t.contains("downloadstring(")
}

/// `__name__ == "__main__"` (either way round).
fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(c) = test else {
        return false;
    };
    let is = |e: &Expr, what: &str| match e {
        Expr::Name(n) => what == "name" && n.id.as_str() == "__name__",
        Expr::StringLiteral(s) => what == "main" && s.value.to_str() == "__main__",
        _ => false,
    };
    let [right] = &c.comparators[..] else {
        return false;
    };
    (is(&c.left, "name") && is(right, "main")) || (is(&c.left, "main") && is(right, "name"))
}

/// The texts a loop over constants may give its variable, one per line: enough to tell a path
/// is a credential store, never a name (a newline is in no identifier).
fn possible_texts(iter: &Val) -> Option<String> {
    let items = iter.items.as_ref()?;
    let texts = items
        .iter()
        .map(|i| i.text.clone())
        .collect::<Option<Vec<_>>>()?;
    match texts.len() {
        0 => None,
        1 => texts.into_iter().next(),
        _ => Some(texts.join("\n")).filter(|t| t.len() <= MAX_TEXT),
    }
}

/// Both values of an either-or (`a or b`, `x if c else y`): the sources of both, the text and
/// name of the first that has one.
fn merge_alt(a: Val, b: Val) -> Val {
    let mut labels = a.labels.clone();
    labels.merge(&b.labels);
    Val {
        labels,
        text: a.text.or(b.text),
        name: a.name.or(b.name),
        file: a.file.or(b.file),
        items: a.items.or(b.items),
        param: a.param.or(b.param),
        int: a.int.or(b.int),
        path_var: a.path_var.or(b.path_var),
    }
}

/// The text of a call's data, for the rules that look at what a process runs or where a file
/// goes: constants, list items, the path written.
fn fold_args(data: &[Val], path: Option<&str>) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(p) = path {
        parts.push(p.to_owned());
    }
    for d in data {
        if let Some(t) = &d.text {
            parts.push(t.clone());
        } else if let Some(items) = &d.items {
            parts.extend(items.iter().filter_map(|i| i.text.clone()));
        }
    }
    let mut text = parts.join(" ");
    // PowerShell's `-EncodedCommand` (and its abbreviations) takes base64 of UTF-16LE: what it
    // runs is the decoded text
    if let Some(decoded) = powershell_encoded(&text) {
        text.push(' ');
        text.push_str(&decoded);
    }
    if text.len() > 4096 {
        let mut cut = 4096;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

/// Whether a command line fetches from or sends to a URL.
fn fetches(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "curl ",
        "wget ",
        "invoke-webrequest",
        "iwr ",
        "invoke-restmethod",
        "irm ",
        "nc ",
        "ncat ",
    ]
    .iter()
    .any(|t| lower.contains(t) || lower.starts_with(t.trim_end()))
        && (lower.contains("://") || lower.contains(" nc ") || lower.starts_with("nc "))
}

/// Whether a command line asks who and where the host is (its output is host facts).
fn reads_host(text: &str) -> bool {
    let lower = text.trim().to_ascii_lowercase();
    [
        "whoami",
        "hostname",
        "uname",
        "id",
        "ipconfig",
        "ifconfig",
        "systeminfo",
        "echo $home",
        "echo %username%",
        "net user",
        "pwd",
    ]
    .iter()
    .any(|c| lower == *c || lower.starts_with(&format!("{c} ")))
}

/// The code of `python -c CODE` in a command line (list or string form).
fn python_c(data: &[Val], text: &str) -> Option<String> {
    if let Some(items) = data.first().and_then(|d| d.items.as_ref()) {
        let at = items.iter().position(|i| i.text.as_deref() == Some("-c"))?;
        return items.get(at + 1).and_then(|i| i.text.clone());
    }
    if !text.contains("python") {
        return None;
    }
    let rest = &text[text.find(" -c ")? + 4..];
    let rest = rest.trim();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &rest[1..];
    let end = body.rfind(quote)?;
    Some(body[..end].to_owned())
}

/// The command a PowerShell `-e`/`-enc`/`-EncodedCommand` argument carries, decoded.
fn powershell_encoded(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if !lower.contains("powershell") && !lower.contains("pwsh") {
        return None;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let at = words.iter().position(|w| {
        let w = w.to_ascii_lowercase();
        w.len() >= 2 && w.starts_with('-') && "-encodedcommand".starts_with(w.as_str()) && w != "-"
    })?;
    let blob = words.get(at + 1)?.trim_matches(|c| c == '"' || c == '\'');
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(blob)
        .ok()?;
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

/// At most this many characters of a dotted name are kept: no module or variable is named
/// longer, and a hostile `a.b.b.b…` chain of a million links must not cost a million names of
/// growing length.
const MAX_DOTTED: usize = 512;

/// The variable a target or attribute chain names, as the walk keys it (`self.x`, `cfg.path`);
/// `None` past [`MAX_DOTTED`] characters.
fn target_key(expr: &Expr) -> Option<String> {
    let mut attrs: Vec<&str> = Vec::new();
    let mut at = expr;
    let mut len = 0;
    loop {
        match at {
            Expr::Name(n) => {
                let mut key = canonical_ident(n.id.as_str());
                for a in attrs.iter().rev() {
                    key.push('.');
                    key.push_str(a);
                }
                return Some(key);
            }
            Expr::Attribute(a) => {
                len += a.attr.as_str().len() + 1;
                if len > MAX_DOTTED {
                    return None;
                }
                attrs.push(a.attr.as_str());
                at = &a.value;
            }
            _ => return None,
        }
    }
}

/// `base.attr`, unless that is longer than [`MAX_DOTTED`].
fn dotted(base: &str, attr: &str) -> Option<String> {
    (base.len() + attr.len() < MAX_DOTTED).then(|| format!("{base}.{attr}"))
}

/// Identifiers are NFKC-normalised by the parser already; this only copies.
fn canonical_ident(name: &str) -> String {
    name.to_owned()
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

fn fold_slice(walker: &mut Walker<'_>, text: &str, slice: &ast::ExprSlice) -> Option<String> {
    let num = |w: &mut Walker<'_>, e: &Option<Box<Expr>>| -> Option<Option<i64>> {
        match e {
            None => Some(None),
            Some(e) => {
                if let Expr::UnaryOp(u) = e.as_ref()
                    && u.op == ast::UnaryOp::USub
                {
                    return w
                        .eval(&u.operand)
                        .text?
                        .parse::<i64>()
                        .ok()
                        .map(|n| Some(-n));
                }
                w.eval(e).text?.parse::<i64>().ok().map(Some)
            }
        }
    };
    let lower = num(walker, &slice.lower)?;
    let upper = num(walker, &slice.upper)?;
    let step = num(walker, &slice.step)?.unwrap_or(1);
    let chars: Vec<char> = text.chars().collect();
    let len = chars.len() as i64;
    let clamp = |i: i64| if i < 0 { (len + i).max(0) } else { i.min(len) };
    if step == 1 {
        let lo = clamp(lower.unwrap_or(0)) as usize;
        let hi = clamp(upper.unwrap_or(len)) as usize;
        return Some(chars.get(lo..hi.max(lo))?.iter().collect());
    }
    if step == -1 && lower.is_none() && upper.is_none() {
        return Some(chars.iter().rev().collect());
    }
    if step > 1 && upper.is_none() {
        let lo = clamp(lower.unwrap_or(0)) as usize;
        return Some(chars.iter().skip(lo).step_by(step as usize).collect());
    }
    None
}

/// Bytes as Python's Latin-1 decode would give them: one character per byte.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

fn unhex(text: &str) -> Option<String> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !clean.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(clean.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(latin1(&bytes))
}

fn rot13(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='m' | 'A'..='M' => char::from(c as u8 + 13),
            'n'..='z' | 'N'..='Z' => char::from(c as u8 - 13),
            _ => c,
        })
        .collect()
}

fn decode_codec(text: &str, codec: &str) -> Option<String> {
    match codec.to_ascii_lowercase().replace('-', "_").as_str() {
        "rot13" | "rot_13" => Some(rot13(text)),
        "hex" | "hex_codec" => unhex(text),
        "base64" | "base64_codec" => decode_base64(text, "base64.b64decode"),
        "utf8" | "utf_8" | "ascii" | "latin1" | "latin_1" | "" => Some(text.to_owned()),
        _ => crate::codecs::decode(text, codec),
    }
}

fn decode_base64(text: &str, name: &str) -> Option<String> {
    use base64::engine::DecodePaddingMode;
    use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
    let config =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if name.contains("b32") || name.contains("b85") || name.contains("a85") || name.contains("b16")
    {
        return None;
    }
    let urlsafe = name.contains("urlsafe");
    let engine = if urlsafe {
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, config)
    } else {
        GeneralPurpose::new(&base64::alphabet::STANDARD, config)
    };
    engine.decode(clean.as_bytes()).ok().map(|b| latin1(&b))
}

fn memchr_lines(source: &str) -> impl Iterator<Item = usize> + '_ {
    source
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i + 1)
}

/// `raw` on one line: runs of whitespace made one space, ends trimmed, at most [`SPAN_CHARS`]
/// characters (the last one `…` when cut). One pass that stops at the cap: a span may be a
/// whole function body, and one is made for every call.
fn one_line(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len().min(4 * SPAN_CHARS));
    let mut chars = 0usize;
    let mut push = |text: &mut String, c: char| {
        if chars == SPAN_CHARS {
            text.pop();
            text.push('…');
            return false;
        }
        text.push(c);
        chars += 1;
        true
    };
    for (i, word) in raw.split_whitespace().enumerate() {
        if i > 0 && !push(&mut text, ' ') {
            return text;
        }
        for c in word.chars() {
            if !push(&mut text, c) {
                return text;
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{SPAN_CHARS, one_line};

    /// What a span's text is: the words joined by one space, cut to the cap with `…` last.
    fn by_definition(raw: &str) -> String {
        let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > SPAN_CHARS {
            let mut cut: String = text.chars().take(SPAN_CHARS - 1).collect();
            cut.push('…');
            return cut;
        }
        text
    }

    #[test]
    fn spans_are_one_line_and_capped() {
        let word = "x".repeat(SPAN_CHARS);
        let mut cases = vec![
            String::new(),
            "  \n\t ".into(),
            "exec( payload )".into(),
            "requests.get(\n    url,\n    timeout=3,\n)".into(),
            word.clone(),
            format!("{word}y"),
            format!("{} {}", &word[..SPAN_CHARS - 1], "z"),
            format!("{} {}", &word[..SPAN_CHARS - 2], "zz"),
            format!("  {word}   tail"),
            "ｅｘｅｃ (𝚎𝚡𝚎𝚌) ".repeat(40),
        ];
        for n in SPAN_CHARS - 3..SPAN_CHARS + 3 {
            cases.push("ab ".repeat(n / 3) + &"é".repeat(n % 3));
        }
        for raw in &cases {
            assert_eq!(one_line(raw), by_definition(raw), "{raw:?}");
        }
    }
}
