//! `pthscan explain RULE`: the rule's doc, in the shape every detector documents itself.

use std::io::{self, Write};

/// Prints the doc of `rule` (or every rule's title for `all`); `false` if there is no such rule.
pub fn explain(rule: &str, w: &mut dyn Write) -> io::Result<bool> {
    let rules = pthscan_core::detectors::rules();
    if rule.eq_ignore_ascii_case("all") {
        for r in &rules {
            writeln!(w, "{:<9} {}", r.id, r.title)?;
        }
        return Ok(true);
    }
    let Some(doc) = rules.iter().find(|r| r.id.eq_ignore_ascii_case(rule)) else {
        return Ok(false);
    };
    writeln!(w, "{}: {}", doc.id, doc.title)?;
    writeln!(w, "\nWhat it finds\n  {}", doc.what)?;
    writeln!(w, "\nWhy it matters\n  {}", doc.why)?;
    writeln!(w, "\nExample\n  {}", doc.example)?;
    writeln!(w, "\nReferences")?;
    for r in doc.references {
        writeln!(w, "  - {r}")?;
    }
    Ok(true)
}
