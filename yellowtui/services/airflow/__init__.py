"""The dashboard's and the command line's one door to Airflow's REST API (v2), in four parts:

- :mod:`.settings`: where Airflow is and how to talk to it (``AIRFLOW_API_*`` variables);
- :mod:`.models`: what Airflow answers, as small frozen dataclasses read from its JSON;
- :mod:`.transport`: one call sent with a token, timeouts, retries and one-line errors;
- :mod:`.service`: :class:`~.service.AirflowService`, the reads and writes an operator needs.

Nothing here imports textual; the REST client is imported on first use. This module imports
nothing, so reading the models does not load the service.
"""
