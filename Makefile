# s1copilot — see README.md.
SHELL := /bin/bash
GOBIN := $(shell go env GOPATH)/bin
TEMPORAL_VERSION := v1.5.1
# The temporal CLI (dev server + Web UI): on PATH, or installed into GOBIN by `make temporal-cli`.
TEMPORAL ?= $(shell command -v temporal 2>/dev/null || echo $(GOBIN)/temporal)
export TEMPORAL_CLI_PATH := $(TEMPORAL)

.PHONY: report-png demo demo-check test test-unit bench bench-rss build temporal-cli lint clean histories eval chart helm
HELM_VERSION := v4.3.2
HELM ?= $(shell command -v helm 2>/dev/null || echo $(GOBIN)/helm)

## demo: run the whole system on the embedded demo scenario (Ctrl-C to stop)
demo: build temporal-cli
	bin/demo -temporal $(TEMPORAL)

## demo-check: the same, unattended; approves what waits and exits 0 only if every threat ends as expected
demo-check: build temporal-cli
	bin/demo -check -temporal $(TEMPORAL)

## test: unit tests and integration tests against a real Temporal dev server
test: temporal-cli
	S1C_REQUIRE_INTEGRATION=1 go test -race -count=1 -timeout 25m ./...

## test-unit: only the tests that need no Temporal server
test-unit:
	go test -race -count=1 -short ./...

## chart: helm lint and the strict render test of deploy/helm/s1copilot, every ci/ profile (installs helm if missing)
chart: helm
	S1C_REQUIRE_HELM=1 go test -count=1 ./deploy/helm/

## helm: install helm $(HELM_VERSION) if it is missing (go install; a few minutes)
helm:
	@if [ ! -x "$(HELM)" ]; then \
		echo "Installing helm $(HELM_VERSION) (go install; a few minutes)…"; \
		go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION); \
	fi

## eval: run the labeled scenario set through the analyzers (rules offline; the model too with OPENAI_BASE_URL), then the hunting questions through the named-hunt library
eval:
	go run ./tools/eval

# Sizes of the end-to-end benchmark: make bench N=200; extra flags in BENCH_ARGS (go run ./tools/benchmark -h).
N ?= 1000
OUTBREAK ?= $(N)
WAITING ?= 10000
BENCH_ARGS ?=

## bench: Go micro-benchmarks, then the end-to-end benchmark (throughput vs engine floor, latency, economy), appended to BENCHMARKS.md
bench: temporal-cli
	go test -run '^$$' -bench . -benchmem ./...
	BENCH_COMMAND='make bench N=$(N) OUTBREAK=$(OUTBREAK)' \
		go run ./tools/benchmark -temporal $(TEMPORAL) -n $(N) -outbreak $(OUTBREAK) $(BENCH_ARGS)

## bench-rss: worker memory (bin/worker) with WAITING investigations awaiting approval, appended to BENCHMARKS.md (see README for the pacing)
bench-rss: build temporal-cli
	BENCH_COMMAND='make bench-rss WAITING=$(WAITING)' \
		go run ./tools/benchmark -temporal $(TEMPORAL) -n 0 -outbreak 0 -rss-waiting $(WAITING) -worker-bin bin/worker $(BENCH_ARGS)

## chaos: 500 threats while workers are killed (-9), the poller and the dev server restarted; fails if anything is lost, stuck or done twice (CHAOS_FLAGS="-threats 100")
.PHONY: chaos soak
chaos: build temporal-cli
	go run ./tools/loadtest chaos -temporal $(TEMPORAL) $(CHAOS_FLAGS)

## soak: investigations against a faulty SentinelOne (5xx, 429, latency, bad JSON) and a faulty model; fails on an incomplete run, a rate-limit violation, an unsaid fallback or a leaked secret
soak: build temporal-cli
	go run ./tools/loadtest soak -temporal $(TEMPORAL) $(SOAK_FLAGS)

build:
	@mkdir -p bin
	go build -o bin/ ./worker ./starter ./tools/s1sim ./tools/demo

## temporal-cli: install the temporal CLI if it is missing (about 5 to 10 minutes, from the Go module proxy)
temporal-cli:
	@if [ ! -x "$(TEMPORAL)" ]; then \
		echo "Installing the temporal CLI $(TEMPORAL_VERSION) (go install; about 5 to 10 minutes)…"; \
		go install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VERSION); \
	fi

lint:
	gofmt -l . | (! grep .)
	go vet ./...

clean:
	rm -rf bin .demo

## histories: re-record the replay fixtures in workflows/testdata from a real run (after an intended workflow change)
histories: temporal-cli
	S1C_UPDATE_HISTORIES=1 S1C_REQUIRE_INTEGRATION=1 go test -count=1 -run 'TestBaselineHistories|TestEndToEndWithAModel|TestAnAdversarialModel|TestApproveFromSlackEndToEnd|TestHuntFromQuestionToFiles|TestSOCReportEndToEnd' ./integration/

## report-png: regenerate docs/report.png, the README's screenshot of a demo-like SOC report (needs chromium)
report-png:
	go run ./tools/reportshot -out docs/report.png
