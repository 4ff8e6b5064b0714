"""Before/after in one run: a bench of this tree against the same bench of an earlier commit.

    .venv/bin/python bench/ab.py --rev ed059fe --bench webhooks --rounds 2

Checks `--rev` out into a temporary worktree, then runs `bench/<name>.py` alternately from
that tree (before) and from this one (after), `--rounds` times each, on the same machine and
stores, so both sides see the same conditions; prints each run's output. Extra arguments
after `--` go to the bench. Needs the environment the bench needs (DATABASE_URL, REDIS_URL).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(tree: Path, bench: str, extra: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, f"bench/{bench}.py", *extra],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout + (result.stderr[-2000:] if result.returncode else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", required=True, help="the commit to compare against")
    parser.add_argument("--bench", required=True, help="a bench/ script name, e.g. webhooks")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("extra", nargs="*", help="arguments for the bench (after --)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        before = Path(tmp) / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(before), args.rev],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            for round_no in range(1, args.rounds + 1):
                for label, tree in (("before", before), ("after", ROOT)):
                    print(
                        f"===== round {round_no}: {label} ({args.rev if label == 'before' else 'this tree'})"
                    )
                    print(_run(tree, args.bench, args.extra), flush=True)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
