"""Data at the scale of the paper's scalability experiment (issue 17, sections 2 and 3).

Synthetic univariate data, 10 classes, shaped like the paper's satellite series (46 steps) at 10k, 100k and
1M series, and series of 500 steps at 10k and 100k (`--sets`), as a wide training CSV, an inference CSV
(no labels) and `.npy`. Every measurement runs in a fresh process; its peak RSS is the child's
`ru_maxrss` (`os.wait4`, the whole process: interpreter, libraries and data), and `extra` is the part above
the process's RSS after its imports (VmHWM; the data and the work).

* **read**: time and peak RSS of the package's `read_csv`, `pandas.read_csv(header=None, dtype='float32')`
  (the reference) and `numpy.load` of the `.npy`;
* **train**: `InceptionTimeClassifier().fit` from the CSV with the paper's network and default settings (5
  members, 32 filters, depth 6, batch 64), one epoch. A whole epoch is long on 2 CPU cores (15,625 steps at
  1M series), so the epoch is cut to its first `--train-steps` batches (the batches come from the full set;
  everything else, the scaler, the checks, the data's way to the device, covers all n): the time of those
  steps gives the time per step, and the extrapolated epoch is `setup + steps_per_epoch x time_per_step`;
* **predict**: `predict_file` streaming the inference CSV (`chunk_rows`) into a predictions file: series/s and
  peak RSS. The network's cost is not the point here, its streaming is: a small model (`--pred-*`, trained
  on 2,000 series for one epoch) unless told otherwise; memory should not grow with n;
* **ddp**: `torchrun` with gloo on the CPU, 1 process against 2 (`--ddp-set`): each reads the training CSV
  (`distributed.read_shared`: one conversion to a cached `.npy` per machine, memory-mapped by every
  process; or each process its own `read_csv`, as before) and fits `InceptionTimeClassifier` for `--ddp-steps`
  steps of a small network (filters 8, depth 3, 1 member; the estimator keeps the data on the host and scales
  each batch when it is used). Each
  process reports its PSS and RSS (`/proc/self/smaps_rollup`) after a warm-up on a small random set and
  again after the data and the steps, all processes alive: the data's memory is the sum over processes of
  the growth. RSS counts a shared page once per process that maps it; PSS divides it among them.

Each part (read, train, predict, ddp; about 2-5 minutes each) takes `/tmp/bench.lock` for itself (`--lock`;
`--scope measurement`: each measurement, the three readers of one set together), so that other benchmarks can run
between them: run it plainly, NOT under `flock` (which would hold the lock the script waits for):

    python benchmarks/scale.py                       # everything, about 10-15 minutes on 2 cores
    python benchmarks/scale.py --parts read --sets 10000x46,100000x46

Prints a markdown table and writes benchmarks/results/scale.json.
"""
import fcntl, json, math, os, platform, statistics, subprocess, sys, tempfile, time
from contextlib import contextmanager
from pathlib import Path
from fastcore.script import call_parse

