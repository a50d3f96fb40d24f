"""Moving a platform from legacy static DAG files to the factory: read each static DAG back into
a row (migrate, migrate_read, migrate_given), tell intended differences from drift (intended),
cut over or roll back file by file (cutover), and rewrite rows DataSurface wrote into the
factory's canonical form once it no longer writes them (normalize).
"""
