//! Where the variables an interpreter starts with are set on the scanned system: `PYTHONPATH`
//! puts directories before the standard library (a `sitecustomize.py` there runs in every
//! process that has it), `PYTHONUSERBASE` moves the user site, `PYTHONSTARTUP` runs a file in
//! every interactive session, `PYTHONWARNINGS` names a category that is imported before `site`.
//!
//! Read, never run: `/etc/environment`, `environment.d`, the shell profiles of the system and of
//! every user, systemd units (`Environment=`, `EnvironmentFile=`), and an image's config `Env`.
//! A value that a shell would expand (`$HOME`, `$(…)`) is kept as written; what it means at run
//! time is not known to a scan and is said where it matters.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::fs::{Kind, Tree};

/// The variables that change what an interpreter runs at start-up or where it looks.
pub const WATCHED: &[&str] = &[
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUSERBASE",
    "PYTHONNOUSERSITE",
    "PYTHONSTARTUP",
    "PYTHONWARNINGS",
    "PYTHONPYCACHEPREFIX",
    "PYTHONOPTIMIZE",
    "PYTHONSAFEPATH",
    "PYTHONBREAKPOINT",
    "PYTHONHUNTER",
];

/// Who starts with a setting.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Every login session (environment files, system profiles).
    Everyone,
    /// One user's sessions (their profile).
    User(String),
    /// The processes of one service (a systemd unit).
    Service(String),
    /// Every process of a container started from the image.
    Image,
}

impl Scope {
    /// `every login session`, `user ann`, `service app.service`, `the image's processes`.
    pub fn describe(&self) -> String {
        match self {
            Scope::Everyone => "every login session".into(),
            Scope::User(u) => format!("sessions of user {u}"),
            Scope::Service(s) => format!("service {s}"),
            Scope::Image => "every process of the image".into(),
        }
    }
}

/// One variable set somewhere.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Setting {
    /// `PYTHONPATH`.
    pub name: String,
    /// The value as written (quotes removed).
    pub value: String,
    /// The file that sets it (a path of the tree), or the image.
    pub file: PathBuf,
    /// Its line, where there is one.
    pub line: Option<usize>,
    /// Who starts with it.
    pub scope: Scope,
}

impl Setting {
    /// Whether the value holds something a shell would expand: not known to a scan.
    pub fn expands(&self) -> bool {
        self.value.contains('$') || self.value.contains('`')
    }

    /// `PYTHONPATH=/app (set in /etc/environment:3, every login session)`.
    pub fn describe(&self) -> String {
        let at = match self.line {
            Some(n) => format!("{}:{n}", crate::pathfmt::display_path(&self.file)),
            None => crate::pathfmt::display_path(&self.file),
        };
        format!(
            "{}={} (set in {at}, {})",
            self.name,
            self.value,
            self.scope.describe()
        )
    }
}

/// How a file writes its assignments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// A shell script: `export K=V`, `K=V`, `declare -x K=V`, `setenv K V` is not read.
    Shell,
    /// `K=V` lines (`/etc/environment`, `environment.d`, an `EnvironmentFile=`).
    EnvFile,
}

/// The watched assignments of `text`: line number, name, value.
fn assignments(text: &str, style: Style) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        // pam_env (`/etc/environment`) and systemd's environment files also take `export `
        let prefixes: &[&str] = match style {
            Style::Shell => &["export ", "declare -x ", "typeset -x "],
            Style::EnvFile => &["export "],
        };
        for prefix in prefixes {
            if let Some(rest) = line.strip_prefix(prefix) {
                line = rest.trim_start();
            }
        }
        // several assignments on one shell line: `export A=1 PYTHONPATH=/x`
        let words: Vec<&str> = match style {
            Style::Shell => line.split([';', ' ', '\t']).collect(),
            Style::EnvFile => vec![line],
        };
        for word in words {
            if let Some((k, v)) = word.split_once('=')
                && WATCHED.contains(&k.trim())
            {
                out.push((n + 1, k.trim().to_owned(), unquote(v.trim())));
                // pam_env ends a value at `#`, systemd keeps it: both readings
                if style == Style::EnvFile
                    && let Some((cut, _)) = v.split_once('#')
                {
                    out.push((n + 1, k.trim().to_owned(), unquote(cut.trim())));
                }
            }
        }
    }
    out
}

/// A value without the quotes around it.
fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.to_owned();
        }
    }
    v.to_owned()
}

