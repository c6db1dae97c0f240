//! A PEP 508 dependency specifier, parsed by its grammar into what the lockfile model needs:
//! the name, the extras, the version clauses or the URL, and the marker as written.
//!
//! ```text
//! specification = wsp* name wsp* extras? wsp* ( '@' wsp* URI (wsp+ ';' marker)?
//!                                             | versionspec? wsp* (';' marker)? ) wsp*
//! name          = [A-Za-z0-9] ([A-Za-z0-9._-]* [A-Za-z0-9])?
//! extras        = '[' wsp* (name (wsp* ',' wsp* name)*)? wsp* ']'
//! versionspec   = '(' versionmany ')' | versionmany
//! versionmany   = version_one (wsp* ',' wsp* version_one)*
//! version_one   = ('<=' | '<' | '!=' | '===' | '==' | '>=' | '>' | '~=') wsp* [A-Za-z0-9_.*+!-]+
//! ```
//!
//! Markers are kept as text, not evaluated: the scanner needs where a pin applies only to show
//! it. Why not `pep508_rs` 0.9 (Astral's parser, tried first): it panics on hostile input (an
//! `expect` on names and extras ending in `.`/`-`/`_` followed by more text, `a_ ==1`), interns
//! every marker into a process-wide arena that only grows, and brings an MPL-2.0 crate
//! (`version-ranges`, outside `deny.toml`'s permissive list), a second `itertools` and the
//! url/idna/icu stack (32 crates) for the four fields used here.

/// A version comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Le,
    Lt,
    Ne,
    Arbitrary,
    Eq,
    Ge,
    Gt,
    Compatible,
}

/// What follows the name and extras.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Spec<'a> {
    /// Version clauses (none for a bare name); `text` is as written, parentheses stripped.
    Versions {
        text: &'a str,
        clauses: Vec<(Op, &'a str)>,
    },
    /// `name @ URL`.
    Url(&'a str),
}

/// A parsed specifier, borrowing the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Requirement<'a> {
    pub name: &'a str,
    pub extras: Vec<&'a str>,
    pub spec: Spec<'a>,
    pub marker: Option<&'a str>,
}

impl Requirement<'_> {
    /// The one version the specifier allows at most: that of a `==` clause without wildcard
    /// or of a `===` clause, whatever other clauses narrow it further (`==1.2,<2`).
    pub fn exact_version(&self) -> Option<&str> {
        match &self.spec {
            Spec::Versions { clauses, .. } => clauses.iter().find_map(|(op, v)| match op {
                Op::Eq if !v.contains('*') => Some(*v),
                Op::Arbitrary => Some(*v),
                _ => None,
            }),
            Spec::Url(_) => None,
        }
    }
}

/// Why a specifier is not PEP 508, and the byte offset in the input where it stops being so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Error {
    pub at: usize,
    pub message: &'static str,
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }

    fn ws(&mut self) -> bool {
        let r = self.rest();
        let t = r.trim_start_matches([' ', '\t']);
        self.i += r.len() - t.len();
        r.len() != t.len()
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.rest().starts_with(p) {
            self.i += p.len();
            true
        } else {
            false
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> &'a str {
        let r = self.rest();
        let n = r.find(|c: char| !f(c)).unwrap_or(r.len());
        self.i += n;
        &r[..n]
    }

    fn fail<T>(&self, message: &'static str) -> Result<T, Error> {
        Err(Error {
            at: self.i,
            message,
        })
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// A PEP 508 name (or extra): alphanumeric at both ends.
fn name<'a>(c: &mut Cursor<'a>, what: &'static str) -> Result<&'a str, Error> {
    let start = c.i;
    let n = c.take_while(is_name_char);
    if n.is_empty() || !n.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        c.i = start;
        return c.fail(what);
    }
    if !n.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return c.fail("a name must end with a letter or a digit");
    }
    Ok(n)
}

const OPS: [(&str, Op); 8] = [
    ("===", Op::Arbitrary),
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("~=", Op::Compatible),
    ("<", Op::Lt),
    (">", Op::Gt),
];

