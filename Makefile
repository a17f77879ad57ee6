# trailsight: `make help` lists the targets.
GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 20s
BENCHTIME ?= 1s
OUT       ?= /tmp/trailsight

.PHONY: help build deps test test-short bench eval demo fuzz lint fmt golden tidy check

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## Build bin/trailsight.
	$(GO) build -o bin/trailsight ./cmd/trailsight

# deps is quick once done. The Kafka jars go to a cache outside the clone (kafka.sh home prints it).
# Outside CI a missing tool only warns: the tests that need it skip, loudly; with CI=true they fail.
deps: ## Install test dependencies: kcat, prometheus (promtool) and chromium (apt), Kafka jars (Maven Central), MinIO (go install).
	@missing=; \
	command -v kcat >/dev/null 2>&1 || command -v kafkacat >/dev/null 2>&1 || missing="$$missing kcat"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ]; then sudo=; elif command -v sudo >/dev/null 2>&1; then sudo=sudo; else sudo=none; fi; \
	  if [ "$$sudo" != none ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "deps: installing$$missing (apt-get)"; \
	    $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 || \
	    { $$sudo apt-get update -q >/dev/null && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; } || \
	    { echo "deps: apt-get install$$missing failed: the tests that need them skip (fail with CI=true)"; [ "$$CI" != true ]; }; \
	  else echo "deps: cannot install$$missing (needs apt-get, and root or sudo): the tests that need them skip (fail with CI=true)"; [ "$$CI" != true ]; fi; }
	@bash scripts/kafka/kafka.sh fetch || { echo "deps: no Kafka jars: the real-broker tests skip (fail with CI=true)"; [ "$$CI" != true ]; }
	@bash scripts/minio/minio.sh fetch || { echo "deps: no MinIO: the S3 tests skip (fail with CI=true)"; [ "$$CI" != true ]; }

test: deps ## Run every test with the race detector, shuffled, fuzz seeds and golden files included.
	$(GO) vet $(PKGS)
	$(GO) test -race -shuffle=on -count=1 -timeout 30m $(PKGS)

test-short: ## Run the tests without the race detector.
	$(GO) test -count=1 $(PKGS)

bench: ## Run the benchmarks (decoder, engine, replay, memory per series).
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) $(PKGS)

eval: build ## Generate the standard dataset and score the detector on it; also the NAB-format corpus.
	./bin/trailsight eval --preset standard --seed 1 --data $(OUT)/standard --json $(OUT)/eval-standard.json
	./bin/trailsight eval nab --generate --corpus $(OUT)/nab --out $(OUT)/nab-results

demo: build ## Generate a small labelled trail, replay it, and show the Insights beside the planted anomalies.
	./bin/trailsight demo

fuzz: ## Run every fuzz target for FUZZTIME.
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=200x $$pkg || exit 1; \
	  done; \
	done

golden: ## Rewrite golden files; review the diff like code.
	$(GO) test ./cloudtrail/ ./emitters/ ./eval/ -update

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: ## gofmt, go vet and staticcheck (fetched from the Go module proxy).
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet $(PKGS)
	$(GO) run $(STATICCHECK) $(PKGS)

fmt: ## Format the code.
	gofmt -w $$(git ls-files '*.go')

tidy: ## Check go.mod and go.sum are tidy.
	$(GO) mod tidy -diff

check: lint test ## What CI runs.
