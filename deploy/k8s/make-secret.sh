#!/usr/bin/env bash
# Prints the Secret adfunnel-secrets with fresh random values, for kubectl to apply:
#   bash deploy/k8s/make-secret.sh | kubectl apply -f -
# Hex values only: the NATS and PostgreSQL passwords go into URLs as they are. Applying it again replaces
# every value: tracking URLs signed with the old TRACKING_SECRET then fail (to rotate it, keep the old
# one in TRACKING_PREVIOUS_SECRETS: README, Secrets), and PostgreSQL keeps the password it was created
# with. The namespace is the first argument (default adfunnel).
set -euo pipefail
namespace="${1:-adfunnel}"
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
cat <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: adfunnel-secrets
  namespace: ${namespace}
  labels:
    app.kubernetes.io/part-of: adfunnel
type: Opaque
stringData:
  TRACKING_SECRET: '$(hex 24)'
  ADMIN_TOKEN: '$(hex 24)'
  POSTGRES_PASSWORD: '$(hex 24)'
YAML
for service in GATEWAY RETRIEVAL RANKING AUCTION LOGGING ADVERTISER; do
  echo "  NATS_${service}_PASSWORD: '$(hex 24)'"
done
