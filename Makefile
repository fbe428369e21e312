.PHONY: run test setup bench lint-imports
run:   ## set up and start Airflow standalone with the newsroom DAGs
	./scripts/run.sh
test:  ## set up and run the whole test suite
	./scripts/test.sh
setup:
	./scripts/setup.sh
bench:
	./scripts/bench.sh
lint-imports:  ## check the layering contracts of pyproject.toml (import-linter)
	PYTHONPATH=include .venv/bin/lint-imports --no-cache
