"""The files in a dags folder that define a platform's DAGs: the one factory file, and the
legacy static files, one per stream.

Both layouts give a stream the same dag_id, so while a platform moves from one to the other a
dag_id must never be defined by two files at once. The factory file therefore skips every
stream whose static file is still beside it (:func:`static_keys_beside`, one ``os.listdir``
per parse), and ``yellowtui migrate`` orders its steps around that rule.

Cheap to import: the loader calls it on every parse.
"""

from __future__ import annotations

import os
from pathlib import Path

from factory.names import STREAM_KEY_RE, check_stream_key, platform_slug

STATIC_SUFFIX = "_ingestion.py"


def factory_file_name(platform: str) -> str:
    """``{platform}_factory_dag.py``."""
    return f"{platform_slug(platform)}_factory_dag.py"


def static_file_name(platform: str, stream_key: str) -> str:
    """``{platform}__{stream_key}_ingestion.py``: the legacy file of one stream."""
    return f"{platform_slug(platform)}__{check_stream_key(stream_key)}{STATIC_SUFFIX}"


def static_key(platform_prefix: str, file_name: str) -> str | None:
    """The stream key a file name is the static file of, or None (``platform_prefix`` is
    ``{platform}__``)."""
    if file_name.startswith(platform_prefix) and file_name.endswith(STATIC_SUFFIX):
        key = file_name[len(platform_prefix) : -len(STATIC_SUFFIX)]
        return key if STREAM_KEY_RE.fullmatch(key) else None
    return None


def static_files_in(folder: str | os.PathLike[str], platform: str) -> dict[str, str]:
    """Stream key -> static file name, for each of the platform's static files in ``folder``
    (not its subfolders). An unreadable or missing folder holds none."""
    prefix = f"{platform_slug(platform)}__"
    try:
        names = os.listdir(folder)
    except OSError:
        return {}
    found = {}
    for name in names:
        key = static_key(prefix, name)
        if key is not None:
            found[key] = name
    return found


def static_keys_in_dags_folder(platform: str) -> dict[str, str]:
    """The static files in Airflow's ``[core] dags_folder`` (bundle ``dags-folder``): a factory
    file in another DAG bundle (factory.bundles) is not beside them but must skip them all the same."""
    try:
        from airflow.configuration import conf

        folder = conf.get("core", "dags_folder")
    except Exception:  # no Airflow configuration: no dags folder to look in
        return {}
    return static_files_in(os.path.expanduser(folder), platform) if folder else {}


def static_keys_beside(fileloc: str | None, platform: str) -> dict[str, str]:
    """The static files beside the factory file at ``fileloc`` (its ``__file__``); none when
    the file's location is unknown."""
    if not fileloc:
        return {}
    return static_files_in(Path(fileloc).parent, platform)
