//! `pyproject.toml`: the PEP 508 strings of `[project] dependencies`,
//! `[project.optional-dependencies]` and `[dependency-groups]` (PEP 735; an
//! `{include-group = …}` entry names another group and is no pin), and the indexes of
//! `[[tool.uv.index]]` (`default = true` replaces PyPI, any other is searched first, as an
//! extra). Also what a build installs and runs first, `[build-system] requires`, and the PEP 508
//! arrays of uv (`dev-dependencies`, `constraint-dependencies`, `override-dependencies`) and
//! pdm (`[tool.pdm.dev-dependencies]` groups), and Poetry's own tables (see [`poetry`]).

use toml::de::{DeArray, DeTable};

use super::tomlspan::{self, get, get_array, get_str, get_table, string_start, tables};
use super::{IndexKind, Out};

pub(super) fn parse(text: &str, out: &mut Out<'_>) {
    let Some(doc) = tomlspan::parse(text, out) else {
        return;
    };
    if let Some(project) = get_table(&doc, "project") {
        if let Some(deps) = get_array(project, "dependencies") {
            strings(deps, text, out);
        }
        if let Some(extras) = get_table(project, "optional-dependencies") {
            for (_, v) in extras.iter() {
                if let Some(deps) = v.get_ref().as_array() {
                    strings(deps, text, out);
                }
            }
        }
    }
    // the build backend and its requirements are installed and run by every build
    if let Some(requires) = get_table(&doc, "build-system").and_then(|b| get_array(b, "requires")) {
        strings(requires, text, out);
    }
    let tool = get_table(&doc, "tool");
    if let Some(uv) = tool.and_then(|t| get_table(t, "uv")) {
        for key in [
            "dev-dependencies",
            "constraint-dependencies",
            "override-dependencies",
        ] {
            if let Some(deps) = get_array(uv, key) {
                strings(deps, text, out);
            }
        }
    }
    if let Some(groups) = tool
        .and_then(|t| get_table(t, "pdm"))
        .and_then(|p| get_table(p, "dev-dependencies"))
    {
        for (_, v) in groups.iter() {
            if let Some(deps) = v.get_ref().as_array() {
                strings(deps, text, out);
            }
        }
    }
    if let Some(groups) = get_table(&doc, "dependency-groups") {
        for (_, v) in groups.iter() {
            if let Some(deps) = v.get_ref().as_array() {
                strings(deps, text, out);
            }
        }
    }
    if let Some(indexes) = get_table(&doc, "tool")
        .and_then(|t| get_table(t, "uv"))
        .and_then(|uv| get_array(uv, "index"))
    {
        for (index, _) in tables(indexes) {
            if let Some(v) = get(index, "url")
                && let Some(url) = get_str(index, "url")
            {
                let default = get(index, "default").and_then(|d| d.get_ref().as_bool());
                let kind = if default == Some(true) {
                    IndexKind::Primary
                } else {
                    IndexKind::Extra
                };
                out.index(url, kind, string_start(text, v.span().start));
            }
        }
    }
    if let Some(poetry) = tool.and_then(|t| get_table(t, "poetry")) {
        self::poetry(poetry, text, out);
    }
    out.lock.pins.sort_by_key(|p| p.pos);
}

