# groupvit-edge — build, demo, tests and benchmarks.
#
#   make demo    segment the sample scenes with the embedded default model
#   make test    everything CI runs (fetches the TFLite runtime first)
#   make bench   speed and memory of each engine, side by side; file mode
#                against the engine alone (make bench-readme: into README)

GO      ?= go
BIN     := bin/groupvit
OUT     ?= out
# The labels the embedded default model was trained on.
DEMO_LABELS ?= circle,square,triangle,star,cross,heart

include mk/tflite.mk
-include mk/train.mk

.PHONY: build demo test go-test vet cross bench fuzz clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -o $(BIN) .

demo: build
	./$(BIN) run --labels "$(DEMO_LABELS)" --input testdata/scenes --out $(OUT)/demo
	@echo "overlays, label masks and JSON records are in $(OUT)/demo"

# CI runs exactly this target (.ci/run). The TFLite tests fail instead of
# skipping when CI=true and the runtime is missing, so it is fetched first.
test: tflite-lib vet go-test $(TRAIN_TEST)

# What CI needs besides Go on a fresh Debian machine, where it runs as root:
# Chromium, for the live page's browser tests (stream/, cli/,
# internal/browsertest), which fail rather than skip under CI=true. Nothing is
# installed when a browser internal/browsertest.Find accepts is already there,
# so a warm machine pays nothing. Without its Recommends (upower, udev,
# Mesa's GL drivers, fonts, a notification daemon, printer tools: none used
# headless) chromium is 25 Debian packages instead of 115 (README, Set-up).
CI_BROWSERS ?= chromium chromium-browser google-chrome google-chrome-stable
.PHONY: ci-deps
ci-deps:
	@for b in $${GROUPVIT_CHROMIUM:-} $(CI_BROWSERS); do \
		if command -v "$$b" >/dev/null 2>&1; then echo "ci-deps: browser $$(command -v "$$b")"; exit 0; fi; \
	done; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "ci-deps: chromium is missing; run as root, or: sudo apt-get install chromium" >&2; exit 1; \
	fi; \
	echo "ci-deps: installing chromium"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update && apt-get install -y --no-install-recommends chromium

vet:
	$(GO) vet ./...

go-test:
	GROUPVIT_TFLITE_LIB='$(TFLITE_LIB)' $(GO) test -count=1 -timeout 20m ./...

# The binary builds without cgo, for the host and for 64-bit Arm boards
# (Raspberry Pi 5, Jetson Orin): bin/groupvit-linux-arm64 is the file to copy
# to a board (docs/deploy.md).
cross:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -buildvcs=auto -o bin/groupvit-linux-arm64 .
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -buildvcs=auto -o bin/groupvit-linux-amd64 .

# The full gcc-yfcc architecture (random weights: speed does not depend on
# them), native against TFLite fp32/fp16/int8 on XNNPACK, each variant in its
# own process so its peak memory is its own. Extra flags: BENCH_ARGS=...
# (e.g. --format json). Kernel micro-benchmarks: go test -run '^$' -bench . ./infer/... ./tensor/...;
# the decode's (official against refined masks): go test -run '^$' -bench Decode ./labels;
# the JPEG decoder's against image/jpeg (cpu-ns/op): go test -run '^$' -bench Decode ./internal/jpegdec
BENCH_FORMAT ?= table
bench: build tflite-lib
	GROUPVIT_TFLITE_LIB='$(TFLITE_LIB)' ./$(BIN) bench --config gcc-yfcc --size 224 --runs 5 --warmup 1 \
		--threads 1,2 --precisions fp32,fp16,int8 --require-tflite --format $(BENCH_FORMAT) $(BENCH_ARGS)
	@echo
	./$(BIN) bench-files --input testdata/scenes --format $(BENCH_FORMAT) $(BENCH_FILES_ARGS)

# File mode against the engine alone (the embedded default model, native
# engine, the sample scenes) in one run: the pipelined file mode should keep
# 90 % of the engine-bound rate. Also the last part of `make bench`.
BENCH_FILES_ARGS ?= --images 60 --rounds 3
bench-files: build
	./$(BIN) bench-files --input testdata/scenes --format $(BENCH_FORMAT) $(BENCH_FILES_ARGS)

# The README's speed tables, regenerated from one run of `make bench` with
# BENCH_FORMAT=markdown and pasted verbatim between its bench markers
# (scripts/readme-bench.sh): never edited by hand, and naming the machine.
.PHONY: bench-files bench-readme
bench-readme: build tflite-lib
	mkdir -p $(OUT)
	$(MAKE) -s --no-print-directory bench BENCH_FORMAT=markdown > $(OUT)/bench.md
	scripts/readme-bench.sh $(OUT)/bench.md README.md

# Each fuzzer for a while; `make fuzz FUZZTIME=5m` for longer.
FUZZTIME ?= 30s
fuzz:
	$(GO) test ./models -run '^$$' -fuzz FuzzReadSafetensors -fuzztime $(FUZZTIME)
	$(GO) test ./models -run '^$$' -fuzz FuzzReadPyTorch -fuzztime $(FUZZTIME)
	$(GO) test ./labels -run '^$$' -fuzz FuzzTokenize -fuzztime $(FUZZTIME)
	$(GO) test ./internal/jpegdec -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)

clean:
	rm -rf bin $(OUT)
