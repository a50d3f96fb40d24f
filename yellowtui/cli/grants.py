"""``yellowtui grants``: least-privilege SQL for a platform's tables, or the job pods' Role."""

from __future__ import annotations

import click

from yellowtui.cli.core import ExitCode, platform_option
from yellowtui.cli.output import echo, fail


@click.command()
@platform_option(help="The platform whose tables to lock down.")
@click.option("--factory-role", default=None, help="Role of the factory file in Airflow (default: PLATFORM_factory).")
@click.option(
    "--operator-role", default=None, help="Role of people and tools changing rows (default: PLATFORM_operator)."
)
@click.option("--owner-role", default=None, help="Role owning tables and history (default: PLATFORM_owner).")
@click.option(
    "--kubernetes",
    "k8s_namespace",
    default=None,
    metavar="NAMESPACE",
    help="Print the Kubernetes Role and RoleBinding the job's pods need in NAMESPACE instead of SQL.",
)
@click.option(
    "--service-account", default="airflow-worker", show_default=True, help="With --kubernetes: Airflow's account."
)
@click.option(
    "--xcom-sidecar",
    is_flag=True,
    help="With --kubernetes: also pods/exec, for a platform whose job writes XCom (result_from: xcom).",
)
def grants(
    platform: str,
    factory_role: str | None,
    operator_role: str | None,
    owner_role: str | None,
    k8s_namespace: str | None,
    service_account: str,
    xcom_sidecar: bool,
) -> None:
    """Print the SQL giving three roles least privilege on a platform's tables.

    \b
    factory:  read rows and policy, write parse reports and build outcomes
    operator: change rows; read history, reports and policy
    owner:    everything; the only role that can alter, truncate or delete history
    History is append-only for everyone but the owner, records TRUNCATE, and names the
    session's login user unless a trusted writer sets yellow.actor (see docs/security.md).

    \b
    With --kubernetes NAMESPACE: the Role the job's pods need instead. DataSurface's job
    prints its result, which is read through pods/log: no pods/exec (the XCom sidecar's).
    """
    from factory.errors import InvalidNameError
    from factory.operations.provisioning.grants import Roles, grants_sql

    if k8s_namespace is not None:
        from factory.job_contract import ResultFrom
        from factory.names import platform_slug
        from factory.operations.provisioning.k8s_rbac import pod_role_manifest

        try:
            mode = ResultFrom.XCOM if xcom_sidecar else ResultFrom.STDOUT
            echo(
                pod_role_manifest(k8s_namespace, service_account, mode, f"{platform_slug(platform)}-ingestion"),
                nl=False,
            )
        except ValueError as exc:
            fail(str(exc), ExitCode.USAGE)
        return
    try:
        defaults = Roles.defaults(platform)
        roles = Roles(
            factory_role or defaults.factory, operator_role or defaults.operator, owner_role or defaults.owner
        )
        echo(grants_sql(platform, roles), nl=False)
    except InvalidNameError as exc:
        fail(str(exc), ExitCode.USAGE)


COMMANDS = (grants,)
