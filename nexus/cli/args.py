"""The command line before Hydra sees it: the chosen cases, as Hydra's grammar needs them."""

from __future__ import annotations

__all__ = ["default_case", "quote_cases", "unquoted"]


def unquoted(name: str) -> str:
    """`name` without the quotes around it, if any (`case='démo'`)."""
    name = name.strip()
    return name[1:-1] if len(name) > 1 and name[0] == name[-1] and name[0] in "'\"" else name


def quote_cases(args: list[str]) -> list[str]:
    """`case=démo` as `case='démo'`: Hydra's override grammar takes only ASCII unquoted."""
    quoted = []
    for arg in args:
        if arg.startswith("case=") and not arg.isascii():
            names = [unquoted(v) for v in arg.split("=", 1)[1].split(",")]
            arg = "case=" + ",".join(n if n.isascii() else f"'{n}'" for n in names)
        quoted.append(arg)
    return quoted


def default_case(global_config: dict[str, object]) -> list[str]:
    """The case `conf/config.yaml` chooses in its defaults list (`- case: demo`), if any."""
    defaults = global_config.get("defaults")
    for entry in defaults if isinstance(defaults, list) else []:
        choice = entry.get("case") if isinstance(entry, dict) else None
        if isinstance(choice, str) and choice.strip() not in ("", "???"):
            return [choice.strip()]
    return []
