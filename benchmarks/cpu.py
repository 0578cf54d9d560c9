"""Pure CPU work for measuring what parallel processes can do on this machine.

In its own module so spawned workers can import it (they cannot import `__main__`).
"""

from __future__ import annotations


def burn(n: int) -> int:
    """A tight arithmetic loop: no I/O, no shared state."""
    total = 0
    for i in range(n):
        total += i * i
    return total
