//! TOML read with byte spans (`toml::de::DeTable`), and the small accessors the lock readers
//! share.
//!
//! A document with syntax errors is read with the parser's recovery: what it recovered still
//! gives pins, and each error is a [`super::Problem`] at its span.

use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue};

use super::Out;

/// A spanned TOML value.
pub(super) type Val<'i> = Spanned<DeValue<'i>>;

/// Parses `text`, reporting each syntax error as a problem; `None` only when nothing is left.
pub(super) fn parse<'i>(text: &'i str, out: &mut Out<'_>) -> Option<DeTable<'i>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    for e in errors.iter().take(100) {
        let at = e.span().map_or(0, |s| s.start);
        out.problem(at, format!("invalid TOML: {}", first_line(e.message())));
    }
    if errors.len() > 100 {
        out.problem(
            text.len(),
            format!("{} more TOML errors", errors.len() - 100),
        );
    }
    Some(doc.into_inner())
}

/// The largest `[[package]]` table read (with its sub-tables): the largest real ones, a package
/// with wheels for every platform, are tens of KiB; parsed, this is at most some tens of MB.
const MAX_TABLE: usize = 1 << 20;

/// Reads `text` one `[[key]]` table at a time: each part, from one `[[key]]` header line to
/// the next (the first from the start), is parsed on its own and handed to `each` with
/// `out`'s offsets set to it, and its tree dropped before the next. A lock's tree of spanned
/// values costs tens of bytes for every byte of text; a part costs that for one package only.
/// A part is a TOML document on its own (sub-tables such as `[package.metadata]` follow their
/// package); a header inside a multi-line string would split it, which both parts then report
/// as invalid TOML — nothing is passed over unsaid.
pub(super) fn parse_by_table(
    text: &str,
    key: &str,
    out: &mut Out<'_>,
    mut each: impl FnMut(&DeTable<'_>, &mut Out<'_>),
) {
    let header = format!("[[{key}]]");
    let mut starts = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if at > 0 && line.trim_start().starts_with(&header) {
            starts.push(at);
        }
        at += line.len();
    }
    starts.push(text.len());
    for part in starts.windows(2) {
        out.base = part[0];
        let len = part[1] - part[0];
        if len > MAX_TABLE {
            out.unread(
                0,
                format!(
                    "a `{header}` table of {len} bytes, over the {} KiB one is read at: not read",
                    MAX_TABLE >> 10
                ),
            );
            continue;
        }
        if let Some(doc) = parse(&text[part[0]..part[1]], out) {
            each(&doc, out);
        }
    }
    out.base = 0;
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("").trim()
}

/// The entry `key` of a table, with the key's span.
pub(super) fn entry<'a, 'i>(
    t: &'a DeTable<'i>,
    key: &str,
) -> Option<(&'a Spanned<std::borrow::Cow<'i, str>>, &'a Val<'i>)> {
    t.iter().find(|(k, _)| k.get_ref().as_ref() == key)
}

/// The value of `key`.
pub(super) fn get<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a Val<'i>> {
    entry(t, key).map(|(_, v)| v)
}

/// The string value of `key`.
pub(super) fn get_str<'a>(t: &'a DeTable<'_>, key: &str) -> Option<&'a str> {
    get(t, key).and_then(|v| v.get_ref().as_str())
}

/// The table value of `key`.
pub(super) fn get_table<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
    get(t, key).and_then(|v| v.get_ref().as_table())
}

/// The array value of `key`.
pub(super) fn get_array<'a, 'i>(t: &'a DeTable<'i>, key: &str) -> Option<&'a DeArray<'i>> {
    get(t, key).and_then(|v| v.get_ref().as_array())
}

/// The tables of an array (array of tables or inline tables), with their spans.
pub(super) fn tables<'a, 'i>(
    a: &'a DeArray<'i>,
) -> impl Iterator<Item = (&'a DeTable<'i>, usize)> + 'a {
    a.iter()
        .filter_map(|v| v.get_ref().as_table().map(|t| (t, v.span().start)))
}

/// Where a string value's text begins: after its opening quote(s), so that the column points at
/// the first character of the requirement rather than at the quote.
pub(super) fn string_start(text: &str, span_start: usize) -> usize {
    let rest = text.get(span_start..).unwrap_or("");
    if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        span_start + 3
    } else if rest.starts_with('"') || rest.starts_with('\'') {
        span_start + 1
    } else {
        span_start
    }
}

/// Where a package table is: its `name` key when it has one, else the table itself.
pub(super) fn name_and_offset<'a>(t: &'a DeTable<'_>, table_at: usize) -> (Option<&'a str>, usize) {
    match entry(t, "name") {
        Some((k, v)) => (v.get_ref().as_str(), k.span().start),
        None => (None, table_at),
    }
}
