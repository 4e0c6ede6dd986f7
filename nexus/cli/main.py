"""`python -m nexus`: bare-word subcommands, else the Hydra app; how errors reach the console.

A user's mistake is printed as one short message and exits 1; tracebacks go to the run's
`nexus.log` (or, before a run exists, to `outputs/nexus-error.log`).
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import logging
import os
import re
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, TextIO

from nexus.cli.args import unquoted
from nexus.errors import Abort, NexusError, ProjectError, clipped, did_you_mean

if TYPE_CHECKING:
    from nexus.config.cases import CaseFile
    from nexus.core.registry import Registry
    from nexus.tracking.helper import Helper
    from nexus.tracking.session import Session

__all__ = ["main", "run"]

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130
_DISK_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EFBIG}


def run() -> NoReturn:
    """The `nexus` command and `python -m nexus`: `main`, with the speed-ups of `cli.speedups`.

    When the run will be tracked, the helper that loads mlflow is forked first (see
    `nexus.tracking.helper`); the process ends without the interpreter's teardown.
    """
    from nexus.cli.speedups import exit_now, start_helper

    args = sys.argv[1:]
    helper: Helper | None = None
    try:
        helper = start_helper() if _will_track(args) else None
        code = main(args, helper)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except KeyboardInterrupt:  # before main() took over: imports, the helper's start
        code = _report("interrupted", EXIT_INTERRUPTED)
    finally:
        # The command is over: another Ctrl-C ends the process now, without a traceback.
        signal.signal(signal.SIGINT, _exit_interrupted)
        if helper is not None:
            helper.close(0)  # a helper main() never used (it closes the one it used)
    exit_now(code)


def _exit_interrupted(signum: int, frame: FrameType | None) -> None:
    os._exit(EXIT_INTERRUPTED)


_NO_RUN_FLAGS = {"--help", "-h", "--hydra-help", "--info", "-i", "--cfg", "-c"}
_NO_RUN_FLAGS |= {"--shell-completion", "-sc"}


def _will_track(args: list[str]) -> bool:
    """Whether the arguments start tracked runs (not a subcommand, --cfg, --help, tracking off)."""
    if not args or args[0] in SUBCOMMANDS or _NO_RUN_FLAGS.intersection(args):
        return False
    import yaml

    from nexus.config.overrides import parse_override
    from nexus.core.project import find_project
    from nexus.core.yamlio import load_yaml

    for override in map(parse_override, args):
        if override.key == "tracking.enabled":
            with contextlib.suppress(yaml.YAMLError):
                return bool(yaml.safe_load(override.value or ""))
    try:  # not nexus.config.params.read_global_config: importing omegaconf would delay the fork
        config = load_yaml(find_project().conf_dir / "config.yaml", "conf/config.yaml")
    except NexusError:
        return False  # main() says what is wrong
    tracking = config.get("tracking") if isinstance(config, dict) else None
    return not isinstance(tracking, dict) or tracking.get("enabled") is not False


def main(argv: Sequence[str] | None = None, helper: Helper | None = None) -> int:
    """Run nexus with `argv` (default: the command line); returns the exit code.

    `helper`: MLflow's helper process, if the entry point forked one. SIGTERM ends the
    command as Ctrl-C does while it runs.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    sigterm = signal.signal(signal.SIGTERM, _terminate)
    try:
        command = SUBCOMMANDS.get(args[0]) if args else None
        if command is None:
            _check_words(args)
        return command(args[1:]) if command else _run_hydra(args, helper)
    except NexusError as exc:
        return _report(exc.render())
    except Abort as exc:
        return _report(exc.error.render())
    except KeyboardInterrupt as exc:
        details = getattr(exc, "details", [])  # a run's: its log and how to resume it
        return _report("\n  ".join(["interrupted", *details]), EXIT_INTERRUPTED)
    except OSError as exc:  # the disk full or read-only while Hydra or nexus writes a run
        if exc.errno == errno.ENAMETOOLONG:
            return _report(
                f"a path is too long for this system: {clipped(str(exc.filename), 80)}\n"
                "  shorten the value that names it (hydra.run.dir, a case's io_mapping path)"
            )
        if exc.errno not in _DISK_ERRORS:  # Hydra's MissingConfigException is an OSError too
            return _report_other(exc)
        return _report(
            f"cannot write {exc.filename or 'the run'}: {exc.strerror}\n"
            "  free some space or make the folder writable, then run again"
        )
    except Exception as exc:
        return _report_other(exc)
    finally:
        signal.signal(signal.SIGTERM, sigterm)


