#!/usr/bin/env bats
# security-kill.bats - see the header written with the first test.

load helpers
