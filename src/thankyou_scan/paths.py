"""Where thankyou-scan keeps files of its own: the platform's user config and cache folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["cache_dir", "config_dir"]

APP = "thankyou-scan"


def _base(windows_var: str, mac_folder: str, xdg_var: str, xdg_default: str) -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get(windows_var) or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / mac_folder
    configured = os.environ.get(xdg_var, "")
    return Path(configured) if os.path.isabs(configured) else Path.home() / xdg_default


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/thankyou-scan`` (~/.config), ~/Library/Application Support, or %APPDATA%."""
    return _base("APPDATA", "Application Support", "XDG_CONFIG_HOME", ".config") / APP


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/thankyou-scan`` (~/.cache), ~/Library/Caches, or %LOCALAPPDATA%."""
    return _base("LOCALAPPDATA", "Caches", "XDG_CACHE_HOME", ".cache") / APP
