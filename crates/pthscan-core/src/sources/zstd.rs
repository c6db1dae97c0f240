//! zstd streams as runtimes read them: every frame in turn (skippable frames skipped), each
//! frame's window reserved from the memory budget before it is decoded.
//!
//! `ruzstd`'s `StreamingDecoder` decodes one frame and then reports the end of the stream:
//! a layer of two frames (what `zstd` writes for concatenated input, and what containerd and
//! Docker decode whole) hid every member of the second frame. And a frame declares its own
//! window — up to gigabytes — which the decoder allocates: a 4 MB image of twenty layers with
//! 128 MiB windows took 2.6 GB. Here each frame's header is read first; a window the budget
//! cannot hold is refused with an error that says so.

use std::io::{self, Read};
use std::sync::Arc;

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use crate::budget::{Budget, Held};

/// The zstd frame magic number, little-endian.
pub const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Whether a stream starting with `head` is zstd: a frame, or a skippable frame (magic
/// `0x184D2A50`–`0x184D2A5F`) first, as `pzstd` and `zstd:chunked` layers start.
pub fn is_zstd(head: &[u8]) -> bool {
    head.starts_with(&MAGIC)
        || head.len() >= 4 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18]
}

/// A zstd stream of any number of frames.
pub struct Frames<R: Read> {
    source: Pushback<R>,
    decoder: Box<FrameDecoder>,
    /// A frame is being decoded.
    in_frame: bool,
    /// The window of the frame being decoded, reserved.
    window: Held,
    budget: Arc<Budget>,
    /// No frame may declare a larger window than this.
    max_window: u64,
}

impl<R: Read> Frames<R> {
    /// The stream of `source`, each frame's window at most `max_window` bytes and reserved from
    /// `budget` while it is decoded.
    pub fn new(source: R, budget: Arc<Budget>, max_window: u64) -> io::Result<Frames<R>> {
        let mut decoder = Box::new(FrameDecoder::new());
        decoder.set_max_window_size(max_window);
        let mut frames = Frames {
            source: Pushback {
                back: Vec::new(),
                inner: source,
            },
            decoder,
            in_frame: false,
            window: Held::default(),
            budget,
            max_window,
        };
        // the first frame is there, or this is no zstd stream
        if !frames.next_frame()? {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "an empty zstd stream",
            ));
        }
        Ok(frames)
    }

    /// Starts the next frame, skipping skippable ones; `false` at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            let mut head = [0u8; 14];
            let got = read_up_to(&mut self.source, &mut head)?;
            if got == 0 {
                return Ok(false);
            }
            self.source.back = head[..got].to_vec();
            if let Some(window) = window_size(&head[..got]) {
                if window > self.max_window {
                    return Err(too_large(window, self.max_window));
                }
                self.window = Held::default();
                self.window = self.budget.try_reserve(window).ok_or_else(|| {
                    too_large(
                        window,
                        self.budget.limit().saturating_sub(self.budget.used()),
                    )
                })?;
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => {
                    self.in_frame = true;
                    return Ok(true);
                }
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.source).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "a skippable zstd frame ends early",
                        ));
                    }
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        }
    }
}

fn too_large(window: u64, room: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::OutOfMemory,
        format!(
            "a zstd frame declares a window of {window} bytes, more than the memory budget holds ({room} bytes; raise --max-memory)"
        ),
    )
}

impl<R: Read> Read for Frames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.in_frame {
                return Ok(0);
            }
            while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                self.decoder
                    .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            }
            let n = self.decoder.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // this frame is done: on to the next, if there is one
            self.in_frame = false;
            self.window = Held::default();
            if !self.next_frame()? {
                return Ok(0);
            }
        }
    }
}

/// Reads until `buf` is full or the source ends; how many bytes were read.
fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// A reader with bytes put back in front of it.
struct Pushback<R> {
    back: Vec<u8>,
    inner: R,
}

impl<R: Read> Read for Pushback<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.back.is_empty() {
            let n = buf.len().min(self.back.len());
            buf[..n].copy_from_slice(&self.back[..n]);
            self.back.drain(..n);
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// The window a zstd frame header declares (RFC 8878 §3.1.1.1): from the window descriptor,
/// or, for a single-segment frame, its content size. `None` for a skippable frame or a header
/// too short to say (the decoder then reports what is wrong).
fn window_size(head: &[u8]) -> Option<u64> {
    if head.get(..4)? != MAGIC {
        return None;
    }
    let fhd = *head.get(4)?;
    let single_segment = fhd & 0x20 != 0;
    if !single_segment {
        let wd = *head.get(5)?;
        let exponent = u64::from(wd >> 3);
        let mantissa = u64::from(wd & 7);
        let base = 1u64 << (10 + exponent);
        return Some(base + base / 8 * mantissa);
    }
    let dict_len = [0, 1, 2, 4][usize::from(fhd & 3)];
    let fcs_len = [1, 2, 4, 8][usize::from(fhd >> 6)];
    let at = 5 + dict_len;
    let bytes = head.get(at..at + fcs_len)?;
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        value |= u64::from(*b) << (8 * i);
    }
    Some(if fcs_len == 2 { value + 256 } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zstd frame of `data` stored in one raw block (no compressor needed to write one).
    fn raw_frame(data: &[u8], window_descriptor: Option<u8>) -> Vec<u8> {
        let mut f = MAGIC.to_vec();
        match window_descriptor {
            // a window descriptor, no content size
            Some(wd) => f.extend([0x00, wd]),
            // single segment, a 4-byte content size
            None => {
                f.push(0xa0);
                f.extend((data.len() as u32).to_le_bytes());
            }
        }
        // last block, raw, its size
        let header = 1u32 | ((data.len() as u32) << 3);
        f.extend(&header.to_le_bytes()[..3]);
        f.extend(data);
        f
    }

    fn all(r: &mut dyn Read) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn every_frame_is_read_and_skippable_ones_skipped() {
        let mut stream = raw_frame(b"first ", None);
        // a skippable frame between them
        stream.extend([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        stream.extend(raw_frame(b"second", Some(0)));
        let budget = Budget::new(1 << 20);
        let mut r = Frames::new(&stream[..], Arc::clone(&budget), 1 << 20).unwrap();
        assert_eq!(all(&mut r).unwrap(), b"first second");
        drop(r);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_window_past_the_cap_or_the_budget_is_refused() {
        // window descriptor exponent 17: 2^27 = 128 MiB
        let big = raw_frame(b"x", Some(17 << 3));
        assert_eq!(window_size(&big), Some(128 << 20));
        let e = Frames::new(&big[..], Budget::new(1 << 30), 32 << 20)
            .err()
            .unwrap();
        assert!(e.to_string().contains("window of 134217728 bytes"), "{e}");
        // within the cap, not within what the budget has left
        let mid = raw_frame(b"x", Some(10 << 3));
        let e = Frames::new(&mid[..], Budget::new(1 << 16), 32 << 20)
            .err()
            .unwrap();
        assert!(e.to_string().contains("memory budget"), "{e}");
    }
}
