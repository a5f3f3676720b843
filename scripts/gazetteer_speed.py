"""Time the place-name gazetteer of a folder of documents: first build, then read back from its cache (README, Scale).

The documents are loaded, cleaned and chunked as `index build` does; the cache
goes to a fresh temporary folder, so the first pass always tags every chunk.

    python scripts/gazetteer_speed.py ../shared/corpus-large
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.chunk import chunk_document
from rag.document import prepare_file
from rag.errors import LoadError
from rag.retrieve import cached_gazetteer, gazetteer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    args = ap.parse_args()
    chunks = []
    files = sorted(p for p in args.folder.rglob("*") if p.is_file() and p.suffix in {".txt", ".md", ".html", ".docx"})
    for path in tqdm(files, desc="chunking", unit="file"):
        try:
            chunks += chunk_document(prepare_file(path))
        except LoadError:
            continue
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        first = cached_gazetteer(chunks, Path(cache))
        t1 = time.perf_counter()
        again = cached_gazetteer(chunks, Path(cache))
        t2 = time.perf_counter()
    same = first == again == gazetteer(c.text for c in chunks)
    docs = len({c.doc_id for c in chunks})
    print(f"{docs} documents, {len(chunks)} chunks, {len(first)} place names; same as uncached: {same}")
    print(f"first build {t1 - t0:.1f} s, from the cache {t2 - t1:.2f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