/// The watched assignments of a systemd unit: `Environment=` (each quoted or bare `K=V`), and
/// the files `EnvironmentFile=` names (read as environment files; `-` marks one that may be
/// absent). Returns the settings found in the unit and the files to read.
fn unit(text: &str) -> (Vec<(usize, String, String)>, Vec<String>) {
    let mut settings = Vec::new();
    let mut files = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        match key.trim() {
            "Environment" => {
                for word in unit_words(value) {
                    if let Some((k, v)) = word.split_once('=')
                        && WATCHED.contains(&k)
                    {
                        settings.push((n + 1, k.to_owned(), v.to_owned()));
                    }
                }
            }
            "EnvironmentFile" => {
                files.push(value.trim().trim_start_matches('-').to_owned());
            }
            _ => {}
        }
    }
    (settings, files)
}

/// The words of a unit setting, as systemd splits them: by white space, with double or single
/// quotes keeping a word whole.
fn unit_words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut any = false;
    for c in value.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            (_, c) => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// The settings of an image's config `Env` (`["PATH=…", "PYTHONPATH=/app"]`), shown as set in
/// `label`.
pub fn image(env: &[String], label: &Path) -> Vec<Setting> {
    env.iter()
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| WATCHED.contains(k))
        .map(|(k, v)| Setting {
            name: k.to_owned(),
            value: v.to_owned(),
            file: label.to_path_buf(),
            line: None,
            scope: Scope::Image,
        })
        .collect()
}

/// Unit directories of the system, relative to its root.
const UNIT_DIRS: &[&str] = &[
    "etc/systemd/system",
    "usr/lib/systemd/system",
    "lib/systemd/system",
    "etc/systemd/user",
    "usr/lib/systemd/user",
];

/// Environment files read by every session, relative to the root.
const ENV_FILES: &[&str] = &["etc/environment", "etc/security/pam_env.conf"];

/// Shell profiles read by every login or interactive shell, relative to the root.
const SYSTEM_PROFILES: &[&str] = &[
    "etc/profile",
    "etc/bash.bashrc",
    "etc/bashrc",
    "etc/zsh/zshenv",
    "etc/zsh/zprofile",
    "etc/zsh/zshrc",
    "etc/zshenv",
];

/// A user's profiles, relative to their home.
const USER_PROFILES: &[&str] = &[
    ".profile",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".zshenv",
    ".zprofile",
    ".zshrc",
    ".pam_environment",
];

/// Every watched setting of the system whose `/` is `root` in `tree`, and what could not be
/// read.
pub fn host(tree: &dyn Tree, root: &Path) -> (Vec<Setting>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut read_problems = Vec::new();
    let at = |rel: &str| root.join(rel);
    let mut read = |file: &Path, style: Style, scope: Scope, out: &mut Vec<Setting>| {
        let Some(text) = read_text(tree, file, &mut problems) else {
            return;
        };
        out.extend(
            assignments(&text, style)
                .into_iter()
                .map(|(line, name, value)| Setting {
                    name,
                    value,
                    file: file.to_path_buf(),
                    line: Some(line),
                    scope: scope.clone(),
                }),
        );
    };
    for f in ENV_FILES {
        read(&at(f), Style::EnvFile, Scope::Everyone, &mut out);
    }
    for dir in ["etc/environment.d", "usr/lib/environment.d"] {
        for f in files(tree, &at(dir)) {
            read(&f, Style::EnvFile, Scope::Everyone, &mut out);
        }
    }
    for f in SYSTEM_PROFILES {
        read(&at(f), Style::Shell, Scope::Everyone, &mut out);
    }
    for f in files(tree, &at("etc/profile.d")) {
        read(&f, Style::Shell, Scope::Everyone, &mut out);
    }
    let mut homes = vec![("root".to_owned(), at("root"))];
    if let Ok(entries) = tree.list(&at("home")) {
        homes.extend(
            entries
                .into_iter()
                .filter(|e| e.kind == Kind::Dir)
                .map(|e| (e.name.clone(), e.path)),
        );
    }
    for (user, home) in &homes {
        for f in USER_PROFILES {
            read(
                &home.join(f),
                Style::Shell,
                Scope::User(user.clone()),
                &mut out,
            );
        }
        for f in files(tree, &home.join(".config/environment.d")) {
            read(&f, Style::EnvFile, Scope::User(user.clone()), &mut out);
        }
    }
    let mut unit_dirs: Vec<PathBuf> = UNIT_DIRS.iter().map(|d| at(d)).collect();
    unit_dirs.extend(homes.iter().map(|(_, h)| h.join(".config/systemd/user")));
    for dir in unit_dirs {
        for file in files(tree, &dir) {
            let Some(name) = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".service"))
            else {
                continue;
            };
            let mut units = Vec::new();
            let Some(text) = read_text(tree, &file, &mut units) else {
                read_problems.extend(units);
                continue;
            };
            let (settings, env_files) = unit(&text);
            let scope = Scope::Service(name);
            out.extend(settings.into_iter().map(|(line, name, value)| Setting {
                name,
                value,
                file: file.clone(),
                line: Some(line),
                scope: scope.clone(),
            }));
            for f in env_files.iter().filter(|f| f.starts_with('/')) {
                read(
                    &at(f.trim_start_matches('/')),
                    Style::EnvFile,
                    scope.clone(),
                    &mut out,
                );
            }
        }
    }
    problems.extend(read_problems);
    out.sort();
    out.dedup();
    (out, problems)
}

