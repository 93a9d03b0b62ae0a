"""``thankyou-scan completion bash|zsh|fish``: the shell's completion script, made by shtab from the parser.

Installing it (docs/report.md "Shell completion"):
bash: ``thankyou-scan completion bash > ~/.local/share/bash-completion/completions/thankyou-scan``;
zsh: ``thankyou-scan completion zsh > ~/.zfunc/_thankyou-scan`` (with ``fpath+=~/.zfunc`` before
``compinit``); fish: ``thankyou-scan completion fish > ~/.config/fish/completions/thankyou-scan.fish``.
"""

from __future__ import annotations

import argparse

__all__ = ["SHELLS", "completion_script"]

SHELLS = ("bash", "zsh", "fish")


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script for ``shell``, ending with a newline."""
    import shtab  # only this command needs it

    script: str = shtab.complete(parser, shell=shell)
    return script if script.endswith("\n") else script + "\n"
