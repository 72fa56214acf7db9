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

Reported per dataset and arm: test accuracy, training time (`fit`, wall clock and the process's CPU time:
on a shared machine the CPU time is the steadier figure) and prediction time, and the padding waste: the
share of the time steps the network computes on that are padding. For `exact`, the estimator's own
`padding_waste_` (each batch padded to its own longest series, over the members' batch orders); for `zero`,
the zeros appended to every series; resampling adds no padding but changes the number of steps
(`steps_ratio`: steps computed per true step). A model trained on unequal lengths refuses lengths outside
those it saw; JapaneseVowels' test split has one series longer than any training series, so the `exact` arm
predicts it with the range widened to the test split's (the masked network takes any length), counts it
(`out_of_range`) and reports the accuracy on the series inside the range too. Before each arm, one untimed
epoch of one network runs on the same data (lazy setup is not timed).

The budget: the paper's network (filters 32, depth 6, 5 models, kernel 40, lr 1e-3) for 20 epochs (the
paper: 1500) with batch size 16 (one of the paper's ablation values; with 64, PickupGestureWiimoteZ's 50
training series are one batch, one step an epoch), one torch thread. Results are merged into
benchmarks/results/unequal.json, one entry per dataset, arm and seed, so that each arm runs under the lock
on its own:

    pip download aeon==1.6.0 --no-deps -d /tmp/aeon          # the .ts files are taken from the wheel
    for arm in exact zero resample_max resample_median eq; do flock /tmp/bench.lock python benchmarks/unequal.py --arms $arm; done
    python benchmarks/unequal.py --table_only                 # the table of what is in the results file