HERE = Path(__file__).resolve().parent
PRE = r'''
import json, sys, time
sys.path[:0] = {paths!r}
def hwm(): return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM'))
'''
GEN = PRE + r'''
import numpy as np, pandas as pd
n, L, d, test = {n}, {L}, {dir!r}, {test!r}
from pathlib import Path
csv, tst, npy = Path(d)/f'scale_{{n}}x{{L}}.csv', Path(d)/f'scale_{{n}}x{{L}}_test.csv', Path(d)/f'scale_{{n}}x{{L}}.npy'
rng = np.random.default_rng(0)
y = rng.integers(0, 10, n)
t = np.linspace(0, 1, L, dtype=np.float32)
for a in range(0, n, 100_000):   # in blocks: the generator's memory stays small
    yb = y[a:a+100_000]
    X = (np.sin(2 * np.pi * (1 + yb[:, None] / 3) * t) + 0.3 * rng.standard_normal((len(yb), L))).astype(np.float32)
    df = pd.DataFrame(X)
    if test: df.to_csv(str(tst) + '.part', header=False, index=False, float_format='%.5g', mode='a' if a else 'w')
    df.insert(0, 'y', yb)
    df.to_csv(str(csv) + '.part', header=False, index=False, float_format='%.5g', mode='a' if a else 'w')
    with open(str(npy) + '.part', 'r+b' if a else 'wb') as f:
        if not a: np.lib.format.write_array_header_1_0(f, dict(descr='<f4', fortran_order=False, shape=(n, L)))
        f.seek(0, 2); f.write(X.tobytes())
for p in (csv, npy) + ((tst,) if test else ()): Path(str(p) + '.part').replace(p)
print(json.dumps({{}}))
'''
READ = PRE + r'''
import numpy as np, pandas as pd
import inception_time_nb.data as D
base = hwm(); t = time.perf_counter()
X = {expr}
X = np.asarray(X.X if hasattr(X, 'X') else X)
print(json.dumps(dict(seconds=time.perf_counter() - t, extra=hwm() - base, array=X.nbytes)))
'''
TRAIN = PRE + r'''
import math
import inception_time_nb.train as T
from inception_time_nb.data import read_csv
from inception_time_nb.estimator import InceptionTimeClassifier
steps, spans = {steps}, []
_batches, _run_members = T._batches, T.run_members
T._batches = lambda *a, **k: _batches(*a, **k)[:steps]          # the epoch's first `steps` batches
def timed(*a, **k):
    t = time.perf_counter(); r = _run_members(*a, **k); spans.append(time.perf_counter() - t); return r
T.run_members = timed                                             # times the epoch's steps (all members)
base = hwm(); t0 = time.perf_counter()
d = read_csv({csv!r})
t1 = time.perf_counter()
clf = InceptionTimeClassifier(epochs=1, seed=0, verbose=False, progress=False, device='cpu', **{arch!r}).fit(d)
t2 = time.perf_counter()
if {model!r}: clf.save({model!r})
n, bs = len(d), clf.batch_size
print(json.dumps(dict(read_s=t1 - t0, fit_s=t2 - t1, steps_s=spans[0], steps=steps, epoch_steps=math.ceil(n / bs),
                      extra=hwm() - base)))
'''
MODEL = PRE + r'''
import numpy as np
from inception_time_nb.data import read_csv
from inception_time_nb.estimator import InceptionTimeClassifier
d = read_csv({csv!r})
InceptionTimeClassifier(epochs=1, seed=0, verbose=False, progress=False, device='cpu', **{arch!r}).fit(d.X[:2000], d.y[:2000]).save({model!r})
print(json.dumps({{}}))
'''
PREDICT = PRE + r'''
from inception_time_nb.inference import predict_file, load_model
clf = load_model({model!r})
base = hwm(); t = time.perf_counter()
n = predict_file(clf, {input!r}, {output!r}, chunk_rows={chunk_rows})
print(json.dumps(dict(seconds=time.perf_counter() - t, extra=hwm() - base, n=n)))
'''
DDP = PRE + r'''
import os, numpy as np, torch
from pathlib import Path
import inception_time_nb.train as T
from inception_time_nb.data import read_csv
from inception_time_nb.estimator import InceptionTimeClassifier
from inception_time_nb.distributed import init_distributed, read_shared, barrier, rank, world_size
mode, csv, cache, out, steps = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]), int(sys.argv[5])
def mem():
    m = {{l.split(':')[0]: int(l.split()[1]) * 1024 for l in open('/proc/self/smaps_rollup') if ':' in l and l.split()[-1] == 'kB'}}
    return dict(rss=m['Rss'], pss=m['Pss'], pss_anon=m.get('Pss_Anon', 0), pss_file=m.get('Pss_File', 0), hwm=hwm())
init_distributed('cpu')
_batches = T._batches
T._batches = lambda *a, **k: _batches(*a, **k)[:steps]
L = int(Path(csv).stem.split('x')[-1])
def clf(): return InceptionTimeClassifier(filters={filters}, depth={depth}, models={models}, epochs=1, batch_size=64, seed=0, device='cpu',
                                          verbose=False, progress=False)
rng = np.random.default_rng(0)
clf().fit(rng.standard_normal((640, 1, L)).astype(np.float32), np.arange(640) % 10)   # warm-up: libraries, threads, allocator
barrier(); m0 = mem(); barrier()
t = time.perf_counter()
d = read_shared(csv, cache=cache) if mode == 'shared' else read_csv(csv)
t_read = time.perf_counter() - t
clf().fit(d)                  # the estimator: the data stays on the host, each batch scaled when it is used
barrier(); m1 = mem(); barrier()
(out/f'rank{{rank()}}.json').write_text(json.dumps(dict(before=m0, after=m1, read_s=t_read, memmap=isinstance(d.X, np.memmap),
                                                       world=world_size(), n=len(d))))
'''

