//! The error type for everything that depends on runtime data.

use core::fmt;

/// An error from data known only at run time (IR text, a recorded tape replayed on new inputs,
/// files, CLI input).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A recorded tape was replayed on inputs that take another branch than the recording.
    ControlFlowChanged {
        /// Index of the guarded comparison on the tape.
        at: usize,
        /// What was compared, as text.
        what: String,
    },
    /// An input had the wrong length.
    Shape {
        /// What was being checked.
        what: String,
        /// The expected length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Text or a file could not be parsed.
    Parse {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A file is not in the expected format or version.
    Format(String),
    /// An I/O error, as text.
    Io(String),
    /// A function cannot be recorded for replay (it applies a custom rule, say).
    NotReplayable(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ControlFlowChanged { at, what } => write!(
                f,
                "control flow changed at guard {at} ({what}): the recorded tape does not hold \
                 this input's branch; record again at this input"
            ),
            Error::Shape {
                what,
                expected,
                got,
            } => {
                write!(f, "{what}: expected length {expected}, got {got}")
            }
            Error::Parse {
                line,
                column,
                message,
            } => write!(f, "{line}:{column}: {message}"),
            Error::Format(m) => write!(f, "bad format: {m}"),
            Error::Io(m) => write!(f, "i/o error: {m}"),
            Error::NotReplayable(m) => write!(f, "cannot record for replay: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}
