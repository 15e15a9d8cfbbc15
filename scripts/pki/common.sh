# Shared helpers of make_ca.sh and make_node.sh (sourced, not run).

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# new_key <algorithm> <path>: a private key (PKCS#8 PEM) created with mode 0600 from the start.
new_key() {
  case "$1" in
    ed25519) set -- "$2" -algorithm ED25519 ;;
    ecdsa-p256) set -- "$2" -algorithm EC -pkeyopt ec_paramgen_curve:P-256 ;;
    *) die "algorithm must be ed25519 or ecdsa-p256, got \"$1\"" ;;
  esac
  key="$1"
  shift
  (umask 077 && openssl genpkey "$@" -out "$key") || die "openssl genpkey failed"
  chmod 0600 "$key"
}

# refuse_overwrite <file>...: stop when any output exists (there is no --force on purpose).
refuse_overwrite() {
  for f in "$@"; do
    [ ! -e "$f" ] || die "$f exists: refusing to overwrite it (move it away first)"
  done
}

# check_days <n>
check_days() {
  case "$1" in
    '' | *[!0-9]*) die "days must be a positive integer, got \"$1\"" ;;
  esac
  [ "$1" -gt 0 ] || die "days must be a positive integer, got \"$1\""
}

command -v openssl >/dev/null 2>&1 || die "openssl is not installed"
