"""A tuning study of a fixed time budget on the bundled Marketplace sample (seed-univariate), against untuned settings.

The study searches the product's hyperparameters (`filters`, `depth`, `models`, `lr`, `lr-decay`, `batch-size`,
`epochs`, the ones its sample notebook's tuning job varies) on train.csv, scored on valid.csv; the best trial's model
then predicts test_data.csv (never seen by the study) and is compared with test_labels.csv. In the same run the
product's sample-notebook settings (filters 32, depth 6, models 5, batch-size 64, lr 1e-4, lr-decay 1.0, epochs 5)
are trained untuned as the baseline. The Marketplace product reached 141/150 = 0.94 on this test file.

The ranges are centred on the sample notebook's values and bounded so that one trial takes well under a minute on
two CPU cores (the product's tuning job ran on GPUs): a time budget, not a trial count, is what is fixed.
Appends the result to benchmarks/results/tune.jsonl. Run it under the shared lock:

    flock /tmp/bench.lock python benchmarks/tune.py --budget 240
"""
import json, platform, tempfile, time
from pathlib import Path
import numpy as np, torch
from fastcore.script import call_parse
from inception_time_nb.data import read_csv, sample_data
from inception_time_nb.estimator import InceptionTimeClassifier
from inception_time_nb.tune import tune

PRODUCT_SPACE = {   # the product's tuned hyperparameters, in ranges around its sample notebook's values
    'filters':    {'values': [16, 32]},
    'depth':      {'values': [3, 6]},
    'models':     {'values': [1, 3]},
    'lr':         {'min': 1e-4, 'max': 1e-2, 'scaling': 'log'},
    'lr_decay':   {'min': 0.8, 'max': 1.0},
    'batch_size': {'values': [32, 64, 128]},
    'epochs':     {'min': 3, 'max': 8},
}
BASELINE = dict(filters=32, depth=6, models=5, batch_size=64, lr=1e-4, lr_decay=1.0, epochs=5)   # the sample notebook's

def _truth(d:Path) -> np.ndarray:
    return np.array([l.strip() for l in (d/'test_labels.csv').read_text().split()], dtype=object)

def _acc(pred, truth) -> float: return float(np.mean([str(a) == str(b) for a, b in zip(pred, truth)]))

@call_parse
def main(
    budget:float=240,       # Seconds of tuning (no trial starts after that; the running one finishes)
    n_trials:int=200,       # Upper bound on the trials (the budget normally ends the study first)
    seed:int=0,             # Seed of the study and of the baseline
    tag:str='',             # Free text stored with the result
):
    d = sample_data('seed-univariate')
    tr, va, te, truth = read_csv(d/'train.csv'), read_csv(d/'valid.csv'), read_csv(d/'test_data.csv', labelled=False), _truth(d)
    t0 = time.perf_counter()
    base = InceptionTimeClassifier(**BASELINE, seed=seed, verbose=False, progress=False).fit(tr, X_valid=va)
    t_base = time.perf_counter() - t0
    base_valid, base_test = base.score(va.X, va.y), _acc(base.predict(te), truth)
    print(f"untuned (sample-notebook settings): valid {base_valid:.4f}, test {base_test:.4f}, {t_base:.0f} s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        study = tune(tr, va, space=PRODUCT_SPACE, n_trials=n_trials, timeout=budget, seed=seed, model_dir=Path(tmp)/'model',
                     verbose=False, progress=False)
        t_tune = time.perf_counter() - t0
        best = InceptionTimeClassifier.load(Path(tmp)/'model')
        best_valid, best_test = best.score(va.X, va.y), _acc(best.predict(te), truth)
    states = [t.state.name for t in study.trials]
    res = dict(data='seed-univariate', budget_seconds=budget, tune_seconds=round(t_tune, 1), trials=len(states),
               complete=states.count('COMPLETE'), pruned=states.count('PRUNED'), failed=states.count('FAIL'),
               best_trial=study.best_trial.number, best_params=study.best_params, best_valid_accuracy=best_valid,
               best_test_accuracy=best_test, baseline=BASELINE, baseline_valid_accuracy=base_valid,
               baseline_test_accuracy=base_test, baseline_seconds=round(t_base, 1), product_test_accuracy=0.94,
               n_test=len(truth), seed=seed, space=PRODUCT_SPACE, tag=tag, torch=torch.__version__,
               threads=torch.get_num_threads(), cpu=platform.processor() or platform.machine())
    print(f"tuned: {res['trials']} trials ({res['complete']} complete, {res['pruned']} pruned) in {t_tune:.0f} s; "
          f"best trial {res['best_trial']}: valid {best_valid:.4f}, test {best_test:.4f} "
          f"({int(round(best_test * len(truth)))}/{len(truth)}); product 0.94; params {study.best_params}")
    out = Path(__file__).parent/'results'/'tune.jsonl'
    out.parent.mkdir(exist_ok=True)
    with open(out, 'a') as f: f.write(json.dumps(res) + '\n')
