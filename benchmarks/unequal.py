"""Series of different lengths: exact masking against zero padding and resampling, same budget and seeds.

On the unequal-length UCR/UEA sets that ship inside aeon's wheel (JapaneseVowels: 12 channels, 7-29 steps;
PickupGestureWiimoteZ: univariate, 29-361 steps), each arm trains the same network with the same seed and
epochs, and is scored on the test split:

* `exact`: `InceptionTimeClassifier(unequal_length=True)` on the NaN-padded series (masks of the true steps);
* `zero`: every series zero-padded to the longest of train and test, without masks (what users do by hand);
* `resample_max` / `resample_median`: every series linearly interpolated to the longest, or to the median
  training length;
* `eq`: the archive's own equal-length version (`NAME_eq_{TRAIN,TEST}.ts`), for JapaneseVowels the version
  the paper's 0.992 was measured on.

Reported per dataset and arm: test accuracy, training time (wall clock of `fit`) and prediction time, and
the padding waste: the share of the time steps the network computes on that are padding. For `exact` these
are the padded steps of the training batches (each batch padded to its own longest series, the members'
own random orders; counted here the way `train_ensemble` batches), for `zero` the zeros appended to every
series; resampling adds no padding but changes the number of steps (`steps_ratio`: steps computed per true
step). Results are merged into benchmarks/results/unequal.json, one entry per dataset, arm and seed, so
that each arm can run under the lock on its own:

    pip download aeon==1.6.0 --no-deps -d /tmp/aeon          # the .ts files are taken from the wheel
    flock /tmp/bench.lock python benchmarks/unequal.py --arms exact
    flock /tmp/bench.lock python benchmarks/unequal.py --arms zero
    python benchmarks/unequal.py --table_only                     # the table of what is in the results file
"""
import glob, json, platform, sys, tempfile, time, zipfile
from pathlib import Path
import numpy as np, torch
from fastcore.script import call_parse
from inception_time_nb.data import atomic_write, read_ts, series_lengths
from inception_time_nb.estimator import InceptionTimeClassifier

RESULTS = Path(__file__).parent/'results'/'unequal.json'
DATASETS = ('JapaneseVowels', 'PickupGestureWiimoteZ')
ARMS = ('exact', 'zero', 'resample_max', 'resample_median', 'eq')
PAPER = {'JapaneseVowels': 0.992}   # InceptionTime on the archive's equal-length version, as the issue quotes it

# ---------------------------------------------------------------------------------------------------------------
# Data: the .ts files from aeon's wheel (or a folder holding NAME/NAME_TRAIN.ts ...), read by `read_ts`

def ts_file(source:str, name:str, split:str, eq:bool=False, cache:Path|None=None) -> Path:
    "The file `NAME[_eq]_{split}.ts` in folder `source`, or extracted from aeon's wheel `source` into `cache`"
    fname = f"{name}{'_eq' if eq else ''}_{split}.ts"
    p = Path(source)
    if p.is_dir():
        for f in (p/name/fname, p/fname):
            if f.exists(): return f
        raise FileNotFoundError(f"{source}: no {name}/{fname}")
    out = Path(cache or tempfile.mkdtemp())/fname
    with zipfile.ZipFile(p) as z: out.write_bytes(z.read(f'aeon/datasets/data/{name}/{fname}'))
    return out

def load(source:str, name:str, eq:bool=False, cache:Path|None=None) -> dict:
    "Train and test split of dataset `name` (`read_ts`): NaN-padded series, labels, true lengths"
    out = {}
    for split in ('TRAIN', 'TEST'):
        d = read_ts(ts_file(source, name, split, eq, cache))
        out[split.lower()] = (d.X, d.y, lengths_of(d.X))
    return out

def lengths_of(X:np.ndarray) -> np.ndarray:
    "True length of each series: `series_lengths`, or the full length for equal-length data"
    L = series_lengths(X)
    return np.full(len(X), X.shape[2], np.int64) if L is None else L

# ---------------------------------------------------------------------------------------------------------------
# The arms' inputs

def zero_pad(X:np.ndarray, L:int) -> np.ndarray:
    "NaN-padded series zero-padded to `L` steps (no mask: the zeros are data to the network)"
    out = np.zeros((len(X), X.shape[1], L), dtype=np.float32)
    out[:, :, :X.shape[2]] = np.nan_to_num(X[:, :, :L], nan=0.0)
    return out

