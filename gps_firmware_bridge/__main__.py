"""``python -m gps_firmware_bridge`` runs the ``siaga-bridge`` command."""

import sys

from gps_firmware_bridge.cli import main

sys.exit(main())