/// Poetry's tables, which are not PEP 508: `dependencies`, `dev-dependencies` and each
/// `group.NAME.dependencies` map a name to a constraint (`"1.2.3"` is exact, `^1.2` and `~1.2`
/// are ranges, `*` is anything, `||` joins alternatives) or to a table (`version`, or `git`
/// with `rev`/`tag`/`branch`, or `url`; `path` is a local project) or a list of tables; each
/// `[[tool.poetry.source]]` is an index (`primary`, or `default = true`, replaces PyPI; the
/// others are searched besides it). Each constraint is written as the PEP 508 requirement it
/// means and judged as one, placed at its name.
fn poetry(poetry: &DeTable<'_>, text: &str, out: &mut Out<'_>) {
    let mut dependency_tables: Vec<&DeTable<'_>> = ["dependencies", "dev-dependencies"]
        .into_iter()
        .filter_map(|k| get_table(poetry, k))
        .collect();
    if let Some(groups) = get_table(poetry, "group") {
        for (_, g) in groups.iter() {
            if let Some(deps) = g
                .get_ref()
                .as_table()
                .and_then(|g| get_table(g, "dependencies"))
            {
                dependency_tables.push(deps);
            }
        }
    }
    for deps in dependency_tables {
        for (name, v) in deps.iter() {
            let name_text = name.get_ref().as_ref();
            // the interpreter the project runs on, not a distribution
            if name_text.eq_ignore_ascii_case("python") {
                continue;
            }
            let at = string_start(text, name.span().start);
            let specs: Vec<&DeTable<'_>> = match v.get_ref().as_array() {
                Some(list) => tables_of(list),
                None => v.get_ref().as_table().into_iter().collect(),
            };
            let mut requirements = Vec::new();
            if let Some(constraint) = v.get_ref().as_str() {
                requirements.extend(poetry_constraint(name_text, constraint));
            }
            for spec in specs {
                if let Some(url) = get_str(spec, "git") {
                    let rev = ["rev", "tag", "branch"]
                        .into_iter()
                        .find_map(|k| get_str(spec, k));
                    let rev = rev.map(|r| format!("@{r}")).unwrap_or_default();
                    requirements.push(format!("{name_text} @ git+{url}{rev}"));
                } else if let Some(url) = get_str(spec, "url") {
                    requirements.push(format!("{name_text} @ {url}"));
                } else if get_str(spec, "path").is_some() {
                    // a project on disk, judged where it lies
                } else {
                    let constraint = get_str(spec, "version").unwrap_or("*");
                    requirements.extend(poetry_constraint(name_text, constraint));
                }
            }
            for requirement in requirements {
                if let Some(pin) = super::requirements::pep508(&requirement, at, out) {
                    out.lock.pins.push(pin);
                }
            }
        }
    }
    if let Some(sources) = get_array(poetry, "source") {
        for (source, _) in tables(sources) {
            let Some(v) = get(source, "url") else {
                continue;
            };
            let Some(url) = v.get_ref().as_str() else {
                continue;
            };
            let primary = get_str(source, "priority").map_or_else(
                || get(source, "default").and_then(|d| d.get_ref().as_bool()) == Some(true),
                |p| p.eq_ignore_ascii_case("primary") || p.eq_ignore_ascii_case("default"),
            );
            let kind = if primary {
                IndexKind::Primary
            } else {
                IndexKind::Extra
            };
            out.index(url, kind, string_start(text, v.span().start));
        }
    }
}

fn tables_of<'a, 'i>(list: &'a DeArray<'i>) -> Vec<&'a DeTable<'i>> {
    tables(list).map(|(t, _)| t).collect()
}

/// A Poetry constraint as PEP 508 requirements, one for each `||` alternative: a bare version
/// is `==`, `^X.Y.Z` allows changes that keep the first non-zero part, `~X.Y.Z` those that keep
/// `X.Y` (`~X`: `X`), `*` or nothing allows anything; PEP 440 operators stay as they are.
fn poetry_constraint(name: &str, constraint: &str) -> Vec<String> {
    constraint
        .split("||")
        .map(|alt| {
            // `>= 1.2` is one term: a space after an operator goes
            let mut joined = String::new();
            for c in alt.chars() {
                if c.is_whitespace() && joined.ends_with(['<', '>', '=', '!', '~', '^']) {
                    continue;
                }
                joined.push(c);
            }
            let clauses: Vec<String> = joined
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|t| !t.is_empty() && *t != "*")
                .flat_map(pep440_of)
                .collect();
            format!("{name}{}", clauses.join(","))
        })
        .collect()
}

/// One Poetry constraint term as PEP 440 clauses.
fn pep440_of(term: &str) -> Vec<String> {
    let numbers =
        |v: &str| -> Vec<u64> { v.split('.').map_while(|p| p.parse::<u64>().ok()).collect() };
    let upper = |mut parts: Vec<u64>, keep: usize| -> String {
        parts.truncate(keep.max(1));
        if let Some(last) = parts.last_mut() {
            *last += 1;
        }
        parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(".")
    };
    if let Some(v) = term.strip_prefix('^') {
        let parts = numbers(v);
        // the first non-zero part is kept (`^0.2.3`: `<0.3.0`; `^0.0`: `<0.1`)
        let keep = parts
            .iter()
            .position(|&p| p != 0)
            .map_or(parts.len(), |i| i + 1);
        return vec![format!(">={v}"), format!("<{}", upper(parts, keep))];
    }
    if let Some(v) = term.strip_prefix('~').filter(|v| !v.starts_with('=')) {
        let parts = numbers(v);
        let keep = if parts.len() >= 2 { 2 } else { 1 };
        return vec![format!(">={v}"), format!("<{}", upper(parts, keep))];
    }
    if term.starts_with(|c: char| c.is_ascii_digit()) {
        return vec![format!("=={term}")];
    }
    vec![term.to_owned()]
}

/// Each string of an array as a requirement.
fn strings(deps: &DeArray<'_>, text: &str, out: &mut Out<'_>) {
    for v in deps.iter() {
        if let Some(req) = v.get_ref().as_str() {
            let at = string_start(text, v.span().start);
            if let Some(pin) = super::requirements::pep508(req, at, out) {
                out.lock.pins.push(pin);
            }
        } else if !v.get_ref().is_table() {
            out.problem(v.span().start, "a dependency that is not a string");
        }
    }
}
