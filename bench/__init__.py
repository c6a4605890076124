"""editbench's core: data model, registry, identities, run store, runner and CLI.

Importing ``bench`` is cheap and loads no model library; components arrive through the registry.
"""

__version__ = "0.1.0"
