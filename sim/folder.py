"""Output folders: one writer at a time, a manifest that says what made them, no silent mixing.

Every command that writes a folder claims it first. The claim refuses a folder another live
process is writing (a lock file naming it; a crashed writer's lock on this machine is taken
over, a live one is never joined, even with `--force`), and a folder whose manifest records
other settings or another model version, unless `--force`. The manifest records the command
line, the resolved settings, the model and package versions, the platform and the start and
end time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from sim import machine
from sim.errors import ConfigError
from sim.files import atomic_write

MANIFEST = "manifest.json"
DEFAULT_OUT = Path("out")
"""Where commands write unless given --out: never into results/, the shipped record."""
LOCK = ".crowdsim.lock"
UNREADABLE = "unreadable"
"""The fingerprint given to a manifest that cannot be read."""
PACKAGES = ("crowdsim", "mesa", "simpy", "numpy", "scipy", "pandas")


SHIPPED = Path(__file__).resolve().parents[1] / "results"
"""The shipped reference results of a source checkout (absent from an installed package)."""


def check_writable(out: Path, what: str = "--out") -> None:
    """An output folder must be a folder we can write in (or create): else exit 2, now."""
    out = Path(out)
    if out.is_symlink():
        try:
            out.resolve(strict=True)
        except (OSError, RuntimeError):  # dangling, or a loop
            raise ConfigError(
                what, str(out), "is a symbolic link that leads to no folder (dangling or a loop)"
            ) from None
    if out.exists() and not out.is_dir():
        raise ConfigError(what, str(out), "is a file, not a folder")
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(what, str(out), f"cannot be written: {existing} is not a writable folder")


def check_name(name: str, source: str) -> None:
    """A file's `name` names out/<name>: a plain folder name, never a path (checked at load)."""
    if not name.strip() or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ConfigError(
            source,
            "name",
            f"{name!r} is not a plain folder name (it names out/<name>): no slashes, not . or ..",
        )


def default_folder(name: str, source: str) -> Path:
    """`out/<name>` for a file's `name` field, when no --out is given."""
    check_name(name, source)
    folder = DEFAULT_OUT / name
    check_writable(folder, f"{source}: name")
    return folder


def refuse_shipped(folder: Path, force: bool, what: str = "--out") -> None:
    """Refuse to replace files in the shipped results/ unless --force (as make results does)."""
    target = Path(folder).resolve()
    inside = target == SHIPPED or SHIPPED in target.parents
    if inside and target.exists() and any(target.iterdir()) and not force:
        raise ConfigError(
            what,
            str(folder),
            "is part of the shipped results/ (the record the docs cite): write elsewhere "
            "(--out), or pass --force to replace it on purpose, as `make results` does",
        )


def fingerprint(settings: Mapping[str, Any]) -> str:
    """A short digest of a command's settings (what decides its results)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _alive(pid: int) -> bool:
    if pid <= 0:  # not a process (and os.kill(-1, ...) would signal every process)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _take_lock(folder: Path, name: str, force: bool) -> Path:
    """Create the lock file, or explain who holds it (a dead local holder's lock is taken)."""
    lock = folder / name
    me = {"pid": os.getpid(), "host": socket.gethostname(), "since": _now(), "argv": sys.argv}
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            try:
                holder = json.loads(lock.read_text())
            except (OSError, ValueError):
                holder = {}
            local = holder.get("host") == me["host"]
            alive = _alive(_pid(holder)) if local else None  # another host's: unknowable
            if (local and not alive) or (force and not local):
                # a crashed writer's lock, or (--force) another host's that the user says is
                # gone; a live writer on this machine is never joined, --force or not
                lock.unlink(missing_ok=True)
                continue
            where = "this machine" if local else f"host {holder.get('host', '?')}"
            hint = (
                "wait for it to finish or stop it; --force does not take over a live writer"
                if local
                else f"wait for it, or if that job is gone pass --force (or remove {lock})"
            )
            raise ConfigError(
                "--out",
                str(folder),
                f"is being written by process {holder.get('pid', '?')} on {where} since "
                f"{holder.get('since', '?')}; {hint}",
            ) from None
        with os.fdopen(fd, "w") as fh:
            json.dump(me, fh)
        return lock
    raise ConfigError("--out", str(folder), f"could not take the lock {lock}")


def _pid(holder: Mapping[str, Any]) -> int:
    try:
        return int(holder.get("pid", -1))
    except (TypeError, ValueError):
        return -1


def _release(lock: Path) -> None:
    """Remove the lock only if it is still this process's (never another writer's)."""
    try:
        holder = json.loads(lock.read_text())
    except (OSError, ValueError):
        return
    if isinstance(holder, dict) and holder.get("pid") == os.getpid():
        lock.unlink(missing_ok=True)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


@contextmanager
def claim(
    folder: Path,
    *,
    command: str,
    settings: Mapping[str, Any],
    force: bool = False,
    lock_name: str = LOCK,
) -> Iterator[dict[str, Any]]:
    """Hold `folder` for one writer and keep its manifest; refuse other settings without force.

    Yields the manifest (a dict the caller may add to); it is written at the start and again,
    with the end time, when the work finishes. Its `replaces` is the fingerprint of the other
    settings a forced claim took the folder from (None otherwise).
    """
    from sim.batch.runs import model_version  # noqa: PLC0415 - the run layer imports this

    folder = Path(folder)
    refuse_shipped(folder, force)
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    stamp = fingerprint({**settings, "model_version": model_version()})
    lock = _take_lock(folder, lock_name, force)
    try:
        previous = _read(manifest_path)  # a manifest of a crowdsim before 0.2 has no fingerprint
        if "fingerprint" in previous and previous["fingerprint"] != stamp and not force:
            if previous["fingerprint"] == UNREADABLE:
                raise ConfigError(
                    "--out",
                    str(manifest_path),
                    "cannot be read (damaged or not a crowdsim manifest), so what made this "
                    "folder is unknown: choose another --out, or pass --force to write into it",
                )
            what = (
                "another model version"
                if previous.get("model_version") != model_version()
                else "other settings"
            )
            raise ConfigError(
                "--out",
                str(folder),
                f"holds results of {what} (made by `{previous.get('command_line', '?')}`); "
                "choose another --out, or pass --force to add these results to it",
            )
        manifest: dict[str, Any] = {
            "command": command,
            "replaces": previous.get("fingerprint")
            if previous.get("fingerprint") != stamp
            else None,
            "command_line": " ".join(["crowdsim", *sys.argv[1:]])
            if Path(sys.argv[0]).name == "crowdsim"
            else " ".join(sys.argv),
            "settings": dict(settings),
            "fingerprint": stamp,
            "model_version": model_version(),
            "versions": {p: version(p) for p in PACKAGES},
            "platform": machine.fingerprint(),
            "host": socket.gethostname(),
            "started": _now(),
            "finished": None,
        }
        _write(manifest_path, manifest)
        try:
            yield manifest
        except BaseException as exc:  # the folder is incomplete: say so, and why, if we can
            manifest["failed"] = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(OSError):
                _write(manifest_path, manifest)
            raise
        manifest["finished"] = _now()
        _write(manifest_path, manifest)
    finally:
        _release(lock)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"fingerprint": UNREADABLE}
    return data if isinstance(data, dict) else {"fingerprint": UNREADABLE}


def _write(path: Path, manifest: Mapping[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, default=str)
    atomic_write(path, lambda tmp: tmp.write_text(text))
