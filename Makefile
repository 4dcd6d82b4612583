# Lifeline: make run starts a node, make test runs every test. Both install
# what a fresh Debian machine lacks first (make deps).

GO       ?= go
DATA     ?= data
FUZZTIME ?= 2m
MUTATE_WORKERS ?= 1

# Go tools the targets use, each pinned, installed from the module proxy
# into bin/tools/ on first use.
GREMLINS_VERSION := v0.6.0
GREMLINS := bin/tools/gremlins-$(GREMLINS_VERSION)/gremlins

# cgo (SQLite) and the desktop app (Fyne) need a C compiler and the X11/GL
# headers; the drill and the network tests, iproute2 and nftables.
DEB_PACKAGES := gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev \
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev iproute2 nftables

# A test drives the desktop app in a virtual display of a small laptop's
# size (Xvfb, drawing with Mesa's software GL) with real key and mouse
# events (xdotool).
DISPLAY_PACKAGES := xvfb xdotool libgl1-mesa-dri

# GIS and report tests read what HQ hands on with the clients its analysts
# use: GDAL (ogrinfo) for the feature API and the GeoPackage, poppler
# (pdftotext, pdftoppm) for the situation report.
GIS_PACKAGES := gdal-bin poppler-utils

# make screenshots runs the app in that display and takes its picture.
SCREENSHOT_PACKAGES := imagemagick xdotool

# install-missing installs the Debian packages of the list $(1) that this
# machine lacks, as root; as anyone else it prints the apt-get line to run
# and fails, saying that $(2) needs them.
define install-missing
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing" $$missing; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "$(2) needs these Debian packages:"; \
			echo "  sudo apt-get install -y $$(echo $$missing)"; \
			exit 1; \
		fi; \
	fi
endef

.PHONY: deps build test lint run bench fuzz mutate clean screenshots drill

deps:
	@command -v $(GO) >/dev/null || { echo "Lifeline needs Go 1.26 or newer (https://go.dev/dl/)."; exit 1; }
	$(call install-missing,$(DEB_PACKAGES) $(DISPLAY_PACKAGES) $(GIS_PACKAGES),Lifeline)

build: deps
	$(GO) build -o bin/ ./cmd/...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test: deps lint
	@# The power-cut test mounts FUSE: a container may lack the device node
	@# while its kernel has the file system.
	@if [ "$$(id -u)" = 0 ] && [ ! -e /dev/fuse ]; then mknod -m 666 /dev/fuse c 10 229 2>/dev/null || true; fi
	$(GO) test -race -count=1 -timeout 20m ./...

# The desktop app on a field node in $(DATA); without a display, the node
# runs without its window and says so.
run: build
	bin/lifeline-desktop --data $(DATA)

screenshots: build
	$(call install-missing,$(SCREENSHOT_PACKAGES),make screenshots)
	scripts/screenshots.sh

bench: build
	bin/lifeline-bench
	@echo "-- again with the damage assessments' personal fields, which the nodes seal:"
	bin/lifeline-bench -personal -run 'W1|W4b'
	@echo "-- sealing and opening one personal value:"
	$(GO) test -run '^$$' -bench . -benchmem ./node/personal
	@echo "-- a peer's change of a record of which 20,000 changes wait aside:"
	$(GO) test -run '^$$' -bench AChangeOfARecordWithChangesWaiting -benchmem ./node/store
	@echo "-- a record of 20,000 changes, read whole and as a match or the live feed reads it:"
	$(GO) test -run '^$$' -bench RecordOfALongHistory -benchmem ./node

# The hurricane drill against real processes in network namespaces (root);
# the report is printed and written to drill-report.txt.
drill: build
	bin/lifeline-drill --report drill-report.txt

# Every fuzz target, FUZZTIME each (make fuzz FUZZTIME=10m), then a table of
# executions and crashes.
fuzz: deps
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

# Mutation testing of the core packages (hours on two cores, so not part
# of make test), then a table of mutants killed and lived per package;
# docs/testing.md says what it covers and gives the latest figures.
mutate: deps $(GREMLINS)
	GO=$(GO) GREMLINS=$(CURDIR)/$(GREMLINS) MUTATE_WORKERS=$(MUTATE_WORKERS) scripts/mutate.sh

$(GREMLINS):
	GOBIN=$(CURDIR)/$(dir $(GREMLINS)) $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)

clean:
	rm -rf bin
