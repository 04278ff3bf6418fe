//! glassbox facade (filled in below).
