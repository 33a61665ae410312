#!/usr/bin/env bats
# security-config.bats - see the header written with the first test.

load helpers
