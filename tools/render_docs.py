"""Render nbdev-processed notebooks (`_proc/*.ipynb`) into an HTML site with pandoc, the way Quarto would.

Quarto cannot be installed here, but it renders with pandoc underneath: it turns each notebook into
pandoc markdown (the front-matter raw cell as YAML metadata; each code cell a `.cell` fenced div with
its code and its stored outputs; `#|` options applied: `echo: false`, `output: false|asis`,
`include: false`) and calls pandoc with its website template. This does the same with Debian's
pandoc and a small template (navbar, sidebar from nbs/sidebar.yml, title block, table of contents),
so that a check or a screenshot sees what a reader of the real site would see.

    python tools/render_docs.py _proc docs_check_out     # as docs_check calls it, after nbdev's processing
"""
import base64, json, os, re, subprocess, sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')

def cell_options(src:str):
    "Quarto's leading `#|` option lines of a code cell -> (options dict, remaining code)"
    lines, opts, i = src.splitlines(), {}, 0
    while i < len(lines) and re.match(r'\s*#\|', lines[i]):
        body = re.sub(r'^\s*#\|\s?', '', lines[i])
        try: v = yaml.safe_load(body)
        except yaml.YAMLError: v = None
        if isinstance(v, dict): opts.update(v)
        elif body.strip(): opts[body.strip().split()[0]] = True   # nbdev's bare directives: `#| hide`, `#| export`
        i += 1
    return opts, '\n'.join(lines[i:]).strip('\n')

def fence(text:str, info:str=''):
    "A backtick code block around `text`, with a fence longer than any backtick run inside it"
    n = max([3] + [len(m) + 1 for m in re.findall(r'`{3,}', text)])
    return f"{'`'*n}{info}\n{text.rstrip(chr(10))}\n{'`'*n}"

def _text(v): return ''.join(v) if isinstance(v, list) else (v or '')

def front_matter(nb):
    "The notebook's YAML front matter (nbdev writes it as a raw first cell), as a dict"
    for c in nb['cells'][:2]:
        src = _text(c['source']).strip()
        if c['cell_type'] == 'raw' and src.startswith('---'):
            try: return yaml.safe_load(src.strip('-\n')) or {}
            except yaml.YAMLError: return {}
    return {}

def output_md(o, opts, fig_path, fig_rel):
    "One stored output as Quarto's markdown: a `.cell-output` div (or raw markdown with `output: asis`)"
    t = o.get('output_type')
    if t == 'stream':
        return f"::: {{.cell-output .cell-output-{o.get('name', 'stdout')}}}\n{fence(ANSI.sub('', _text(o.get('text'))))}\n:::"
    if t == 'error':
        tb = ANSI.sub('', '\n'.join(o.get('traceback') or [f"{o.get('ename')}: {o.get('evalue')}"]))
        return f"::: {{.cell-output .cell-output-error}}\n{fence(tb)}\n:::"
    data = o.get('data', {})
    if opts.get('output') == 'asis' and 'text/markdown' in data: return _text(data['text/markdown'])
    for mime in ('text/markdown', 'text/html', 'image/svg+xml', 'image/png', 'image/jpeg', 'text/plain'):
        if mime not in data: continue
        v = _text(data[mime])
        if mime == 'text/markdown': body = v
        elif mime == 'text/html': body = fence(v, '{=html}')
        elif mime == 'image/svg+xml':
            fig_path.with_suffix('.svg').parent.mkdir(parents=True, exist_ok=True)
            fig_path.with_suffix('.svg').write_text(v); body = f'![]({fig_rel}.svg)'
        elif mime.startswith('image/'):
            ext = '.png' if mime == 'image/png' else '.jpg'
            fig_path.parent.mkdir(parents=True, exist_ok=True)
            fig_path.with_suffix(ext).write_bytes(base64.b64decode(v)); body = f'![]({fig_rel}{ext})'
        else: body = fence(ANSI.sub('', v))
        return f"::: {{.cell-output .cell-output-display}}\n{body}\n:::"
    return ''

