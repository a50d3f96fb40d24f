"""Pure functions and values that turn the factory's data into what people read: no IO, no
Textual. The dashboard's screens and the command line both use them (tested without an app)."""
