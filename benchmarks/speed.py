"""Training and inference speed of the engines, side by side and interleaved in one process.

For each data case (the seed sample 700 x 100; synthetic 2,000 x 500 with 5 classes; synthetic 2,000 x 24)
and each engine (the reference float32 loop, the default 'auto', and every option shipped), it times a
fixed number of training steps of a 5-member ensemble (batch 64, own batch order per member, members
run by `run_members` in the engine's threads, as `train_ensemble` does), round-robin over the engines so
that a busy machine slows all alike, and reports medians: training series/s through all members,
inference series/s (512 series, in the engine's batches of at most 256 series and about 32k time steps,
`inference_batch`, and in batches of 256), the ratio to the reference, the achieved convolution GFLOP/s (forward+backward = 3 x forward MACs x 2), and each
engine's memory, measured in a fresh process (Linux): the RSS once data and model are ready, and the peak
RSS during one training step through all members and a prediction of 512 series. Results go to
benchmarks/results/speed.json.

    python benchmarks/speed.py --quick          # fewer repeats (~3 min on 2 cores)
    python benchmarks/speed.py --cases '' --accuracy_seeds 3   # seed-sample test accuracy: reference, default, bf16
    python benchmarks/speed.py --engines 'reference,auto,auto 1-thread'   # a subset of the engines
"""
import gc, json, time, platform, resource, statistics, subprocess, sys
from pathlib import Path
import numpy as np, torch
import torch.nn.functional as F
from fastcore.script import call_parse
from inception_time_nb.data import read_csv, sample_data, synth_ts, Scaler, class_order, encode_labels
from inception_time_nb.ensemble import InceptionTime
from inception_time_nb.engines import resolve_engine, engine_proba, bf16_supported, inference_batch
from inception_time_nb.train import _member_step, run_members
from inception_time_nb.estimator import InceptionTimeClassifier

ENGINES = {  # name: settings for resolve_engine
    'reference':        dict(engine='reference'),
    'auto':             dict(engine='auto'),
    'auto 1-thread':    dict(engine='auto', threads=1),
    'fft fp32':         dict(engine='fast', precision='fp32', conv='fft'),
    'fft bf16':         dict(engine='fast', precision='bf16', conv='fft'),
    'direct fp32':      dict(engine='fast', precision='fp32', conv='direct'),
    'direct bf16':      dict(engine='fast', precision='bf16', conv='direct'),
}

def cpu_name() -> str:
    "The CPU's model name (Linux), else what `platform` knows"
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()

def conv_macs(net, c_in, L) -> int:
    "Multiply-accumulates of the convolutions and the head in one forward pass of one series"
    macs = 0
    for m in net.modules():
        if isinstance(m, torch.nn.Conv1d): macs += m.in_channels * m.out_channels * m.kernel_size[0] * L
        elif isinstance(m, torch.nn.Linear): macs += m.in_features * m.out_features
    return macs

def peak_rss_mb() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def probe_memory(case, engine, models=5, bs=64) -> dict:
    "Peak RSS of a fresh process that loads `case`, trains one step of `engine` through all members and predicts 512 series"
    code = (f"import json, sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import speed; "
            f"print(json.dumps(speed._probe({case!r}, {engine!r}, {models}, {bs})))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])

def _probe(case, engine, models, bs):
    X, y = load_case(case)
    s = make_setup(engine, X, y, models)
    gc.collect(); Path('/proc/self/clear_refs').write_text('5')   # the high-water mark restarts from here (Linux)
    ready = _status_mb('VmRSS')
    train_steps(s, 1, X, y, bs); engine_proba(s['model'], X[:512], s['eng'])
    return dict(ready_rss_mb=round(ready), peak_rss_mb=round(_status_mb('VmHWM')))

def _status_mb(field) -> float:
    "A memory figure of this process from /proc/self/status (Linux), in MB"
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(field + ':')) / 1024

def make_setup(e, X, y, models):
    "An ensemble with the same initial weights for every engine, its optimisers and its members' batch orders"
    n, c_in, L = X.shape
    model = InceptionTime(c_in, int(y.max()) + 1, models, seed=0)
    eng = resolve_engine(**ENGINES[e], device='cpu', seq_len=L)
    fe = None if eng.name == 'reference' else True
    opts = [torch.optim.Adam(m.parameters(), lr=1e-3, foreach=fe) for m in model.members]
    perms = [torch.randperm(n, generator=torch.Generator().manual_seed(1009 + i)) for i in range(models)]
    return dict(model=model, eng=eng, opts=opts, perms=perms, pos=0, train=[], infer=[], infer256=[])

def train_steps(s, k, X, y, bs):
    "`k` training steps of every member, each on its own next batch, through `run_members` as `train_ensemble` does"
    s['model'].train()
    n, members, eng = len(X), s['model'].members, s['eng']
    def step(m, j):
        i = (s['pos'] + j * bs) % (n - bs + 1)
        idx = s['perms'][m][i:i+bs]
        _member_step(members[m], s['opts'][m], X[idx], y[idx], None if eng.name == 'reference' else eng)
    run_members([k] * len(members), step, min(eng.threads, len(members)))
    s['pos'] += k * bs

def load_case(name):
    if name == 'seed 700x100':
        ds = read_csv(sample_data()/'train.csv'); X, y = ds.X, ds.y
    elif name == 'synth 2000x500': X, y = synth_ts(2000, seq_len=500, c_out=5, seed=0)
    else: X, y = synth_ts(2000, seq_len=24, c_out=3, seed=0)
    X = Scaler().fit(X).transform(X)
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(encode_labels(y, class_order(y)))

