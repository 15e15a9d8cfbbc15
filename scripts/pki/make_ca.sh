#!/bin/sh
# Creates a vmesh CA with openssl: <out-prefix>.crt and <out-prefix>.key (mode 0600).
# The equivalent of "vmesh cert ca --name <cn> --out <out-prefix>".
#
# Usage: make_ca.sh <cn> <out-prefix>
#   <cn>          the CA's common name, conventionally the mesh domain (vnet.example.com)
#   <out-prefix>  output path prefix
# Environment:
#   VMESH_ALGORITHM  ed25519 (default) or ecdsa-p256
#   VMESH_DAYS       validity in days (default 3650)
#
# The CA is a v3 certificate: basicConstraints critical CA:TRUE, keyUsage critical
# keyCertSign+cRLSign, subjectKeyIdentifier. Existing files are never overwritten.
set -eu
. "$(dirname "$0")/common.sh"

[ $# -eq 2 ] || die "usage: make_ca.sh <cn> <out-prefix>"
cn=$1
out=$2
alg=${VMESH_ALGORITHM:-ed25519}
days=${VMESH_DAYS:-3650}
check_days "$days"
case "$cn" in
  '' | */* | *,* | *=* | *+*) die "the CN must be a name like vnet.example.com, got \"$cn\"" ;;
esac
refuse_overwrite "$out.crt" "$out.key"

new_key "$alg" "$out.key"
if ! openssl req -new -x509 -key "$out.key" -subj "/CN=$cn" -days "$days" \
  -set_serial "0x$(openssl rand -hex 16)" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" \
  -out "$out.crt"; then
  rm -f "$out.key" "$out.crt"
  die "openssl req failed"
fi
chmod 0644 "$out.crt"
echo "wrote $out.crt and $out.key (CA \"$cn\", $alg, $days days)"
