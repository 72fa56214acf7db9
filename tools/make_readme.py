"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does with Quarto, which cannot be installed here).

Markdown cells are copied; code cells become ```python blocks without nbdev's `#|` directives;
`#| hide` cells are left out. `--check` exits 1 when README.md differs from what it would write.
"""
import json, sys
from pathlib import Path
from fastcore.script import call_parse

def readme_text(nb_path) -> str:
    cells, out = json.loads(Path(nb_path).read_text())['cells'], []
    for c in cells:
        src = ''.join(c['source']).strip('\n')
        if c['cell_type'] == 'markdown': out.append(src)
        elif c['cell_type'] == 'code':
            lines = src.splitlines()
            if any(l.strip().replace(' ', '') in ('#|hide', '#|exporti') for l in lines): continue
            code = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
            if code: out.append(f'```python\n{code}\n```')
    return '\n\n'.join(out) + '\n'

@call_parse
def main(check:bool=False):  # Only compare README.md with the notebook
    root = Path(__file__).resolve().parent.parent
    text = readme_text(root/'nbs'/'index.ipynb')
    if check:
        same = (root/'README.md').read_text() == text
        print('README.md matches nbs/index.ipynb' if same else 'README.md differs from nbs/index.ipynb: run python tools/make_readme.py')
        sys.exit(0 if same else 1)
    (root/'README.md').write_text(text); print('wrote README.md')