def _report_other(exc: Exception) -> int:
    """A Hydra error or a bug: short on the console, whole in a file."""
    message = _explain_hydra_error(exc)
    if message is not None:
        return _report(message)
    log_file = _save_traceback(exc)
    return _report(
        f"unexpected error: {type(exc).__name__}: {clipped(str(exc))}\n"
        f"  the traceback is in {log_file}; please report it"
    )


CFG_CHOICES = ("job", "hydra", "all")


def _check_words(args: list[str]) -> None:
    """A misspelt subcommand, or a bad `--cfg` value, said plainly before Hydra's parser."""
    if args and "=" not in args[0] and not args[0].startswith("-"):
        commands = sorted(SUBCOMMANDS)
        raise ProjectError(
            f"unknown command '{args[0]}'",
            [
                did_you_mean(args[0], commands),
                f"commands: {', '.join(commands)}; or run a case: python -m nexus case=NAME",
            ],
        )
    for index, flag in enumerate(args):
        value = args[index + 1] if index + 1 < len(args) else None
        if flag in ("--cfg", "-c") and value not in CFG_CHOICES:
            shown = f"not '{value}'" if value is not None else "and nothing was given"
            raise ProjectError(
                f"{flag} takes job, hydra or all, {shown}",
                [
                    did_you_mean(value or "", list(CFG_CHOICES)),
                    "e.g. python -m nexus case=NAME --cfg job",
                ],
            )


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _report(message: str, code: int = EXIT_ERROR) -> int:
    if os.environ.get("NEXUS_FULL_ERROR") == "1" and sys.exc_info()[1] is not None:
        traceback.print_exc()  # asked for: the whole traceback, above the message
    print(f"nexus: {message}", file=sys.stderr)
    return code


def _run_hydra(args: list[str], helper: Helper | None = None) -> int:
    import hydra

    from nexus.app.task import Job
    from nexus.cli.args import default_case, quote_cases
    from nexus.cli.speedups import objects_frozen
    from nexus.config.compose import register_configs
    from nexus.config.overrides import check_overrides
    from nexus.config.params import read_global_config
    from nexus.core.discovery import discover
    from nexus.core.project import find_project
    from nexus.core.yamlio import check_yaml_tree
    from nexus.tracking.session import Session
    from nexus.tracking.tracker import Tracker

    check_overrides(args)
    project = find_project()
    check_yaml_tree(project.conf_dir, project.root)  # a conf group file Hydra would expand
    global_config = read_global_config(project)
    selected = _selected_cases(args) or default_case(global_config)
    if not selected and _is_help(args):
        print(USAGE.format(cases=", ".join(project.case_names()) or "(none)"))
        return EXIT_OK
    for case in selected:
        if _hydra_reads_as_value(case):
            raise ProjectError(
                f"case name '{case}' reads as a value, not a name, in Hydra",
                [
                    "rename the case folder: start it with a letter, and avoid "
                    "true, false, null, nan and inf"
                ],
            )
    unknown = [c for c in selected if c not in project.case_names()]
    if unknown and not _is_help(args):
        raise _unknown_case(unknown[0], project.case_names())
    modules = global_config.get("plugin_modules") or []
    session = Session(project, discover(project, modules), Tracker(helper))
    cases = register_configs(project, session.registry, set(selected))
    hints = _Hints.of(session.registry, [cases[name] for name in selected if name in cases])
    app = hydra.main(config_path=str(project.conf_dir), config_name="config", version_base="1.3")
    try:
        argv = quote_cases(_flags_first(args))
        # objects_frozen: the plugins' modules are loaded by now (see objects_frozen)
        with _hydra_process_state(argv), session.active(), objects_frozen():
            app(Job(session))()
    except BaseException as exc:
        _close_after_failure(session, exc)
        message = _explain_hydra_error(exc, hints) if isinstance(exc, Exception) else None
        if message is None:
            raise
        return _report(message)
    finally:
        session.tracker.close()
    _raise_tracking_problems(session)
    return EXIT_OK


