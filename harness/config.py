"""Settings for ``harness check``, read from the ``[tool.harness]`` table of pyproject.toml.

Keys (all optional)::

    [tool.harness]
    enabled-gates = ["format", "ruff", ...]   # gates a plain `harness check` runs (by tier)
    fail-severity = "error"                   # findings at or above this fail (exit 1)
    exclude = ["golden/**", ...]              # globs never linted (replaces the default list)
    baseline = "ci/harness-baseline.json"     # fingerprint baseline; absent file = none
    cache-dir = ".harness_cache"              # content-hash lint cache
    max-file-mb = 2.0                         # larger files are HC005, not parsed
    pool-threshold = 16                       # uncached files before a process pool is used
    fix-rounds = 10                           # bound of the fix-relint loop
    text-limit = 50                           # text format: lines before "... and N more"

    [tool.harness.research]                   # the research loop (harness/research/settings.py)

    [tool.harness.rules.NC301]                # per rule (or engine code such as HC003)
    enabled = true
    severity = "warning"
    some_option = 3                           # validated against the rule's `options`

    [tool.harness.per-file-ignores]
    "scripts/*" = ["NC104"]

    [tool.harness.gates.rules]                # delivered to that gate as GateContext.options
    cache = true

Every key is validated here (structure and types); rule codes and rule options are validated
against the loaded rules by ``validate_rules`` because that needs the rule catalogue. Errors
name the file and the key: ``pyproject.toml: [tool.harness.rules.NC999] unknown rule code; ...``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.findings import SEVERITY_RANK
from harness.registry import GATE_IDS

DEFAULT_EXCLUDE = (
    ".venv/**",
    ".git/**",
    "build/**",
    ".cache/**",
    ".harness_cache/**",
    ".harness/**",
    "golden/**",
)
_TOP_KEYS = {
    "enabled-gates",
    "fail-severity",
    "exclude",
    "rules",
    "per-file-ignores",
    "gates",
    "baseline",
    "cache-dir",
    "max-file-mb",
    "pool-threshold",
    "fix-rounds",
    "text-limit",
    "research",  # [tool.harness.research]: validated by harness.research.settings
}


class ConfigError(HarnessError):
    """A bad key or value in ``[tool.harness]``."""


@dataclass(frozen=True)
class RuleSettings:
    """One ``[tool.harness.rules.CODE]`` table."""

    enabled: bool = True
    severity: str | None = None  # overrides the rule's own severity
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """The validated ``[tool.harness]`` table; vary with ``dataclasses.replace``."""

    root: Path = Path(".")
    enabled_gates: tuple[str, ...] = GATE_IDS
    fail_severity: str = "error"
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    rules: Mapping[str, RuleSettings] = field(default_factory=dict)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    gate_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    baseline: str = "ci/harness-baseline.json"  # repo-relative; absent file = no baseline
    cache_dir: str = ".harness_cache"  # repo-relative
    max_file_mb: float = 2.0  # larger files are reported (HC005) instead of parsed
    pool_threshold: int = 16  # uncached files to parse before a process pool pays off
    fix_rounds: int = 10  # bound on the fix-relint loop
    text_limit: int = 50  # findings shown by the text format before "... and N more"
    source: str = "pyproject.toml"

    def rule(self, code: str) -> RuleSettings:
        return self.rules.get(code, _DEFAULT_RULE)

    def fingerprint(self) -> str:
        """Hash of everything that changes lint results (part of the cache key)."""
        relevant = {
            "exclude": self.exclude,
            "rules": {
                code: [r.enabled, r.severity, sorted(r.options.items())]
                for code, r in sorted(self.rules.items())
            },
            "per_file_ignores": self.per_file_ignores,
            "max_file_mb": self.max_file_mb,
        }
        text = json.dumps(relevant, sort_keys=True, default=repr)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


_DEFAULT_RULE = RuleSettings()


def load_settings(root: Path) -> Settings:
    """Settings from ``root/pyproject.toml`` (defaults when the file or table is absent)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return Settings(root=root)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path.name}: not valid TOML ({err}); fix the file") from err
    table = document.get("tool", {}).get("harness", {})
    return parse_settings(table, root=root, source=path.name)


