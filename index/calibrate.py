"""The refusal floor of an index, calibrated for its embedder and stored in its manifest.

Below the floor, a question's best dense similarity says the documents do not
cover it, and the answer is refused before the model runs. Similarity scales
differ between embedders (multilingual-e5 puts unrelated texts near 0.8,
EmbeddingGemma near 0.1) and with the size of the index (more chunks, higher
best matches), so a hand-set number fits one embedder on one corpus. The floor
is instead measured: the median, over everyday questions no document archive
answers, of each one's best similarity in this index. A question no closer to
the documents than a typical unrelated one is refused; anything closer goes on
to the model and the answer checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rag.types import Scope

if TYPE_CHECKING:
    from index.embed import Embedder
    from index.stores import SearchIndex

# Everyday questions in the three scripts users ask in; none touches policy, law or statistics.
PROBES = (
    "今天天气怎么样？",
    "红烧肉怎么做才好吃？",
    "世界杯足球赛冠军是哪个国家？",
    "如何给猫洗澡？",
    "推荐几部好看的科幻电影。",
    "手机没电了怎么办？",
    "怎样学好吉他？",
    "月球离地球有多远？",
    "明天去海边要带什么？",
    "感冒了吃什么药？",
    "恐龍是怎麼滅絕的？",
    "如何提高英語口語？",
    "What is the best way to learn to swim?",
    "How do I bake sourdough bread?",
    "Who painted the Mona Lisa?",
    "What time is it in Tokyo?",
)
METHOD = f"median best dense similarity of {len(PROBES)} unrelated questions"

# Questions searched in English (a translation the model could not give): a multilingual embedder puts any
# English text further from Chinese passages than Chinese text, related or not, so an English search is held
# to the floor of English questions no document answers, not to the mostly Chinese one above.
LATIN_PROBES = (
    "What is the best way to learn to swim?",
    "How do I bake sourdough bread?",
    "Who painted the Mona Lisa?",
    "What time is it in Tokyo?",
    "How far is the Moon from the Earth?",
    "Which science fiction films are worth watching?",
    "How do I give my cat a bath?",
    "What should I take to the beach tomorrow?",
    "How can I learn to play the guitar?",
    "What should I do when my phone battery is empty?",
    "Which country won the football World Cup?",
    "What medicine helps with a cold?",
)


def probe_vectors(embedder: Embedder) -> np.ndarray:
    return np.asarray(embedder.embed_queries(list(PROBES)), dtype=np.float32)


def best_in_vectors(vectors: np.ndarray, probes: np.ndarray) -> np.ndarray:
    """Each probe's best similarity among these chunk vectors (-1 for none)."""
    if len(vectors) == 0:
        return np.full(len(probes), -1.0, dtype=np.float32)
    return (vectors @ probes.T).max(axis=0)


def best_in_index(
    index: SearchIndex, probes: np.ndarray, keep: set[str] | None = None, texts: tuple[str, ...] = PROBES
) -> np.ndarray:
    """Each probe's best similarity in an opened index, through the store's own search (any store);
    `keep` limits it to those documents (the ones an update leaves in place); `texts` are the probes' words."""
    docs = set(index.docs) if keep is None else keep & set(index.docs)
    if not docs or not index.chunks:
        return np.full(len(probes), -1.0, dtype=np.float32)
    scope = None if docs == set(index.docs) else Scope(docs=tuple(sorted(docs)))
    best = []
    for vec, text in zip(probes, texts, strict=True):
        signals = index.signals(vec, text, 1, scope)
        best.append(float(signals.dense_of(signals.dense_ids[:1])[0]) if len(signals.dense_ids) else -1.0)
    return np.array(best, dtype=np.float32)


def floor_of(best: np.ndarray) -> float | None:
    """The median best similarity; None for an empty index (nothing to compare with)."""
    seen = best[best > -1.0]
    return round(float(np.median(seen)), 4) if len(seen) else None


def calibrate(index: SearchIndex, embedder: Embedder) -> float | None:
    """The floor of an index whose manifest holds none (built before calibration, or after a removal)."""
    return floor_of(best_in_index(index, probe_vectors(embedder)))


def latin_floor(index: SearchIndex, embedder: Embedder) -> float | None:
    """The floor for a question searched in English, measured on the open index (one search per probe, well
    under a second) each time it is loaded."""
    probes = np.asarray(embedder.embed_queries(list(LATIN_PROBES)), dtype=np.float32)
    return floor_of(best_in_index(index, probes, texts=LATIN_PROBES))
