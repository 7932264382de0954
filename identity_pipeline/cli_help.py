"""Help formatting shared by every `identity-pipeline` parser (main CLI and sandboxes)."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default after its help. Options whose default is "not given" (None)
    describe what happens then in their own help text instead of printing None."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:
            return action.help
        return super()._get_help_string(action)
