//! What the analysis knows of a value: where its data came from (labels, with the first place
//! each came in), its text when it is a constant the code builds, and the name it refers to
//! when it is a function or module.

use std::fmt;
use std::rc::Rc;

/// Where data came from. A set of these travels with every value derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Read from the network: an HTTP response, a socket.
    Network,
    /// Decoded, decompressed, deobfuscated: base64, hex, zlib, rot13, XOR, marshal.
    Decoded,
    /// A credential: a file under a credential path, a secret's environment variable.
    Credential,
    /// The whole process environment (`os.environ`, `/proc/self/environ`).
    Environ,
    /// Facts of the host: its name, user, address, platform.
    Host,
    /// The clipboard's content.
    Clipboard,
    /// Data hidden in an image or other carrier (steganography).
    Hidden,
    /// The path of a file that network data was written to (a download).
    Download,
    /// The content of a local file (other than a credential store).
    File,
    /// Decoded data that a function's caller passed in: executing it is judged, deserialising
    /// it is what honest loaders do.
    DecodedArg,
    /// A download that looks like a dropped program: named like a Windows program or script,
    /// put in a temporary or shared place, or fetched from a channel or a public IP address.
    Dropped,
}

impl Source {
    /// Every source, in a fixed order.
    pub const ALL: [Source; 11] = [
        Source::Network,
        Source::Decoded,
        Source::Credential,
        Source::Environ,
        Source::Host,
        Source::Clipboard,
        Source::Hidden,
        Source::Download,
        Source::File,
        Source::DecodedArg,
        Source::Dropped,
    ];

    /// The name rules use.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Network => "network",
            Source::Decoded => "decoded",
            Source::Credential => "credential",
            Source::Environ => "environ",
            Source::Host => "host",
            Source::Clipboard => "clipboard",
            Source::Hidden => "hidden",
            Source::Download => "download",
            Source::File => "file",
            Source::DecodedArg => "decoded-arg",
            Source::Dropped => "dropped",
        }
    }

    /// The source a rule names.
    pub fn parse(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// Where a value ends up, as far as the rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sink {
    /// Executed as Python: exec, eval, compile, `types.FunctionType`.
    Exec,
    /// Deserialised into objects, which runs code: marshal, pickle, dill.
    Deserialize,
    /// Given to another program: subprocess, os.system, os.exec*, pty.
    Process,
    /// Sent over the network: an HTTP body or URL, a socket, mail, DNS.
    Send,
    /// Written to a file.
    Write,
    /// Written to a place that runs it later: shell profiles, cron, systemd, launch agents,
    /// autostart folders, the Run registry keys.
    Persist,
    /// Made executable (chmod with an execute bit).
    Chmod,
    /// Put on the clipboard.
    Clipboard,
    /// Sent to a channel made for receiving data: a chat bot or webhook, a request-capture or
    /// file-drop service, a tunnel, a public IP address (also a [`Sink::Send`]).
    Channel,
    /// Where a send goes: the URL of a request, the address of a connection (also a
    /// [`Sink::Send`]). Data reaching it chose the destination.
    Endpoint,
}

impl Sink {
    /// Every sink, in a fixed order.
    pub const ALL: [Sink; 10] = [
        Sink::Exec,
        Sink::Deserialize,
        Sink::Process,
        Sink::Send,
        Sink::Write,
        Sink::Persist,
        Sink::Chmod,
        Sink::Clipboard,
        Sink::Channel,
        Sink::Endpoint,
    ];

