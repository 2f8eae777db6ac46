"""The optional native screening loops (`scoring/_native*.c`): built on first use with the
machine's C compiler, kept in the cache directory, and handed to `scoring.textnorm`.

Why built here and not by `pip install`: the bot runs from a checkout as often as from
a wheel (the shard workers import the checkout they were started from), and a module
built into site-packages would be invisible to those runs. Built on first use, every way
of starting the bot gets the same module. Without a compiler or Python's headers the
pure-Python loops run instead; they give the same results (tests compare the two), only
slower. `COMMUNITYBOT_NATIVE=0` switches the native loops off.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import logging
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType

from bot.mod_model import base_model_cache_dir
from scoring import textnorm

log = logging.getLogger(__name__)

#: The module's C files and the header they share, in `scoring/`.
SOURCES = sorted(Path(textnorm.__file__).parent.glob("_native*.[ch]"))

#: Seconds the compiler may take (it takes about half a second).
COMPILE_TIMEOUT = 120

_state: dict[str, object] = {}


def _compiler() -> list[str] | None:
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cmd = shlex.split(cc)
    return cmd if cmd and shutil.which(cmd[0]) else None


def _key(cc: list[str]) -> str:
    h = hashlib.sha256()
    for src in SOURCES:
        h.update(src.name.encode() + b"\x00" + src.read_bytes())
    for part in (sys.version, sysconfig.get_platform(), " ".join(cc), sysconfig.get_paths()["include"]):
        h.update(b"\x00" + part.encode())
    return h.hexdigest()[:16]


def build(out_dir: Path) -> Path:
    """Compile the native module into `out_dir` (atomically) and return its path.

    Raises `RuntimeError` naming what was missing or what the compiler said."""
    cc = _compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (set CC, or install gcc)")
    include = sysconfig.get_paths()["include"]
    if not Path(include, "Python.h").exists():
        raise RuntimeError(f"Python's headers are missing ({include}/Python.h; install python3-dev)")
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    path = out_dir / f"native-{_key(cc)}{suffix}"
    if path.exists():
        return path
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".native-", suffix=".so")
    os.close(fd)
    sources = [str(p) for p in SOURCES if p.suffix == ".c"]
    cmd = [*cc, "-O2", "-shared", "-fPIC", f"-I{include}", *sources, "-o", tmp]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {(r.stderr or r.stdout).strip()[-2000:]}")
        os.replace(tmp, path)  # two workers building at once both end with a whole file
        for stale in out_dir.glob(f"native-*{suffix}"):
            # Builds of older sources for this Python (another Python's builds have
            # another suffix); a process still running one keeps its mapping.
            if stale != path:
                stale.unlink(missing_ok=True)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_module(path: Path) -> ModuleType:
    """Import a built native module from its file."""
    spec = importlib.util.spec_from_file_location("_native", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {path}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def enable() -> bool:
    """Build (once per machine) and switch on the native loops; False, with the reason
    logged once, when they cannot be had. Safe to call again: the first answer stands."""
    if "on" in _state:
        return bool(_state["on"])
    if os.environ.get("COMMUNITYBOT_NATIVE", "1").strip() in ("0", "off", "no", "false"):
        _state["on"] = False
        return False
    root = base_model_cache_dir()
    try:
        mod = None
        if root is not None:
            try:
                mod = load_module(build(root))
            except OSError as exc:  # a read-only or full cache directory: build elsewhere
                log.info("cannot keep the native build in %s (%s); building it for this run only", root, exc)
        if mod is None:
            # No disk cache: build in a directory of our own; the loaded module outlives it.
            with tempfile.TemporaryDirectory() as d:
                mod = load_module(build(Path(d)))
        textnorm.use_native(mod)
        _state["on"] = True
    except (OSError, RuntimeError, ImportError, subprocess.SubprocessError) as exc:
        log.warning("native screening loops unavailable, using the pure-Python ones: %s", exc)
        _state["on"] = False
    return bool(_state["on"])
