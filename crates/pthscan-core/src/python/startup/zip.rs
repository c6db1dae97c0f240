//! The member names of a zip on `sys.path`, as `zipimport` reads them: from the end of
//! central directory record and the central directory alone (no member is decompressed).

use std::path::Path;

use super::{PyVersion, View};

/// The most member names kept from one zip; past it the rest are not seen, and a note says so.
pub const MAX_NAMES: usize = 100_000;

/// The largest zip on the path whose central directory is read.
pub const MAX_ZIP_BYTES: u64 = 16 << 20;

/// What a zip on the path holds.
#[derive(Debug, Clone, Default)]
pub struct ZipNames {
    /// Member names, as written (`pkg/__init__.py`).
    pub names: Vec<String>,
    /// Where each member lies, in the order of `names`.
    pub entries: Vec<ZipEntry>,
    /// Why it is not complete, where it is not.
    pub cut: Option<String>,
}

/// Where a member's data lies, as `zipimport` finds it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZipEntry {
    /// Its local header, in the file (the central directory's offset plus the bytes before
    /// the archive).
    pub header: usize,
    /// Compression method: 0 stored, 8 deflated (zipimport knows no other).
    pub method: u16,
    /// Compressed size.
    pub compressed: usize,
}

/// The data of `entry` as `zipimport` reads it (the local header's name and extra lengths
/// skipped), decompressed up to `cap` bytes; `None` when it cannot be read.
pub fn member_data(bytes: &[u8], entry: ZipEntry, cap: u64) -> Option<Vec<u8>> {
    use std::io::Read;
    let h = bytes.get(entry.header..entry.header + 30)?;
    if &h[..4] != b"PK\x03\x04" {
        return None;
    }
    let n = usize::from(u16::from_le_bytes([h[26], h[27]]));
    let e = usize::from(u16::from_le_bytes([h[28], h[29]]));
    let start = entry.header + 30 + n + e;
    let raw = bytes.get(start..start.checked_add(entry.compressed)?)?;
    match entry.method {
        0 => Some(raw[..raw.len().min(cap as usize)].to_vec()),
        8 => {
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(raw)
                .take(cap)
                .read_to_end(&mut out)
                .ok()?;
            Some(out)
        }
        _ => None,
    }
}

/// Reads the central directory of the zip at `path`; `None` when it is no zip (`zipimport`
/// refuses it, and the entry finds nothing).
pub fn read(view: View<'_>, path: &Path, version: PyVersion) -> Option<ZipNames> {
    let disk = view.disk(path);
    let size = view.tree.file_size(&disk)?;
    if size > MAX_ZIP_BYTES.min(view.tree.max_file_size()) {
        return Some(ZipNames {
            names: Vec::new(),
            entries: Vec::new(),
            cut: Some(format!(
                "{size} bytes, larger than the {MAX_ZIP_BYTES}-byte cap for a zip on the path: its members are not seen"
            )),
        });
    }
    let data = view.tree.read_capped(&disk, MAX_ZIP_BYTES).ok()?;
    let mut out = parse(&data.bytes, version)?;
    if data.truncated && out.cut.is_none() {
        out.cut = Some(format!(
            "only the first {} of {} bytes were read",
            data.bytes.len(),
            data.size
        ));
    }
    Some(out)
}

/// The upper half of code page 437, which `zipimport` decodes a member name without the
/// UTF-8 flag with when it is not ASCII.
const CP437_HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u{a0}";

/// A member name as `zipimport` decodes it: UTF-8 when flag bit 11 says so, else ASCII, else
/// code page 437.
fn member_name(raw: &[u8], flags: usize) -> String {
    if flags & 0x800 != 0 || raw.is_ascii() {
        return String::from_utf8_lossy(raw).into_owned();
    }
    raw.iter()
        .map(|&b| {
            if b < 0x80 {
                char::from(b)
            } else {
                CP437_HIGH.chars().nth(usize::from(b - 0x80)).unwrap_or('?')
            }
        })
        .collect()
}

/// Parses member names from the bytes of a zip as `version`'s `zipimport` reads them: every
/// central directory entry until the signature stops (3.13+ then refuse the zip when that
/// count is not the end record's "entries on this disk"); `None` for a zip it refuses.
pub fn parse(bytes: &[u8], version: PyVersion) -> Option<ZipNames> {
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
    let disk_entries = u16_at(eocd, 8);
    let cd_size = u32_at(eocd, 12);
    let cd_offset = u32_at(eocd, 16);
    // zipimport places the directory just before the end record (data may precede the zip)
    let cd_start = at.checked_sub(cd_size).unwrap_or(cd_offset);
    let mut out = ZipNames::default();
    let mut pos = cd_start;
    let mut count = 0;
    loop {
        let Some(h) = bytes.get(pos..pos + 46) else {
            if bytes.get(pos..pos + 4).is_some_and(|s| s == b"PK\x01\x02") {
                out.cut = Some("the central directory is cut short".into());
            }
            break;
        };
        if &h[..4] != b"PK\x01\x02" {
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
        out.names.push(member_name(name, u16_at(h, 8)));
        out.entries.push(ZipEntry {
            header: (cd_start - cd_offset.min(cd_start)) + u32_at(h, 42),
            method: u16_at(h, 10) as u16,
            compressed: u32_at(h, 20),
        });
        count += 1;
        pos += 46 + n + e + c;
    }
    if version.at_least(3, 13) && out.cut.is_none() && count != disk_entries {
        // "mismatched num_entries": the whole zip is refused
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip(names: &[&[u8]], flags: u16, declared: Option<u16>) -> Vec<u8> {
        let mut cd = Vec::new();
        for name in names {
            cd.extend(b"PK\x01\x02");
            cd.extend([0u8; 4]);
            cd.extend(flags.to_le_bytes());
            cd.extend([0u8; 18]);
            cd.extend((name.len() as u16).to_le_bytes());
            cd.extend([0u8; 16]);
            cd.extend(*name);
        }
        let n = declared.unwrap_or(names.len() as u16);
        let mut out = cd.clone();
        out.extend(b"PK\x05\x06\0\0\0\0");
        out.extend(n.to_le_bytes());
        out.extend((names.len() as u16).to_le_bytes());
        out.extend((cd.len() as u32).to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend([0u8; 2]);
        out
    }

    #[test]
    fn entries_are_read_until_the_signature_stops_and_3_13_checks_the_count() {
        // found by the red team: the end record says 2 entries on this disk, 1 in total
        let z = zip(&[b"evil.py", b"b.py"], 0, Some(2));
        let v12 = PyVersion::new(3, 12);
        assert_eq!(parse(&z, v12).unwrap().names, ["evil.py", "b.py"]);
        assert!(parse(&z, PyVersion::new(3, 13)).is_some());
        let z = zip(&[b"evil.py", b"b.py"], 0, Some(1));
        assert_eq!(parse(&z, v12).unwrap().names.len(), 2);
        assert!(parse(&z, PyVersion::new(3, 13)).is_none());
    }

    #[test]
    fn names_without_the_utf8_flag_are_code_page_437() {
        let z = zip(&[b"\x82vil.py"], 0, None);
        assert_eq!(parse(&z, PyVersion::new(3, 12)).unwrap().names, ["évil.py"]);
        let z = zip(&["évil.py".as_bytes()], 0x800, None);
        assert_eq!(parse(&z, PyVersion::new(3, 12)).unwrap().names, ["évil.py"]);
    }
}
