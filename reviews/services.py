"""Writes for states, sessions and reviews."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction

from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Session, State, StateAlias
from reviews.names import normalise_name
from reviews.reference.calendar import CYCLES, SESSIONS
from reviews.reference.groups import REGIONAL_GROUPS
from reviews.reference.organisations import ORGANISATIONS
from reviews.reference.states import STATES


def rows_sync(*, model: type[models.Model], key: str, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Make the table hold these rows, matched on the unique field `key`: create the missing, update the changed.

    Rows of the table that are not in `rows` are left alone. Foreign keys are given as `<field>_id`. Returns
    {"created": n, "updated": n, "objects": {key value: instance}} for every row given. Four queries at most.
    """
    rows = list(rows)
    existing = {getattr(obj, key): obj for obj in model.objects.filter(**{f"{key}__in": [row[key] for row in rows]})}
    to_create, to_update, changed_fields = [], [], set()
    for row in rows:
        obj = existing.get(row[key])
        if obj is None:
            existing[row[key]] = obj = model(**row)
            to_create.append(obj)
            continue
        changed = [field for field, value in row.items() if getattr(obj, field) != value]
        if changed:
            for field in changed:
                setattr(obj, field, row[field])
            to_update.append(obj)
            changed_fields.update(changed)
    model.objects.bulk_create(to_create)
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields))
    return {"created": len(to_create), "updated": len(to_update), "objects": existing}


def _counted(counts: dict[str, int], label: str, result: dict[str, Any]) -> dict[Any, Any]:
    counts[f"{label}_created"] = result["created"]
    counts[f"{label}_updated"] = result["updated"]
    return result["objects"]


def _alias_rows(state_ids: Mapping[str, int]) -> list[dict[str, Any]]:
    """One row per distinct normal form; the same form under two states is a mistake in the reference data."""
    rows: dict[str, dict[str, Any]] = {}
    for fact in STATES:
        for name in (fact.short_name, fact.name, fact.iso3, *fact.aliases):
            normalised = normalise_name(name)
            other = rows.get(normalised)
            if other is None:
                rows[normalised] = {"normalised": normalised, "name": name, "state_id": state_ids[fact.iso3]}
            elif other["state_id"] != state_ids[fact.iso3]:
                raise ValueError(f'Reference data: alias "{name}" of {fact.iso3} normalises like "{other["name"]}".')
    return list(rows.values())


def _memberships_sync(*, organisation_ids: Mapping[str, int], state_ids: Mapping[str, int]) -> dict[str, int]:
    """Make each reference organisation's members exactly those of the reference data."""
    through = State.organisations.through
    wanted = {
        (state_ids[iso3], organisation_ids[fact.acronym]) for fact in ORGANISATIONS for iso3 in sorted(fact.members)
    }
    rows = through.objects.filter(intergovernmentalorganisation_id__in=organisation_ids.values()).values_list(
        "state_id", "intergovernmentalorganisation_id", "id"
    )
    current = {(state_id, org_id): pk for state_id, org_id, pk in rows}
    missing = sorted(wanted - current.keys())
    extra = [current[pair] for pair in current.keys() - wanted]
    through.objects.bulk_create(
        [through(state_id=state_id, intergovernmentalorganisation_id=org_id) for state_id, org_id in missing]
    )
    if extra:
        through.objects.filter(id__in=extra).delete()
    return {"memberships_created": len(missing), "memberships_deleted": len(extra)}


@transaction.atomic
def reference_data_load() -> dict[str, int]:
    """Load the reference data (groups, states, aliases, organisations, cycles, sessions, issues). Idempotent.

    Returns how many rows were created and updated per kind, e.g. {"states_created": 195, "states_updated": 0, ...}:
    all zeros when the database already holds the reference data.
    """
    from recommendations.facets import reference_cache_clear  # recommendations depends on reviews, not the reverse
    from recommendations.services import issues_load
    from reviews.selectors import state_index

    counts: dict[str, int] = {}
    group_rows = [{"code": code, "name": name} for code, name in REGIONAL_GROUPS]
    groups = _counted(counts, "regional_groups", rows_sync(model=RegionalGroup, key="code", rows=group_rows))

    state_rows = [
        {
            "iso3": fact.iso3,
            "name": fact.name,
            "short_name": fact.short_name,
            "regional_group_id": groups[fact.group].pk,
            "status": fact.status,
        }
        for fact in STATES
    ]
    states = _counted(counts, "states", rows_sync(model=State, key="iso3", rows=state_rows))
    state_ids = {iso3: state.pk for iso3, state in states.items()}
    _counted(counts, "state_aliases", rows_sync(model=StateAlias, key="normalised", rows=_alias_rows(state_ids)))

    organisation_rows = [{"acronym": fact.acronym, "name": fact.name} for fact in ORGANISATIONS]
    organisations = _counted(
        counts, "organisations", rows_sync(model=IntergovernmentalOrganisation, key="acronym", rows=organisation_rows)
    )
    counts |= _memberships_sync(
        organisation_ids={acronym: org.pk for acronym, org in organisations.items()}, state_ids=state_ids
    )

    cycle_rows = [{"number": c.number, "start_date": c.start_date, "end_date": c.end_date} for c in CYCLES]
    cycles = _counted(counts, "cycles", rows_sync(model=Cycle, key="number", rows=cycle_rows))
    cycle_of_session = {n: c.number for c in CYCLES for n in range(c.first_session, c.last_session + 1)}
    session_rows = [
        {
            "number": s.number,
            "cycle_id": cycles[cycle_of_session[s.number]].pk,
            "year": s.year,
            "start_date": s.start_date,
            "end_date": s.end_date,
        }
        for s in SESSIONS
    ]
    _counted(counts, "sessions", rows_sync(model=Session, key="number", rows=session_rows))

    counts |= issues_load()
    state_index.cache_clear()
    transaction.on_commit(state_index.cache_clear)
    reference_cache_clear()  # the search's filters and facets name values from these tables
    transaction.on_commit(reference_cache_clear)
    return counts
