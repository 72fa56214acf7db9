"""Load test of the real-time endpoint (`inception_time_serve`) on this machine's loopback interface, side by side
with the endpoint of another git revision (default: `main`, i.e. before this branch's changes).

Trains a model on the bundled sample (seed-univariate, series of 100 steps; the product's architecture, few epochs)
unless --model_dir is given, starts both servers on 127.0.0.1 as subprocesses (the reference from a `git archive`
of --compare_ref, each with its own default options), checks that both answer the whole test file as the model
loaded in-process does, then runs the same bounded load on each, phase by phase and alternating between the two
servers (so that a change in the machine's load hits both): 1 and 8 clients (one keep-alive connection each),
sending requests of 1 series and of --batch_size series. Every answer is checked against the expected labels.
Prints and saves requests/s, series/s, p50/p99 latency, errors, and each server's peak resident memory (VmHWM).

    flock /tmp/bench.lock python benchmarks/endpoint_load.py       # about 4 minutes on 2 busy cores
    flock /tmp/bench.lock python benchmarks/endpoint_load.py --also_ref $(git merge-tree --write-tree HEAD engines)
    python benchmarks/endpoint_load.py --compare_ref ''            # this revision only

Results go to benchmarks/results/endpoint_load.json (overwritten). Only 127.0.0.1 is ever used.
"""
import http.client, json, os, platform, socket, subprocess, sys, tarfile, tempfile, threading, time, io
from datetime import datetime, timezone
from pathlib import Path
import numpy as np, torch
from fastcore.script import call_parse
from inception_time_nb.data import read_csv, sample_data
from inception_time_nb.inference import load_model

HOST = '127.0.0.1'   # loopback only
REPO = Path(__file__).resolve().parent.parent

def free_port() -> int:
    with socket.socket() as s: s.bind((HOST, 0)); return s.getsockname()[1]

def post(conn, body:bytes):
    "POST text/csv to /invocations on a kept-alive connection: (status, body text)"
    conn.request('POST', '/invocations', body=body, headers={'Content-Type': 'text/csv'})
    r = conn.getresponse()
    return r.status, r.read().decode()

def wait_ready(proc, port, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None: raise RuntimeError(f'server exited with status {proc.returncode}')
        c = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            c.request('GET', '/ping')
            if c.getresponse().status == 200: return
        except OSError: pass
        finally: c.close()
        time.sleep(0.2)
    raise RuntimeError(f'server not ready after {timeout} s')

def vm(pid, key) -> float:
    "A memory figure of process `pid` from /proc/<pid>/status, in MiB (VmHWM: peak resident, VmRSS: now)"
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith(key + ':'): return int(line.split()[1]) / 1024
    return float('nan')

def load(port, jobs, clients):
    "Send `jobs` ((body, expected labels) pairs) from `clients` threads; latencies (s), error count, wall seconds"
    lat, errors, lock, nxt = [], [0], threading.Lock(), iter(range(len(jobs)))
    def client():
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        while True:
            with lock: i = next(nxt, None)
            if i is None: break
            body, expected = jobs[i]
            t0 = time.perf_counter()
            try: status, text = post(conn, body); ok = status == 200 and text.split() == expected
            except (OSError, http.client.HTTPException):
                ok = False; conn.close(); conn = http.client.HTTPConnection(HOST, port, timeout=120)
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt)
                if not ok: errors[0] += 1
        conn.close()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads: t.start()
    for t in threads: t.join()
    return np.array(lat), errors[0], time.perf_counter() - t0

def summary(lat, errors, wall, series_per_request, clients) -> dict:
    ms = lambda q: round(float(np.percentile(lat, q)) * 1000, 1)
    return dict(requests=len(lat), series_per_request=series_per_request, clients=clients, seconds=round(wall, 2),
                requests_per_s=round(len(lat) / wall, 1), series_per_s=round(len(lat) * series_per_request / wall, 1),
                p50_ms=ms(50), p90_ms=ms(90), p99_ms=ms(99), max_ms=round(float(lat.max()) * 1000, 1), errors=errors)

