#!/bin/sh
echo "coverage through Bazel is not supported in this repository" >&2
exit 1
