//! `RECORD` (the wheel spec, PEP 376/627): one CSV row per installed file — path, `algo=digest`
//! (URL-safe base64 without padding), size.

use std::borrow::Cow;

use base64::Engine;
use sha2::Digest;

/// One row of a `RECORD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRow {
    /// 1-based line.
    pub line: usize,
    /// The path as written, relative to the site directory (may contain `..` for scripts).
    pub path: String,
    /// `sha256=…` split, when a hash is given; the algorithm lowercased (one we know is
    /// borrowed: nearly every row names sha256, and a host lists hundreds of thousands).
    pub hash: Option<(Cow<'static, str>, String)>,
    /// The size, when given and numeric.
    pub size: Option<u64>,
}

/// Parses `RECORD` text; rows without a path are skipped.
pub fn parse(text: &str) -> Vec<RecordRow> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        // a line without quotes splits on commas as it is (nearly every row: no copy per field)
        let quoted;
        let mut fields = ["", "", ""];
        if line.contains('"') {
            quoted = csv_fields(line);
            for (slot, f) in fields.iter_mut().zip(&quoted) {
                *slot = f;
            }
        } else {
            for (slot, f) in fields.iter_mut().zip(line.split(',')) {
                *slot = f;
            }
        }
        let [path, hash, size] = fields;
        if path.is_empty() {
            continue;
        }
        out.push(RecordRow {
            line: i + 1,
            path: path.to_owned(),
            hash: hash
                .split_once('=')
                .map(|(a, d)| (algorithm(a), d.to_owned())),
            size: size.trim().parse().ok(),
        });
    }
    out
}

/// A RECORD hash's algorithm name, lowercased.
fn algorithm(name: &str) -> Cow<'static, str> {
    ["sha224", "sha256", "sha384", "sha512"]
        .into_iter()
        .find(|known| name.eq_ignore_ascii_case(known))
        .map_or_else(|| Cow::Owned(name.to_ascii_lowercase()), Cow::Borrowed)
}

/// Splits one CSV line (Python's `csv` dialect: `"` quotes, `""` escapes a quote).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
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
    let mut hasher = RecordHasher::new(algo)?;
    hasher.update(bytes);
    Some(hasher.matches(digest))
}

/// A RECORD digest computed piece by piece, for files read in windows.
pub enum RecordHasher {
    /// `sha224=`
    Sha224(sha2::Sha224),
    /// `sha256=`
    Sha256(sha2::Sha256),
    /// `sha384=`
    Sha384(sha2::Sha384),
    /// `sha512=`
    Sha512(sha2::Sha512),
}

impl RecordHasher {
    /// A hasher for a RECORD algorithm name; `None` for one we do not know.
    pub fn new(algo: &str) -> Option<RecordHasher> {
        Some(match algo {
            "sha224" => RecordHasher::Sha224(sha2::Sha224::new()),
            "sha256" => RecordHasher::Sha256(sha2::Sha256::new()),
            "sha384" => RecordHasher::Sha384(sha2::Sha384::new()),
            "sha512" => RecordHasher::Sha512(sha2::Sha512::new()),
            _ => return None,
        })
    }

    /// Adds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            RecordHasher::Sha224(h) => h.update(bytes),
            RecordHasher::Sha256(h) => h.update(bytes),
            RecordHasher::Sha384(h) => h.update(bytes),
            RecordHasher::Sha512(h) => h.update(bytes),
        }
    }

    /// Whether what was added has `digest`: RECORD's urlsafe base64 (padding optional), or the
    /// hexadecimal digest some installers write (`hashlib`'s `hexdigest()`).
    pub fn matches(self, digest: &str) -> bool {
        let computed = match self {
            RecordHasher::Sha224(h) => h.finalize().to_vec(),
            RecordHasher::Sha256(h) => h.finalize().to_vec(),
            RecordHasher::Sha384(h) => h.finalize().to_vec(),
            RecordHasher::Sha512(h) => h.finalize().to_vec(),
        };
        let hex: String = computed.iter().map(|b| format!("{b:02x}")).collect();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(computed)
            == digest.trim_end_matches('=')
            || hex.eq_ignore_ascii_case(digest)
    }
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
        assert_eq!(rows[1].hash, None);
        assert_eq!(rows[2].line, 3);
        assert_eq!(rows[0].size, Some(0));
        let (algo, digest) = rows[0].hash.clone().unwrap();
        assert_eq!(digest_matches(&algo, &digest, b""), Some(true));
        assert_eq!(digest_matches(&algo, &digest, b"x"), Some(false));
        assert_eq!(digest_matches("md5", "x", b""), None);
        // algorithm names are lowercased, known or not
        let rows = parse("a.py,SHA256=x,1\nb.py,Md5=y,1\n");
        assert_eq!(rows[0].hash, Some(("sha256".into(), "x".into())));
        assert_eq!(rows[1].hash, Some(("md5".into(), "y".into())));
    }

    #[test]
    fn digests_in_base64_or_hex_of_each_sha2_name() {
        let empty256 = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";
        assert_eq!(digest_matches("sha256", empty256, b""), Some(true));
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(digest_matches("sha256", hex, b""), Some(true));
        assert_eq!(
            digest_matches("sha256", &hex.to_uppercase(), b""),
            Some(true)
        );
        assert_eq!(digest_matches("sha256", hex, b"x"), Some(false));
        let sha224 = "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f";
        assert_eq!(digest_matches("sha224", sha224, b""), Some(true));
        assert_eq!(digest_matches("md5", "x", b""), None);
    }
}
