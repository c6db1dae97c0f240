//! `RECORD` (the wheel spec, PEP 376/627): one CSV row per installed file — path, `algo=digest`
//! (URL-safe base64 without padding), size.

use base64::Engine;
use sha2::Digest;

/// One row of a `RECORD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    /// 1-based line.
    pub line: usize,
    /// The path as written, relative to the site directory (may contain `..` for scripts).
    pub path: String,
    /// `sha256=…` split, when a hash is given.
    pub hash: Option<(String, String)>,
    /// The size, when given and numeric.
    pub size: Option<u64>,
}

/// Parses `RECORD` text; rows without a path are skipped.
pub fn parse(text: &str) -> Vec<RecordRow> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields = csv_fields(line);
        let Some(path) = fields.first().filter(|p| !p.is_empty()) else {
            continue;
        };
        let hash = fields
            .get(1)
            .and_then(|h| h.split_once('='))
            .map(|(a, d)| (a.to_ascii_lowercase(), d.to_owned()));
        let size = fields.get(2).and_then(|s| s.trim().parse().ok());
        out.push(RecordRow {
            line: i + 1,
            path: path.clone(),
            hash,
            size,
        });
    }
    out
}

/// Splits one CSV line (Python's `csv` dialect: `"` quotes, `""` escapes a quote).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

/// Whether `bytes` has the digest a RECORD row gives; `None` for an algorithm we do not know.
pub fn digest_matches(algo: &str, digest: &str, bytes: &[u8]) -> Option<bool> {
    let computed = match algo {
        "sha256" => sha2::Sha256::digest(bytes).to_vec(),
        "sha384" => sha2::Sha384::digest(bytes).to_vec(),
        "sha512" => sha2::Sha512::digest(bytes).to_vec(),
        _ => return None,
    };
    let ours = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(computed);
    Some(ours == digest.trim_end_matches('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_rows_and_checks_digests() {
        let rows = parse(
            "a/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n\"we,ird.py\",,\nx.dist-info/RECORD,,\n",
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].path, "we,ird.py");
        assert_eq!(rows[0].size, Some(0));
        let (algo, digest) = rows[0].hash.clone().unwrap();
        assert_eq!(digest_matches(&algo, &digest, b""), Some(true));
        assert_eq!(digest_matches(&algo, &digest, b"x"), Some(false));
        assert_eq!(digest_matches("md5", "x", b""), None);
    }
}
