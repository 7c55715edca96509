#!/bin/sh
# Installs what cmlkit needs to build and test, from Debian packages only.
# Run as root on Debian 12 (apt-get is non-interactive here).
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
	build-essential cmake pkg-config \
	libxml2-dev libxml2-utils libcsv-dev libsqlite3-dev libcurl4-openssl-dev libarchive-dev libxxhash-dev libidn2-dev \
	mandoc python3 openssl curl
