"""Reads a TensorBoard log directory with TensorBoard's own loader and prints
every scalar as JSON: {"tag": [[step, value, wall_time], ...], ...}.

Used by tests/report/tensorboard_export_test.cpp as the independent reader of
the event files grpo writes. Usage: read_tensorboard.py LOGDIR
"""
import json
import sys

from tensorboard.backend.event_processing import event_accumulator


def main():
    acc = event_accumulator.EventAccumulator(sys.argv[1], size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    out = {tag: [[e.step, e.value, e.wall_time] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
