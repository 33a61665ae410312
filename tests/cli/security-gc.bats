#!/usr/bin/env bats
# security-gc.bats - see the header written with the first test.

load helpers