@contextmanager
def _locked(lock:str):
    "Hold `lock` (flock) for one measurement; nothing when `lock` is empty"
    if not lock: yield; return
    with open(lock, 'a') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try: yield
        finally: fcntl.flock(f, fcntl.LOCK_UN)

def _run(argv:list, lock:str='', env=None) -> tuple:
    "Run `argv` (under `lock`); its last line of output as JSON and its peak RSS in bytes (`ru_maxrss` of that child)"
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err, _locked(lock):
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0); err.seek(0)
        if p.returncode: raise RuntimeError(f"{argv[:3]} failed ({p.returncode}):\n{err.read()[-3000:]}")
        lines = out.read().strip().splitlines()
        return json.loads(lines[-1]) if lines else {}, ru.ru_maxrss * 1024

def _py(code:str, lock:str='') -> tuple: return _run([sys.executable, '-c', code], lock)

def _sets(s:str) -> list: return [tuple(int(v) for v in x.split('x')) for x in s.split(',') if x]

MB = 2**20

def _ddp(nproc:int, mode:str, csv:Path, d:Path, paths, steps:int, arch:dict, lock:str) -> dict:
    "One `torchrun` job of `nproc` processes; the summed memory of its processes"
    run = Path(tempfile.mkdtemp(dir=d)); cache = run/'cache'
    (run/'ddp.py').write_text(DDP.format(paths=paths, **arch))
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': ''}
    t = time.perf_counter()
    _, peak = _run([str(Path(sys.executable).parent/'torchrun'), '--standalone', f'--nproc_per_node={nproc}', str(run/'ddp.py'),
                    mode, str(csv), str(cache), str(run), str(steps)], lock, env)
    wall = time.perf_counter() - t
    rs = [json.loads((run/f'rank{r}.json').read_text()) for r in range(nproc)]
    tot = lambda when, k: sum(r[when][k] for r in rs)
    row = dict(part='ddp', processes=nproc, read=mode if nproc > 1 else 'read_csv (one process)', n=rs[0]['n'],
               memmap=rs[0]['memmap'], read_s=max(r['read_s'] for r in rs), wall_s=wall,
               pss_data_mb=(tot('after', 'pss') - tot('before', 'pss')) / MB, rss_data_mb=(tot('after', 'rss') - tot('before', 'rss')) / MB,
               pss_total_mb=tot('after', 'pss') / MB, rss_total_mb=tot('after', 'rss') / MB,
               peak_rss_sum_mb=sum(r['after']['hwm'] for r in rs) / MB,
               cache_files=sorted(p.name for p in cache.iterdir()) if cache.exists() else [], per_process=rs)
    for p in sorted(run.rglob('*'), reverse=True): p.unlink() if p.is_file() else p.rmdir()
    run.rmdir()
    return row

