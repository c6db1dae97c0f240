//! What a scan says on standard error: `error:` for what was not judged (it makes the exit
//! code 2 when nothing is at the threshold), `note:` for what is worth knowing and changes
//! nothing, as rustc and cargo write them. One cause repeated over many paths (a
//! password-protected zip's members, a home directory a normal user cannot read) is one line
//! with a count and the first paths; the report holds every one.

use std::collections::BTreeMap;
use std::io::{self, Write};

use pthscan_core::Diagnostic;
use pthscan_core::pathfmt::display_path;

/// Paths shown for a repeated message.
const SHOWN: usize = 3;

/// The message with what names one path or member taken out: `cannot read: permission
/// denied` for every file, `member `a.py`: encrypted` for every member of a zip.
fn cause(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '`' if !quoted => {
                quoted = true;
                out.push_str("`…");
            }
            '`' => {
                quoted = false;
                out.push('`');
            }
            _ if quoted => {}
            // sizes and counts differ from file to file: `N`
            c if c.is_ascii_digit() => {
                if !out.ends_with('N') {
                    out.push('N');
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Writes `diagnostics`, errors first, each cause once.
pub fn print(diagnostics: &[Diagnostic], w: &mut dyn Write) -> io::Result<()> {
    // by kind, then cause, in first-seen order within a kind
    let mut groups: BTreeMap<(bool, String), Vec<&Diagnostic>> = BTreeMap::new();
    for d in diagnostics {
        groups
            .entry((!d.incomplete, cause(&d.message)))
            .or_default()
            .push(d);
    }
    let mut denied = 0;
    for ((note, cause), items) in &groups {
        let prefix = if *note { "note" } else { "error" };
        if cause.to_ascii_lowercase().contains("permission denied") {
            denied += items.len();
        }
        if items.len() <= SHOWN {
            for d in items {
                writeln!(w, "{prefix}: {}: {}", display_path(&d.path), d.message)?;
            }
            continue;
        }
        let mut paths: Vec<String> = items.iter().map(|d| display_path(&d.path)).collect();
        paths.dedup();
        let more = paths.len().saturating_sub(SHOWN);
        paths.truncate(SHOWN);
        writeln!(
            w,
            "{prefix}: {cause}: {} times, in {}{} (each in the report: --format json)",
            items.len(),
            paths.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )?;
    }
    if denied > 0 && crate::policy::euid() != 0 {
        writeln!(
            w,
            "note: {denied} path(s) could not be read by this user: a whole-host scan needs root, \
             or read access to every file — `sudo setcap cap_dac_read_search+ep \"$(command -v \
             pthscan)\"`, or the systemd unit in deploy/systemd (CAP_DAC_READ_SEARCH only)"
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(d: &[Diagnostic]) -> String {
        let mut out = Vec::new();
        print(d, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn errors_and_notes_are_told_apart_and_repeats_grouped() {
        let mut d: Vec<Diagnostic> = (0..40)
            .map(|i| {
                Diagnostic::incomplete(
                    "/data/x.zip",
                    format!("member `m{i}.py`: encrypted, not read"),
                )
            })
            .collect();
        d.push(Diagnostic::note(
            "/srv/a",
            "inside the filesystem root also given",
        ));
        d.push(Diagnostic::incomplete("/srv/b", "cannot read: broken"));
        let text = printed(&d);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("error: /srv/b: cannot read"), "{text}");
        assert!(
            lines[1]
                .starts_with("error: member `…`: encrypted, not read: 40 times, in /data/x.zip ("),
            "{text}"
        );
        assert!(lines[2].starts_with("note: /srv/a: inside"), "{text}");
        // causes that differ by a size or count are one cause
        let sizes: Vec<Diagnostic> = (0..9)
            .map(|i| {
                Diagnostic::incomplete(
                    format!("/v/h{i}.pth"),
                    format!("is {i}1 bytes: read only 5"),
                )
            })
            .collect();
        assert_eq!(printed(&sizes).lines().count(), 1, "{}", printed(&sizes));
    }
}
