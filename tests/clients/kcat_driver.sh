#!/usr/bin/env bash
# Interop driver for kcat (tests/clients/CONTRACT.md). kcat itself does the Kafka work; the
# Python script beside runs it and turns its output into the contract's JSON lines.
exec python3 "$(dirname "$0")/python/kcat_driver.py" "$@"
