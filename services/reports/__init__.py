"""Reports built from the store, shared by the API, the web app, the CLI and the weekly
mail. Nothing here imports FastAPI: callers pass an AsyncSession and get pydantic models
and rendered text back.

The portfolio report is in parts:
- `models`: the report's pydantic types;
- `queries`: `build_portfolio` and its GROUP BY queries;
- `durations`: the days per stage, in SQL;
- `figures`: pure arithmetic: stage of a status, stints, days per stage, percentiles,
  and the charts' series;
- `renderers`: CSV, plain text, and HTML from the Jinja2 templates in `templates/`,
  whose chart macro (`templates/charts.html`) the web dashboard draws with too.
"""
