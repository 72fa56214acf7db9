"""Prediction speed: the reference loop against the fused, folded ensemble, side by side in one process.

The paper's network (5 members, filters 32, depth 6, univariate, 3 classes), briefly fitted on synthetic
series of each length (one epoch: the speed does not depend on the weights). For every length (24, 100,
500) and request size (1, 16, 256 series; and 512 series at 100 steps) it times
`InceptionTimeClassifier.predict_proba` with

* `reference`: the plain float32 loop, each member's own `forward` (`engine='reference'`);
* `members` (with `--members`): the fast engine member by member, `fast_forward` as in training (what
  predicted before the fused path: `fused=False`);
* `fused`: the default, the `FusedEnsemble` with its wide convolution chosen by `fused_conv`;

and, at the engine level (`fused_model(model)(x, conv)` in `fused_batch` chunks, no estimator around it),
the fused network with each wide convolution forced (`fused fft`, `fused ols`, `fused direct`), for the requests of
1 and 16 series that `fused_conv` decides between: in a second round after the pair above, with a fused network of
their own (its cached spectra, up to ~70 MB for two FFT lengths, would otherwise crowd the CPU caches of the default
path's between its calls; ratios against the pair's reference). Round-robin over the variants at every repetition so
that a busy machine slows all alike; each sample is the mean of enough calls to last ~0.2 s; medians of
the repetitions. Also the largest difference of the fused probabilities from the reference's, and the
machine's load average at the start and the end (the 2 cores are shared: a load far above 2 slows
everything, the reference's many small operations most, with 2 threads that wait on each other).

`--ragged 29-361,200-500` also times NaN-padded requests (`--ragged_n` series of random lengths in each range, issue 18's
representation) through an estimator fitted with `unequal_length=True`: the reference, the fused path with chunks sized for
the longest series (`bs=fused_batch(longest)`, how every chunk was sized before issue 16's chunking by length), and the default
(chunks sorted by length, each rounded up to one of 8 lengths per octave and sized by its own longest). Rows under `ragged`.

`--extras` also measures, at 100 steps, bfloat16 (the fused network cast to bfloat16, direct convolutions) and
`torch.compile` of the fused network, with their largest probability differences. Torch threads as the
estimator uses them (PyTorch's default). Run under the benchmark lock:

    flock /tmp/bench.lock python benchmarks/predict.py            # ~10 min on 2 busy cores
    flock /tmp/bench.lock python benchmarks/predict.py --reps 3 --lengths 100 --sizes 1,512 --out predict_100.json
    flock /tmp/bench.lock python benchmarks/predict.py --reps 3 --lengths 100 --extras
    flock /tmp/bench.lock python benchmarks/predict.py --lengths 1000 --sizes 1,16,64 --out predict_1000.json
    flock /tmp/bench.lock python benchmarks/predict.py --ragged 29-361,200-500

Results go to benchmarks/results/predict.json (overwritten).
"""
import dataclasses, json, os, platform, statistics, time
from datetime import datetime, timezone
from pathlib import Path
import numpy as np, torch
from fastcore.script import call_parse
from inception_time_nb.data import synth_ts
from inception_time_nb.engines import Engine, resolve_engine, fused_model, fused_batch, bf16_supported, FusedEnsemble
try: from inception_time_nb.estimator import InceptionTimeClassifier
except ImportError: from inception_time_nb.train import InceptionTimeClassifier

