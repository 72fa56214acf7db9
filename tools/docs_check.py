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
t_proc = time.time() - t0

# 2. render with pandoc the way Quarto would (tools/render_docs.py), 3. screenshot with headless Chromium
sys.path.insert(0, str(Path(__file__).resolve().parent))
from render_docs import render_site, cell_options, front_matter
shutil.rmtree(out, ignore_errors=True)
rendered = render_site(proc, nbs, out, cfg.get('title', cfg.lib_name), [p.relative_to(nbs).as_posix() for p in done])
page_of = {}   # source notebook -> rendered page (relative to out)
for p in done:
    page, rc, err = rendered[p.relative_to(nbs).as_posix()]
    if rc: problem(names[p], f"pandoc failed: {(err.splitlines() or ['?'])[-1]}"); continue
    page_of[p] = page

def screenshot(p):
    html = out/page_of[p]
    png = html.with_suffix('.png')
    with tempfile.TemporaryDirectory() as prof:
        try: subprocess.run(['chromium', '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                             '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
                             '--hide-scrollbars', f'--user-data-dir={prof}', '--window-size=1400,2400', f'--screenshot={png}', html.as_uri()],
                            capture_output=True, timeout=120)
        except subprocess.TimeoutExpired: problem(names[p], 'chromium timed out taking the screenshot')

with ThreadPoolExecutor(4) as ex: list(ex.map(screenshot, page_of))
t_shot = time.time() - t0 - t_proc

# 4. checks
class Page(HTMLParser):
    "Visible body text (and the part of it outside code), headings, element ids, links, images and the title"
    def __init__(self):
        super().__init__()
        self.text, self.prose, self.headings, self.ids, self.links, self.imgs, self.levels = [], [], [], set(), [], [], []
        self.skip, self.body, self.h, self.code, self.title = 0, False, None, 0, None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'body': self.body = True
        if tag in ('script', 'style', 'title'): self.skip += 1
        if tag in ('pre', 'code'): self.code += 1
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('href'): self.links.append(a['href'])
        if tag == 'img': self.imgs.append(a.get('src') or '')
        if re.fullmatch(r'h[1-6]', tag): self.h, self.h_title, self.h_tag = [], 'title' in (a.get('class') or '').split(), tag
    def handle_endtag(self, tag):
        if tag in ('script', 'style', 'title'): self.skip -= 1
        if tag in ('pre', 'code'): self.code -= 1
        if tag in ('p', 'div', 'li', 'pre', 'br', 'tr') or re.fullmatch(r'h[1-6]', tag): self.text.append('\n'); self.prose.append('\n')
        if re.fullmatch(r'h[1-6]', tag) and self.h is not None:
            h = ''.join(self.h).replace('\u00b6', '').strip()
            if self.h_title: self.title = h
            else: self.headings.append(h); self.levels.append((self.h_tag, h))
            self.h = None
    def handle_data(self, data):
        if not self.body or self.skip: return
        self.text.append(data)
        if not self.code: self.prose.append(data)
        if self.h is not None: self.h.append(data)

def png_problem(png):
    "Why image file `png` is no figure (missing, empty, unreadable, one colour), or None"
    if not png.exists(): return 'missing'
    if png.stat().st_size < 100: return f'{png.stat().st_size} bytes'
    try: from PIL import Image
    except ImportError: return None
    try:
        with Image.open(png) as im: lo, hi = im.convert('L').getextrema()
    except Exception as e: return f'unreadable ({e.__class__.__name__})'
    return 'a single colour' if lo == hi else None

def blank_png(png): return png.stat().st_size < 5000 or png_problem(png) is not None

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

TESTS = {'test_eq', 'test_ne', 'test_close', 'test_fail', 'test_is', 'test_warns', 'test_stdout', 'test_eq_type',
         'test_shuffled', 'test_fig_exists', 'test_sig', 'show_doc', 'display', 'print'}
PLOT = re.compile(r'\b(plot\w*|imshow|hist|scatter|bar|barh|subplots|matshow|heatmap)\(')
skip_flags = set(cfg.get('tst_flags', '').split())

