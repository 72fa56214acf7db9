"""Train on the bundled Marketplace sample (seed-univariate), predict its test file, compare with its labels.

Prints test accuracy, training and prediction seconds and the settings; appends the result to
benchmarks/results/seed_sample.jsonl. The Marketplace product reached 141/150 = 0.94 on this data.

    python benchmarks/seed_sample.py                      # the README's settings
    python benchmarks/seed_sample.py --epochs 5 --lr 1e-4 # the product's sample-notebook settings
"""
import json, time, platform
from pathlib import Path
import numpy as np, torch
from fastcore.script import call_parse
from inception_time_nb.data import read_csv, sample_data
from inception_time_nb.estimator import InceptionTimeClassifier

@call_parse
def main(
    epochs:int=30,          # Training epochs
    lr:float=1e-3,          # Learning rate
    lr_decay:float=1.0,     # Learning-rate factor per epoch
    batch_size:int=64,      # Mini-batch size
    models:int=5,           # Ensemble size
    filters:int=32,         # Filters per branch
    depth:int=6,            # Inception modules
    bn_momentum:float=0.1,  # BatchNorm momentum (PyTorch convention)
    scaling:str='channel',  # Scaler mode
    seed:int=0,             # Seed
    data:str='seed-univariate', # Bundled dataset
    tag:str='',             # Free text stored with the result
):
    d = sample_data(data)
    tr, va = read_csv(d/'train.csv'), read_csv(d/'valid.csv')
    te = read_csv(d/'test_data.csv', labelled=False)
    settings = dict(epochs=epochs, lr=lr, lr_decay=lr_decay, batch_size=batch_size, models=models, filters=filters,
                    depth=depth, bn_momentum=bn_momentum, scaling=scaling, seed=seed)
    clf = InceptionTimeClassifier(**settings, progress=False)
    t0 = time.perf_counter(); clf.fit(tr, X_valid=va); t_train = time.perf_counter() - t0
    t0 = time.perf_counter(); pred = clf.predict(te); t_pred = time.perf_counter() - t0
    if tr.fmt == 'long':
        import pandas as pd
        lab = pd.read_csv(d/'test_labels.csv')
        truth = [c[2:] for c in lab.columns[1:]]
        truth = np.array(truth, dtype=object)[lab.iloc[:, 1:].to_numpy().argmax(1)]
    else: truth = np.array([l.strip() for l in (d/'test_labels.csv').read_text().split()], dtype=object)
    acc = float(np.mean([str(a) == str(b) for a, b in zip(pred, truth)]))
    res = dict(data=data, test_accuracy=acc, n_test=len(truth), train_seconds=round(t_train, 2),
               predict_seconds=round(t_pred, 3), best_epochs=clf.best_epochs_, settings=settings, tag=tag,
               torch=torch.__version__, threads=torch.get_num_threads(), cpu=platform.processor() or platform.machine())
    print(f"test accuracy {acc:.4f} ({int(round(acc*len(truth)))}/{len(truth)}); train {t_train:.1f} s; predict {t_pred:.3f} s; settings {settings}")
    out = Path(__file__).parent/'results'/'seed_sample.jsonl'
    out.parent.mkdir(exist_ok=True)
    with open(out, 'a') as f: f.write(json.dumps(res) + '\n')
