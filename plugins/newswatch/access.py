"""Who may see the analyst's pages, decided from the Airflow user the UI's login gives us.

Logged in is not enough. A user may read the pages when Airflow's auth manager authorises the
custom view `newswatch` for them (for the FAB or Keycloak managers a permission an admin grants
to roles; for the simple manager any user with a role) and, when NEWSWATCH_UI_ROLES lists
roles, when one of their roles is listed. Feed errors, run states and task-log links are
operations detail: shown only to users the auth manager lets read the polling DAG's task logs,
as in Airflow's own UI."""

from __future__ import annotations

from dataclasses import dataclass

CUSTOM_VIEW = "newswatch"
POLLING_DAG = "us_china_news"


@dataclass(frozen=True)
class Access:
    can_read: bool
    sees_operations: bool
    why: str = ""


def user_roles(user) -> set[str]:
    """A user's role names, lower-cased, whichever auth manager made the user object."""
    roles = set()
    role = getattr(user, "role", None)
    if isinstance(role, str) and role:
        roles.add(role.lower())
    for r in getattr(user, "roles", None) or ():
        name = getattr(r, "name", r)
        if isinstance(name, str):
            roles.add(name.lower())
    return roles


def decide(user, auth_manager, allowed_roles: tuple[str, ...]) -> Access:
    if user is None:
        return Access(False, False, "not logged in")
    if not auth_manager.is_authorized_custom_view(method="GET", resource_name=CUSTOM_VIEW, user=user):
        return Access(False, False, "the auth manager does not grant the newswatch view to this user")
    if allowed_roles and not user_roles(user) & {r.lower() for r in allowed_roles}:
        return Access(False, False, f"NEWSWATCH_UI_ROLES allows only {', '.join(allowed_roles)}")
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    ops = auth_manager.is_authorized_dag(
        method="GET", user=user, access_entity=DagAccessEntity.TASK_LOGS, details=DagDetails(id=POLLING_DAG)
    )
    return Access(True, bool(ops))
