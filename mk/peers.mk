# mk/peers.mk — the peer runtimes `make bench` times our model against
# (included by the top-level Makefile).
#
#   make peers-venv   PyTorch (eager), onnxruntime and LiteRT's Python runtime
#                     in a venv outside the repo (~1.6 GB; torch without its
#                     nvidia-* wheels, see scripts/peers-venv.sh). Needs
#                     Python 3.11, cc and readelf.
#
# Never part of `make test`: without the venv, `make bench` prints a note
# saying the peers were skipped and how to get them.

PEERS_VENV   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/groupvit-edge/peers-venv
PEERS_PYTHON := $(PEERS_VENV)/bin/python
# a file target: rebuilt when the pins or the build change
PEERS_STAMP  := $(PEERS_VENV)/.groupvit-peers

.PHONY: peers-venv
peers-venv: $(PEERS_STAMP)

$(PEERS_STAMP): scripts/peers-requirements.txt scripts/peers-venv.sh scripts/cuda_stubs.py
	scripts/peers-venv.sh $(PEERS_VENV)
	touch $@
