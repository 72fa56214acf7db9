"""Reading and batch prediction at the scale of the paper's scalability experiment (issue 17, section 3).

Synthetic univariate data, 10 classes, 46 steps (the satellite series of the paper), at 10k, 100k and
1M series (`--sizes`), as a wide training CSV and as `.npy`. Each measurement runs in a fresh
process; figures are medians of `--repeats` runs.

* read: time and peak RSS (above the process's RSS after its imports) of the package's `read_csv`,
  `pandas.read_csv(header=None, dtype='float32')` and `numpy.load`;
* batch prediction: `predict_file` streaming the inference CSV (`chunk_rows` 10,000) into a predictions file,
  series/s and peak RSS, with a small model (`--filters 8 --depth 3 --models 1`, trained on 2,000
  series for one epoch: the point is the streaming, not the network's cost) unless told otherwise.
  Memory should stay flat as n grows.

The training part of section 3 (one epoch of the paper's network) belongs to the estimator's work
and is not measured here.

    flock /tmp/bench.lock python benchmarks/scale.py
    flock /tmp/bench.lock python benchmarks/scale.py --sizes 10000,100000 --repeats 1

Prints a table and writes benchmarks/results/scale.json.
"""
import json, platform, statistics, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd
from fastcore.script import call_parse

READ = r'''
import json, resource, sys, time
sys.path[:0] = {paths!r}
import numpy as np, pandas as pd
import inception_time_nb.data as D
def rss(): return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM'))   # this process's peak (ru_maxrss would include the parent's at fork)
base = rss(); t = time.perf_counter()
X = {expr}
X = np.asarray(X.X if hasattr(X, 'X') else X)
print(json.dumps(dict(seconds=time.perf_counter() - t, peak_extra=rss() - base, array=X.nbytes)))
'''
PREDICT = r'''
import json, resource, sys, time
sys.path[:0] = {paths!r}
from inception_time_nb.inference import predict_file, load_model
def rss(): return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM'))   # this process's peak (ru_maxrss would include the parent's at fork)
clf = load_model({model!r})
base = rss(); t = time.perf_counter()
n = predict_file(clf, {input!r}, {output!r}, chunk_rows={chunk_rows})
print(json.dumps(dict(seconds=time.perf_counter() - t, peak_extra=rss() - base, n=n)))
'''

def _run(code:str) -> dict:
    "Run `code` in a fresh process; its last line of output, as JSON"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    if out.returncode: raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])

def make_files(d:Path, n:int, L:int=46, seed:int=0):
    "A wide training CSV, the same series as an inference CSV (no labels) and as .npy (made once)"
    csv, test, npy = d/f'scale_{n}x{L}.csv', d/f'scale_{n}x{L}_test.csv', d/f'scale_{n}x{L}.npy'
    if csv.exists() and test.exists() and npy.exists(): return csv, test, npy
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    t = np.linspace(0, 1, L, dtype=np.float32)
    X = (np.sin(2 * np.pi * (1 + y[:, None] / 3) * t) + 0.3 * rng.standard_normal((n, L))).astype(np.float32)
    df = pd.DataFrame(X)
    df.to_csv(test, header=False, index=False, float_format='%.5g')
    df.insert(0, 'y', y)
    df.to_csv(csv, header=False, index=False, float_format='%.5g')
    np.save(npy, X)
    return csv, test, npy

@call_parse
def main(
    sizes:str='10000,100000,1000000',  # Numbers of series, comma-separated
    seq_len:int=46,         # Time steps
    repeats:int=3,          # Fresh processes per measurement
    dir:str='/tmp/inception_time_bench',  # Where the files are made and kept
    filters:int=8,          # Prediction model: filters per branch
    depth:int=3,            # Prediction model: Inception modules
    models:int=1,           # Prediction model: ensemble members
    chunk_rows:int=10_000,  # predict_file's chunk
    predict_max:int=100_000, # Predict only the sizes up to this (CPU prediction of 1M series takes long)
    predict_repeats:int=1,  # Fresh processes per prediction
    out:str='benchmarks/results/scale.json',  # Where to write the figures
    pkg:str='',             # A folder with a copy of inception_time_nb to measure instead of the installed one
):
    d = Path(dir); d.mkdir(parents=True, exist_ok=True)
    ns, paths = [int(s) for s in sizes.split(',')], [pkg] if pkg else []
    files = {n: make_files(d, n, seq_len) for n in ns}
    model = d/f'scale_model_{filters}_{depth}_{models}_{seq_len}'
    if not (model/'config.json').exists():
        from inception_time_nb.data import read_csv
        from inception_time_nb.estimator import InceptionTimeClassifier
        tr = read_csv(files[ns[0]][0])
        InceptionTimeClassifier(filters=filters, depth=depth, models=models, epochs=1, seed=0, verbose=False,
                                progress=False).fit(tr.X[:2000], tr.y[:2000]).save(model)
    rows = []
    for n in ns:
        csv, test, npy = files[n]
        jobs = {'read: package read_csv': READ.format(paths=paths, expr=f"D.read_csv({str(csv)!r})"),
                'read: pandas.read_csv float32': READ.format(paths=paths, expr=f"pd.read_csv({str(csv)!r}, header=None, dtype='float32').to_numpy()"),
                'read: numpy.load (.npy)': READ.format(paths=paths, expr=f"np.load({str(npy)!r})"),
                'predict_file (CSV, streamed)': PREDICT.format(paths=paths, model=str(model), input=str(test), output=str(d/'scale_pred.csv'), chunk_rows=chunk_rows)}
        if n > predict_max: jobs.pop('predict_file (CSV, streamed)')
        runs = {k: [] for k in jobs}
        for r in range(repeats):
            for k, code in jobs.items():
                if not k.startswith('predict') or r < predict_repeats: runs[k].append(_run(code))
        for k, rs in runs.items():
            s = statistics.median(r['seconds'] for r in rs)
            rows.append(dict(n=n, seq_len=seq_len, what=k, file_mb=csv.stat().st_size / 2**20, seconds=s,
                             peak_extra_mb=statistics.median(r['peak_extra'] for r in rs) / 2**20,
                             array_mb=rs[0].get('array', 0) / 2**20, series_per_s=n / s if k.startswith('predict') else None,
                             runs=[round(r['seconds'], 3) for r in rs]))
    print(f"{'n':>9} {'what':32} {'file MB':>8} {'seconds':>8} {'x pandas':>9} {'peak+ MB':>9} {'array MB':>9} {'series/s':>10}")
    for r in rows:
        ref = next(x['seconds'] for x in rows if x['n'] == r['n'] and x['what'].startswith('read: pandas'))
        r['x_pandas'] = r['seconds'] / ref if r['what'].startswith('read') else None
        print(f"{r['n']:9,} {r['what']:32} {r['file_mb']:8.1f} {r['seconds']:8.2f} {r['x_pandas'] or float('nan'):9.2f} "
              f"{r['peak_extra_mb']:9.1f} {r['array_mb']:9.1f} {r['series_per_s'] or float('nan'):10,.0f}")
    res = dict(pkg=pkg or 'installed', when=time.strftime('%Y-%m-%d %H:%M:%S'), machine=platform.platform(), python=platform.python_version(),
               settings=dict(filters=filters, depth=depth, models=models, chunk_rows=chunk_rows, repeats=repeats), rows=rows)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(res, indent=1))
    print(f"wrote {out}")
