#!/usr/bin/env bats
# security-checkout.bats - see the header written with the first test.

load helpers
