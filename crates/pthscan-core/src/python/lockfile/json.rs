//! Where keys are in a JSON document, since `serde_json` keeps no spans.
//!
//! One pass over the bytes with an explicit stack (no recursion, so no depth limit to hit):
//! strings are skipped with their escapes, and an object key is recognised as the string that
//! follows `{` or `,` inside an object. The caller names the keys it wants by their path of
//! ancestor keys. A document the scan cannot follow (it is not JSON) gives fewer offsets, never
//! wrong ones for valid JSON; `serde_json` reports the syntax error.

/// A step of a key's path: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

enum Frame {
    Object { key: Option<String> },
    Array { index: usize },
}

/// Calls `found(path, key, offset)` for every object key, `path` being the keys and indexes of
/// its ancestors and `offset` that of the key's opening quote. The path is rebuilt only when
/// `interested(depth)` says a key at that depth may matter, so the pass stays linear.
pub(super) fn keys(
    text: &str,
    interested: impl Fn(usize) -> bool,
    mut found: impl FnMut(&[Seg], &str, usize),
) {
    let b = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => {
                stack.push(Frame::Object { key: None });
                expect_key = true;
            }
            b'[' => {
                stack.push(Frame::Array { index: 0 });
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { .. }) => expect_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            b'"' => {
                let start = i;
                let end = string_end(b, i);
                if expect_key && let Some(Frame::Object { .. }) = stack.last() {
                    let raw = &text[start..end];
                    let key = if raw.contains('\\') {
                        serde_json::from_str::<String>(raw).unwrap_or_default()
                    } else {
                        raw.get(1..raw.len().saturating_sub(1))
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let depth = stack.len() - 1;
                    if interested(depth) {
                        let path: Vec<Seg> = stack[..depth]
                            .iter()
                            .map(|f| match f {
                                Frame::Object { key } => Seg::Key(key.clone().unwrap_or_default()),
                                Frame::Array { index } => Seg::Index(*index),
                            })
                            .collect();
                        found(&path, &key, start);
                    }
                    if let Some(Frame::Object { key: k }) = stack.last_mut() {
                        *k = Some(key);
                    }
                    expect_key = false;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// The offset just past the string starting at `b[start] == b'"'` (or the end of the text).
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}
