"""The LLM options shared by `python -m rag ask` and `python -m ui`: one definition, so both read them alike."""

from __future__ import annotations

import argparse

from rag.config import Settings


def add_llm_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--llm",
        action="append",
        help="bundled model key, path to a .gguf file, or OpenAI-compatible servers: openai:http://host:port/v1 "
        "(repeat --llm or separate URLs with commas to spread the load; env RAG_LLM)",
    )
    parser.add_argument("--llm-model", dest="llm_model", help="model name to ask the servers for (env RAG_LLM_MODEL)")
    parser.add_argument("--llm-api-key", dest="llm_api_key", help="bearer key of the servers (env RAG_LLM_API_KEY)")
    parser.add_argument("--llm-slots", dest="llm_slots", type=int, help="requests one server takes at once (default 1)")


def apply_llm_args(settings: Settings, args: argparse.Namespace) -> Settings:
    """Copy the given options onto `settings`; a repeated --llm becomes one comma-separated server list."""
    llm = getattr(args, "llm", None)
    if llm:
        settings.llm = ",".join(llm) if isinstance(llm, list) else llm
    for key in ("llm_model", "llm_api_key", "llm_slots"):
        value = getattr(args, key, None)
        if value is not None:
            setattr(settings, key, value)
    return settings