def _table(rows:list):
    "The figures as markdown tables"
    R = [r for r in rows if r['part'] == 'read']
    if R:
        print("\n| series x steps | CSV MB | reader | seconds | x pandas | peak RSS MB | above imports MB | array MB |\n|---|---|---|---|---|---|---|---|")
        for r in R:
            ref = next(x['seconds'] for x in R if (x['n'], x['seq_len']) == (r['n'], r['seq_len']) and x['what'].startswith('pandas'))
            print(f"| {r['n']:,} x {r['seq_len']} | {r['file_mb']:.0f} | {r['what']} | {r['seconds']:.2f} | {r['seconds'] / ref:.2f} | "
                  f"{r['peak_rss_mb']:.0f} | {r['extra_mb']:.0f} | {r['array_mb']:.0f} |")
    T = [r for r in rows if r['part'] == 'train']
    if T:
        print("\n| series x steps | epoch (cut) | read s | setup s | s per step | extrapolated epoch | peak RSS MB |\n|---|---|---|---|---|---|---|")
        for r in T:
            print(f"| {r['n']:,} x {r['seq_len']} | {r['steps']} of {r['epoch_steps']:,} steps | {r['read_s']:.1f} | {r['setup_s']:.1f} | "
                  f"{r['step_s']:.2f} | {r['epoch_s_extrapolated'] / 3600:.2f} h | {r['peak_rss_mb']:.0f} |")
    Pr = [r for r in rows if r['part'] == 'predict']
    if Pr:
        print("\n| series x steps | prediction | seconds | series/s | peak RSS MB |\n|---|---|---|---|---|")
        for r in Pr: print(f"| {r['n']:,} x {r['seq_len']} | {r['what']} | {r['seconds']:.1f} | {r['series_per_s']:,.0f} | {r['peak_rss_mb']:.0f} |")
    D = [r for r in rows if r['part'] == 'ddp']
    if D:
        one = next((r for r in D if r['processes'] == 1), None)
        print("\n| torchrun | data | processes | PSS for the data MB | x one process | RSS for the data MB | PSS total MB | RSS total MB | cache files |\n|---|---|---|---|---|---|---|---|---|")
        for r in D:
            x = r['pss_data_mb'] / one['pss_data_mb'] if one else float('nan')
            print(f"| {r['n']:,} series | {r['read']} | {r['processes']} | {r['pss_data_mb']:.0f} | {x:.2f} | {r['rss_data_mb']:.0f} | "
                  f"{r['pss_total_mb']:.0f} | {r['rss_total_mb']:.0f} | {len(r['cache_files'])} |")

