"""Read time and peak memory of the package's readers against pandas and NumPy, each read in a fresh process.

Files (made once, kept in --dir): a wide training CSV of 20,000 series x 500 steps with 10 classes
(the shape in issue 17, about 90 MB of text), a long-format CSV of the same values (4,000 samples x
5 features x 500 steps), the wide file gzip-compressed (level 1: a compressed file's size is not known
before it is read, so its blocks are kept and moved into one array at the end), and the wide data as
`.npy` (X) and `.npz` (X, y). `iter_csv` streams the wide and the long file in chunks of 10,000 rows
(19 MB of float32 a chunk); its rows' "array" is nothing kept, so their memory is the chunks in flight.

Series of different lengths (issue 18): the same wide values with each row cut to a random length
(250-500 steps, the rest left as empty cells or NaN, as in the UCR 2018 archive), read with
`unequal_length=True`; and the long file with the same cuts (blank x_* cells at the end of a sample's rows).

Each reader runs in its own fresh Python process, `--repeats` times, interleaved; the figures are
medians. Time is the read alone (imports excluded); memory is the process's peak RSS (VmHWM) minus its peak
after the imports, next to the size of the array the read returns. The goal (issue 17): CSV within
1.5x of `pandas.read_csv(header=None, dtype='float32')`, and peak memory at most the final array
plus twice the largest block of text (the 4 MB blocks of the reader the issue measured: 8 MB; the
package now parses 512 KB blocks). With --previous, the reader of the
`main` branch at the time of writing (`git show <rev>:inception_time_nb/data.py`) is measured too.

    flock /tmp/bench.lock python benchmarks/read.py
    flock /tmp/bench.lock python benchmarks/read.py --repeats 5 --previous 17813e1
    cp -r inception_time_nb /tmp/snap && flock /tmp/bench.lock python benchmarks/read.py --pkg /tmp/snap   # this tree, as it is now

Prints a table and writes benchmarks/results/read.json.
"""
import gzip, json, platform, statistics, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd
from fastcore.script import call_parse

RUN = r'''
import json, resource, sys, time
import numpy as np, pandas as pd
sys.path[:0] = {paths!r}
import inception_time_nb.data as D
D._BLOCK = {block} or D._BLOCK
{imports}
def rss(): return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM'))   # this process's peak (ru_maxrss would include the parent's at fork)
base = rss(); t = time.perf_counter()
X = {expr}
X = np.asarray(X.X if hasattr(X, 'X') else X)
dt = time.perf_counter() - t
print(json.dumps(dict(seconds=dt, peak_extra=rss() - base, array=X.nbytes, shape=list(X.shape), sum=float(np.float64(X[:100].sum())))))
'''

