"""The Streamlit app's parts: shared state and widgets, and one module per tab.

``app.py`` is the entry point and reads as a table of contents; everything here is
UI code over the Python API (:mod:`kb.api`) and never reads the index itself.
"""