/// The text of `file` up to [`MAX_FILE`]; `None` when it is absent, or unreadable (said).
fn read_text(tree: &dyn Tree, file: &Path, problems: &mut Vec<Diagnostic>) -> Option<String> {
    match tree.read_capped(file, MAX_FILE) {
        Ok(d) => Some(String::from_utf8_lossy(&d.bytes).into_owned()),
        Err(e) if e.is_missing() => None,
        Err(e) => {
            problems.push(Diagnostic::incomplete(file, e.to_string()));
            None
        }
    }
}

/// An environment or profile file is read up to this many bytes (real ones are a few KiB).
const MAX_FILE: u64 = 1 << 20;

/// Regular files (or links to them) directly in `dir`, by name.
fn files(tree: &dyn Tree, dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = tree.list(dir) else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter(|e| matches!(e.kind, Kind::File | Kind::Symlink) && tree.is_file(&e.path))
        .map(|e| e.path)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_and_environment_files_are_read_as_assignments_never_run() {
        let text = "# PYTHONPATH=/commented\nexport PYTHONPATH=\"/opt/app:/srv\"\nA=1 PYTHONSTARTUP='/tmp/.s.py'\ndeclare -x PYTHONUSERBASE=/dev/shm/u\nPATH=/bin\n";
        let got = assignments(text, Style::Shell);
        assert_eq!(
            got,
            [
                (2, "PYTHONPATH".into(), "/opt/app:/srv".into()),
                (3, "PYTHONSTARTUP".into(), "/tmp/.s.py".into()),
                (4, "PYTHONUSERBASE".into(), "/dev/shm/u".into()),
            ]
        );
        // an environment file takes the whole line as the value, spaces and all
        let got = assignments("PYTHONPATH=/a b\n", Style::EnvFile);
        assert_eq!(got, [(1, "PYTHONPATH".into(), "/a b".into())]);
    }

    #[test]
    fn environment_files_take_export_and_both_readings_of_a_hash() {
        // found by the red team: pam_env skips `export ` and ends a value at `#`
        let got = assignments(
            "export PYTHONPATH=/opt/app\nPYTHONUSERBASE=/opt/u#tools\n",
            Style::EnvFile,
        );
        assert_eq!(
            got,
            [
                (1, "PYTHONPATH".into(), "/opt/app".into()),
                (2, "PYTHONUSERBASE".into(), "/opt/u#tools".into()),
                (2, "PYTHONUSERBASE".into(), "/opt/u".into()),
            ]
        );
    }

    #[test]
    fn unit_environment_is_split_as_systemd_splits_it() {
        let (s, files) = unit(
            "[Service]\nEnvironment=\"PYTHONPATH=/opt/a b\" PYTHONWARNINGS=ignore::x.Y\nEnvironmentFile=-/etc/default/app\nExecStart=/usr/bin/python3 -m app\n",
        );
        assert_eq!(
            s,
            [
                (2, "PYTHONPATH".into(), "/opt/a b".into()),
                (2, "PYTHONWARNINGS".into(), "ignore::x.Y".into()),
            ]
        );
        assert_eq!(files, ["/etc/default/app"]);
    }

    #[test]
    fn an_image_env_is_read_for_what_it_sets() {
        let env = vec![
            "PATH=/usr/local/bin".to_owned(),
            "PYTHONPATH=/app".to_owned(),
        ];
        let s = image(&env, Path::new("img.tar"));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].value, "/app");
        assert_eq!(s[0].scope, Scope::Image);
        assert!(s[0].describe().contains("every process of the image"));
    }
}
