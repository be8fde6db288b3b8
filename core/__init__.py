"""The ground floor: rules that know no domain (identity documents, references, uploads, client address,
masking, pagination, bulk SQL, the locked-chunk loop, the transition engine's machinery). It imports no app
of the project; every app may import it (see the import contract in pyproject.toml, checked by `make lint`)."""
