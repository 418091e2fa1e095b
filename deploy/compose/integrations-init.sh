#!/bin/sh
# One-shot (compose service `integrations-init`): creates the demo integrations the way an
# operator does, by writing each spec to the control topic with `tributary integrations create`.
# The nodes take them from there (tributary.control, group tributary.nodes). Run again on a Kafka
# that already has them (e.g. `docker compose up` after `stop`), it updates them instead; an
# identical spec leaves the running integration alone.
set -eu
cli="node /app/bin/tributary.js integrations"
config=/etc/tributary/node.json
for spec in /etc/tributary/specs/*.json; do
  if out=$($cli create --config "$config" "$spec" 2>&1); then
    echo "$out"
  else
    case "$out" in
      *"already exists"*) $cli update --config "$config" "$spec" ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  fi
done
