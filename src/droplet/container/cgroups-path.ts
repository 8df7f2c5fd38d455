/** Where droplet puts a container whose config has no linux.cgroupsPath (or an empty one). */
export function containerCgroupsPath(configured: string | undefined, id: string): string {
  return configured || `/droplet/${id}`;
}