@call_parse
def main(
    sets:str='10000x46,100000x46,1000000x46,10000x500,100000x500',  # Data sets, n x seq_len, comma-separated
    parts:str='read,train,predict,ddp',  # What to measure
    repeats:int=3,          # Fresh processes per read measurement (the median is kept); 1 for sets above `repeat_max` values
    repeat_max:int=5_000_000, # Sets with more values than this are read once
    train_steps:int=6,      # Steps of the cut epoch (series of up to 100 steps)
    train_steps_long:int=2, # Steps of the cut epoch for longer series (a step of the paper's network at 500 steps takes ~30 s here)
    predict_sets:str='10000x46,100000x46,10000x500',  # The sets batch prediction streams
    pred_filters:int=4,     # Prediction model: filters per branch
    pred_depth:int=3,       # Prediction model: Inception modules
    pred_models:int=1,      # Prediction model: ensemble members
    pred_ks:int=10,         # Prediction model: largest kernel
    chunk_rows:int=10_000,  # predict_file's chunk
    ddp_set:str='1000000x46', # The set the torchrun memory measurement reads
    ddp_steps:int=10,       # Training steps of each torchrun job (a small network: filters 8, depth 3, 1 member)
    dir:str='/tmp/inception_time_bench',  # Where the files are made and kept
    lock:str='/tmp/bench.lock',  # Lock held for each part or measurement ('' for none)
    scope:str='part',       # 'part': the lock is held for each part (read, train, ...); 'measurement': for each measurement
    out:str='benchmarks/results/scale.json',  # Where to write the figures
    pkg:str='',             # A folder with a copy of inception_time_nb to measure instead of the installed one
):
    d = Path(dir); d.mkdir(parents=True, exist_ok=True)
    paths, todo, rows = ([pkg] if pkg else []), parts.split(','), []
    S, P, (dn, dL) = _sets(sets), _sets(predict_sets), _sets(ddp_set)[0]
    f = lambda n, L, kind='': d/f'scale_{n}x{L}{kind}'
    for n, L in dict.fromkeys(S + (P if 'predict' in todo else []) + ([(dn, dL)] if 'ddp' in todo else [])):
        test = (n, L) in P
        if not (f(n, L, '.csv').exists() and f(n, L, '.npy').exists() and (not test or f(n, L, '_test.csv').exists())):
            print(f"making {n:,} x {L} ...", flush=True); _py(GEN.format(paths=paths, n=n, L=L, dir=str(d), test=test))
    def add(row): rows.append(row); print(json.dumps({k: v for k, v in row.items() if k != 'per_process'}), flush=True)
    parts_lock = lock if scope == 'part' else ''
    lock = '' if scope == 'part' else lock
    if 'read' in todo:
      with _locked(parts_lock):
        for n, L in S:
            csv, npy = f(n, L, '.csv'), f(n, L, '.npy')
            jobs = {'package read_csv': f"D.read_csv({str(csv)!r})",
                    'pandas.read_csv float32': f"pd.read_csv({str(csv)!r}, header=None, dtype='float32').to_numpy()",
                    'numpy.load (.npy)': f"np.load({str(npy)!r})"}
            runs = {k: [] for k in jobs}
            with _locked(lock):         # the three readers side by side, in turns
                for _ in range(repeats if n * L <= repeat_max else 1):
                    for k, e in jobs.items(): runs[k].append(_py(READ.format(paths=paths, expr=e)))
            for k, rs in runs.items():
                add(dict(part='read', n=n, seq_len=L, what=k, file_mb=csv.stat().st_size / MB, seconds=statistics.median(r['seconds'] for r, _ in rs),
                         peak_rss_mb=statistics.median(p for _, p in rs) / MB, extra_mb=statistics.median(r['extra'] for r, _ in rs) / MB,
                         array_mb=rs[0][0]['array'] / MB, runs=[round(r['seconds'], 3) for r, _ in rs]))
    if 'train' in todo:
      with _locked(parts_lock):
        for n, L in S:
            steps = train_steps if L <= 100 else train_steps_long
            r, peak = _py(TRAIN.format(paths=paths, csv=str(f(n, L, '.csv')), steps=steps, arch={}, model=''), lock)
            per_step = r['steps_s'] / steps
            setup = r['fit_s'] - r['steps_s']
            add(dict(part='train', n=n, seq_len=L, what=f"paper's network, {steps} of {r['epoch_steps']:,} steps", steps=steps,
                     epoch_steps=r['epoch_steps'], read_s=r['read_s'], setup_s=setup, step_s=per_step,
                     epoch_s_extrapolated=setup + per_step * r['epoch_steps'], peak_rss_mb=peak / MB, extra_mb=r['extra'] / MB))
    if 'predict' in todo:
      with _locked(parts_lock):
        arch = dict(filters=pred_filters, depth=pred_depth, models=pred_models, ks=pred_ks)
        for n, L in P:
            model = d/f"scale_pred_model_{pred_filters}_{pred_depth}_{pred_models}_{pred_ks}_{L}"
            if not (model/'config.json').exists(): _py(MODEL.format(paths=paths, csv=str(f(min(n for n, l in P if l == L), L, '.csv')), arch=arch, model=str(model)))
            r, peak = _py(PREDICT.format(paths=paths, model=str(model), input=str(f(n, L, '_test.csv')), output=str(d/'scale_pred.csv'), chunk_rows=chunk_rows), lock)
            add(dict(part='predict', n=n, seq_len=L, what=f"predict_file, chunks of {chunk_rows:,} (model {pred_filters}/{pred_depth}/{pred_models}, ks {pred_ks})",
                     seconds=r['seconds'], series_per_s=n / r['seconds'], peak_rss_mb=peak / MB, extra_mb=r['extra'] / MB))
    if 'ddp' in todo:
      with _locked(parts_lock):
        arch = dict(filters=8, depth=3, models=1)
        for nproc, mode in ((1, 'read_csv'), (2, 'shared'), (2, 'read_csv')):
            add(_ddp(nproc, mode, f(dn, dL, '.csv'), d, paths, ddp_steps, arch, lock))
    _table(rows)
    res = dict(pkg=pkg or 'installed', when=time.strftime('%Y-%m-%d %H:%M:%S'), machine=platform.platform(), python=platform.python_version(),
               cores=os.cpu_count(), load=os.getloadavg(), settings=dict(sets=sets, train_steps=train_steps, train_steps_long=train_steps_long,
               pred=dict(filters=pred_filters, depth=pred_depth, models=pred_models, ks=pred_ks, chunk_rows=chunk_rows),
               ddp=dict(set=ddp_set, steps=ddp_steps), repeats=repeats), rows=rows)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(res, indent=1))
    print(f"wrote {out}")
