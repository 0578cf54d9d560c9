"""Progress of long commands: a bar on a terminal, log lines in a batch job.

A cluster job's output is a file, where a bar is noise; there a line goes to stderr every
tenth of the work or every 30 seconds, whichever comes first, and at the end.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType

from tqdm import tqdm

LINE_EVERY_S = 30.0
LINE_EVERY_SHARE = 0.1


class Progress:
    """Counts finished units of work and shows them as a bar or as occasional lines."""

    def __init__(
        self,
        total: int,
        *,
        label: str,
        unit: str = "run",
        initial: int = 0,
        show_bar: bool | None = None,
    ) -> None:
        self.total, self.done, self.label, self.unit = total, initial, label, unit
        self.detail = ""
        self.bar_shown = sys.stderr.isatty() if show_bar is None else show_bar
        self.started = time.monotonic()
        self._last_line = (self.started, initial)
        self._bar = tqdm(total=total, initial=initial, disable=not self.bar_shown, unit=unit)

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._bar.close()
        if kind is None and not self.bar_shown and self._last_line[1] != self.done:
            self._line()

    def update(self, n: int = 1, detail: str = "") -> None:
        """`n` more units are done; `detail` (e.g. the best value so far) goes with the line."""
        self.done += n
        self._bar.update(n)
        self.detail = detail
        if self.bar_shown:
            if detail:
                self._bar.set_postfix_str(detail)
            return
        when, count = self._last_line
        if time.monotonic() - when >= LINE_EVERY_S or self.done - count >= max(
            1, LINE_EVERY_SHARE * self.total
        ):
            self._line()

    def _line(self) -> None:
        elapsed = time.monotonic() - self.started
        detail = f"; {self.detail}" if self.detail else ""
        print(
            f"{self.label}: {self.done}/{self.total} {self.unit}s done, {elapsed:.0f} s{detail}",
            file=sys.stderr,
            flush=True,
        )
        self._last_line = (time.monotonic(), self.done)
