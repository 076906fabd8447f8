"""The persistent compile cache: generated kernels as files on disk, their machine code by Numba.

Numba caches machine code only for functions defined in a real file: it keys its index on the
file's content hash and the function's bytecode. So each kernel's source is written to
`<cache dir>/<function>_<key hash>.py`, executed as a module, and its `@njit` dispatcher given
a Numba file cache, which lives in `__pycache__` next to it. A second process that generates the
same kernel finds the file and Numba finds the machine code: no LLVM compilation.

The key (the file name) covers what Numba's own index does not see: the generated kernel and
entry sources, the signature, the compile flags (fast-math set, `jitgraph.runtime.MATH`), and
the versions of jitgraph, Numba, NumPy, llvmlite, Python and the CPU name. jitgraph's version
includes a hash of the files defining the helpers kernels call (`codegen/vmath.py`, ...):
Numba links their machine code into the kernel's and would not notice a change to them. The
thread count is not in the key: it does not change the generated code (full reductions use a
fixed number of chunks) and Numba reads it at run time.

The frontend and passes still run in every process (about 10 ms of the time a hit takes):
regenerating the source is what names the file, and what lets a damaged file be detected (its
text must equal the generated one) and rewritten.

Settings, read at each compile: `JITGRAPH_CACHE_DIR` (the directory; set but empty disables the
cache), `JITGRAPH_CACHE=0` (disables it), `JITGRAPH_EXPLAIN_CACHE=1` (on a miss, print to stderr
what changed compared with the nearest entry of the same function).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import os
import platform
import sys
import types
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# What this process's compiles found: "hit" (machine code loaded from disk), "miss" (compiled
# and saved), "reused" (a kernel this process had loaded already), "rewritten" (an entry file
# whose text was damaged), "unreadable" (Numba's files for an entry could not be loaded).
# Observable, so tests need not time anything.
STATS: Counter[str] = Counter()

_HEADER = "# jitgraph compile cache entry"
_KEY_PREFIX = "# key: "
# Explanations list differences in this order: what a user changes before what a release does.
_ORDER = ("signature", "fastmath", "math", "jitgraph", "numba", "numba options", "numpy",
          "llvmlite", "python", "cpu", "kernel source", "entry source")
# Dispatchers loaded in this process, by entry file name: a function jitted again (the testing
# harness does, for instance) gets the compiled dispatcher without loading anything.
_LOADED: dict[str, Any] = {}


def directory() -> Path | None:
    """The cache directory, or None when the cache is disabled."""
    if os.environ.get("JITGRAPH_CACHE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    configured = os.environ.get("JITGRAPH_CACHE_DIR")
    if configured is not None:
        return Path(configured).expanduser() if configured.strip() else None
    return default_directory()


def default_directory() -> Path:
    """The platform's per-user cache location."""
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "jitgraph"
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA")
        return (Path(base) if base else home / "AppData" / "Local") / "jitgraph" / "cache"
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else home / ".cache") / "jitgraph"


def explaining() -> bool:
    return os.environ.get("JITGRAPH_EXPLAIN_CACHE", "").strip() not in ("", "0")


def explain(message: str) -> None:
    if explaining():
        print(f"jitgraph cache: {message}", file=sys.stderr)


@dataclass
class Entry:
    """A kernel from the cache: its dispatcher and where it lives; `found` is False when this
    process wrote the file (a miss that Numba will compile and save on the first call),
    `reused` is True when this process had already loaded it."""

    dispatchers: list[Any]  # the kernel, and its serial twin if it has one
    path: Path
    found: bool
    label: str
    reused: bool = False

    def outcome(self) -> str:
        """'hit' or 'miss', from Numba's own counters once the kernel has been called."""
        if self.reused:
            STATS["reused"] += 1
            return "hit"
        stats = [getattr(d, "stats", None) for d in self.dispatchers]
        if stats[0] is None:  # NUMBA_DISABLE_JIT: a plain function, nothing compiled
            return "off"
        outcome = "hit" if sum(sum(s.cache_hits.values()) for s in stats) else "miss"
        if outcome == "miss" and self.found:
            explain(f"miss for {self.label}: the entry {self.path.name} was found but not "
                    "Numba's machine code for it (another CPU or argument layout, or an "
                    "interrupted first compile): compiled and saved")
        STATS[outcome] += 1
        return outcome


