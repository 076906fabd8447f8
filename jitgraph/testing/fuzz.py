"""Fuzz campaigns: many random programs through the differential harness.

    python -m jitgraph.testing.fuzz --count 10000 --seed 0 --out fuzz-failures

Program i of a campaign is `generate_program(f"{seed}:{i}")`, so any failure is reproduced
from its seed and index alone; each failing program is also saved as a standalone script
(source, arguments, harness call) in the output folder, ready to become a regression test.

Each compiled function is called twice when the program has resized arguments (larger sizes,
same size-1 axes), in either order: the second call runs the kernel compiled for the first
sizes, which checks what sizes known only at run time change (a slice of length 1 becoming 2).

Failures matching a KNOWN_ISSUES entry (a reported bug not fixed yet) are counted apart, so a
campaign still finds new bugs while old ones wait for their fix.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..passes import pipeline
from .harness import Report, check
from .programs import Program, generate_program


@dataclass(frozen=True)
class KnownIssue:
    """A reported bug: failures whose message matches `pattern` are attributed to it, if
    `confirm` (given the program and backend) agrees: a message alone may not tell the bug
    from another one with the same symptom."""

    name: str
    summary: str
    suspect: str
    pattern: str
    confirm: Callable[[Program, str], bool] | None = None

    def matches(self, report: Report, program: Program | None = None,
                backend: str = "python") -> bool:
        if re.search(self.pattern, report.message()) is None:
            return False
        return self.confirm is None or (program is not None and self.confirm(program, backend))


def passes_without(program: Program, backend: str, *passes: str) -> bool:
    """Does `program` pass with `passes` disabled?"""
    with pipeline.disabled(*passes):
        return check_program(program, backend, bisect=False).ok


# Bugs found by fuzzing, reported, and not fixed yet (see tests/test_fuzz.py for each one's
# regression test). Remove an entry when its regression test starts passing.
KNOWN_ISSUES: list[KnownIssue] = [
    KnownIssue("one-element-slice-of-short-axis",
               "documented limitation: a slice of at most one element of a symbolic axis "
               "(x[:, 0:1], x[-1:]) is taken to have exactly one, so that it broadcasts; an axis "
               "too short for it is rejected where NumPy gives an empty slice (seen on resized "
               "calls, whose axes give mixed-anchor slices such as x[-4:3] other lengths)",
               "jitgraph/ir/build.py index_key (by design; see the generator's docstring)",
               r"jitgraph needs it to have \d element\(s\)\): size .* = 0 must be 1"),
]


@dataclass
class Failure:
    index: int
    kind: str               # 'mismatch', 'crash', 'generator', or 'known:<issue>'
    program: Program | None
    message: str


@dataclass
class CampaignResult:
    count: int
    seed: str
    seconds: float = 0.0
    backends: Counter = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)

    def tally(self) -> Counter:
        return Counter(f.kind for f in self.failures)

    @property
    def new_failures(self) -> list[Failure]:
        """Failures not explained by a known issue."""
        return [f for f in self.failures if not f.kind.startswith("known:")]

    def summary(self) -> str:
        tally = self.tally()
        known = {k[6:]: v for k, v in tally.items() if k.startswith("known:")}
        return (f"{self.count} programs (backends: {dict(self.backends)}), seed {self.seed!r}, "
                f"{self.seconds:.1f} s: {tally['mismatch']} mismatches, {tally['crash']} crashes, "
                f"{tally['generator']} generator errors, known issues {known or 'none'}")


def check_program(program: Program, backend: str, bisect: bool = True,
                  resize: bool = True) -> Report:
    """One program through the harness (NumPy vs `backend` vs the reference interpreter);
    `resize`: also call the compiled function with the program's resized arguments."""
    first, *more = program.calls() if resize else [program.make_args()]
    return check(program.function(), *first, backend=backend, scale=program.magnitude,
                 rtol=program.rtol, bisect=bisect, also=more)


def classify(report: Report, program: Program | None = None, backend: str = "python") -> str:
    for issue in KNOWN_ISSUES:
        if issue.matches(report, program, backend):
            return f"known:{issue.name}"
    return report.kind


