"""Stand-ins for the world around the factory: databases, ecosystems, jobs, faults, Airflow."""