def start_server(name, model_dir, port, src, extra, tmp):
    "Start `inception_time_serve` from package source folder `src` (None: the installed one); (process, log path)"
    env = dict(os.environ)
    if src: env['PYTHONPATH'] = str(src) + os.pathsep + env.get('PYTHONPATH', '')
    cmd = [sys.executable, '-c', 'from inception_time_nb.cli import serve_main; serve_main()', '--model-dir', str(model_dir),
           '--host', HOST, '--port', str(port), *extra]
    log_path = Path(tmp)/f'{name}.log'   # a file, not a pipe: a pipe nobody reads would block the server once full
    return subprocess.Popen(cmd, stdout=open(log_path, 'w'), stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp), log_path

@call_parse
def main(
    model_dir:str=None,    # A trained model folder; default: train one on the bundled sample first
    epochs:int=2,          # Training epochs when training here
    filters:int=32,        # Filters per branch when training here (the product's)
    depth:int=6,           # Inception modules when training here
    models:int=5,          # Ensemble size when training here
    single1:int=200,       # Requests of 1 series with 1 client
    batch1:int=30,         # Requests of `batch_size` series with 1 client
    single8:int=600,       # Requests of 1 series with 8 clients
    batch8:int=90,         # Requests of `batch_size` series with 8 clients
    batch_size:int=100,    # Series per request in the batch phases
    compare_ref:str='main',# Git revision whose endpoint runs side by side ('' for none)
    this_ref:str='',       # Git revision or tree to measure as "this" (default: the installed package), e.g. a merge tree
    also_ref:str='',       # Another git revision or tree measured side by side as "also" (e.g. this branch merged with another)
    ref_threads:int=4,     # --threads of the reference server (its former default)
    out:str=str(Path(__file__).parent/'results'/'endpoint_load.json'), # Where to save the results
):
    load_before = os.getloadavg()
    d = sample_data('seed-univariate')
    test = read_csv(d/'test_data.csv', labelled=False)
    rows = [r for r in (d/'test_data.csv').read_text().splitlines() if r.strip()]
    tmp, t_train = tempfile.TemporaryDirectory(), None
    if model_dir is None:
        from inception_time_nb.inference import InceptionTimeClassifier
        model_dir = Path(tmp.name)/'model'
        torch.set_num_threads(1)   # training is not what is measured; one thread is never much slower, and far faster on a busy machine
        t0 = time.perf_counter()
        InceptionTimeClassifier(filters=filters, depth=depth, models=models, epochs=epochs, seed=0, verbose=False,
                                progress=False).fit(read_csv(d/'train.csv')).save(model_dir)
        t_train = round(time.perf_counter() - t0, 1)
        print(f'trained {models} x (filters {filters}, depth {depth}) for {epochs} epochs in {t_train} s')
    hp = json.loads((Path(model_dir)/'config.json').read_text())['hyperparameters']
    clf = load_model(model_dir)
    expected = [str(l) for l in clf.predict(test)]
    del clf
    def extract(ref, name):
        "The package at git revision (or tree) `ref`, in a folder of its own; (folder, short id)"
        rev = subprocess.run(['git', '-C', str(REPO), 'rev-parse', '--short', ref], capture_output=True, text=True, check=True).stdout.strip()
        src = Path(tmp.name)/name
        src.mkdir()
        arch = subprocess.run(['git', '-C', str(REPO), 'archive', ref, 'inception_time_nb'], capture_output=True, check=True).stdout
        tarfile.open(fileobj=io.BytesIO(arch)).extractall(src)
        return src, rev
    this_src, this_rev = extract(this_ref, 'this') if this_ref else (None, None)
    servers = {'this' + (f' ({this_rev})' if this_rev else ''): (this_src, [])}
    if also_ref:
        also_src, also_rev = extract(also_ref, 'also')
        servers[f'also ({also_rev})'] = (also_src, [])
    rev = None
    if compare_ref:
        src, rev = extract(compare_ref, 'ref')
        servers = {f'ref {compare_ref} ({rev})': (src, ['--threads', str(ref_threads)]), **servers}
    procs, res_servers = {}, {}
    try:
        for name, (src, extra) in servers.items():
            port = free_port()
            proc, log_path = start_server(name.split()[0], model_dir, port, src, extra, tmp.name)
            t0 = time.perf_counter(); wait_ready(proc, port); t_ready = round(time.perf_counter() - t0, 1)
            banner = log_path.read_text().splitlines()[0]
            conn = http.client.HTTPConnection(HOST, port, timeout=120)
            status, text = post(conn, ('\n'.join(rows) + '\n').encode()); conn.close()
            agree = status == 200 and text.split() == expected
            print(f'{name}: {banner} (ready in {t_ready} s); whole test file in one request: status {status}, agrees with predict: {agree}')
            procs[name] = (proc, port, log_path)
            res_servers[name] = dict(banner=banner, ready_seconds=t_ready, agrees_with_predict=agree, rss_ready_mib=round(vm(proc.pid, 'VmRSS'), 1), phases={})
        jobs1 = lambda n: [(rows[i % len(rows)].encode() + b'\n', [expected[i % len(rows)]]) for i in range(n)]
        def jobsN(n):
            idx = [[(j * batch_size + k) % len(rows) for k in range(batch_size)] for j in range(n)]
            return [(''.join(rows[k] + '\n' for k in ix).encode(), [expected[k] for k in ix]) for ix in idx]
        for name, (proc, port, _) in procs.items(): load(port, jobs1(40), 8)    # warm-up
        plan = [('single', 1, jobs1(single1), 1), (f'batch{batch_size}', 1, jobsN(batch1), batch_size),
                ('single', 8, jobs1(single8), 1), (f'batch{batch_size}', 8, jobsN(batch8), batch_size)]
        for phase, clients, jobs, n in plan:
            for name, (proc, port, _) in procs.items():
                p = summary(*load(port, jobs, clients), n, clients)
                res_servers[name]['phases'][f'{phase}_{clients}c'] = p
                print(f"{name:>20} {phase:>9}, {clients} client(s): {p['requests']} requests, {p['requests_per_s']} req/s "
                      f"({p['series_per_s']} series/s), p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms, max {p['max_ms']} ms, errors {p['errors']}", flush=True)
        for name, (proc, port, log_path) in procs.items():
            r = res_servers[name]
            r.update(rss_after_mib=round(vm(proc.pid, 'VmRSS'), 1), peak_rss_mib=round(vm(proc.pid, 'VmHWM'), 1),
                     waitress_queue_warnings=sum('Task queue depth' in l for l in log_path.read_text().splitlines()))
            print(f"{name}: memory {r['rss_ready_mib']:.0f} MiB resident when ready, peak {r['peak_rss_mib']:.0f} MiB (VmHWM); "
                  f"waitress queue warnings: {r['waitress_queue_warnings']}")
    finally:
        for proc, _, _ in procs.values():
            proc.terminate()
            try: proc.wait(30)
            except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        tmp.cleanup()
    ratios = {}
    if compare_ref:
        (_, ref), *others = [(k, res_servers[k]['phases']) for k in res_servers]
        for name, this in others:
            ratios[name] = {ph: dict(requests_per_s=round(this[ph]['requests_per_s'] / ref[ph]['requests_per_s'], 2),
                                     p50=round(this[ph]['p50_ms'] / ref[ph]['p50_ms'], 3), p99=round(this[ph]['p99_ms'] / ref[ph]['p99_ms'], 3)) for ph in this}
            for ph, r in ratios[name].items(): print(f"{ph}: {name} / ref: requests/s x{r['requests_per_s']}, p50 x{r['p50']}, p99 x{r['p99']}")
    res = dict(date=datetime.now(timezone.utc).isoformat(timespec='seconds'), compare_ref=compare_ref, compare_rev=rev, this_ref=this_ref or None, also_ref=also_ref or None,
               model={k: hp[k] for k in ('filters', 'depth', 'models', 'epochs')}, series_length=test.seq_len,
               train_seconds=t_train, servers=res_servers, ratios_this_over_ref=ratios,
               load_average_1min=dict(before=round(load_before[0], 2), after=round(os.getloadavg()[0], 2)),
               cpu=platform.processor() or platform.machine(), cpus=os.cpu_count(), torch=torch.__version__,
               python=platform.python_version())
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(res, indent=1) + '\n')
    print(f'saved {out}')