def make_unequal(d:Path, n:int, L:int, c_in:int=5, seed:int=1):
    "The unequal-length files in `d` (made once): the wide and long data cut to random lengths"
    uw, ul = d/f'uneq_wide_{n}x{L}.csv', d/f'uneq_long_{n}x{L}.csv'
    if uw.exists() and ul.exists(): return uw, ul
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, L)).astype(np.float32); y = rng.integers(0, 10, n)
    ns = n // c_in
    lens = rng.integers(L // 2, L + 1, ns)
    keep = np.arange(L) < lens.repeat(c_in)[:, None]
    with open(uw, 'w') as f:
        for i in range(ns * c_in):
            tail = ',' * (L - lens[i // c_in]) if i % 2 else ',NaN' * (L - lens[i // c_in])
            f.write(f"{y[i]}," + ','.join(f'{v:.6g}' for v in X[i, :lens[i // c_in]]) + tail + '\n')
    Xl = np.where(keep, X[:ns * c_in], np.nan)
    lf = pd.DataFrame(Xl, columns=[f'x_{i+1}' for i in range(L)])
    hot = np.eye(10, dtype=int)[y[:ns].repeat(c_in)]
    lf.insert(0, 'sample', np.arange(ns).repeat(c_in)); lf.insert(1, 'feature', np.tile(np.arange(1, c_in + 1), ns))
    for k in range(10): lf.insert(2 + k, f'y_{k}', hot[:, k])
    lf.to_csv(ul, index=False, float_format='%.6g', na_rep='')
    return uw, ul

def make_files(d:Path, n:int, L:int, c_in:int=5, seed:int=0):
    "The benchmark's files in `d` (made once)"
    d.mkdir(parents=True, exist_ok=True)
    wide, long, npy, npz = d/f'wide_{n}x{L}.csv', d/f'long_{n}x{L}.csv', d/f'wide_{n}x{L}.npy', d/f'wide_{n}x{L}.npz'
    if all(p.exists() for p in (wide, long, npy, npz)): return wide, long, npy, npz
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, L)).astype(np.float32); y = rng.integers(0, 10, n)
    df = pd.DataFrame(X); df.insert(0, 'y', y)
    df.to_csv(wide, header=False, index=False, float_format='%.6g')
    ns = n // c_in
    lf = pd.DataFrame(X[:ns * c_in], columns=[f'x_{i+1}' for i in range(L)])
    hot = np.eye(10, dtype=int)[y[:ns].repeat(c_in)]
    lf.insert(0, 'sample', np.arange(ns).repeat(c_in)); lf.insert(1, 'feature', np.tile(np.arange(1, c_in + 1), ns))
    for k in range(10): lf.insert(2 + k, f'y_{k}', hot[:, k])
    lf.to_csv(long, index=False, float_format='%.6g')
    np.save(npy, X); np.savez(npz, X=X, y=y)
    return wide, long, npy, npz

def make_gz(f:Path) -> Path:
    "`f` gzip-compressed (level 1), made once"
    gz = f.with_name(f.name + '.gz')
    if not gz.exists(): gz.write_bytes(gzip.compress(f.read_bytes(), compresslevel=1))
    return gz

def measure(paths:list, expr:str, imports:str='', block:int=0) -> dict:
    "One read in a fresh process"
    out = subprocess.run([sys.executable, '-c', RUN.format(paths=[str(p) for p in paths], expr=expr, imports=imports, block=block)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])

@call_parse
def main(
    n:int=20_000,           # Series in the wide file
    seq_len:int=500,        # Time steps
    repeats:int=3,          # Fresh processes per reader
    dir:str='/tmp/inception_time_bench',  # Where the files are made and kept
    previous:str='',        # A git revision whose reader to measure as well (e.g. main)
    pkg:str='',             # A folder with a copy of inception_time_nb to measure instead of the installed one
    block_mb:float=0,       # Block of text the package parses at a time (0: the package's default, 512 KB)
    goal_block_mb:float=4,  # The block of issue 17's goal: peak at most the array plus twice this
    out:str='benchmarks/results/read.json',  # Where to write the figures
):
    d = Path(dir)
    wide, long, npy, npz = make_files(d, n, seq_len)
    uwide, ulong = make_unequal(d, n, seq_len)
    wgz = make_gz(wide)
    imports = ''
    readers = {  # name: (file, expression)
        'wide: package read_csv':           (wide, f"D.read_csv({str(wide)!r})"),
        'wide: pandas.read_csv float32':    (wide, f"pd.read_csv({str(wide)!r}, header=None, dtype='float32').to_numpy()"),
        'wide: package iter_csv (chunks)':  (wide, f"[c.X.shape for c in D.iter_csv({str(wide)!r}, labelled=True)] and np.zeros(1)"),
        'long: package read_csv':           (long, f"D.read_csv({str(long)!r})"),
        'long: package iter_csv (chunks)':  (long, f"[c.X.shape for c in D.iter_csv({str(long)!r}, labelled=True)] and np.zeros(1)"),
        'long: pandas.read_csv float32':    (long, f"pd.read_csv({str(long)!r}, dtype='float32').to_numpy()"),
        'uneq wide: package read_csv':      (uwide, f"D.read_csv({str(uwide)!r}, unequal_length=True)"),
        'uneq wide: pandas.read_csv float32': (uwide, f"pd.read_csv({str(uwide)!r}, header=None, dtype='float32').to_numpy()"),
        'uneq long: package read_csv':      (ulong, f"D.read_csv({str(ulong)!r}, unequal_length=True)"),
        'uneq long: pandas.read_csv float32': (ulong, f"pd.read_csv({str(ulong)!r}, dtype='float32').to_numpy()"),
        'wide gz: package read_csv':        (wgz, f"D.read_csv({str(wgz)!r})"),
        'wide gz: pandas.read_csv float32': (wgz, f"pd.read_csv({str(wgz)!r}, header=None, dtype='float32').to_numpy()"),
        'npy: numpy.load':                  (npy, f"np.load({str(npy)!r})"),
        'npz: package read_csv (mapped)':   (npz, f"D.read_csv({str(npz)!r})"),
        'npz: package read_csv + copy':     (npz, f"np.array(D.read_csv({str(npz)!r}).X)"),
    }
    if previous:
        src = subprocess.run(['git', 'show', f'{previous}:inception_time_nb/data.py'], capture_output=True, text=True, check=True).stdout
        (d/'data_previous.py').write_text(src.replace('from .', 'from inception_time_nb.'))
        imports = 'import data_previous as P'
        readers[f'wide: previous read_csv ({previous})'] = (wide, f"P.read_csv({str(wide)!r})")
        readers[f'long: previous read_csv ({previous})'] = (long, f"P.read_csv({str(long)!r})")
    runs = {k: [] for k in readers}
    for r in range(repeats):
        for k, (f, expr) in readers.items(): runs[k].append(measure([p for p in (pkg, d) if p], expr, imports, int(block_mb * 2**20)))
    rows = []
    for k, rs in runs.items():
        f = readers[k][0]
        rows.append(dict(reader=k, file=f.name, file_mb=f.stat().st_size / 2**20, seconds=statistics.median(r['seconds'] for r in rs),
                         peak_extra_mb=statistics.median(r['peak_extra'] for r in rs) / 2**20, array_mb=rs[0]['array'] / 2**20,
                         shape=rs[0]['shape'], runs=[round(r['seconds'], 3) for r in rs]))
    fmts = ('wide', 'long', 'uneq wide', 'uneq long', 'wide gz')
    ref = {fmt: next(r['seconds'] for r in rows if r['reader'] == f'{fmt}: pandas.read_csv float32') for fmt in fmts}
    print(f"{'reader':42} {'file MB':>8} {'seconds':>8} {'x pandas':>9} {'peak+ MB':>9} {'array MB':>9} {'over MB':>8} {'goal MB':>8}")
    for r in rows:
        fmt = r['reader'].split(':')[0]
        r['x_pandas'] = r['seconds'] / ref[fmt] if fmt in ref else None
        r['goal_mb'] = r['array_mb'] + 2 * goal_block_mb if fmt in ref else None
        r['over_array_mb'] = r['peak_extra_mb'] - r['array_mb']
        print(f"{r['reader']:42} {r['file_mb']:8.1f} {r['seconds']:8.3f} {r['x_pandas'] or float('nan'):9.2f} "
              f"{r['peak_extra_mb']:9.1f} {r['array_mb']:9.1f} {r['over_array_mb']:8.1f} {r['goal_mb'] or float('nan'):8.1f}")
    res = dict(pkg=pkg or 'installed', when=time.strftime('%Y-%m-%d %H:%M:%S'), machine=platform.platform(), python=platform.python_version(),
               pandas=pd.__version__, numpy=np.__version__, n=n, seq_len=seq_len, repeats=repeats, block_mb=block_mb or 'default',
               goal_block_mb=goal_block_mb, rows=rows)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(res, indent=1))
    print(f"wrote {out}")
