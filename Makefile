# teamslink — the Makefile is the contract: `make help` lists the targets.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := bin/teamslink
STATICCHECK_VERSION := v0.8.2

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/teamslink (version from git)
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/teamslink

.PHONY: test
test: fmt-check test-deps ## gofmt check, go vet, and every Go and Rego test with the race detector
	$(GO) vet ./...
	$(GO) test -race -shuffle=on -timeout 20m ./...

# What the tests run that Go cannot fetch: headless Chromium (the HTML
# report is rendered in a real browser), xmllint (JUnit is validated against
# its XSD) and a font for the screenshot. Installed from Debian's packages
# when running as root; otherwise the target stops with the command to run.
TEST_PACKAGES := chromium libxml2-utils fonts-liberation

.PHONY: test-deps
test-deps: ## install what the tests need that Go cannot fetch (chromium, xmllint)
	@missing=""; \
	for p in $(TEST_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing the test tools:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >/dev/null || exit 1; \
		else \
			echo "the tests need:$$missing"; echo "install them with: sudo apt-get install -y$$missing"; exit 1; \
		fi; \
	fi

.PHONY: fmt-check
fmt-check:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

.PHONY: lint
lint: fmt-check ## go vet, staticcheck, go mod tidy leaves no diff
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	$(GO) mod tidy -diff

.PHONY: demo
demo: ## scan the sample tenants through the local emulator over HTTPS; reports in ./teamslink-demo
	$(GO) run ./cmd/teamslink demo

.PHONY: bench
bench: ## run the benchmarks (evaluation cost per environment, …)
	$(GO) test -run '^$$' -bench . -benchmem ./...

FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## run every Fuzz target of the module, one at a time, for FUZZTIME (30s) each
	@list=$$($(GO) test -list '^Fuzz' ./...) || { echo "$$list"; exit 1; }; \
	targets=$$(echo "$$list" | awk '/^Fuzz/ { t[n++] = $$1; next } /^ok/ { for (i = 0; i < n; i++) print $$2 "," t[i]; n = 0 }'); \
	[ -n "$$targets" ] || { echo "no Fuzz targets found"; exit 1; }; \
	for pt in $$targets; do \
		pkg=$${pt%,*}; target=$${pt#*,}; \
		echo "fuzz $$target in $$pkg for $(FUZZTIME)"; \
		$(GO) test "$$pkg" -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) || exit 1; \
	done

.PHONY: docs
docs: ## regenerate docs/rules.md from the rule catalogue
	$(GO) run ./cmd/teamslink rules --format markdown > docs/rules.md.tmp && mv docs/rules.md.tmp docs/rules.md

.PHONY: golden
golden: ## refresh every golden file after an intended change
	$(GO) test ./... -update
