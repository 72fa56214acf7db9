"Helper for tools/docs_check (see the comments there): process, render, screenshot and check every notebook."
import ast, json, os, re, shutil, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else '.').resolve()
os.chdir(root)
from nbdev.config import get_config
from nbdev.doclinks import nbglob, patch_name, _nbpath2html

t0, cfg = time.time(), get_config()
nbs, proc, out = cfg.nbs_path, cfg.config_path/'_proc', root/'docs_check_out'
problems = []
def problem(name, msg):
    problems.append(f'{name}: {msg}')
    print(f'PROBLEM {name}: {msg}', flush=True)

def short_error(stderr):
    "'Error in notebook ... in cell N' and its root cause, from a processing traceback"
    parts = stderr.split('The above exception was the direct cause')
    cause = ([l for l in parts[0].splitlines() if l.strip()] or ['?'])[-1].strip()
    head = re.findall(r'^\w+: (Error in .*)', parts[-1], re.M)
    return (f'{head[0]} ' if head else '') + cause[:300]

# 1. process each notebook like nbdev_proc_nbs does (nbdev.serve_drv.main), each in its own process
srcs = sorted(nbglob(nbs, as_path=True))
names = {p: p.relative_to(nbs).with_suffix('').as_posix() for p in srcs}
print(f'docs_check: processing {len(srcs)} notebooks from {nbs.relative_to(root)}/ into _proc/', flush=True)
PROC = ('import sys; from pathlib import Path; from nbdev.serve_drv import main; '
        'from nbdev.processors import FilterDefaults; main((Path(sys.argv[1]), Path(sys.argv[2]), FilterDefaults))')
