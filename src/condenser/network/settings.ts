/** docker's NetworkSettings of a container, as inspect shows it. */
export interface EndpointSettings {
  NetworkID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
  Aliases: string[];
  /** on a network with --ipv6 */
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  IPv6Gateway?: string;
}

export type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

export interface NetworkSettings {
  Bridge: string;
  /** the pinned network namespace */
  SandboxKey: string;
  IPAddress: string;
  IPPrefixLen: number;
  Gateway: string;
  MacAddress: string;
  GlobalIPv6Address?: string;
  GlobalIPv6PrefixLen?: number;
  IPv6Gateway?: string;
  Ports: PortMap;
  Networks: Record<string, EndpointSettings>;
}

/** What a container without a network of its own shows. */
export function emptyNetworkSettings(): NetworkSettings {
  return { Bridge: '', SandboxKey: '', IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', Ports: {}, Networks: {} };
}