def resample(X:np.ndarray, lengths:np.ndarray, L:int) -> np.ndarray:
    "Each series linearly interpolated from its true steps to `L` steps (ends kept)"
    out = np.empty((len(X), X.shape[1], L), dtype=np.float32)
    t = np.linspace(0, 1, L)
    for i, n in enumerate(lengths):
        src = np.linspace(0, 1, n) if n > 1 else np.zeros(1)
        for c in range(X.shape[1]): out[i, c] = np.interp(t, src, X[i, c, :n]) if n > 1 else X[i, c, 0]
    return out

def arm_data(arm:str, d:dict, d_eq:dict|None=None):
    "Training and test series for `arm`, the padding waste of its training steps and the steps computed per true step"
    (Xtr, ytr, ltr), (Xte, yte, lte) = d['train'], d['test']
    true = ltr.sum()
    if arm == 'eq':
        (Xtr, ytr, _), (Xte, yte, _) = d_eq['train'], d_eq['test']
        return Xtr, ytr, Xte, yte, dict(padding_waste=None, steps_ratio=Xtr.shape[0] * Xtr.shape[2] / true)
    L = max(Xtr.shape[2], Xte.shape[2])                   # the longest series of train and test
    if arm == 'zero':
        return zero_pad(Xtr, L), ytr, zero_pad(Xte, L), yte, dict(padding_waste=float(1 - true / (len(Xtr) * L)),
                                                                 steps_ratio=len(Xtr) * L / true)
    if arm.startswith('resample'):
        L = L if arm == 'resample_max' else int(np.median(ltr))
        return (resample(Xtr, ltr, L), ytr, resample(Xte, lte, L), yte,
                dict(padding_waste=0.0, steps_ratio=len(Xtr) * L / true, resampled_to=L))
    if arm == 'exact': return Xtr, ytr, Xte, yte, {}
    raise ValueError(f'arm {arm!r}: expected one of {ARMS}')

# ---------------------------------------------------------------------------------------------------------------
# Running and reporting

def run_arm(arm:str, name:str, d:dict, d_eq:dict|None, budget:dict, seed:int) -> dict:
    "Train and score one arm with one seed"
    Xtr, ytr, Xte, yte, info = arm_data(arm, d, d_eq)
    kw = dict(budget, seed=seed, verbose=False, progress=False)
    if arm == 'exact': kw['unequal_length'] = True
    clf = InceptionTimeClassifier(**kw)
    c0, t0 = time.process_time(), time.perf_counter(); clf.fit(Xtr, ytr)
    t_fit, c_fit = time.perf_counter() - t0, time.process_time() - c0
    if arm == 'exact':
        info['padding_waste'] = clf.padding_waste_                  # measured by train_ensemble on the members' batch orders
        info['steps_ratio'] = 1 / (1 - clf.padding_waste_) if clf.padding_waste_ is not None else 1.0
        lte = d['test'][2]
        out = (lte < clf.min_length_) | (lte > clf.max_length_)
        if out.any():   # the model refuses lengths it never saw; the masked network itself takes any length
            info['out_of_range'] = dict(n=int(out.sum()), trained=[int(clf.min_length_), int(clf.max_length_)],
                                        test=[int(lte.min()), int(lte.max())])
            clf.min_length_, clf.max_length_ = min(clf.min_length_, int(lte.min())), max(clf.max_length_, int(lte.max()))
    t0 = time.perf_counter(); pred = clf.predict(Xte); t_pred = time.perf_counter() - t0
    ok = pred == yte
    inside = (d['test'][2] >= d['train'][2].min()) & (d['test'][2] <= d['train'][2].max())  # test lengths seen in training
    return dict(dataset=name, arm=arm, seed=seed, accuracy=round(float(ok.mean()), 4), correct=int(ok.sum()), n_test=len(yte),
                accuracy_in_range=round(float(ok[inside].mean()), 4), train_s=round(t_fit, 2), train_cpu_s=round(c_fit, 2),
                predict_s=round(t_pred, 3), train_shape=list(Xtr.shape),
                **{k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v) for k, v in info.items()})

