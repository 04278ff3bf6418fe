# The one place people, the README and CI (.ci/run) run things from.
CARGO ?= cargo

.PHONY: demo test validate lint fmt bench ci

## Prove and verify 8 inferences of the embedded digits model.
demo:
	$(CARGO) run --release -p glassbox-cli -- demo

## Every unit, integration and CLI test, examples and benches built, then the doctests.
test:
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

## One end-to-end test with winterfell's debug trace validation switched on.
validate:
	$(CARGO) test --profile validate -p glassbox-prover --test synthetic

## Formatting and clippy, warnings denied.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	bash scripts/check-verifier-deps.sh

fmt:
	$(CARGO) fmt --all

## The README's benchmark table.
bench:
	$(CARGO) run --release -p glassbox-cli -- bench

## What CI runs.
ci:
	bash .ci/run
