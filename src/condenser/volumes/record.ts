/** What a volume's metadata file (`<root>/volumes/<name>/volume.json`) holds. */
export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  /** RFC 3339, seconds, as docker shows it */
  CreatedAt: string;
  Labels: Record<string, string>;
  Options: Record<string, string>;
}

/** `volume inspect`'s shape, docker's: empty labels and options show as null. */
export interface VolumeInspect {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
}

export function inspectView(record: VolumeRecord, mountpoint: string): VolumeInspect {
  const orNull = (o: Record<string, string>) => (Object.keys(o).length ? o : null);
  return {
    CreatedAt: record.CreatedAt,
    Driver: record.Driver,
    Labels: orNull(record.Labels),
    Mountpoint: mountpoint,
    Name: record.Name,
    Options: orNull(record.Options),
    Scope: 'local',
  };
}