def run_campaign(count: int, seed: int | str = 0, backend: str = "python", numba_every: int = 0,
                 out: str | Path | None = None, start: int = 0, inplace: bool = True,
                 log: Callable[[str], None] | None = None, resize: bool = True) -> CampaignResult:
    """Check programs `start` .. `start + count - 1` of campaign `seed` with `backend`
    (every `numba_every`-th with Numba instead, if > 0); save failures to `out`. `resize`:
    call each compiled function a second time with the program's resized arguments."""
    result = CampaignResult(count, str(seed))
    began = time.perf_counter()
    for i in range(start, start + count):
        use = "numba" if numba_every and i % numba_every == numba_every - 1 else backend
        result.backends[use] += 1
        # Half the programs write into arrays, half do not (and use expand_dims / squeeze,
        # whose view semantics are a known issue in programs that write).
        failure = _check_one(seed, i, use, inplace and i % 2 == 0, resize)
        if failure is not None:
            result.failures.append(failure)
            if out is not None:
                save_failure(Path(out), str(seed), failure, use)
            if log:
                lines = failure.message.splitlines()
                log(f"[{i}] {failure.kind}: {(lines[1:] or lines)[0].strip()[:160]}")
        if log and (i - start + 1) % 500 == 0:
            result.seconds = time.perf_counter() - began
            log(f"... {i - start + 1}/{count} in {result.seconds:.0f} s; {dict(result.tally())}")
    result.seconds = time.perf_counter() - began
    return result


def _check_one(seed: int | str, index: int, backend: str, inplace: bool,
               resize: bool = True) -> Failure | None:
    try:
        program = generate_program(f"{seed}:{index}", inplace=inplace)
    except Exception:  # noqa: BLE001 - a generator bug is a finding too
        return Failure(index, "generator", None, traceback.format_exc())
    try:
        report = check_program(program, backend, resize=resize)
    except Exception:  # noqa: BLE001 - the harness itself failed: report, never stop
        return Failure(index, "crash", program, traceback.format_exc())
    if report.ok:
        return None
    message = report.message(program.name)
    if report.error is not None and report.kind == "crash":
        message += "\n" + "".join(traceback.format_exception(report.error))[-3000:]
    return Failure(index, classify(report, program, backend), program, message)


def save_failure(folder: Path, seed: str, failure: Failure, backend: str) -> Path:
    """Write the failing program as a standalone reproduction script."""
    folder.mkdir(parents=True, exist_ok=True)
    kind = failure.kind.replace(":", "-")
    path = folder / f"{kind}_{_safe(seed)}_{failure.index}.py"
    header = "\n".join(f"# {line}" for line in failure.message.splitlines())
    body = failure.program.script(backend) if failure.program else ""
    path.write_text(f"# campaign seed {seed!r}, program {failure.index}, backend {backend}\n"
                    f"{header}\n\n{body}")
    return path


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jitgraph.testing.fuzz",
                                     description="Random programs checked against NumPy.")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", default="0")
    parser.add_argument("--start", type=int, default=0, help="first program index")
    parser.add_argument("--backend", default="python", choices=("python", "numba", "reference"))
    parser.add_argument("--numba-every", type=int, default=0,
                        help="compile every K-th program with Numba (0: never)")
    parser.add_argument("--no-inplace", action="store_true", help="no writes into arrays")
    parser.add_argument("--no-resize", action="store_true",
                        help="call each compiled function once (not again with other sizes)")
    parser.add_argument("--out", default="fuzz-failures", help="folder for failing programs")
    args = parser.parse_args(argv)
    result = run_campaign(args.count, args.seed, args.backend, args.numba_every, args.out,
                          args.start, not args.no_inplace, log=lambda m: print(m, flush=True),
                          resize=not args.no_resize)
    print(result.summary())
    if result.failures:
        print(f"failing programs saved to {args.out}/")
    return 1 if result.new_failures else 0


if __name__ == "__main__":
    sys.exit(main())
