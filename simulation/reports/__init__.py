"""Reports: the run, study and validation reports as self-contained HTML pages, their palette
and templates, and the atomic writes every output goes through."""
