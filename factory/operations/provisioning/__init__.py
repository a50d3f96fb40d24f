"""Setting a platform up and taking it down: the ecosystem file turned into rows, tables and
rendered DAG files (bootstrap, render), the least-privilege grants for its database roles and
its pods (grants, k8s_rbac), and dropping it after exporting its rows and history (drop).
"""
