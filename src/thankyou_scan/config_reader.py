"""Reading a config file's YAML tree into a :class:`~thankyou_scan.config.Config`: every key checked.

The rules of docs/daily-use.md, one reader method per part (the top level, an account's
connection, its one way to a secret, the OAuth2 keys); every problem is kept with its
line, as for a calendar. ``config.py`` holds the data and finds and opens the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .config import OAUTH2_PROVIDERS, SECRET_WAYS, Account, Config
from .errors import UsageError
from .network import host_problem
from .paths import expand_user
from .yamlnodes import NodeReader, describe, did_you_mean, kind_of, short

__all__ = ["SECRET_HINT", "ConfigReader"]

MAX_ACCOUNTS = 50

SECRET_HINT = (
    "a password is never read from the config file — give one of: "
    "'password_command: [pass, show, mail/you]' (a password manager's command, run without a shell), "
    "'password_env: VARIABLE', 'keyring: true' (stored with: keyring set thankyou-scan YOUR-LOGIN), "
    "or 'oauth2: gmail' / 'oauth2: microsoft'"
)

_PASSWORD_KEYS = frozenset(
    {"password", "pass", "passwd", "app_password", "secret", "token", "access_token", "refresh_token"}
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TOP_KEYS = ("version", "name", "calendar", "me", "accounts", "drafts")
_ACCOUNT_KEYS = (
    "name",
    "imap_host",
    "imap_port",
    "security",
    "user",
    "folder",
    "tls_ca",
    "insecure_skip_verify",
    "timeout",
    "password_command",
    "password_env",
    "keyring",
    "oauth2",
    "oauth2_client_file",
    "oauth2_client_id",
    "oauth2_authority",
)
_DRAFTS_KEYS = ("templates", "folder")
_SECURITY = ("ssl", "starttls", "plain")
_SECRET_WORDS = ("password", "passwd", "secret", "token")
"""Parts of a key that say it holds a secret: such a key is refused without its value being shown."""


def _holds_control_characters(text: str) -> bool:
    """C0 and C1 controls and DEL: a NUL cannot reach a path, nor a CR/LF an IMAP command."""
    return any(ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0 for char in text)


def _is_secret_key(key: str) -> bool:
    """``password``, ``imap_password``, ``refresh_token``...: a key that can only hold a secret."""
    lowered = key.lower()
    return lowered in _PASSWORD_KEYS or (
        lowered not in _ACCOUNT_KEYS and any(word in lowered for word in _SECRET_WORDS)
    )


class ConfigReader(NodeReader[Config]):
    """Reads a config file's tree; ``folder`` anchors its relative paths."""

    def __init__(self, path: str, folder: Path) -> None:
        super().__init__(path)
        self.folder = folder

    # Messages about an account name it: ``where`` is the account's name, where a calendar's is an event's.
    def refuse(self, node: yaml.Node | None, event: str | None, message: str) -> None:
        """Record a problem at ``node``'s line, in the account ``event`` names (if any)."""
        super().refuse(node, None, f"account {event!r}: {message}" if event else message)

    def warn(self, node: yaml.Node | None, event: str | None, message: str) -> None:
        """Record a warning at ``node``'s line, in the account ``event`` names (if any)."""
        super().warn(node, None, f"account {event!r}: {message}" if event else message)

    def read_text(self, node: yaml.Node, event: str | None, key: str) -> str | None:
        """Text as the base reader checks it, without control characters (a tab, a NUL, a line break)."""
        text = super().read_text(node, event, key)
        if text is not None and _holds_control_characters(text):
            self.refuse(
                node, event, f"{key!r} holds a control character (a tab, a line break...) — remove it"
            )
            return None
        return text

    def build(self, root: yaml.Node) -> Config:
        """The whole config: the top-level keys, each account, the drafts settings."""
        empty = Config(path=Path(self.path))
        top = self.read_top(root, _TOP_KEYS, "the config")
        if top is None:
            return empty
        name = (self.read_text(top["name"][1], None, "name") or "") if "name" in top else ""
        calendars = tuple(self.read_path(item, "calendar") for item in self.items(top, "calendar"))
        me = tuple(self.read_address_text(item) for item in self.items(top, "me"))
        accounts = self.read_accounts(top["accounts"][1]) if "accounts" in top else ()
        templates: dict[str, Path] = {}
        drafts_folder = None
        if "drafts" in top:
            drafts = self.read_mapping(top["drafts"][1], _DRAFTS_KEYS, None, "'drafts'") or {}
            if "templates" in drafts:
                templates = self.read_templates(drafts["templates"][1])
            if "folder" in drafts:
                drafts_folder = self.read_text(drafts["folder"][1], None, "folder")
        return Config(
            path=Path(self.path),
            name=name,
            calendars=tuple(path for path in calendars if path is not None),
            me=tuple(address for address in me if address is not None),
            accounts=accounts,
            drafts_templates=templates,
            drafts_folder=drafts_folder,
        )

    # -- pieces ----------------------------------------------------------------

    def items(self, top: dict[str, tuple[yaml.Node, yaml.Node]], key: str) -> list[yaml.Node]:
        """The value of ``key`` as a list of nodes: one scalar, or a list of them."""
        if key not in top:
            return []
        node = top[key][1]
        return list(node.value) if isinstance(node, yaml.SequenceNode) else [node]

    def read_path(self, node: yaml.Node, key: str) -> Path | None:
        """A path: ``~`` expanded, relative to the config file's folder; None when refused."""
        text = self.read_text(node, None, key)
        if text is None:
            return None
        try:
            path = expand_user(text, repr(key))
        except UsageError as exc:
            self.refuse(node, None, str(exc))
            return None
        return path if path.is_absolute() else self.folder / path

    def read_address_text(self, node: yaml.Node) -> str | None:
        """One ``me:`` address (it must hold an ``@``), or None when refused."""
        text = self.read_text(node, None, "me")
        if text is not None and "@" not in text:
            self.refuse(node, None, f"'me' holds {text!r}, not an email address — write your address")
            return None
        return text

    def read_templates(self, node: yaml.Node) -> dict[str, Path]:
        """``drafts: templates:``: a mapping of event kind to template file."""
        result: dict[str, Path] = {}
        if not isinstance(node, yaml.MappingNode):
            self.refuse(node, None, f"'templates' must map a kind to a file, not {kind_of(node)}")
            return result
        for key, value in node.value:
            kind = str(key.value).strip() if isinstance(key, yaml.ScalarNode) else ""
            path = self.read_path(value, f"templates.{kind}")
            if kind and path is not None:
                result[kind] = path
        return result

    def read_accounts(self, node: yaml.Node) -> tuple[Account, ...]:
        """The ``accounts:`` list (at most MAX_ACCOUNTS, names unique whatever their case)."""
        if not isinstance(node, yaml.SequenceNode):
            self.refuse(
                node, None, f"'accounts' must be a list (each entry starting with '- '), not {kind_of(node)}"
            )
            return ()
        if len(node.value) > MAX_ACCOUNTS:
            self.refuse(node, None, f"'accounts' has {len(node.value)} entries; the limit is {MAX_ACCOUNTS}")
            return ()
        accounts: list[Account] = []
        for item in node.value:
            account = self.read_account(item)
            if account is None:
                continue
            same = next((other for other in accounts if other.name.lower() == account.name.lower()), None)
            if same is not None:
                # `--account work` must not depend on case: Work and work are one name to a person.
                also = "" if same.name == account.name else f" (as {same.name!r}, but for case)"
                self.refuse(
                    item, account.name, f"a second account is called {account.name!r}{also} — rename one"
                )
                continue
            accounts.append(account)
        return tuple(accounts)

    def read_account(self, node: yaml.Node) -> Account | None:
        """One account, or None when any of its keys is refused."""
        if isinstance(node, yaml.MappingNode):
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode) and _is_secret_key(str(key.value)):
                    # The value is never quoted back: it is the very thing that must not be shown.
                    self.refuse(key, None, f"account key {key.value!r}: {SECRET_HINT}")
                    return None
        keys = self.read_mapping(node, _ACCOUNT_KEYS, None, "an account")
        if keys is None:
            return None
        where = None
        name = None
        if "name" not in keys:
            self.refuse(node, None, "an account needs a 'name:', the name you choose it by")
        else:
            name = self.read_text(keys["name"][1], None, "name")
            if name is not None and not _NAME.fullmatch(name):
                self.refuse(
                    keys["name"][1],
                    None,
                    f"account name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)",
                )
                name = None
            where = name
        values = self.read_connection(node, keys, where)
        ways = [key for key in SECRET_WAYS if key in keys]
        if not ways:
            self.refuse(
                node, where, "the account needs one way to its password: " + SECRET_HINT.split(" — ", 1)[1]
            )
        elif len(ways) > 1:
            self.refuse(keys[ways[1]][0], where, f"give one of {', '.join(ways)}, not several")
        else:
            self.read_secret_way(ways[0], keys, where, values)
        self.read_oauth2_keys(node, keys, where, values)
        if name is None or any(values.get(key) is None for key in ("imap_host", "user")):
            return None
        return Account(name=name, line=node.start_mark.line + 1, **values)  # type: ignore[arg-type]

    def read_connection(
        self, node: yaml.Node, keys: dict[str, tuple[yaml.Node, yaml.Node]], where: str | None
    ) -> dict[str, object]:
        """The account's server and login: host, user, port, security, folders, TLS, timeout."""
        values: dict[str, object] = {}
        for key in ("imap_host", "user"):
            if key not in keys:
                self.refuse(node, where, f"the account needs '{key}:'")
            else:
                values[key] = self.read_text(keys[key][1], where, key)
        host = values.get("imap_host")
        if isinstance(host, str) and (problem := host_problem(host)) is not None:
            hint = (
                "give only the host name (like imap.gmail.com); a port goes to 'imap_port:'"
                if problem == "port"
                else "write it like imap.gmail.com"
            )
            self.refuse(keys["imap_host"][1], where, f"imap_host {short(host)!r} is not a host name — {hint}")
            values["imap_host"] = None
        if "imap_port" in keys:
            values["imap_port"] = self.read_port(keys["imap_port"][1], where)
        if "security" in keys:
            security = self.read_text(keys["security"][1], where, "security")
            if security is not None and security not in _SECURITY:
                hint = did_you_mean(security, _SECURITY) or "one of: ssl, starttls, plain"
                self.refuse(keys["security"][1], where, f"security {security!r} is not known — {hint}")
            else:
                values["security"] = security
        if "folder" in keys:
            node_ = keys["folder"][1]
            items = node_.value if isinstance(node_, yaml.SequenceNode) else [node_]
            values["folders"] = tuple(
                text for item in items if (text := self.read_text(item, where, "folder")) is not None
            )
        if "tls_ca" in keys:
            tls_ca = self.read_path(keys["tls_ca"][1], "tls_ca")
            values["tls_ca"] = None if tls_ca is None else str(tls_ca)
        if "insecure_skip_verify" in keys:
            values["verify"] = not self.read_boolean(
                keys["insecure_skip_verify"][1], where, "insecure_skip_verify"
            )
        if "timeout" in keys:
            values["timeout"] = self.read_timeout(keys["timeout"][1], where)
        return values

    def read_oauth2_keys(
        self,
        node: yaml.Node,
        keys: dict[str, tuple[yaml.Node, yaml.Node]],
        where: str | None,
        values: dict[str, object],
    ) -> None:
        """The OAuth2 client keys into ``values`` (warned about when there is no ``oauth2:``)."""
        for key in ("oauth2_client_file", "oauth2_client_id", "oauth2_authority"):
            if key not in keys:
                continue
            if "oauth2" not in keys:
                self.warn(keys[key][0], where, f"{key!r} is only used with 'oauth2:' — it is ignored")
            if key == "oauth2_client_file":
                path = self.read_path(keys[key][1], key)
                values[key] = None if path is None else str(path)
            else:
                values[key] = self.read_text(keys[key][1], where, key)
        if values.get("oauth2") == "microsoft" and not values.get("oauth2_client_id"):
            self.refuse(
                node,
                where,
                "'oauth2: microsoft' needs 'oauth2_client_id:' (the application ID of your app "
                "registration — see docs/daily-use.md)",
            )

    def read_secret_way(
        self,
        way: str,
        keys: dict[str, tuple[yaml.Node, yaml.Node]],
        where: str | None,
        values: dict[str, object],
    ) -> None:
        """The account's one way to its secret, put into ``values``."""
        node = keys[way][1]
        if way == "password_command":
            if not isinstance(node, yaml.SequenceNode):
                self.refuse(
                    node,
                    where,
                    "'password_command' must be a list of words, run without a shell, like "
                    "[pass, show, mail/you] — not "
                    + ("a mapping" if isinstance(node, yaml.MappingNode) else "one text")
                    + " (not shown: it could be the password)",
                )
                return
            words = [self.read_text(item, where, "password_command") for item in node.value]
            if not words:
                self.refuse(node, where, "'password_command' is an empty list — name the command")
            elif all(word is not None for word in words):
                values["password_command"] = tuple(str(word) for word in words)
        elif way == "password_env":
            variable = self.read_text(node, where, "password_env")
            if variable is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
                # Not quoted back: a password written where its variable's name belongs must not be shown.
                self.refuse(
                    node,
                    where,
                    "'password_env' must name an environment variable (letters, digits and '_', "
                    "like WORK_IMAP_PASSWORD); the value is not shown, in case it is the password",
                )
            else:
                values["password_env"] = variable
        elif way == "keyring":
            if not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool"):
                self.refuse(
                    node, where, "'keyring' must be true (the value is not shown, in case it is the password)"
                )
            elif self.read_boolean(node, where, "keyring") is False:
                self.refuse(
                    node, where, "'keyring: false' gives no password — remove it and give another way"
                )
            values["keyring"] = True
        else:
            provider = self.read_text(node, where, "oauth2")
            if provider is not None and provider not in OAUTH2_PROVIDERS:
                # A short word is quoted back (``google``); anything longer could be a pasted token.
                shown = f" {provider!r}" if re.fullmatch(r"[A-Za-z0-9_.-]{1,20}", provider) else ""
                hint = did_you_mean(provider, OAUTH2_PROVIDERS) or "one of: gmail, microsoft"
                self.refuse(node, where, f"oauth2{shown} is not known — {hint}")
            else:
                values["oauth2"] = provider

    def read_port(self, node: yaml.Node, where: str | None) -> int | None:
        """``imap_port:``, a number from 1 to 65535, or None when refused."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int":
            port = int(str(node.value), 0)
            if 1 <= port <= 65535:
                return port
        self.refuse(node, where, f"'imap_port' must be a port number 1–65535, not {describe(node)}")
        return None

    def read_timeout(self, node: yaml.Node, where: str | None) -> float | None:
        """``timeout:``, seconds from 1 to 3600, or None when refused."""
        if isinstance(node, yaml.ScalarNode) and node.tag in (
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
        ):
            try:
                seconds = float(str(node.value))
            except ValueError:
                seconds = -1.0
            if 1 <= seconds <= 3600:
                return seconds
        self.refuse(node, where, f"'timeout' must be a number of seconds, 1 to 3600, not {describe(node)}")
        return None