def bench_case(name, steps, reps, engines, models=5, bs=64):
    X, y = load_case(name)
    n, c_in, L = X.shape
    c_out = int(y.max()) + 1
    setups = {e: make_setup(e, X, y, models) for e in engines}
    Xi = X[:512] if len(X) >= 512 else X
    for s in setups.values(): train_steps(s, 1, X, y, bs); engine_proba(s['model'], Xi[:256], s['eng'])   # warm-up
    for r in range(reps):
        for e, s in setups.items():
            t = time.perf_counter(); train_steps(s, steps, X, y, bs); s['train'].append(steps * bs / (time.perf_counter() - t))
            t = time.perf_counter(); engine_proba(s['model'], Xi, s['eng']); s['infer'].append(len(Xi) / (time.perf_counter() - t))
            t = time.perf_counter(); engine_proba(s['model'], Xi, s['eng'], bs=256); s['infer256'].append(len(Xi) / (time.perf_counter() - t))
    macs = conv_macs(setups[engines[0]]['model'].members[0], c_in, L)
    flop_per_series = 3 * 2 * macs * models
    rows, base = [], statistics.median(setups['reference']['train']) if 'reference' in setups else None
    base_i = statistics.median(setups['reference']['infer']) if 'reference' in setups else None
    base_256 = statistics.median(setups['reference']['infer256']) if 'reference' in setups else None
    for e, s in setups.items():
        tr, inf, i256 = statistics.median(s['train']), statistics.median(s['infer']), statistics.median(s['infer256'])
        rows.append(dict(case=name, engine=e, resolved=repr(s['eng']), train_series_s=round(tr, 1), infer_batch=inference_batch(L),
                         train_ratio=round(tr / base, 2) if base else None, infer_series_s=round(inf, 1),
                         infer_ratio=round(inf / base_i, 2) if base_i else None, infer256_series_s=round(i256, 1),
                         infer256_ratio=round(i256 / base_256, 2) if base_256 else None,
                         **probe_memory(name, e, models, bs),
                         gflops=round(tr * flop_per_series / 1e9, 1), train_runs=[round(v, 1) for v in s['train']],
                         process_peak_rss_mb=round(peak_rss_mb())))
    return rows

ACCURACY_ENGINES = {'reference': dict(engine='reference'), 'auto': dict(engine='auto'),
                    'bf16': dict(engine='fast', precision='bf16')}

def accuracy(seeds, epochs, engines=('reference', 'auto', 'bf16'), lr=1e-3):
    d = sample_data()
    tr, te = read_csv(d/'train.csv'), read_csv(d/'test_data.csv', labelled=False)
    truth = np.array([l.strip() for l in (d/'test_labels.csv').read_text().split()], dtype=object)
    out = []
    for seed in range(seeds):
        for eng in engines:
            clf = InceptionTimeClassifier(epochs=epochs, lr=lr, seed=seed, verbose=False, progress=False, **ACCURACY_ENGINES[eng])
            t = time.perf_counter(); clf.fit(tr); secs = time.perf_counter() - t
            acc = float(np.mean([str(a) == str(b) for a, b in zip(clf.predict(te), truth)]))
            out.append(dict(seed=seed, engine=eng, resolved=repr(clf._engine()), epochs=epochs, lr=lr, test_accuracy=acc, train_seconds=round(secs, 1)))
            print(out[-1], flush=True)
    return out

@call_parse
def main(
    quick:bool=False,       # Fewer repeats and steps
    steps:int=3,            # Training steps (each through all members) per timed run
    reps:int=5,             # Timed runs per engine and case (median reported)
    engines:str='',         # Comma-separated subset of: reference, auto, auto 1-thread, fft fp32, fft bf16, direct fp32, direct bf16
    cases:str='seed 700x100,synth 2000x500,synth 2000x24', # Comma-separated data cases
    accuracy_seeds:int=0,   # Also compare seed-sample test accuracy for this many seeds
    accuracy_engines:str='reference,auto,bf16', # Engines for the accuracy comparison
    epochs:int=10,          # Epochs for the accuracy comparison
    lr:float=1e-3,          # Learning rate for the accuracy comparison (the product's: 1e-4)
    out:str='speed.json',   # Result file in benchmarks/results
):
    if quick: steps, reps = 2, 3
    names = [e.strip() for e in engines.split(',') if e.strip()] or list(ENGINES)
    info = dict(torch=torch.__version__, threads=torch.get_num_threads(), cpu=cpu_name(),
                bf16_native=bf16_supported('cpu'), steps=steps, reps=reps, batch_size=64, models=5)
    print(info)
    rows = []
    for case in [c.strip() for c in cases.split(',') if c.strip()]:
        for r in bench_case(case, steps, reps, names):
            rows.append(r)
            print(f"{r['case']:15s} {r['engine']:12s} train {r['train_series_s']:7.1f}/s x{r['train_ratio']}  "
                  f"infer {r['infer_series_s']:8.1f}/s x{r['infer_ratio']} (batch {r['infer_batch']}), {r['infer256_series_s']:8.1f}/s x{r['infer256_ratio']} (batch 256)  "
                  f"{r['gflops']:6.1f} GFLOP/s  rss {r['ready_rss_mb']} -> peak {r['peak_rss_mb']} MB", flush=True)
    res = dict(info=info, rows=rows)
    if accuracy_seeds:
        acc_engines = [e.strip() for e in accuracy_engines.split(',') if e.strip()]
        res['accuracy'] = acc = accuracy(accuracy_seeds, epochs, acc_engines, lr=lr)
        for eng in acc_engines:
            a = [r['test_accuracy'] for r in acc if r['engine'] == eng]
            print(f"{eng:10s} test accuracy per seed {a}, median {np.median(a):.3f}")
    p = Path(__file__).parent/'results'/out
    p.parent.mkdir(exist_ok=True)
    p.write_text(json.dumps(res, indent=1))
    print('saved', p)
