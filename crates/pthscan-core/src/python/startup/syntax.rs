//! Whether an executed `.pth` line compiles. `site` runs it with `exec(line)`; a line that does
//! not compile raises `SyntaxError`, and up to 3.14 the rest of that `.pth` file is ignored
//! ("Remainder of file ignored"). This is a conservative check of the shapes that fail: it
//! says a line fails only when CPython's tokenizer or parser certainly rejects it, and lets
//! anything it does not understand pass.

/// Why `line` does not compile, or `None` when it may. `continuation_at_eof`: whether a
/// backslash ending the source is accepted (3.6 and 3.7's tokenizer accept it).
pub fn syntax_error(line: &str, continuation_at_eof: bool) -> Option<&'static str> {
    let body = line.strip_suffix('\n').unwrap_or(line);
    let mut statements: Vec<String> = vec![String::new()];
    let mut depth: i32 = 0;
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => break,
            '\'' | '"' => {
                // an f-string (a t-string on 3.14) nests expressions, and 3.12+ let them reuse
                // its quote (`f"{'"'}"`): not followed here, so the line may compile
                let current = statements.last().map(String::as_str).unwrap_or("");
                let prefix: String = current
                    .chars()
                    .rev()
                    .take_while(char::is_ascii_alphabetic)
                    .collect();
                if prefix.len() <= 3 && prefix.chars().any(|p| matches!(p, 'f' | 'F' | 't' | 'T')) {
                    return None;
                }
                let triple = chars.peek() == Some(&c) && {
                    let mut ahead = chars.clone();
                    ahead.next();
                    ahead.peek() == Some(&c)
                };
                if triple {
                    chars.next();
                    chars.next();
                }
                let mut closed = false;
                let mut run = 0;
                while let Some(s) = chars.next() {
                    if s == '\\' {
                        chars.next();
                        run = 0;
                        continue;
                    }
                    if s == c {
                        run += 1;
                        if !triple || run == 3 {
                            closed = true;
                            break;
                        }
                    } else {
                        run = 0;
                    }
                }
                if !closed {
                    return Some("unterminated string literal");
                }
                statements.last_mut().unwrap().push_str("''");
            }
            '(' | '[' | '{' => {
                depth += 1;
                statements.last_mut().unwrap().push(c);
            }
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return Some("unmatched closing bracket");
                }
                statements.last_mut().unwrap().push(c);
            }
            ';' if depth == 0 => statements.push(String::new()),
            '\\' => {
                // a line continuation needs a next line: at the end of the line it is EOF
                if chars.peek().is_none() && !continuation_at_eof {
                    return Some("unexpected EOF after a line continuation");
                }
                return None;
            }
            '\t' | '\x0c' | ' ' => statements.last_mut().unwrap().push(' '),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                return Some("invalid non-printable character");
            }
            c => statements.last_mut().unwrap().push(c),
        }
    }
    if depth != 0 {
        return Some("unclosed bracket");
    }
    let last = statements.len() - 1;
    for (i, stmt) in statements.iter().enumerate() {
        let stmt = stmt.trim();
        if stmt.is_empty() {
            // `a;` is fine, `;a` and `a;;b` are not
            if i == last && i > 0 {
                continue;
            }
            return Some("empty statement");
        }
        let first = stmt.split([' ', '(', '.']).next().unwrap_or("");
        match first {
            "return" => return Some("'return' outside function"),
            "yield" => return Some("'yield' outside function"),
            "import" => {
                if let Some(why) = check_import(&stmt["import".len()..]) {
                    return Some(why);
                }
            }
            _ => {}
        }
    }
    None
}

/// `import a.b [as c], d …`.
fn check_import(rest: &str) -> Option<&'static str> {
    if rest.trim().is_empty() {
        return Some("import without a name");
    }
    for part in rest.split(',') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let ok = match words.as_slice() {
            [name] => is_dotted(name),
            [name, "as", alias] => is_dotted(name) && is_identifier(alias),
            _ => false,
        };
        if !ok {
            return Some("invalid import statement");
        }
    }
    None
}

/// Whether `s` may be an identifier: ASCII letters, digits (not first) and `_`, and any
/// character beyond ASCII, which the tokenizer accepts and checks after NFKC normalisation
/// (a combining mark continues one; `𝐬` is `s`): not judged here, so taken as valid.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic() || !c.is_ascii())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric() || !c.is_ascii())
}

fn is_dotted(s: &str) -> bool {
    s.split('.').all(is_identifier)
}

#[cfg(test)]
mod tests {
    use super::syntax_error;

    #[test]
    fn what_compiles_and_what_does_not() {
        for ok in [
            "import os",
            "import\tos",
            "import os; print('x;y')",
            "import a, b.c as d; f(1)",
            "import foo # trailing comment; x",
            "import sys; exec('import evil')",
            "import os;",
            "import ａｃｍｅ; x",
            "import os; x = '''a'''",
            // found by the red team: a combining mark continues an identifier, and 3.12+
            // f-strings reuse their quote inside
            "import os as o\u{300}",
            "import _\u{1d42c}\u{1d421}\u{1d422}\u{1d426}",
            "import os; x = f\"{'\"'}\"",
            "import os; x = rf'{\"'\"}'",
        ] {
            assert_eq!(syntax_error(ok, false), None, "{ok:?}");
        }
        for bad in [
            "import foo foo",
            "import foo;\\",
            "import os; return",
            "import os\u{2028}import x",
            "import os\u{85}import x",
            "import os\x0bimport x",
            "import os\x0cimport x",
            "import os; print('x)",
            "import os; f(",
            "import ;x",
            "import os;; x",
        ] {
            assert!(syntax_error(bad, false).is_some(), "{bad:?}");
        }
        assert_eq!(syntax_error("import foo;\\", true), None);
    }
}
