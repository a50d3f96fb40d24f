"""Names that become identifiers somewhere: SQL tables, Airflow dag_ids, Kubernetes objects.

Every name from a config row or an ecosystem file passes one of these checks before it is used;
nothing else in the package builds an identifier from user text.
"""

from __future__ import annotations

import re

from factory.errors import InvalidNameError

#: Platform names become part of SQL table names; PostgreSQL allows 63 bytes and the longest
#: suffix we add is ``_airflow_dsg_history`` (20), so 40 leaves room.
PLATFORM_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
#: Stream keys become part of dag_ids, which Airflow limits to alphanumerics, ``-``, ``.``, ``_``.
STREAM_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
#: RFC 1123 label (namespaces, container names).
K8S_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
#: RFC 1123 subdomain (secret names): dot-separated labels, 253 characters at most.
K8S_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
#: A container image reference: [registry[:port]/]path[:tag][@digest].
IMAGE_RE = re.compile(
    r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@sha256:[a-f0-9]{64})?$"
)

DSG_SUFFIX = "_airflow_dsg"


def platform_slug(platform: str) -> str:
    """The lower-cased platform name used in table names, dag_ids and file names.

    Raises :class:`InvalidNameError` for anything that is not a plain identifier, so a hostile
    name (quotes, spaces, unicode, ``__import__('os')``) never reaches SQL or Python source.
    """
    if not isinstance(platform, str) or not PLATFORM_NAME_RE.fullmatch(platform):
        raise InvalidNameError(
            f"platform name {platform!r} is not allowed: use a letter then up to 39 letters, "
            "digits or underscores (it becomes part of SQL table names)"
        )
    return platform.lower()


def check_stream_key(stream_key: str) -> str:
    """Return ``stream_key`` if it can be part of a dag_id, else raise :class:`InvalidNameError`."""
    if not isinstance(stream_key, str) or not STREAM_KEY_RE.fullmatch(stream_key):
        raise InvalidNameError(
            f"stream key {stream_key!r} is not allowed: use letters, digits, '_', '.' or '-' "
            "(at most 200, starting with a letter or digit; it becomes part of a dag_id)"
        )
    return stream_key


def dag_id_for(platform: str, stream_key: str) -> str:
    """``{platform}__{stream_key}_ingestion``, the dag_id shared by the static file and the factory."""
    return f"{platform_slug(platform)}__{check_stream_key(stream_key)}_ingestion"


def stream_key_from_dag_id(platform: str, dag_id: str) -> str | None:
    """The stream key a dag_id names on this platform, or ``None`` if it is not one of ours."""
    prefix = f"{platform_slug(platform)}__"
    if dag_id.startswith(prefix) and dag_id.endswith("_ingestion"):
        key = dag_id[len(prefix) : -len("_ingestion")]
        return key if STREAM_KEY_RE.fullmatch(key) else None
    return None


def dsg_table_name(platform: str) -> str:
    """``{platform}_airflow_dsg``: the seed's config table for this platform."""
    return f"{platform_slug(platform)}{DSG_SUFFIX}"


def is_k8s_label(value: str) -> bool:
    return bool(K8S_LABEL_RE.fullmatch(value))


def is_k8s_subdomain(value: str) -> bool:
    return len(value) <= 253 and bool(K8S_SUBDOMAIN_RE.fullmatch(value))


def is_image_reference(value: str) -> bool:
    return len(value) <= 512 and bool(IMAGE_RE.fullmatch(value))