def load_kernel(
    source: str,
    names: tuple[str, ...],
    entry_source: str,
    label: str,
    stem: str,
    signature: str,
    flags: dict[str, str],
    namespace: dict[str, Any],
) -> Entry | None:
    """The dispatchers of the functions `names` (a kernel and its serial twin) defined by
    `source`, from the cache directory (written there first if missing or damaged), or None
    when the cache is disabled or unusable.
    `stem` names the file (an identifier), `label` the function in explanations, `namespace`
    holds the names the kernel uses."""
    root = directory()
    if root is None:
        return None
    components = {
        "function": label,
        "signature": signature,
        **flags,
        **versions(helper_files(namespace)),
        "kernel source": _digest(source),
        "entry source": _digest(entry_source),
    }
    path = root / f"{stem}_{_digest(json.dumps(components, sort_keys=True))}.py"
    loaded = _LOADED.get(path.name)
    if loaded is not None:
        return Entry(loaded, path, True, label, reused=True)
    text = _module_text(components, source, entry_source)
    try:
        found = _ensure_file(path, text, components, label)
    except OSError as error:  # a read-only or full disk: compile without the cache
        explain(f"cannot write {path} ({error}): compiling without the cache")
        return None
    dispatchers = _execute(path, text, names, namespace)
    _LOADED[path.name] = dispatchers
    return Entry(dispatchers, path, found, label)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def helper_files(namespace: dict[str, Any]) -> tuple[str, ...]:
    """The files defining the compiled helpers in a kernel namespace."""
    functions = [getattr(v, "py_func", None) or getattr(v, "_defn", None)  # njit, intrinsic
                 for v in namespace.values()]
    return tuple(sorted({inspect.getfile(f) for f in functions if f is not None}))


@functools.cache
def versions(files: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions the machine code depends on; jitgraph's includes a hash of `files`."""
    import llvmlite
    import llvmlite.binding
    import numba

    from . import __version__

    helpers = hashlib.sha256()
    for file in files:
        helpers.update(Path(file).read_bytes())
    return {
        "jitgraph": f"{__version__} (helpers {helpers.hexdigest()[:12]})",
        "numba": numba.__version__,
        # Numba's own index keys on the CPU, not on these settings of its code generator.
        "numba options": f"opt {numba.config.OPT}, boundscheck {numba.config.BOUNDSCHECK}",
        "numpy": np.__version__,
        "llvmlite": llvmlite.__version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cpu": numba.config.CPU_NAME or llvmlite.binding.get_host_cpu_name(),
    }


def _module_text(components: dict[str, str], source: str, entry_source: str) -> str:
    entry = "".join(f"#     {line}\n" if line else "#\n" for line in entry_source.splitlines())
    return (
        f"{_HEADER} for {components['function']!r}: generated code, safe to delete.\n"
        "# jitgraph.cache executes it with the names generated kernels use (np, prange, njit,\n"
        "# the vmath helpers); Numba keeps its machine code in __pycache__ next to this file.\n"
        f"{_KEY_PREFIX}{json.dumps(components, sort_keys=True)}\n\n"
        f"{source}\n\n"
        "# The entry function that runs before the kernel (jitgraph generates it again):\n"
        f"{entry}"
    )


def _ensure_file(path: Path, text: str, components: dict[str, str], label: str) -> bool:
    """Make `path` hold `text`; True if it already did (a candidate hit)."""
    try:
        existing = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        existing = None
    except UnicodeDecodeError:
        existing = ""
    if existing == text:
        return True
    if existing is None:
        if explaining():
            explain(f"miss for {label}: {difference(path.parent, path.name, components)}")
    else:
        STATS["rewritten"] += 1
        explain(f"entry {path.name} for {label} was damaged (its text is not the generated "
                "code): rewritten")
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, text)
    return False


