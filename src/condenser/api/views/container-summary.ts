import type { ContainerRecord } from '../../containers/record.js';
import { familiarName } from '../../images/names.js';
import { statusText } from '../../containers/status-text.js';

/** A container as docker's `GET /containers/json` lists it. */
export function containerSummary(c: ContainerRecord): object {
  const ports: object[] = [];
  for (const [key, bindings] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
    const [port = '0', type = 'tcp'] = key.split('/');
    if (!bindings || bindings.length === 0) ports.push({ PrivatePort: Number(port), Type: type });
    for (const b of bindings ?? [])
      ports.push({ IP: b.HostIp || '0.0.0.0', PrivatePort: Number(port), PublicPort: Number(b.HostPort), Type: type });
  }
  return {
    Id: c.Id,
    Names: [`/${c.Name}`],
    Image: familiarName(c.ImageName),
    ImageID: c.Image,
    Command: [c.Path, ...c.Args].join(' '),
    Created: Math.floor(Date.parse(c.Created) / 1000),
    Ports: ports,
    Labels: c.Config.Labels,
    State: c.State.Status,
    Status: statusText(c),
    HostConfig: { NetworkMode: c.HostConfig.NetworkMode },
    NetworkSettings: { Networks: c.NetworkSettings?.Networks ?? {} },
    Mounts: c.Mounts,
  };
}
