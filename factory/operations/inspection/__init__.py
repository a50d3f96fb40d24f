"""Reading a platform for people and alerting: rows joined with validity and their last build
outcome (views, shared by the dashboard and the command line), and the health verdict with its
reasons (health). Pure reads; the factory file never needs them.
"""
