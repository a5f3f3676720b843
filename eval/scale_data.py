"""The chunks of the scale test: the bundled corpus, real distractors, and synthetic chunks made from the distractors.

Only real text is embedded, once: vectors are cached under <cache>/scale keyed
on the embedder and the chunk's embedded text (and seeded from any cached eval
index of the same embedder); each embedding session is logged with its time.
Sizes above the real pool are synthesised from the real distractors
(`synthesise`), in one of two ways (SYNTHESES):

- "copies": every extra chunk is a copy of a real distractor whose vector gets
  Gaussian noise and is renormalised; ~90 near-twins per chunk at 10^6, so a
  query's exact top 10 inside such a cluster is decided by the noise.
- "mixtures": every extra vector is the normalised mixture a*x_i + (1-a)*x_j of
  two different random real distractors (a uniform in MIX_WEIGHT): vectors that
  lie between topics rather than on top of one.

Either way a synthetic chunk's text is its (larger-weight) source's text plus a
marker, as its own document, so BM25 and the hybrid retriever have text to rank.
Neither says how real text at 10^6 would retrieve: they load the index with a
known distribution.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.common import benchmarks_dir, cache_root, shared_dir
from rag.types import Chunk

COPY_MARK = "〔副本{n}〕"  # appended to a copy's text: two tokens (副本, n) for BM25
MIX_MARK = "〔混合{n}〕"  # appended to a mixture's text (its larger-weight source's): two tokens (混合, n)
SIGMA = (0.2, 0.5)  # noise scale per copy, uniform: cos(copy, source) = 1/sqrt(1+σ²) ≈ 0.98 … 0.89
MIX_WEIGHT = (0.2, 0.8)  # weight a of the first source in a mixture, uniform
SYNTHESES = ("copies", "mixtures")
DEFAULT_SYNTHESIS = "mixtures"  # what `python -m eval scale` builds unless told (README "Scale")
MARKS = {"copies": COPY_MARK, "mixtures": MIX_MARK}
SHARD = 512  # vectors embedded between two cache writes


@dataclass
class Pool:
    """Real chunks with their vectors: `corpus` is what the dev questions ask about, `distractors` the rest."""

    corpus: list[Chunk]
    corpus_vecs: np.ndarray
    distractors: list[Chunk]
    distractor_vecs: np.ndarray


@dataclass
class Collection:
    """One store's content. Rows [0, n_corpus) are the bundled corpus; `source[i]` is the real row a synthetic
    chunk was made from, whose text it carries (a mixture's larger-weight source; i itself for real chunks),
    `copy_no[i]` the number in its marker (0 for real chunks); `partner[i]` a mixture's other source row
    (-1 otherwise) and `weight[i]` the source's weight in it (1 otherwise)."""

    chunks: list[Chunk]
    vectors: np.ndarray
    source: np.ndarray
    copy_no: np.ndarray
    n_corpus: int
    n_real: int
    synthesis: str = "copies"
    partner: np.ndarray | None = None
    weight: np.ndarray | None = None

    @property
    def mark(self) -> str:
        """The marker template of this collection's synthetic chunks."""
        return MARKS[self.synthesis]

    @property
    def size(self) -> int:
        return len(self.chunks)


def scale_cache() -> Path:
    return cache_root().parent / "scale"


def text_key(embedder_name: str, text: str) -> str:
    return hashlib.sha256(f"{embedder_name}\0{text}".encode()).hexdigest()[:32]


class VectorCache:
    """Passage vectors by content key, in shards of <= SHARD rows (a killed run keeps what it embedded)."""

    def __init__(self, folder: Path, embedder_name: str) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", embedder_name)
        self.folder = folder / f"vectors-{safe}"
        self.embedder_name = embedder_name
        self.vecs: dict[str, np.ndarray] = {}
        for shard in sorted(self.folder.glob("shard-*.npz")):
            with np.load(shard) as z:
                self.vecs.update(zip(z["keys"].tolist(), z["vectors"], strict=True))

    def _write(self, keys: list[str], vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("".join(keys).encode()).hexdigest()[:16]
        tmp = self.folder / f".shard-{name}.npz"
        np.savez(tmp, keys=np.array(keys), vectors=vectors.astype(np.float32))
        tmp.rename(self.folder / f"shard-{name}.npz")
        self.vecs.update(zip(keys, vectors, strict=True))

    def _log(self, kind: str, n: int, chars: int, seconds: float) -> None:
        """One line per embedding session in <folder>/embedded.jsonl: how long embedding took here."""
        if not n:
            return
        entry = {
            "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
            "kind": kind,
            "texts": n,
            "chars": chars,
            "s": round(seconds, 1),
            "per_s": round(n / seconds, 1) if seconds else None,
            "load_avg": [round(x, 2) for x in os.getloadavg()],
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "embedded.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")

    def log(self) -> list[dict]:
        path = self.folder / "embedded.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []

    def seed_from_indexes(self, roots: list[Path]) -> int:
        """Take the vectors of already-built indexes of this embedder (their chunks' embedded text is the key)."""
        added = 0
        for root in roots:
            try:
                folder = root / (root / "CURRENT").read_text().strip()
                manifest = json.loads((folder / "manifest.json").read_text())
                if manifest.get("embedder") != self.embedder_name:
                    continue
                rows = (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
                vectors = np.load(folder / "vectors.npy")
            except (OSError, ValueError):
                continue
            keys = [text_key(self.embedder_name, Chunk(**json.loads(r)).embed_text()) for r in rows]
            new = [i for i, k in enumerate(keys) if k not in self.vecs]
            if new and len(keys) == len(vectors):
                self._write([keys[i] for i in new], vectors[new])
                added += len(new)
        return added

    def vectors(
        self,
        texts: list[str],
        embed: Callable[[list[str]], np.ndarray],
        progress: str = "embedding",
        kind: str = "passage",
    ) -> np.ndarray:
        """Vectors of the texts, embedding (with `embed`) only those not cached; `kind` keeps query and
        passage vectors of one text apart."""
        keys = [text_key(self.embedder_name, t if kind == "passage" else f"{kind}: {t}") for t in texts]
        todo = list(dict.fromkeys(k for k in keys if k not in self.vecs))
        if todo:
            text_of = dict(zip(keys, texts, strict=True))
            t0, done = time.perf_counter(), 0
            try:
                for i in tqdm(range(0, len(todo), SHARD), desc=progress, unit=f"x{SHARD}"):
                    part = sorted(todo[i : i + SHARD], key=lambda k: len(text_of[k]))  # like lengths: less padding
                    self._write(part, embed([text_of[k] for k in part]))
                    done += len(part)
            finally:
                self._log(kind, done, sum(len(text_of[k]) for k in todo[:done]), time.perf_counter() - t0)
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self.vecs[k] for k in keys]).astype(np.float32)


def corpus_chunks(docs_dir: Path) -> list[Chunk]:
    """The bundled corpus chunked as the product chunks it (default ChunkSettings)."""
    from rag.chunk import chunk_document
    from rag.document import prepare_file
    from rag.load import iter_dir

    return [c for p in iter_dir(docs_dir) for c in chunk_document(prepare_file(p))]


def law_chunks(folder: Path, n: int | None = None, seed: int = 0) -> list[Chunk]:
    """corpus-large: 309 laws, cut per article by the product's chunker (~21,500 chunks); with `n`, the first
    n of a seeded permutation, so a larger n extends a smaller one and its cached vectors are reused."""
    from rag.chunk import chunk_document
    from rag.document import prepare_file
    from rag.load import iter_dir

    paths = [p for p in iter_dir(folder) if p.name.lower() != "readme.md"]
    chunks = [c for p in tqdm(paths, desc="chunking laws", unit="doc") for c in chunk_document(prepare_file(p))]
    order = np.random.default_rng(seed).permutation(len(chunks))
    return [chunks[i] for i in order[:n]]


def cmrc_chunks(bench: str | None) -> list[Chunk]:
    """CMRC 2018 dev paragraphs chunked exactly as `python -m eval cmrc` does (so its cached vectors apply)."""
    from eval import cmrc
    from rag.chunk import ChunkSettings, chunk_document

    path = benchmarks_dir(bench) / "cmrc2018" / "cmrc2018_dev.json"
    if not path.is_file():
        return []
    paras, _ = cmrc.load(path)
    settings = ChunkSettings(cmrc.CHUNK_SIZE, 0, min_section=0)
    return [c for d in cmrc.documents(paras) for c in chunk_document(d, settings)]


def real_pool(
    embedder, docs_dir: Path, n_laws: int | None = None, laws_dir: Path | None = None, bench: str | None = None
) -> Pool:
    """Corpus + CMRC + `n_laws` law chunks (all when None) with vectors, embedding what is not cached yet."""
    laws_dir = laws_dir or shared_dir() / "corpus-large" / "laws"
    cache = VectorCache(scale_cache(), embedder.name)
    seeded = cache.seed_from_indexes(sorted(p for p in cache_root().glob("*") if (p / "CURRENT").exists()))
    if seeded:
        print(f"vector cache: {seeded} vectors taken from cached eval indexes")
    corpus = corpus_chunks(docs_dir)
    distractors = cmrc_chunks(bench)
    distractors += law_chunks(laws_dir, n_laws) if laws_dir.is_dir() and n_laws != 0 else []
    seen = {c.embed_text() for c in corpus}
    unique: dict[str, Chunk] = {}
    for c in distractors:  # identical texts (the same article in two laws) would be exact ties
        unique.setdefault(c.embed_text(), c)
    distractors = [c for t, c in unique.items() if t not in seen]
    return Pool(
        corpus,
        cache.vectors([c.embed_text() for c in corpus], embedder.embed_passages, "embedding corpus"),
        distractors,
        cache.vectors([c.embed_text() for c in distractors], embedder.embed_passages, "embedding distractors"),
    )


def perturb(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each row plus isotropic Gaussian noise of norm ≈ σ (σ uniform in SIGMA), renormalised."""
    n, dim = vectors.shape
    sigma = rng.uniform(*SIGMA, size=(n, 1)).astype(np.float32)
    noise = rng.standard_normal((n, dim), dtype=np.float32) * (sigma / np.sqrt(dim))
    out = vectors + noise
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def copy_chunk(c: Chunk, n: int, mark: str = COPY_MARK) -> Chunk:
    """A synthetic chunk made from a distractor, as its own document: same text plus the marker."""
    return replace(c, id=f"{c.id}~{n}", doc_id=f"{c.doc_id}~{n}", text=c.text + mark.format(n=n))


def mix(vectors: np.ndarray, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`m` normalised mixtures a*x_i + (1-a)*x_j of two different rows (a uniform in MIX_WEIGHT):
    (mixtures, i, j, a) with the larger-weight row first (a >= 0.5)."""
    n = len(vectors)
    if n < 2:
        raise ValueError("mixtures need at least two distractor chunks")
    i = rng.integers(0, n, m)
    j = (i + rng.integers(1, n, m)) % n  # never i itself: that would be an exact copy
    a = rng.uniform(*MIX_WEIGHT, size=m).astype(np.float32)
    swap = a < 0.5
    i[swap], j[swap] = j[swap], i[swap]
    a = np.where(swap, 1 - a, a).astype(np.float32)
    out = np.empty((m, vectors.shape[1]), dtype=np.float32)
    step = 100_000  # bounded temporaries at 10^6
    for s in range(0, m, step):
        e = min(m, s + step)
        w = a[s:e, None]
        out[s:e] = w * vectors[i[s:e]] + (1 - w) * vectors[j[s:e]]
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out, i, j, a


def _numbered(rows: np.ndarray) -> np.ndarray:
    """1, 2, ... per distinct value of `rows`, in order of appearance: the marker numbers of a source's mixtures."""
    order = np.argsort(rows, kind="stable")
    ranked = rows[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ranked)) + 1]
    within = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    out = np.empty(len(rows), dtype=np.int32)
    out[order] = within + 1
    return out


