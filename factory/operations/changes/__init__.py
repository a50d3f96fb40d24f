"""Staged changes to a platform's rows: the changeset an operator reviews, the plan that shows
what it would do to each DAG (config and Airflow's serialized form, task by task), and the
apply that writes it in one conflict-checked transaction. The dashboard's editor and the
``plan`` / ``apply`` commands share these, so what was reviewed is what lands.
"""
