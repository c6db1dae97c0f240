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
    SUPPORTED
        .iter()
        .copied()
        .find(|known| name.eq_ignore_ascii_case(known))
        .map_or_else(|| Cow::Owned(name.to_ascii_lowercase()), Cow::Borrowed)
}

/// The hash names RECORD may use that we check: every `hashlib.algorithms_guaranteed` name
/// but the forbidden ones and the SHAKE functions (whose digest length hashlib leaves to the
/// caller, so that no installer can verify one).
pub const SUPPORTED: &[&str] = &[
    "sha256", "sha224", "sha384", "sha512", "sha3_224", "sha3_256", "sha3_384", "sha3_512",
    "blake2b", "blake2s",
];

/// What a RECORD row's hash name allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashName {
    /// One we check.
    Supported,
    /// `md5` or `sha1`: the wheel spec forbids them (too weak to say anything).
    Forbidden,
    /// A name we cannot check: `shake_128`/`shake_256`, or no `hashlib` name at all.
    Unknown,
}

impl HashName {
    /// What `name` (lowercased, as [`parse`] gives it) is.
    pub fn of(name: &str) -> HashName {
        if SUPPORTED.contains(&name) {
            HashName::Supported
        } else if matches!(name, "md5" | "sha1") {
            HashName::Forbidden
        } else {
            HashName::Unknown
        }
    }

    /// Why files hashed with `name` are not checked, for a note; `None` for one we check.
    pub fn unchecked(name: &str) -> Option<String> {
        match HashName::of(name) {
            HashName::Supported => None,
            HashName::Forbidden => Some(format!(
                "`{name}`, which RECORD may not use (the wheel spec forbids md5 and sha1)"
            )),
            HashName::Unknown => Some(format!(
                "`{name}`, which is no hash RECORD allows that pthscan can check (any of hashlib's guaranteed algorithms but md5, sha1 and the variable-length shake_128/shake_256)"
            )),
        }
    }
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
pub struct RecordHasher(Box<dyn sha2::digest::DynDigest + Send>);

impl RecordHasher {
    /// A hasher for a RECORD algorithm name (lowercased); `None` for one we do not check
    /// (see [`HashName`]). `blake2b` and `blake2s` are hashlib's defaults: 64 and 32 bytes.
    pub fn new(algo: &str) -> Option<RecordHasher> {
        Some(RecordHasher(match algo {
            "sha224" => Box::new(sha2::Sha224::new()),
            "sha256" => Box::new(sha2::Sha256::new()),
            "sha384" => Box::new(sha2::Sha384::new()),
            "sha512" => Box::new(sha2::Sha512::new()),
            "sha3_224" => Box::new(sha3::Sha3_224::new()),
            "sha3_256" => Box::new(sha3::Sha3_256::new()),
            "sha3_384" => Box::new(sha3::Sha3_384::new()),
            "sha3_512" => Box::new(sha3::Sha3_512::new()),
            "blake2b" => Box::new(blake2::Blake2b512::new()),
            "blake2s" => Box::new(blake2::Blake2s256::new()),
            _ => return None,
        }))
    }

    /// Adds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Whether what was added has `digest`: RECORD's urlsafe base64 (padding optional), or the
    /// hexadecimal digest some installers write (`hashlib`'s `hexdigest()`).
    pub fn matches(self, digest: &str) -> bool {
        let computed = self.0.finalize();
        let hex: String = computed.iter().map(|b| format!("{b:02x}")).collect();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&computed)
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

    /// Every name RECORD allows (hashlib's guaranteed algorithms but md5 and sha1), each with
    /// the digest of `abc` that `hashlib.new(name, b"abc").hexdigest()` gives.
    #[test]
    fn every_allowed_hashlib_name_is_checked_and_the_forbidden_ones_are_named() {
        for (name, hex) in [
            (
                "sha224",
                "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
            ),
            (
                "sha384",
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
            ),
            (
                "sha512",
                "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
            ),
            (
                "sha3_224",
                "e642824c3f8cf24ad09234ee7d3c766fc9a3a5168d0c94ad73b46fdf",
            ),
            (
                "sha3_256",
                "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
            ),
            (
                "sha3_384",
                "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25",
            ),
            (
                "sha3_512",
                "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
            ),
            (
                "blake2b",
                "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
            ),
            (
                "blake2s",
                "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
            ),
        ] {
            assert_eq!(HashName::of(name), HashName::Supported, "{name}");
            assert_eq!(digest_matches(name, hex, b"abc"), Some(true), "{name}");
            assert_eq!(digest_matches(name, hex, b"abd"), Some(false), "{name}");
            // as RECORD writes it: urlsafe base64 without padding
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            assert_eq!(digest_matches(name, &b64, b"abc"), Some(true), "{name}");
            // and the name as written in any case
            let rows = parse(&format!("a.py,{}={b64},3\n", name.to_uppercase()));
            assert_eq!(rows[0].hash.as_ref().unwrap().0, name);
        }
        for name in ["md5", "sha1"] {
            assert_eq!(HashName::of(name), HashName::Forbidden);
            assert!(HashName::unchecked(name).unwrap().contains("forbids"));
            assert_eq!(digest_matches(name, "x", b""), None);
        }
        for name in ["shake_128", "sha257", "crc32"] {
            assert_eq!(HashName::of(name), HashName::Unknown);
            assert!(HashName::unchecked(name).is_some());
        }
        assert_eq!(HashName::unchecked("sha256"), None);
    }
}
