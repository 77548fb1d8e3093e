"""Load trial models (``models/*.yaml``) and check them against the cohort contract.

Errors name the file and the YAML path of the offending node, e.g.
``NCT06821659.yaml: criteria[8].rule.of[1].field: unknown column 'alt_uln'``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from matcher import ir
from matcher.contract import (
    Column,
    Extension,
    Plausible,
    extended_columns,
    known_fields,
    shared_columns,
    use_extension,
)
from matcher.errors import TrialModelError
from matcher.facts import Facts, default_facts

# libyaml's C loader when present: trial files are long and parsed at every start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Which column kinds each leaf may read.
_ACCEPTS: dict[type, tuple[str, ...]] = {
    ir.Compare: ("float", "int"),
    ir.Linear: ("float", "int"),
    ir.Range: ("float", "int"),
    ir.CompareFields: ("float", "int"),
    ir.InSet: ("enum", "text"),
    ir.Flag: ("bool",),
    ir.OccurredWithin: ("date",),
    ir.ElapsedAtLeast: ("date",),
    ir.Washout: ("date",),
    ir.Dated: ("date",),
}


def models_dir() -> Path:
    """The bundled trial models: inside the installed package, else the source checkout."""
    packaged = Path(str(resources.files("matcher"))) / "_bundled" / "models"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "models"


def scenarios_dir() -> Path:
    packaged = Path(str(resources.files("matcher"))) / "_bundled" / "scenarios"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "scenarios"


def _tagged_location(loc: tuple[Any, ...], document: Any) -> str:
    """Render a pydantic error location, skipping the union tags it inserts."""
    out, node = "", document
    for part in loc:
        if isinstance(node, list) and isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if part < len(node) else None
        elif isinstance(node, dict) and part in node:
            out += ("." if out else "") + str(part)
            node = node[part]
        # otherwise: a union tag such as 'compare' or 'function-after[...]'
    return out


def parse_trial(document: Any, source: str) -> ir.Trial:
    try:
        trial = ir.Trial.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _tagged_location(tuple(first["loc"]), document) or "(top level)"
        raise TrialModelError(f"{source}: {where}: {first['msg']}") from exc
    _check_fields(trial, source, extended_columns(extension_of([trial])))
    return trial


def _declared_column(declaration: ir.ColumnDeclaration) -> Column:
    return Column(
        name=declaration.name,
        kind=declaration.type,
        unit=declaration.unit,
        meaning=declaration.meaning,
        stem=declaration.name if declaration.unit else None,
        molar_mass_g_mol=None,
        codes=declaration.values,
        label=declaration.label or declaration.name.replace("_", " "),
    )


def extension_of(trials: list[ir.Trial]) -> Extension:
    """The columns and enum codes ``trials`` add to the shared contract.

    Two trials may declare a column alike; a conflicting declaration, a redeclared shared column, or codes
    added to a column that is not a shared enum are errors naming the files.
    """
    shared = shared_columns()
    declared: dict[str, tuple[ir.ColumnDeclaration, str]] = {}
    codes: dict[str, list[str]] = {}
    for trial in trials:
        source = f"{trial.id}.yaml"
        for index, declaration in enumerate(trial.columns):
            where = f"{source}: columns[{index}]"
            if declaration.name in shared:
                raise TrialModelError(f"{where}: {declaration.name} is a column of the shared contract; use it as is")
            earlier = declared.get(declaration.name)
            if earlier is not None and earlier[0] != declaration:
                raise TrialModelError(f"{where}: {declaration.name} is declared differently in {earlier[1]}")
            declared.setdefault(declaration.name, (declaration, source))
        for name, values in trial.extends.items():
            if name not in shared or shared[name].kind != "enum":
                raise TrialModelError(f"{source}: extends.{name}: not an enum column of the shared contract")
            codes.setdefault(name, [])
            codes[name] += [value for value in values if value not in codes[name]]
    ranges = tuple(
        (name, Plausible(d.min, d.max, f"declared by {source}"))
        for name, (d, source) in declared.items()
        if d.min is not None or d.max is not None
    )
    return Extension(
        tuple(_declared_column(d) for d, _ in declared.values()),
        ranges,
        tuple((name, tuple(values)) for name, values in codes.items()),
    )


def _check_values(node: ir.InSet, contract: dict[str, Column], path: str, criterion: ir.Criterion) -> str | None:
    """The error for an ``in_set`` value its enum column does not allow (None when all are allowed)."""
    column = contract[node.field]
    if column.kind != "enum":
        return None
    allowed = {code.lower() for code in column.codes}
    for position, value in enumerate(node.values):
        if value.lower() not in allowed:
            return (
                f"{path}.values[{position}]: {value!r} is not an allowed value of {node.field} "
                f"({', '.join(column.codes)}) ({criterion.id})"
            )
    return None


def _estimated_with_age(fields: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The first of a rule's fields estimated with the age (eGFR, CrCl), which the CP-SAT compiler models per
    birthday as a value to compare with a number, not as a term of a sum or comparison of fields."""
    return next(((name, where) for name, where in fields if name in ir.AGEING and name != "age"), None)


