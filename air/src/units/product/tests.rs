//! The product unit on hand-built frames.
