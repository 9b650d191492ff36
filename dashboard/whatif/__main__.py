"""``python -m dashboard.whatif {as-is,scenario,simulate}``: the model's command line (``loaders.whatif``).

The command line reads the database, which the model itself never does; it lives with the other commands in
``loaders`` and this entry point only hands over to it.
"""

import sys

from loaders.whatif import main

sys.exit(main())
