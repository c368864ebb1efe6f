#!/usr/bin/env bash
# Build deploy/mosquitto/passwd (hashed) from a list of "username:password" lines.
#   deploy/mosquitto/make-passwd.sh users.txt            # writes deploy/mosquitto/passwd
# users.txt example (keep it out of git):
#   siaga-ingest:<long random>
#   siaga-api:<long random>
#   siaga-bridge:<long random>
#   862104056789012:<per-device random>      # one line per tracker / phone / gateway
# Generate a password: openssl rand -base64 18
set -euo pipefail
USERS=${1:?usage: make-passwd.sh users.txt}
OUT=${2:-$(dirname "$0")/passwd}
# A username is a topic level in the ACL patterns (siaga/v1/pos/%u, owntracks/%u/#): '+', '#' or
# '/' in it would act as a wildcard or extra levels there.
if cut -d: -f1 "$USERS" | grep -n '[+#/]'; then
  echo "usernames above contain + # or / (not allowed: they are MQTT topic levels)" >&2
  exit 1
fi
cp "$USERS" "$OUT.tmp"
mosquitto_passwd -U "$OUT.tmp"   # hashes every password in place
chmod 600 "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT ($(wc -l < "$OUT") users); reload the broker: docker compose kill -s HUP mqtt"