def process(p):
    dest = proc/p.relative_to(nbs)
    dest.parent.mkdir(parents=True, exist_ok=True)
    try: r = subprocess.run([sys.executable, '-c', PROC, p, dest], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired: return problem(names[p], 'nbdev_proc_nbs timed out (15 min)')
    if r.returncode: return problem(names[p], f'nbdev_proc_nbs failed: {short_error(r.stderr)}')
    return p
with ThreadPoolExecutor(os.cpu_count()) as ex: done = [p for p in ex.map(process, srcs) if p]

# 2. render with nbconvert (no execution), 3. screenshot with headless Chromium
shutil.rmtree(out, ignore_errors=True)
def render(p):
    dest = out/names[p]
    dest.parent.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(['jupyter', 'nbconvert', '--to', 'html', '--output-dir', str(dest.parent),
                        '--output', dest.name, str(proc/p.relative_to(nbs))], capture_output=True, text=True)
    if r.returncode: problem(names[p], f'nbconvert failed: {(r.stderr.strip().splitlines() or ["?"])[-1]}')

def screenshot(p):
    html, png = (out/names[p]).with_suffix('.html'), (out/names[p]).with_suffix('.png')
    if not html.exists(): return
    with tempfile.TemporaryDirectory() as prof:
        try: subprocess.run(['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                             '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
                             f'--user-data-dir={prof}', '--window-size=1200,2400', f'--screenshot={png}', html.as_uri()],
                            capture_output=True, timeout=120)
        except subprocess.TimeoutExpired: problem(names[p], 'chromium timed out taking the screenshot')

with ThreadPoolExecutor(4) as ex: list(ex.map(render, done))
with ThreadPoolExecutor(4) as ex: list(ex.map(screenshot, done))

# 4. checks
class Page(HTMLParser):
    "Visible body text and the text of each heading"
    def __init__(self):
        super().__init__(); self.text, self.headings, self.skip, self.body, self.h = [], [], 0, False, None
    def handle_starttag(self, tag, attrs):
        if tag == 'body': self.body = True
        if tag in ('script', 'style'): self.skip += 1
        if re.fullmatch(r'h[1-6]', tag): self.h = []
    def handle_endtag(self, tag):
        if tag in ('script', 'style'): self.skip -= 1
        if re.fullmatch(r'h[1-6]', tag) and self.h is not None:
            self.headings.append(''.join(self.h).replace('\u00b6', '').strip()); self.h = None
    def handle_data(self, data):
        if not self.body or self.skip: return
        self.text.append(data)
        if self.h is not None: self.h.append(data)

def blank_png(png):
    try: from PIL import Image
    except ImportError: return False  # only the size check then
    with Image.open(png) as im: lo, hi = im.convert('L').getextrema()
    return lo == hi

def required_syms():
    "page (e.g. data.html) -> [(symbol, py file, defined with @patch)] for public symbols in _modidx.py"
    idx, g = cfg.lib_path/'_modidx.py', {'d': {'syms': {}}}
    if idx.exists(): exec(idx.read_text(), g)
    patched, res = {}, {}
    for mod, syms in g['d']['syms'].items():
        for full, (loc, py) in syms.items():
            name = full[len(mod)+1:]
            if any(part.startswith('_') for part in name.split('.')): continue
            if py not in patched:
                tops = [patch_name(t) for t in ast.parse((root/py).read_text() if (root/py).exists() else '').body
                        if isinstance(t, (ast.FunctionDef, ast.AsyncFunctionDef))]
                patched[py] = {n for t in tops for n in ([t] if isinstance(t, str) else t)}
            res.setdefault(loc.split('#')[0], []).append((name, py, name in patched[py]))
    return res

pages = {_nbpath2html(p.relative_to(nbs)).as_posix(): p for p in srcs}
required = required_syms()
for page, syms in required.items():
    if page not in pages:
        pys = sorted({py for _, py, _ in syms})
        problem(page, f"{len(syms)} exported symbols from {', '.join(pys)} belong on this page, but no notebook in nbs/ renders to it")

n_html = n_png = 0
for p in done:
    name = names[p]
    html, png = (out/name).with_suffix('.html'), (out/name).with_suffix('.png')
    if not html.exists() or not html.stat().st_size: problem(name, 'page missing'); continue
    n_html += 1
    page = Page(); page.feed(html.read_text(errors='replace'))
    text = ' '.join(page.text)
    if len(text.split()) < 20: problem(name, f'page is empty ({len(text.split())} words)')
    nb = json.loads((proc/p.relative_to(nbs)).read_text())
    errs = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(nb['cells'])
            for o in c.get('outputs', []) if o.get('output_type') == 'error']
    if errs or 'Traceback (most recent call last)' in text:
        problem(name, 'page shows a Python traceback' + (f" ({'; '.join(errs)})"[:300] if errs else ''))
    if not png.exists(): problem(name, 'no screenshot')
    else:
        n_png += 1
        if png.stat().st_size < 5000 or blank_png(png): problem(name, f'screenshot is blank ({png.stat().st_size} bytes)')
    shown = set(re.findall(r'show_doc\(\s*([\w.]+)', ' '.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code')))
    heads = set(page.headings)
    for sym, py, patched in required.get(_nbpath2html(p.relative_to(nbs)).as_posix(), []):
        if ('.' in sym and not patched and sym not in shown) or sym in heads: continue
        problem(name, f'exported symbol {sym} ({py}) has no show_doc section')

# 5. the sidebar: with custom_sidebar = True nbdev leaves nbs/sidebar.yml to us, so check it by hand:
#    every entry exists, and every notebook has an entry (else its page is unreachable from the sidebar)
if cfg.get('custom_sidebar'):
    import yaml
    def entries(items):
        for it in items or []:
            if isinstance(it, str): yield it
            elif isinstance(it, dict):
                if it.get('href'): yield it['href']
                yield from entries(it.get('contents'))
    side = nbs/'sidebar.yml'
    if not side.exists(): problem('sidebar.yml', f'custom_sidebar is True in settings.ini, but {side.relative_to(root)} is missing')
    else:
        listed = list(entries(((yaml.safe_load(side.read_text()) or {}).get('website') or {}).get('sidebar', {}).get('contents')))
        for e in listed:
            if not (nbs/e).exists(): problem('sidebar.yml', f'{e} is listed but there is no such file in {nbs.relative_to(root)}/')
        for p in srcs:
            if p.relative_to(nbs).as_posix() not in listed:
                problem('sidebar.yml', f'{p.relative_to(nbs).as_posix()} is not listed, so the sidebar has no link to its page')

print(f'docs_check: {n_html} pages rendered, {n_png} screenshots, {len(problems)} problems '
      f'({time.time()-t0:.0f}s, output in {out.relative_to(root)}/)')
sys.exit(1 if problems else 0)