def parse_settings(
    table: Mapping[str, Any], root: Path, source: str = "pyproject.toml"
) -> Settings:
    """Validate a ``[tool.harness]`` table and build Settings from it."""
    where = lambda key: f"{source}: [tool.harness] {key}"  # noqa: E731
    if not isinstance(table, Mapping):
        raise ConfigError(f"{source}: [tool.harness] must be a table")
    unknown = sorted(set(table) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{where(unknown[0])}: unknown key; expected one of {', '.join(sorted(_TOP_KEYS))}"
        )
    defaults = Settings()
    gates = _str_list(
        table.get("enabled-gates", list(defaults.enabled_gates)), where("enabled-gates")
    )
    for gate_id in gates:
        _check_gate_id(gate_id, where("enabled-gates"))
    fail = table.get("fail-severity", defaults.fail_severity)
    _check_severity(fail, where("fail-severity"))
    gate_options: dict[str, dict[str, Any]] = {}
    for gate_id, options in _table(table.get("gates", {}), where("gates")).items():
        _check_gate_id(gate_id, f"{source}: [tool.harness.gates.{gate_id}]")
        gate_options[gate_id] = dict(_table(options, f"{source}: [tool.harness.gates.{gate_id}]"))
    ignores = []
    for glob, codes in _table(table.get("per-file-ignores", {}), where("per-file-ignores")).items():
        ignores.append((glob, tuple(_str_list(codes, f"{where('per-file-ignores')} {glob!r}"))))
    return Settings(
        root=root,
        enabled_gates=tuple(gates),
        fail_severity=fail,
        exclude=tuple(_str_list(table.get("exclude", list(defaults.exclude)), where("exclude"))),
        rules=_rule_tables(table.get("rules", {}), source),
        per_file_ignores=tuple(ignores),
        gate_options=gate_options,
        baseline=_typed(table, "baseline", str, defaults.baseline, where),
        cache_dir=_typed(table, "cache-dir", str, defaults.cache_dir, where),
        max_file_mb=float(_typed(table, "max-file-mb", (int, float), defaults.max_file_mb, where)),
        pool_threshold=_typed(table, "pool-threshold", int, defaults.pool_threshold, where),
        fix_rounds=_typed(table, "fix-rounds", int, defaults.fix_rounds, where),
        text_limit=_typed(table, "text-limit", int, defaults.text_limit, where),
        source=source,
    )


def validate_rules(
    settings: Settings, rules: Iterable[type], extra_codes: Iterable[str] = ()
) -> None:
    """Check every ``[tool.harness.rules.CODE]`` table against the rule catalogue.

    ``rules`` are Rule classes (code, options); ``extra_codes`` are engine codes (HC...) that
    accept ``enabled``/``severity`` but no options.
    """
    by_code = {r.code: r for r in rules}
    known = set(by_code) | set(extra_codes)
    for code, rule_settings in settings.rules.items():
        where = f"{settings.source}: [tool.harness.rules.{code}]"
        if code not in known:
            raise ConfigError(f"{where} unknown rule code; run `harness rules` to list the codes")
        declared = by_code[code].options if code in by_code else {}
        for name, value in rule_settings.options.items():
            if name not in declared:
                expected = ", ".join(sorted(declared)) or "none"
                raise ConfigError(f"{where} {name}: unknown option; options of {code}: {expected}")
            problem = declared[name].validate(name, value)
            if problem:
                raise ConfigError(f"{where} {problem}")
    for glob, codes in settings.per_file_ignores:
        for code in codes:
            if code not in known:
                raise ConfigError(
                    f"{settings.source}: [tool.harness.per-file-ignores] {glob!r}: unknown rule "
                    f"code {code!r}; run `harness rules` to list the codes"
                )


def _rule_tables(raw: Any, source: str) -> dict[str, RuleSettings]:
    result = {}
    for code, table in _table(raw, f"{source}: [tool.harness.rules]").items():
        where = f"{source}: [tool.harness.rules.{code}]"
        table = dict(_table(table, where))
        enabled = table.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where} enabled: expected true or false, got {enabled!r}")
        severity = table.pop("severity", None)
        if severity is not None:
            _check_severity(severity, f"{where} severity")
        result[code] = RuleSettings(enabled=enabled, severity=severity, options=table)
    return result


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(value).__name__} {value!r}")
    return value


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return value


def _typed(table: Mapping[str, Any], key: str, kind: Any, default: Any, where: Any) -> Any:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, kind):
        want = type_names(kind) if isinstance(kind, type) else "number"
        raise ConfigError(f"{where(key)}: expected {want}, got {value!r}")
    if isinstance(value, (int, float)) and value <= 0:
        raise ConfigError(f"{where(key)}: expected a positive number, got {value!r}")
    return value


def _check_severity(value: Any, where: str) -> None:
    if value not in SEVERITY_RANK:
        raise ConfigError(f"{where}: expected one of error, warning, info; got {value!r}")


def key_line(text: str, table: str, key: str) -> int | None:
    """The 1-based line of ``key`` in the TOML ``table`` (``[tool.harness.gates.tests]``) of
    ``text``: the key's own line, else the table header's, else None."""
    lines = text.splitlines()
    header = next((i for i, line in enumerate(lines) if line.strip() == table), None)
    if header is None:
        return None
    for i in range(header + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith("["):
            break
        if stripped.split("=", 1)[0].strip().strip('"') == key:
            return i + 1
    return header + 1


def type_names(kind: type | tuple[type, ...], joiner: str = " or ") -> str:
    """``int``, or ``int or float`` for a tuple of types: how messages and docs name a type."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return joiner.join(k.__name__ for k in kinds)


def _check_gate_id(gate_id: str, where: str) -> None:
    if gate_id not in GATE_IDS:
        raise ConfigError(f"{where}: unknown gate {gate_id!r}; gates are {', '.join(GATE_IDS)}")
