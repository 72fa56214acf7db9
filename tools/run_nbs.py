"""Execute notebooks in place and store their outputs, so the documentation shows them.

nbdev renders the outputs stored in a notebook; it does not execute it. This runs each notebook the way
`nbdev_test` does (execnb's CaptureShell in the notebook's folder; cells flagged with a `tst_flags` flag
such as `#| slow` and `#| eval: false` cells are skipped and keep whatever output they stored), then
writes the outputs and cleans the notebook with `nbdev_clean`, so the result is what CI expects.
A notebook whose run fails is left untouched and reported.

Outputs must not change from one run to the next (else every run is a diff). Memory addresses are
removed by nbdev_clean; this also drops fastprogress bars (HTML with timings), makes temporary
folder names and ephemeral ports stable (`/tmp/tmpXXXXXXXX`, `127.0.0.1:<port>`), seeds `random`, numpy and torch with 0 before the first
cell, and runs each notebook with one torch thread (`OMP_NUM_THREADS=1`) so float results do not
depend on the scheduler. Explicit `show_doc(...)` cells store no output (nbdev re-makes it). `--check` runs every
notebook twice into a scratch folder and lists the cells whose outputs differ (timings, random
seeds left unset ...), changing nothing.

    python tools/run_nbs.py nbs/01_inception.ipynb nbs/02_network.ipynb   # write outputs
    python tools/run_nbs.py --all                                          # every notebook in nbs/
    python tools/run_nbs.py --check nbs/01_inception.ipynb                 # determinism check only
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TMP = re.compile(r'(/tmp/|\\Temp\\|/var/folders/[^/]+/[^/]+/T/)tmp[a-z0-9_]{8}')
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')
PORT = re.compile(r'\b(127\.0\.0\.1|localhost|0\.0\.0\.0):(3[2-9]\d{3}|[4-6]\d{4})\b')   # an ephemeral port (Linux: 32768-60999)

def _stable(t:str) -> str: return PORT.sub(r'\1:<port>', TMP.sub(r'\1tmpXXXXXXXX', t))

def _text(v): return ''.join(v) if isinstance(v, list) else (v or '')

def scrub_outputs(outputs):
    "Outputs without what changes between identical runs: progress bars, temporary folder names, ANSI codes"
    res = []
    for o in outputs:
        data = o.get('data', {})
        html = _text(data.get('text/html', ''))
        if '<progress' in html or 'fastprogress' in html: continue                 # a progress bar (timings)
        if o.get('output_type') == 'stream':
            txt = ANSI.sub('', _stable(_text(o.get('text'))))
            if not txt: continue
            o = {**o, 'text': txt}
        for k, v in list(data.items()):
            if k.startswith('text/'): data[k] = _stable(_text(v))
        res.append(o)
    return res

SEEDS = '\n'.join(['import random as _r; _r.seed(0)', 'try:', '    import numpy as _np; _np.random.seed(0)', 'except ImportError: pass',
                   'try:', '    import torch as _t; _t.manual_seed(0)', 'except ImportError: pass'])   # the same seeds at every run
SHOW_DOC = re.compile(r'(\s*#\|.*\n)*\s*show_doc\([^\n]*\)\s*')

def store_outputs(nb):
    "Scrub the outputs of every code cell; explicit `show_doc(...)` cells keep none (nbdev's processing re-makes them)"
    for c in nb.cells:
        if c.cell_type == 'code' and c.get('outputs'):
            c.outputs = [] if SHOW_DOC.fullmatch(c.source) else scrub_outputs([dict(o) for o in c.outputs])

def run_one(path:Path, dest:Path, skip_flags:set, mpl_format:str):
    "Execute notebook `path` (in its own folder) and write it with outputs to `dest`; -> (ok, seconds, message)"
    code = f'''
import json, os, re, sys
from pathlib import Path
from fastcore.xtras import working_directory
from fastcore.basics import AttrDict
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbdev.process import extract_directives
sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
from run_nbs import SEEDS, store_outputs
src, dest, flags = Path({str(path)!r}), Path({str(dest)!r}), set({sorted(skip_flags)!r})
nb = read_nb(src)
def skip(cell):
    if cell.cell_type != 'code': return True
    if 'nbdev_export(' in cell.source: return True
    d = extract_directives(AttrDict(source=cell.source), remove=False)
    if d.get('eval:', [''])[0].lower() == 'false': return True
    if flags & set(d): return True
    cell.outputs = []                          # a cell that now prints nothing must not keep old output
    return False
k = CaptureShell(src, mpl_format={mpl_format!r})
k.run(SEEDS)
with working_directory(src.parent):
    try: k.run_all(nb, exc_stop=True, preproc=skip)
    except BaseException as e:
        try: print(k.prettytb(fname=src), file=sys.stderr)
        except Exception: import traceback; traceback.print_exc()
        sys.exit(1)
store_outputs(nb)
write_nb(nb, dest)
'''
    env = {**os.environ, 'IN_TEST': '1', 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1'),
           'PYTHONHASHSEED': '0', 'MPLBACKEND': 'module://matplotlib_inline.backend_inline'}
    t0 = time.time()
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd=path.parent)
    if r.returncode: return False, time.time() - t0, (r.stderr.strip()[-1500:] or 'failed')
    subprocess.run([sys.executable, '-c', f'from nbdev.clean import nbdev_clean; nbdev_clean(fname={str(dest)!r})'],
                   check=True, capture_output=True, cwd=path.parent)
    return True, time.time() - t0, ''

def outputs_of(path):
    "[(cell index, outputs as JSON)] of a notebook's code cells"
    nb = json.loads(Path(path).read_text())
    return [(i, json.dumps(c.get('outputs', []), sort_keys=True)) for i, c in enumerate(nb['cells']) if c['cell_type'] == 'code']

def _lines(outputs_json):
    "The visible text lines of a cell's outputs (images as one line each)"
    res = []
    for o in json.loads(outputs_json):
        if 'text' in o: res += _text(o['text']).splitlines()
        for k, v in o.get('data', {}).items():
            res += _text(v).splitlines() if k.startswith('text/') else [f'<{k}, {len(_text(v))} bytes>']
    return res

def first_diff(a, b):
    "The first line that differs between two runs' outputs of a cell"
    la, lb = _lines(a), _lines(b)
    for x, y in zip(la, lb):
        if x != y: return f'{x.strip()[:90]!r} vs {y.strip()[:90]!r}'
    return f'{len(la)} vs {len(lb)} output lines'

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to run (default with --all: every notebook in nbs/)')
    ap.add_argument('--all', action='store_true', help="every notebook in the project's nbs/ (except _ files)")
    ap.add_argument('--check', action='store_true', help='run twice into a scratch copy and report cells whose outputs differ; write nothing')
    ap.add_argument('--flags', default='', help="tst_flags to run as well (e.g. 'slow'); their cells' outputs are then refreshed too")
    ap.add_argument('--n-workers', type=int, default=2, help='notebooks run at the same time')
    ap.add_argument('--mpl-format', default='png', help="matplotlib inline format ('png', 'retina', 'svg')")
    a = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from nbdev.config import get_config
    cfg = get_config()
    files = [Path(f).resolve() for f in a.notebooks]
    if a.all: files += [f.resolve() for f in sorted(cfg.nbs_path.rglob('*.ipynb'))
                        if not any(p.startswith(('_', '.')) for p in f.relative_to(cfg.nbs_path).parts)]
    if not files: ap.error('no notebooks given (pass paths or --all)')
    skip = set(cfg.get('tst_flags', '').split()) - set(a.flags.split())
    scratch = Path(tempfile.mkdtemp(prefix='run_nbs_'))
    def job(f):
        if not a.check:
            dest = scratch/f.name
            ok, secs, msg = run_one(f, dest, skip, a.mpl_format)
            if ok: shutil.copyfile(dest, f)
            return f, ok, secs, msg
        runs = []
        for k in (1, 2):
            dest = scratch/f'{f.stem}.run{k}.ipynb'
            ok, secs, msg = run_one(f, dest, skip, a.mpl_format)
            if not ok: return f, False, secs, msg
            runs.append(dict(outputs_of(dest)))
        diffs = [f'cell {i}: {first_diff(runs[0][i], runs[1][i])}' for i in runs[0] if runs[0][i] != runs[1][i]]
        return f, not diffs, secs, '; '.join(diffs)
    t0, failed = time.time(), 0
    with ThreadPoolExecutor(max(1, a.n_workers)) as ex:
        for f, ok, secs, msg in ex.map(job, files):
            failed += not ok
            what = ('deterministic' if ok else 'NOT deterministic') if a.check else ('outputs written' if ok else 'FAILED, left unchanged')
            print(f"{'ok  ' if ok else 'FAIL'}  {f.relative_to(cfg.config_path) if f.is_relative_to(cfg.config_path) else f}: {what} ({secs:.0f} s)" + (f'\n      {msg}' if msg else ''), flush=True)
    shutil.rmtree(scratch, ignore_errors=True)
    print(f'run_nbs: {len(files) - failed} ok, {failed} failed ({time.time() - t0:.0f} s)')
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