def synthesise(pool: Pool, size: int, seed: int = 0, synthesis: str = "copies") -> Collection:
    """`size` chunks: the whole corpus, then real distractors (a seeded sample when there are more than
    needed), then synthetic chunks made from the real distractors (never from the corpus): with "copies",
    perturbed copies in rounds (copy n of every distractor before n+1); with "mixtures", mixtures of two
    random distractors carrying the larger-weight one's text."""
    if synthesis not in SYNTHESES:
        raise ValueError(f"unknown synthesis {synthesis!r}; choose one of {SYNTHESES}")
    rng = np.random.default_rng(seed)
    nc, nd = len(pool.corpus), len(pool.distractors)
    if size < nc:
        raise ValueError(f"size {size} is smaller than the bundled corpus ({nc} chunks)")
    if size > nc and not nd:
        raise ValueError("no distractor chunks to fill the store with (corpus-large and CMRC both missing)")
    take = min(size - nc, nd)
    real = np.sort(rng.permutation(nd)[:take]) if take < nd else np.arange(nd)
    chunks = pool.corpus + [pool.distractors[i] for i in real]
    vecs = [pool.corpus_vecs, pool.distractor_vecs[real]]
    source = list(range(nc + take))
    copy_no = [0] * (nc + take)
    extra = size - nc - take
    partner = weight = None
    if synthesis == "copies":
        order = rng.permutation(nd)
        n = 0
        while extra > 0:
            n += 1
            rows = np.sort(order[: min(extra, nd)])
            chunks += [copy_chunk(pool.distractors[i], n) for i in rows]
            vecs.append(perturb(pool.distractor_vecs[rows], rng))
            source += (rows + nc).tolist()
            copy_no += [n] * len(rows)
            extra -= len(rows)
    else:
        partner = np.full(size, -1, dtype=np.int64)
        weight = np.ones(size, dtype=np.float32)
        if extra > 0:
            mixed, i, j, a = mix(pool.distractor_vecs, extra, rng)
            numbers = _numbered(i)
            pairs = zip(i.tolist(), numbers.tolist(), strict=True)
            chunks += [copy_chunk(pool.distractors[r], n, MIX_MARK) for r, n in pairs]
            vecs.append(mixed)
            # every distractor is in the collection here (take == nd), at row nc + its index
            source += (i + nc).tolist()
            copy_no += numbers.tolist()
            partner[nc + take :] = j + nc
            weight[nc + take :] = a
    return Collection(
        chunks,
        np.ascontiguousarray(np.vstack(vecs), dtype=np.float32),
        np.asarray(source, dtype=np.int64),
        np.asarray(copy_no, dtype=np.int32),
        nc,
        nc + take,
        synthesis,
        partner,
        weight,
    )
