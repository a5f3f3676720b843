import sys

from rag.offline import enforce_offline

enforce_offline()

from rag.cli import main  # noqa: E402

sys.exit(main())
