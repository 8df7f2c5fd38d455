import type { ContainerRecord } from '../../containers/record.js';
import { DEFAULT_NETWORK, type NetworkConfig } from '../../network/config.js';

/** A network as docker's `GET /networks/{id}` shows it; `containers` are those on it.
 * `bridgeOption`: the bridge's name among the options of a user network too (raind's own
 * inspect; the API leaves it out, see below). */
export function networkView(n: NetworkConfig, containers: ContainerRecord[] = [], bridgeOption = false): object {
  const attached: Record<string, object> = {};
  for (const c of containers) {
    /* the containers whose network is up, as docker lists its endpoints */
    const endpoint = c.NetworkSettings?.Networks[n.name];
    if (!endpoint) continue;
    attached[c.Id] = {
      Name: c.Name,
      EndpointID: endpointId(c.Id, n.id),
      MacAddress: endpoint.MacAddress,
      IPv4Address: `${endpoint.IPAddress}/${endpoint.IPPrefixLen}`,
      IPv6Address: endpoint.GlobalIPv6Address ? `${endpoint.GlobalIPv6Address}/${endpoint.GlobalIPv6PrefixLen}` : '',
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: n.ipv6Subnet !== undefined,
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: [
        { Subnet: n.subnet, Gateway: n.gateway, ...(n.ipRange ? { IPRange: n.ipRange } : {}) },
        ...(n.ipv6Subnet ? [{ Subnet: n.ipv6Subnet, Gateway: n.ipv6Gateway }] : []),
      ],
    },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: attached,
    /* a user network's options are those it was created with, none here: compose compares
     * them with its file's and recreates the network when they differ */
    Options: bridgeOption || n.name === DEFAULT_NETWORK ? { 'com.docker.network.bridge.name': n.bridge } : {},
    Labels: n.labels,
  };
}

/** docker's endpoint id is 64 hex characters of its own; ours is made of the container's
 * and the network's, so that it is the same on every look. */
function endpointId(container: string, network: string): string {
  let out = '';
  for (let i = 0; i < 64; i++) out += (parseInt(container[i] ?? '0', 16) ^ parseInt(network[i] ?? '0', 16)).toString(16);
  return out;
}