def _check_fields(trial: ir.Trial, source: str, contract: dict[str, Column]) -> None:
    """Every field a rule reads exists and has a kind that rule accepts; enum values exist; half-lives exist."""
    kinds = known_fields(contract)
    facts = effective_facts(trial)
    for index, criterion in enumerate(trial.criteria):
        roots: list[tuple[ir.Rule, str]] = []
        if not criterion.is_manual:
            roots.append((criterion.rule, f"criteria[{index}].rule"))  # type: ignore[arg-type]
        if criterion.applies_when is not None:
            roots.append((criterion.applies_when, f"criteria[{index}].applies_when"))
        for position, column in enumerate(criterion.unchanged):
            if column not in kinds:
                raise TrialModelError(
                    f"{source}: criteria[{index}].unchanged[{position}]: unknown column {column!r} ({criterion.id})"
                )
        for root, root_path in roots:
            for node, path in ir.walk_with_paths(root, root_path):
                fields = [
                    (name, f"{path}.{attr}")
                    for attr in ("field", "left", "right")
                    if isinstance(name := getattr(node, attr, None), str)
                ]
                if isinstance(node, ir.Linear):
                    fields = [(term.field, f"{path}.terms[{i}].field") for i, term in enumerate(node.terms)]
                    for i, term in enumerate(node.terms):
                        if term.field == "age" and term.k != int(term.k):
                            raise TrialModelError(
                                f"{source}: {path}.terms[{i}].k: age moves with the wait, so its coefficient "
                                f"must be a whole number ({criterion.id})"
                            )
                if isinstance(node, (ir.Linear, ir.CompareFields)) and (estimated := _estimated_with_age(fields)):
                    raise TrialModelError(
                        f"{source}: {estimated[1]}: {estimated[0]} is estimated with the age, which a birthday "
                        f"moves; compare it with a number ({criterion.id})"
                    )
                accepted = _ACCEPTS.get(type(node))
                for name, where in fields:
                    if name not in kinds:
                        raise TrialModelError(f"{source}: {where}: unknown column {name!r} ({criterion.id})")
                    if accepted and kinds[name] not in accepted:
                        raise TrialModelError(
                            f"{source}: {where}: column {name!r} is {kinds[name]}, "
                            f"but a {node.type} rule needs {' or '.join(accepted)} ({criterion.id})"
                        )
                if isinstance(node, ir.InSet) and (problem := _check_values(node, contract, path, criterion)):
                    raise TrialModelError(f"{source}: {problem}")
                if isinstance(node, ir.Washout):
                    if node.drug is not None and facts.half_life_range(node.drug) is None:
                        raise TrialModelError(
                            f"{source}: {path}.drug: no half-life known for {node.drug!r} ({criterion.id}); "
                            "add it under defaults.half_lives_days"
                        )
                    if node.drug_field is not None and node.drug_field not in kinds:
                        raise TrialModelError(f"{source}: {path}.drug_field: unknown column {node.drug_field!r}")


def load_trial_file(path: Path) -> ir.Trial:
    try:
        document = yaml.load(path.read_text("utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise TrialModelError(f"{path.name}: not valid YAML: {exc}") from exc
    except OSError as exc:
        raise TrialModelError(f"{path}: cannot be read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise TrialModelError(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc
    trial = parse_trial(document, path.name)
    if path.stem != trial.id:
        raise TrialModelError(f"{path.name}: id {trial.id} does not match the file name")
    return trial


@cache
def _load_dir(directory: str) -> tuple[dict[str, ir.Trial], dict[str, str]]:
    """The trials that load, and the error of each file that does not (by the id its name gives)."""
    trials: dict[str, ir.Trial] = {}
    broken: dict[str, str] = {}
    for path in sorted(Path(directory).glob("NCT*.yaml")):
        try:
            trial = load_trial_file(path)
        except TrialModelError as exc:
            broken[path.stem] = str(exc)
        else:
            trials[trial.id] = trial
    return trials, broken


def load_trials(directory: Path | None = None) -> dict[str, ir.Trial]:
    """The trial models in ``directory`` (default: the bundled models) that load, by id (see ``broken_trials``).

    Their columns are put in force in the contract, so a cohort loaded next reads them; where two of them
    declare a column differently, only ``select_trials`` of one or the other can.
    """
    trials = dict(_load_dir(str(directory or models_dir()))[0])
    try:
        use_extension(extension_of(list(trials.values())))
    except TrialModelError:
        use_extension(Extension())
    return trials


def broken_trials(directory: Path | None = None) -> dict[str, str]:
    """Per trial file in ``directory`` that does not load (by the id its name gives), the error."""
    return dict(_load_dir(str(directory or models_dir()))[1])


def select_trials(ids: list[str] | None, directory: Path | None = None) -> list[ir.Trial]:
    """The trials asked for (default: every one that loads), with their columns put in force in the contract.

    A broken file fails the selection only when its trial is asked for, or when no trial is left.
    """
    trials, broken = _load_dir(str(directory or models_dir()))
    wanted = list(ids or trials)
    for trial_id in wanted:
        if trial_id in broken:
            raise TrialModelError(broken[trial_id])
    if not wanted and broken:
        raise TrialModelError("no trial model loads: " + "; ".join(broken.values()))
    unknown = [trial_id for trial_id in wanted if trial_id not in trials]
    if unknown:
        raise TrialModelError(f"unknown trial id {unknown[0]!r}; known: {', '.join(trials)}")
    chosen = [trials[trial_id] for trial_id in wanted]
    # Checked again together: two trials may declare one column differently.
    use_extension(extension_of(chosen))
    return chosen


def effective_facts(trial: ir.Trial, base: Facts | None = None) -> Facts:
    base = base or default_facts()
    return base.with_overrides(trial.defaults.half_lives_days, trial.defaults.steroid_equivalent_mg)


def trial_schema() -> str:
    """JSON Schema of a trial file, for editors that validate YAML."""
    schema = ir.Trial.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "matcher trial model"
    return json.dumps(schema, indent=2, sort_keys=True)
