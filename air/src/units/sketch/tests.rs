//! The sketch unit on hand-built frames.
