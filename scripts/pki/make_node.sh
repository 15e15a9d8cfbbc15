#!/bin/sh
# Issues a vmesh node certificate with openssl: <out-prefix>.crt and <out-prefix>.key (0600),
# signed by the CA at <ca-prefix>.crt / <ca-prefix>.key.
# The equivalent of "vmesh cert node --ca <ca-prefix> --name <cn> --out <out-prefix>".
#
# Usage: make_node.sh <ca-prefix> <cn> <out-prefix>
#   <cn>  the node's name, e.g. a.vnet.example.com (peers dial and verify this name)
# Environment:
#   VMESH_ALGORITHM  ed25519 (default) or ecdsa-p256
#   VMESH_DAYS       validity in days (default 365)
#
# The certificate is v3 with subjectAltName DNS:<cn> (TLS in Deno checks the SAN only; the Go
# vmesh's scripts made v1 certificates without it, which vmesh refuses), basicConstraints
# CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth+clientAuth.
set -eu
. "$(dirname "$0")/common.sh"

[ $# -eq 3 ] || die "usage: make_node.sh <ca-prefix> <cn> <out-prefix>"
ca=$1
cn=$2
out=$3
alg=${VMESH_ALGORITHM:-ed25519}
days=${VMESH_DAYS:-365}
check_days "$days"
# A node name: DNS labels with a domain part (what "vmesh cert node" accepts).
printf '%s' "$cn" | grep -Eq '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$' ||
  die "\"$cn\" is not a node name: use DNS labels with a domain, like a.vnet.example.com"
[ -r "$ca.crt" ] || die "cannot read the CA certificate $ca.crt"
[ -r "$ca.key" ] || die "cannot read the CA key $ca.key"
refuse_overwrite "$out.crt" "$out.key"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:$cn
authorityKeyIdentifier = keyid
EXT

new_key "$alg" "$out.key"
if ! openssl req -new -key "$out.key" -subj "/CN=$cn" -out "$tmp/csr" ||
  ! openssl x509 -req -in "$tmp/csr" -CA "$ca.crt" -CAkey "$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" \
    -extfile "$tmp/ext" -out "$out.crt"; then
  rm -f "$out.key" "$out.crt"
  die "openssl could not issue the certificate"
fi
chmod 0644 "$out.crt"
echo "wrote $out.crt and $out.key (node \"$cn\", $alg, $days days)"
