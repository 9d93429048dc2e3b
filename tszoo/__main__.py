import sys

from tszoo.cli import main

sys.exit(main())
