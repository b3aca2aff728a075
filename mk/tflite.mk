# mk/tflite.mk — the prebuilt TensorFlow Lite C runtime used by infer/tflite.
#
# Included by the top-level Makefile. `make tflite-lib` fetches
# libtensorflowlite_c.so 2.17.1 (and the wheel's sample .tflite models) into
# TFLITE_CACHE with scripts/fetch-tflite.sh; the library is never committed.
# The Go side (infer/tflite.DefaultCacheDir) computes the same folder, so a
# fetched library is found without flags.
#
# Override the folder with `make tflite-lib TFLITE_CACHE=/some/dir` or by
# exporting GROUPVIT_TFLITE_CACHE, and the architecture with TFLITE_ARCH.

TFLITE_VERSION := 2.17.1
TFLITE_CACHE ?= $(or $(GROUPVIT_TFLITE_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/groupvit-edge/tflite-$(TFLITE_VERSION))
TFLITE_LIB := $(TFLITE_CACHE)/libtensorflowlite_c.so

.PHONY: tflite-lib
tflite-lib: $(TFLITE_LIB)

# A file target, so that rules needing the library can depend on $(TFLITE_LIB)
# and make skips the fetch once it is there.
$(TFLITE_LIB):
	@GROUPVIT_TFLITE_CACHE='$(TFLITE_CACHE)' scripts/fetch-tflite.sh >/dev/null
	@echo "TFLite C runtime: $@"
