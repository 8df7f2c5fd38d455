# Sourced by the pull and unpack benchmarks: a docker-registry of their own on 127.0.0.1 and
# pushes into it through the distribution API. Nothing here reaches another address.
#   start_registry DIR     serves DIR/registry on a free port; sets $reg (host:port) and
#                          $registry_pid (the caller's cleanup kills it)
#   push_blob REPO FILE    uploads FILE (-T: streamed, never held in memory); prints its digest
#   push_manifest REPO TAG FILE

start_registry() {
  local dir=$1 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$dir/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $dir/registry
http:
  addr: 127.0.0.1:$port
YML
  docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  reg="127.0.0.1:$port"
}

push_blob() {
  local digest location
  digest="sha256:$(sha256sum "$2" | cut -d' ' -f1)"
  location=$(curl -sf -X POST -D - -o /dev/null "http://$reg/v2/$1/blobs/uploads/" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
  case "$location" in http*) ;; *) location="http://$reg$location" ;; esac
  case "$location" in *\?*) location="$location&digest=$digest" ;; *) location="$location?digest=$digest" ;; esac
  curl -sf -X PUT -H 'Content-Type: application/octet-stream' -T "$2" "$location" >/dev/null
  echo "$digest"
}

push_manifest() {
  curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "@$3" "http://$reg/v2/$1/manifests/$2" >/dev/null
}
