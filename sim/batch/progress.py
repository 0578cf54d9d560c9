"""Progress of long commands: a bar on a terminal or in a notebook, log lines in a batch job.

A cluster job's output is a file, where a bar is noise; there a line goes to the `crowdsim`
logger (stderr under the CLI; `-q` silences it) every tenth of the work or every 30
seconds, whichever comes first, and at the end, with the rate and the time left. A resumed
job says how much was already done.
"""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType

from tqdm.auto import tqdm


class _Stderr(logging.Handler):
    """Lines to whatever sys.stderr is when they are written (a notebook's, a test's)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr, flush=True)


log = logging.getLogger("crowdsim")
"""Progress and notes of long work, INFO by default; `crowdsim -q` or
`logging.getLogger("crowdsim").setLevel(logging.WARNING)` silences them."""
if not log.handlers:
    log.addHandler(_Stderr())
    log.propagate = False
if log.level == logging.NOTSET:  # the CLI's -q / -v may have set it already
    log.setLevel(logging.INFO)


def _in_notebook() -> bool:
    return "ipykernel" in sys.modules


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
        if show_bar is None:
            show_bar = sys.stderr.isatty() or _in_notebook()
        self.bar_shown = show_bar and log.isEnabledFor(logging.INFO)
        self.started = time.monotonic()
        self.initial = initial
        self._last_line = (self.started, initial)
        self._bar = tqdm(
            total=total, initial=initial, disable=not self.bar_shown, unit=unit, desc=label
        )
        if initial:
            log.info("%s: resumed, %d of %d %ss already done", label, initial, total, unit)

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
        fresh = self.done - self.initial
        pace = ""
        if fresh > 0 and elapsed > 0 and self.done < self.total:
            left = (self.total - self.done) * elapsed / fresh
            pace = f", {fresh / elapsed:.3g} {self.unit}s/s, about {left:.0f} s left"
        log.info(
            "%s: %d/%d %ss done, %.0f s%s%s",
            self.label,
            self.done,
            self.total,
            self.unit,
            elapsed,
            pace,
            detail,
        )
        self._last_line = (time.monotonic(), self.done)
