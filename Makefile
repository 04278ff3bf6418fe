# The one place people, the README and CI (.ci/run) run things from.
CARGO ?= cargo

.PHONY: demo test validate adversary lint fmt bench ci fuzz wasm web-warmup web-test web-bench deploy-test python-test

## Prove and verify 8 inferences of the embedded digits model.
demo:
	$(CARGO) run --release -p glassbox-cli -- demo

## Every unit, integration and CLI test, examples and benches built, then the doctests.
test:
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

## End-to-end tests with winterfell's debug trace validation switched on (dense, grouped,
## stencil, patch (cyclic and linear), pooled and tabled layers).
validate:
	$(CARGO) test --profile validate -p glassbox-prover --test synthetic
	$(CARGO) test --profile validate -p glassbox-prover --test grouped a_grouped_layer_proves
	$(CARGO) test --profile validate -p glassbox-prover --test stencil a_stencil_layer_passes
	$(CARGO) test --profile validate -p glassbox-prover --test patch a_patch_layer_passes
	$(CARGO) test --profile validate -p glassbox-prover --test tables a_tabled_layer_passes
	$(CARGO) test --profile validate -p glassbox-prover --test one_row_blocks a_one_row_layout_passes
	$(CARGO) test --profile validate -p glassbox-prover --test pool a_pooled_layer_passes

## The malicious prover (its own workspace, adversary/): every forged protocol step must be
## rejected by the unmodified verifier. Built into the main target directory with the same test
## profile, so it reuses what `make test` compiled.
adversary:
	CARGO_TARGET_DIR=$(CURDIR)/target $(CARGO) test --manifest-path adversary/Cargo.toml

## Formatting and clippy, warnings denied.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path adversary/Cargo.toml --check
	$(CARGO) fmt --manifest-path crates/wasm/Cargo.toml --check
	$(CARGO) fmt --manifest-path crates/python/Cargo.toml --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	CARGO_TARGET_DIR=$(CURDIR)/target $(CARGO) clippy --manifest-path crates/python/Cargo.toml --features extension-module -- -D warnings
	bash scripts/check-verifier-deps.sh
	@for src in air/src crates/*/src; do python3 scripts/import-cycles.py $$src || exit 1; done

fmt:
	$(CARGO) fmt --all

## The README's benchmark table.
bench:
	$(CARGO) run --release -p glassbox-cli -- bench --batches 1,8,64,256

## A bounded libFuzzer run of every fuzz target (needs nightly and cargo-fuzz; skipped without).
FUZZ_SECONDS ?= 30
fuzz:
	@if cargo +nightly --version >/dev/null 2>&1; then \
		command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked; \
		for t in verify_bytes verify_mutated onnx_load input_json model_artifact; do \
			echo "::: fuzz $$t ($(FUZZ_SECONDS) s)"; \
			log=$${TMPDIR:-/tmp}/glassbox-fuzz-$$t.log; \
			bash fuzz/run.sh $$t $(FUZZ_SECONDS) > $$log 2>&1 || { \
				tail -n 40 $$log; echo "::: first errors in $$log:"; \
				grep -m 8 -E 'error|fatal|No space|Killed|signal' $$log | cut -c 1-300; \
				df -h . | tail -n 1; exit 1; }; \
			grep -E 'Done [0-9]+ runs' $$log | tail -n 1; \
		done; \
	else echo "no nightly toolchain: libFuzzer runs skipped (the stable mutation and proptest suites ran in make test)"; fi

## The verifier as WebAssembly: crates/wasm → web/pkg/ (installs the wasm32 target and
## wasm-bindgen-cli of the pinned version where missing; fails over 600 KB gzipped).
wasm:
	bash scripts/build-wasm.sh

## web/warmup.js: the small proof the page verifies while it loads (after a proof format change).
web-warmup:
	bash scripts/build-web-warmup.sh

## The page in headless Chromium: valid, tampered and attack proofs, bundles, traps, requests.
## Builds web/pkg/ first (generated, not committed).
web-test: wasm
	bash scripts/web-test.sh

## The wasm's size (raw and gzipped) and the demo proof's verify time in headless Chromium.
web-bench: wasm
	@echo "wasm: $$(stat -c %s web/pkg/glassbox_wasm_bg.wasm) bytes raw, $$(gzip -9 -n -c web/pkg/glassbox_wasm_bg.wasm | wc -c) bytes gzipped (web/pkg/glassbox_wasm_bg.wasm)"
	bash scripts/web-test.sh --bench | grep -E '^browser verify|passed, '

## The shipped cluster recipes (deploy/: a Kubernetes Indexed Job, a Slurm job array) run as 4
## local processes each with their index variable, merged and verified. SAMPLES=10000 to time.
deploy-test:
	bash scripts/test-deploy.sh

## The Python package (crates/python): a venv under target/, the wheel built with maturin, and
## pytest (compile, run, prove, verify, exceptions, exporters, Ray, the CLI's files).
python-test:
	bash scripts/python-test.sh

## What CI runs.
ci:
	bash .ci/run