def expects_output(code, executed=False):
    """Does this example cell end on a value (or draw a figure) a reader should see? A call may return None
    (`server.close()`), so in a notebook that was executed (some cell stores an output) a call is given the benefit"""
    try: tree = ast.parse(re.sub(r'^\s*[%!].*$', '', code, flags=re.M))
    except SyntaxError: return False
    if not tree.body: return False
    last = tree.body[-1]
    draws = bool(PLOT.search(code))
    if not isinstance(last, ast.Expr): return draws
    if code.rstrip().endswith(';'): return draws
    f = last.value.func if isinstance(last.value, ast.Call) else None
    fname = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    if fname in TESTS: return fname in ('print', 'display') or draws
    if isinstance(last.value, ast.Call) and executed: return draws
    return not isinstance(last.value, ast.Constant)

def example_problems(src_nb):
    "(cells that should show an output but store none, [(cell, first line)]), (plot cells without a figure), n examples"
    missing, nofig, n = [], [], 0
    executed = any(c.get('outputs') for c in src_nb['cells'])
    for i, c in enumerate(src_nb['cells']):
        if c['cell_type'] != 'code': continue
        opts, code = cell_options(''.join(c['source']))
        if (opts.get('hide') or opts.get('export') or opts.get('exporti') or opts.get('eval') is False
                or opts.get('include') is False or opts.get('output') is False or skip_flags & set(opts)): continue
        if 'show_doc(' in code or not code.strip(): continue
        outs = c.get('outputs', [])
        if not expects_output(code, executed and not outs): continue
        n += 1
        line = next((l for l in reversed(code.splitlines()) if l.strip()), '')[:60]
        if not outs: missing.append((i, line))
        elif PLOT.search(code) and code.rstrip().endswith(';') and not any(
                k.startswith('image/') for o in outs for k in o.get('data', {})): nofig.append((i, line))
    return missing, nofig, n

def cells_list(cs): return ', '.join(f'{i} (`{l}`)' for i, l in cs[:4]) + (f' and {len(cs)-4} more' if len(cs) > 4 else '')

FRONT_KEYS = re.compile(r'^\s*(title|description|output-file|skip_showdoc|skip_exec|categories|author|date|order):\s', re.M)
site = f"{cfg.get('doc_host', '').rstrip('/')}{cfg.get('doc_baseurl', '')}".rstrip('/') + '/'
src_url = f"{cfg.get('git_url', '').rstrip('/')}/blob/{cfg.get('branch', 'main')}/"
pages = {_nbpath2html(p.relative_to(nbs)).as_posix(): p for p in srcs}
required = required_syms()
for page, syms in required.items():
    if page not in pages:
        pys = sorted({py for _, py, _ in syms})
        problem(page, f"{len(syms)} exported symbols from {', '.join(pys)} belong on this page, but no notebook in nbs/ renders to it")

parsed, n_html, n_png, outputs_report = {}, 0, 0, []
for p, page in page_of.items():
    html = out/page
    if html.exists() and html.stat().st_size:
        pg = Page(); pg.feed(html.read_text(errors='replace')); parsed[page] = pg
