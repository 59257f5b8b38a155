# Two entry points (see README): `make run` and `make test`. Both set up everything first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup run test test-fast lint clean

setup:
	bash tools/bootstrap.sh

run: setup
	$(VENV)/bin/ecelerity -c conf/ecelerity.conf --foreground

test: setup
	bash tools/run_tests.sh

# Run the suite without re-running the installer (developer loop).
test-fast:
	bash tools/run_tests.sh

lint:
	$(VENV)/bin/ruff check ecelerity modules tests tools benchmarks

clean:
	rm -rf build *.egg-info ecelerity/_speedups/_c_*.c ecelerity/_speedups/_c_*.so
