"""Hub & Spoke — entry point: page config, settings, identity, navigation. Run with `make run`."""

from dashboard.ui.shell import shell

shell().run()
