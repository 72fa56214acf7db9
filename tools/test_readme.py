"""Check that the README's code blocks work when a reader pastes them.

* Every ```python block runs, in order, in one fresh Python process (as pasted into one session),
  in an empty temporary folder, with none of the notebook's hidden cells: a name the README uses
  but never imports fails here (`NameError: test_eq` did).
* Every ```sh block is valid bash (`bash -n`), and each option it passes to one of the package's
  commands (`inception_time_train --model-dir ...`) is one that command's `--help` lists.

    python tools/test_readme.py            # README.md of this repository
    python tools/test_readme.py --readme X.md --timeout 300
"""
import argparse, re, shlex, subprocess, sys, tempfile, time
from pathlib import Path

def blocks(md:str, lang:str):
    "The bodies of the fenced code blocks of language `lang` in markdown `md`"
    return [m.group(2) for m in re.finditer(r'^(`{3,})[ \t]*' + re.escape(lang) + r'[ \t]*\n(.*?)^\1[ \t]*$', md, re.M | re.S)]

def command_options(sh:str, prefix:str):
    "{command: {options}} for the commands starting with `prefix` in shell code `sh`"
    res = {}
    for part in re.split(r'&&|\|\||;|\|', sh.replace('\\\n', ' ')):
        try: toks = shlex.split(part, posix=True)
        except ValueError: continue
        for i, t in enumerate(toks):
            if t.startswith(prefix):
                res.setdefault(t, set()).update(o.split('=')[0] for o in toks[i+1:] if o.startswith('--'))
                break
    return res

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--readme', default=str(Path(__file__).resolve().parent.parent/'README.md'))
    ap.add_argument('--timeout', type=int, default=300, help='seconds for all the python blocks together')
    ap.add_argument('--prefix', default='inception_time_', help="commands whose options are checked against their --help")
    a = ap.parse_args()
    md, fails, t0 = Path(a.readme).read_text(), 0, time.time()
    py = blocks(md, 'python')
    if py:
        code = '\n\n'.join(py)
        with tempfile.TemporaryDirectory() as d:
            try: r = subprocess.run([sys.executable, '-c', code], cwd=d, capture_output=True, text=True, timeout=a.timeout)
            except subprocess.TimeoutExpired: r = None
        if r is None: print(f'FAIL  {len(py)} python blocks: ran past {a.timeout} s'); fails += 1
        elif r.returncode:
            err = (r.stderr.strip().splitlines() or ['?'])
            print(f'FAIL  python blocks (run in a fresh Python): {err[-1]}\n      ' + '\n      '.join(err[-8:-1])); fails += 1
        else: print(f'ok    {len(py)} python blocks run in a fresh Python ({time.time() - t0:.0f} s)')
    else: print('FAIL  the README has no python block'); fails += 1
    helps = {}
    for i, sh in enumerate(blocks(md, 'sh') + blocks(md, 'bash'), 1):
        r = subprocess.run(['bash', '-n'], input=sh, capture_output=True, text=True)
        if r.returncode: print(f'FAIL  sh block {i} is not valid bash: {r.stderr.strip()}'); fails += 1; continue
        bad = []
        for cmd, opts in command_options(sh, a.prefix).items():
            if cmd not in helps:
                h = subprocess.run([cmd, '--help'], capture_output=True, text=True)
                helps[cmd] = h.stdout + h.stderr if h.returncode == 0 else None
            if helps[cmd] is None: bad.append(f'{cmd} --help fails (is the package installed?)'); continue
            bad += [f'{cmd} has no option {o}' for o in sorted(opts) if not re.search(re.escape(o) + r'\b', helps[cmd])]
        if bad: print(f'FAIL  sh block {i}: ' + '; '.join(bad)); fails += 1
        else: print(f'ok    sh block {i}: valid bash, options known')
    print(f'test_readme: {"FAILED" if fails else "all blocks ok"} ({time.time() - t0:.0f} s)')
    sys.exit(1 if fails else 0)

if __name__ == '__main__': main()
