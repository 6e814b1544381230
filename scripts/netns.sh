#!/usr/bin/env bash
# Network namespaces standing for the hosts of the multi-host PostgreSQL
# tests (tests/pg_hosts.rs), each reaching the root namespace over veth:
#   bash scripts/netns.sh up N   removes leftovers, creates agshost1..N, prints `export` lines
#   bash scripts/netns.sh down   removes the namespaces and the bridge
#   bash scripts/netns.sh env    prints the `export` lines of the namespaces present
# Namespace agshostK has loopback up and eth0 at 10.231.0.(K+1)/24, one end of
# a veth pair whose other end (agsvethK) joins bridge agsbr0 in the root
# namespace, which holds 10.231.0.1. Exported:
#   AGS_NETNS_HOSTS    agshost1=10.231.0.2,agshost2=10.231.0.3,...
#   AGS_NETNS_SERVER   10.231.0.1, where scripts/pg.sh start then listens too
#   AGS_NETNS_SUBNET   10.231.0.0/24, which its pg_hba.conf then admits
# Needs root and iproute2.
set -euo pipefail

net=10.231.0
bridge=agsbr0

say() { echo "netns.sh: $*" >&2; }

# The namespaces of an earlier run, agshost1, agshost2, ... in order.
present() { ip netns list | sed -nE 's/^(agshost[0-9]+)( .*)?$/\1/p' | sort -V; }

down() {
    local link ns
    # Deleting one end of a veth pair deletes both at once; a deleted
    # namespace drops its end only a moment later.
    for link in $(ip -o link show | sed -nE 's/^[0-9]+: (agsveth[0-9]+)(@[^:]*)?:.*/\1/p'); do
        ip link delete "$link"
    done
    for ns in $(present); do
        ip netns delete "$ns"
    done
    ip link show "$bridge" >/dev/null 2>&1 && ip link delete "$bridge"
    return 0
}

up() {
    local n=$1 k
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 250 ] \
        || { say "up wants a number of hosts from 1 to 250, not '$n'"; exit 2; }
    down
    trap 'down' ERR
    ip link add "$bridge" type bridge
    ip addr add "$net.1/24" dev "$bridge"
    ip link set "$bridge" up
    for k in $(seq 1 "$n"); do
        ip netns add "agshost$k"
        ip link add "agsveth$k" type veth peer name eth0 netns "agshost$k"
        ip link set "agsveth$k" master "$bridge" up
        ip -n "agshost$k" addr add "$net.$((k + 1))/24" dev eth0
        ip -n "agshost$k" link set eth0 up
        ip -n "agshost$k" link set lo up
    done
    trap - ERR
    say "$n namespaces agshost1..$n on $bridge ($net.1)"
}

print_env() {
    local ns hosts=()
    for ns in $(present); do
        hosts+=("$ns=$net.$((${ns#agshost} + 1))")
    done
    [ ${#hosts[@]} -gt 0 ] || return 0
    printf 'export AGS_NETNS_HOSTS=%s\n' "$(IFS=,; echo "${hosts[*]}")"
    printf 'export AGS_NETNS_SERVER=%s\n' "$net.1"
    printf 'export AGS_NETNS_SUBNET=%s\n' "$net.0/24"
}

case "${1:-}" in
    up) up "${2:-}"; print_env ;;
    down) down ;;
    env) print_env ;;
    *) say "usage: bash scripts/netns.sh up N|down|env"; exit 2 ;;
esac
