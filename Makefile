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

# make bench builds teamslink and scans generated fleets through the
# emulator with it (internal/bench), printing one table: issue 10's figures
# with their targets, then fleets of 30 to 1,000 tenants. A few minutes.
BENCH_SIZES ?= 30,100,300,1000

.PHONY: bench
bench: ## scan generated fleets with the built binary; print the performance table (docs/performance.md)
	@out=$$($(GO) test -run '^$$' -bench '^BenchmarkTable$$' -benchtime 1x -timeout 30m ./internal/bench -bench.sizes '$(BENCH_SIZES)' 2>&1); \
	status=$$?; if [ $$status -ne 0 ]; then echo "$$out"; exit $$status; fi; \
	echo "$$out" | sed -n '/^| figure/,/^machine:/p'

.PHONY: bench-go
bench-go: ## run every Go benchmark of the module (evaluation, emulator, serve, metrics, …) but make bench's
	$(GO) test -run '^$$' -bench . -skip '^BenchmarkTable$$' -benchmem ./...

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

# Release: reproducible binaries for every platform, stamped with the version,
# the commit and the commit's time (SOURCE_DATE_EPOCH, never the clock), packed
# with the README into tar.gz (zip for Windows), a CycloneDX SBOM per binary
# read from the binary's own build information, and SHA-256 checksums. See
# docs/release.md.
CYCLONEDX_GOMOD_VERSION := v1.10.0
RELEASE_PLATFORMS := linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64,windows/arm64
DIST              := dist
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct)
RELEASE_COMMIT     = $(shell git rev-parse HEAD)
RELEASE_DATE       = $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r $(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ)
SHA256SUM         ?= $(shell command -v sha256sum >/dev/null 2>&1 && echo sha256sum || echo shasum -a 256)
SBOM_TOOL         := $(GO) run github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_GOMOD_VERSION) bin -json -noserial -notimestamp -std
RELEASE_STAMPS     = -version $(VERSION) -commit $(RELEASE_COMMIT) -date $(RELEASE_DATE)

.PHONY: release
release: ## reproducible archives for linux/darwin/windows x amd64/arm64, SBOMs and checksums in dist/
	@case "$(VERSION)" in *-dirty) echo "warning: the tree has uncommitted changes; the archives will not match $(RELEASE_COMMIT)";; esac
	rm -rf $(DIST)
	$(GO) run ./internal/release -out $(DIST) $(RELEASE_STAMPS) -platforms $(RELEASE_PLATFORMS) -sbom '$(SBOM_TOOL)' build
	$(GO) run ./internal/release -out $(DIST) checksums
	cd $(DIST) && $(SHA256SUM) -c checksums.txt

.PHONY: release-verify
release-verify: ## rebuild linux/amd64 with an empty build cache and compare it with dist/checksums.txt
	@tmp=$$(mktemp -d) && trap 'chmod -R u+w "$$tmp"; rm -rf "$$tmp"' EXIT && \
	GOCACHE="$$tmp/cache" $(GO) run ./internal/release -out "$$tmp/dist" $(RELEASE_STAMPS) -platforms linux/amd64 build >/dev/null && \
	name=$$(cd "$$tmp/dist" && ls *.tar.gz) && \
	grep "  $$name\$$" $(DIST)/checksums.txt | (cd "$$tmp/dist" && $(SHA256SUM) -c -)