@contextlib.contextmanager
def _hydra_process_state(args: list[str]) -> Iterator[None]:
    """What Hydra's app needs of the process (argv, stderr, ...), put back afterwards.

    Hydra reads its arguments from sys.argv, keeps a global instance, and replaces the root
    logger's handlers with the run's; a command leaves the process as it found it.
    """
    from hydra.core.global_hydra import GlobalHydra

    root = logging.getLogger()
    saved_logging = (list(root.handlers), root.level)
    saved_argv, saved_stderr = sys.argv, sys.stderr
    saved_full_error = os.environ.get("HYDRA_FULL_ERROR")
    GlobalHydra.instance().clear()  # a previous main() in this process leaves it set
    os.environ["HYDRA_FULL_ERROR"] = "1"  # errors come to us, not to Hydra's printer
    sys.argv = [saved_argv[0] if saved_argv else "nexus", *args]
    sys.stderr = _QuietHydra(saved_stderr)
    try:
        yield
    finally:
        sys.argv, sys.stderr = saved_argv, saved_stderr
        if saved_full_error is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = saved_full_error
        GlobalHydra.instance().clear()
        for handler in [h for h in root.handlers if h not in saved_logging[0]]:
            handler.close()
        root.handlers[:] = saved_logging[0]
        root.setLevel(saved_logging[1])


def _raise_tracking_problems(session: Session) -> None:
    """The runs completed, but MLflow did not record them all: say so, and exit 1."""
    from nexus.tracking.store import TrackingError

    problems = session.tracker.take_problems()
    if problems:
        raise TrackingError(
            "the steps completed, but MLflow could not record the run",
            [
                *problems,
                "the outputs and run.json are in the run directory, as always",
                "fix the store or tracking.uri, or run with tracking.enabled=false",
            ],
        )


class _QuietHydra:
    """stderr without Hydra's 'Error executing job' line: nexus reports the error itself."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if text.startswith("Error executing job with overrides:"):
            return len(text)
        # Hydra's argparse names the program after sys.argv[0]: `python -m nexus` runs a file
        # the user never typed. Its usage's wrapped lines are indented to the name's width.
        if text.startswith("usage: __main__.py "):
            text = text.replace("\n" + " " * 19, "\n" + " " * 23)
        return self.stream.write(text.replace("__main__.py", "python -m nexus"))

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def _close_after_failure(session: Session, exc: BaseException) -> None:
    """Summarise a sweep Hydra abandoned and end the MLflow runs left open."""
    interrupted = isinstance(exc, KeyboardInterrupt)
    session.tracker.interrupted = session.tracker.interrupted or interrupted
    finish, session.finish_sweep = session.finish_sweep, None
    jobs = finish(interrupted) if finish is not None else None
    session.tracker.end_open_runs("KILLED" if interrupted else "FAILED")
    if jobs and not interrupted:
        failed = [j for j in jobs if not j.ok]
        raise NexusError(
            f"{len(failed)} of {len(jobs)} jobs of the sweep failed",
            ["see the table above; each failed job's log is named there"],
        ) from exc


def _flags_first(args: list[str]) -> list[str]:
    """Move `-m`/`--multirun` first: Hydra's parser takes no overrides on both sides of it."""
    flags = [a for a in args if a in ("-m", "--multirun")]
    return flags + [a for a in args if a not in flags]


def _hydra_reads_as_value(name: str) -> bool:
    """True for names Hydra's override grammar turns into a number, bool or null."""
    import yaml

    return not isinstance(yaml.safe_load(name), str) or name.lower() in ("nan", "inf", "-inf")


def _selected_cases(args: list[str]) -> list[str]:
    values = [a.split("=", 1)[1] for a in args if a.startswith("case=")]
    return [unquoted(v) for value in values for v in value.split(",") if unquoted(v)]


def _is_help(args: list[str]) -> bool:
    return any(a in ("--help", "-h", "--hydra-help", "--info", "-i") for a in args)


def _unknown_case(name: str, known: list[str]) -> ProjectError:
    return ProjectError(
        f"unknown case '{name}'",
        [
            did_you_mean(name, known),
            f"available cases: {', '.join(known) or '(none)'}",
        ],
    )