def _write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never a part: write a temporary file in the
    same directory, then rename it over the target (atomic on POSIX and Windows). The
    temporary name is unique per writer, and made with the umask's permissions (a shared
    cache directory stays shared)."""
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:16]}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def difference(root: Path, name: str, components: dict[str, str]) -> str:
    """What differs between `components` and the nearest entry of the same function in `root`
    (the one with the fewest differing parts)."""
    stem = name.rsplit("_", 1)[0]
    nearest: list[str] | None = None
    for other in _entries(root, stem):
        if other.get("function") != components["function"]:
            continue
        changed = [f"{part} {other.get(part)} -> {components.get(part)}" for part in _ORDER
                   if other.get(part) != components.get(part)]
        if nearest is None or len(changed) < len(nearest):
            nearest = changed
    if nearest is None:
        return f"no entry for {components['function']} in {root}"
    return "; ".join(nearest) or "an entry with the same key under another name"


def _entries(root: Path, stem: str) -> list[dict[str, str]]:
    """The keys of the entries named `<stem>_<hash>.py` in `root` (unreadable ones skipped)."""
    keys = []
    for path in root.glob(f"{stem}_*.py"):
        with contextlib.suppress(OSError, UnicodeDecodeError, ValueError):
            with path.open(encoding="utf-8") as f:
                for _ in range(8):
                    line = f.readline()
                    if line.startswith(_KEY_PREFIX):
                        keys.append(json.loads(line[len(_KEY_PREFIX):]))
                        break
    return keys


def _execute(path: Path, text: str, names: tuple[str, ...], namespace: dict[str, Any]) -> list:
    """Run the entry file's code as module `jitgraph_cache_<stem>` and return its kernels.
    The module is registered in sys.modules because Numba imports it by name when it
    rebuilds a cached function's environment."""
    module = types.ModuleType(f"jitgraph_cache_{path.stem}")
    module.__file__ = str(path)
    module.__dict__.update(namespace)
    module.__dict__["njit"] = _caching_njit
    sys.modules[module.__name__] = module
    exec(compile(text, str(path), "exec"), module.__dict__)
    return [module.__dict__[name] for name in names]


def _caching_njit(**options: Any) -> Callable[[Callable], Any]:
    """`numba.njit(cache=True, ...)`, except that a damaged cache file is a miss, not a crash."""
    import numba

    def decorate(fn: Callable) -> Any:
        dispatcher = numba.njit(**options)(fn)
        if not isinstance(dispatcher, numba.core.dispatcher.Dispatcher):
            return dispatcher  # NUMBA_DISABLE_JIT: the Python function itself
        try:
            dispatcher._cache = _tolerant_cache_class()(fn)  # what cache=True sets
        except RuntimeError as error:  # Numba found no writable place for its files
            explain(f"Numba cannot cache {fn.__name__} ({error}): compiling without its cache")
        return dispatcher

    return decorate


@functools.cache
def _tolerant_cache_class() -> type:
    from numba.core.caching import FunctionCache

    class TolerantCache(FunctionCache):
        """Numba's function cache, reading a damaged index or data file as a miss. Numba
        itself unpickles them unguarded, and a truncated file would crash the call. The index
        is reset, so the compile that follows saves a fresh entry."""

        def load_overload(self, sig: Any, target_context: Any) -> Any:
            try:
                return super().load_overload(sig, target_context)
            except Exception as error:
                STATS["unreadable"] += 1
                explain(f"Numba's cache files for {self._py_func.__qualname__} in "
                        f"{self._cache_path} are unreadable ({type(error).__name__}: {error}): "
                        "recompiling")
                with contextlib.suppress(OSError):
                    self.flush()
                return None

        def save_overload(self, sig: Any, data: Any) -> None:
            try:
                super().save_overload(sig, data)
            except Exception as error:  # the compiled function is fine: run it unsaved
                explain(f"cannot save Numba's machine code for {self._py_func.__qualname__} "
                        f"({type(error).__name__}: {error})")

    return TolerantCache
