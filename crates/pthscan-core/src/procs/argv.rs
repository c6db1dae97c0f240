//! A Python interpreter's command line read as CPython's `Modules/main.c` and `getopt.c` read
//! it: grouped flags (`-Ic CODE`), options with a value (`-W`, `-X`), then the first of `-c`,
//! `-m`, `-` or a script ends the interpreter's options.

use serde::Serialize;

/// What a Python process runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
pub enum Running {
    /// A script file, as given on the command line.
    Script(String),
    /// `-c CODE`.
    Command(String),
    /// `-m MODULE`.
    Module(String),
    /// `-`, or no script with standard input not a terminal: code read from standard input.
    Stdin,
    /// No script, standard input a terminal: an interactive interpreter.
    Interactive,
    /// No script, and standard input could not be looked at.
    NoScript,
    /// Python embedded in another program (uwsgi, mod_wsgi): its command line is that
    /// program's.
    Embedded,
    /// `--version`, `--help` and the like: runs nothing.
    Nothing,
}

/// A Python command line, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// What it runs.
    pub running: Running,
    /// `-E` or `-I`: `PYTHON*` variables ignored.
    pub ignores_environment: bool,
    /// `-S`: no `site`, so no `.pth` or customize module.
    pub no_site: bool,
    /// `-s` or `-I`: no user site directory.
    pub no_user_site: bool,
    /// `-` was given explicitly (not only a missing script).
    pub dash: bool,
}

/// Reads `argv` (with `argv[0]`) as CPython does.
pub fn interpret(argv: &[String]) -> Invocation {
    let mut inv = Invocation {
        running: Running::NoScript,
        ignores_environment: false,
        no_site: false,
        no_user_site: false,
        dash: false,
    };
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "-" {
            inv.running = Running::Stdin;
            inv.dash = true;
            return inv;
        }
        if arg == "--" {
            if let Some(script) = args.next() {
                inv.running = Running::Script(script.clone());
            }
            return inv;
        }
        if let Some(long) = arg.strip_prefix("--") {
            match long {
                "help" | "version" | "help-env" | "help-xoptions" | "help-all" => {
                    inv.running = Running::Nothing;
                    return inv;
                }
                // takes a value
                "check-hash-based-pycs" => {
                    args.next();
                }
                _ => {}
            }
            continue;
        }
        let Some(flags) = arg.strip_prefix('-') else {
            inv.running = Running::Script(arg.clone());
            return inv;
        };
        for (i, flag) in flags.char_indices() {
            let rest = &flags[i + flag.len_utf8()..];
            let value = |args: &mut std::iter::Skip<std::slice::Iter<'_, String>>| {
                if rest.is_empty() {
                    args.next().cloned().unwrap_or_default()
                } else {
                    rest.to_owned()
                }
            };
            match flag {
                'c' => {
                    inv.running = Running::Command(value(&mut args));
                    return inv;
                }
                'm' => {
                    inv.running = Running::Module(value(&mut args));
                    return inv;
                }
                'W' | 'X' => {
                    value(&mut args);
                    break;
                }
                'E' => inv.ignores_environment = true,
                'I' => {
                    inv.ignores_environment = true;
                    inv.no_user_site = true;
                }
                's' => inv.no_user_site = true,
                'S' => inv.no_site = true,
                'h' | '?' | 'V' => {
                    inv.running = Running::Nothing;
                    return inv;
                }
                _ => {}
            }
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn what_a_command_line_runs() {
        for (args, want) in [
            (
                &["python3", "app.py", "-c", "x"][..],
                Running::Script("app.py".into()),
            ),
            (
                &["python3", "-u", "-W", "ignore", "/srv/app.py"],
                Running::Script("/srv/app.py".into()),
            ),
            (
                &["python3", "-Wignore", "-X", "dev", "a.py"],
                Running::Script("a.py".into()),
            ),
            (
                &["python3", "-c", "import os", "a.py"],
                Running::Command("import os".into()),
            ),
            (
                &["python3", "-Ic", "print(1)"],
                Running::Command("print(1)".into()),
            ),
            (
                &["python3", "-cprint(2)"],
                Running::Command("print(2)".into()),
            ),
            (
                &["python3", "-m", "http.server"],
                Running::Module("http.server".into()),
            ),
            (
                &["python3", "-Bmpip", "list"],
                Running::Module("pip".into()),
            ),
            (&["python3", "-"], Running::Stdin),
            (&["python3", "-u"], Running::NoScript),
            (
                &["python3", "--", "-weird.py"],
                Running::Script("-weird.py".into()),
            ),
            (
                &["python3", "--check-hash-based-pycs", "always", "b.py"],
                Running::Script("b.py".into()),
            ),
            (&["python3", "--version"], Running::Nothing),
            (&["python3", "-V"], Running::Nothing),
        ] {
            assert_eq!(interpret(&argv(args)).running, want, "{args:?}");
        }
        let isolated = interpret(&argv(&["python3", "-IS", "x.py"]));
        assert!(isolated.ignores_environment && isolated.no_site && isolated.no_user_site);
        assert!(interpret(&argv(&["python3", "-s", "x.py"])).no_user_site);
        assert!(interpret(&argv(&["python3", "-E", "-c", "1"])).ignores_environment);
        assert!(!interpret(&argv(&["python3", "x.py", "-E"])).ignores_environment);
        assert!(interpret(&argv(&["python3", "-"])).dash);
    }
}
