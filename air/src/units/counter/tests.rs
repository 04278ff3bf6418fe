//! The counter unit on hand-built frames.
