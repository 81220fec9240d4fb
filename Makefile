.PHONY: install format lint mypy test all bench

install:
	pip install -e '.[dev]'

format:
	ruff format .
	ruff check --fix .

lint:
	ruff check .
	ruff format --check .

mypy:
	mypy

test:
	python -m pytest -q

bench:
	python bench/evaluator.py
	python bench/diagnosis.py
	python bench/slack.py

all: lint mypy test
