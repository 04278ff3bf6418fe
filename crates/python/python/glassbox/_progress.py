"""Progress of long calls: a tqdm bar where tqdm is installed, else a one-line counter on
stderr; shown only on a terminal or in a notebook unless asked for."""

from __future__ import annotations

import sys
from typing import Optional


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _Counter:
    """`proving 540 samples: 3/9 proofs` rewritten in place."""

    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.n = total, desc, 0
        self._show()

    def _show(self) -> None:
        sys.stderr.write(f"\r{self.desc}: {self.n}/{self.total} proofs")
        sys.stderr.flush()

    def update(self, n: int) -> None:
        self.n += n
        self._show()

    def close(self) -> None:
        sys.stderr.write("\n")


def start(total: int, desc: str, enabled: Optional[bool]):
    """A progress bar over `total` proofs, or None (the native prover calls this)."""
    if enabled is None:
        enabled = total > 1 and _interactive()
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Counter(total, desc)
    return tqdm(total=total, desc=desc, unit="proof")
