import { emptyNetworkSettings } from '../network/settings.js';
import type { ContainerRecord } from './record.js';

/** The record as docker shows it: the engine's own fields left out, a leading "/" on the name. */
export function inspectView(c: ContainerRecord): object {
  const { Layers, Monitor, InitStartTime, StoppedByUser, ImageName, AnonymousVolumes, NetworkAliases, NetworkIP, ...shown } = c;
  return {
    ...shown,
    Name: `/${c.Name}`,
    Config: { ...c.Config, Image: ImageName },
    NetworkSettings: c.NetworkSettings ?? emptyNetworkSettings(),
  };
}