page_by_nb = {p.relative_to(nbs).as_posix(): page for p, page in page_of.items()}
for p, page in page_of.items():
    name = names[p]
    html, png = out/page, (out/page).with_suffix('.png')
    if page not in parsed: problem(name, 'page missing'); continue
    n_html += 1
    pg = parsed[page]
    text, prose = ''.join(pg.text), ''.join(pg.prose)
    if len(text.split()) < 20: problem(name, f'page is empty ({len(text.split())} words)')
    nb = json.loads((proc/p.relative_to(nbs)).read_text())
    src_nb = json.loads(p.read_text())
    errs = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(nb['cells'])
            for o in c.get('outputs', []) if o.get('output_type') == 'error']
    if errs or 'Traceback (most recent call last)' in text:
        problem(name, 'page shows a Python traceback' + (f" ({'; '.join(errs)})"[:300] if errs else ''))
    # what Quarto would have consumed but the reader sees
    if not pg.title: problem(name, 'page has no title (no `# Title` cell or front matter `title:`)')
    if FRONT_KEYS.search(prose) or 'output-file:' in text:
        m = FRONT_KEYS.search(prose)
        problem(name, f"page shows raw front matter ({(m.group(0).strip() if m else 'output-file:')!r}...)")
    for l in text.splitlines():
        if l.lstrip().startswith('#|'): problem(name, f'page shows a cell directive: {l.strip()[:60]!r}'); break
    for pat in ('{target=', 'source{', '{.python', '{=html}', ':::'):
        if pat in text: problem(name, f'page shows literal markup {pat!r}: {text[max(0, text.index(pat)-40):text.index(pat)+40]!r}')
    if re.search(r'^\s*show_doc\(', text, re.M): problem(name, 'page shows a show_doc() code cell')
    # links: source links to lines that exist, site links to pages and anchors that exist, relative links to files
    for href in dict.fromkeys(pg.links):
        if href.startswith(src_url):
            m = re.match(r'([^#]+)(?:#L(\d+))?', href[len(src_url):])
            f = root/m.group(1)
            if not f.exists(): problem(name, f'source link to a missing file: {href}')
            elif m.group(2) and int(m.group(2)) > len(f.read_text(errors='replace').splitlines()):
                problem(name, f'source link past the end of {m.group(1)}: {href}')
        elif href.startswith(site) or not re.match(r'\w+:|#', href):
            target, _, anchor = (href[len(site):] if href.startswith(site) else
                                 os.path.normpath(os.path.join(os.path.dirname(page), href))).partition('#')
            if not target: continue
            if target.endswith('.ipynb'): target = page_by_nb.get(target, target)
            if target.endswith('.html') and target in parsed:
                if anchor and anchor not in parsed[target].ids: problem(name, f'link to a missing section: {href}')
            elif target.endswith('.html'): problem(name, f'link to a page that does not exist: {href}')
            elif not (out/target).exists() and not (p.parent/href.partition('#')[0]).exists():
                problem(name, f'link to a missing file: {href}')
    # figures: every image on the page is there and not blank
    for src in pg.imgs:
        if re.match(r'\w+:', src): continue
        f = out/os.path.dirname(page)/src
        why = png_problem(f) if f.exists() else png_problem(p.parent/src)
        if why: problem(name, f'figure {src} is not there ({why})')
    # the examples' outputs: nbdev renders the outputs stored in the notebook, it does not execute
    missing, nofig, n = example_problems(src_nb)
    if n: outputs_report.append((name, n, len(missing)))
    if missing: problem(name, f'page shows no output for {len(missing)} of {n} examples that end on a value '
                              f'(cells {cells_list(missing)}): run tools/run_nbs.py on it and commit the outputs')
    if nofig: problem(name, f'figure missing: {len(nofig)} plotting cells store no image (cells {cells_list(nofig)})')
    if not png.exists(): problem(name, 'no screenshot')
    else:
        n_png += 1
        if blank_png(png): problem(name, f'screenshot is blank ({png.stat().st_size} bytes)')
    dup = sorted({h for lv, h in pg.levels if pg.levels.count((lv, h)) > 1 and re.fullmatch(r'[\w.]+', h)})
    if dup: problem(name, f"API section shown twice (an explicit show_doc() repeats nbdev's automatic one?): {', '.join(dup)}")
    shown = set(re.findall(r'show_doc\(\s*([\w.]+)', ' '.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code')))
    heads = set(pg.headings)
    for sym, py, patched in required.get(_nbpath2html(p.relative_to(nbs)).as_posix(), []):
        if ('.' in sym and not patched and sym not in shown) or sym in heads: continue
        problem(name, f'exported symbol {sym} ({py}) has no show_doc section')

if outputs_report:
    print('docs_check: examples with stored outputs, per page:')
    for name, n, miss in outputs_report: print(f"  {name:28} {n-miss:3}/{n:<3} {'ok' if not miss else 'MISSING OUTPUTS'}")

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

print(f'docs_check: {n_html} pages rendered with pandoc, {n_png} screenshots, {len(problems)} problems '
      f'({time.time()-t0:.0f}s: {t_proc:.0f}s nbdev processing, {t_shot:.0f}s pandoc and screenshots; output in {out.relative_to(root)}/)')
sys.exit(1 if problems else 0)
