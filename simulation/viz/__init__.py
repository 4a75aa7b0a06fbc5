"""The interactive app's parts: controls, layout, figures, the page component, the server.

``simulation/app.py`` assembles them into the page; ``ppsim viz`` serves it. See
``docs/app.md``.
"""
