import { emptyNetworkSettings } from '../network/settings.js';
import type { ContainerRecord } from './record.js';

/** The record as docker shows it: the engine's own fields left out, a leading "/" on the name. */
export function inspectView(c: ContainerRecord): object {
  const {
    Layers,
    Monitor,
    InitStartTime,
    StoppedByUser,
    ImageName,
    AnonymousVolumes,
    NetworkAliases,
    NetworkIP,
    ConnectedNetworks,
    NetworkModeDisconnected,
    ...shown
  } = c;
  return {
    ...shown,
    Name: `/${c.Name}`,
    Config: { ...c.Config, Image: ImageName },
    NetworkSettings: c.NetworkSettings ?? stoppedNetworkSettings(ConnectedNetworks ?? {}),
  };
}

/** A container that is not running shows the networks it was connected to, without addresses. */
function stoppedNetworkSettings(connected: NonNullable<ContainerRecord['ConnectedNetworks']>) {
  const settings = emptyNetworkSettings();
  for (const [name, c] of Object.entries(connected))
    settings.Networks[name] = { NetworkID: c.NetworkID, Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', Aliases: c.Aliases };
  return settings;
}