def notebook_md(nb, page_stem:str, out:Path):
    "Quarto-like pandoc markdown for a processed notebook; figures are written to `out/<page>_files/`"
    parts = []
    for i, c in enumerate(nb['cells']):
        src = _text(c['source'])
        if c['cell_type'] == 'raw':
            fmt = (c.get('metadata') or {}).get('raw_mimetype', '')
            parts.append(fence(src, '{=html}') if 'html' in fmt else src)
        elif c['cell_type'] == 'markdown': parts.append(src)
        elif c['cell_type'] == 'code':
            opts, code = cell_options(src)
            if opts.get('include') is False or opts.get('hide'): continue
            inner = []
            if code and opts.get('echo', True) is not False: inner.append(fence(code, ' {.python .cell-code}'))
            if opts.get('output', True) is not False:
                merged = []   # consecutive stream outputs of the same stream show as one block, as in Quarto
                for o in c.get('outputs', []):
                    if merged and o.get('output_type') == 'stream' == merged[-1].get('output_type') and o.get('name') == merged[-1].get('name'):
                        merged[-1] = {**merged[-1], 'text': _text(merged[-1]['text']) + _text(o.get('text'))}
                    else: merged.append(o)
                for j, o in enumerate(merged, 1):
                    rel = f'{page_stem}_files/figure-html/cell-{i}-output-{j}'
                    md = output_md(o, opts, out/rel, rel)
                    if md: inner.append(md)
            if not inner: continue
            if opts.get('output') == 'asis' and opts.get('echo') is False: parts.extend(inner)
            else: parts.append(':::: {.cell}\n' + '\n\n'.join(inner) + '\n::::')
    return '\n\n'.join(parts) + '\n'

def sidebar_html(entries, current:str):
    "The sidebar's <nav>: `entries` is a list of (section or None, page, title)"
    html, section = ['<nav id="sidebar"><ul>'], None
    for sec, page, title in entries:
        if sec != section:
            if section is not None: html.append('</ul></li>')
            if sec is not None: html.append(f'<li class="sidebar-section"><span>{sec}</span><ul>')
            section = sec
        active = ' class="active"' if page == current else ''
        href = os.path.relpath(page, os.path.dirname(current) or '.')
        html.append(f'<li><a href="{href}"{active}>{title}</a></li>')
    if section is not None: html.append('</ul></li>')
    return '\n'.join(html + ['</ul></nav>'])

def sidebar_entries(nbs:Path, pages:dict):
    "[(section, page, title)] in nbs/sidebar.yml's order; `pages` maps a notebook (relative to nbs) to (page, title)"
    side = nbs/'sidebar.yml'
    contents = ((yaml.safe_load(side.read_text()) or {}).get('website') or {}).get('sidebar', {}).get('contents') if side.exists() else None
    res = []
    def walk(items, sec):
        for it in items or []:
            if isinstance(it, str) and it in pages: res.append((sec, *pages[it]))
            elif isinstance(it, dict):
                if it.get('href') in pages: res.append((sec, *pages[it['href']]))
                walk(it.get('contents'), it.get('section', sec))
    walk(contents if contents is not None else sorted(pages), None)
    return res

def render_site(proc:Path, nbs:Path, out:Path, site_title:str, notebooks=None):
    "Render every processed notebook under `proc` (or those in `notebooks`, relative to proc) to `out`; -> {notebook: page}"
    out.mkdir(parents=True, exist_ok=True)
    nb_files = [proc/n for n in notebooks] if notebooks is not None else sorted(proc.rglob('*.ipynb'))
    nbs_json = {f.relative_to(proc).as_posix(): json.loads(f.read_text()) for f in nb_files}
    pages = {}
    for rel, nb in nbs_json.items():
        fm = front_matter(nb)
        page = (Path(rel).parent/fm['output-file']).as_posix() if fm.get('output-file') else Path(rel).with_suffix('.html').as_posix()
        pages[rel] = (page, str(fm.get('title') or Path(rel).stem))
    entries = sidebar_entries(nbs, pages)
    css = [HERE/'docs_site.css', nbs/'styles.css']
    for f in css:
        if f.exists(): (out/f.name).write_text(f.read_text())
    results = {}
    for rel, nb in nbs_json.items():
        page = pages[rel][0]
        stem = Path(page).with_suffix('').as_posix()
        md = out/f'{stem}.md'
        md.parent.mkdir(parents=True, exist_ok=True)
        md.write_text(notebook_md(nb, Path(stem).name, md.parent))
        side = out/f'{stem}.sidebar.html'
        side.write_text(sidebar_html(entries, page))
        cmd = ['pandoc', str(md), '--from', 'markdown', '--to', 'html5', '--standalone',
               '--template', str(HERE/'docs_template.html'), '--toc', '--toc-depth=3', '--mathml',
               '--highlight-style=pygments', '--include-before-body', str(side),
               '--metadata', f'pagetitle={pages[rel][1]}', '--variable', f'site-title={site_title}',
               '--variable', f"home={os.path.relpath(pages.get('index.ipynb', ('index.html',))[0], os.path.dirname(page) or '.')}",
               '--output', str(out/page)] + sum([['--css', os.path.relpath(f.name, os.path.dirname(page) or '.')] for f in css if f.exists()], [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        results[rel] = (page, r.returncode, r.stderr.strip())
    return results

if __name__ == '__main__':
    proc, out = Path(sys.argv[1]), Path(sys.argv[2])
    for rel, (page, rc, err) in render_site(proc, Path('nbs'), out, 'docs').items():
        print(f"{'ok ' if rc == 0 else 'FAIL'} {rel} -> {out/page}" + (f': {err}' if err else ''))