/// Parses one specifier. Linear in the input; never panics.
pub(super) fn parse(input: &str) -> Result<Requirement<'_>, Error> {
    let mut c = Cursor { s: input, i: 0 };
    c.ws();
    let name = name(&mut c, "expected a package name")?;
    c.ws();
    let mut extras = Vec::new();
    if c.eat("[") {
        c.ws();
        if !c.eat("]") {
            loop {
                extras.push(self::name(&mut c, "expected an extra name")?);
                c.ws();
                if c.eat("]") {
                    break;
                }
                if !c.eat(",") {
                    return c.fail("expected `,` or `]` in the extras");
                }
                c.ws();
            }
        }
        c.ws();
    }
    if c.eat("@") {
        c.ws();
        // the URL runs to the end, or to a `;` that follows whitespace (a URL may hold `;`)
        let start = c.i;
        let rest = c.rest();
        let mut end = rest.len();
        let mut marker = None;
        for (i, ch) in rest.char_indices() {
            if ch == ';' && rest[..i].ends_with([' ', '\t']) {
                end = i;
                marker = Some(rest[i + 1..].trim());
                break;
            }
        }
        let url = rest[..end].trim_end();
        if url.is_empty() || url.contains([' ', '\t']) {
            c.i = start;
            return c.fail("expected one URL after `@`");
        }
        if marker == Some("") {
            c.i = start + end;
            return c.fail("expected a marker after `;`");
        }
        return Ok(Requirement {
            name,
            extras,
            spec: Spec::Url(url),
            marker,
        });
    }
    let paren = c.eat("(");
    c.ws();
    let spec_start = c.i;
    let mut spec_end = c.i;
    let mut clauses = Vec::new();
    while let Some(&(text, op)) = OPS.iter().find(|(t, _)| c.rest().starts_with(t)) {
        c.i += text.len();
        c.ws();
        let v = c.take_while(|ch| ch.is_ascii_alphanumeric() || "_.*+!-".contains(ch));
        if v.is_empty() {
            return c.fail("expected a version after the operator");
        }
        clauses.push((op, v));
        spec_end = c.i;
        c.ws();
        if !c.eat(",") {
            break;
        }
        c.ws();
    }
    if clauses.is_empty() && c.rest().starts_with(['<', '>', '=', '!', '~']) {
        return c.fail("expected a version operator");
    }
    if paren {
        c.ws();
        if !c.eat(")") {
            return c.fail("expected `)`");
        }
    }
    c.ws();
    let marker = if c.eat(";") {
        let m = c.rest().trim();
        if m.is_empty() {
            return c.fail("expected a marker after `;`");
        }
        c.i = input.len();
        Some(m)
    } else {
        None
    };
    c.ws();
    if !c.rest().is_empty() {
        return c.fail("unexpected text after the requirement");
    }
    Ok(Requirement {
        name,
        extras,
        spec: Spec::Versions {
            text: &input[spec_start..spec_end],
            clauses,
        },
        marker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar() {
        let r = parse("requests [security, tests] >= 2.8.1, == 2.8.* ; python_version < \"2.7\"")
            .unwrap();
        assert_eq!(r.name, "requests");
        assert_eq!(r.extras, ["security", "tests"]);
        assert_eq!(
            r.spec,
            Spec::Versions {
                text: ">= 2.8.1, == 2.8.*",
                clauses: vec![(Op::Ge, "2.8.1"), (Op::Eq, "2.8.*")]
            }
        );
        assert_eq!(r.marker, Some("python_version < \"2.7\""));
        assert_eq!(r.exact_version(), None);

        assert_eq!(parse("a==1.0").unwrap().exact_version(), Some("1.0"));
        assert_eq!(parse("a===foo").unwrap().exact_version(), Some("foo"));
        assert_eq!(parse("a (==1.0)").unwrap().exact_version(), Some("1.0"));
        assert_eq!(parse("a==1.*").unwrap().exact_version(), None);
        // a conjunction with one `==` allows that version at most
        assert_eq!(parse("a==1,<2").unwrap().exact_version(), Some("1"));
        assert_eq!(parse("a!=2,==1").unwrap().exact_version(), Some("1"));
        assert_eq!(parse("a[]").unwrap().extras, Vec::<&str>::new());

        let r = parse("x @ https://h/x;y.zip ; os_name == 'nt'").unwrap();
        assert_eq!(r.spec, Spec::Url("https://h/x;y.zip"));
        assert_eq!(r.marker, Some("os_name == 'nt'"));
    }

    #[test]
    fn not_pep508() {
        for (input, at) in [
            ("", 0),
            ("-a", 0),
            ("a_ ==1", 2),
            ("a[b_]", 4),
            ("a[b c]", 4),
            ("a[b", 3),
            ("a ==", 4),
            ("a =! 1", 2),
            ("a (==1", 6),
            ("a==1 ;", 6),
            ("a==1 b", 5),
            ("a @", 3),
            ("a @ u v", 4),
            ("a b", 2),
        ] {
            let e = parse(input).unwrap_err();
            assert_eq!(e.at, at, "{input}: {e:?}");
        }
    }
}
