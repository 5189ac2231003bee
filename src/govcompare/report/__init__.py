"""Reports: context from an analysis, templates, and Markdown/HTML/PDF renderers."""
