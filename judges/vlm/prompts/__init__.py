"""The rubric templates (``*.j2``): data, not code.

This file only makes the folder a package, so that packaging tools ship the templates with
``judges.vlm`` (``package-data`` patterns match files inside packages); nothing imports it.
"""
