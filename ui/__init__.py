"""Web chat and OpenAI-compatible HTTP API over the policy-document pipeline.

Importing this package first switches every bundled library to offline mode
(GRADIO_ANALYTICS_ENABLED=False among them), before gradio is ever imported.
"""

from rag.offline import enforce_offline

enforce_offline()
