# The web console's browser tests (tests/browser) drive Debian's headless Chromium through its
# chromedriver; `make test` installs both when either is missing (as root, or through sudo).
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
CHROMIUM_PACKAGES := chromium chromium-driver

.PHONY: chromium
chromium: $(CHROMIUM) $(CHROMEDRIVER)

$(CHROMIUM) $(CHROMEDRIVER):
	@$(call apt_install,$(CHROMIUM_PACKAGES),the browser tests' headless Chromium)
	@test -x $@ || { echo "$(CHROMIUM_PACKAGES) are installed but $@ is missing" >&2; exit 1; }

TEST_PREREQS += chromium
