"""aiospec_matrix: every loop on this machine against every CPython version, as one static page.

`python3 -m aiospec_matrix --aiospec build/tools/aiospec --out build/matrix` (what `make matrix`
runs) judges each loop of loops.py with `aiospec report --json`, then renders the reports into
`index.html` (and `matrix.json`, the records of every report in one file). The page is static
and self-contained: it opens from disk, offline, in any browser.
"""