def _explain_hydra_error(exc: Exception, hints: _Hints | None = None) -> str | None:
    """One readable message for Hydra's and OmegaConf's user-facing errors, else None.

    `hints`: what the chosen cases' steps take, for an unknown key's 'did you mean'.
    """
    from hydra.errors import HydraException, MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(exc, HydraException | OmegaConfBaseException):
        return None
    text = str(exc).strip()
    if isinstance(exc, MissingConfigException):
        choice = _unknown_choice(text, exc.options)
        if choice is not None:
            return choice
    missing = isinstance(exc, MissingConfigException) or "You must specify" in text
    if missing and "'case'" in text:
        return "no case chosen: add case=NAME\n  available cases: " + ", ".join(_cases())
    match = re.search(r"Could not override '([^']+)'", text)
    if match:
        return _unknown_key(match.group(1), hints or _Hints())
    cause = exc.__cause__
    lines = [clipped(line) for line in text.splitlines() if line.strip()][:6]
    if cause is not None and str(cause).strip() and str(cause).strip() not in text:
        lines.append(str(cause).strip().splitlines()[0])
    return "\n  ".join(lines)


def _unknown_choice(text: str, options: Sequence[str] | None) -> str | None:
    """`hydra/launcher=jobilb` or `case=`: the group's choices and the nearest one."""
    match = re.search(r"Could not find '([^']*)/([^'/]*)'", text)
    if match is None or options is None:
        return None
    group, name = match.groups()
    choices = sorted(options)
    if not name:
        first = f"no choice given for '{group}': {group}= needs a name"
        hint = ""
    else:
        first = f"unknown choice '{name}' for '{group}'"
        hint = did_you_mean(name, choices)
    lines = [first, hint, f"choices of {group}: {', '.join(choices) or '(none)'}"]
    if group.startswith("hydra/") and name:
        lines.append("a Hydra plugin's choices appear once its package is installed")
    return "\n  ".join(line for line in lines if line)


def _unknown_key(key: str, hints: _Hints) -> str:
    lines = [f"unknown key in an override: '{key}'"]
    section, _, name = key.rpartition(".")
    if section == "pipeline":
        hint = did_you_mean(name, sorted(hints.parameters))
        lines.append(hint.replace("'", "'pipeline.", 1).replace(" or '", " or 'pipeline."))
    elif key.startswith("steps."):
        lines.append(_unknown_step_key(key.split("."), hints.steps))
    elif not section:  # a step's parameter given without its `pipeline.` prefix
        known = sorted(hints.parameters)
        if name in known:
            lines.append(f"did you mean 'pipeline.{name}'? parameters go under pipeline.")
        else:
            hint = did_you_mean(name, known)
            lines.append(hint.replace("'", "'pipeline.", 1).replace(" or '", " or 'pipeline."))
    lines.append("see every key with: python -m nexus case=NAME --cfg job")
    return "\n  ".join(line for line in lines if line)


def _unknown_step_key(parts: list[str], steps: dict[str, set[str]]) -> str:
    """The hint for `steps.KEY.PARAM`: the step keys, or the parameters of that step."""
    step = parts[1] if len(parts) > 1 else ""
    if step not in steps:
        hint = did_you_mean(step, sorted(steps))
        return (
            f"no step of the case has the key '{step}'"
            + (f"; {hint}" if hint else "")
            + f"; its steps: {', '.join(f'steps.{k}' for k in steps)}"
        )
    known = sorted(steps[step] | {"enabled"})
    hint = did_you_mean(parts[-1], known)
    prefix = f"'steps.{step}."
    if hint:
        return hint.replace("'", prefix, 1).replace(" or '", " or " + prefix)
    return f"steps.{step} takes: {', '.join(known)}"


@dataclass
class _Hints:
    """What the chosen cases' steps take, for the 'did you mean' of an unknown override key."""

    parameters: set[str] = field(default_factory=set)  # the steps' parameters
    steps: dict[str, set[str]] = field(default_factory=dict)  # step key -> its parameters

    @classmethod
    def of(cls, registry: Registry, cases: list[CaseFile]) -> _Hints:
        from nexus.config.cases import step_key

        hints = cls()
        for case in cases:
            for entry in case.entries():
                spec = registry.plugins.get(entry.plugin)
                hints.parameters.update(spec.parameters if spec else ())
                hints.steps[step_key(entry.step_name)] = set(spec.parameters if spec else ())
        return hints


