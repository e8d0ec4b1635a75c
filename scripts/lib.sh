# Shared by scripts/run and scripts/test: logging and idempotent Debian package installs.

log() { printf '\n==> %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=""
need_pkg() { # need_pkg COMMAND-OR-PATH PACKAGE...
  local probe=$1; shift
  if command -v "$probe" >/dev/null 2>&1 || compgen -G "$probe" >/dev/null; then return; fi
  log "installing $*"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# What building Gatehouse needs beyond Rust: a C toolchain, and for samael (SAML) openssl,
# libxml2 and xmlsec1 headers and libclang (its bindgen step).
install_build_deps() {
  need_pkg cc build-essential
  need_pkg pkg-config pkg-config
  need_pkg /usr/include/openssl/ssl.h libssl-dev
  need_pkg /usr/include/libxml2/libxml/parser.h libxml2-dev
  need_pkg /usr/include/xmlsec1/xmlsec/xmlsec.h libxmlsec1-dev
  need_pkg '/usr/lib/llvm-*/lib/libclang.so' libclang-dev
}
