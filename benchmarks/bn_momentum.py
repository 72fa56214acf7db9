"""BatchNorm momentum in short runs: Keras' literal 0.99 (PyTorch 0.01) against PyTorch's 0.1.

Trains the product's sample-notebook settings (filters 32, depth 6, 5 models, batch 64, lr 1e-4,
5 epochs) on the bundled seed-univariate data for each momentum and seed, interleaved, and prints
the test accuracy of each; saves benchmarks/results/bn_momentum.json.

    python benchmarks/bn_momentum.py --seeds 3
"""
import json, time
from pathlib import Path
import numpy as np
from fastcore.script import call_parse
from inception_time_nb.data import read_csv, sample_data
from inception_time_nb.estimator import InceptionTimeClassifier

@call_parse
def main(
    seeds:int=3,     # Seeds per momentum
    epochs:int=5,    # Epochs (the product's sample used 5)
    lr:float=1e-4,   # Learning rate (the product's sample used 1e-4)
):
    d = sample_data('seed-univariate')
    tr, va, te = read_csv(d/'train.csv'), read_csv(d/'valid.csv'), read_csv(d/'test_data.csv', labelled=False)
    truth = np.array((d/'test_labels.csv').read_text().split(), dtype=object)
    rows = []
    for seed in range(seeds):
        for mom in (0.01, 0.1):
            clf = InceptionTimeClassifier(epochs=epochs, lr=lr, bn_momentum=mom, seed=seed, verbose=False, progress=False)
            t0 = time.perf_counter(); clf.fit(tr, X_valid=va)
            acc = float(np.mean(clf.predict(te) == truth))
            rows.append(dict(bn_momentum=mom, seed=seed, test_accuracy=acc, train_seconds=round(time.perf_counter() - t0, 1)))
            print(rows[-1], flush=True)
    summary = {m: float(np.median([r['test_accuracy'] for r in rows if r['bn_momentum'] == m])) for m in (0.01, 0.1)}
    print('median test accuracy by momentum:', summary)
    out = Path(__file__).parent/'results'/'bn_momentum.json'
    out.write_text(json.dumps(dict(settings=dict(epochs=epochs, lr=lr, seeds=seeds), runs=rows, median=summary), indent=1))