def _merge(entries:list, meta:dict, out:Path=RESULTS):
    "Add `entries` to the results file `out`, replacing those of the same dataset, arm and seed"
    old = json.loads(out.read_text()) if out.exists() else {}
    keep = {(e['dataset'], e['arm'], e['seed']): e for e in old.get('runs', [])}
    keep.update({(e['dataset'], e['arm'], e['seed']): e for e in entries})
    runs = sorted(keep.values(), key=lambda e: (e['dataset'], ARMS.index(e['arm']), e['seed']))
    atomic_write(out, json.dumps(dict(old, **meta, runs=runs), indent=1) + '\n')

def table(res:dict) -> str:
    "A markdown table: per dataset and arm, median accuracy over seeds, training time and padding waste"
    rows = ['| dataset | arm | test accuracy (median, seeds) | train s (median) | padding waste | steps / true step |',
            '|---|---|---|---|---|---|']
    for name in DATASETS:
        for arm in ARMS:
            es = [e for e in res.get('runs', []) if e['dataset'] == name and e['arm'] == arm]
            if not es: continue
            acc = np.median([e['accuracy'] for e in es]); t = np.median([e['train_s'] for e in es])
            w = es[0].get('padding_waste'); r = es[0].get('steps_ratio')
            seeds = ', '.join(f"{e['accuracy']:.3f}" for e in es)
            extra = f" (to {es[0]['resampled_to']})" if 'resampled_to' in es[0] else ''
            rows.append(f"| {name} | {arm}{extra} | {acc:.3f} ({seeds}) | {t:.1f} | "
                        f"{'-' if w is None else f'{w:.1%}'} | {'-' if r is None else f'{r:.2f}'} |")
    if PAPER: rows.append('\n' + '; '.join(f"{k}: the paper's {v} on the equal-length version" for k, v in PAPER.items()))
    return '\n'.join(rows)

def _default_source() -> str|None:
    found = sorted(glob.glob('/tmp/aeon/aeon-*.whl'))
    return found[-1] if found else None

@call_parse
def main(
    source:str=None,        # aeon's wheel (default: /tmp/aeon/aeon-*.whl) or a folder with NAME/NAME_TRAIN.ts ...
    datasets:str=','.join(DATASETS), # Comma-separated dataset names
    arms:str='zero,resample_max,resample_median,eq', # Comma-separated arms (`exact` needs the estimator's unequal_length)
    seeds:str='0',          # Comma-separated seeds; every arm gets the same
    epochs:int=30,          # Training epochs (the paper: 1500)
    models:int=5,           # Networks in the ensemble (the paper: 5)
    filters:int=32,         # Filters per branch (the paper: 32)
    depth:int=6,            # Modules per network (the paper: 6)
    batch_size:int=64,      # Mini-batch size (the paper: 64)
    lr:float=1e-3,          # Adam's learning rate (the paper: 1e-3)
    threads:int=0,          # torch threads (0 = torch's default)
    out:str=str(RESULTS),   # Results file (entries merged in)
    table_only:bool=False,  # Print the table of the results file and exit
):
    out = Path(out)
    if table_only: print(table(json.loads(out.read_text()))); return
    if threads: torch.set_num_threads(threads)
    source = source or _default_source()
    if source is None: sys.exit('no data: pip download aeon==1.6.0 --no-deps -d /tmp/aeon, or pass --source')
    budget = dict(epochs=epochs, models=models, filters=filters, depth=depth, batch_size=batch_size, lr=lr)
    entries, cache = [], tempfile.TemporaryDirectory()
    for name in datasets.split(','):
        d = load(source, name, cache=Path(cache.name))
        d_eq = load(source, name, eq=True, cache=Path(cache.name)) if 'eq' in arms.split(',') else None
        for arm in arms.split(','):
            warm = dict(budget, epochs=1, models=1)   # one untimed epoch of one network first: lazy setup is not timed
            run_arm(arm, name, d, d_eq, warm, 0)
            for seed in (int(s) for s in seeds.split(',')):
                e = run_arm(arm, name, d, d_eq, budget, seed)
                print(json.dumps(e), flush=True)
                entries.append(e)
    meta = dict(budget=budget, source=Path(source).name, cpu=platform.processor() or platform.machine(),
                torch_threads=torch.get_num_threads(), torch=torch.__version__)
    cache.cleanup()
    _merge(entries, meta, out)
    print(table(json.loads(out.read_text())))
