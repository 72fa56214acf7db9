"""Run every notebook's tests (nbdev's own runner, notebook by notebook) and count them.

`nbdev_test` prints only `Success.`, and silently "passes" a notebook marked `skip_exec` or sitting
beside a `.notest` file. This runs the same `nbdev.test.test_nb` on each notebook in parallel,
refuses those escapes, prints one line per notebook with its time, and ends with
`N passed, N failed`; the exit code is non-zero when anything failed or nothing ran.

    python tools/test_nbs.py                 # the default (fast) tests
    python tools/test_nbs.py --flags slow    # also the cells flagged `#| slow`
    python tools/test_nbs.py --path nbs/05_train.ipynb
"""
import json, os, sys, time
from pathlib import Path
from fastcore.script import call_parse
from fastcore.parallel import parallel
from nbdev.config import get_config
from nbdev.test import test_nb

def _escape(f:Path):
    "Why notebook `f` would pass without running, or None"
    if any((d/'.notest').exists() for d in [f.parent, *f.parent.parents][:3]): return 'a .notest file would skip it'
    nb = json.loads(f.read_text())
    src = ''.join(''.join(c['source']) for c in nb['cells'][:2])
    if 'skip_exec' in src and 'true' in src.lower(): return 'marked skip_exec'

@call_parse
def main(
    path:str=None,       # A notebook, or a folder of notebooks (default: the project's nbs/)
    flags:str='',        # Space-separated test flags to run as well (e.g. 'slow')
    n_workers:int=2,     # Notebooks run at the same time
):
    cfg = get_config()
    p = Path(path) if path else cfg.nbs_path
    files = sorted(p.rglob('*.ipynb')) if p.is_dir() else [p]
    files = [f.absolute() for f in files if not f.name.startswith('_') and '.ipynb_checkpoints' not in f.parts]
    escaped = {f: _escape(f) for f in files}
    todo = [f for f in files if not escaped[f]]
    skip_flags = [f for f in cfg.tst_flags.split() if f not in flags.split()]
    workers = min(n_workers, len(todo)) if len(todo) > 1 else 0
    # An equal share of the cores for each worker's torch (unless OMP_NUM_THREADS is set): by default every
    # worker starts one thread per core, and oversubscribed OpenMP threads spin and wait on each other. On
    # 2 cores the three tutorials took 661 s with 2 workers that way, 77 s with 1 thread each (one run each).
    if workers > 1: os.environ.setdefault('OMP_NUM_THREADS', str(max(1, len(os.sched_getaffinity(0)) // workers)))
    t0 = time.time()
    results = parallel(test_nb, todo, skip_flags=skip_flags, force_flags=flags.split(), basepath=cfg.config_path,
                       n_workers=workers, progress=False)
    res = dict(zip(todo, results))
    passed = failed = 0
    for f in files:
        if escaped[f]: print(f'FAIL  {f.name}: {escaped[f]}'); failed += 1; continue
        ok, secs = res[f]
        print(f"{'ok  ' if ok else 'FAIL'}  {f.name} ({secs:.0f} s)")
        passed, failed = passed + ok, failed + (not ok)
    print(f'notebooks: {passed} passed, {failed} failed ({time.time() - t0:.0f} s)')
    if failed or not passed: sys.exit(1)
