# The web console's browser tests (tests/browser) drive Debian's headless Chromium through its
# chromedriver; `make test` installs both when either is missing (as root, or through sudo).
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
CHROMIUM_PACKAGES := chromium chromium-driver

.PHONY: chromium
chromium: $(CHROMIUM) $(CHROMEDRIVER)

# Only when missing: apt-get install, refreshing the package lists first if they do not know the
# packages yet. Without apt-get, say what to install and stop.
$(CHROMIUM) $(CHROMEDRIVER):
	@command -v apt-get >/dev/null 2>&1 || { echo "The browser tests need Chromium: install the Debian packages $(CHROMIUM_PACKAGES)" >&2; exit 1; }
	@echo "Installing $(CHROMIUM_PACKAGES) (the browser tests' headless Chromium)"
	@$(APT_GET) install -y -qq --no-install-recommends $(CHROMIUM_PACKAGES) >/dev/null 2>&1 || \
	  { $(APT_GET) update -qq >/dev/null && $(APT_GET) install -y -qq --no-install-recommends $(CHROMIUM_PACKAGES) >/dev/null; } || \
	  { echo "Could not install the Debian packages $(CHROMIUM_PACKAGES)" >&2; exit 1; }
	@test -x $@ || { echo "$(CHROMIUM_PACKAGES) are installed but $@ is missing" >&2; exit 1; }

TEST_PREREQS += chromium
