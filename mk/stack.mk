# The local multi-process stack: `make stack` (every service as gunicorn + consumers + relay + jobs,
# ems-sim, nginx in front; on the machine's PostgreSQL and RabbitMQ), `make stack-down`.
# Settings: QX_STACK_DIR, QX_STACK_GATEWAY_PORT, QX_STACK_BASE_PORT, QX_STACK_DATABASE_URL_TEMPLATE,
# QX_STACK_BROKER_URL, QX_STACK_WEB_WORKERS (see libs/common/quxiang/common/stack.py).

.PHONY: stack stack-down stack-status stack-purge

# Only when nginx is missing: apt-get install (refreshing the package lists if they do not know it).
# Debian's package would start its default site; the stack never uses it, and in containers
# policy-rc.d keeps it from starting at all.
$(NGINX):
	@$(call apt_install,$(NGINX_PACKAGE),the stack's gateway)

stack: install $(NGINX)
	$(BIN)/python -m quxiang.common.stack up

stack-down:
	$(BIN)/python -m quxiang.common.stack down

stack-status:
	$(BIN)/python -m quxiang.common.stack status

# Stops it and drops its databases and RabbitMQ vhost.
stack-purge:
	$(BIN)/python -m quxiang.common.stack down --purge

# The end-to-end test (tests/e2e) runs its own stack behind nginx.
TEST_PREREQS += $(NGINX)