def _cases() -> list[str]:
    from nexus.core.project import find_project

    try:
        return find_project().case_names()
    except NexusError:
        return []


def _save_traceback(exc: BaseException) -> Path:
    from nexus.core.project import find_project

    try:
        folder = find_project().outputs_dir
    except NexusError:
        folder = Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "nexus-error.log"
    path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    return path


def _generate_data(args: list[str]) -> int:
    """`generate-data [case=NAME]`: (re)create the raw data of the cases that have a generator."""
    from omegaconf import OmegaConf

    from nexus.app.task import ensure_raw_data
    from nexus.config.cases import load_case
    from nexus.config.params import read_global_config
    from nexus.core.discovery import discover
    from nexus.core.project import find_project
    from nexus.tracking.session import Session

    project = find_project()
    wanted = _selected_cases(args) or project.case_names()
    unknown = [a for a in args if not a.startswith("case=")]
    if unknown:
        raise ProjectError(f"generate-data takes only case=NAME, not '{unknown[0]}'")
    for name in wanted:
        if name not in project.case_names():
            raise _unknown_case(name, project.case_names())
    cases = {name: load_case(project, name) for name in wanted}
    without = [name for name, case in cases.items() if not case.generator]
    if without and _selected_cases(args):  # named on purpose: saying nothing would mislead
        generated = [n for n in project.case_names() if load_case(project, n).generator]
        raise ProjectError(
            f"case '{without[0]}' has no generator: there is nothing to generate",
            [
                "a case names the @generator that writes its inputs: generator: NAME in its "
                "case.yaml",
                f"cases with a generator: {', '.join(generated) or '(none)'}",
            ],
        )
    if len(without) == len(cases):
        print("no case of this project has a generator: there is nothing to generate")
        return EXIT_OK
    modules = read_global_config(project).get("plugin_modules") or []
    session = Session(project, discover(project, modules))
    for name, case in cases.items():
        tree = OmegaConf.create(case.to_tree(name))
        for path in ensure_raw_data(tree, session, force=True):
            print(f"{name}: wrote {project.relative(path)}")
    return EXIT_OK


USAGE = """\
nexus: runs the steps of a case, configured by Hydra.

  python -m nexus case=NAME [KEY=VALUE ...]        run a case in a new directory under outputs/
  python -m nexus case=NAME KEY=A,B,C -m           a sweep: one job per value
  python -m nexus case=NAME only="STEP"            one step, its inputs from an earlier run
  python -m nexus case=NAME rerun="STEP"           recompute a step (and those after it)
  python -m nexus case=NAME cache=false            recompute every step, record nothing
  python -m nexus case=NAME --cfg job              show the composed config
  python -m nexus case=NAME --help                 the case's config and Hydra's options

subcommands (bare words, before any KEY=VALUE):
  python -m nexus list [KIND]                      plugins, handlers, generators, cases
  python -m nexus docs [--check]                   write REFERENCE.md (--check: is it current?)
  python -m nexus new-case NAME [--from CASE]      a new case from the template, or a copy
  python -m nexus init DIR                         a new project in DIR that runs at once
  python -m nexus generate-data [case=NAME]        (re)generate the cases' raw data
  python -m nexus status case=NAME [KEY=VALUE ...] which steps a run would reuse, and why

cases: {cases}
"""


def _lazy(module: str) -> Callable[[list[str]], int]:
    """A subcommand whose module is imported only when it runs: `module.command(args)`."""

    def run(args: list[str]) -> int:
        return int(importlib.import_module(module).command(args))

    return run


SUBCOMMANDS: dict[str, Callable[[list[str]], int]] = {
    "docs": _lazy("nexus.cli.docs"),
    "generate-data": _generate_data,
    "init": _lazy("nexus.cli.init_project"),
    "list": _lazy("nexus.cli.listing"),
    "new-case": _lazy("nexus.cli.scaffold"),
    "status": _lazy("nexus.cli.status"),
}
