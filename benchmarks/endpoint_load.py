"""Load test of the real-time endpoint (`inception_time_serve`) on this machine's loopback interface.

Trains a model on the bundled sample (seed-univariate; the product's architecture, few epochs) unless
--model_dir is given, starts `inception_time_serve` on 127.0.0.1 on a free port as a subprocess, checks
that its answer for the whole test file agrees with the model loaded in-process, then runs a bounded load:
`--clients` threads (one keep-alive connection each) send `--single` requests of 1 series, then `--batch`
requests of `--batch_size` series. Every answer is checked against the expected labels. Prints and saves
requests/s, series/s, p50/p99 latency, errors, and the server's peak resident memory (VmHWM).

    python benchmarks/endpoint_load.py                     # 7.5 min on 2 cores shared with other jobs (load ~10)
    python benchmarks/endpoint_load.py --model_dir D --single 500 --batch 50

Results go to benchmarks/results/endpoint_load.json (overwritten). Only 127.0.0.1 is ever used.
"""
import http.client, json, os, platform, socket, subprocess, sys, tempfile, threading, time
from datetime import datetime, timezone
from pathlib import Path
import numpy as np, torch
from fastcore.script import call_parse
from inception_time_nb.data import read_csv, sample_data
from inception_time_nb.estimator import InceptionTimeClassifier

HOST = '127.0.0.1'   # loopback only

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

@call_parse
def main(
    model_dir:str=None,    # A trained model folder; default: train one on the bundled sample first
    epochs:int=2,          # Training epochs when training here
    filters:int=32,        # Filters per branch when training here (the product's)
    depth:int=6,           # Inception modules when training here
    models:int=5,          # Ensemble size when training here
    clients:int=8,         # Concurrent client threads
    single:int=2000,       # Requests of 1 series
    batch:int=300,         # Requests of `batch_size` series
    batch_size:int=100,    # Series per request in the second phase
    threads:int=4,         # Server threads (inception_time_serve --threads)
    torch_threads:int=None,# Torch threads per request in the server (default: the server's)
    out:str=str(Path(__file__).parent/'results'/'endpoint_load.json'), # Where to save the results
):
    load_before = os.getloadavg()
    d = sample_data('seed-univariate')
    test = read_csv(d/'test_data.csv', labelled=False)
    rows = [r for r in (d/'test_data.csv').read_text().splitlines() if r.strip()]
    tmp, t_train = tempfile.TemporaryDirectory(), None
    if model_dir is None:
        model_dir = Path(tmp.name)/'model'
        torch.set_num_threads(1)   # training is not what is measured; one thread is never much slower, and far faster on a busy machine
        t0 = time.perf_counter()
        InceptionTimeClassifier(filters=filters, depth=depth, models=models, epochs=epochs, seed=0, verbose=False,
                                progress=False).fit(read_csv(d/'train.csv')).save(model_dir)
        t_train = round(time.perf_counter() - t0, 1)
        print(f'trained {models} x (filters {filters}, depth {depth}) for {epochs} epochs in {t_train} s')
    hp = json.loads((Path(model_dir)/'config.json').read_text())['hyperparameters']
    clf = InceptionTimeClassifier.load(model_dir, device='cpu')
    expected = [str(l) for l in clf.predict(test)]
    del clf
    port = free_port()
    cmd = [sys.executable, '-c', 'from inception_time_nb.cli import serve_main; serve_main()', '--model-dir', str(model_dir),
           '--host', HOST, '--port', str(port), '--threads', str(threads)]
    if torch_threads: cmd += ['--torch-threads', str(torch_threads)]
    log_path = Path(tmp.name)/'server.log'   # a file, not a pipe: a pipe nobody reads would block the server once full
    log = open(log_path, 'w')
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        t0 = time.perf_counter(); wait_ready(proc, port); t_ready = round(time.perf_counter() - t0, 1)
        banner = log_path.read_text().splitlines()[0]
        print(banner, f'(ready in {t_ready} s)')
        rss_idle = vm(proc.pid, 'VmRSS')
        conn = http.client.HTTPConnection(HOST, port, timeout=120)
        status, text = post(conn, ('\n'.join(rows) + '\n').encode()); conn.close()
        agree = status == 200 and text.split() == expected
        print(f'whole test file in one request: status {status}, answers agree with in-process predict: {agree}')
        jobs1 = [(rows[i % len(rows)].encode() + b'\n', [expected[i % len(rows)]]) for i in range(single)]
        idx = [[(j * batch_size + k) % len(rows) for k in range(batch_size)] for j in range(batch)]
        jobsN = [(''.join(rows[k] + '\n' for k in ix).encode(), [expected[k] for k in ix]) for ix in idx]
        load(port, jobs1[:50], clients)   # warm-up
        phases = {}
        for name, jobs, n in (('single', jobs1, 1), (f'batch{batch_size}', jobsN, batch_size)):
            phases[name] = summary(*load(port, jobs, clients), n, clients)
            p = phases[name]
            print(f"{name:>9}: {p['requests']} requests of {n} series, {clients} clients: {p['requests_per_s']} req/s "
                  f"({p['series_per_s']} series/s), p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms, max {p['max_ms']} ms, errors {p['errors']}")
        peak, rss_end = vm(proc.pid, 'VmHWM'), vm(proc.pid, 'VmRSS')
        print(f'server memory: {rss_idle:.0f} MiB resident when ready, {rss_end:.0f} MiB after the load, peak {peak:.0f} MiB (VmHWM)')
        queued = sum('Task queue depth' in l for l in log_path.read_text().splitlines())
        print(f'waitress queue warnings (a request waited for a free server thread): {queued}')
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        log.close(); tmp.cleanup()
    res = dict(date=datetime.now(timezone.utc).isoformat(timespec='seconds'), server=banner, server_threads=threads,
               model={k: hp[k] for k in ('filters', 'depth', 'models', 'epochs')}, series_length=test.seq_len,
               train_seconds=t_train, ready_seconds=t_ready, agrees_with_predict=agree, phases=phases,
               server_rss_ready_mib=round(rss_idle, 1), server_rss_after_mib=round(rss_end, 1), server_peak_rss_mib=round(peak, 1),
               waitress_queue_warnings=queued,
               load_average_1min=dict(before=round(load_before[0], 2), after=round(os.getloadavg()[0], 2)),
               cpu=platform.processor() or platform.machine(), cpus=os.cpu_count(), torch=torch.__version__,
               python=platform.python_version())
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(res, indent=1) + '\n')
    print(f'saved {out}')
