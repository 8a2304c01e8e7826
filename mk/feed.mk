# The school feed (docs/feed.md): its broker users are made through the RabbitMQ management API, so
# the tests need the rabbitmq_management plugin. `make feed-broker` enables it when it is not, and
# waits until the API answers on :15672. Skipped where rabbitmq-plugins is not installed (a remote
# broker): the feed's broker tests then skip loudly, or fail with REQUIRE_INFRA=1.
FEED_ADMIN_URL ?= http://127.0.0.1:15672/api/overview
FEED_ADMIN_PROBE = python3 -c "import base64, urllib.request as u; r = u.Request('$(FEED_ADMIN_URL)', headers={'Authorization': 'Basic ' + base64.b64encode(b'guest:guest').decode()}); u.urlopen(r, timeout=2)" 2>/dev/null

.PHONY: feed-broker feed-asyncapi

feed-broker:
	@command -v rabbitmq-plugins >/dev/null 2>&1 || { echo "feed-broker: no local rabbitmq-plugins, not enabling the management API"; exit 0; }; \
	if ! rabbitmq-plugins list -e 2>/dev/null | grep -q 'rabbitmq_management '; then \
	  echo "Enabling the RabbitMQ management API (rabbitmq_management) for the school feed"; \
	  rabbitmq-plugins enable rabbitmq_management >/dev/null || { echo "could not enable rabbitmq_management" >&2; exit 1; }; \
	fi; \
	for i in $$(seq 1 60); do \
	  $(FEED_ADMIN_PROBE) && exit 0; sleep 1; \
	done; echo "the RabbitMQ management API did not answer on $(FEED_ADMIN_URL)" >&2; exit 1

# Regenerates docs/feed-asyncapi.json from the code (a test checks they agree).
feed-asyncapi: install
	$(BIN)/qx-sync feed-asyncapi > docs/feed-asyncapi.json

TEST_PREREQS += feed-broker
