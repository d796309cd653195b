"""Reference pages of the docs site, generated from the code (`mkdocs build` runs `pages.py`).

Each module renders one page from the object that is the truth for it: the settings class,
the problem registry, the typer app, the FastAPI app's OpenAPI document, the role table.
A page that cannot be generated (a setting without a description, a route missing from the
role table) stops the build: the docs cannot drift from the code.
"""
