"""How fast the local model reads a prompt (prefill), with and without flash attention (README "Speed and memory").

The first visible token waits for the model to read the passages and the
question: this times that step alone, on ~700 characters of the bundled
corpus, three times per setting, and prints the best of each.

    python scripts/prefill_speed.py [--model PATH] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llama_cpp import Llama

from rag.config import DEFAULT_DOCS
from rag.models import resolve_llm


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="GGUF file (default: the bundled model)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    path = Path(args.model) if args.model else resolve_llm(None)
    text = sorted(DEFAULT_DOCS.glob("*.txt"))[0].read_text(encoding="utf-8")[:700]
    for flash in (False, True):
        llm = Llama(
            model_path=str(path),
            n_ctx=2048,
            n_threads=args.threads,
            n_threads_batch=args.threads,
            n_batch=512,
            verbose=False,
            flash_attn=flash,
        )
        tokens = llm.tokenize(text.encode("utf-8"))
        times = []
        for _ in range(3):
            llm.reset()
            t0 = time.perf_counter()
            llm.eval(tokens)
            times.append(time.perf_counter() - t0)
        print(
            f"flash_attn={flash}: {len(tokens)} tokens in {min(times):.2f} s, {len(tokens) / min(times):.0f} tokens/s"
        )
        del llm
    return 0


if __name__ == "__main__":
    sys.exit(main())
