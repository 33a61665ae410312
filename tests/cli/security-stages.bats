#!/usr/bin/env bats
# security-stages.bats - see the header written with the first test.

load helpers
