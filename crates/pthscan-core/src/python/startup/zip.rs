//! The member names of a zip on `sys.path`, as `zipimport` reads them: from the end of
//! central directory record and the central directory alone (no member is decompressed).

use std::path::Path;

use super::View;

/// The most member names kept from one zip; past it the rest are not seen, and a note says so.
pub const MAX_NAMES: usize = 100_000;

/// The largest zip on the path whose central directory is read.
pub const MAX_ZIP_BYTES: u64 = 16 << 20;

/// What a zip on the path holds.
#[derive(Debug, Clone, Default)]
pub struct ZipNames {
    /// Member names, as written (`pkg/__init__.py`).
    pub names: Vec<String>,
    /// Why it is not complete, where it is not.
    pub cut: Option<String>,
}

/// Reads the central directory of the zip at `path`; `None` when it is no zip (`zipimport`
/// refuses it, and the entry finds nothing).
pub fn read(view: View<'_>, path: &Path) -> Option<ZipNames> {
    let disk = view.disk(path);
    let size = view.tree.file_size(&disk)?;
    if size > MAX_ZIP_BYTES.min(view.tree.max_file_size()) {
        return Some(ZipNames {
            names: Vec::new(),
            cut: Some(format!(
                "{size} bytes, larger than the {MAX_ZIP_BYTES}-byte cap for a zip on the path: its members are not seen"
            )),
        });
    }
    let data = view.tree.read_capped(&disk, MAX_ZIP_BYTES).ok()?;
    let mut out = parse(&data.bytes)?;
    if data.truncated && out.cut.is_none() {
        out.cut = Some(format!(
            "only the first {} of {} bytes were read",
            data.bytes.len(),
            data.size
        ));
    }
    Some(out)
}

/// Parses member names from the bytes of a zip.
pub fn parse(bytes: &[u8]) -> Option<ZipNames> {
    const EOCD: &[u8] = b"PK\x05\x06";
    let tail_start = bytes.len().saturating_sub(22 + 65_535);
    let at = bytes[tail_start..]
        .windows(4)
        .rposition(|w| w == EOCD)
        .map(|i| i + tail_start)?;
    let eocd = bytes.get(at..at + 22)?;
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as usize;
    let u32_at =
        |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
    let count = u16_at(eocd, 10);
    let cd_size = u32_at(eocd, 12);
    let cd_offset = u32_at(eocd, 16);
    // zipimport places the directory just before the end record (data may precede the zip)
    let cd_start = at.checked_sub(cd_size).unwrap_or(cd_offset);
    let mut out = ZipNames::default();
    let mut pos = cd_start;
    for _ in 0..count {
        let Some(h) = bytes.get(pos..pos + 46) else {
            out.cut = Some("the central directory is cut short".into());
            break;
        };
        if &h[..4] != b"PK\x01\x02" {
            out.cut = Some("a bad central directory entry".into());
            break;
        }
        let (n, e, c) = (u16_at(h, 28), u16_at(h, 30), u16_at(h, 32));
        let Some(name) = bytes.get(pos + 46..pos + 46 + n) else {
            out.cut = Some("the central directory is cut short".into());
            break;
        };
        if out.names.len() >= MAX_NAMES {
            out.cut = Some(format!("more than {MAX_NAMES} members"));
            break;
        }
        out.names.push(String::from_utf8_lossy(name).into_owned());
        pos += 46 + n + e + c;
    }
    Some(out)
}