"""
import glob, json, platform, subprocess, sys, tempfile, time, zipfile
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
    "A markdown table: per dataset and arm, test accuracy (median over seeds), training time and padding waste"
    rows = ['| dataset | arm | series length | test accuracy | train s (wall) | train s (CPU) | padding waste | steps / true step |',
            '|---|---|---|---|---|---|---|---|']
    notes = []
    for name in DATASETS:
        for arm in ARMS:
            es = [e for e in res.get('runs', []) if e['dataset'] == name and e['arm'] == arm]
            if not es: continue
            med = lambda k: float(np.median([e[k] for e in es]))
            e0 = es[0]
            L = (f"{e0['train_shape'][2]} (masked)" if arm == 'exact' else f"{e0['train_shape'][2]}")
            each = ', '.join(f"{e['accuracy']:.3f}" for e in es)
            acc = (f"{med('accuracy'):.3f} ({e0['correct']}/{e0['n_test']})" if len(es) == 1 else
                   f"{med('accuracy'):.3f} (seeds: {each})")
            w, r = e0.get('padding_waste'), e0.get('steps_ratio')
            rows.append(f"| {name} | {arm} | {L} | {acc} | {med('train_s'):.0f} | {med('train_cpu_s'):.0f} | "
                        f"{'-' if w is None else f'{w:.1%}'} | {'-' if r is None else f'{r:.2f}'} |")
            if 'out_of_range' in e0:
                o = e0['out_of_range']
                notes.append(f"{name}, {arm}: {o['n']} test series outside the trained lengths {o['trained'][0]}-{o['trained'][1]} "
                             f"(test: {o['test'][0]}-{o['test'][1]}), predicted with the range widened; accuracy on the series "
                             f"inside it {e0['accuracy_in_range']:.3f}")
    notes += [f"{k}: the paper's {v} on the archive's equal-length version" for k, v in PAPER.items()]
    b = res.get('budget')
    if b: notes.append('budget: ' + ', '.join(f'{k} {v}' for k, v in b.items()) + f"; torch threads {res.get('torch_threads')}")
    out = '\n'.join(rows) + '\n\n' + '\n'.join(f'* {n}' for n in notes)
    if res.get('side_by_side'):
        b = res['side_by_side_budget']
        out += (f"\n\nTraining time side by side (round-robin in one process, {res['side_by_side'][0]['reps']} rounds of "
                f"{b['epochs']} epochs each, medians; CPU seconds, and the ratio to zero padding):\n\n| dataset | " +
                ' | '.join(a for a in ARMS if a in res['side_by_side'][0]) + ' |\n|---|' + '---|' * sum(a in res['side_by_side'][0] for a in ARMS))
        for t in res['side_by_side']:
            out += f"\n| {t['dataset']} | " + ' | '.join(f"{t[a]['cpu_s']:.1f} s ({t[a]['cpu_vs_zero']:.2f}x)" for a in ARMS if a in t) + ' |'
    return out

def side_by_side(name:str, d:dict, d_eq:dict|None, arms:list, budget:dict, reps:int) -> dict:
    "Training time of `arms`, round-robin in one process (`reps` rounds, so that a busy machine slows all alike): medians and ratios to `zero`"
    data = {a: arm_data(a, d, d_eq)[:2] for a in arms}
    wall, cpu = {a: [] for a in arms}, {a: [] for a in arms}
    for r in range(reps + 1):
        for a in arms:
            clf = InceptionTimeClassifier(**budget, seed=0, verbose=False, progress=False, unequal_length=a == 'exact')
            c0, t0 = time.process_time(), time.perf_counter(); clf.fit(*data[a])
            if r: wall[a].append(time.perf_counter() - t0); cpu[a].append(time.process_time() - c0)   # round 0 warms up
    med = lambda v: float(np.median(v))
    return dict(dataset=name, epochs=budget['epochs'], reps=reps,
                **{a: dict(wall_s=round(med(wall[a]), 2), cpu_s=round(med(cpu[a]), 2),
                           cpu_vs_zero=round(med(cpu[a]) / med(cpu['zero']), 3) if 'zero' in arms else None,
                           wall_vs_zero=round(med(wall[a]) / med(wall['zero']), 3) if 'zero' in arms else None) for a in arms})

def _commit() -> str|None:
    "The checked-out commit the figures were measured with (None outside a git checkout)"
    try: return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=Path(__file__).parent).stdout.strip() or None
    except OSError: return None

def _default_source() -> str|None:
    found = sorted(glob.glob('/tmp/aeon/aeon-*.whl'))
    return found[-1] if found else None

@call_parse
def main(
    source:str=None,        # aeon's wheel (default: /tmp/aeon/aeon-*.whl) or a folder with NAME/NAME_TRAIN.ts ...
    datasets:str=','.join(DATASETS), # Comma-separated dataset names
    arms:str=','.join(ARMS), # Comma-separated arms
    seeds:str='0',          # Comma-separated seeds; every arm gets the same
    epochs:int=20,          # Training epochs (the paper: 1500)
    models:int=5,           # Networks in the ensemble (the paper: 5)
    filters:int=32,         # Filters per branch (the paper: 32)
    depth:int=6,            # Modules per network (the paper: 6)
    batch_size:int=16,      # Mini-batch size (the paper: 64; 16 in its ablations)
    lr:float=1e-3,          # Adam's learning rate (the paper: 1e-3)
    threads:int=1,          # torch threads (0 = torch's default; on 2 shared cores 1 spins least)
    out:str=str(RESULTS),   # Results file (entries merged in)
    table_only:bool=False,  # Print the table of the results file and exit
    timing_reps:int=0,      # Instead of the runs: time `arms` side by side, round-robin, this many rounds of `timing_epochs`
    timing_epochs:int=2,    # Epochs of each timed fit in `timing_reps` mode
):
    out = Path(out)
    if table_only: print(table(json.loads(out.read_text()))); return
    if threads: torch.set_num_threads(threads)
    source = source or _default_source()
    if source is None: sys.exit('no data: pip download aeon==1.6.0 --no-deps -d /tmp/aeon, or pass --source')
    budget = dict(epochs=epochs, models=models, filters=filters, depth=depth, batch_size=batch_size, lr=lr)
    entries, cache = [], tempfile.TemporaryDirectory()
    if timing_reps:
        res = []
        for name in datasets.split(','):
            d = load(source, name, cache=Path(cache.name))
            d_eq = load(source, name, eq=True, cache=Path(cache.name)) if 'eq' in arms.split(',') else None
            res.append(side_by_side(name, d, d_eq, arms.split(','), dict(budget, epochs=timing_epochs), timing_reps))
            print(json.dumps(res[-1]), flush=True)
        old = json.loads(out.read_text()) if out.exists() else {}
        atomic_write(out, json.dumps(dict(old, side_by_side=res, side_by_side_budget=dict(budget, epochs=timing_epochs), side_by_side_commit=_commit()), indent=1) + '\n')
        cache.cleanup(); return
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
                torch_threads=torch.get_num_threads(), torch=torch.__version__, commit=_commit())
    cache.cleanup()
    _merge(entries, meta, out)
    print(table(json.loads(out.read_text())))
