# Lifeline: make run starts a node, make test runs every test. Both install
# what a fresh Debian machine lacks first (make deps).

GO       ?= go
DATA     ?= data
FUZZTIME ?= 2m

# cgo (SQLite) and the desktop app (Fyne) need a C compiler and the X11/GL
# headers.
DEB_PACKAGES := gcc libc6-dev pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev \
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev

# make screenshots runs the app in a virtual display and takes its picture.
SCREENSHOT_PACKAGES := xvfb imagemagick libgl1-mesa-dri

.PHONY: deps build test lint run bench fuzz clean screenshots

deps:
	@command -v $(GO) >/dev/null || { echo "Lifeline needs Go 1.26 or newer (https://go.dev/dl/)."; exit 1; }
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing" $$missing; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "Lifeline needs these Debian packages:"; \
			echo "  sudo apt-get install -y $$(echo $$missing)"; \
			exit 1; \
		fi; \
	fi

build: deps
	$(GO) build -o bin/ ./node/cmd/...

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test: deps lint
	$(GO) test -race -count=1 -timeout 20m ./...

# The desktop app on a field node in $(DATA); without a display, the node
# runs without its window and says so.
run: build
	bin/lifeline-desktop --data $(DATA)

screenshots: build
	@missing=$$(for p in $(SCREENSHOT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing" $$missing; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "make screenshots needs these Debian packages:"; \
			echo "  sudo apt-get install -y $$(echo $$missing)"; \
			exit 1; \
		fi; \
	fi
	scripts/screenshots.sh

bench: build
	bin/lifeline-bench

# Every fuzz target, FUZZTIME each (make fuzz FUZZTIME=10m).
fuzz: deps
	@for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

clean:
	rm -rf bin