def cpu_name() -> str:
    try: return next(l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name'))
    except (OSError, StopIteration): return platform.processor() or platform.machine()

def fitted(L:int, seed:int=0) -> InceptionTimeClassifier:
    "The paper's 5-member network fitted for one epoch on 64 synthetic series of `L` steps"
    X, y = synth_ts(64, seq_len=L, c_out=3, seed=seed)
    return InceptionTimeClassifier(epochs=1, seed=seed, device='cpu', verbose=False, progress=False).fit(X, y)

def with_engine(clf, eng:Engine):
    "A view of `clf` (same model and scaler) that predicts with `eng`"
    view = object.__new__(type(clf)); view.__dict__.update(clf.__dict__)
    view._engine = lambda: eng
    return view

def fused_proba(clf, X, conv, fz=None):
    "The fused network's probabilities (`fz`, default the model's cached one) with the wide convolution forced, chunked as `engine_proba` chunks"
    x = torch.as_tensor(clf.scaler_.transform(X), dtype=torch.float32)
    fz, bs = fz or fused_model(clf.model_), fused_batch(x.shape[-1])
    return torch.cat([fz(x[i:i+bs], conv=conv).softmax(-1) for i in range(0, len(x), bs)], 1).mean(0).numpy()

def sample(fn, k:int) -> float:
    "Seconds per call of `fn`, the mean of `k` calls"
    t = time.perf_counter()
    for _ in range(k): fn()
    return (time.perf_counter() - t) / k

def bench_point(clf, L, n, reps, variants, ref_ms=None, X=None):
    "Rows for each of `variants` (a dict that holds 'reference', or `ref_ms`: the reference's median measured in the pair before), on `X` (default: `n` synthetic series of `L` steps)"
    X = synth_ts(n, seq_len=L, seed=1)[0] if X is None else X
    fns = {name: (lambda f=f: f(X)) for name, f in variants.items()}
    ref = fns['reference']() if 'reference' in fns else with_engine(clf, Engine('reference')).predict_proba(X)
    diffs = {name: float(np.abs(fn() - ref).max()) for name, fn in fns.items()}   # also the warm-up
    ks = {name: max(1, round(0.2 / sample(fn, 1))) for name, fn in fns.items()}
    ts = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items(): ts[name].append(sample(fn, ks[name]))
    med = {name: statistics.median(v) for name, v in ts.items()}
    ref_s = med['reference'] if 'reference' in med else ref_ms / 1e3
    return [dict(seq_len=L, series=n, variant=name, ms=round(med[name] * 1e3, 3), series_s=round(n / med[name], 1),
                 vs_reference=round(ref_s / med[name], 2), max_abs_diff=diffs[name], calls_per_sample=ks[name],
                 samples_ms=[round(t * 1e3, 3) for t in ts[name]]) for name in fns]

def ragged_set(n:int, lo:int, hi:int, seed:int) -> tuple:
    "`n` synthetic series of random lengths `lo`..`hi`, NaN-padded to `hi` (issue 18's representation), and their labels"
    X, y = synth_ts(n, seq_len=hi, c_out=3, seed=seed)
    lens = np.random.default_rng(seed).integers(lo, hi + 1, n)
    X = X.copy(); X[np.arange(hi)[None, None, :] >= lens[:, None, None]] = np.nan
    return X, y

def bench_ragged(lo:int, hi:int, n:int, reps:int) -> list:
    "Rows for a NaN-padded request of `n` series of `lo`..`hi` steps: the reference, the fused path in chunks sized for the longest series (as before issue 16's chunking by length), and the default"
    X, y = ragged_set(64, lo, hi, 0)
    clf = InceptionTimeClassifier(epochs=1, seed=0, device='cpu', verbose=False, progress=False, unequal_length=True).fit(X, y)
    fused = with_engine(clf, resolve_engine(seq_len=hi))
    variants = {'reference': with_engine(clf, Engine('reference')).predict_proba,
                'fused, chunks of the longest': lambda X: fused.predict_proba(X, bs=fused_batch(hi)),
                'fused': fused.predict_proba}
    rows = bench_point(clf, hi, n, reps, variants, X=ragged_set(n, lo, hi, 1)[0])
    for r in rows: r['lengths'] = f'{lo}-{hi}'
    return rows

def cast(fz, dtype):
    "A copy of fused network `fz` with every weight in `dtype` (its spectra forgotten)"
    c = object.__new__(type(fz)); c.__dict__.update(fz.__dict__)
    to = lambda t: None if t is None else t.to(dtype)
    c.stages = [dataclasses.replace(st, wb=to(st.wb), ww=to(st.ww), bw=to(st.bw), wp=to(st.wp), bp=to(st.bp), ws=to(st.ws), bs=to(st.bs), spectra={})
                for st in fz.stages]
    c.fc_w, c.fc_b = to(fz.fc_w), to(fz.fc_b)
    return c

def measure_extras(clf, reps):
    "bfloat16 and torch.compile of the fused network at 100 steps, against its float32 self"
    out = []
    fz = fused_model(clf.model_)
    fz16, comp = cast(fz, torch.bfloat16), {}
    for n in (1, 16):
        x = torch.as_tensor(clf.scaler_.transform(synth_ts(n, seq_len=100, seed=2)[0]), dtype=torch.float32)
        def bf16(): return fz16(x, 'direct').float()   # every convolution and product in bfloat16 (oneDNN, AVX-512-BF16)
        t0 = time.perf_counter()
        comp[n] = torch.compile(lambda v: fz(v), dynamic=False); ref = fz(x).softmax(-1)
        got = comp[n](x).softmax(-1); compile_s = time.perf_counter() - t0
        fns = {'fused fp32': lambda: fz(x), 'fused bf16 direct': bf16, 'fused compiled': lambda: comp[n](x)}
        diffs = {'fused fp32': 0.0, 'fused bf16 direct': float((bf16().softmax(-1) - ref).abs().max()),
                 'fused compiled': float((got - ref).abs().max())}
        ks = {k: max(1, round(0.2 / sample(f, 1))) for k, f in fns.items()}
        ts = {k: [] for k in fns}
        for _ in range(reps):
            for k, f in fns.items(): ts[k].append(sample(f, ks[k]))
        base = statistics.median(ts['fused fp32'])
        for k in fns:
            m = statistics.median(ts[k])
            out.append(dict(seq_len=100, series=n, variant=k, ms=round(m * 1e3, 3), vs_fp32=round(base / m, 2),
                            max_abs_diff=diffs[k], **(dict(compile_s=round(compile_s, 1)) if k == 'fused compiled' else {})))
            print(f"  extras  L=100 n={n:3d} {k:18s} {m*1e3:9.2f} ms  x{base/m:5.2f} vs fp32  max |dp| {diffs[k]:.1e}", flush=True)
    return out

@call_parse
def main(
    reps:int=5,                  # Interleaved repetitions (median reported)
    lengths:str='24,100,500',    # Series lengths
    sizes:str='1,16,256,512',    # Series per request
    members:bool=False,          # Also the fast engine member by member (`fused=False`)
    extras:bool=False,           # Also bfloat16 and torch.compile of the fused network (100 steps)
    out:str='predict.json',      # Result file in benchmarks/results (rewritten after every point)
    threads:int=0,               # Torch threads (0: PyTorch's default, as the estimator uses them)
    ragged:str='',               # Also NaN-padded requests of random lengths, e.g. '29-361,200-500' (lo-hi, comma-separated)
    ragged_n:int=256,            # Series per ragged request
):
    if threads: torch.set_num_threads(threads)
    info = dict(torch=torch.__version__, threads=torch.get_num_threads(), cpu=cpu_name(), bf16_native=bf16_supported('cpu'),
                reps=reps, models=5, filters=32, depth=6, started=datetime.now(timezone.utc).isoformat(timespec='seconds'),
                loadavg_start=[round(v, 2) for v in os.getloadavg()])
    print(info, flush=True)
    rows, extra, rag = [], [], []
    p = Path(__file__).parent/'results'/out
    p.parent.mkdir(exist_ok=True)
    def save(done=False):
        info['loadavg_end' if done else 'loadavg_now'] = [round(v, 2) for v in os.getloadavg()]
        if done: info.pop('loadavg_now', None); info['finished'] = datetime.now(timezone.utc).isoformat(timespec='seconds')
        p.write_text(json.dumps(dict(info=info, rows=rows, extras=extra, ragged=rag), indent=1))
    for L in [int(v) for v in lengths.split(',')]:
        clf = fitted(L)
        eng = resolve_engine(seq_len=L)
        variants = {'reference': with_engine(clf, Engine('reference')).predict_proba,
                    **({'members': with_engine(clf, resolve_engine(seq_len=L, fused=False)).predict_proba} if members else {}),
                    'fused': with_engine(clf, eng).predict_proba}
        points = [int(v) for v in sizes.split(',')]
        for n in points:
            r_n = reps if n <= 256 else max(3, reps - 2)
            got = bench_point(clf, L, n, r_n, variants)
            if n <= 16:   # the forced convolutions after the pair, with a network of their own, so that their spectra do not crowd the caches of the default path's
                fzc = FusedEnsemble(clf.model_)
                forced = {f'fused {c}': (lambda X, c=c: fused_proba(clf, X, c, fzc)) for c in ('fft', 'ols', 'direct')}
                got += bench_point(clf, L, n, r_n, forced, ref_ms=got[0]['ms'])
                del fzc
            for r in got:
                rows.append(r)
                print(f"L={L:4d} n={n:4d} {r['variant']:13s} {r['ms']:10.2f} ms {r['series_s']:9.1f} series/s  "
                      f"x{r['vs_reference']:5.2f} vs reference  max |dp| {r['max_abs_diff']:.1e}", flush=True)
            save()
        if extras and L == 100: extra = measure_extras(clf, reps)
    for span in filter(None, ragged.split(',')):
        lo, hi = (int(v) for v in span.split('-'))
        for r in bench_ragged(lo, hi, ragged_n, reps):
            rag.append(r)
            print(f"lengths {lo}-{hi} n={ragged_n} {r['variant']:30s} {r['ms']:10.1f} ms  x{r['vs_reference']:5.2f} vs reference  max |dp| {r['max_abs_diff']:.1e}", flush=True)
        save()
    save(done=True)
    shown = ['reference'] + (['members'] if members else []) + ['fused']
    print('\nms per request (x reference)')
    print(f"{'length':>6} {'series':>6} " + ' '.join(f'{v:>22}' for v in shown))
    for L, n in dict.fromkeys((r['seq_len'], r['series']) for r in rows):
        cell = {r['variant']: r for r in rows if (r['seq_len'], r['series']) == (L, n)}
        print(f"{L:6d} {n:6d} " + ' '.join(f"{cell[v]['ms']:13.1f} (x{cell[v]['vs_reference']:4.2f})" for v in shown))
    print('load average', info['loadavg_start'], '->', info['loadavg_end'])
    print('saved', p)
