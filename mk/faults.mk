# The fault suite (tests/faults): the whole stack on a RabbitMQ node and a PostgreSQL cluster of its
# own (started, restarted and removed by the suite; the machine's shared servers are never touched),
# one fault at a time under a steady workload, a checker of every source of truth after each.
# `make test` runs it (about 2-3 minutes); `make faults-full` is the bigger variant (more flows per
# fault, longer faults). Needs the rabbitmq-server and postgresql-15 packages' binaries and nginx.

.PHONY: faults faults-full

faults: install $(NGINX)
	$(BIN)/python -m pytest tests/faults -q -p no:cacheprovider

faults-full: install $(NGINX)
	QX_FAULTS_FULL=1 $(BIN)/python -m pytest tests/faults -q -p no:cacheprovider
