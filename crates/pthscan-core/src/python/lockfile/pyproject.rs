//! `pyproject.toml`: the PEP 508 strings of `[project] dependencies`,
//! `[project.optional-dependencies]` and `[dependency-groups]` (PEP 735; an
//! `{include-group = …}` entry names another group and is no pin), and the indexes of
//! `[[tool.uv.index]]` (`default = true` replaces PyPI, any other is searched first, as an
//! extra). Also what a build installs and runs first, `[build-system] requires`, and the PEP 508
//! arrays of uv (`dev-dependencies`, `constraint-dependencies`, `override-dependencies`) and
//! pdm (`[tool.pdm.dev-dependencies]` groups). Poetry's own tables
//! (`[tool.poetry.dependencies]`, not PEP 508) are not read.

use toml::de::DeArray;

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
    out.lock.pins.sort_by_key(|p| p.pos);
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