    /// The name rules use.
    pub fn as_str(self) -> &'static str {
        match self {
            Sink::Exec => "exec",
            Sink::Deserialize => "deserialize",
            Sink::Process => "process",
            Sink::Send => "send",
            Sink::Write => "write",
            Sink::Persist => "persist",
            Sink::Chmod => "chmod",
            Sink::Clipboard => "clipboard",
            Sink::Channel => "channel",
            Sink::Endpoint => "endpoint",
        }
    }

    /// The sink a rule names.
    pub fn parse(name: &str) -> Option<Sink> {
        Sink::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A set of the enclosing function's parameters (by position, the first eight) that a value
/// carries data from: `Request(url=u, data=d)` carries both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Params(u8);

impl Params {
    /// The parameter at position `i` (none past the eighth).
    pub fn of(i: usize) -> Params {
        Params(
            u8::try_from(i)
                .ok()
                .and_then(|i| 1u8.checked_shl(u32::from(i)))
                .unwrap_or(0),
        )
    }

    /// Both sets.
    #[must_use]
    pub fn or(self, other: Params) -> Params {
        Params(self.0 | other.0)
    }

    /// Whether it holds no parameter.
    pub fn is_none(self) -> bool {
        self.0 == 0
    }

    /// The positions it holds.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..8).filter(move |i| self.0 & (1 << i) != 0)
    }
}

/// A place in the source: its line (1-based) and the code there, shortened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of its start.
    pub offset: usize,
    /// 1-based line.
    pub line: usize,
    /// The code, on one line, at most [`SPAN_CHARS`] characters.
    pub text: String,
}

/// The longest code text a span keeps.
pub const SPAN_CHARS: usize = 120;

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} `{}`", self.line, self.text)
    }
}

/// The sources of a value, each with where it first came in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels {
    bits: u16,
    origins: Vec<(Source, Span)>,
}

impl Labels {
    /// Labels with one source.
    pub fn of(source: Source, at: Span) -> Labels {
        Labels {
            bits: source.bit(),
            origins: vec![(source, at)],
        }
    }

    /// Whether no source is known.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// Whether `source` is among them.
    pub fn has(&self, source: Source) -> bool {
        self.bits & source.bit() != 0
    }

    /// Where `source` first came in.
    pub fn origin(&self, source: Source) -> Option<&Span> {
        self.origins
            .iter()
            .find(|(s, _)| *s == source)
            .map(|(_, at)| at)
    }

    /// Adds another value's sources (keeping the first origin of each).
    pub fn merge(&mut self, other: &Labels) -> bool {
        let before = self.bits;
        for (source, at) in &other.origins {
            self.add(*source, at.clone());
        }
        self.bits != before
    }

    /// Adds one source.
    pub fn add(&mut self, source: Source, at: Span) {
        if !self.has(source) {
            self.bits |= source.bit();
            self.origins.push((source, at));
        }
    }

    /// The sources, in the order they came in.
    pub fn sources(&self) -> impl Iterator<Item = (Source, &Span)> {
        self.origins.iter().map(|(s, at)| (*s, at))
    }
}

/// What is known of one value.
#[derive(Debug, Clone, Default)]
pub struct Val {
    /// Where its data came from.
    pub labels: Labels,
    /// Its text, when the code builds it from constants (strings, bytes as Latin-1, numbers).
    pub text: Option<String>,
    /// The dotted name it refers to: a module, a function, or a call's result (`requests.get()`).
    pub name: Option<String>,
    /// For an open file or a registry key: the path it was opened with, and whether for writing.
    pub file: Option<(Option<String>, bool, Labels)>,
    /// Elements, when it is a list or tuple of constants (for `chr` lists and `join`); shared,
    /// as a module's tables are read many times and never changed in place.
    pub items: Option<Rc<[Val]>>,
    /// The parameters of the enclosing function it comes from, for the function's summary.
    pub param: Params,
    /// Its value, when it is an integer the code computes from constants.
    pub int: Option<i64>,
    /// For an open file: the variable holding the path it was opened with.
    pub path_var: Option<String>,
}

impl Val {
    /// A constant text.
    pub fn text(text: impl Into<String>) -> Val {
        Val {
            text: Some(text.into()),
            ..Val::default()
        }
    }

    /// A reference to a dotted name.
    pub fn named(name: impl Into<String>) -> Val {
        Val {
            name: Some(name.into()),
            ..Val::default()
        }
    }

    /// Unions another value's labels into this one.
    pub fn taint(mut self, other: &Val) -> Val {
        self.labels.merge(&other.labels);
        self.param = self.param.or(other.param);
        self
    }
}
