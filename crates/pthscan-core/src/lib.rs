//! pthscan's engine: finds Python environments, reads their start-up hooks the way each CPython
//! generation does, and judges them, without ever running Python.
//!
//! - [`discovery`]: environments and site directories under the scanned paths.
//! - [`python`]: CPython's `.pth`, `.start` and import semantics.
//! - [`detectors`]: one file per detector, each returning [`Finding`]s.
//! - [`procs`]: running processes, read from Linux's `/proc` (`--processes`).
//! - [`fs`]: the one way any part touches a file, confined to the scan's root.
//! - [`scan`]: the orchestration.
//! - [`times`]: when a file was born, modified and changed.
#![deny(missing_docs)]

pub mod action;
pub mod budget;
pub mod detectors;
pub mod diagnostic;
pub mod discovery;
pub mod finding;
pub mod fs;
pub mod pathfmt;
pub mod procs;
pub mod python;
pub mod scan;
pub mod sources;
pub mod times;

pub use diagnostic::Diagnostic;
pub use discovery::{EnvKind, Environment};
pub use finding::{Finding, Location, Severity, SignalHit};
pub use scan::{Discovered, ScanOptions, ScanReport, Stats, discover, judge, report_only, scan};
pub use times::{FileTimes, Timestamp};
