//! Problems met while scanning: what could not be read, and why.

use std::path::PathBuf;

use serde::Serialize;

use crate::pathfmt::display_path;

/// One problem with one input. The scan goes on; an `incomplete` diagnostic means something
/// that should have been judged was not, and makes the exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// The file or directory.
    pub path: PathBuf,
    /// What went wrong, lower-case, no trailing period.
    pub message: String,
    /// Whether part of what should have been judged was not.
    pub incomplete: bool,
}

impl Diagnostic {
    /// Something that should have been judged was not.
    pub fn incomplete(path: impl Into<PathBuf>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            path: path.into(),
            message: message.into(),
            incomplete: true,
        }
    }

    /// Worth knowing; the verdict is still complete.
    pub fn note(path: impl Into<PathBuf>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            path: path.into(),
            message: message.into(),
            incomplete: false,
        }
    }
}

impl Serialize for Diagnostic {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Diagnostic", 3)?;
        st.serialize_field("path", &display_path(&self.path))?;
        st.serialize_field("message", &self.message)?;
        st.serialize_field("incomplete", &self.incomplete)?;
        st.end()
    }
}
