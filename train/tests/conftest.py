# Tests import the trainer's modules (train/*.py) directly.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
